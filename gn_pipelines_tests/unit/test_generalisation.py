"""Generalisation ladders: SQL labels equal their Python twins, sort naturally, and coarsen."""

from datetime import date

import duckdb
import pytest

from gn_pipelines.privacy.generalisation import (
    COARSE_DAY_BANDS, MASK, age_band_label, age_ladder, amount_band_label, amount_ladder,
    area_ladder, date_ladder, days_band_label, days_ladder, household_band_label,
    household_ladder, month_ladder, sex_ladder,
)


def _levels(ladder, table_sql, con=None):
    """Each level's first output for every row of `table_sql`, as lists."""
    con = con or duckdb.connect()
    con.execute(f"CREATE OR REPLACE TABLE t AS {table_sql}")
    return [[r[0] for r in con.execute(f"SELECT {level.sql[0]} FROM t ORDER BY rowid").fetchall()]
            for level in ladder.levels]


def test_age_levels_match_the_python_labels():
    ages = list(range(0, 111))
    levels = _levels(age_ladder(at=date(2025, 6, 1)),
                     "SELECT 2025 - a AS birth_year FROM range(0, 111) r(a)")
    assert levels[0] == [f"{a:03d}" for a in ages]
    assert levels[1] == [age_band_label(a, 5, 85) for a in ages]
    assert levels[2] == [age_band_label(a, 10, 80) for a in ages]
    assert levels[3] == [age_band_label(a, 10, 70) for a in ages]
    assert set(levels[4]) == {MASK}
    assert levels[1][32] == "30-34" and levels[1][90] == "85+" and levels[3][75] == "70+"


def test_age_is_counted_in_the_year_of_a_reference_column():
    levels = _levels(age_ladder(at="reference_month"),
                     "SELECT * FROM (VALUES (1990, '2025-01'), (1990, '2025-12'), (1960, '2030-03')) v(birth_year, reference_month)")
    assert levels[0] == ["035", "035", "070"]


@pytest.mark.parametrize(("width", "top"), [(5, 85), (10, 80), (10, 70)])
def test_age_labels_sort_in_age_order(width, top):
    labels = [age_band_label(a, width, top) for a in range(0, 110)]
    assert sorted(labels) == labels


def test_amount_bands_are_half_open_sortable_and_top_coded():
    amounts = [0, 299_999, 300_000, 765_444, 1_258_451, 2_999_999, 3_000_000, 9_000_000]
    levels = _levels(amount_ladder(), "SELECT unnest([0, 299999, 300000, 765444, 1258451, 2999999, 3000000, 9000000]) AS monthly_amount_krw")
    assert levels[0] == [amount_band_label(a) for a in amounts]
    assert levels[1] == [amount_band_label(a, 1000, 2000) for a in amounts]
    assert levels[0][:3] == ["0000-0300k", "0000-0300k", "0300-0600k"]
    assert levels[0][-1] == "3000k+" and levels[1][-1] == "2000k+"
    fine = [amount_band_label(a) for a in range(0, 4_000_000, 10_000)]
    assert sorted(fine) == fine


def test_household_sizes_band_then_mask():
    levels = _levels(household_ladder(), "SELECT range AS household_size FROM range(1, 21)")
    assert levels[0] == [household_band_label(s, 5) for s in range(1, 21)]
    assert levels[1] == [household_band_label(s, 3) for s in range(1, 21)]
    assert levels[0][:5] == ["1", "2", "3", "4", "5+"] and set(levels[0][4:]) == {"5+"}
    assert set(levels[2]) == {MASK}


def test_dates_coarsen_day_month_quarter_year():
    levels = _levels(date_ladder("received_at"),
                     "SELECT TIMESTAMP '2025-08-14 09:30:00' AS received_at")
    assert [v[0] for v in levels] == ["2025-08-14", "2025-08", "2025-Q3", "2025", MASK]
    assert month_ladder("received_at").levels[0].name == "month"


def test_days_to_completion_bands():
    days = list(range(0, 100))
    levels = _levels(days_ladder(), "SELECT range AS days_to_completion FROM range(0, 100)")
    assert levels[0] == [f"{d:02d}" for d in days]  # exact, between nothing and the bands
    assert levels[1] == [days_band_label(d) for d in days]
    assert levels[2] == [days_band_label(d, COARSE_DAY_BANDS) for d in days]
    assert sorted(set(levels[1])) == ["00", "01-03", "04-07", "08-14", "15-30", "31-60", "61+"]


def test_area_climbs_from_dong_to_province_through_changwon():
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('48121', '용지동'), ('48890', '대병면')) v(sigungu_code, eup_myeon_dong)")
    ladder = area_ladder(changwon_districts=True)
    rows = [con.execute(f"SELECT {', '.join(level.sql)} FROM t ORDER BY rowid").fetchall() for level in ladder.levels]
    assert [level.name for level in ladder.levels] == ["읍면동", "시군구", "시군", "도 (경상남도)"]
    assert rows[0] == [("48121", "용지동"), ("48890", "대병면")]
    assert rows[1] == [("48121", MASK), ("48890", MASK)]
    assert rows[2] == [("48120", MASK), ("48890", MASK)]
    assert rows[3] == [("48000", MASK), ("48000", MASK)]
    assert len(area_ladder().levels) == 3


def test_ladders_can_be_trimmed_and_quote_odd_names():
    assert age_ladder().from_level(1).levels[0].name.startswith("5-year")
    assert len(amount_ladder().until_level(0).levels) == 1
    levels = _levels(sex_ladder('성"별'), 'SELECT \'F\' AS "성""별"')
    assert levels == [["F"], [MASK]]
