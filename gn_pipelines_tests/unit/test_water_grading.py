"""Water grading: the real tributary workbook through converter → collect_drop → grading, checked
against an independent calculation straight from the xlsx; below-detection values; the grade
boundaries; the 남지 target table on a small synthetic series."""

from __future__ import annotations

import datetime as dt
import math
import time
from fractions import Fraction

import duckdb
import openpyxl
import pandas as pd
import pytest

from gn_pipelines.datasets import get_contract
from gn_pipelines.ingest.casting import output_column_names
from gn_pipelines.ingest.collect import LINEAGE_COLUMNS, collect_drop
from gn_pipelines.water.grading import build_water_tables, monthly_namji_series
from gn_pipelines.water.tributary import convert_tributary_workbook, tributary_station_code

WORKBOOK = "gyeongnam_tributary_water_quality_1992_2016.xlsx"
CONTRACT = get_contract("water_quality")
COLLECTED_AT = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)

# 하천 생활환경기준 typed again here, on purpose not imported from the code under test.
UPPER = {"bod_mg_l": [1, 2, 3, 5, 8, 10], "cod_mg_l": [2, 4, 5, 7, 9, 11],
         "toc_mg_l": [2, 3, 4, 5, 6, 8], "tp_mg_l": ["0.02", "0.04", "0.1", "0.2", "0.3", "0.5"]}
GRADE_NAMES = ["Ia", "Ib", "II", "III", "IV", "V", "VI"]
SHEETS = {"BOD": "bod_mg_l", "COD": "cod_mg_l", "TOC": "toc_mg_l", "TP": "tp_mg_l",
          "DO": "do_mg_l", "SS": "ss_mg_l", "pH": "ph"}


def expected_grade(parameter: str, mean: Fraction) -> str:
    if parameter in UPPER:
        return next((g for g, limit in zip(GRADE_NAMES, UPPER[parameter]) if mean <= Fraction(str(limit))), "VI")
    if parameter == "ss_mg_l":
        return "Ia" if mean <= 25 else "IV" if mean <= 100 else "V"
    if parameter == "do_mg_l":
        return "Ia" if mean >= Fraction("7.5") else "Ib" if mean >= 5 else "IV" if mean >= 2 else "VI"
    return "Ia" if Fraction("6.5") <= mean <= Fraction("8.5") else "IV" if 6 <= mean <= Fraction("8.5") else "VI"


def half_up(value: Fraction, digits: int) -> Fraction:
    scale = 10 ** digits
    return Fraction(math.floor(value * scale + Fraction(1, 2)), scale)


def independent_grades(xlsx) -> pd.DataFrame:
    """Annual means (exact, from the decimal text), sample counts and grades, with openpyxl."""
    workbook = openpyxl.load_workbook(xlsx, read_only=True, data_only=True)
    records = []
    for sheet, parameter in SHEETS.items():
        rows = list(workbook[sheet].iter_rows(values_only=True))
        stations, year, values = rows[0][2:], None, {}
        for row in rows[1:]:
            year = int(row[0]) if row[0] not in (None, "") else year
            if row[1] in (None, ""):
                continue
            for station, value in zip(stations, row[2:]):
                if isinstance(value, (int, float)):
                    values.setdefault((station, year), []).append(Fraction(str(value)))
        for (station, year_), found in values.items():
            mean = half_up(sum(found) / len(found), 3 if parameter == "tp_mg_l" else 1)
            records.append({"station_name": station, "year": year_, "parameter": parameter,
                            "expected_mean": float(mean), "expected_samples": len(found),
                            "expected_grade": expected_grade(parameter, mean),
                            "expected_enough": len(found) >= 9})
    workbook.close()
    return pd.DataFrame(records)


def collect_all(files, zones, provider="48000", collected_at=COLLECTED_AT) -> None:
    for path in files:
        outcome = collect_drop(path, contract=CONTRACT, provider_code=provider,
                               source_file=f"{provider}/water_quality/{path.name}", content_sha256="0" * 64,
                               zones=zones, collected_at=collected_at)
        assert outcome.status == "collected" and outcome.rows_rejected == 0, outcome.summary


