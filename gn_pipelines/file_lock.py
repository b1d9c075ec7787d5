"""The OS file lock every single-writer section uses (releases, a published file, a build cache)."""

from __future__ import annotations

import fcntl
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive `flock` on `lock_path` (created if missing) for the block: one holder at a
    time across processes, released even when the holder is killed."""
    with open(lock_path, "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


@contextmanager
def exclusive_lock_if_free(lock_path: Path) -> Iterator[bool]:
    """As `exclusive_lock`, without waiting: the block gets False (and holds nothing) when another
    process holds the lock, for work that process is doing anyway."""
    with open(lock_path, "a") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


@contextmanager
def shared_lock(lock_path: Path, wait_seconds: float) -> Iterator[bool]:
    """A shared `flock` on `lock_path` for the block, beside other readers, while no exclusive
    holder rewrites what it guards. An exclusive holder is waited for up to `wait_seconds`;
    past that (it may be stuck) the block runs without the lock and gets False."""
    with open(lock_path, "a") as lock_file:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_SH | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.05)  # polling: flock has no timeout of its own
        try:
            yield True
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
