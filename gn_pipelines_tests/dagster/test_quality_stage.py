"""The quality stage through real Dagster runs: clean drops go on, a few bad rows go to
quarantine, a defective drop is stopped by a blocking check before de-identification."""

import dagster as dg
import duckdb

from gn_pipelines.assets.deidentification import pseudonymised_asset_key
from gn_pipelines.assets.scorecard import FRESHNESS_CHECK_KEYS, freshness_check_name
from gn_pipelines.assets.validation import validated_asset_key
from gn_pipelines.quality.rules import BAD_ROW_SHARE_CHECK
from gn_pipelines_tests.dagster.conftest import process_and_publish
from gn_pipelines_tests.drops import csv_bytes, drop, sample_rows
from gn_pipelines_tests.seoul_times import utc_times

DATASET = "civil_complaints"
VALIDATED, PSEUDONYMISED = validated_asset_key(DATASET), pseudonymised_asset_key(DATASET)


def _complaints(count: int, bad: dict[int, dict[str, str]] | None = None) -> bytes:
    rows = sample_rows(DATASET, count)
    for index, changes in (bad or {}).items():
        rows[index].update(changes)
    return csv_bytes(rows)


def _latest_check(instance, key, name):
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(key, name)])
    return next(iter(record.values())).event.dagster_event.event_specific_data


def test_clean_drop_passes_every_check_and_reaches_deidentification(zones, process, warehouse, instance):
    drop(zones.landing, "48740/civil_complaints/2025-03-01.csv", _complaints(40))
    [line] = [line for line in process() if DATASET in line]
    assert line.endswith("40 rows passed, 0 quarantined; failed checks: none")
    assert warehouse(f"SELECT count(*) FROM validated_{DATASET}") == [(40,)]
    assert instance.get_materialized_partitions(PSEUDONYMISED) == {"2025-03"}  # the delivery month
    assert _latest_check(instance, VALIDATED, "category_allowed_value").passed


def test_a_few_bad_rows_go_to_quarantine_and_the_rest_goes_on(zones, process, warehouse, instance):
    bad = {10: {"민원분야": "기타민원"}, 55: {"처리완료일": "2025-02-20"}}  # 2 of 100 rows
    drop(zones.landing, "48740/civil_complaints/2025-03-02.csv", _complaints(100, bad))
    [line] = [line for line in process() if DATASET in line]
    assert "98 rows passed, 2 quarantined" in line
    assert "category_allowed_value" in line and "completed_not_before_received" in line
    quarantined = warehouse(f"SELECT source_row_number, failed_checks, quarantine_reason, source_file "
                            f"FROM quarantine_{DATASET} ORDER BY 1")
    assert [(r[0], r[1]) for r in quarantined] == [
        (12, ["category_allowed_value"]), (57, ["completed_not_before_received"])]  # header = row 1
    assert all(r[2].startswith("failed: ") and r[3] == "48740/civil_complaints/2025-03-02.csv"
               for r in quarantined)
    assert warehouse(f"SELECT count(*) FROM validated_{DATASET}") == [(98,)]
    # the check fails, at WARN: the rows were handled, the drop goes on to de-identification
    evaluation = _latest_check(instance, VALIDATED, "category_allowed_value")
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.metadata["unexpected_count"].value == 1
    assert evaluation.metadata["gx_unexpected_count"].value == 1
    assert instance.get_materialized_partitions(PSEUDONYMISED) == {"2025-03"}


def test_a_defective_drop_is_stopped_before_deidentification(zones, process, warehouse, instance):
    bad = {i: {"처리상태": "보류"} for i in range(0, 20, 2)}  # half the rows
    drop(zones.landing, "48740/civil_complaints/2025-03-03.csv", _complaints(20, bad))
    [line] = [line for line in process() if DATASET in line]
    assert "QUARANTINED WHOLE" in line and BAD_ROW_SHARE_CHECK in line
    evaluation = _latest_check(instance, VALIDATED, BAD_ROW_SHARE_CHECK)
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert _latest_check(instance, VALIDATED, "status_allowed_value").severity == dg.AssetCheckSeverity.ERROR
    # the blocking check stopped the run before the de-identification step
    assert instance.get_materialized_partitions(PSEUDONYMISED) == set()
    run = instance.get_runs(limit=1)[0]
    assert run.status == dg.DagsterRunStatus.FAILURE and run.tags["gn/outcome"] == "quarantined"
    assert warehouse(f"SELECT count(*) FROM validated_{DATASET}") == [(0,)]
    assert warehouse(f"SELECT count(*), bool_and(whole_drop_quarantined) FROM quarantine_{DATASET}") == [(20, True)]
    # a second pass does not retry a verdict that would not change
    assert not [line for line in process() if DATASET in line]


