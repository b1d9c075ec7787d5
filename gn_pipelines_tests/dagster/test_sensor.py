"""The landing sensor, evaluated as the daemon does (build_sensor_context, real instance)."""

import os

import dagster as dg

from gn_pipelines.definitions import defs
from gn_pipelines.ingest import planning
from gn_pipelines.ingest.batch import BatchFile, batch_run_key, file_key
from gn_pipelines.sensors import LANDING_SENSOR_NAME, warehouse_version
from gn_pipelines_tests.conftest import on_both_storages
from gn_pipelines_tests.drops import csv_bytes, drop, sample_rows

pytestmark = on_both_storages


def tick(instance, cursor=None) -> dg.SensorResult:
    sensor = defs.resolve_sensor_def(LANDING_SENSOR_NAME)
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources=defs.resources) as context:
        return sensor(context)


def test_requests_runs_keyed_by_content_with_partitions_and_tags(zones, instance):
    drop(zones.landing, "48740/civil_complaints/2025-03-01.csv", csv_bytes(sample_rows("civil_complaints", 2)))
    drop(zones.landing, "48170/welfare_recipients/2025-03.xlsx", b"bytes of a workbook")
    drop(zones.landing, "48740/civil_complaints/notes.docx", b"not a drop")
    result = tick(instance)
    by_job = {r.job_name: r for r in result.run_requests}
    assert set(by_job) == {"setup_restricted_warehouse", "ingest_civil_complaints",
                           "ingest_welfare_recipients", "record_landing_rejection"}
    complaint = by_job["ingest_civil_complaints"]
    assert complaint.partition_key == "2025-03"  # the delivery month: one batch per dataset × month
    files = complaint.run_config["ops"]["collected_civil_complaints"]["config"]["files"]
    sha256 = complaint.tags["gn/content_sha256"]
    assert files == [{"relative": "48740/civil_complaints/2025-03-01.csv", "sha256": sha256, "provider_code": "48740"}]
    # keyed by the files' contents and delivering providers: the same bytes of another provider are their own delivery
    assert complaint.run_key == batch_run_key("civil_complaints", "2025-03", [BatchFile(files[0]["relative"], sha256, "48740")])
    assert sha256 in file_key(sha256, "48740", "civil_complaints") and "48740/civil_complaints" in file_key(sha256, "48740", "civil_complaints")
    assert complaint.tags["gn/provider"] == "48740" and complaint.tags["gn/batch"] == "civil_complaints 2025-03"
    rejection = by_job["record_landing_rejection"]
    config = rejection.run_config["ops"]["landing_rejections"]["config"]
    assert config["landing_path"] == "48740/civil_complaints/notes.docx" and "unknown file type" in config["reason"]
    assert {(r.partitions_def_name, tuple(r.partition_keys)) for r in result.dynamic_partitions_requests} == {
        ("civil_complaints_months", ("2025-03",)), ("welfare_recipients_months", ("2025-03",))}


def test_one_run_per_dataset_and_month_holds_every_provider(zones, instance):
    for provider in ("48740", "48170"):
        for rows, day in enumerate(("2025-03-01", "2025-03-02"), start=2):  # different bytes each
            drop(zones.landing, f"{provider}/civil_complaints/{day}.csv", csv_bytes(sample_rows("civil_complaints", rows)))
    drop(zones.landing, "48740/civil_complaints/2025-04-01.csv", csv_bytes(sample_rows("civil_complaints", 4)))
    requests = [r for r in tick(instance).run_requests if r.job_name == "ingest_civil_complaints"]
    assert {r.partition_key: int(r.tags["gn/files"]) for r in requests} == {"2025-03": 4, "2025-04": 1}
    [march] = [r for r in requests if r.partition_key == "2025-03"]
    assert "gn/provider" not in march.tags and "gn/source_file" not in march.tags  # several of each

def test_cursor_survives_restarts_and_a_quiet_tick_reads_no_contents(zones, instance, monkeypatch):
    drop(zones.landing, "48740/civil_complaints/a.csv", csv_bytes(sample_rows("civil_complaints", 2)))
    first = tick(instance)
    reads = []
    monkeypatch.setattr(planning, "content_sha256", lambda path: reads.append(path) or "x")
    # a new context from the stored cursor string, as after a daemon restart
    second = tick(instance, cursor=first.cursor)
    assert second.run_requests == [] and reads == []
    assert "1 unchanged file(s)" in second.skip_reason.skip_message
    assert warehouse_version(zones.root) in first.cursor
    assert warehouse_version(zones.root / "moved") != warehouse_version(zones.root)


