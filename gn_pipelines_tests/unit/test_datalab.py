"""Data-lab extracts over small hand-made published tables: refusals, suppression, files, audit,
the adequacy review of 가명정보 rows, differencing, destruction after the period, the ledger."""

from __future__ import annotations

import random
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from datetime import timedelta

from gn_pipelines.datalab.extract import audit_db, run_extract
from gn_pipelines.datalab.ledger import export_register_csv, register
from gn_pipelines.datalab.lifecycle import ReviewRefused, destroy_expired, review_request
from gn_pipelines.datalab.request import load_request, parse_request
from gn_pipelines.publish.warehouse import publish
from gn_pipelines_tests.seoul_times import UTC_TIME

EXAMPLE = Path(__file__).resolve().parents[2] / "gn_pipelines" / "datalab" / "example_request.yaml"


def complaints(rows: int = 400, seed: int = 5) -> pd.DataFrame:
    rng = random.Random(seed)
    pick = lambda *values: [rng.choice(values) for _ in range(rows)]  # noqa: E731
    return pd.DataFrame({
        "complaint_key": [f"c{i:04d}" for i in range(rows)], "complainant_key": [f"p{i:04d}" for i in range(rows)],
        "received_month": pick("2025-01", "2025-02", "2025-03", "2025-04"), "sigungu_code": ["48740"] * rows,
        "sigungu_name": pick("창녕군", "창녕군", "창원시", "의령군"), "district": pick("남지읍", "창녕읍"),
        "category": pick("환경·위생", "환경·위생", "복지"), "status": pick("처리완료", "처리완료", "처리중", "반려"),
        "days_to_completion": [rng.randint(0, 30) for _ in range(rows)], "age_band": pick("30대", "40대"),
        "sex": pick("남", "여"), "title": ["제목"] * rows, "body": ["내용"] * rows}).assign(
        days_to_completion_band=lambda f: f.days_to_completion.map("{:02d}".format)).assign(
        status=lambda f: f.status.where(f.index % 37 != 3, "이송"))  # a rare fourth status


@pytest.fixture
def published(zones):
    frame = complaints()
    monthly = pd.DataFrame({
        "sigungu_code": ["48740"], "sigungu_name": ["창녕군"], "month": ["2025-03"], "category": ["복지"],
        "complaints": [12], "completed": [9], "completion_rate": [0.75], "median_days_to_completion": [3.0],
        "p90_days_to_completion": [8.0], "suppressed": [False], "suppression": [None]})
    publish(zones.published_db, {"civil_complaints": frame, "civil_complaints_monthly": monthly})
    return zones, frame


def request(**fields):
    return parse_request({"requester": "김분석", "organisation": "경남연구원", "purpose": "시험",
                          "table": "civil_complaints", **fields})


def audit(zones):
    with duckdb.connect(str(audit_db(zones)), read_only=True) as connection:
        return connection.execute(
            "SELECT request_id, decision, reason, rows FROM extract_requests ORDER BY recorded_at").fetchall()


@pytest.mark.parametrize("fields, reason", [
    ({"group_by": ["complainant_key"]}, "complainant_key may not be grouped by"),
    ({"columns": ["body"], "group_by": ["status"]}, "body may not be selected"),
    ({"organisation": None, "group_by": ["status"]}, "missing required field(s): organisation"),
    ({"purpose": "", "table": None}, "missing required field(s): purpose, table"),
    ({}, "missing required field(s): columns (or group_by for counts)"),
    ({"group_by": ["status"], "period_days": 91}, "period_days must be a whole number of days from 1 to 90"),
    ({"group_by": ["status"], "period_days": "30일"}, "period_days must be"),
    ({"group_by": ["status"], "filters": [{"column": "title", "operator": "=", "value": "x"}]},
     "title may not be filtered on"),
    ({"group_by": ["status"], "filters": [{"column": "status", "operator": "like", "value": "%"}]},
     "operator 'like' is not one of"),
    ({"group_by": ["status"], "filters": [["days_to_completion", "between", [3]]]}, "takes a list of two values"),
    ({"group_by": ["status"], "filters": [["days_to_completion", ">", "soon"]]}, "does not fit its column"),
    ({"table": "restricted_complaints", "group_by": ["status"]}, "is not a published table"),
    ({"group_by": ["no_such_column"]}, "has no column no_such_column"),
])
def test_disallowed_requests_are_refused_and_audited(published, fields, reason):
    zones, _ = published
    outcome = run_extract(request(**fields), zones)
    assert not outcome.granted and reason in outcome.reason
    assert audit(zones) == [(outcome.request_id, "refused", outcome.reason, 0)]
    assert not (zones.datalab / outcome.request_id).exists()


