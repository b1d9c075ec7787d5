"""Waiting for something another thread or process does: polled, with a bound, never a bare sleep."""

from __future__ import annotations

import select
import subprocess
import time
from typing import Callable


def poll(condition: Callable[[], bool], seconds: float) -> bool:
    """Whether `condition` became true within `seconds` (checked every 50 ms)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def next_line(process: subprocess.Popen, seconds: float = 60) -> str:
    """The next line `process` writes on its (text) standard output, stripped, waited for within
    `seconds` ("" if none came)."""
    if not select.select([process.stdout], [], [], seconds)[0]:
        return ""
    return process.stdout.readline().strip()
