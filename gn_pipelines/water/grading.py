"""Cleaned measurements, annual grades by 하천 생활환경기준, and the 남지 target table, in DuckDB.

Input: collected (later validated) water_quality rows: the contract's columns, for every
measure `<m>` also `<m>_below_detection` and `<m>_detection_limit`, plus the lineage columns.

Decisions (the law and the spec are silent on them):
- One row per station × date: the latest collected version wins (collected_at, then file and row).
- Values outside the contract's physical range (e.g. 수온 74 ℃ in the real tributary file) are
  not measurements: they become NULL in the cleaned table and stay out of every mean.
- Below detection: counted at half the detection limit when the limit is known (`<0.1` →
  0.05), the DL/2 substitution of US EPA QA/G-9 (2000) §4.7.1 for low non-detect rates; `ND` or
  `불검출` without a limit is left out of the mean. Both are counted and told in `note`.
- An annual grade needs data in at least 9 calendar months (75 % of the monthly programme of
  the 수질측정망 일반측정망, the 75 % data-capture rule used for annual means e.g. in
  40 CFR 50 App. N): otherwise `enough_samples` is false; the grade is still shown.
- The annual mean is rounded to the reporting precision (standards.REPORTING_DIGITS) before
  it is graded, as the published annual figures are.
- Since 2016 TOC replaced COD as the organic-matter standard: both are graded every year and
  the note says which one is the standard in that year.
"""

from __future__ import annotations

import re

import duckdb
import pandas as pd

from gn_pipelines.contracts.water_quality import CONTRACT
from gn_pipelines.water.standards import (
    GRADED_PARAMETERS, GRADES, REPORTING_DIGITS, ROUNDING_NUDGE, STANDARDS, TARGET_GRADE, criterion,
)

NAMJI_STATION = "2020A10"
MIN_MONTHS_FOR_ANNUAL_GRADE = 9
TOC_STANDARD_SINCE = 2016
MEASURES: tuple[str, ...] = tuple(c.name for c in CONTRACT.columns if c.below_detection)
RANGES: dict[str, tuple[float | None, float | None]] = {
    c.name: (c.min_value, c.max_value) for c in CONTRACT.columns if c.below_detection}
TABLES = ("water_quality_measurements", "water_quality_station_grades", "nakdong_namji_target")


def _in_range(measure: str) -> str:
    low, high = RANGES[measure]
    bounds = [f"{measure} >= {float(low)!r}" if low is not None else None,
              f"{measure} <= {float(high)!r}" if high is not None else None]
    return " AND ".join(b for b in bounds if b) or "true"


def _clean_sql() -> str:
    measures = ",\n  ".join(
        f"CASE WHEN {_in_range(m)} THEN {m} END AS {m}, "
        f"coalesce({m}_below_detection, false) AS {m}_below_detection, {m}_detection_limit"
        for m in MEASURES)
    return f"""
CREATE OR REPLACE TEMP TABLE wq_clean AS
SELECT station_code, station_name, basin, provider_code, measured_on,
  {measures}
FROM wq_source
WHERE station_code IS NOT NULL AND measured_on IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY station_code, measured_on
                           ORDER BY collected_at DESC, source_file DESC, source_row_number DESC) = 1"""


def _measurements_sql() -> str:
    columns = ", ".join([*MEASURES, *(f"{m}_below_detection" for m in MEASURES)])
    return f"""
CREATE OR REPLACE TABLE water_quality_measurements AS
SELECT station_code, station_name, basin, provider_code, measured_on, {columns}
FROM wq_clean ORDER BY station_code, measured_on"""


def _long_sql() -> str:
    parts = "\nUNION ALL ".join(
        f"SELECT station_code, measured_on, '{p}' AS parameter, {p} AS value, "
        f"{p}_below_detection AS below, {p}_detection_limit AS detection_limit FROM wq_clean"
        for p in GRADED_PARAMETERS)
    return f"CREATE OR REPLACE TEMP TABLE wq_long AS\n{parts}"