def test_a_request_without_requester_is_refused_and_audited(published):
    zones, _ = published
    outcome = run_extract(parse_request({"table": "civil_complaints", "group_by": "status"}), zones)
    assert not outcome.granted and "requester" in outcome.reason
    assert [row[1] for row in audit(zones)] == ["refused"]


def test_grouped_extract_suppresses_small_cells_and_protects_margins(published):
    zones, frame = published
    group_by = ["sigungu_name", "received_month", "status"]
    outcome = run_extract(request(group_by=group_by, filters=[
        {"column": "category", "operator": "=", "value": "환경·위생"},
        {"column": "received_month", "operator": "in", "value": ["2025-01", "2025-02", "2025-03"]}]), zones)
    assert outcome.granted and outcome.suppressed_cells > outcome.secondary_suppressed_cells > 0
    result = pd.read_csv(outcome.directory / "extract.csv", encoding="utf-8-sig", dtype={"received_month": str})
    expected = (frame[(frame.category == "환경·위생") & frame.received_month.isin(["2025-01", "2025-02", "2025-03"])]
                .groupby(group_by).size().rename("true_count").reset_index())
    merged = result.merge(expected, on=group_by, how="outer", validate="one_to_one")
    assert len(merged) == len(result) == outcome.rows
    visible = merged[~merged.suppressed]
    assert (visible["count"] == visible.true_count).all() and (visible["count"] >= 5).all()
    assert merged[merged.true_count < 5].suppressed.all()
    # No margin (total over one group-by column, the others fixed) holds exactly one hidden cell.
    for varying in group_by:
        others = [c for c in group_by if c != varying]
        hidden = merged.groupby(others).suppressed.agg(["sum", "size"])
        assert not ((hidden["sum"] == 1) & (hidden["size"] > 1)).any(), varying
    assert int(merged.suppressed.sum()) == outcome.suppressed_cells
    assert pd.read_parquet(outcome.directory / "extract.parquet").shape == result.shape
    note = (outcome.directory / "privacy_note.md").read_text(encoding="utf-8")
    assert "김분석" in note and f"secondary {outcome.secondary_suppressed_cells}" in note
    assert "- 조건 (filters):\n  - `category = '환경·위생'`" in note  # nested under its heading item
    assert re.search(r"최종 갱신 \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} KST", note) and not UTC_TIME.search(note)
    assert audit(zones) == [(outcome.request_id, "granted", None, outcome.rows)]


def test_counts_and_the_k_check_count_people_where_one_person_makes_many_complaints(zones):
    """Twelve 복지 complaints of two complainants: a cell of 12 complaints but 2 people is hidden
    (the spec's "fewer than 5 people"), and a row extract's classes are measured in people."""
    frame = complaints(rows=400, seed=5)
    frame["complainant_key"] = [f"p{i % 200:04d}" for i in range(len(frame))]  # everyone twice
    repeated = frame.index[:12]
    frame.loc[repeated, ["complainant_key", "category", "received_month"]] = ["p9999", "교통", "2025-05"]
    frame.loc[repeated[6:], "complainant_key"] = "p9998"
    frame.loc[repeated[:3], "complainant_key"] = None  # keyless complaints count as one person
    publish(zones.published_db, {"civil_complaints": frame})

    outcome = run_extract(request(group_by=["received_month", "category"]), zones)
    assert outcome.granted
    result = pd.read_csv(outcome.directory / "extract.csv", encoding="utf-8-sig", dtype={"received_month": str})
    assert list(result.columns) == ["received_month", "category", "count", "suppressed", "suppression"]
    cell = result[(result.received_month == "2025-05") & (result.category == "교통")].iloc[0]
    assert cell.suppressed and cell.suppression == "primary" and pd.isna(cell["count"])

    rows = run_extract(request(columns=["received_month", "category"], request_id="rows-people"), zones)
    assert rows.status == "refused" and rows.evidence["k"]["counts"] == "people"
    assert rows.evidence["k"]["reached"] == 3  # the 2025-05 교통 class: p9999, p9998 and the keyless
    assert "holds 3 people" in rows.reason


def test_record_level_extract_from_an_allowed_table(published):
    zones, _ = published
    outcome = run_extract(request(table="civil_complaints_monthly", columns=["sigungu_name", "complaints"],
                                  filters=[["month", "between", ["2025-01", "2025-12"]]]), zones)
    assert outcome.granted and outcome.rows == 1 and outcome.suppressed_cells == 0
    assert (outcome.directory / "extract.csv").read_bytes() == "\ufeffsigungu_name,complaints\n창녕군,12\n".encode()


