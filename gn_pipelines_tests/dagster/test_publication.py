"""Publication through real runs: grades on the real tributary series match an independent
calculation, aggregates leave no small cell and no recoverable one, the data lab refuses and
grants with an audit trail, and the nightly schedule is at 02:00 in Seoul."""

import datetime as dt

import duckdb
import pytest

from gn_pipelines.synth import synthesize_drops
from gn_pipelines_tests.dagster.conftest import isolated_platform, process_and_publish
from gn_pipelines.water.tributary import convert_tributary_workbook
from gn_pipelines_tests.unit.test_water_grading import WORKBOOK, independent_grades


def _published(zones, sql: str, *params):
    with duckdb.connect(str(zones.published_db), read_only=True) as connection:
        return connection.execute(sql, list(params)).df()


def test_real_tributary_series_goes_through_the_platform_and_grades_match(zones, process, real_data):
    convert_tributary_workbook(real_data / WORKBOOK, zones.landing)
    lines = process(publish=True)
    assert sum("water_quality/tributary_" in line for line in lines) == 25
    got = _published(zones, "SELECT * FROM water_quality_station_grades WHERE parameter <> 'overall'")
    expected = independent_grades(real_data / WORKBOOK)
    merged = got.merge(expected, on=["station_name", "year", "parameter"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all() and len(merged) == 9_747
    assert (merged["annual_mean"] - merged["expected_mean"]).abs().max() < 1e-9
    assert (merged["grade"] == merged["expected_grade"]).all()
    assert (merged["samples"] == merged["expected_samples"]).all()


@pytest.fixture(scope="module")
def published_platform(tmp_path_factory):
    """One platform for the module: five days of three datasets, processed and published."""
    with isolated_platform(tmp_path_factory.mktemp("published") / "data") as (zones, instance):
        synthesize_drops(zones.landing, datasets=["civil_complaints", "welfare_recipients", "water_quality"],
                         providers=["48120", "48720", "48740", "48000"],
                         start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 5))
        process_and_publish(instance)
        yield zones, instance


@pytest.fixture
def published_sample(published_platform):
    return published_platform[0]


def _recoverable(frame, count: str, dimensions: list[str]) -> list:
    """Margin groups (all dimensions but one fixed) of several cells holding exactly one
    suppressed cell: given the group's total, that cell would be its difference. (A group of
    one cell has nothing to subtract: its total is the cell, and is not published.)"""
    found = []
    for free in dimensions:
        fixed = [d for d in dimensions if d != free]
        for key, group in frame.groupby(fixed, dropna=False):
            if len(group) > 1 and group["suppressed"].sum() == 1:
                found.append((free, key))
    return found


def test_aggregates_have_no_small_and_no_recoverable_cells(published_sample):
    zones = published_sample
    for table, count, dims in (
            ("civil_complaints_monthly", "complaints", ["sigungu_code", "month", "category"]),
            ("civil_complaint_keywords_monthly", "complaints", ["sigungu_code", "month", "keyword"]),
            ("welfare_summary", "recipients", ["sigungu_code", "reference_month", "benefit_type", "age_band", "sex"])):
        frame = _published(zones, f"SELECT * FROM {table}")
        assert len(frame), table
        if table == "welfare_summary":  # age × sex × benefit cells of small counties are small
            assert frame["suppressed"].sum() > 10
        shown = frame[~frame["suppressed"]]
        assert (shown[count] >= 5).all(), table
        assert frame.loc[frame["suppressed"], count].isna().all(), table
        assert _recoverable(frame, count, dims) == [], table


def test_every_contract_table_and_export_exists_with_the_namji_chart(published_sample):
    from gn_pipelines.publish.tables import PUBLISHED_TABLES

    zones = published_sample
    for table in PUBLISHED_TABLES:
        columns = list(_published(zones, f"SELECT * FROM {table.name} LIMIT 0").columns)
        assert columns == [c.name for c in table.columns], table.name
        if table.open_privacy_class is None:
            assert not list(zones.open_data.glob(f"{table.name}.*")), table.name
            continue
        for suffix in (".parquet", ".csv"):
            assert (zones.open_data / f"{table.name}{suffix}").is_file()
        assert (zones.open_data / f"{table.name}.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    assert (zones.open_data / "catalog.json").is_file() and (zones.open_data / "index.html").is_file()
    assert (zones.open_data / "nakdong_namji_bod_tp.png").read_bytes()[:4] == b"\x89PNG"
    assert len(_published(zones, "SELECT * FROM nakdong_namji_target"))
    catalog = _published(zones, "SELECT table_name, licence, privacy_class FROM data_catalog")
    assert set(catalog["licence"]) == {"공공누리 제1유형"}
    assert dict(zip(catalog.table_name, catalog.privacy_class)) == {t.name: t.privacy_class for t in PUBLISHED_TABLES}
    from gn_pipelines.datalab.ledger import register

    releases = [r for r in register(zones) if r["kind"] == "release"]
    assert {r["reference"].split("@")[0] for r in releases} == {"civil_complaints", "welfare_recipients"}
    assert all(r["key_id"] and r["purpose"] and r["recipient"] for r in releases)


def test_open_data_holds_no_pseudonymised_record_or_free_text(published_sample):
    """Scan every file in open/ against the analysts' 가명정보: no key, no title or body, no 가명정보 entry."""
    import json
    import re

    import pandas as pd

    zones = published_sample
    records = _published(zones, "SELECT complaint_key, complainant_key, title, body FROM civil_complaints")
    keys = _published(zones, "SELECT recipient_key FROM welfare_recipients")
    assert len(records) > 100 and records.body.str.len().min() > 10
    secrets = {s for s in [*records.stack(), *keys.recipient_key] if isinstance(s, str) and len(s) >= 8}
    keywords = _published(zones, "SELECT * FROM civil_complaint_keywords_monthly WHERE NOT suppressed")
    assert len(keywords) and (keywords.complaints >= 5).all()
    # the nouns behind them stay in the restricted zone, owner-only, for the next publication
    (nouns,) = (zones.restricted / "build_cache" / "civil_complaint_keywords_monthly").glob("nouns-*")
    assert list(nouns.glob("*.parquet")) and not nouns.stat().st_mode & 0o077
    catalog = json.loads((zones.open_data / "catalog.json").read_text(encoding="utf-8"))
    assert {e["privacy_class"] for e in catalog["datasets"]} <= {"익명정보", "통계"}
    complaints = next(e for e in catalog["datasets"] if e["table_name"] == "civil_complaints")
    assert complaints["disclosure_risk"]["k_reached"] >= 10
    scanned = 0
    for path in zones.open_data.resolve().iterdir():
        if path.suffix == ".png":
            continue
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
            assert not [c for c in frame.columns if c.endswith("_key") or c in ("title", "body")], path
            text = frame.to_csv(index=False)
        else:
            text = path.read_text(encoding="utf-8-sig")
        assert not re.search(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])", text), path
        assert not [s for s in secrets if s and s in text], path
        scanned += 1
    assert scanned >= 2 * len(catalog["datasets"]) + 2


def test_datalab_refuses_and_grants_with_an_audit_trail(published_platform):
    from gn_pipelines.definitions import defs

    zones, instance = published_platform
    job = defs.resolve_job_def("datalab_extract")

    def run(request: dict):
        result = job.execute_in_process(run_config={"ops": {"extract_for_datalab": {"config": request}}},
                                        instance=instance)
        return result.output_for_node("extract_for_datalab")

    refused = {"requester": "연구자", "organisation": "경남연구원", "purpose": "test", "table": "civil_complaints",
               "columns": ["complainant_key"], "group_by": ["complainant_key"], "request_id": "refused-1"}
    granted = {"requester": "연구자", "organisation": "경남연구원", "purpose": "시군별 민원", "table": "civil_complaints",
               "columns": ["sigungu_name", "status"], "group_by": ["sigungu_name", "status"],
               "filters": [{"column": "received_month", "operator": "=", "value": "2025-03"}],
               "request_id": "granted-1"}
    assert run(refused) is False
    assert run(granted) is True
    folder = zones.datalab / "granted-1"
    assert (folder / "extract.csv").is_file() and (folder / "privacy_note.md").is_file()
    extract = duckdb.sql(f"SELECT * FROM read_parquet('{folder / 'extract.parquet'}')").df()
    assert (extract.loc[~extract["suppressed"], "count"] >= 5).all()
    assert not (zones.datalab / "refused-1").exists()
    with duckdb.connect(str(zones.datalab / "audit.duckdb"), read_only=True) as connection:
        audit = dict(connection.execute("SELECT request_id, decision FROM extract_requests").fetchall())
    assert audit == {"refused-1": "refused", "granted-1": "granted"}
    # issue 10 item 9: from the Launchpad, a request without its requester is refused and audited
    assert run({"purpose": "무기명", "table": "civil_complaints", "group_by": ["status"],
                "request_id": "anonymous-1"}) is False
    with duckdb.connect(str(zones.datalab / "audit.duckdb"), read_only=True) as connection:
        reason = connection.execute("SELECT decision, reason FROM extract_requests WHERE request_id = 'anonymous-1'"
                                    ).fetchall()
    assert reason == [("refused", "missing required field(s): requester, organisation")]


def test_expired_extracts_are_destroyed_by_the_nightly_job(published_platform):
    from gn_pipelines.datalab.extract import run_extract
    from gn_pipelines.datalab.request import parse_request
    from gn_pipelines.definitions import defs

    zones, instance = published_platform
    outcome = run_extract(parse_request({
        "requester": "연구자", "organisation": "경남연구원", "purpose": "기간 1일", "table": "civil_complaints_monthly",
        "group_by": ["month"], "period_days": 1, "request_id": "short-1"}), zones)
    assert outcome.granted and outcome.directory.exists()
    schedule = defs.resolve_schedule_def("nightly_datalab_destruction")
    assert schedule.cron_schedule == "30 3 * * *" and schedule.execution_timezone == "Asia/Seoul"
    with pytest.MonkeyPatch.context() as patch:  # the job runs on the day the period ends
        import gn_pipelines.datalab.lifecycle as lifecycle

        patch.setattr(lifecycle, "today_in_seoul", lambda: outcome.expires_on)
        result = defs.resolve_job_def("datalab_destroy_expired").execute_in_process(instance=instance)
    assert result.success and result.output_for_node("destroy_expired_extracts") >= 1
    assert not outcome.directory.exists()


def test_nightly_schedule_is_at_two_in_seoul():
    from gn_pipelines.definitions import defs

    schedule = defs.resolve_schedule_def("nightly_publication")
    assert schedule.cron_schedule == "0 2 * * *" and schedule.execution_timezone == "Asia/Seoul"
    assert schedule.job_name == "publish_all"


def test_a_publication_with_nothing_new_carries_every_table_over(published_platform):
    """Nothing changed since the last release: a new release in one swap, every table and
    export carried over (same fingerprints, the releases it was built in, the same files)."""
    import dagster as dg

    from gn_pipelines.processing import publish_in
    from gn_pipelines.publish.builds import table_builds
    from gn_pipelines.publish.releases import current_release, table_inputs

    zones, instance = published_platform
    before = current_release(zones.root)
    outcome = publish_in(instance, echo=lambda line: None)
    assert outcome.success, outcome.line
    after = current_release(zones.root)
    assert after.id != before.id and after.manifest["tables"] == before.manifest["tables"]
    built = {table for build in table_builds() for table in build.tables}
    assert table_inputs(after) == {t: r for t, r in table_inputs(before).items() if t in built}
    for table in built:
        for suffix in (".parquet", ".csv"):
            old, new = before.open_dir / f"{table}{suffix}", after.open_dir / f"{table}{suffix}"
            assert old.exists() == new.exists(), new
            assert not new.exists() or new.stat().st_ino == old.stat().st_ino, new  # linked, not exported again
    assert (after.open_dir / "nakdong_namji_bod_tp.png").read_bytes()[:4] == b"\x89PNG"
    event = instance.get_latest_materialization_event(dg.AssetKey(["published", "civil_complaints"]))
    assert event.asset_materialization.metadata["carried_over_from"].value
    from gn_pipelines.assets.deidentification import deidentified_asset_key

    released = instance.get_latest_materialization_event(deidentified_asset_key("civil_complaints"))
    assert released.asset_materialization.metadata["reused"].value is True
    # the scorecard's logs did not change: not rewritten, and its published table carried over
    from gn_pipelines.assets.scorecard import SCORECARD_KEY

    scorecard = instance.get_latest_materialization_event(SCORECARD_KEY).asset_materialization.metadata
    assert scorecard["reused"].value is True
    assert table_inputs(after)["provider_scorecard"]["built_in"] != after.id
    # a file rejected since (a new drop-log record): the scorecard is rebuilt and published again
    from gn_pipelines.ingest.drop_log import append_record, drop_log_dir

    append_record(drop_log_dir(zones.restricted), {
        "dataset": "civil_complaints", "provider_code": "48250", "file_name": "2025-03-09.csv",
        "source_file": "landing/48250/civil_complaints/2025-03-09.csv", "content_sha256": "ab" * 32,
        "status": "rejected", "reason": "not a CSV", "delivered_at": "2025-03-10T01:00:00+00:00"})
    assert publish_in(instance, echo=lambda line: None).success
    scorecard = instance.get_latest_materialization_event(SCORECARD_KEY).asset_materialization.metadata
    rebuilt = current_release(zones.root)
    assert scorecard["reused"].value is False and scorecard["files_quarantined"].value >= 1
    assert table_inputs(rebuilt)["provider_scorecard"]["built_in"] == rebuilt.id