ANNUAL_SQL = """
CREATE OR REPLACE TEMP TABLE wq_annual AS
WITH used AS (
  SELECT station_code, year(measured_on) AS year, month(measured_on) AS month, parameter, below,
         detection_limit,
         CASE WHEN below THEN detection_limit / 2 ELSE value END AS used_value
  FROM wq_long WHERE value IS NOT NULL OR below
), annual AS (
  SELECT station_code, year, parameter, avg(used_value) AS raw_mean, count(used_value) AS samples,
         count(*) FILTER (WHERE below) AS below_detection_samples,
         count(*) FILTER (WHERE below AND detection_limit IS NOT NULL) AS half_limit_samples,
         count(*) FILTER (WHERE below AND detection_limit IS NULL) AS unknown_limit_samples,
         count(DISTINCT month) FILTER (WHERE used_value IS NOT NULL) AS months
  FROM used GROUP BY ALL
)
SELECT a.*, floor((a.raw_mean + $nudge) * pow(10, d.digits) + 0.5) / pow(10, d.digits) AS annual_mean
FROM annual a JOIN wq_reporting_digits d USING (parameter)"""

GRADED_SQL = """
CREATE OR REPLACE TEMP TABLE wq_graded AS
SELECT a.*, a.months >= $min_months AS enough_samples,
  -- no mean (every value below an unknown detection limit), no grade: VI would match it
  CASE WHEN a.annual_mean IS NOT NULL THEN
    (SELECT arg_min(s.grade, s.rank) FROM wq_standards s
      WHERE s.parameter = a.parameter
        AND (s.lower IS NULL OR a.annual_mean >= s.lower)
        AND (s.upper IS NULL OR a.annual_mean <= s.upper)) END AS grade
FROM wq_annual a"""

STATION_GRADES_SQL = """
CREATE OR REPLACE TABLE water_quality_station_grades AS
WITH names AS (
  SELECT station_code, arg_max(station_name, measured_on) AS station_name FROM wq_clean GROUP BY 1
), parameters AS (
  SELECT station_code, year, parameter, annual_mean, samples, below_detection_samples, grade,
    enough_samples,
    nullif(concat_ws('; ',
      CASE WHEN half_limit_samples > 0 THEN format('{} below-detection value(s) counted at half the detection limit', half_limit_samples) END,
      CASE WHEN unknown_limit_samples > 0 THEN format('{} ND/불검출 value(s) without a limit left out of the mean', unknown_limit_samples) END,
      CASE WHEN NOT enough_samples THEN format('data in {} month(s) only; {} needed for an annual grade', months, $min_months) END,
      CASE WHEN parameter = 'cod_mg_l' AND year >= $toc_since THEN 'TOC is the organic-matter standard since 2016; COD graded for continuity' END,
      CASE WHEN parameter = 'toc_mg_l' AND year < $toc_since THEN 'TOC standard applies from 2016; graded for reference' END
    ), '') AS note
  FROM wq_graded
), overall AS (
  SELECT station_code, year, 'overall' AS parameter, CAST(NULL AS DOUBLE) AS annual_mean,
    least(b.samples, p.samples) AS samples,
    coalesce(b.below_detection_samples, 0) + coalesce(p.below_detection_samples, 0) AS below_detection_samples,
    -- the worse of the two; without both there is no overall grade
    CASE WHEN b.grade IS NULL OR p.grade IS NULL THEN NULL
         WHEN list_position($grades, b.grade) >= list_position($grades, p.grade) THEN b.grade
         ELSE p.grade END AS grade,
    coalesce(b.enough_samples AND p.enough_samples, false) AS enough_samples,
    format('worse of BOD ({}) and T-P ({})', coalesce(b.grade, 'no data'), coalesce(p.grade, 'no data')) AS note
  FROM (SELECT * FROM parameters WHERE parameter = 'bod_mg_l') b
  FULL JOIN (SELECT * FROM parameters WHERE parameter = 'tp_mg_l') p USING (station_code, year)
)
SELECT station_code, n.station_name, year, parameter, annual_mean, samples, below_detection_samples,
       grade, enough_samples, note
FROM (SELECT * FROM parameters UNION ALL BY NAME SELECT * FROM overall) JOIN names n USING (station_code)
ORDER BY station_code, year, list_position($parameters, parameter)"""

