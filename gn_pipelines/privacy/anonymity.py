"""k-anonymity and distinct l-diversity by local recoding, set-based in DuckDB.

Design (bottom-up local recoding along one generalisation schedule):

1. The schedule is a chain of level vectors, one level per ladder, from the finest (all 0) to
   the coarsest (every ladder at its top). By default it raises the ladders round-robin in the
   order given, so the first quasi-identifier listed is coarsened first.
2. Every record starts at step 0 and carries its class key (partition values + published
   tuple) as one text column. Each round is two UPDATEs over a GROUP BY of that key:
   - raise: the records of every class that is too small (< k) or not diverse enough (< l
     distinct values of a sensitive column) move one step up;
   - pull: for each class still failing, the smallest passing class that coarsens into it
     moves up too. One is enough (it brings ≥ k records and ≥ l values), and it stops the
     stragglers from climbing alone to the province level, where for l-diversity they would
     be alike by construction and end up suppressed.
   Classes that pass are never split: records only join them, which cannot break k or l. So
   창원's records keep their 시군구 (or 읍면동) while a small 합천 면 climbs only where it must.
3. After at most len(schedule) rounds, a class still failing is suppressed (데이터 삭제, a whole
   class at a time, so no other class changes). Above `max_suppression` nothing is written.

Partition columns (e.g. the reference month) stay exact and bound every class. The report is
computed from the written table, not from the engine's own bookkeeping.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from gn_pipelines.privacy.generalisation import KEPT, Ladder, exact_ladder, quote

SUPPRESSED = "데이터 삭제"
SIZE_BUCKETS = ((1, 4), (5, 9), (10, 19), (20, 49), (50, 99), (100, None))
_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}")
_WORK = "_gn_anonymity_work"


class AnonymityError(RuntimeError):
    """The table can not be made k-anonymous and l-diverse within the suppression budget."""


@dataclass(frozen=True)
class AnonymityReport:
    """What was done and what holds on the target table; plain JSON-able values."""

    k_required: int
    l_required: int
    k_reached: int  # smallest equivalence class (0 for an empty output)
    l_reached: dict[str, int]  # smallest number of distinct values per sensitive column
    records_in: int
    records_out: int
    records_suppressed: int
    equivalence_classes: int
    class_sizes: dict[str, int]  # classes by size bucket, e.g. {"5-9": 120, "100+": 3}
    levels: dict[str, dict[str, int]]  # ladder → level name → records published at it
    techniques: dict[str, list[str]]  # output column → guideline techniques applied
    partition_by: list[str] = field(default_factory=list)
    sensitive: list[str] = field(default_factory=list)

    @property
    def suppression_rate(self) -> float:
        return self.records_suppressed / self.records_in if self.records_in else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "suppression_rate": round(self.suppression_rate, 6)}


def default_schedule(ladders: Sequence[Ladder]) -> list[tuple[int, ...]]:
    """Round-robin: raise each ladder in turn (in the order given) until all reach their top."""
    levels = [0] * len(ladders)
    schedule = [tuple(levels)]
    while any(level < len(l.levels) - 1 for level, l in zip(levels, ladders)):
        for i, ladder in enumerate(ladders):
            if levels[i] < len(ladder.levels) - 1:
                levels[i] += 1
                schedule.append(tuple(levels))
    return schedule


def anonymise(connection, source: str, target: str, *, quasi_identifiers: Sequence[Ladder | str],
              sensitive: Sequence[Ladder | str] = (), k: int = 5, l: int = 2,
              partition_by: Sequence[str] = (), keep: Sequence[str] = (),
              max_suppression: float = 0.05, pull_peers: bool = True,
              schedule: Sequence[Sequence[int]] | None = None) -> AnonymityReport:
    """Write `target` from `source`: generalised, suppressed where needed, k-anonymous, l-diverse.

    A sensitive Ladder is applied at its first level (e.g. an amount band); `keep` columns pass
    through unchanged (pseudonymous keys, categories). Raises AnonymityError above the budget.
    """
    _check_names(source, target)
    if k < 1 or l < 1:
        raise ValueError("k and l must be at least 1")
    ladders = [q if isinstance(q, Ladder) else exact_ladder(q) for q in quasi_identifiers]
    sensitives = [s if isinstance(s, Ladder) else exact_ladder(s) for s in sensitive]
    steps = [tuple(s) for s in schedule] if schedule else default_schedule(ladders)
    _check_schedule(steps, ladders)
    plan = _Plan(ladders, steps, list(partition_by), _sensitive_outputs(sensitives), k, l,
                 _fixed_techniques(partition_by, sensitives))

    connection.execute(plan.work_sql(source, sensitives, keep))
    try:
        for _ in steps:
            moved = connection.execute(plan.raise_sql(), plan.parameters).fetchall()[0][0]
            if not moved:
                break
            if pull_peers:
                connection.execute(plan.pull_sql(), plan.parameters)
        connection.execute(plan.suppress_sql(), plan.parameters)
        records_in, suppressed = connection.execute(plan.counts_sql()).fetchall()[0]
        if records_in and suppressed / records_in > max_suppression:
            raise AnonymityError(
                f"{suppressed} of {records_in} records would be suppressed "
                f"({suppressed / records_in:.1%} > {max_suppression:.1%}); "
                "add coarser levels or lower k/l")
        connection.execute(plan.target_sql(target, keep))
        return _report(connection, plan, target, records_in, suppressed)
    finally:
        connection.execute(f"DROP TABLE IF EXISTS {_WORK}")


def _check_names(*tables: str) -> None:
    for table in tables:
        if not _TABLE_NAME.fullmatch(table):
            raise ValueError(f"not a plain table name: {table!r}")


def _check_schedule(steps: list[tuple[int, ...]], ladders: list[Ladder]) -> None:
    for step in steps:
        if len(step) != len(ladders) or any(not 0 <= v < len(d.levels) for v, d in zip(step, ladders)):
            raise ValueError(f"schedule step {step} does not fit the ladders")
    if any(a > b for prev, nxt in zip(steps, steps[1:]) for a, b in zip(prev, nxt)):
        raise ValueError("a schedule must never make a ladder finer again")


def _sensitive_outputs(sensitives: list[Ladder]) -> list[str]:
    return [out for ladder in sensitives for out in ladder.outputs]


def _fixed_techniques(partition_by: Sequence[str], sensitives: list[Ladder]) -> dict[str, list[str]]:
    """Columns the engine does not climb: partitions kept, sensitive values at their one level."""
    techniques = {p: [KEPT] for p in partition_by}
    for ladder in sensitives:
        techniques.update({out: [ladder.levels[0].technique] for out in ladder.outputs})
    return techniques


@dataclass
class _Plan:
    """The SQL of one anonymisation; column names of the work table are generated here."""

    ladders: list[Ladder]
    steps: list[tuple[int, ...]]
    partition: list[str]
    sensitive: list[str]
    k: int
    l: int
    fixed_techniques: dict[str, list[str]]

    def level_column(self, i: int, level: int, out: int) -> str:
        return quote(f"_q{i}_{level}_{out}")

    def work_sql(self, source: str, sensitives: list[Ladder], keep: Sequence[str]) -> str:
        levels = [f"{sql} AS {self.level_column(i, j, o)}"
                  for i, ladder in enumerate(self.ladders)
                  for j, level in enumerate(ladder.levels)
                  for o, sql in enumerate(level.sql)]
        sens = [f"{sql} AS {quote(out)}" for s in sensitives
                for sql, out in zip(s.levels[0].sql, s.outputs)]
        exact = [quote(c) for c in (*self.partition, *keep)]
        columns = ", ".join(["row_number() OVER () AS _row", "0 AS _step", "false AS _suppressed",
                             *exact, *sens, *levels])
        return (f"CREATE OR REPLACE TEMP TABLE {_WORK} AS SELECT *, {self.key()} AS _key, "
                f"{self.key(1)} AS _next FROM (SELECT {columns} FROM {source})")

    def published(self, ahead: int = 0) -> list[tuple[str, str]]:
        """(SQL, output name) of each quasi-identifier's value at the record's step (+ `ahead`)."""
        last = len(self.steps) - 1
        columns = []
        for i, ladder in enumerate(self.ladders):
            for o, out in enumerate(ladder.outputs):
                whens = " ".join(
                    f"WHEN {s} THEN {self.level_column(i, self.steps[min(s + ahead, last)][i], o)}"
                    for s in range(len(self.steps)))
                columns.append((f"CASE _step {whens} END", out))
        return columns

    def key(self, ahead: int = 0) -> str:
        """A record's class as one text: partition values and its published tuple (+ `ahead` steps)."""
        parts = [*(f"CAST({quote(p)} AS VARCHAR)" for p in self.partition),
                 *(sql for sql, _ in self.published(ahead))]
        # CSV-style quoting makes the text key injective; it groups ~10× faster than a LIST
        quoted = [f"coalesce('\"' || replace(CAST({p} AS VARCHAR), '\"', '\"\"') || '\"', 'NULL')" for p in parts]
        return " || ',' || ".join(quoted) if quoted else "''"

    def classes_sql(self) -> str:
        """One row per class: size, steps spanned, diversity, and where it goes one step up."""
        diversity = "".join(f", {self.distinct(s)} AS {quote('_l_' + s)}" for s in self.sensitive)
        return (f"SELECT _key, count(*) AS _n, min(_step) AS _lo, max(_step) AS _hi, "
                f"any_value(_next) AS _next, min(_next) = max(_next) AS _one_next{diversity} "
                f"FROM {_WORK} GROUP BY _key")

    def distinct(self, column: str) -> str:
        """Distinct values of a sensitive column in a class, capped at l (all the test needs).

        For l ≤ 2, min ≠ max says it without a count(DISTINCT): several times faster.
        """
        if self.l > 2:
            return f"count(DISTINCT {quote(column)})"
        return (f"CASE WHEN min({quote(column)}) IS NULL THEN 0 "
                f"WHEN min({quote(column)}) = max({quote(column)}) THEN 1 ELSE 2 END")

    def climb(self) -> str:
        """SET clause moving a record one step up, with its stored class keys."""
        return f"SET _step = _step + 1, _key = {self.key(1)}, _next = {self.key(2)}"

    def failing(self, alias: str = "") -> str:
        prefix = f"{alias}." if alias else ""
        tests = [f"{prefix}_n < $k", *(f"{prefix}{quote('_l_' + s)} < $l" for s in self.sensitive)]
        return "(" + " OR ".join(tests) + ")"

    @property
    def parameters(self) -> dict[str, int]:
        return {"k": self.k, "l": self.l} if self.sensitive else {"k": self.k}

    def raise_sql(self) -> str:
        """Move every record of a failing class one step up the schedule."""
        return (f"UPDATE {_WORK} {self.climb()} WHERE _step < {len(self.steps) - 1} AND "
                f"_key IN (SELECT _key FROM ({self.classes_sql()}) WHERE {self.failing()})")

    def suppress_sql(self) -> str:
        """Mark the records of classes still failing at the top step (데이터 삭제)."""
        return (f"UPDATE {_WORK} SET _suppressed = true WHERE "
                f"_key IN (SELECT _key FROM ({self.classes_sql()}) WHERE {self.failing()})")

    def pull_sql(self) -> str:
        """Move one passing class (the smallest) up into each failing class it coarsens into.

        Stragglers otherwise climb alone, and for l-diversity they are alike by construction
        (a mixed class would have passed), so they would end up suppressed. A passing class
        has ≥ k records and ≥ l values of each sensitive column, so one is always enough.
        Only classes whose records share one step and one next tuple move (whole classes).
        """
        return f"""
UPDATE {_WORK} {self.climb()} WHERE _key IN (
  WITH classes AS ({self.classes_sql()})
  SELECT c._key FROM classes c JOIN classes f ON c._next = f._key
  WHERE {self.failing('f')} AND NOT {self.failing('c')} AND c._lo = c._hi AND c._one_next
    AND c._hi < {len(self.steps) - 1}
  QUALIFY row_number() OVER (PARTITION BY f._key ORDER BY c._n, c._key) = 1)
"""

    def counts_sql(self) -> str:
        return f"SELECT count(*), count(*) FILTER (WHERE _suppressed) FROM {_WORK}"

    def target_sql(self, target: str, keep: Sequence[str]) -> str:
        published = [f"{sql} AS {quote(out)}" for sql, out in self.published()]
        columns = ", ".join([*(quote(p) for p in self.partition), *published,
                             *(quote(s) for s in self.sensitive), *(quote(c) for c in keep)])
        return (f"CREATE OR REPLACE TABLE {target} AS SELECT {columns} FROM {_WORK} "
                f"WHERE NOT _suppressed ORDER BY _row")


