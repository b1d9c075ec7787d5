"""The publication gate (publish/gate.py) without Dagster: a small cell or a residual identifier
blocks every table of the call and writes nothing; a table whose inputs did not change is
carried over with the verdict it was published on; open data of carried tables is linked."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from gn_pipelines.privacy.recipes import SMALL_CELL_THRESHOLD
from gn_pipelines.publish.gate import carry_over_through_gate, publish_through_gate
from gn_pipelines.publish.releases import (
    carried_over_tables,
    complete_release,
    draft_release,
    table_inputs,
    unchanged_table_inputs,
)

MONTHLY = "civil_complaints_monthly"
SCORECARD = "provider_scorecard"


def monthly(counts: list[int | None], category: str = "분류") -> pd.DataFrame:
    return pd.DataFrame({
        "sigungu_code": "48740", "sigungu_name": "창녕군", "month": "2025-03",
        "category": [f"{category}{i}" for i in range(len(counts))],
        "complaints": pd.array(counts, dtype="Int64"), "completed": pd.array(counts, dtype="Int64"),
        "completion_rate": 1.0, "median_days_to_completion": 3.0, "p90_days_to_completion": 5.0,
        "suppressed": [c is None for c in counts], "suppression": [None if c else "primary" for c in counts]})


def scorecard(rows: int) -> pd.DataFrame:
    return pd.DataFrame({
        "provider_code": ["48740"], "provider_name": ["창녕군"], "dataset": ["civil_complaints"],
        "month": ["2025-03"], "files_on_time": [30], "files_late": [1], "rows_accepted": [rows],
        "rows_quarantined": [3], "files_quarantined": [0], "top_failed_checks": ["접수일시 형식"]})


def _published(root, sql: str):
    with duckdb.connect(str(root / "warehouse" / "published.duckdb"), read_only=True) as connection:
        return connection.execute(sql).df()


def _release(root, run_id: str, sources: dict, fingerprints: dict | None = None):
    draft = draft_release(root, run_id, lambda run: "active")
    outcome = publish_through_gate(root, draft, sources, count_columns={MONTHLY: "complaints"},
                                   fingerprints=fingerprints)
    if outcome.passed:
        complete_release(root, draft)
    return draft, outcome


def test_a_cell_under_the_threshold_blocks_the_whole_call_and_the_current_release_stays(tmp_path):
    draft, outcome = _release(tmp_path, "run-1", {MONTHLY: monthly([7, 9, None, None])})
    assert outcome.passed and outcome.verdicts[MONTHLY].small_cells == 0
    before = _published(tmp_path, f"SELECT * FROM {MONTHLY} ORDER BY category")
    assert before["complaints"].tolist()[:2] == [7, 9]

    small = SMALL_CELL_THRESHOLD - 2
    draft, outcome = _release(tmp_path, "run-2", {MONTHLY: monthly([7, small, 12]), SCORECARD: scorecard(10)})
    assert not outcome.passed and outcome.blocked_reason
    assert outcome.verdicts[MONTHLY].small_cells == 1 and outcome.verdicts[SCORECARD].passed
    assert not draft.published_db.exists()  # the gate wrote nothing into the release being built
    pd.testing.assert_frame_equal(_published(tmp_path, f"SELECT * FROM {MONTHLY} ORDER BY category"), before)


def test_a_visible_cell_of_too_few_people_blocks_and_the_people_column_is_never_published(tmp_path):
    """Twelve complaints of two complainants: enough records, too few people (the spec counts people)."""
    def with_people(people: list[int | None]) -> pd.DataFrame:
        frame = monthly([12, 9, None])
        frame["people"] = pd.array(people, dtype="Int64")
        return frame

    def release(run_id: str, frame: pd.DataFrame):
        draft = draft_release(tmp_path, run_id, lambda run: "active")
        return draft, publish_through_gate(tmp_path, draft, {MONTHLY: frame}, count_columns={MONTHLY: "complaints"},
                                           people_columns={MONTHLY: "people"})

    draft, outcome = release("run-1", with_people([2, 6, None]))
    assert not outcome.passed and outcome.verdicts[MONTHLY].small_cells == 1
    assert not draft.published_db.exists()

    draft, outcome = release("run-2", with_people([5, 6, None]))  # the hidden cell's people are not read
    assert outcome.passed and outcome.verdicts[MONTHLY].small_cells == 0
    complete_release(tmp_path, draft)
    published = _published(tmp_path, f"SELECT * FROM {MONTHLY} ORDER BY category")
    assert "people" not in published.columns and published["complaints"].tolist()[:2] == [12, 9]


def test_a_residual_identifier_in_any_text_column_blocks(tmp_path):
    draft, outcome = _release(tmp_path, "run-1", {MONTHLY: monthly([7, 9], category="연락처 010-2345-6789 ")})
    assert not outcome.passed
    assert outcome.verdicts[MONTHLY].residual_identifiers and outcome.verdicts[MONTHLY].small_cells == 0
    assert not draft.published_db.exists()


def test_unchanged_inputs_are_carried_over_with_their_verdict_and_changed_ones_rebuilt(tmp_path):
    first, _ = _release(tmp_path, "run-1", {MONTHLY: monthly([7, 9]), SCORECARD: scorecard(10)},
                        {MONTHLY: "m-1", SCORECARD: "s-1"})
    assert table_inputs(first)[MONTHLY]["built_in"] == first.id

    second = draft_release(tmp_path, "run-2", lambda run: "active")
    assert unchanged_table_inputs(tmp_path, second, {MONTHLY: "m-2"}) is None  # its inputs changed
    records = unchanged_table_inputs(tmp_path, second, {SCORECARD: "s-1"})
    carried = carry_over_through_gate(tmp_path, second, records)
    assert carried.passed and carried.publication is None and carried.carried_from == first.id
    rebuilt = publish_through_gate(tmp_path, second, {MONTHLY: monthly([8, 9])},
                                   count_columns={MONTHLY: "complaints"}, fingerprints={MONTHLY: "m-2"})
    assert rebuilt.passed and rebuilt.publication.carried_over == (SCORECARD,)
    assert carried_over_tables(tmp_path, second) == {SCORECARD}
    complete_release(tmp_path, second)
    inputs = table_inputs(second)
    assert inputs[SCORECARD]["built_in"] == first.id and inputs[MONTHLY]["built_in"] == second.id
    assert inputs[MONTHLY]["fingerprint"] == "m-2"
    assert _published(tmp_path, f"SELECT complaints FROM {MONTHLY} ORDER BY category")["complaints"].tolist() == [8, 9]

    # a retried run in the same draft finds the tables it already wrote
    third = draft_release(tmp_path, "run-3", lambda run: "active")
    assert unchanged_table_inputs(tmp_path, third, {MONTHLY: "m-2", SCORECARD: "s-1"}) == {
        MONTHLY: inputs[MONTHLY], SCORECARD: inputs[SCORECARD]}


def test_open_data_of_unchanged_tables_is_linked_from_the_base_release(tmp_path):
    from gn_pipelines.publish.open_data import export_open_data

    first, _ = _release(tmp_path, "run-1", {MONTHLY: monthly([7, 9]), SCORECARD: scorecard(10)})
    export_open_data(first.published_db, first.open_dir)
    second, _ = _release(tmp_path, "run-2", {MONTHLY: monthly([8, 9])})
    exported = export_open_data(second.published_db, second.open_dir, reuse_from=first.open_dir,
                                unchanged={SCORECARD})
    for suffix in (".parquet", ".csv"):
        assert (second.open_dir / f"{SCORECARD}{suffix}").stat().st_ino == (first.open_dir / f"{SCORECARD}{suffix}").stat().st_ino
        assert (second.open_dir / f"{MONTHLY}{suffix}").stat().st_ino != (first.open_dir / f"{MONTHLY}{suffix}").stat().st_ino
    entry = next(e for e in exported.catalog if e["table_name"] == SCORECARD)
    assert entry["row_count"] == 1 and entry["downloads"]
    frame = pd.read_parquet(second.open_dir / f"{MONTHLY}.parquet")
    assert frame["complaints"].tolist() == [8, 9]


@pytest.mark.parametrize("threshold", [SMALL_CELL_THRESHOLD])
def test_the_threshold_comes_from_the_recipes(threshold):
    from gn_pipelines.publish import suppression, tables

    assert tables.SMALL_CELL_THRESHOLD is threshold and suppression.DEFAULT_THRESHOLD is threshold


def test_a_fingerprint_follows_content_place_and_declaration(tmp_path):
    from gn_pipelines.fingerprints import inputs_fingerprint

    drop = tmp_path / "zone" / "a.parquet"
    drop.parent.mkdir()
    drop.write_bytes(b"rows")
    first = inputs_fingerprint([drop], relative_to=tmp_path, declaration="t")
    assert inputs_fingerprint([drop], relative_to=tmp_path, declaration="t") == first
    assert inputs_fingerprint([drop], relative_to=tmp_path, declaration="t2") != first
    replacement = tmp_path / "zone" / ".a.tmp"
    replacement.write_bytes(b"rows")
    replacement.replace(drop)  # the same bytes written again (a new file renamed over): no change
    assert inputs_fingerprint([drop], relative_to=tmp_path, declaration="t") == first
    replacement.write_bytes(b"other rows")
    replacement.replace(drop)
    changed = inputs_fingerprint([drop], relative_to=tmp_path, declaration="t")
    assert changed != first
    moved = drop.with_name("b.parquet")
    drop.rename(moved)
    assert inputs_fingerprint([moved], relative_to=tmp_path, declaration="t") != changed
