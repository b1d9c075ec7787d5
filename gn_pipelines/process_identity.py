"""Which process on which host did something, and whether that process still lives: the owner
of an in-process run (run_recovery.py) and the writer of a half-written file or a work directory
(unfinished_writes.py)."""

from __future__ import annotations

import os
import socket


def process_start_ticks(pid: int) -> str | None:
    """The start time of process `pid` (field 22 of /proc/<pid>/stat), or None if it is gone.
    With the pid it names one process: a pid is reused, a start time with it is not."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return fields[19].decode()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def this_process() -> tuple[str, int, str]:
    """(host, pid, start ticks) of the calling process."""
    pid = os.getpid()
    return socket.gethostname(), pid, process_start_ticks(pid) or ""


def process_alive(host: str, pid: int, start_ticks: str) -> bool | None:
    """True/False for a process of this host; None for another host's (it cannot be seen)."""
    if host != socket.gethostname():
        return None
    started = process_start_ticks(pid)
    return started is not None and started == (start_ticks or started)
