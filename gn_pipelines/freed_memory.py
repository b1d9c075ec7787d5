"""Memory the process freed, handed back to the operating system.

glibc's allocator keeps what Python, pandas and NumPy free in its arenas for later: once
validation's Great Expectations frame (up to 1M rows) is freed, `process` still held ~200 MiB of
it while the de-identification's two processes ran beside it, the 1M chain's peak (1,878 →
1,713 MiB, process 792 → 624 MiB). `malloc_trim` returns the free pages, as Dask's workers do.
"""

from __future__ import annotations

import ctypes
import gc


def give_back_freed_memory() -> None:
    """Collect garbage, then return glibc's free pages to the system (no-op elsewhere)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl, macOS): its allocator decides
        pass
