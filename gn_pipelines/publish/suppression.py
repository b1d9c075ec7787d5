"""Small-cell suppression for published aggregates (총계처리 with cell suppression), in DuckDB.

Primary: every cell counting fewer than `threshold` people (5, the customary k of the PIPC
가명정보 처리 가이드라인 and the published contract) loses its count and values. Where one person
can make several records (complaints), the table carries its cells' people apart from the count
it publishes (`people_column`): twelve complaints of one complainant are one person's, not
twelve; that column is read for the rule and never published.
Secondary (complementary): a total is an equation over its cells; an equation with exactly
one suppressed cell gives that cell away (total minus the published ones). So within every
margin group, a lone suppressed cell forces the smallest unsuppressed cell of the group to be
suppressed too, repeated over all groups until nothing changes. Margins are assumed known
(published elsewhere or computable), the conservative reading. Published total rows
(a dimension holding a total marker such as '계') sit in the same groups as the cells they add
up, so they take part in the same reasoning without special cases.

That hypercube heuristic rules out every one-unknown equation, but not combinations: two 2×2
blocks of small cells joined by one more small cell get no complement, yet the joining cell is
(row + row) − (column + column). So a linear audit follows. The unknowns are the suppressed
cells, with one equation per margin total of a group of two or more cells (a single cell's
total is the cell itself and is not published; such cells are counted as
`unprotected_singletons`, as before). A suppressed cell is exactly recoverable iff it lies in the
row space of those equations. Each determined cell gets a complement (an unsuppressed cell
sharing a margin group with it, the heuristic's preference: smallest count, then cell id) and
the audit repeats until no suppressed cell is determined. Cells alone in an equation are found
by counting; only when there are none does a pass run the exact rank check. Complements are
published as `secondary`; the report counts the audit's apart (`audit_secondary`, `audit_passes`).
Cells that the margins pin down even with every cell suppressed (sparse tables, where absent
cells leave some margins tree-like) cannot be protected by suppression: they are counted as
`determined_by_margins` and not chased. The published aggregates avoid them by completing the
cube first (`complete_cube`): every combination is a cell, an empty one too, so no margin is
tree-like and empty cells hide the small ones at no cost (bench/bench_suppression.py: on a
province-sized welfare cube, no cell given away and 31–39 % of the non-empty cells published,
against 1–9 % with 1,600–4,400 cells given away when only the delivered cells are published).

The rank check (`linear_audit.py`) is exact: sparse Gaussian elimination modulo a prime. The
cell ids, counts and group keys come from DuckDB; the rest is numpy and plain Python.
Interval (bounds) disclosure is not addressed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations

import duckdb
import numpy as np

from gn_pipelines.privacy.recipes import SMALL_CELL_THRESHOLD
from gn_pipelines.publish.linear_audit import MarginEchelon

DEFAULT_THRESHOLD = SMALL_CELL_THRESHOLD  # the recipes hold the number
MAX_PASSES = 100
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class SuppressionSpec:
    """What to suppress in one aggregate table: its count, the values it hides, its dimensions."""

    count_column: str
    value_columns: tuple[str, ...]
    dimensions: tuple[str, ...]
    # The cube is completed with empty cells within the combinations of these dimensions that
    # occur (a 시군's delivered months), crossed with every value of the others; None: as is.
    complete_within: tuple[str, ...] | None = None
    # the distinct people of each cell, when they can be fewer than its count (not published)
    people_column: str | None = None


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
    audit_secondary: int = 0  # of `secondary`, the complements the linear audit added
    audit_passes: int = 0  # exact rank checks the audit ran (the last one found nothing)
    determined_by_margins: int = 0  # suppressed cells the margins give away whatever is suppressed
    largest_component: int = 0  # suppressed cells in the largest connected set of equations
    empty_cells: int = 0  # cells added, with a count of 0, to complete the cube
    # values of published cells withheld after the suppression, with a lone value withheld on a rule
    # of its own that a margin published elsewhere would give back (`Aggregate.after_suppression`)
    complements_after: int = 0

    @property
    def suppressed(self) -> int:
        return self.primary + self.secondary

    def as_metadata(self) -> dict[str, object]:
        return {"threshold": self.threshold, "cells": self.cells, "primary": self.primary,
                "secondary": self.secondary, "passes": self.passes,
                "audit_secondary": self.audit_secondary, "audit_passes": self.audit_passes,
                "determined_by_margins": self.determined_by_margins,
                "largest_component": self.largest_component, "empty_cells": self.empty_cells,
                "unprotected_singletons": self.unprotected_singletons,
                "complements_after": self.complements_after,
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


def _cells_sql(groups: list[tuple[str, ...]]) -> str:
    """Per cell, in cell order: id, count, suppressed, and per group the group's key (0, 1, ...)
    or -1 where the group is that cell alone (its total is not an equation)."""
    keys = ", ".join(
        f"CASE WHEN count(*) OVER ({_window(g)}) > 1 THEN dense_rank() OVER "
        f"({'ORDER BY ' + ', '.join(_quoted(d) for d in g) if g else ''}) - 1 ELSE -1 END"
        for g in groups)
    return (f"SELECT __cell_id, coalesce(CAST(__count AS DOUBLE), -1), __suppression IS NOT NULL, {keys} "
            "FROM sup_work ORDER BY __cell_id")


_REPLAY_SHARE = 0.02  # up to this share of new unknowns, replay recorded steps; else eliminate afresh
_GIVEN_SHARE = 0.1  # up to this share of cells published, audit on the all-cells echelon instead


class _LinearAudit:
    """The linear audit of one table: cells pulled from DuckDB (ids, counts, group keys) into
    numpy; adds complements until no suppressed cell is determined by the margin equations."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, groups: list[tuple[str, ...]]):
        columns = list(connection.execute(_cells_sql(groups)).fetchnumpy().values())
        self.cell_id = columns[0].astype(np.int64)
        self.suppressed = columns[2].astype(bool)
        # preference for complements: smallest count, then cell id (rows come in cell id order)
        self.rank = np.empty(len(self.cell_id), np.int64)
        self.rank[np.lexsort((self.cell_id, columns[1]))] = np.arange(len(self.cell_id))
        self.equation = np.full((len(self.cell_id), len(groups)), -1, np.int64)
        offset = 0
        for g, keys in enumerate(columns[3:]):
            keys = keys.astype(np.int64)
            self.equation[:, g] = np.where(keys >= 0, keys + offset, -1)
            offset += int(keys.max(initial=-1)) + 1
        self.equations = offset
        self.known = np.zeros(len(self.cell_id), bool)  # determined by the margins alone
        self.added: list[int] = []
        self.passes = 0
        self.largest_component = 0
        self._echelon: MarginEchelon | None = None  # over the suppressed cells
        self._all_cells: MarginEchelon | None = None  # over every cell, once the audit finds any
        self._columns: list[int] = []  # cell of each unknown of the echelon
        self._members: dict[int, list[int]] | None = None  # cells of each equation, when needed

    def run(self) -> None:
        """Add complements until no suppressed cell is determined by the margin equations."""
        while True:
            targets = self._lone_cells()
            if not targets.size:
                targets = self._determined_cells()
                if not targets.size:
                    self.largest_component = self._largest_component()
                    return
            complements = self._complements(targets)
            self.suppressed[complements] = True
            self.added.extend(self.cell_id[complements].tolist())

    def _memberships(self, cells: np.ndarray) -> list[list[int]]:
        return [[e for e in row if e >= 0] for row in self.equation[cells].tolist()]

    def _lone_cells(self) -> np.ndarray:
        """Cells alone (among the unknowns) in an equation: the cheap, common determined cells."""
        unknown = self.suppressed & ~self.known
        lone = np.zeros(len(unknown), bool)
        for keys in self.equation.T:
            counted = unknown & (keys >= 0)
            per_key = np.bincount(keys[counted], minlength=self.equations + 1)  # + 1: index 0 always exists
            lone |= counted & (per_key[np.maximum(keys, 0)] == 1)
        return np.flatnonzero(lone)

    def _determined_cells(self) -> np.ndarray:
        """Suppressed cells in the row space of the margin equations (one exact rank check)."""
        self.passes += 1
        published = np.flatnonzero(~self.suppressed)
        if self._all_cells is not None and len(published) <= _GIVEN_SHARE * len(self.suppressed):
            determined = self._all_cells.determined(given=published) & self.suppressed
        else:
            determined = self._determined_among_suppressed()
        if self.passes == 1 and determined.any():
            # one elimination over every cell: which cells the margins alone give away
            self._all_cells = MarginEchelon(self.equations)
            self._all_cells.add(self._memberships(np.arange(len(self.suppressed))))
            self.known = self._all_cells.determined()
        return np.flatnonzero(determined & ~self.known)

    def _determined_among_suppressed(self) -> np.ndarray:
        new = np.setdiff1d(np.flatnonzero(self.suppressed), self._columns, assume_unique=True)
        if self._echelon is None or len(new) > _REPLAY_SHARE * len(self._columns):
            self._echelon, self._columns = MarginEchelon(self.equations), []
            new = np.flatnonzero(self.suppressed)
        self._echelon.add(self._memberships(new))
        self._columns.extend(new.tolist())
        determined = np.zeros(len(self.suppressed), bool)
        determined[self._columns] = self._echelon.determined()
        return determined

    def _largest_component(self) -> int:
        """Suppressed cells in the largest set linked by shared equations (label propagation)."""
        unknown = np.flatnonzero(self.suppressed)
        label = np.arange(len(self.suppressed))
        while True:
            before = label[unknown].copy()
            for keys in self.equation.T:
                held = unknown[keys[unknown] >= 0]
                lowest = np.full(self.equations + 1, len(label))
                np.minimum.at(lowest, keys[held], label[held])
                label[held] = lowest[keys[held]]
            if np.array_equal(before, label[unknown]):
                return int(np.bincount(label[unknown]).max(initial=0))

    def _complements(self, targets: np.ndarray) -> np.ndarray:
        """For each target, the preferred unsuppressed cell sharing a margin group with it."""
        free = np.flatnonzero(~self.suppressed & ~self.known)  # a known cell hides nothing
        best = np.full(self.equations + 1, -1)
        for keys in self.equation.T:
            held = free[keys[free] >= 0]
            held = held[np.lexsort((self.rank[held], keys[held]))]
            first = np.ones(len(held), bool)  # the preferred free cell of each equation
            first[1:] = keys[held][1:] != keys[held][:-1]
            best[keys[held][first]] = held[first]
        keys = self.equation[targets]
        candidates = np.where(keys >= 0, best[np.maximum(keys, 0)], -1)
        preference = np.where(candidates >= 0, self.rank[np.maximum(candidates, 0)], len(self.rank))
        picks = candidates[np.arange(len(targets)), preference.argmin(axis=1)]
        farther = [self._farther_complement(t) for t in targets[picks < 0]]
        picks = np.concatenate([picks[picks >= 0], np.array([p for p in farther if p >= 0], np.int64)])
        if not picks.size:
            raise RuntimeError("the linear audit found determined cells but no complement for them")
        return np.unique(picks)

    def _farther_complement(self, target: int) -> int:
        """When every group of `target` is suppressed already: the preferred free cell sharing a
        group with the nearest suppressed cells (breadth first over shared groups)."""
        if self._members is None:
            self._members = {}
            for cell, row in enumerate(self.equation.tolist()):
                for key in row:
                    if key >= 0:
                        self._members.setdefault(key, []).append(cell)
        members = self._members
        seen, layer = {target}, [target]
        while layer:
            reached = {c for cell in layer for key in self.equation[cell] if key >= 0 for c in members[key]}
            free = [c for c in reached if not self.suppressed[c] and not self.known[c]]
            if free:
                return min(free, key=lambda c: self.rank[c])
            layer = [c for c in reached if c not in seen]
            seen.update(layer)
        return -1


