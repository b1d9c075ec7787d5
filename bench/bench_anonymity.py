"""Benchmark: pseudonymise and anonymise a one-million-row welfare-like table in DuckDB.

Prints time per stage, the report's headline figures and the process's peak RSS.
Run: `.venv/bin/python bench/bench_anonymity.py [rows]`.
"""

from __future__ import annotations

import resource
import sys
import time

import duckdb
import numpy as np
import pyarrow as pa

from gn_pipelines.datasets.welfare_recipients import BENEFIT_TYPES
from gn_pipelines.privacy.anonymity import anonymise
from gn_pipelines.privacy.generalisation import (
    age_ladder, amount_ladder, area_ladder, household_ladder, sex_ladder,
)
from gn_pipelines.privacy.pseudonyms import register_pseudonym_function
from gn_pipelines.reference.legal_dong import build_eup_myeon_dong
from gn_pipelines.synth.welfare_recipients import MONTHLY_RECIPIENTS

MONTHS = [f"2025{m:02d}" for m in range(1, 13)]
SECRET = b"bench-secret-not-a-real-key-000"


def welfare_like(rows: int, seed: int = 1) -> pa.Table:
    """A seeded table with the welfare columns; 시군 sized like the synthetic rolls."""
    rng = np.random.default_rng(seed)
    dongs = build_eup_myeon_dong()
    codes = np.array(list(MONTHLY_RECIPIENTS))
    weights = np.array(list(MONTHLY_RECIPIENTS.values()), dtype=float)
    code = rng.choice(codes, rows, p=weights / weights.sum())
    by_code = {c: dongs.loc[dongs["provider_code"] == c, "eup_myeon_dong"].to_numpy() for c in codes}
    dong = np.empty(rows, dtype=object)
    for c in codes:  # 18 vectorised draws, not a row loop
        mask = code == c
        dong[mask] = rng.choice(by_code[c], mask.sum())
    person = rng.integers(0, rows // 6, rows)
    return pa.table({
        "reference_month": rng.choice(MONTHS, rows),
        "resident_reg_no": np.char.add("RRN", person.astype(str)),
        "sigungu_code": code, "eup_myeon_dong": dong.astype(str),
        "birth_year": rng.integers(1930, 2005, rows),
        "sex": rng.choice(["M", "F"], rows),
        "household_size": rng.choice(np.arange(1, 21), rows, p=np.r_[[0.6, 0.2, 0.1, 0.06, 0.02, 0.01], [0.01 / 14] * 14]),
        "benefit_type": rng.choice(BENEFIT_TYPES, rows, p=[0.35, 0.3, 0.3, 0.05]),
        "monthly_amount_krw": rng.integers(0, 3_500_000, rows),
        "disability": rng.choice(["Y", "N"], rows, p=[0.2, 0.8]),
    })


def timed(label: str, action):
    started = time.perf_counter()
    result = action()
    print(f"{label:<28} {time.perf_counter() - started:6.2f} s")
    return result


def main(rows: int) -> None:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    table = timed(f"generate {rows:,} rows", lambda: welfare_like(rows))
    con.register("raw", table)
    register_pseudonym_function(con, SECRET)
    timed("pseudonymise (HMAC UDF)", lambda: con.execute(
        "CREATE TABLE welfare AS SELECT * EXCLUDE (resident_reg_no), "
        "pseudonym('person_rrn', resident_reg_no) AS person_key FROM raw"))
    con.unregister("raw")
    del table
    report = timed("anonymise (k=5, l=2)", lambda: anonymise(
        con, "welfare", "welfare_out",
        quasi_identifiers=[area_ladder(), age_ladder(at="reference_month").from_level(1),
                           household_ladder(), sex_ladder()],
        sensitive=["benefit_type", amount_ladder().until_level(0), "disability"],
        partition_by=["reference_month"], keep=["person_key"]))
    print(f"records in/out/suppressed    {report.records_in:,} / {report.records_out:,} / "
          f"{report.records_suppressed:,}  (k={report.k_reached}, l={report.l_reached})")
    print(f"area levels                  {report.levels['area']}")
    print(f"peak RSS                     {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