def _report(connection, plan: _Plan, target: str, records_in: int, suppressed: int) -> AnonymityReport:
    keys = [*plan.partition, *(out for _, out in plan.published())]
    classes = connection.execute(_class_stats_sql(target, keys, plan.sensitive)).fetchall()
    sizes = [row[0] for row in classes]
    l_reached = {s: min((row[1 + i] for row in classes), default=0)
                 for i, s in enumerate(plan.sensitive)}
    return AnonymityReport(
        k_required=plan.k, l_required=plan.l if plan.sensitive else 1,
        k_reached=min(sizes, default=0), l_reached=l_reached,
        records_in=records_in, records_out=sum(sizes), records_suppressed=suppressed,
        equivalence_classes=len(sizes), class_sizes=_size_buckets(sizes),
        levels=_levels_used(connection, plan), techniques=_techniques(connection, plan, suppressed),
        partition_by=list(plan.partition), sensitive=list(plan.sensitive),
    )


def _class_stats_sql(table: str, keys: Sequence[str], sensitive: Sequence[str]) -> str:
    diversity = "".join(f", count(DISTINCT {quote(s)})" for s in sensitive)
    group = f" GROUP BY {', '.join(quote(k) for k in keys)}" if keys else ""
    return f"SELECT count(*){diversity} FROM {table}{group}"


