"""Benchmark: synthesise a one-million-row complaint drop, collect it, print rows/s and peak memory.

Two measurements, each in a fresh child process so peak RSS is the collection's alone:
  core   archive + collect_drop (decode, type in DuckDB, stage Parquet), no Dagster
  run    `gn-pipelines process`: the landing sensor's logic and a real Dagster run

Usage: .venv/bin/python bench/bench_collect.py [--rows 1000000] [--encoding utf-8|cp949]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORE = """
import datetime as dt, json, sys, time
from pathlib import Path
from gn_pipelines.datasets import get_contract
from gn_pipelines.ingest.archive import archive_file
from gn_pipelines.ingest.collect import collect_drop
from gn_pipelines.settings import DataZones
zones = DataZones(Path(sys.argv[1])).ensure()
source = Path(sys.argv[2])
started = time.perf_counter()
sha, archived = archive_file(source, zones.archive)
outcome = collect_drop(archived, contract=get_contract("civil_complaints"), provider_code="48120",
                       source_file="48120/civil_complaints/" + source.name, content_sha256=sha,
                       zones=zones, collected_at=dt.datetime.now(dt.timezone.utc))
print(json.dumps({"seconds": time.perf_counter() - started, "accepted": outcome.rows_accepted,
                  "rejected": outcome.rows_rejected, "encoding": outcome.encoding}))
"""


def child_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--encoding", choices=["utf-8", "cp949"], default="utf-8")
    args = parser.parse_args()
    from gn_pipelines.synth import write_civil_complaints_drop

    with tempfile.TemporaryDirectory(prefix="bench-collect-") as tmp:
        root = Path(tmp)
        landing = root / "data" / "landing" / "48120" / "civil_complaints"
        landing.mkdir(parents=True)
        drop = landing / "2025-03-04.csv"
        started = time.perf_counter()
        write_civil_complaints_drop(drop, provider="48120", day=dt.date(2025, 3, 4), rows=args.rows,
                                    seed=20251125, defects=("cp949",) if args.encoding == "cp949" else ())
        print(f"synthesised {args.rows:,} rows ({drop.stat().st_size / 2**20:.0f} MiB, {args.encoding}) "
              f"in {time.perf_counter() - started:.1f} s")

        core = subprocess.run([sys.executable, "-c", CORE, str(root / "core"), str(drop)],
                              capture_output=True, text=True)
        if core.returncode:
            sys.exit(f"collection failed:\n{core.stderr[-3000:]}")
        figures = json.loads(core.stdout.strip().splitlines()[-1])
        print(f"core: {figures['accepted'] + figures['rejected']:,} rows in {figures['seconds']:.1f} s = "
              f"{(figures['accepted'] + figures['rejected']) / figures['seconds']:,.0f} rows/s; "
              f"peak RSS {child_peak_mib():.0f} MiB")

        env = dict(os.environ, GN_DATA_ROOT=str(root / "data"), GN_SETTLE_SECONDS="0",
                   DAGSTER_HOME=str(root / "dagster_home"))
        executable = Path(sys.executable).with_name("gn-pipelines")
        started = time.perf_counter()
        run = subprocess.run([str(executable), "process"], env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        print("\n".join(line for line in run.stdout.splitlines() if "civil_complaints" in line))
        print(f"run (gn-pipelines process, incl. Dagster start-up and warehouse set-up): {seconds:.1f} s = "
              f"{args.rows / seconds:,.0f} rows/s; peak RSS of any child so far {child_peak_mib():.0f} MiB; "
              f"exit {run.returncode}")


if __name__ == "__main__":
    main()
