"""Benchmark: how long the code location takes to load (import of gn_pipelines.definitions),
and `dagster definitions validate`, each in a fresh process; median of several runs."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 5


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    python = sys.executable
    baseline = statistics.median(timed([python, "-c", "pass"]) for _ in range(RUNS))
    dagster_only = statistics.median(timed([python, "-c", "import dagster"]) for _ in range(RUNS))
    load = statistics.median(timed([python, "-c", "import gn_pipelines.definitions"]) for _ in range(RUNS))
    dagster = str(Path(python).with_name("dagster"))
    validate = statistics.median(
        timed([dagster, "definitions", "validate", "-m", "gn_pipelines.definitions"]) for _ in range(3))
    print(f"python start-up            {baseline:.2f} s")
    print(f"import dagster             {dagster_only:.2f} s")
    print(f"load gn_pipelines.definitions {load:.2f} s  (import dagster alone: {dagster_only:.2f} s)")
    print(f"dagster definitions validate {validate:.2f} s")


if __name__ == "__main__":
    main()