NAMJI_TARGET_SQL = """
CREATE OR REPLACE TABLE nakdong_namji_target AS
WITH g AS (SELECT * FROM water_quality_station_grades WHERE station_code = $station),
days AS (
  SELECT year(measured_on) AS year, count(*) AS samples FROM wq_clean
  WHERE station_code = $station
    AND (bod_mg_l IS NOT NULL OR tp_mg_l IS NOT NULL OR bod_mg_l_below_detection OR tp_mg_l_below_detection)
  GROUP BY 1
)
SELECT o.year, b.annual_mean AS bod_mean_mg_l, b.grade AS bod_grade,
  p.annual_mean AS tp_mean_mg_l, p.grade AS tp_grade, o.grade AS overall_grade,
  $target AS target_grade,
  round(b.annual_mean - $bod_limit, 1) AS bod_gap_to_target_mg_l,
  round(p.annual_mean - $tp_limit, 3) AS tp_gap_to_target_mg_l,
  (b.annual_mean <= $bod_limit AND p.annual_mean <= $tp_limit) AS meets_target,
  coalesce(d.samples, 0) AS samples
FROM (SELECT * FROM g WHERE parameter = 'overall') o
LEFT JOIN (SELECT * FROM g WHERE parameter = 'bod_mg_l') b USING (year)
LEFT JOIN (SELECT * FROM g WHERE parameter = 'tp_mg_l') p USING (year)
LEFT JOIN days d USING (year)
ORDER BY o.year"""

MONTHLY_NAMJI_SQL = """
SELECT CAST(date_trunc('month', measured_on) AS DATE) AS month,
  avg(bod_mg_l) AS bod_mg_l, avg(tp_mg_l) AS tp_mg_l, count(*) AS samples,
  count(*) FILTER (WHERE bod_mg_l_below_detection OR tp_mg_l_below_detection) AS below_detection_samples
FROM water_quality_measurements WHERE station_code = $station
GROUP BY 1 ORDER BY 1"""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def _register_source(connection: duckdb.DuckDBPyConnection, source: str) -> None:
    # A Parquet path or glob is read by name; anything else must be a table or view name
    # (identifiers cannot be bound as parameters, so they are checked instead).
    if source.endswith(".parquet") or "*" in source or "/" in source:
        connection.read_parquet(source, union_by_name=True).create_view("wq_source", replace=True)
    elif _IDENTIFIER.fullmatch(source):
        connection.execute(f"CREATE OR REPLACE TEMP VIEW wq_source AS SELECT * FROM {source}")
    else:
        raise ValueError(f"source must be a Parquet path/glob or a table name, not {source!r}")


def _load_standards(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute("CREATE OR REPLACE TEMP TABLE wq_standards "
                       "(parameter VARCHAR, grade VARCHAR, rank INTEGER, lower DOUBLE, upper DOUBLE)")
    connection.executemany("INSERT INTO wq_standards VALUES (?, ?, ?, ?, ?)",
                           [(c.parameter, c.grade, c.rank, c.lower, c.upper) for c in STANDARDS])
    connection.execute("CREATE OR REPLACE TEMP TABLE wq_reporting_digits (parameter VARCHAR, digits INTEGER)")
    connection.executemany("INSERT INTO wq_reporting_digits VALUES (?, ?)", list(REPORTING_DIGITS.items()))


def build_water_tables(connection: duckdb.DuckDBPyConnection, source: str) -> dict[str, int]:
    """Create the three water tables in `connection` from `source` (Parquet glob or table name)."""
    _register_source(connection, source)
    _load_standards(connection)
    connection.execute(_clean_sql())
    connection.execute(_measurements_sql())
    connection.execute(_long_sql())
    connection.execute(ANNUAL_SQL, {"nudge": ROUNDING_NUDGE})
    connection.execute(GRADED_SQL, {"min_months": MIN_MONTHS_FOR_ANNUAL_GRADE})
    connection.execute(STATION_GRADES_SQL, {
        "min_months": MIN_MONTHS_FOR_ANNUAL_GRADE, "toc_since": TOC_STANDARD_SINCE,
        "grades": list(GRADES), "parameters": [*GRADED_PARAMETERS, "overall"]})
    connection.execute(NAMJI_TARGET_SQL, {
        "station": NAMJI_STATION, "target": TARGET_GRADE,
        "bod_limit": criterion("bod_mg_l", TARGET_GRADE).upper,
        "tp_limit": criterion("tp_mg_l", TARGET_GRADE).upper})
    for temp in ("wq_long", "wq_annual", "wq_graded", "wq_clean", "wq_standards", "wq_reporting_digits"):
        connection.execute(f"DROP TABLE IF EXISTS {temp}")
    connection.execute("DROP VIEW IF EXISTS wq_source")
    return {table: connection.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0] for table in TABLES}


def monthly_namji_series(connection: duckdb.DuckDBPyConnection, station: str = NAMJI_STATION) -> pd.DataFrame:
    """남지's monthly mean BOD and T-P (detected values) from water_quality_measurements."""
    return connection.execute(MONTHLY_NAMJI_SQL, {"station": station}).df()