@pytest.fixture(scope="module")
def real_tables(real_data, tmp_path_factory):
    from gn_pipelines.settings import DataZones

    zones = DataZones(tmp_path_factory.mktemp("wq") / "data").ensure()
    started = time.perf_counter()
    files = convert_tributary_workbook(real_data / WORKBOOK, zones.landing)
    converted = time.perf_counter()
    collect_all(files, zones)
    collected = time.perf_counter()
    connection = duckdb.connect()
    counts = build_water_tables(connection, str(zones.restricted / "collected" / "water_quality" / "*" / "*.parquet"))
    graded = time.perf_counter()
    timings = {"convert_s": converted - started, "collect_s": collected - converted, "grade_s": graded - collected}
    print(f"\nreal tributary workbook: {len(files)} drops, {counts}, timings {timings}")
    return connection, counts, timings, files


def test_real_workbook_grades_match_an_independent_calculation(real_tables, real_data):
    connection, counts, _, files = real_tables
    got = connection.execute("SELECT * FROM water_quality_station_grades WHERE parameter <> 'overall'").df()
    expected = independent_grades(real_data / WORKBOOK)
    merged = got.merge(expected, on=["station_name", "year", "parameter"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    assert len(merged) == len(expected) == 9_747
    assert (merged["annual_mean"] - merged["expected_mean"]).abs().max() < 1e-9
    assert (merged["samples"] == merged["expected_samples"]).all()
    mismatched = merged[merged["grade"] != merged["expected_grade"]]
    assert mismatched.empty, mismatched[["station_name", "year", "parameter", "annual_mean", "grade", "expected_grade"]]
    assert (merged["enough_samples"] == merged["expected_enough"]).all()
    assert (merged["below_detection_samples"] == 0).all()
    assert len(files) == 25 and counts["water_quality_measurements"] == 18_359
    assert connection.execute("SELECT count(DISTINCT station_code) FROM water_quality_measurements").fetchall() == [(84,)]


def test_overall_is_the_worse_of_bod_and_tp_and_cod_toc_notes(real_tables):
    connection, *_ = real_tables
    rows = connection.execute("""
        SELECT o.grade, b.grade, p.grade FROM water_quality_station_grades o
        JOIN water_quality_station_grades b ON b.station_code = o.station_code AND b.year = o.year AND b.parameter = 'bod_mg_l'
        JOIN water_quality_station_grades p ON p.station_code = o.station_code AND p.year = o.year AND p.parameter = 'tp_mg_l'
        WHERE o.parameter = 'overall'""").fetchall()
    assert len(rows) > 1000
    assert all(o == max(b, p, key=GRADE_NAMES.index) for o, b, p in rows)
    notes = dict(connection.execute("""
        SELECT parameter || year, any_value(note) FROM water_quality_station_grades
        WHERE (parameter = 'cod_mg_l' AND year = 2016) OR (parameter = 'toc_mg_l' AND year = 2012) GROUP BY 1""").fetchall())
    assert "TOC is the organic-matter standard since 2016" in notes["cod_mg_l2016"]
    assert "TOC standard applies from 2016" in notes["toc_mg_l2012"]


def test_cleaning_drops_impossible_temperatures_and_station_codes_are_stable(real_tables):
    connection, *_ = real_tables
    hottest, = connection.execute("SELECT max(water_temp_c) FROM water_quality_measurements").fetchall()[0]
    assert hottest <= 40  # the workbook holds 74 ℃, outside the contract's −5..40
    code, = connection.execute(
        "SELECT DISTINCT station_code FROM water_quality_measurements WHERE station_name = '가야천'").fetchall()[0]
    assert code == tributary_station_code("가야천") == tributary_station_code(" 가야천")
    day, = connection.execute("SELECT DISTINCT day(measured_on) FROM water_quality_measurements").fetchall()[0]
    assert day == 15


# ---- synthetic cases ---------------------------------------------------------------------

def source_table(connection, rows: list[dict]) -> str:
    """A table shaped like collected water_quality rows, from a few dicts."""
    measures = [c.name for c in CONTRACT.columns if c.below_detection]
    frame = pd.DataFrame(rows)
    for column in [*output_column_names(CONTRACT), *LINEAGE_COLUMNS]:
        if column not in frame:
            frame[column] = False if column.endswith("_below_detection") else None
    frame["provider_code"] = frame["provider_code"].fillna("48740")
    frame["source_file"] = frame["source_file"].fillna("48740/water_quality/namji.csv")
    frame["source_row_number"] = range(2, len(frame) + 2)
    frame["collected_at"] = frame["collected_at"].fillna(COLLECTED_AT)
    types = {m: "DOUBLE" for m in measures} | {f"{m}_detection_limit": "DOUBLE" for m in measures}
    casts = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in types.items())
    connection.register("rows_view", frame)
    connection.execute(f"CREATE OR REPLACE TABLE source AS SELECT * REPLACE ({casts}, "
                       "CAST(measured_on AS DATE) AS measured_on) FROM rows_view")
    connection.unregister("rows_view")
    return "source"


def monthly_rows(station: str, year: int, **values) -> list[dict]:
    return [{"station_code": station, "station_name": station, "measured_on": dt.date(year, month, 10)}
            | {k: (v[month - 1] if isinstance(v, list) else v) for k, v in values.items()}
            for month in range(1, 13)]


def grades(connection) -> dict[tuple[str, str], tuple]:
    return {(s, p): (m, n, b, g, e, note) for s, p, m, n, b, g, e, note in connection.execute(
        "SELECT station_code, parameter, annual_mean, samples, below_detection_samples, grade, "
        "enough_samples, note FROM water_quality_station_grades").fetchall()}


def test_below_detection_values_from_a_real_drop(zones):
    header = ["측정소코드", "측정소명", "측정일자", "BOD", "T-P"]
    bod = ["1.0"] * 8 + ["<0.2", "ND", "불검출", "1.0"]
    lines = [",".join(header)] + [f"T1,시험,2024-{m:02d}-05,{b},0.03" for m, b in zip(range(1, 13), bod)]
    path = zones.scratch / "below.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    collect_all([path], zones)
    connection = duckdb.connect()
    build_water_tables(connection, str(zones.restricted / "collected" / "water_quality" / "*" / "*.parquet"))
    mean, samples, below, grade, enough, note = grades(connection)[("T1", "bod_mg_l")]
    # 9 × 1.0 plus <0.2 counted at 0.1, over 10; ND and 불검출 (no limit) left out
    assert (mean, samples, below, grade, enough) == (0.9, 10, 3, "Ia", True)
    assert "1 below-detection value(s) counted at half the detection limit" in note
    assert "2 ND/불검출 value(s) without a limit left out of the mean" in note
    flags = connection.execute("SELECT bod_mg_l, bod_mg_l_below_detection FROM water_quality_measurements "
                               "WHERE measured_on = '2024-09-05'").fetchall()
    assert flags == [(None, True)]


def test_grade_boundaries_ib_and_ii():
    connection = duckdb.connect()
    rows = (monthly_rows("B20", 2024, bod_mg_l=2.0, tp_mg_l=0.04)
            + monthly_rows("B204", 2024, bod_mg_l=2.04, tp_mg_l=0.0404)
            + monthly_rows("B205", 2024, bod_mg_l=[1.9] * 6 + [2.2] * 6, tp_mg_l=0.0405)
            + monthly_rows("DO", 2024, do_mg_l=[5.0] * 11 + [5.0], ph=8.5)
            + monthly_rows("DO2", 2024, do_mg_l=4.9, ph=8.6, ss_mg_l=25.04)
            + monthly_rows("FEW", 2024, bod_mg_l=[1.0] * 8 + [None] * 4)
            + monthly_rows("B100", 2024, bod_mg_l=10.0, ss_mg_l=250)
            + monthly_rows("B101", 2024, bod_mg_l=10.1, tp_mg_l=0.5))
    build_water_tables(connection, source_table(connection, rows))
    got = grades(connection)
    assert got[("B20", "bod_mg_l")][::3][:2] == (2.0, "Ib") and got[("B20", "tp_mg_l")][3] == "Ib"
    assert got[("B204", "bod_mg_l")][0] == 2.0 and got[("B204", "bod_mg_l")][3] == "Ib"
    assert got[("B204", "tp_mg_l")][0] == 0.04 and got[("B204", "tp_mg_l")][3] == "Ib"
    assert got[("B205", "bod_mg_l")][0] == 2.1 and got[("B205", "bod_mg_l")][3] == "II"  # 2.05 rounds up
    assert got[("B205", "tp_mg_l")][0] == 0.041 and got[("B205", "tp_mg_l")][3] == "II"
    assert got[("B205", "overall")][3] == "II" and got[("B20", "overall")][3] == "Ib"
    assert [got[("DO", p)][3] for p in ("do_mg_l", "ph")] == ["Ib", "Ia"]
    assert [got[("DO2", p)][3] for p in ("do_mg_l", "ph", "ss_mg_l")] == ["IV", "VI", "Ia"]
    assert got[("FEW", "bod_mg_l")][4] is False and "data in 8 month(s) only" in got[("FEW", "bod_mg_l")][5]
    assert [got[(s, "bod_mg_l")][3] for s in ("B100", "B101")] == ["V", "VI"]
    assert got[("B100", "ss_mg_l")][3] == "V" and got[("B101", "tp_mg_l")][3] == "V"  # SS has no VI


def test_no_mean_no_grade_and_no_overall_grade_without_both_parameters():
    connection = duckdb.connect()
    rows = (monthly_rows("ND", 2024, bod_mg_l=1.0, tp_mg_l_below_detection=True)  # T-P all ND, no limit
            + monthly_rows("NOBOD", 2024, tp_mg_l=0.03)
            + monthly_rows("NOTP", 2024, bod_mg_l=1.0))
    build_water_tables(connection, source_table(connection, rows))
    got = grades(connection)
    mean, samples, below, grade, enough, note = got[("ND", "tp_mg_l")]
    assert (mean, samples, below, grade, enough) == (None, 0, 12, None, False)  # not VI
    assert "12 ND/불검출 value(s) without a limit left out of the mean" in note
    assert got[("ND", "overall")][3] is None and "T-P (no data)" in got[("ND", "overall")][5]
    assert got[("NOBOD", "overall")][3] is None and got[("NOTP", "overall")][3] is None


def test_namji_target_table_on_a_synthetic_series():
    connection = duckdb.connect()
    bod_2024 = [1.2, 1.4, 1.6, 1.8, 2.0, 1.6, 1.5, 1.7, 1.6, 1.6, 1.6, 1.6]  # mean 1.6
    tp_2024 = [0.035] * 12
    tp_2025 = [0.040] * 6 + [0.046] * 6  # mean 0.043 → II, as reported for 2025
    rows = (monthly_rows("2020A10", 2024, bod_mg_l=bod_2024, tp_mg_l=tp_2024)
            + monthly_rows("2020A10", 2025, bod_mg_l=1.6, tp_mg_l=tp_2025))
    stale = dict(rows[12], bod_mg_l=9.9, collected_at=COLLECTED_AT - dt.timedelta(days=30))
    source_table(connection, rows + [stale])  # an older version of 2025-01-10 loses to the newer
    build_water_tables(connection, "source")
    table = connection.execute("SELECT * FROM nakdong_namji_target ORDER BY year").df()
    assert list(table.columns) == ["year", "bod_mean_mg_l", "bod_grade", "tp_mean_mg_l", "tp_grade", "overall_grade",
                                   "target_grade", "bod_gap_to_target_mg_l", "tp_gap_to_target_mg_l",
                                   "meets_target", "samples"]
    first, second = table.to_dict("records")
    assert (first["year"], first["bod_mean_mg_l"], first["tp_mean_mg_l"], first["overall_grade"]) == (2024, 1.6, 0.035, "Ib")
    assert (first["bod_gap_to_target_mg_l"], first["tp_gap_to_target_mg_l"], first["meets_target"]) == (-0.4, -0.005, True)
    assert (second["bod_mean_mg_l"], second["tp_mean_mg_l"], second["tp_grade"], second["overall_grade"]) == (1.6, 0.043, "II", "II")
    assert (second["tp_gap_to_target_mg_l"], second["meets_target"], second["target_grade"]) == (0.003, False, "Ib")
    assert first["samples"] == second["samples"] == 12
    monthly = monthly_namji_series(connection)
    assert len(monthly) == 24 and monthly["bod_mg_l"].iloc[12] == 1.6


def test_output_columns_are_exactly_the_contract(zones):
    connection = duckdb.connect()
    build_water_tables(connection, source_table(connection, monthly_rows("X", 2024, bod_mg_l=1.0)))
    measures = [c.name for c in CONTRACT.columns if c.below_detection]
    columns = [r[0] for r in connection.execute("DESCRIBE water_quality_measurements").fetchall()]
    assert columns == ["station_code", "station_name", "basin", "provider_code", "measured_on", *measures,
                       *(f"{m}_below_detection" for m in measures)]
    columns = [r[0] for r in connection.execute("DESCRIBE water_quality_station_grades").fetchall()]
    assert columns == ["station_code", "station_name", "year", "parameter", "annual_mean", "samples",
                       "below_detection_samples", "grade", "enough_samples", "note"]
