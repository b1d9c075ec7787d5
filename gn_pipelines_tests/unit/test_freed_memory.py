"""Freed memory goes back to the system (in a child process of its own: pytest's heap is noisy)."""

import subprocess
import sys

PROBE = """
import gc
from gn_pipelines.freed_memory import give_back_freed_memory

def rss_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

gc.disable()  # only the call under test collects
before = rss_mib()
chunks = [bytes(1000) + str(i).encode() for i in range(300_000)]  # ~300 MiB of small objects in glibc's arenas
keep = chunks[-1]  # the top of the heap stays in use: a plain free could not shrink it
del chunks
freed = rss_mib()
give_back_freed_memory()
print(before, freed, rss_mib())
"""


def test_freed_small_objects_are_given_back():
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    before, freed, after = map(float, result.stdout.split())
    assert freed - before > 200  # still held by the process after `del`
    assert after - before < 100, (before, freed, after)
