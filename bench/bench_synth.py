"""Benchmark: write a one-million-row complaint drop and report rows/s, seconds and peak RSS.

    .venv/bin/python bench/bench_synth.py [--rows N] [--defect NAME ...]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from gn_pipelines.synth import DEFECTS, write_civil_complaints_drop

BUDGET_SECONDS = 60.0  # the brief: a million complaint rows in under a minute on 2 cores


def peak_rss_mib() -> float:
    """Peak resident set size of this process (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--defect", dest="defects", action="append", choices=DEFECTS, default=[])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_synth_") as folder:
        started = time.perf_counter()
        path = Path(folder) / "48120" / "civil_complaints" / "2025-03-04.csv"
        file = write_civil_complaints_drop(path, provider="48120", day=date(2025, 3, 4),
                                           rows=args.rows, seed=20251125, defects=args.defects)
        seconds = time.perf_counter() - started
        size_mib = file.path.stat().st_size / 2**20
    print(f"rows        {file.rows:,}")
    print(f"seconds     {seconds:.2f}  (budget {BUDGET_SECONDS:.0f})")
    print(f"rows/s      {file.rows / seconds:,.0f}")
    print(f"file        {size_mib:,.0f} MiB ({', '.join(file.defects) or 'UTF-8 CSV'})")
    print(f"peak RSS    {peak_rss_mib():,.0f} MiB")
    return 0 if seconds < BUDGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
