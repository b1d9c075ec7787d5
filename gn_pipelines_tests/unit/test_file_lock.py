"""The platform's file locks: every wait bounded, the holder named; a killed holder frees its lock
at once; readers share a lock, and a fold's exclusive one does not wait for them."""

import os
import socket
import subprocess
import sys

import pytest

from gn_pipelines.file_lock import LockTimeout, exclusive_lock, exclusive_lock_if_free, shared_lock

HOLD_UNTIL_KILLED = """
import sys, pathlib
from gn_pipelines.file_lock import exclusive_lock
with exclusive_lock(pathlib.Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_a_waiter_gives_up_after_its_bound_naming_the_holder_and_what_the_lock_guards(tmp_path):
    lock = tmp_path / ".lock"
    with exclusive_lock(lock):  # e.g. a publication hung in the middle of a release
        with pytest.raises(LockTimeout, match=rf"the releases folder is held by .* \(pid {os.getpid()} on "
                                              rf"{socket.gethostname()}\) for more than 0.2 s"):
            with exclusive_lock(lock, wait_seconds=0.2, what="the releases folder"):
                pass
    with exclusive_lock(lock, wait_seconds=0):  # free again
        pass


def test_a_killed_holder_frees_its_lock_at_once(tmp_path):
    lock = tmp_path / ".lock"
    with subprocess.Popen([sys.executable, "-c", HOLD_UNTIL_KILLED, str(lock)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as holder:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockTimeout, match=f"pid {holder.pid}"):
            with exclusive_lock(lock, wait_seconds=0):
                pass
        holder.kill()
        holder.wait(30)
    with exclusive_lock(lock, wait_seconds=30):
        pass


def test_readers_share_a_lock_a_fold_does_not_wait_for_them_and_they_wait_for_a_fold_within_a_bound(tmp_path):
    lock = tmp_path / ".fold.lock"
    with shared_lock(lock, wait_seconds=0) as held, shared_lock(lock, wait_seconds=0) as also_held:
        assert held and also_held
        with exclusive_lock_if_free(lock) as free:
            assert free is False  # the fold is left to a later turn
    with exclusive_lock(lock):  # a fold running, or stuck
        with shared_lock(lock, wait_seconds=0.2) as held:
            assert held is False  # waited its bound, then reads without the lock