def test_corrected_file_gets_a_new_run_for_the_same_partition(zones, instance):
    drop(zones.landing, "48740/civil_complaints/2025-03-01.csv", csv_bytes(sample_rows("civil_complaints", 2)))
    first = tick(instance)
    drop(zones.landing, "48740/civil_complaints/2025-03-01.csv", csv_bytes(sample_rows("civil_complaints", 3)),
         mtime=1_700_000_000)
    [again] = tick(instance, cursor=first.cursor).run_requests
    [before] = [r for r in first.run_requests if r.partition_key]
    assert again.partition_key == before.partition_key and again.run_key != before.run_key


def test_partial_file_waits_for_a_later_tick(zones, instance):
    part = drop(zones.landing, "48740/civil_complaints/a.csv.part", b"half a file")
    first = tick(instance)
    assert [r.job_name for r in first.run_requests] == ["setup_restricted_warehouse"]
    part.rename(part.with_name("a.csv"))
    [request] = tick(instance, cursor=first.cursor).run_requests
    assert request.tags["gn/source_file"] == "48740/civil_complaints/a.csv"


def test_sensor_never_errors_on_a_strange_landing_zone(zones, instance):
    (zones.landing / "48740" / "civil_complaints").mkdir(parents=True)
    (zones.landing / "stray.csv").write_bytes(b"x")
    (zones.landing / ".hidden").write_bytes(b"x")
    (zones.landing / "48740" / "civil_complaints" / "unreadable.csv").symlink_to(zones.root / "missing")
    result = tick(instance)
    # the dangling link is refused unread (recorded, never followed), the stray file rejected
    assert [r.tags.get("gn/source_file") for r in result.run_requests if r.tags.get("gn/rejected")] == [
        "48740/civil_complaints/unreadable.csv", "stray.csv"]


def test_a_deleted_restricted_warehouse_is_rebuilt_once_by_the_next_run(zones, instance):
    """Someone deletes warehouse/restricted.duckdb (its rows are in Parquet): the set-up run's key
    had succeeded, so its views and reference tables were never rebuilt."""
    import duckdb

    from gn_pipelines.processing import process_landing

    def process() -> list[str]:
        lines: list[str] = []
        process_landing(instance, echo=lines.append, publish=False)
        return lines

    assert "setup_restricted_warehouse: done" in process()
    zones.restricted_db.unlink()
    setup = [r for r in tick(instance).run_requests if r.job_name == "setup_restricted_warehouse"]
    assert [r.run_key.rsplit("-", 1)[0] for r in setup] == [f"warehouse:{warehouse_version(zones.root)}:rebuild-after"]
    assert "setup_restricted_warehouse: done" in process()
    with duckdb.connect(str(zones.restricted_db), read_only=True) as warehouse:
        assert warehouse.execute("SELECT count(*) FROM information_schema.tables").fetchone()[0] > 0
    assert "setup_restricted_warehouse: done" not in process()  # rebuilt once


def test_process_names_the_files_it_leaves_waiting_but_not_uploads(zones, instance, process):
    """A file modified in the future (a sender's clock ahead) waits: `process` says so on its own
    line, where a cron mail shows it, instead of only "0 file(s)"; an upload in progress is not a
    file yet and is not named."""
    import time

    ahead = time.time() + 2 * 3600
    drop(zones.landing, "48740/civil_complaints/2025-03-01.csv", csv_bytes(sample_rows("civil_complaints", 2)), mtime=ahead)
    drop(zones.landing, "48740/civil_complaints/2025-03-02.csv.part", b"half a file")
    lines = process()
    [waiting] = [line for line in lines if "waiting" in line]
    assert waiting.startswith("48740/civil_complaints/2025-03-01.csv: waiting: modified 2.0 h in the future"), lines
    assert not any("2025-03-02" in line or "rows accepted" in line for line in lines), lines
    os.utime(zones.landing / "48740/civil_complaints/2025-03-01.csv", (ahead - 3 * 3600,) * 2)  # the clock put right
    lines = process()
    assert any(line.startswith("48740/civil_complaints/2025-03-01.csv: 2 rows accepted") for line in lines), lines
    assert not any("waiting" in line for line in lines), lines
