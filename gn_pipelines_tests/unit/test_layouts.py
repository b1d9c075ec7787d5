"""Delivery layouts: the 물환경정보시스템 table export read into water_quality's columns.

The real export (Incheon streams) is collected with its stations reported outside the
registry; a seeded year of 경남 stations in the same layout is graded exactly as the same values
delivered one row per station and date; parameters are found by name wherever they stand.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import duckdb
import numpy as np
import pytest

from gn_pipelines.datasets import get_contract
from gn_pipelines.contracts.layouts import unit_in_name
from gn_pipelines.contracts.water_quality import NIER_TABLE_EXPORT
from gn_pipelines.ingest.collect import collect_drop
from gn_pipelines.ingest.headers import read_header_rows
from gn_pipelines.quality.validate import validate_drop
from gn_pipelines.reference.water_stations import water_stations
from gn_pipelines.settings import DataZones
from gn_pipelines.water.grading import build_water_tables

CONTRACT = get_contract("water_quality")
COLLECTED_AT = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc)
REAL_EXPORT = "nier_wq_download_hangang_tributaries_2025_cp949.csv"
IDENTIFYING = ["구분(1)", "구분(2)", "구분(3)", "구분(4)", "위치"]

# Parameter names as 물환경정보시스템 writes them (copied from the real export's second row).
EXPORT_NAMES = {
    "water_temp_c": "수온 (℃ )", "ph": "수소이온농도 (pH )", "do_mg_l": "용존산소 DO (mg/L)",
    "bod_mg_l": "생물화학적산소요구량 BOD (mg/L)", "cod_mg_l": "화학적산소요구량 COD (mg/L)",
    "ss_mg_l": "부유물질 SS (mg/L)", "tn_mg_l": "총질소 T-N (mg/L)", "tp_mg_l": "총인 T-P (mg/L)",
    "toc_mg_l": "총유기탄소 TOC (mg/L)", "total_coliform_100ml": "총대장균군 (총대장균군수/100㎖)",
    "chlorophyll_a_mg_m3": "클로로필a Chlorophyll-a (mg/㎥)",
}
NOT_IN_CONTRACT = ["전기전도도 EC (μS/cm)", "페놀 Phenol (mg/L)", "용존총인 DTP (mg/L)"]
ALWAYS_MEASURED = ("water_temp_c", "ph", "do_mg_l", "bod_mg_l", "tn_mg_l", "tp_mg_l")
TYPICAL = {"water_temp_c": 15, "ph": 7.6, "do_mg_l": 9.5, "bod_mg_l": 1.7, "cod_mg_l": 6.0, "ss_mg_l": 9,
           "tn_mg_l": 2.6, "tp_mg_l": 0.040, "toc_mg_l": 4.0, "total_coliform_100ml": 900,
           "chlorophyll_a_mg_m3": 14}
DECIMALS = {"tn_mg_l": 3, "tp_mg_l": 3, "total_coliform_100ml": 0}
# (구분(1..4)) of registered 경남 stations
GYEONGNAM = [("낙동강", "낙동강", "낙동강하류", "남지"), ("낙동강", "낙동강", "낙동강하류", "물금"),
             ("낙동강", "낙동강", "낙동강중류", "합천창녕보"), ("낙동강", "황강", "황강", "황강1-1")]


def export_bytes(months: list[tuple[str, list[str]]], stations: list[tuple[str, ...]],
                 cells: dict[tuple[int, int], str]) -> bytes:
    """An export as downloaded: CP949, CRLF, row 1 = month over each parameter column, row 2 =
    parameter names; `cells[(station index, column index)]` holds the value text."""
    row1, row2 = list(IDENTIFYING), list(IDENTIFYING)
    for label, names in months:
        row1 += [label] * len(names)
        row2 += names
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([row1, row2])
    width = len(row1) - len(IDENTIFYING)
    for s, names in enumerate(stations):
        writer.writerow([*names, "", *(cells.get((s, c), "") for c in range(width))])
    return out.getvalue().encode("cp949")


def collect(zones: DataZones, payload: bytes, name: str):
    path = zones.scratch / name
    path.write_bytes(payload)
    return collect_drop(path, contract=CONTRACT, provider_code="48000", source_file=f"48000/water_quality/{name}",
                        content_sha256="0" * 64, zones=zones, collected_at=COLLECTED_AT)


def collected(outcome, columns: str) -> list[tuple]:
    return duckdb.sql(f"SELECT {columns} FROM read_parquet('{outcome.collected_path}') ORDER BY ALL").fetchall()


@pytest.mark.parametrize("name, unit", [
    ("수온 (℃ )", "°c"), ("수소이온농도 (pH )", None), ("총인 T-P (mg/L)", "mg/l"),
    ("총대장균군 (총대장균군수/100㎖)", "총대장균군수/100ml"), ("클로로필a Chlorophyll-a (mg/㎥)", "mg/m3"),
    ("총대장균군(총대장균군수/100mL)", "총대장균군수/100ml"), ("BOD", None), ("총인 T-P (㎍/L)", "μg/l"),
])
def test_unit_parsed_from_the_name(name, unit):
    assert unit_in_name(name) == unit


def test_the_layout_is_detected_from_the_header_rows(tmp_path, real_data):
    utf8 = tmp_path / "export.csv"
    utf8.write_text((real_data / REAL_EXPORT).read_bytes().decode("cp949"), encoding="utf-8")
    assert NIER_TABLE_EXPORT.matches(read_header_rows(utf8))
    one_row = [["측정소코드", "측정소명", "측정일자", "BOD"], ["2020A10", "남지", "2025-03-04", "1.2"]]
    assert not NIER_TABLE_EXPORT.matches(one_row)
    assert not NIER_TABLE_EXPORT.matches([IDENTIFYING + ["2025.03"], IDENTIFYING + ["BOD"]][:1])


def test_the_real_export_is_collected_and_its_stations_reported_outside_the_registry(zones, real_data):
    outcome = collect(zones, (real_data / REAL_EXPORT).read_bytes(), REAL_EXPORT)
    assert (outcome.status, outcome.layout, outcome.encoding) == ("collected", "nier_table_export", "cp949")
    assert (outcome.rows_read, outcome.rows_accepted, outcome.rows_rejected) == (6, 6, 0)
    rows = collected(outcome, "station_name, basin, measured_on, water_temp_c, ph, do_mg_l, bod_mg_l, cod_mg_l, "
                              "ss_mg_l, tn_mg_l, tp_mg_l, toc_mg_l, total_coliform_100ml, chlorophyll_a_mg_m3, "
                              "source_row_number")
    # the values of the file's third line (공촌천), month by month, typed by hand from the file
    assert rows[:3] == [
        ("공촌천", "한강", dt.date(2025, 3, 15), 8.2, 8.1, 12.7, 2.5, 3.2, 4.6, 4.819, 0.097, 1.4, 13000, 3.2, 3),
        ("공촌천", "한강", dt.date(2025, 4, 15), 14.1, 8.5, 12.1, 2.6, 4.3, 7.0, 3.616, 0.196, 2.3, 2200, 11.2, 4),
        ("공촌천", "한강", dt.date(2025, 5, 15), 20.2, 8.5, 11.0, 3.2, 5.8, 17.0, 4.099, 0.128, 2.2, 1700, 23.8, 5)]
    assert rows[5] == ("장수천1", "한강", dt.date(2025, 5, 15), 19.9, 7.5, 8.9, 5.2, 6.2, 23.4, 2.598, 0.137, 2.6,
                       180, 8.9, 8)
    codes = {name: code for name, code in collected(outcome, "DISTINCT station_name, station_code")}
    assert all(code.startswith("NM-") and len(code) == 11 for code in codes.values())
    [warning] = outcome.warnings
    assert warning.startswith("2 station(s) outside the province's station registry")
    assert f"한강/한강서해/한강서해/공촌천 → {codes['공촌천']}" in warning
    # parameters outside the contract are reported once each, not silently dropped
    assert "전기전도도 EC (μS/cm)" in outcome.unknown_columns and "안티몬 (mg/L)" in outcome.unknown_columns
    assert len(outcome.unknown_columns) == len(set(outcome.unknown_columns)) == 16
    # the same file again gives the same name keys (they come from the names only)
    again = collect(DataZones(zones.root.parent / "again").ensure(), (real_data / REAL_EXPORT).read_bytes(), "b.csv")
    assert dict(collected(again, "DISTINCT station_name, station_code")) == codes


def test_parameters_are_found_by_name_wherever_they_stand(zones):
    bod, tp = EXPORT_NAMES["bod_mg_l"], EXPORT_NAMES["tp_mg_l"]
    months = [("2025.01", [bod, NOT_IN_CONTRACT[0], tp]), ("2025.02", [tp, bod])]
    cells = {(0, 0): "1.5", (0, 1): "300", (0, 2): "0.041", (0, 3): "0.052", (0, 4): "2.5"}
    outcome = collect(zones, export_bytes(months, [GYEONGNAM[0]], cells), "order.csv")
    assert collected(outcome, "station_code, measured_on, bod_mg_l, tp_mg_l") == [
        ("2020A10", dt.date(2025, 1, 15), 1.5, 0.041), ("2020A10", dt.date(2025, 2, 15), 2.5, 0.052)]
    assert outcome.warnings == [] and outcome.unknown_columns == [NOT_IN_CONTRACT[0]]


def test_the_export_saved_as_xlsx_with_merged_month_cells_is_read(zones):
    import io

    from openpyxl import Workbook

    bod, tp = EXPORT_NAMES["bod_mg_l"], EXPORT_NAMES["tp_mg_l"]
    months = [("2025.01", [bod, tp]), ("2025.02", [bod, tp])]
    cells = {(0, 0): "1.5", (0, 1): "0.041", (0, 2): "2.5", (0, 3): "0.052"}
    rows = list(csv.reader(io.StringIO(export_bytes(months, [GYEONGNAM[0]], cells).decode("cp949"))))
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for first in (6, 8):  # each month over its two parameters, as one merged cell
        sheet.merge_cells(start_row=1, start_column=first, end_row=1, end_column=first + 1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    outcome = collect(zones, buffer.getvalue(), "merged.xlsx")
    assert outcome.status == "collected", outcome.reason
    assert collected(outcome, "measured_on, bod_mg_l, tp_mg_l") == [
        (dt.date(2025, 1, 15), 1.5, 0.041), (dt.date(2025, 2, 15), 2.5, 0.052)]


def test_a_month_written_as_missing_values_gives_no_row(zones):
    # a re-export with a month's cells written `-` or `NULL` gave rows of no value, and the
    # newest version of a station-day replaced the values delivered before
    bod, tp = EXPORT_NAMES["bod_mg_l"], EXPORT_NAMES["tp_mg_l"]
    months = [("2025.01", [bod, tp]), ("2025.02", [bod, tp]), ("2025.03", [bod, tp])]
    cells = {(0, 0): "1.5", (0, 1): "0.041", (0, 2): "-", (0, 3): "-", (0, 4): "NULL", (0, 5): " "}
    outcome = collect(zones, export_bytes(months, [GYEONGNAM[0]], cells), "dash.csv")
    assert collected(outcome, "measured_on, bod_mg_l, tp_mg_l") == [(dt.date(2025, 1, 15), 1.5, 0.041)]
    assert (outcome.rows_accepted, outcome.rows_rejected) == (1, 0)


def test_a_column_in_another_unit_is_left_out_and_said(zones):
    months = [("2025.01", [EXPORT_NAMES["bod_mg_l"], "총인 T-P (㎍/L)"])]
    outcome = collect(zones, export_bytes(months, [GYEONGNAM[0]], {(0, 0): "1.5", (0, 1): "41"}), "unit.csv")
    assert collected(outcome, "bod_mg_l, tp_mg_l") == [(1.5, None)]
    assert outcome.warnings == ["'총인 T-P (㎍/L)': unit μg/l is not 총인(T-P)(mg/L)'s mg/l; column left out"]


@pytest.mark.parametrize("months, reason", [
    ([("2025.01", [EXPORT_NAMES["bod_mg_l"], "BOD (mg/L)"])], "ambiguous headers"),
    ([("2025.13", [EXPORT_NAMES["bod_mg_l"]])], "'2025.13' is not a month"),
    ([("2025.01", NOT_IN_CONTRACT)], "no column of the 물환경정보시스템 table export holds a parameter"),
])
def test_a_file_in_the_layout_that_cannot_be_read_is_rejected_whole(zones, months, reason):
    outcome = collect(zones, export_bytes(months, [GYEONGNAM[0]], {(0, 0): "1.0"}), "bad.csv")
    assert outcome.status == "rejected" and reason in outcome.reason
    assert outcome.reason.startswith("read as the 물환경정보시스템 table export")


def test_a_misshapen_line_is_rejected_row_by_row(zones):
    months = [("2025.01", [EXPORT_NAMES["bod_mg_l"], EXPORT_NAMES["tp_mg_l"]])]
    text = export_bytes(months, GYEONGNAM[:2], {(0, 0): "1.0", (0, 1): "0.03", (1, 0): "2.0", (1, 1): "0.05"})
    lines = text.decode("cp949").split("\r\n")
    lines[3] = lines[3].rsplit(",", 1)[0]  # 물금's line lost its last field
    outcome = collect(zones, "\r\n".join(lines).encode("cp949"), "short.csv")
    assert (outcome.rows_accepted, outcome.rows_rejected) == (1, 1)
    assert outcome.rejections_by_reason == {"too_few_fields": 1}
    [(values, reason)] = duckdb.sql(f"SELECT raw_values, reason FROM '{outcome.rejected_rows_path}'").fetchall()
    assert "fewer fields than the header's 7" in reason
    assert '"측정소명":"물금"' in values and '"원본 위치 (line, period)":"line 4, 2025.01"' in values


def gyeongnam_year(seed: int = 20250) -> tuple[list[tuple[str, list[str]]], dict[tuple[int, int], str], list[dict]]:
    """A year of 경남 stations in the export layout (parameter sets and their order changing by
    month, values below detection, empty cells, a month not measured at one station), and the
    same values as rows of the drop spec's one-header table."""
    rng = np.random.default_rng(seed)
    codes = dict(zip(water_stations()["station_name"], water_stations()["station_code"]))
    optional = [p for p in EXPORT_NAMES if p not in ALWAYS_MEASURED]
    months, cells, rows, column = [], {}, [], 0
    for month in range(1, 13):
        measured = [*ALWAYS_MEASURED, *(p for p in optional if rng.random() < 0.6)]
        names = [EXPORT_NAMES[p] for p in measured] + [n for n in NOT_IN_CONTRACT if rng.random() < 0.5]
        order = rng.permutation(len(names))
        names = [names[i] for i in order]
        months.append((f"2025.{month:02d}", names))
        for s, station in enumerate(GYEONGNAM):
            row = {c.header: "" for c in CONTRACT.columns}
            row.update({"측정소코드": codes[station[3]], "측정소명": station[3], "수계": station[0],
                        "측정일자": f"2025-{month:02d}-15"})
            for offset, name in enumerate(names):
                parameter = next((p for p, n in EXPORT_NAMES.items() if n == name), None)
                value = TYPICAL.get(parameter, 300) * rng.lognormal(0, 0.25)
                text = f"{value:.{DECIMALS.get(parameter, 1)}f}"
                draw = rng.random()
                if parameter in ("tp_mg_l", "chlorophyll_a_mg_m3") and draw < 0.06:
                    text = "<0.005" if parameter == "tp_mg_l" else "ND"
                elif draw > 0.96:
                    text = ""
                if station[3] == "황강1-1" and month == 8:
                    text = ""  # not measured that month (the monsoon)
                cells[(s, column + offset)] = text
                if parameter:
                    row[CONTRACT.column(parameter).header] = text
            if any(row[CONTRACT.column(p).header] for p in EXPORT_NAMES):
                rows.append(row)
        column += len(names)
    return months, cells, rows


