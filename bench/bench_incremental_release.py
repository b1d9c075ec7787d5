"""Benchmark: what of a k-anonymous release can be reused when one month of drops arrives.

The release is generalised by top-down local recoding within each month (`partition_by`), so
no class spans two months. This measures, on a welfare-like table of twelve months: the whole
release, the same release for the newest month alone, whether that month's rows and classes
come out identical either way (then earlier months' rows can be reused as they are), and how
much the older months' generalisation levels and class counts change when a month is added
(whether levels or counts of a whole-table run could seed the next one).
Run: `.venv/bin/python bench/bench_incremental_release.py [rows]` (docs/publication.md).
"""

from __future__ import annotations

import sys
import time

import duckdb

from bench_anonymity import welfare_like  # run as a script: bench/ is on the path
from gn_pipelines.privacy.anonymity import anonymise
from gn_pipelines.privacy.generalisation import (
    age_ladder, amount_ladder, area_ladder, household_ladder, sex_ladder,
)
from gn_pipelines.privacy.recipes import PUBLISHED_K, PUBLISHED_L

NEWEST = "202512"
OUTPUT = ["reference_month", "sigungu_code", "eup_myeon_dong", "age_band", "household_size_band", "sex",
          "benefit_type", "amount_band", "disability", "person_key"]


def _anonymise(con, source: str, target: str):
    started = time.perf_counter()
    report = anonymise(
        con, source, target,
        quasi_identifiers=[area_ladder(), age_ladder(at="reference_month").from_level(1),
                           household_ladder(), sex_ladder()],
        sensitive=["benefit_type", amount_ladder().until_level(0), "disability"],
        k=PUBLISHED_K, l=PUBLISHED_L, partition_by=["reference_month"], keep=["person_key"])
    return report, time.perf_counter() - started


def _rows(con, table: str, where: str) -> list:
    columns = ", ".join(c for c in OUTPUT if c in {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()})
    return con.execute(f"SELECT {columns} FROM {table} WHERE {where} ORDER BY ALL").fetchall()


def main(rows: int) -> None:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.register("raw", welfare_like(rows))
    con.execute("CREATE TABLE welfare AS SELECT * EXCLUDE (resident_reg_no), md5(resident_reg_no) AS person_key FROM raw")
    con.unregister("raw")
    con.execute(f"CREATE TABLE older AS SELECT * FROM welfare WHERE reference_month <> '{NEWEST}'")
    con.execute(f"CREATE TABLE newest AS SELECT * FROM welfare WHERE reference_month = '{NEWEST}'")

    whole, whole_s = _anonymise(con, "welfare", "whole_out")
    before, before_s = _anonymise(con, "older", "older_out")
    month, month_s = _anonymise(con, "newest", "newest_out")
    print(f"rows {rows:,} in 12 months; k = {PUBLISHED_K}, l = {PUBLISHED_L}")
    print(f"whole release (12 months)            {whole_s:6.2f} s")
    print(f"release of the 11 older months       {before_s:6.2f} s")
    print(f"release of the newest month alone    {month_s:6.2f} s  ({month_s / whole_s:.0%} of the whole)")
    same_new = _rows(con, "whole_out", f"reference_month = '{NEWEST}'") == _rows(con, "newest_out", "true")
    same_old = _rows(con, "whole_out", f"reference_month <> '{NEWEST}'") == _rows(con, "older_out", "true")
    print(f"newest month: same rows alone as in the whole release   {same_new}")
    print(f"older months: same rows without the newest month        {same_old}")
    print(f"records in/out: whole {whole.records_in:,}/{whole.records_out:,}; "
          f"older + newest {before.records_in + month.records_in:,}/{before.records_out + month.records_out:,}")
    print(f"classes: whole {whole.equivalence_classes:,}; older + newest "
          f"{before.equivalence_classes + month.equivalence_classes:,}")
    print(f"area levels: whole {whole.levels['area']}")
    print(f"area levels: older {before.levels['area']} + newest {month.levels['area']}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300_000)