def _mark_audit_complements(connection: duckdb.DuckDBPyConnection, cell_ids: list[int]) -> None:
    connection.execute("UPDATE sup_work SET __suppression = 'secondary' "
                       "WHERE __cell_id IN (SELECT unnest($ids::BIGINT[]))", {"ids": cell_ids})


def possible_cells(connection: duckdb.DuckDBPyConnection, table: str, dimensions: tuple[str, ...],
                   within: tuple[str, ...] = ()) -> int:
    """How many cells the completed cube of `table` would have (see `complete_cube`)."""
    others = [d for d in dimensions if d not in within]
    columns = [", ".join(map(_quoted, within))] if within else []
    columns += [_quoted(d) for d in others]
    counts = [f"(SELECT count(*) FROM (SELECT DISTINCT {c} FROM {_quoted(table)}))" for c in columns]
    return connection.execute(f"SELECT {' * '.join(counts) or '1'}").fetchall()[0][0]


def complete_cube(connection: duckdb.DuckDBPyConnection, table: str, *, count_column: str,
                  dimensions: tuple[str, ...], within: tuple[str, ...] = ()) -> int:
    """Add an empty cell (count 0, other columns NULL) for every combination no row holds: the
    combinations of `within` that occur, crossed with every value of each other dimension.

    A missing row would tell that its count is 0, and nothing can hide next to it; an empty cell
    is small, is suppressed like any other, and serves as a complement at no cost. Measured on a
    province-sized welfare cube (bench/bench_suppression.py): the share of non-empty cells that
    can be published under the linear audit rises from 1–9 % to 30–39 %. Returns the cells added."""
    others = [d for d in dimensions if d not in within]
    columns = [", ".join(map(_quoted, within))] if within else []
    frames = [f"(SELECT DISTINCT {c} FROM {_quoted(table)})" for c in columns + [_quoted(d) for d in others]]
    keys = ", ".join(map(_quoted, dimensions))
    return connection.execute(f"""
        INSERT INTO {_quoted(table)} ({keys}, {_quoted(count_column)})
        SELECT {keys}, 0 FROM (SELECT * FROM {' CROSS JOIN '.join(frames)}) AS cube
        WHERE NOT EXISTS (SELECT 1 FROM {_quoted(table)} AS t
                          WHERE {' AND '.join(f't.{_quoted(d)} IS NOT DISTINCT FROM cube.{_quoted(d)}' for d in dimensions)})
        """).fetchall()[0][0]


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


