"""Benchmark: reading the drop log after years of deliveries, as JSON records and folded by month.

Writes N drop-log records (default 72,000: about ten years of one record per delivered file)
spread evenly over the ten years before today, in a temporary data root, as `append_record`
names them. Times a read of the `drop_log` view (what every scorecard build and freshness check
does), the first fold of the past months (`ingest/log_compaction.py`; later folds take one month
at a time) and the same read after it.
Run: `.venv/bin/python bench/bench_log_folding.py [records]`.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import duckdb

from gn_pipelines.ingest.drop_log import DROP_LOG_FIELDS, drop_log_dir
from gn_pipelines.restricted_views import create_log_views, fold_event_logs
from gn_pipelines.seoul_time import now_in_seoul, seoul_iso, seoul_stamp
from gn_pipelines.settings import DataZones

YEARS = 10


def timed(label: str, action):
    started = time.perf_counter()
    result = action()
    print(f"{label:<58} {time.perf_counter() - started:6.2f} s")
    return result


def write_records(zones: DataZones, count: int) -> None:
    folder = drop_log_dir(zones.restricted)
    folder.mkdir(parents=True, exist_ok=True)
    now = now_in_seoul()
    step = timedelta(days=365 * YEARS) / count
    for number in range(count):
        when = now - (count - number) * step
        record = {name: None for name in DROP_LOG_FIELDS} | {
            "event_id": uuid.uuid4().hex, "recorded_at": seoul_iso(when), "dataset": "civil_complaints",
            "provider_code": "48120", "source_file": f"48120/civil_complaints/{number}.csv",
            "status": "collected", "rows_accepted": 100, "unknown_columns": []}
        (folder / f"{seoul_stamp(when)}_{record['event_id'][:12]}.json").write_text(json.dumps(record))


def read_drop_log(zones: DataZones) -> int:
    with duckdb.connect() as connection:
        create_log_views(connection, zones)
        return connection.execute("SELECT count(*) FROM drop_log").fetchone()[0]


def main(count: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-log-folding-") as directory:
        zones = DataZones(Path(directory) / "data").ensure()
        timed(f"write {count:,} JSON records", lambda: write_records(zones, count))
        before = timed("read the drop_log view (JSON records)", lambda: read_drop_log(zones))
        folded = timed("fold the past months (first time)", lambda: fold_event_logs(zones, now_in_seoul().date()))
        after = timed("read the drop_log view (folded)", lambda: read_drop_log(zones))
        left = len(list(drop_log_dir(zones.restricted).glob("[0-9]*.json")))
        print(f"{len(folded)} months folded, {left:,} JSON records left (this and last month); "
              f"rows {before:,} before, {after:,} after")
        assert before == after == count


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 72_000)