def test_a_file_quarantined_whole_stops_alone_and_its_batch_goes_on(zones, process, warehouse, instance):
    bad = {i: {"처리상태": "보류"} for i in range(0, 20, 2)}  # half the rows
    drop(zones.landing, "48740/civil_complaints/2025-03-03.csv", _complaints(20, bad))
    drop(zones.landing, "48720/civil_complaints/2025-03-03.csv", csv_bytes(sample_rows(DATASET, 30, 시군구코드="48720")))
    few_bad = sample_rows(DATASET, 40, 시군구코드="48720")
    few_bad[1]["민원분야"] = "기타민원"
    drop(zones.landing, "48720/civil_complaints/2025-03-04.csv", csv_bytes(few_bad))
    lines = {line.split(": ", 1)[0]: line for line in process() if DATASET in line}
    assert len(lines) == 3 and len(instance.get_runs()) == 2  # one batch run (and the set-up run)
    assert "QUARANTINED WHOLE" in lines["48740/civil_complaints/2025-03-03.csv"]
    assert lines["48720/civil_complaints/2025-03-03.csv"].endswith("30 rows passed, 0 quarantined; failed checks: none")
    assert "39 rows passed, 1 quarantined; failed checks: category_allowed_value" in lines[
        "48720/civil_complaints/2025-03-04.csv"]
    # the blocking check fails at WARN and names the stopped file; the good file is de-identified
    evaluation = _latest_check(instance, VALIDATED, BAD_ROW_SHARE_CHECK)
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert "48740/civil_complaints/2025-03-03.csv" in evaluation.description
    assert "48740/civil_complaints/2025-03-03.csv" in evaluation.metadata["failed_files"].value
    assert instance.get_materialized_partitions(PSEUDONYMISED) == {"2025-03"}
    with duckdb.connect() as connection:
        pseudonymised = zones.restricted / "pseudonymised" / DATASET
        assert connection.execute(f"SELECT source_file, count(*) FROM read_parquet('{pseudonymised}/*/*.parquet') "
                                  "GROUP BY ALL ORDER BY 1").fetchall() == [
            ("48720/civil_complaints/2025-03-03.csv", 30), ("48720/civil_complaints/2025-03-04.csv", 39)]
    # each file keeps its own rows and records: quarantine, drop log, validation log, the asset's table
    assert warehouse(f"SELECT source_file, min(source_row_number), count(*) FROM quarantine_{DATASET} "
                     "GROUP BY ALL ORDER BY 1") == [("48720/civil_complaints/2025-03-04.csv", 3, 1),
                                                    ("48740/civil_complaints/2025-03-03.csv", 2, 20)]
    assert warehouse("SELECT count(*), count(DISTINCT source_file), count(DISTINCT run_id) FROM drop_log") == [(3, 3, 1)]
    files = instance.get_latest_materialization_event(VALIDATED).asset_materialization.metadata["files"].value
    assert {f["source_file"]: f["status"] for f in files} == {
        "48740/civil_complaints/2025-03-03.csv": "quarantined whole",
        "48720/civil_complaints/2025-03-03.csv": "validated", "48720/civil_complaints/2025-03-04.csv": "validated"}


def test_reports_exist_and_are_linked_from_the_checks(zones, process, instance):
    rrn = "901301-1234567"  # an impossible birth date: quarantined, and never shown unmasked
    drop(zones.landing, "48740/civil_complaints/2025-03-04.csv", _complaints(60, {3: {"주민등록번호": rrn}}))
    process()
    materialization = instance.get_latest_materialization_event(VALIDATED).asset_materialization
    report = materialization.metadata["report"].value
    assert report.startswith("file://")
    page = zones.root / report.split(str(zones.root), 1)[1].lstrip("/")
    assert page.is_file() and "<html" in page.read_text(encoding="utf-8").lower()
    assert rrn not in page.read_text(encoding="utf-8")
    check = _latest_check(instance, VALIDATED, "resident_reg_no_valid")
    assert check.metadata["report"].value == report
    sample = check.metadata["sample (personal values masked)"].value
    assert sample and rrn not in str(sample) and sample[0]["resident_reg_no"].startswith("9*")
    index = (zones.restricted / "quality" / "reports" / "index.html").read_text(encoding="utf-8")
    assert page.relative_to(zones.restricted / "quality" / "reports").as_posix() in index
    # the GX page, its name, the index and the logs in Seoul time (GX itself writes UTC)
    assert page.name.endswith("KST.html") and " KST" in page.read_text(encoding="utf-8")
    assert not utc_times(zones.root), utc_times(zones.root)[:10]


