"""Owner tags of in-process runs: a live owner, a dead one, a reused pid, another host."""

import subprocess
import sys

from gn_pipelines.run_recovery import OWNER_HOST_TAG, OWNER_PID_TAG, OWNER_STARTED_TAG, owner_alive, owner_tags


def test_this_process_is_alive_and_a_finished_one_is_not():
    assert owner_alive(owner_tags()) is True
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    assert owner_alive(owner_tags() | {OWNER_PID_TAG: finished.stdout.strip()}) is False


def test_a_reused_pid_is_not_the_owner_and_another_host_is_not_judged():
    assert owner_alive(owner_tags() | {OWNER_STARTED_TAG: "1"}) is False
    assert owner_alive(owner_tags() | {OWNER_HOST_TAG: "another-host"}) is None
