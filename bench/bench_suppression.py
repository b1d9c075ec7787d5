"""Benchmark: small-cell suppression of a province-wide welfare_summary, as delivered (only the
cells that hold someone) and completed with its empty cells, each under the linear audit.

The cube is seeded: 18 시군 × 12 months × 7 benefit types × 9 age bands × 3 sexes, recipients
per 시군 and month log-normal around --people, Poisson counts. Prints the time, the cells
suppressed (primary, heuristic and audit complements), the cells the margins give away however
much is suppressed, and the share of non-empty cells that can be published.

Usage: .venv/bin/python bench/bench_suppression.py [--people 1200 7000] [--seed 0]
"""

from __future__ import annotations

import argparse
import itertools
import time

import duckdb
import numpy as np
import pandas as pd

from gn_pipelines.publish.aggregates import aggregate_spec
from gn_pipelines.publish.suppression import suppress_aggregate

WELFARE_SUMMARY = aggregate_spec("welfare_summary")

BENEFIT_SHARES = np.array([0.30, 0.27, 0.28, 0.05, 0.01, 0.01, 0.08])
AGE_SHARES = np.array([0.04, 0.06, 0.05, 0.07, 0.10, 0.16, 0.20, 0.19, 0.13])
SEX_SHARES = np.array([0.46, 0.53, 0.01])  # F, M, unknown


def province_cube(people: int, seed: int) -> pd.DataFrame:
    """The non-empty cells of a year of welfare_summary (the shape the aggregate SQL yields)."""
    rng = np.random.default_rng(seed)
    sigungu = [f"48{c:03d}" for c in range(110, 290, 10)]
    size = rng.lognormal(np.log(people), 0.8, len(sigungu))
    rows = []
    for s, b, a, x in itertools.product(range(len(sigungu)), range(7), range(9), range(3)):
        mean = size[s] * BENEFIT_SHARES[b] * AGE_SHARES[a] * SEX_SHARES[x] * rng.lognormal(0, 0.5)
        for month in range(12):
            count = int(rng.poisson(mean * (1 + 0.01 * month)))
            if count:
                rows.append((sigungu[s], f"2025-{month + 1:02d}", f"B{b}", f"A{a}", "FM*"[x], count))
    frame = pd.DataFrame(rows, columns=[*WELFARE_SUMMARY.dimensions, "recipients"])
    frame["amount_total_krw"] = frame["recipients"] * 500_000
    return frame


def run(frame: pd.DataFrame, complete: bool) -> str:
    connection = duckdb.connect()
    connection.register("cells", frame)
    connection.execute("CREATE TABLE welfare_summary AS SELECT * FROM cells")
    started = time.perf_counter()
    report = suppress_aggregate(connection, "welfare_summary", WELFARE_SUMMARY,
                                complete_within=WELFARE_SUMMARY.complete_within if complete else None)
    seconds = time.perf_counter() - started
    shown = connection.execute("SELECT count(*) FROM welfare_summary WHERE NOT suppressed").fetchone()[0]
    return (f"{'completed' if complete else 'as delivered':12} {seconds:5.1f} s  cells {report.cells:6,} "
            f"(empty {report.empty_cells:6,})  primary {report.primary:6,}  complements "
            f"{report.secondary - report.audit_secondary:6,} + audit {report.audit_secondary:6,}  "
            f"margin-exposed {report.determined_by_margins:5,}  non-empty cells published "
            f"{shown:6,} of {len(frame):6,} = {shown / len(frame):5.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[1200, 7000])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for people in args.people:
        frame = province_cube(people, args.seed)
        print(f"{people:,} recipients per 시군 and month (median): {len(frame):,} non-empty cells, "
              f"{(frame['recipients'] < 5).mean():.0%} of them under 5")
        for complete in (False, True):
            print("  " + run(frame, complete))


if __name__ == "__main__":
    main()
