"""A process lowers its CPU priority, and one waiting for its lock lends it its own (priority
inheritance), the threads it started while low included; where a process may not raise a
priority again, `restorable` says so."""

import os
import subprocess
import sys
import textwrap
import threading

import pytest

from gn_pipelines import thread_priority
from gn_pipelines.file_lock import exclusive_lock
from gn_pipelines_tests.polling import next_line, poll

needs_restoring = pytest.mark.skipif(not thread_priority.restorable(),
                                     reason="this process may not raise a thread's priority (not root, no CAP_SYS_NICE)")

# A process that lowers itself, starts a second thread, takes the lock at argv[1], says "held"
# and lets it go when told (a line on its standard input).
LOW_HOLDER = textwrap.dedent("""
    import sys, threading
    from gn_pipelines import thread_priority
    from gn_pipelines.file_lock import exclusive_lock
    thread_priority.lower()
    threading.Thread(target=threading.Event().wait, daemon=True).start()
    with exclusive_lock(__import__("pathlib").Path(sys.argv[1])):
        print("held", flush=True)
        sys.stdin.readline()
""")


def nice_values(pid: int | str = "self") -> dict[int, int]:
    """Each thread's nice value (the field after the scheduling priority in its /proc stat); {}
    once the process has ended."""
    values = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return {}
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as stat:
                values[int(tid)] = int(stat.read().rpartition(")")[2].split()[16])
        except FileNotFoundError:
            pass  # it ended meanwhile
    return values


def without_the_right_to_raise_a_priority(command: list[str]) -> list[str]:
    """`command` run as an ordinary user may: RLIMIT_NICE 0 (most systems' own) and, as root,
    without CAP_SYS_NICE; a priority it lowers it cannot raise again."""
    setpriv = ["setpriv", "--inh-caps=-sys_nice", "--bounding-set=-sys_nice"] if os.geteuid() == 0 else []
    return ["prlimit", "--nice=0:0", *setpriv, *command]


@needs_restoring
def test_a_process_waiting_for_a_lock_lends_its_priority_to_the_low_holder(tmp_path):
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    holder = subprocess.Popen([sys.executable, "-c", LOW_HOLDER, str(tmp_path / "lock")], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert next_line(holder) == "held"
        assert list(nice_values(holder.pid).values()) == [thread_priority.LOWEST] * 2
        acquired = threading.Event()

        def wait_for_the_lock() -> None:
            with exclusive_lock(tmp_path / "lock", wait_seconds=120):
                acquired.set()

        waiter = threading.Thread(target=wait_for_the_lock)
        waiter.start()
        assert poll(lambda: list(nice_values(holder.pid).values()) == [ours] * 2, seconds=30), nice_values(holder.pid)
        assert not acquired.is_set()
        holder.stdin.write("release\n")
        holder.stdin.flush()
        waiter.join(120)
        assert acquired.is_set()
    finally:
        holder.kill()
        holder.wait()


@needs_restoring
def test_a_waiter_lends_only_to_the_process_that_wrote_the_lock(tmp_path):
    """The lock file names its holder by pid, host and start time: a process of another host
    sharing the data root, or a pid reused since, is not the holder and is left as it is."""
    from gn_pipelines.file_lock import LockTimeout
    from gn_pipelines.process_identity import this_process

    holder = subprocess.Popen([sys.executable, "-c", LOW_HOLDER, str(tmp_path / "lock")], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert next_line(holder) == "held"
        written = (tmp_path / "lock").read_text().split()
        host, started = this_process()[0], written[2]
        assert written == [str(holder.pid), host, started]
        for named in (f"{holder.pid} another-host {started}", f"{holder.pid} {host} {int(started) - 1}"):
            (tmp_path / "lock").write_text(named)
            with pytest.raises(LockTimeout):
                with exclusive_lock(tmp_path / "lock", wait_seconds=0.3):
                    pass
            assert set(nice_values(holder.pid).values()) == {thread_priority.LOWEST}, named
    finally:
        holder.kill()
        holder.wait()


@needs_restoring
def test_lending_never_lowers_a_process_running_higher():
    """A waiter running lower than the holder leaves it as it is."""
    holder = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.readline()"], stdin=subprocess.PIPE)
    try:
        before = nice_values(holder.pid)
        lent = threading.Thread(target=lambda: (thread_priority.lower(), thread_priority.lend(holder.pid)))
        lent.start()
        lent.join(60)
        assert nice_values(holder.pid) == before and thread_priority.LOWEST not in before.values()
    finally:
        holder.kill()
        holder.wait()


def test_a_process_without_the_right_to_raise_a_priority_is_not_restorable():
    """An ordinary user may lower a thread's priority but not raise it back: as root, the process
    gives up CAP_SYS_NICE (an RLIMIT_NICE of 0, most systems' own, then forbids raising it, as for any user)."""
    probe = [sys.executable, "-c", "from gn_pipelines import thread_priority; print(thread_priority.restorable())"]
    answer = subprocess.run(without_the_right_to_raise_a_priority(probe), capture_output=True, text=True, timeout=60)
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == "False"
