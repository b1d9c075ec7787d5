"""Small-cell suppression for published aggregates (총계처리 with cell suppression), in DuckDB.

Primary: every cell counting fewer than `threshold` people (5, the customary k of the PIPC
가명정보 처리 가이드라인 and the published contract) loses its count and values.
Secondary (complementary): a total is an equation over its cells; an equation with exactly
one suppressed cell gives that cell away (total minus the published ones). So within every
margin group, a lone suppressed cell forces the smallest unsuppressed cell of the group to be
suppressed too, repeated over all groups until nothing changes. Margins are assumed known
(published elsewhere or computable), the conservative reading. Published total rows
(a dimension holding a total marker such as '계') sit in the same groups as the cells they add
up, so they take part in the same reasoning without special cases.

This is the classic hypercube heuristic: it rules out every one-unknown equation. A full
linear audit (no suppressed cell in the row space of the margin equations) is what the tests
check on their cases; interval (bounds) disclosure is not addressed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations

import duckdb

DEFAULT_THRESHOLD = 5
MAX_PASSES = 100
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class SuppressionSpec:
    """What to suppress in one aggregate table: its count, the values it hides, its dimensions."""

    count_column: str
    value_columns: tuple[str, ...]
    dimensions: tuple[str, ...]


# The two published aggregates of the contract (columns as in gn_pipelines/publish/tables.py).
WELFARE_SUMMARY = SuppressionSpec(
    "recipients", ("amount_total_krw",),
    ("sigungu_code", "reference_month", "benefit_type", "age_band", "sex"))
CIVIL_COMPLAINTS_MONTHLY = SuppressionSpec(
    "complaints", ("completed", "completion_rate", "median_days_to_completion", "p90_days_to_completion"),
    ("sigungu_code", "month", "category"))


@dataclass(frozen=True)
class SuppressionReport:
    table: str
    threshold: int
    cells: int
    primary: int
    secondary: int
    passes: int
    margin_groups: tuple[tuple[str, ...], ...]
    unprotected_singletons: int  # suppressed cells alone in a margin group: no complement exists

    @property
    def suppressed(self) -> int:
        return self.primary + self.secondary

    def as_metadata(self) -> dict[str, object]:
        return {"threshold": self.threshold, "cells": self.cells, "primary": self.primary,
                "secondary": self.secondary, "passes": self.passes,
                "unprotected_singletons": self.unprotected_singletons,
                "margin_groups": [" × ".join(g) or "grand total" for g in self.margin_groups]}


def _quoted(name: str) -> str:
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a plain column or table name: {name!r}")
    return f'"{name}"'


def default_margin_groups(dimensions: tuple[str, ...] | list[str]) -> list[tuple[str, ...]]:
    """The row/column margins of a table: for each dimension, the sum along it (all others fixed)."""
    return [tuple(d for d in dimensions if d != along) for along in dimensions]


def all_margin_groups(dimensions: tuple[str, ...] | list[str]) -> list[tuple[str, ...]]:
    """Every sub-total a user could be given: each subset of the dimensions held fixed."""
    return [group for size in range(len(dimensions) - 1, -1, -1) for group in combinations(dimensions, size)]


def _window(group: tuple[str, ...]) -> str:
    return f"PARTITION BY {', '.join(_quoted(d) for d in group)}" if group else ""


def _secondary_sql(group: tuple[str, ...]) -> str:
    window = _window(group)
    return f"""
