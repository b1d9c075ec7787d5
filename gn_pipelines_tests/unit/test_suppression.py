"""Small-cell suppression: no published cell under 5, and no suppressed cell recoverable from
the margin equations (checked by linear algebra, not by the heuristic's own rule)."""

from __future__ import annotations

import itertools
import random

import duckdb
import numpy as np
import pandas as pd
import pytest

from gn_pipelines.publish.suppression import (
    CIVIL_COMPLAINTS_MONTHLY, WELFARE_SUMMARY, default_margin_groups, suppress_aggregate, suppress_small_cells,
)

TOTAL = "계"


def load(connection, name: str, frame: pd.DataFrame) -> None:
    connection.register("frame_view", frame)
    connection.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM frame_view")
    connection.unregister("frame_view")


def margin_equations(cells: pd.DataFrame, dims, groups, total_marker=None) -> list[dict[int, int]]:
    """Each known total as {cell index: coefficient}. Without total rows a group's sum is known;
    with total rows, total − Σ details = 0 along every dimension. A total over a single cell is
    left out: if it is public, the cell was public already and suppressing it hides nothing."""
    equations = []
    if total_marker is None:
        for group in groups:
            keys = cells[list(group)].astype(str).agg("|".join, axis=1) if group else pd.Series("", cells.index)
            for _, members in cells.groupby(keys):
                if len(members) > 1:
                    equations.append({i: 1 for i in members.index})
        return equations
    for along in dims:
        rest = [d for d in dims if d != along]
        for _, members in cells.groupby(rest):
            equations.append({i: (-1 if v == total_marker else 1) for i, v in members[along].items()})
    return equations


def recoverable(cells: pd.DataFrame, equations) -> list[int]:
    """Suppressed cells that the equations pin down: e_j lies in the row space over the unknowns."""
    unknown = list(cells.index[cells["suppressed"]])
    if not unknown:
        return []
    position = {cell: k for k, cell in enumerate(unknown)}
    rows = [[eq.get(cell, 0) for cell in unknown] for eq in equations if any(c in position for c in eq)]
    matrix = np.array(rows, dtype=float).reshape(-1, len(unknown))
    rank = np.linalg.matrix_rank(matrix) if len(rows) else 0
    return [cell for cell in unknown
            if np.linalg.matrix_rank(np.vstack([matrix, np.eye(len(unknown))[position[cell]]])) == rank]


def assert_protected(connection, table, count, dims, groups, threshold=5, total_marker=None):
    cells = connection.execute(f"SELECT * FROM {table}").df()
    published = cells[~cells["suppressed"]]
    assert (published[count] >= threshold).all(), "a published cell is under the threshold"
    assert cells.loc[cells["suppressed"], count].isna().all()
    assert set(cells["suppression"].dropna()) <= {"primary", "secondary"}
    assert (cells["suppression"].notna() == cells["suppressed"]).all()
    assert recoverable(cells, margin_equations(cells, dims, groups, total_marker)) == []
    return cells


def test_one_small_cell_needs_a_rectangle_of_four():
    connection = duckdb.connect()
    grid = {("A", "x"): 2, ("A", "y"): 10, ("A", "z"): 20, ("B", "x"): 12, ("B", "y"): 30,
            ("B", "z"): 7, ("C", "x"): 9, ("C", "y"): 8, ("C", "z"): 40}
    load(connection, "t", pd.DataFrame([{"r": r, "c": c, "n": n, "amount": n * 1000}
                                        for (r, c), n in grid.items()]))
    report = suppress_small_cells(connection, "t", count_column="n", value_columns=["amount"],
                                  dimensions=["r", "c"])
    cells = assert_protected(connection, "t", "n", ["r", "c"], default_margin_groups(["r", "c"]))
    marked = {(r, c): s for r, c, s in cells[["r", "c", "suppression"]].itertuples(index=False) if isinstance(s, str)}
    assert marked == {("A", "x"): "primary", ("A", "y"): "secondary",
                      ("C", "x"): "secondary", ("C", "y"): "secondary"}
    assert cells.loc[cells["suppressed"], "amount"].isna().all()
    assert (report.primary, report.secondary, report.cells) == (1, 3, 9)


def test_the_recovery_check_would_catch_primary_suppression_alone():
    # guards the audit itself: one suppressed cell in a row with a known total is recovered
    cells = pd.DataFrame({"r": ["A", "A"], "c": ["x", "y"], "n": [None, 9.0], "suppressed": [True, False]})
    assert recoverable(cells, margin_equations(cells, ["r", "c"], [("r",)])) == [0]


