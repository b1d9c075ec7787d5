"""Waiting for something another thread or process does: polled, with a bound, never a bare sleep."""

from __future__ import annotations

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
