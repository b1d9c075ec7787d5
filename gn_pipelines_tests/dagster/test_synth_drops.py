"""Seeded synthetic drops with injected defects, through real runs: exact counts come back."""

from datetime import date

import pytest

from gn_pipelines.synth import synthesize_drops

DAY = date(2025, 3, 4)


@pytest.mark.parametrize("dataset", ["civil_complaints", "welfare_recipients", "water_quality"])
@pytest.mark.parametrize("defects", [
    ("bad_rows", "other_sigungu", "cp949"),
    ("bad_rows", "xlsx", "header_variants"),
    ("bad_rows", "utf8_bom", "null_tokens", "thousands"),
])
def test_injected_bad_rows_are_rejected_exactly(zones, process, warehouse, dataset, defects):
    provider = "48000" if dataset == "water_quality" else "48120"
    [file] = synthesize_drops(zones.landing, datasets=[dataset], providers=[provider], start=DAY,
                              end=DAY, seed=7, defects=defects, rows_per_file=120 if dataset != "water_quality" else 2)
    process()
    bad = file.bad_rows + file.other_sigungu_rows
    assert bad > 0
    assert warehouse(f"SELECT count(*) FROM collected_{dataset}") == [(file.rows - bad,)]
    assert warehouse("SELECT count(*) FROM rejected_rows") == [(bad,)]
    # a water drop of two rows with one bad is over the 5 % limit: quarantined whole
    expected = "quarantined" if dataset == "water_quality" else "collected"
    assert warehouse("SELECT status FROM drop_status") == [(expected,)]


@pytest.mark.parametrize("defect", ["missing_headers", "wrong_headers"])
def test_files_without_the_required_headers_are_rejected_whole(zones, process, warehouse, defect):
    files = synthesize_drops(zones.landing, datasets=["civil_complaints"], providers=["48740"],
                             start=DAY, end=DAY, seed=7, defects=[defect])
    lines = process()
    assert any("rejected: required headers missing for civil_complaints" in line for line in lines), lines
    assert warehouse("SELECT count(*) FROM collected_civil_complaints") == [(0,)]
    assert warehouse("SELECT count(*) FROM drop_rejections") == [(len(files),)]


def test_a_file_still_being_written_waits(zones, process, warehouse):
    [file] = synthesize_drops(zones.landing, datasets=["welfare_recipients"], providers=["48890"],
                              start=DAY, end=DAY, seed=7, defects=["partial"])
    assert file.path.name.endswith(".part")
    process()
    assert warehouse("SELECT count(*) FROM drop_log") == [(0,)]
    file.path.rename(file.path.with_suffix(""))
    process()
    assert warehouse("SELECT count(*) FROM collected_welfare_recipients") == [(file.rows,)]