def per_row_bytes(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[c.header for c in CONTRACT.columns], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def validated_and_graded(zones: DataZones, outcome) -> dict[str, list[tuple]]:
    """The drop validated as the ingest job does, then graded as publication does."""
    validation = validate_drop(CONTRACT, provider_code="48000", file_name=outcome.source_file.rsplit("/", 1)[1],
                               zones=zones, today=dt.date(2026, 1, 5))
    assert (validation.rows_passed, validation.rows_quarantined) == (outcome.rows_accepted, 0)
    connection = duckdb.connect()
    build_water_tables(connection, str(validation.validated_path))
    return {table: connection.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
            for table in ("water_quality_measurements", "water_quality_station_grades", "nakdong_namji_target")}


def test_a_year_of_gyeongnam_stations_in_the_export_is_graded_as_the_same_rows_delivered_one_by_one(tmp_path):
    months, cells, rows = gyeongnam_year()
    assert len({len(names) for _, names in months}) > 3  # the parameter set changes month to month
    export_zones, rows_zones = (DataZones(tmp_path / name).ensure() for name in ("export", "rows"))
    export = collect(export_zones, export_bytes(months, GYEONGNAM, cells), "물환경정보시스템_2025.csv")
    per_row = collect(rows_zones, per_row_bytes(rows), "2025.csv")
    assert export.layout == "nier_table_export" and per_row.layout is None
    assert (export.rows_accepted, export.rows_rejected) == (per_row.rows_accepted, 0) == (47, 0)
    assert export.warnings == []  # every station is in the registry
    from_export = validated_and_graded(export_zones, export)
    from_rows = validated_and_graded(rows_zones, per_row)
    assert from_export == from_rows
    # and the grades say something: 남지 graded every year-parameter, a sparse one flagged
    grades = {(s, p): (g, enough) for s, _, _, p, _, _, _, g, enough, _ in from_export["water_quality_station_grades"]}
    assert grades[("2020A10", "overall")][0] is not None and grades[("2020A10", "bod_mg_l")][1] is True
    assert any(enough is False for (_, parameter), (_, enough) in grades.items() if parameter == "toc_mg_l")
    assert [row[0] for row in from_export["nakdong_namji_target"]] == [2025]
