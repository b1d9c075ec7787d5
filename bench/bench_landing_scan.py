"""Benchmark: the landing sensor over many landed files, with its state in the instance's database.

Lands N empty files (default 100,000) in a temporary data root, records them in the landing state
table as loaded, and times the real sensor (dg.build_sensor_context, a real instance): a tick
without a cursor (the whole listing reconciled with the table, as `gn-pipelines process` plans),
a quiet tick, a tick with one new file above the mark and one with a file restored with an old
mtime (which reconciles in full). Prints each figure with the cursor's size beside the size the
old cursor (every file's size, mtime and hash) would have had. SQLite instance by default; set
GN_DAGSTER_POSTGRES_URL to measure on PostgreSQL.
Run: `.venv/bin/python bench/bench_landing_scan.py [files]`.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path


def timed(label: str, action):
    started = time.perf_counter()
    result = action()
    print(f"{label:<52} {time.perf_counter() - started:6.2f} s")
    return result


def main(count: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-landing-") as directory:
        root = Path(directory) / "data"
        os.environ.update(GN_DATA_ROOT=str(root), GN_SETTLE_SECONDS="0",
                          GN_PSEUDONYM_KEY="bench-only-pseudonym-key-not-a-real-key-00")
        os.environ.pop("DAGSTER_HOME", None)
        import dagster as dg

        from gn_pipelines.definitions import defs
        from gn_pipelines.ingest.landing import scan_landing
        from gn_pipelines.ingest.landing_state import LandingStateStore
        from gn_pipelines.ingest.planning import KnownFile
        from gn_pipelines.instance import ensure_dagster_home
        from gn_pipelines.sensors import LANDING_SENSOR_NAME
        from gn_pipelines.settings import DataZones
        from gn_pipelines_tests.drops import csv_bytes, drop, land_many_tiny_files, sample_rows

        zones = DataZones(root).ensure()
        ensure_dagster_home(zones)
        sensor = defs.resolve_sensor_def(LANDING_SENSOR_NAME)
        with dg.DagsterInstance.get() as instance:
            def tick(cursor=None) -> dg.SensorResult:
                with dg.build_sensor_context(instance=instance, cursor=cursor, resources=defs.resources) as context:
                    return sensor(context)

            print(f"{count:,} landed files, instance storage: {type(instance.run_storage).__name__}")
            timed(f"land {count:,} empty files", lambda: land_many_tiny_files(zones.landing, count))
            listed = timed("scan the landing zone (list + stat)", lambda: scan_landing(zones.landing))
            state = {landed.relative: KnownFile(landed.size, landed.mtime_ns, f"{number:064x}", done=True)
                     for number, landed in enumerate(listed)}
            store = LandingStateStore.of_instance(instance)
            timed("record them in the landing state table", lambda: store.record(state))
            timed("read the whole table back", store.everything)
            first = timed("tick without a cursor (full reconcile)", tick)
            quiet = timed("quiet tick (cursor: nothing new)", lambda: tick(first.cursor))
            drop(zones.landing, "48740/civil_complaints/new.csv", csv_bytes(sample_rows("civil_complaints", 2)),
                 mtime=time.time() - 1)
            new = timed("tick with 1 new file above the mark", lambda: tick(quiet.cursor))
            drop(zones.landing, "48170/civil_complaints/restored.csv", csv_bytes(sample_rows("civil_complaints", 3)),
                 mtime=1_600_000_000)
            timed("tick with 1 file restored with an old mtime", lambda: tick(new.cursor))
            old_cursor = json.dumps({"version": 1, "files": {relative: [e.size, e.mtime_ns, e.sha256]
                                                            for relative, e in state.items()}},
                                    separators=(",", ":"))
            print(f"{'cursor stored in every tick row':<52} {len(quiet.cursor.encode()):,} bytes "
                  f"(the old cursor: {len(old_cursor.encode()):,} bytes)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