def _publish(connection: duckdb.DuckDBPyConnection, output: str, hidden: list[str],
             dropped: tuple[str, ...] = ()) -> None:
    replaced = ", ".join(f"CASE WHEN __suppression IS NULL THEN {_quoted(c)} END AS {_quoted(c)}" for c in hidden)
    excluded = ", ".join(["__count", "__cell_id", "__suppression", *map(_quoted, dropped)])
    connection.execute(f"""
        CREATE OR REPLACE TABLE {_quoted(output)} AS
        SELECT * EXCLUDE ({excluded}) REPLACE ({replaced}),
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
    complete_within: tuple[str, ...] | None = None,
    people_column: str | None = None,
    keep_people: bool = False,
) -> SuppressionReport:
    """Suppress cells under `threshold` and their complements (the heuristic, then the linear audit);
    write `output` (default: in place) with the same rows, NULL count/values where suppressed, and
    `suppressed`/`suppression` markers. With `complete_within`, the cube is completed first. With
    `people_column`, a cell is also primary when it counts fewer people than `threshold`, however
    many records; that column is left out of `output`, or with `keep_people` kept (hidden where
    suppressed) for the publication gate to check again and drop."""
    dimensions = tuple(dimensions)
    groups = [tuple(g) for g in (margin_groups if margin_groups is not None else default_margin_groups(dimensions))]
    people = (people_column,) if people_column else ()
    for name in (*dimensions, *(d for g in groups for d in g), count_column, *value_columns, *people):
        _quoted(name)
    empty = 0
    if complete_within is not None:
        empty = complete_cube(connection, table, count_column=count_column, dimensions=dimensions,
                              within=tuple(complete_within))
    cells = _work_table(connection, table, count_column, dimensions)
    few_people = (f" OR {_quoted(people_column)} < $threshold OR {_quoted(people_column)} IS NULL"
                  if people_column else "")
    primary = connection.execute(
        f"UPDATE sup_work SET __suppression = 'primary' WHERE __count < $threshold OR __count IS NULL{few_people}",
        {"threshold": threshold}).fetchall()[0][0]
    secondary, passes = 0, 0
    while passes < MAX_PASSES:
        passes += 1
        added = sum(connection.execute(_secondary_sql(g)).fetchall()[0][0] for g in groups)
        secondary += added
        if added == 0:
            break
    audit = _LinearAudit(connection, groups)
    audit.run()
    _mark_audit_complements(connection, audit.added)
    singletons = connection.execute(_singletons_sql(groups)).fetchall()[0][0]
    if keep_people:
        _publish(connection, output or table, [count_column, *value_columns, *people])
    else:
        _publish(connection, output or table, [count_column, *value_columns], people)
    added = len(audit.added)
    return SuppressionReport(output or table, threshold, cells, primary, secondary + added, passes, tuple(groups),
                             singletons, audit_secondary=added, audit_passes=audit.passes,
                             determined_by_margins=int((audit.known & audit.suppressed).sum()),
                             largest_component=audit.largest_component, empty_cells=empty)


def suppress_aggregate(connection: duckdb.DuckDBPyConnection, table: str, spec: SuppressionSpec,
                       **options: object) -> SuppressionReport:
    """`suppress_small_cells` for a spec (a declared aggregate's: `publish.aggregates.aggregate_spec`)."""
    options = {"complete_within": spec.complete_within, "people_column": spec.people_column} | options
    return suppress_small_cells(connection, table, count_column=spec.count_column,
                                value_columns=spec.value_columns, dimensions=spec.dimensions, **options)
