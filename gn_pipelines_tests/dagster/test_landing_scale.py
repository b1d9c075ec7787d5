"""100k landed files: a sensor tick stays fast and its cursor small (issue 12 item 5).

The old sensor kept every file in its cursor (12.8 MB at 100k files, stored in every tick row).
Figures on a quiet machine are in docs/landing-state.md (bench/bench_landing_scan.py); the bound
here is the issue's 5 s for a quiet tick (1.3-2.4 s here with the machine at load 9-13 on 2 cores).
"""

import time

import dagster as dg

from gn_pipelines.definitions import defs
from gn_pipelines.ingest import planning
from gn_pipelines.ingest.landing import scan_landing
from gn_pipelines.ingest.landing_state import LandingStateStore
from gn_pipelines.ingest.planning import KnownFile
from gn_pipelines.sensors import LANDING_SENSOR_NAME
from gn_pipelines_tests.conftest import on_both_storages
from gn_pipelines_tests.drops import csv_bytes, drop, land_many_tiny_files, sample_rows

pytestmark = on_both_storages

FILES = 100_000
TICK_SECONDS = 5.0
CURSOR_BYTES = 4096


def tick(instance, cursor=None) -> tuple[dg.SensorResult, float]:
    sensor = defs.resolve_sensor_def(LANDING_SENSOR_NAME)
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources=defs.resources) as context:
        started = time.perf_counter()
        result = sensor(context)
        return result, time.perf_counter() - started


def test_a_tick_over_100k_landed_files_is_fast_and_its_cursor_small(zones, instance, monkeypatch):
    land_many_tiny_files(zones.landing, FILES)
    # already planned and loaded: recorded in the instance's database, as earlier ticks left it
    LandingStateStore.of_instance(instance).record({
        landed.relative: KnownFile(landed.size, landed.mtime_ns, "0" * 64, done=True)
        for landed in scan_landing(zones.landing)})
    reads = []
    real = planning.content_sha256
    monkeypatch.setattr(planning, "content_sha256", lambda path: reads.append(path) or real(path))

    first, _ = tick(instance)  # no cursor: the whole listing reconciled with the table
    assert [r.job_name for r in first.run_requests] == ["setup_restricted_warehouse"] and reads == []
    quiet, seconds = tick(instance, first.cursor)
    assert quiet.run_requests == [] and f"{FILES} unchanged file(s)" in quiet.skip_reason.skip_message
    assert seconds < TICK_SECONDS, f"a quiet tick over {FILES} files took {seconds:.1f} s"
    assert len(quiet.cursor.encode()) < CURSOR_BYTES and len(first.cursor.encode()) < CURSOR_BYTES

    # a new delivery, and a restored file that kept an old mtime (below the mark): both found
    drop(zones.landing, "48740/civil_complaints/2025-03-01.csv", csv_bytes(sample_rows("civil_complaints", 2)),
         mtime=time.time() - 1)
    drop(zones.landing, "48170/civil_complaints/restored.csv", csv_bytes(sample_rows("civil_complaints", 3)),
         mtime=1_600_000_000)
    found, seconds = tick(instance, quiet.cursor)
    assert sorted(r.tags["gn/source_file"] for r in found.run_requests) == [
        "48170/civil_complaints/restored.csv", "48740/civil_complaints/2025-03-01.csv"]
    # the old mtime makes this tick reconcile the whole listing with the table (one read, ~2-3x a
    # quiet tick); a look-up or a hash per file would take minutes
    assert len(reads) == 2 and seconds < 3 * TICK_SECONDS, f"a reconciling tick took {seconds:.1f} s"
    assert len(found.cursor.encode()) < CURSOR_BYTES
