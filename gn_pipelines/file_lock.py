"""The OS file locks of the platform's single-writer sections (releases, a published file, a build
cache, a DuckDB file's writers, a log's fold) and of the readers a fold must not disturb.

Every wait is bounded: a lock is held for seconds to minutes, so a process that waited longer
takes its holder for stuck (a hung process keeps its locks; a killed one loses them at once)
and fails naming the holder's pid, instead of leaving a nightly run waiting for ever. A waiter
lends its CPU priority to a holder running lower (priority inheritance).
"""

from __future__ import annotations

import fcntl
import time
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, Callable, Iterator

from gn_pipelines import thread_priority
from gn_pipelines.process_identity import process_alive, this_process

LOCK_WAIT_SECONDS = 1800.0  # the longest section (a release's hooks, a 10M-row cache build) takes minutes
POLL_SECONDS = 0.02  # flock has no timeout of its own: a bounded wait polls


class LockTimeout(RuntimeError):
    """Another process held a lock for the whole bounded wait."""


@contextmanager
def exclusive_lock(lock_path: Path, *, wait_seconds: float = LOCK_WAIT_SECONDS,
                   what: str | None = None) -> Iterator[None]:
    """Hold an exclusive `flock` on `lock_path` (created if missing) for the block: one holder at a
    time across processes, released even when the holder is killed. The holder writes who it is
    in the lock file (pid, host, start time: a data root may be shared by several hosts, and a pid
    is reused); after `wait_seconds` a waiter raises `LockTimeout` naming it. `what`: what the
    lock guards, for that message."""
    with open(lock_path, "a+") as lock_file:
        if not _acquired(lock_file, fcntl.LOCK_EX, wait_seconds, waiting=_HolderRaised(lock_file)):
            pid, host, _ = _holder(lock_file)
            raise LockTimeout(f"{what or lock_path.name} is held by another platform process "
                              f"(pid {pid or 'unknown'}{f' on {host}' if host else ''}) for more than {wait_seconds:g} s")
        try:
            lock_file.truncate(0)
            host, pid, started = this_process()
            lock_file.write(f"{pid} {host} {started}")
            lock_file.flush()
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def exclusive_lock_if_free(lock_path: Path) -> AbstractContextManager[bool]:
    """As `exclusive_lock`, without waiting: the block gets False (and holds nothing) when another
    process holds the lock, or readers hold it shared, for work that can be left to a later turn."""
    return _held_if_acquired(lock_path, fcntl.LOCK_EX, 0)


def shared_lock(lock_path: Path, wait_seconds: float) -> AbstractContextManager[bool]:
    """A shared `flock` on `lock_path` for the block, beside other readers, while no exclusive
    holder rewrites what it guards. An exclusive holder is waited for up to `wait_seconds`;
    past that (it may be stuck) the block runs without the lock and gets False."""
    return _held_if_acquired(lock_path, fcntl.LOCK_SH, wait_seconds)


@contextmanager
def _held_if_acquired(lock_path: Path, operation: int, wait_seconds: float) -> Iterator[bool]:
    """The lock held for the block if acquired within `wait_seconds` (True), else nothing held (False)."""
    with open(lock_path, "a") as lock_file:
        if not _acquired(lock_file, operation, wait_seconds):
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _holder(lock_file: IO) -> tuple[str, str, str]:
    """(pid, host, start ticks) the holder wrote in the lock file; "" where unknown (not written
    yet, or a pid alone from an older version)."""
    lock_file.seek(0)
    pid, host, started = (lock_file.read().split() + ["", "", ""])[:3]
    return pid, host, started


class _HolderRaised:
    """Called while waiting: the holder named in the lock file gets the waiter's CPU priority where
    it runs lower (the cache warm-up runs at the lowest; `thread_priority.lend`), once per holder;
    only a process of this host that is the one that wrote it (its start time checked)."""

    def __init__(self, lock_file: IO) -> None:
        self._lock_file = lock_file
        self._seen: set[tuple[str, str, str]] = set()

    def __call__(self) -> None:
        holder = _holder(self._lock_file)
        if holder in self._seen:
            return
        self._seen.add(holder)
        pid, host, started = holder
        if pid.isdigit() and started and process_alive(host, int(pid), started):
            thread_priority.lend(int(pid))


def _acquired(lock_file: IO, operation: int, wait_seconds: float,
              waiting: Callable[[], None] | None = None) -> bool:
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(lock_file, operation | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            if waiting is not None:
                waiting()
            time.sleep(POLL_SECONDS)