UPDATE sup_work SET __suppression = 'secondary'
WHERE __cell_id IN (
  SELECT __cell_id FROM (
    SELECT __cell_id, __suppression,
      count(*) FILTER (WHERE __suppression IS NOT NULL) OVER ({window}) AS suppressed_in_group,
      row_number() OVER ({window} ORDER BY __suppression IS NOT NULL, __count, __cell_id) AS pick
    FROM sup_work)
  WHERE suppressed_in_group = 1 AND __suppression IS NULL AND pick = 1)"""


def _singletons_sql(groups: list[tuple[str, ...]]) -> str:
    flags = " OR ".join(f"count(*) OVER ({_window(g)}) = 1" for g in groups) or "false"
    return (f"SELECT count(*) FROM (SELECT __suppression, ({flags}) AS alone FROM sup_work) "
            "WHERE alone AND __suppression IS NOT NULL")


def _work_table(connection: duckdb.DuckDBPyConnection, table: str, count_column: str,
                dimensions: tuple[str, ...]) -> int:
    order = ", ".join(_quoted(d) for d in dimensions)
    columns = [row[0] for row in connection.execute(f"DESCRIBE {_quoted(table)}").fetchall()]
    # a table suppressed before (a re-run) loses its old markers
    old = [_quoted(c) for c in ("suppressed", "suppression") if c in columns]
    exclude = f"EXCLUDE ({', '.join(old)})" if old else ""
    connection.execute(f"""
        CREATE OR REPLACE TEMP TABLE sup_work AS
        SELECT * {exclude},
          {_quoted(count_column)} AS __count,
          row_number() OVER (ORDER BY {order}) AS __cell_id,
          CAST(NULL AS VARCHAR) AS __suppression
        FROM {_quoted(table)}""")
    cells, distinct = connection.execute(
        f"SELECT count(*), count(DISTINCT ({order})) FROM sup_work").fetchall()[0]
    if cells != distinct:
        raise ValueError(f"{table}: the dimensions {dimensions} do not identify a cell")
    return cells


def _publish(connection: duckdb.DuckDBPyConnection, output: str, hidden: list[str]) -> None:
    replaced = ", ".join(f"CASE WHEN __suppression IS NULL THEN {_quoted(c)} END AS {_quoted(c)}" for c in hidden)
    connection.execute(f"""
        CREATE OR REPLACE TABLE {_quoted(output)} AS
        SELECT * EXCLUDE (__count, __cell_id, __suppression) REPLACE ({replaced}),
          __suppression IS NOT NULL AS suppressed, __suppression AS suppression
        FROM sup_work ORDER BY __cell_id""")
    connection.execute("DROP TABLE sup_work")


def suppress_small_cells(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    *,
    count_column: str,
    value_columns: tuple[str, ...] | list[str],
    dimensions: tuple[str, ...] | list[str],
    margin_groups: list[tuple[str, ...]] | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    output: str | None = None,
) -> SuppressionReport:
    """Suppress cells under `threshold` and their complements; write `output` (default: in place)
    with the same rows, NULL count/values where suppressed, and `suppressed`/`suppression` markers."""
    dimensions = tuple(dimensions)
    groups = [tuple(g) for g in (margin_groups if margin_groups is not None else default_margin_groups(dimensions))]
    for name in (*dimensions, *(d for g in groups for d in g), count_column, *value_columns):
        _quoted(name)
    cells = _work_table(connection, table, count_column, dimensions)
    primary = connection.execute(
        "UPDATE sup_work SET __suppression = 'primary' WHERE __count < $threshold OR __count IS NULL",
        {"threshold": threshold}).fetchall()[0][0]
    secondary, passes = 0, 0
    while passes < MAX_PASSES:
        passes += 1
        added = sum(connection.execute(_secondary_sql(g)).fetchall()[0][0] for g in groups)
        secondary += added
        if added == 0:
            break
    singletons = connection.execute(_singletons_sql(groups)).fetchall()[0][0]
    _publish(connection, output or table, [count_column, *value_columns])
    return SuppressionReport(output or table, threshold, cells, primary, secondary, passes,
                             tuple(groups), singletons)


def suppress_aggregate(connection: duckdb.DuckDBPyConnection, table: str, spec: SuppressionSpec,
                       **options: object) -> SuppressionReport:
    """`suppress_small_cells` for one of the specs above (WELFARE_SUMMARY, CIVIL_COMPLAINTS_MONTHLY)."""
    return suppress_small_cells(connection, table, count_column=spec.count_column,
                                value_columns=spec.value_columns, dimensions=spec.dimensions, **options)