def class_stats(connection, table: str, keys: Sequence[str], sensitive: Sequence[str] = ()) -> tuple[int, dict[str, int]]:
    """(k, l per sensitive column) of any table: our own check, independent of the engine's state."""
    rows = connection.execute(_class_stats_sql(table, keys, sensitive)).fetchall()
    k = min((r[0] for r in rows), default=0)
    return k, {s: min((r[1 + i] for r in rows), default=0) for i, s in enumerate(sensitive)}


def _size_buckets(sizes: list[int]) -> dict[str, int]:
    buckets = {}
    for low, high in SIZE_BUCKETS:
        label = f"{low}-{high}" if high else f"{low}+"
        count = sum(1 for s in sizes if s >= low and (high is None or s <= high))
        if count:
            buckets[label] = count
    return buckets


def _step_counts(connection) -> dict[int, int]:
    rows = connection.execute(
        f"SELECT _step, count(*) FROM {_WORK} WHERE NOT _suppressed GROUP BY _step").fetchall()
    return dict(rows)


def _levels_used(connection, plan: _Plan) -> dict[str, dict[str, int]]:
    levels: dict[str, dict[str, int]] = {}
    for step, count in sorted(_step_counts(connection).items()):
        for i, ladder in enumerate(plan.ladders):
            name = ladder.levels[plan.steps[step][i]].name
            levels.setdefault(ladder.name, {}).setdefault(name, 0)
            levels[ladder.name][name] += count
    return levels


def _techniques(connection, plan: _Plan, suppressed: int) -> dict[str, list[str]]:
    used = _step_counts(connection)
    techniques = dict(plan.fixed_techniques)
    for i, ladder in enumerate(plan.ladders):
        names = {ladder.levels[plan.steps[s][i]].technique for s in used}
        for out in ladder.outputs:
            techniques[out] = sorted(names | ({SUPPRESSED} if suppressed else set()))
    return techniques
