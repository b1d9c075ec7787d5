"""Benchmark: civil_complaint_keywords_monthly from scratch vs incrementally (noun cache).

Writes --files synthetic complaint drops of --rows each (with their lineage columns, as the
publication reads them), builds the table from scratch, then adds one drop of --new-rows and
builds it again over the cache of the first build. The two tables are compared with a
from-scratch build only if --check (it tokenises everything a second time).

Usage: .venv/bin/python bench/bench_keywords.py [--files 200] [--rows 100] [--new-rows 100] [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from gn_pipelines.datasets.civil_complaints import _build_keywords_monthly
from gn_pipelines.synth.civil_complaints import complaint_table

PROVIDERS = ("48250", "48170", "48120", "48310")


def write_drop(drops: Path, provider: str, day: date, rows: int) -> None:
    table = complaint_table(provider, day, rows, 7)
    (drops / provider).mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({
        "sigungu_code": table["sigungu_code"], "received_at": [datetime(day.year, day.month, day.day, 12)] * rows,
        "title": table["title"], "body": table["body"],
        "source_file": [f"landing/{provider}/civil_complaints/{day}.csv"] * rows,
        "content_sha256": [hashlib.sha256(f"{provider}{day}{rows}".encode()).hexdigest()] * rows,
        "source_row_number": pa.array(range(1, rows + 1), pa.int64())}), drops / provider / f"{day}.parquet")


def distinct_texts(drops: Path) -> int:
    with duckdb.connect() as connection:
        return connection.execute(f"SELECT count(DISTINCT concat_ws(' ', title, body)) FROM "
                                  f"read_parquet('{drops}/*/*.parquet')").fetchone()[0]


def build(drops: Path, cache_dir: Path | None) -> tuple[float, int]:
    started = time.perf_counter()
    with duckdb.connect() as connection:
        connection.execute(f"CREATE VIEW complaint_drops AS SELECT * FROM "
                           f"read_parquet('{drops}/*/*.parquet', union_by_name = true)")
        _build_keywords_monthly(connection, cache_dir)
        rows = connection.execute("SELECT count(*) FROM civil_complaint_keywords_monthly").fetchone()[0]
    return time.perf_counter() - started, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--new-rows", type=int, default=100)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        drops, cache = Path(scratch) / "drops", Path(scratch) / "cache"
        for n in range(args.files):
            write_drop(drops, PROVIDERS[n % len(PROVIDERS)], date(2025, 1, 1) + timedelta(days=n // len(PROVIDERS)),
                       args.rows)
        seconds, rows = build(drops, cache)
        complaints = args.files * args.rows
        print(f"from scratch: {complaints} complaints ({distinct_texts(drops)} distinct texts) in {seconds:.1f} s, "
              f"{complaints / seconds:.0f} complaints/s ({rows} table rows)")
        seconds, rows = build(drops, cache)
        print(f"nothing new:  {seconds:.2f} s ({rows} table rows)")
        write_drop(drops, PROVIDERS[0], date(2026, 1, 1), args.new_rows)
        seconds, rows = build(drops, cache)
        print(f"one new file of {args.new_rows} rows: {seconds:.2f} s ({rows} table rows)")
        if args.check:
            seconds, scratch_rows = build(drops, None)
            print(f"from scratch again: {seconds:.1f} s ({scratch_rows} table rows)")


if __name__ == "__main__":
    main()