def test_the_example_request_runs_and_its_id_is_deterministic(published):
    zones, _ = published
    first, again = load_request(EXAMPLE), load_request(EXAMPLE)
    assert first.request_id == again.request_id and len(first.request_id) == len("20250101-") + 10
    assert run_extract(first, zones).granted and run_extract(again, zones).granted
    assert [row[1] for row in audit(zones)] == ["granted", "granted"]  # every request, appended
    given = run_extract(request(request_id="../../etc", group_by=["status"]), zones)
    assert not given.granted and "not a safe folder name" in given.reason
    taken = run_extract(request(request_id=first.request_id, requester="박연구", group_by=["status"]), zones)
    assert taken.status == "refused" and "is already used by another request (granted)" in taken.reason
    assert (zones.datalab / first.request_id / "request.json").read_text(encoding="utf-8").startswith(
        first.canonical())


def test_empty_combinations_are_shown_suppressed_and_too_many_cells_are_refused(published, monkeypatch):
    zones, frame = published
    group_by = ["received_month", "days_to_completion"]
    outcome = run_extract(request(group_by=group_by), zones)
    result = pd.read_parquet(outcome.directory / "extract.parquet")
    months, days = frame.received_month.nunique(), frame.days_to_completion.nunique()
    assert outcome.granted and len(result) == months * days  # every combination, empty ones too
    present = set(frame.groupby(group_by).size().index)
    empty = result[[(m, d) not in present for m, d in zip(result.received_month, result.days_to_completion)]]
    assert len(empty) and empty.suppressed.all()  # a missing row would have told its count is 0

    from gn_pipelines.datalab import extract

    monkeypatch.setattr(extract, "MAX_GROUPED_CELLS", months * days - 1)
    refused = run_extract(request(group_by=group_by, request_id="too-many"), zones)
    assert not refused.granted and f"{months * days:,} possible cells" in refused.reason
    assert audit(zones)[-1][:2] == ("too-many", "refused")


def test_a_request_missing_every_field_is_refused_and_audited(published):
    zones, _ = published
    outcome = run_extract(parse_request({}), zones)
    assert outcome.status == "refused" and outcome.line.startswith(f"{outcome.request_id}: refused (missing")
    assert "requester, organisation, purpose, table" in outcome.reason
    assert audit(zones) == [(outcome.request_id, "refused", outcome.reason, 0)]


def test_two_requests_differing_by_one_filter_value_are_not_both_granted(published):
    """The issue's pair: `status in` three values, then four; by subtraction, the fourth's cells."""
    zones, frame = published
    group_by = ["sigungu_name", "received_month"]
    three = ["처리완료", "처리중", "반려"]
    first = run_extract(request(group_by=group_by, request_id="three",
                                filters=[["status", "in", three]]), zones)
    assert first.granted
    second = run_extract(request(group_by=group_by, request_id="four",
                                 filters=[["status", "in", [*three, "이송"]]]), zones)
    assert second.status == "refused" and "differencing" in second.reason and "from earlier release three" in second.reason
    assert not (zones.datalab / "four").exists()
    # the evidence names cells whose difference is the count of the fourth value, under 5
    moved = frame[frame.status == "이송"].groupby(group_by).size()
    for example in second.evidence["differencing"]["examples"]:
        assert 0 < example["difference"] == moved[tuple(example["cell"][::-1])] < 5  # cell in sorted column order
    # another requester, or the same one asking something else, is not held to the first release
    other = run_extract(request(group_by=group_by, request_id="other", requester="박연구",
                                filters=[["status", "in", [*three, "이송"]]]), zones)
    assert other.granted


