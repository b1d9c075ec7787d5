"""Benchmark: how many `welfare_summary` cells are published at each age-band width.

The spec fixes the grain (시군 × month × benefit type × age band × sex); the width of the age
band is ours. Synthetic welfare rolls (seeded, the sample's 시군 and every 시군, two months) are
summarised with each candidate band and suppressed as published (< 5, secondary suppression,
the cube completed with empty cells): the figure is the share of cells published.

Usage: .venv/bin/python bench/bench_welfare_summary_grain.py
"""

from __future__ import annotations

from datetime import date

import duckdb
import pyarrow as pa

from gn_pipelines.privacy.generalisation import _band
from gn_pipelines.datasets import welfare_recipients as aggregates  # the summary SQL of its declaration
from gn_pipelines.publish.aggregates import aggregate_spec
from gn_pipelines.publish.suppression import suppress_aggregate
from gn_pipelines.synth.welfare_recipients import (
    MONTHLY_RECIPIENTS, WelfareMonth, listed_in, welfare_chunks, welfare_roll,
)

WELFARE_SUMMARY = aggregate_spec("welfare_summary")

MONTHS = (date(2025, 2, 1), date(2025, 3, 1))
SAMPLE = ("48120", "48740", "48890")
AGE = "(CAST(left(reference_month, 4) AS INTEGER) - birth_year)"
BANDS = {
    "10-year, 80+ (before)": _band(AGE, 10, 80),
    "20-year, 80+": _band(AGE, 20, 80),
    "0-39 / 40-64 / 65-74 / 75+": (f"CASE WHEN {AGE} < 40 THEN '00-39' WHEN {AGE} < 65 THEN '40-64' "
                                   f"WHEN {AGE} < 75 THEN '65-74' ELSE '75+' END"),
    "0-64 / 65+ (노인 기준)": f"CASE WHEN {AGE} < 65 THEN '00-64' ELSE '65+' END",
}


def _drops(providers) -> pa.Table:
    tables = []
    for month in MONTHS:
        for provider in providers:
            rows = MONTHLY_RECIPIENTS[provider]
            listed = len(listed_in(welfare_roll(7, provider, rows), month, rows))
            tables += [pa.table(c) for c in welfare_chunks(WelfareMonth(provider, month, 7, rows), [listed], False)]
    return pa.concat_tables(tables)


def measure(providers, label: str) -> None:
    connection = duckdb.connect()
    connection.register("raw", _drops(providers))
    connection.execute("""CREATE TABLE welfare_drops AS SELECT reference_month, sigungu_code,
        benefit_type, resident_reg_no AS recipient_key, CAST(replace(monthly_amount_krw, ',', '') AS BIGINT) AS monthly_amount_krw,
        CASE WHEN substr(resident_reg_no, 8, 1) IN ('1', '2', '5', '6') THEN 1900 ELSE 2000 END
          + CAST(substr(resident_reg_no, 1, 2) AS INTEGER) AS birth_year,
        CASE WHEN substr(resident_reg_no, 8, 1) IN ('1', '3', '5', '7') THEN 'M' ELSE 'F' END AS sex FROM raw""")
    print(f"\n{label}: {connection.execute('SELECT count(*) FROM welfare_drops').fetchone()[0]:,} recipient-months")
    for name, band in BANDS.items():
        sql = aggregates.WELFARE_SUMMARY_SQL.replace(aggregates._AGE_BAND, band)
        connection.execute(sql)
        report = suppress_aggregate(connection, "welfare_summary", WELFARE_SUMMARY)
        published = report.cells - report.primary - report.secondary
        print(f"  {name:32s} {published:5d} of {report.cells:5d} cells published "
              f"({published / report.cells:.0%}); {report.primary} primary, {report.secondary} secondary")


if __name__ == "__main__":
    measure(SAMPLE, "the sample's 시군 (창원, 창녕, 합천)")
    measure(tuple(MONTHLY_RECIPIENTS), "every 시군")
