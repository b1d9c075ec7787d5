"""Great Expectations validates a big batch in parts of whole files (its pandas frame is bounded
by the part, not the batch), and the merged result is the one a single validation gives."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from gn_pipelines.datasets import get_contract
from gn_pipelines.ingest.collect import collect_drop
from gn_pipelines.quality import validate
from gn_pipelines_tests.drops import csv_bytes, sample_rows

pytestmark = pytest.mark.filterwarnings("ignore:This pattern is interpreted as a regular expression")

CONTRACT = get_contract("civil_complaints")
PROVIDER = "48740"


def test_files_are_grouped_whole_in_delivery_order():
    assert validate.gx_parts([("a", 600), ("b", 400), ("c", 1), ("d", 2_000), ("e", 5)], part_rows=1_000) == [
        ["a", "b"], ["c"], ["d"], ["e"]]
    assert validate.gx_parts([], part_rows=10) == []


def _batch(zones, parts_of_rows: int | None, monkeypatch):
    """Three files: a duplicate key in the first, a missing name in the second, a bad code in the
    third, and the first file's keys again in the third (another file: not a duplicate)."""
    files = []
    for i in range(3):
        rows = sample_rows("civil_complaints", 30)
        if i == 0:
            rows[5]["접수번호"] = rows[4]["접수번호"]
        if i == 1:
            rows[7]["민원인성명"] = ""
        if i == 2:
            rows[9]["처리상태"] = "모름"
        name = f"2025-03-0{i + 1}.csv"
        path = zones.scratch / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(csv_bytes(rows))
        collected = collect_drop(path, contract=CONTRACT, provider_code=PROVIDER,
                                 source_file=f"{PROVIDER}/civil_complaints/{name}", content_sha256=f"{i}" * 64,
                                 zones=zones, collected_at=dt.datetime(2025, 3, 4, tzinfo=dt.timezone.utc))
        assert collected.status == "collected", collected.reason
        files.append(validate.BatchMember(PROVIDER, name, collected.rows_rejected))
    if parts_of_rows is not None:
        monkeypatch.setattr(validate, "GX_PART_ROWS", parts_of_rows)
    return validate.validate_batch(CONTRACT, files, zones=zones, today=dt.date(2025, 6, 30), run_id="t",
                                   label="2025-03")


def _gx_figures(batch):
    return {r.rule.name: (r.gx_unexpected_count, r.gx_success, r.gx_error) for r in batch.results}


def _page_statistics(batch) -> list[str]:
    page = batch.report_path.read_text(encoding="utf-8")
    return re.findall(r"(?:Evaluated Expectations|Successful Expectations|Unsuccessful Expectations|"
                      r"Success Percent)\D{0,200}?([0-9.]+%?)", page)


def test_a_batch_in_parts_gives_the_one_validations_result(zones, monkeypatch):
    whole = _batch(zones, None, monkeypatch)
    figures, statistics = _gx_figures(whole), _page_statistics(whole)
    parts = _batch(zones, 30, monkeypatch)  # each file alone
    assert _gx_figures(parts) == figures
    assert _page_statistics(parts) == statistics and statistics
    unexpected = {name: count for name, (count, success, error) in figures.items() if count}
    assert unexpected == {r.rule.name: r.failed_rows for r in whole.results if r.failed_rows}
    assert len(unexpected) == 3, unexpected  # the duplicate, the missing name, the unknown status
    for result in parts.results:  # SQL and GX agree per rule in the merged result
        assert result.gx_unexpected_count == result.failed_rows, result.rule.name


def test_a_validated_part_is_not_kept_alive_by_great_expectations():
    """GX's execution engine, cached with the validation definition, would hold the last frame
    (a part of up to 1M rows) until the next validation."""
    import gc
    import weakref

    import pandas as pd

    from gn_pipelines.contracts.model import QualityRule, RuleKind
    from gn_pipelines.quality.gx_suite import validate_frame

    rule = QualityRule("name_present", RuleKind.NOT_NULL, ("name",), "name must be present")
    frame = pd.DataFrame({"name": ["김", None, "이"]})
    validated = weakref.ref(frame)
    result = validate_frame(frame, (rule,), "kept_alive_test")
    del frame
    gc.collect()
    assert validated() is None
    assert result.statistics["evaluated_expectations"] == 1