def test_published_total_rows_take_part_in_the_reasoning():
    connection = duckdb.connect()
    detail = {("A", "x"): 3, ("A", "y"): 11, ("A", "z"): 25, ("B", "x"): 14, ("B", "y"): 6, ("B", "z"): 19}
    rows = [{"r": r, "c": c, "n": n} for (r, c), n in detail.items()]
    for r in "AB":
        rows.append({"r": r, "c": TOTAL, "n": sum(n for (rr, _), n in detail.items() if rr == r)})
    for c in "xyz":
        rows.append({"r": TOTAL, "c": c, "n": sum(n for (_, cc), n in detail.items() if cc == c)})
    rows.append({"r": TOTAL, "c": TOTAL, "n": sum(detail.values())})
    load(connection, "t", pd.DataFrame(rows))
    report = suppress_small_cells(connection, "t", count_column="n", value_columns=[], dimensions=["r", "c"])
    assert_protected(connection, "t", "n", ["r", "c"], default_margin_groups(["r", "c"]), total_marker=TOTAL)
    assert report.secondary >= 3 and report.unprotected_singletons == 0


def welfare_like(seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    levels = {"sigungu_code": ["48720", "48740", "48890"], "reference_month": ["2025-01", "2025-02"],
              "benefit_type": ["생계급여", "의료급여"], "age_band": ["20-39", "40-64", "65+"], "sex": ["F", "M"]}
    rows = []
    for combo in itertools.product(*levels.values()):
        n = rng.choice([1, 2, 3, 4, 6, 8, 12, 20, 35])
        rows.append(dict(zip(levels, combo)) | {"recipients": n, "amount_total_krw": n * rng.randint(300, 900) * 1000})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_welfare_summary_cube_is_protected_along_every_margin(seed):
    connection = duckdb.connect()
    load(connection, "welfare_summary", welfare_like(seed))
    report = suppress_aggregate(connection, "welfare_summary", WELFARE_SUMMARY)
    dims = list(WELFARE_SUMMARY.dimensions)
    cells = assert_protected(connection, "welfare_summary", "recipients", dims, default_margin_groups(dims))
    assert report.primary == int((welfare_like(seed)["recipients"] < 5).sum())
    assert report.secondary > 0 and len(cells) == 72  # every row is kept
    assert cells.loc[cells["suppressed"], "amount_total_krw"].isna().all()


def test_a_published_coarser_total_is_a_margin_too():
    connection = duckdb.connect()
    frame = pd.DataFrame({"sigungu_code": ["48720"] * 3 + ["48740"] * 3, "month": ["2025-01"] * 6,
                          "category": ["복지", "기타", "환경·위생"] * 2,
                          "complaints": [3, 40, 50, 30, 20, 10], "completed": [3, 30, 40, 25, 15, 9],
                          "completion_rate": [1.0, 0.75, 0.8, 0.83, 0.75, 0.9],
                          "median_days_to_completion": [2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
                          "p90_days_to_completion": [5.0, 8.0, 9.0, 9.0, 9.0, 9.0]})
    load(connection, "civil_complaints_monthly", frame)
    dims = list(CIVIL_COMPLAINTS_MONTHLY.dimensions)
    groups = default_margin_groups(dims) + [("month",)]  # a province-wide monthly total is published
    suppress_aggregate(connection, "civil_complaints_monthly", CIVIL_COMPLAINTS_MONTHLY, margin_groups=groups)
    cells = assert_protected(connection, "civil_complaints_monthly", "complaints", dims, groups)
    hidden = cells[cells["suppressed"]]
    assert hidden[["completed", "completion_rate", "median_days_to_completion"]].isna().all().all()
    assert len(hidden) >= 2 and (hidden["sigungu_code"] == "48720").any()


def test_threshold_is_configurable_and_a_lone_cell_is_reported():
    connection = duckdb.connect()
    load(connection, "t", pd.DataFrame({"r": ["A", "B", "B"], "c": ["x", "x", "y"], "n": [3, 4, 9]}))
    report = suppress_small_cells(connection, "t", count_column="n", value_columns=[],
                                  dimensions=["r", "c"], threshold=4)
    assert report.primary == 1  # only 3 < 4
    # (A, x) is alone in row A and (B, y), a complement, alone in column y: no complement exists
    assert (report.secondary, report.unprotected_singletons) == (2, 2)


def test_dimensions_must_identify_a_cell():
    connection = duckdb.connect()
    load(connection, "t", pd.DataFrame({"r": ["A", "A"], "n": [3, 4]}))
    with pytest.raises(ValueError, match="do not identify a cell"):
        suppress_small_cells(connection, "t", count_column="n", value_columns=[], dimensions=["r"])