def test_pseudonymised_rows_wait_for_a_review_by_someone_else_then_live_for_their_period(published, tmp_path):
    zones, frame = published
    asked = request(columns=["received_month", "sigungu_name", "category", "status"], request_id="rows-1",
                    period_days=7)
    pending = run_extract(asked, zones)
    assert pending.line == "rows-1: pending review" and not (zones.datalab / "rows-1").exists()
    assert pending.evidence["k"]["reached"] >= 5 and pending.evidence["privacy_class"] == "가명정보"
    assert audit(zones)[-1][:2] == ("rows-1", "pending_review")
    with pytest.raises(ReviewRefused, match="reviewed by someone else"):
        review_request(zones, "rows-1", reviewer=" 김분석 (경남연구원)", approve=True, note="내가 승인")
    assert audit(zones)[-1][:2] == ("rows-1", "pending_review")  # a self-review changes nothing
    granted = review_request(zones, "rows-1", reviewer="이심사", approve=True, note="목적 적합, k=5 확인")
    assert granted.line == "rows-1: granted" and granted.rows == len(frame)
    assert (zones.datalab / "rows-1" / "extract.csv").is_file()
    assert "이심사" in (zones.datalab / "rows-1" / "privacy_note.md").read_text(encoding="utf-8")
    with pytest.raises(ReviewRefused, match="not pending review"):
        review_request(zones, "rows-1", reviewer="최감사", approve=True, note="again")
    with duckdb.connect(str(audit_db(zones)), read_only=True) as connection:
        reviews = connection.execute("SELECT reviewer, verdict FROM adequacy_reviews").fetchall()
    assert reviews == [("이심사", "적정")]

    (entry,) = register(zones)
    assert entry["kind"] == "extract" and entry["reference"] == "rows-1" and entry["reviewer"] == "이심사"
    assert entry["verdict"] == "적정" and entry["recipient"] == "김분석 (경남연구원)" and entry["purpose"] == "시험"
    assert entry["items"] == ("civil_complaints.received_month, civil_complaints.sigungu_name, "
                              "civil_complaints.category, civil_complaints.status")
    assert entry["destruction_due"] == granted.expires_on.isoformat() and entry["destroyed_on"] is None

    assert destroy_expired(zones, granted.expires_on - timedelta(days=1)) == []  # still in its period
    assert (zones.datalab / "rows-1").exists()
    (destroyed,) = destroy_expired(zones, granted.expires_on)
    assert destroyed.request_id == "rows-1" and destroyed.files == 4
    assert not (zones.datalab / "rows-1").exists()
    assert audit(zones)[-1][:2] == ("rows-1", "destroyed")
    assert destroy_expired(zones, granted.expires_on + timedelta(days=30)) == []  # once
    (entry,) = register(zones)
    assert entry["destroyed_on"] == granted.expires_on.isoformat()
    csv_file = tmp_path / "ledger.csv"
    assert export_register_csv(zones, csv_file) == 1
    lines = csv_file.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("기록번호,") and "rows-1" in lines[2] and granted.expires_on.isoformat() in lines[2]


def test_the_extract_and_the_ledger_csv_are_formula_safe(published, tmp_path):
    zones, _ = published
    asked = request(columns=["received_month", "status"], request_id="formula", purpose="=HYPERLINK(\"x\")",
                    filters=[["status", "in", ["처리완료", "=1+1"]]])
    run_extract(asked, zones)
    granted = review_request(zones, "formula", reviewer="@SUM(A1)", approve=True, note="ok")
    assert granted.granted
    export_register_csv(zones, tmp_path / "ledger.csv")
    row = (tmp_path / "ledger.csv").read_text(encoding="utf-8-sig").splitlines()[2]
    assert ",'=HYPERLINK(" in row.replace('"', "") and ",'@SUM(A1)," in row


def test_a_rejected_or_risky_row_request_is_never_extracted(published):
    zones, _ = published
    run_extract(request(columns=["received_month", "status"], request_id="rows-2"), zones)
    rejected = review_request(zones, "rows-2", reviewer="이심사", approve=False, note="목적과 항목이 맞지 않음")
    assert rejected.status == "rejected" and not (zones.datalab / "rows-2").exists()
    assert audit(zones)[-1][:3] == ("rows-2", "rejected", "목적과 항목이 맞지 않음")
    risky = run_extract(request(columns=["received_month", "days_to_completion", "age_band", "sex"],
                                request_id="rows-3"), zones)
    assert risky.status == "refused" and risky.reason.startswith("k-anonymity: the smallest class")
    assert register(zones) == []


def new_release(releases: Path, release_id: str, tables: dict) -> Path:
    """A release directory as the publisher leaves it: its manifest, the tables' row counts."""
    import json

    path = releases / release_id
    path.mkdir(parents=True)
    (path / "release.json").write_text(json.dumps(
        {"completed_at": "2026-12-06T02:00:00+09:00", "tables": tables}), encoding="utf-8")
    return path