def test_scorecard_and_freshness_name_providers(zones, process, instance):
    import time

    drop(zones.landing, "48740/civil_complaints/2025-03-05.csv", _complaints(30), mtime=time.time())
    drop(zones.landing, "48720/civil_complaints/2025-03-05.csv",
         csv_bytes(sample_rows(DATASET, 30, 시군구코드="48720")), mtime=time.time() - 10 * 86400)
    # rows of another 시군 only: quarantined whole at collection, its checks still counted
    drop(zones.landing, "48170/civil_complaints/2025-03-05.csv", _complaints(10), mtime=time.time())
    # a file whose name and rows state no period has no deadline: on time, not late
    drop(zones.landing, "48170/business_licences/인허가_숙박업.csv",
         csv_bytes(sample_rows("business_licences", 5)), mtime=time.time())
    process(publish=True)
    with duckdb.connect(str(zones.published_db), read_only=True) as connection:
        rows = connection.execute("SELECT provider_code, files_on_time + files_late, rows_accepted "
                                  "FROM provider_scorecard WHERE dataset = ? ORDER BY 1", [DATASET]).fetchall()
        undated, quarantined = connection.execute("SELECT provider_code, files_quarantined, top_failed_checks, "
                                                  "files_on_time, files_late FROM provider_scorecard "
                                                  "WHERE provider_code = '48170' ORDER BY dataset").fetchall()
    assert rows == [("48170", 1, 0), ("48720", 1, 30), ("48740", 1, 30)]
    assert undated[1:] == (0, None, 1, 0)
    assert quarantined[1] == 1 and "bad_row_share" in quarantined[2] and "values_parseable" in quarantined[2]
    from gn_pipelines.definitions import defs

    result = defs.resolve_job_def("check_provider_freshness").execute_in_process(instance=instance)
    evaluation = next(e for e in result.get_asset_check_evaluations()
                      if e.check_name == freshness_check_name(DATASET))
    assert not evaluation.passed
    late = evaluation.metadata["late_providers"].value
    assert "48740" not in late and late["48720"].endswith("KST")  # 10 days ago: late
    # a 시군 that never delivered is not late: it is listed as not delivering yet
    assert "48250" not in late and "48250" in evaluation.metadata["not_yet_delivering"].value
    assert "김해시" in evaluation.description
    from gn_pipelines.datasets import CONTRACTS

    assert len(FRESHNESS_CHECK_KEYS) == len(CONTRACTS)  # one per dataset, business_licences included


def test_the_scorecard_step_folds_the_logs_past_months_and_reads_the_same_rows(zones, process, instance):
    from gn_pipelines.assets.scorecard import SCORECARD_KEY
    from gn_pipelines.ingest.drop_log import drop_log_dir
    from gn_pipelines.quality.validation_log import validation_log_dir

    drop(zones.landing, "48740/civil_complaints/2025-03-05.csv", _complaints(30))
    drop(zones.landing, "48720/civil_complaints/2025-03-05.csv", csv_bytes(sample_rows(DATASET, 20, 시군구코드="48720")))
    process(publish=True)

    def scorecard() -> list[tuple]:
        with duckdb.connect(str(zones.published_db), read_only=True) as connection:
            return connection.execute("SELECT * FROM provider_scorecard ORDER BY ALL").fetchall()

    before = scorecard()
    logs = (drop_log_dir(zones.restricted), validation_log_dir(zones))
    for log in logs:  # as if recorded in September 2025 (a record's name gives its month)
        for record in log.glob("[0-9]*.json"):
            record.rename(record.with_name("20250915" + record.name[8:]))
    process_and_publish(instance)  # nothing new landed: published again on purpose

    metadata = instance.get_latest_materialization_event(SCORECARD_KEY).asset_materialization.metadata
    assert metadata["log_months_folded"].value == 2 and not metadata["reused"].value
    for log in logs:
        assert (log / "2025-09.parquet").is_file() and not list(log.glob("[0-9]*.json"))
    assert scorecard() == before
