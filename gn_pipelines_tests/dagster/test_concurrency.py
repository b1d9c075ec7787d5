"""Drops from several providers collected by parallel runs: no DuckDB lock error, exact counts."""

import pytest

from gn_pipelines.processing import process_landing
from gn_pipelines_tests.drops import csv_bytes, drop, sample_rows

PROVIDERS = ["48120", "48170", "48250", "48740", "48890"]


@pytest.mark.timeout(180)
def test_parallel_runs_from_several_providers(zones, instance, warehouse):
    expected = {}
    for index, provider in enumerate(PROVIDERS):
        rows = sample_rows("civil_complaints", 200 + index, 시군구코드=provider)
        rows[7]["시군구코드"] = "48000"  # one row of another provider in each file
        drop(zones.landing, f"{provider}/civil_complaints/2025-03-01.csv", csv_bytes(rows, "cp949"))
        welfare = sample_rows("welfare_recipients", 50 + index, 시군구코드=provider)
        drop(zones.landing, f"{provider}/welfare_recipients/2025-03.csv", csv_bytes(welfare))
        expected[provider] = (199 + index, 50 + index)

    lines: list[str] = []
    outcomes = process_landing(instance, workers=3, echo=lines.append)

    # the warehouse set-up, every drop (one outcome each, from two batch runs), then one publication
    assert len(outcomes) == 1 + 2 * len(PROVIDERS) + 1
    assert outcomes[-1].label == "publish_all"
    assert all(o.success for o in outcomes), lines
    assert not any("lock" in line.lower() for line in lines)
    complaints = dict(warehouse("SELECT provider_code, count(*) FROM collected_civil_complaints GROUP BY 1"))
    welfare = dict(warehouse("SELECT provider_code, count(*) FROM collected_welfare_recipients GROUP BY 1"))
    assert {p: (complaints[p], welfare[p]) for p in PROVIDERS} == expected
    assert warehouse("SELECT count(*) FROM rejected_rows") == [(len(PROVIDERS),)]
    # one batch run per dataset and month, both in the instance, and they really overlapped in time
    records = [r for r in instance.get_run_records() if "gn/batch" in r.dagster_run.tags]
    assert sorted(r.dagster_run.tags["gn/batch"] for r in records) == [
        "civil_complaints 2025-03", "welfare_recipients 2025-03"]
    assert all(r.dagster_run.tags["gn/files"] == str(len(PROVIDERS)) for r in records)
    spans = sorted((r.start_time, r.end_time) for r in records)
    assert any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:]))