def test_every_pseudonymised_release_is_in_the_ledger_until_it_is_pruned(zones):
    from gn_pipelines.datalab.ledger import record_release

    releases = zones.root / "releases"

    def release(release_id: str, tables: dict) -> Path:
        return new_release(releases, release_id, tables)

    record_release(zones, release("r1", {"civil_complaints": 10, "welfare_summary": 4, "welfare_recipients": 3}))
    first = register(zones)
    assert sorted(r["reference"] for r in first) == ["civil_complaints@r1", "welfare_recipients@r1"]
    assert {r["kind"] for r in first} == {"release"} and all(r["period_start"] == "2026-12-06" for r in first)
    assert all(r["verdict"] and r["recipient"] and r["destroyed_on"] is None for r in first)
    (releases / "r1" / "release.json").unlink()
    (releases / "r1").rmdir()  # pruned by the publisher
    record_release(zones, release("r2", {"civil_complaints": 12}))
    rows = {r["reference"]: r for r in register(zones)}
    assert set(rows) == {"civil_complaints@r1", "welfare_recipients@r1", "civil_complaints@r2"}
    assert rows["civil_complaints@r1"]["destroyed_on"] and rows["civil_complaints@r2"]["destroyed_on"] is None
    record_release(zones, release("r3", {}))
    assert len(register(zones)) == 3  # a destruction is recorded once


def test_a_current_release_its_killed_run_left_out_of_the_ledger_is_recorded_once(zones):
    """Killed right after the swap, before its hook: the release was current (analysts read its
    가명정보) and no ledger entry said so; the next process or publication records it, once."""
    from gn_pipelines.datalab.ledger import record_release, record_release_if_missing

    releases = zones.root / "releases"
    record_release(zones, new_release(releases, "r1", {"civil_complaints": 10}))
    assert record_release_if_missing(zones, releases / "r1") == []  # already there: nothing more
    unrecorded = new_release(releases, "r2", {"civil_complaints": 12, "welfare_recipients": 3})
    assert len(record_release_if_missing(zones, unrecorded)) == 2
    assert record_release_if_missing(zones, unrecorded) == []
    assert sorted(r["reference"] for r in register(zones)) == [
        "civil_complaints@r1", "civil_complaints@r2", "welfare_recipients@r2"]
    assert record_release_if_missing(zones, new_release(releases, "r3", {"welfare_summary": 4})) == []  # no 가명정보


def test_the_ledgers_past_months_are_folded_by_a_release_and_read_the_same(zones):
    from gn_pipelines.datalab.ledger import LedgerEntry, append_entry, entries, ledger_dir, record_release
    from gn_pipelines.restricted_views import create_restricted_views

    releases = zones.root / "releases"
    for reference, when in (("civil_complaints@r-pruned", "2025-01-10T02:00:00+09:00"),
                            ("civil_complaints@r-kept", "2025-02-10T02:00:00+09:00")):
        append_entry(zones, LedgerEntry("release", reference, "분석", items=("civil_complaints.title",),
                                        recipient="분석가", recorded_at=when))
    append_entry(zones, LedgerEntry("extract", "req-1", "연구", items=("a", "b"), reviewer="검토자",
                                    recorded_at="2025-01-11T09:00:00+00:00"))  # an earlier version's UTC
    before = entries(zones)
    (releases / "r-kept").mkdir(parents=True)
    record_release(zones, new_release(releases, "r-new", {}))  # folds, then finds r-pruned gone

    folder = ledger_dir(zones)
    assert sorted(p.name for p in folder.glob("*.parquet")) == ["2025-01.parquet", "2025-02.parquet"]
    assert not [p for p in folder.glob("2025*.json")]  # folded: no file of those months left
    after = entries(zones)
    assert after[:3] == before and after[0]["items"] == ["civil_complaints.title"]
    assert [(e["kind"], e["reference"]) for e in after[3:]] == [("destruction", "civil_complaints@r-pruned")]
    record_release(zones, new_release(releases, "r-newer", {}))
    rows = {r["reference"]: r for r in register(zones)}
    assert rows["civil_complaints@r-pruned"]["destroyed_on"] and rows["civil_complaints@r-kept"]["destroyed_on"] is None
    assert len(entries(zones)) == 4  # the folded release's destruction is recorded once
    assert rows["req-1"]["items"] == "a, b" and rows["req-1"]["reviewer"] == "검토자"
    with duckdb.connect() as connection:  # the restricted warehouse's view for an auditor reads both
        assert "processing_ledger" in create_restricted_views(connection, zones)
        assert connection.execute("SELECT count(*), count(DISTINCT entry_id) FROM processing_ledger").fetchone() == (4, 4)
    assert len(entries(zones)) == 4  # the view's seed files add no entry
