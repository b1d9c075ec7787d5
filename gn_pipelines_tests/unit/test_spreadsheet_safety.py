"""Formula-safe spreadsheet exports (OWASP CSV injection): text is neutralised, numbers and
Parquet are not."""

import csv
import io

import duckdb
import pandas as pd
import pytest

from gn_pipelines.publish.open_data import export_open_data
from gn_pipelines.publish.spreadsheet_safety import formula_safe, formula_safe_sql
from gn_pipelines.publish.warehouse import publish

ATTACKS = ["=HYPERLINK(\"http://x\",\"클릭\")", "+SUM(1,2)", "-2+3+cmd|' /C calc'!A0", "@SUM(A1:A2)",
           "\t=1+1", "\r=1+1"]
HARMLESS = ["-12", "+3.5", "-0.25", "1e5", "민원 = 불편", "", "a-b", "'quoted"]


@pytest.mark.parametrize("value", ATTACKS)
def test_formula_triggers_get_a_leading_quote(value):
    assert formula_safe(value) == "'" + value


@pytest.mark.parametrize("value", HARMLESS + [None, -3, 2.5])
def test_numbers_and_plain_text_are_unchanged(value):
    assert formula_safe(value) == value


def test_the_sql_form_agrees_with_the_python_form():
    values = ATTACKS + HARMLESS
    got = duckdb.execute(f"SELECT {formula_safe_sql('v')} FROM unnest(?) AS t(v) ", [values]).fetchall()
    assert [r[0] for r in got] == [formula_safe(v) for v in values]


def test_open_data_csv_is_neutralised_and_parquet_keeps_the_value(tmp_path):
    rows = pd.DataFrame({
        "sigungu_code": ["48740"] * len(ATTACKS), "sigungu_name": ATTACKS, "month": ["2025-03"] * len(ATTACKS),
        "category": ["-5"] * len(ATTACKS), "complaints": [-1] * len(ATTACKS), "completed": [1] * len(ATTACKS),
        "completion_rate": [0.5] * len(ATTACKS), "median_days_to_completion": [1.0] * len(ATTACKS),
        "p90_days_to_completion": [2.0] * len(ATTACKS), "suppressed": [False] * len(ATTACKS),
        "suppression": [None] * len(ATTACKS)})
    db = tmp_path / "warehouse" / "published.duckdb"
    publish(db, {"civil_complaints_monthly": rows})
    result = export_open_data(db, tmp_path / "open")
    text = (result.open_dir / "civil_complaints_monthly.csv").read_bytes().decode("utf-8-sig")
    records = list(csv.DictReader(io.StringIO(text, newline="")))
    assert sorted(r["sigungu_name"] for r in records) == sorted("'" + a for a in ATTACKS)
    assert {r["category"] for r in records} == {"-5"} and {r["complaints"] for r in records} == {"-1"}
    parquet = duckdb.sql(f"SELECT sigungu_name FROM '{result.open_dir / 'civil_complaints_monthly.parquet'}'").fetchall()
    assert sorted(r[0] for r in parquet) == sorted(ATTACKS)
