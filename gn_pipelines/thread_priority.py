"""A process's CPU priority lowered, and raised again by whoever waits for it (Linux, where the
nice value belongs to a thread, and a thread starts with the value of the thread that starts it)."""

from __future__ import annotations

import os
import threading

LOWEST = 19  # the highest nice value: the thread runs on what every other process leaves idle
_THREADS = "/proc/self/task"


def restorable() -> bool:
    """Whether this process (and so the others of its user and rights) may raise a thread's priority
    again once it is lowered: root, CAP_SYS_NICE or an RLIMIT_NICE allowing it (anyone may lower a
    priority, few may raise it), on Linux (/proc lists the threads). Tried on a thread of its own,
    which ends either way."""
    if not os.path.isdir(_THREADS):
        return False
    answer: list[bool] = []

    def attempt() -> None:
        before = os.getpriority(os.PRIO_PROCESS, 0)  # 0: the calling thread
        try:
            os.setpriority(os.PRIO_PROCESS, 0, LOWEST)
            os.setpriority(os.PRIO_PROCESS, 0, before)
            answer.append(True)
        except OSError:
            answer.append(False)

    probe = threading.Thread(target=attempt, name="priority-probe")
    probe.start()
    probe.join()
    return answer == [True]


def lower() -> None:
    """Lower the calling thread, and the threads it starts from now on, to the lowest priority."""
    os.setpriority(os.PRIO_PROCESS, 0, LOWEST)


def lend(pid: int) -> None:
    """Raise every thread of process `pid` that runs below the calling thread's priority to it, those
    a low thread starts meanwhile too (listed again until no thread is new): a waiter lends its
    priority to the holder of what it waits for (priority inheritance), so that it does not wait
    on what a busy machine leaves to the lowest priority. Where this process may not, nothing."""
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    seen: set[int] = set()
    try:
        while fresh := {int(tid) for tid in os.listdir(f"/proc/{pid}/task")} - seen:
            for tid in fresh:
                try:
                    if os.getpriority(os.PRIO_PROCESS, tid) > ours:
                        os.setpriority(os.PRIO_PROCESS, tid, ours)
                except (ProcessLookupError, PermissionError):
                    pass  # it ended meanwhile, or raising it is not ours to do
            seen |= fresh
    except FileNotFoundError:
        pass  # it ended (or this is no Linux)
