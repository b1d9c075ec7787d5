"""k-anonymity and distinct l-diversity by top-down local recoding (Mondrian), set-based in DuckDB.

Design (LeFevre, DeWitt & Ramakrishnan 2006, "Mondrian multidimensional k-anonymity", cut
along each quasi-identifier's generalisation hierarchy, relaxed to local recoding as ARX's
"local generalisation" is):

1. Every record starts at the top of every ladder (the coarsest values), its class bounded by
   the partition columns (e.g. the reference month). A partition that fails k or l even there
   is suppressed whole (데이터 삭제): the only suppression there is.
2. The ladders are specialised in the order given, the first one first (the recipe lists the
   quasi-identifier it values most first), one level at a time; a recipe may also interleave
   passes (`cuts`: the area to its 시군구, then the days, then the area to its 읍면동 …).
   Each round cuts every class by the next finer value of one ladder, in one GROUP BY:
   a child with ≥ k records, ≥ l values of each sensitive column and a known value becomes a
   class of its own; the failing children stay together at the parent's value and, when they are
   too few or too alike, the smallest passing child stays with them. Every class passes after
   every cut, so nothing else is ever suppressed, and a small 면 falls back to its 시군 without
   dragging the 동 of 창원 with it.
3. A ladder done, the next one specialises within the classes the previous ones left: what the
   first ladder keeps is paid for by the detail the later ones give up (reported per column).

People, not records, where one person can make several records (`person`: a complaint table,
where one complainant files twelve complaints): a class must hold k people. The engine works on
cells, and a person can sit in several cells of a partition, so it counts a lower bound that
sums over cells: each cell's people found in no other cell of the partition (`_pe`), plus, of the
people also found elsewhere, the most any one cell holds (`_ps`; they are distinct people, and
none of them exclusive). Exact for people with one cell each (most), cautious otherwise; the
report measures the classes again on the written table, counting distinct people. Records
without a person key count as one person together (whoever they are, at least one).

Partition columns stay exact. The report is computed from the published values: a record counts
at the finest level whose value it publishes (a 읍면동 never known publishes its 시군구).

Cells, not records: every decision above reads only a record's partition, its value at every
level of every ladder and its sensitive values, so records equal in all of them (a cell) always
move together. The rounds therefore run on one row per cell with its record count `_n` (30k
cells for a million complaints of a month), and the records are joined to their cell's
published values once at the end: the same output as a round per record, a pass over the
records instead of one per level.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from gn_pipelines.contracts.recipes import PUBLISHED_K, PUBLISHED_L
from gn_pipelines.privacy.generalisation import KEPT, Ladder, exact_ladder, quote

SUPPRESSED = "데이터 삭제"
SIZE_BUCKETS = ((1, 4), (5, 9), (10, 19), (20, 49), (50, 99), (100, None))
_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}")
_WORK = "_gn_anonymity_work"
_CUT = "_gn_anonymity_cut"


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
    class_sizes: dict[str, int]  # classes by size (what k counts) bucket, e.g. {"5-9": 120, "100+": 3}
    levels: dict[str, dict[str, int]]  # ladder → level name → records published at it
    techniques: dict[str, list[str]]  # output column → guideline techniques applied
    partition_by: list[str] = field(default_factory=list)
    sensitive: list[str] = field(default_factory=list)
    # output column → share of its known values published coarser than their finest level
    generalised_share: dict[str, float] = field(default_factory=dict)
    priority: list[str] = field(default_factory=list)  # ladders in the order they were specialised
    k_counted: str = "records"  # what a class's size counts: "people" when a person key was given

    @property
    def suppression_rate(self) -> float:
        return self.records_suppressed / self.records_in if self.records_in else 0.0

    @property
    def average_class_size(self) -> float:
        return self.records_out / self.equivalence_classes if self.equivalence_classes else 0.0

    def information_loss(self) -> dict:
        """Suppressed share, share of values generalised per column, average class size."""
        return {"suppressed_share": round(self.suppression_rate, 6),
                "generalised_share": self.generalised_share,
                "average_class_size": round(self.average_class_size, 2)}

    def to_dict(self) -> dict:
        return {**asdict(self), "suppression_rate": round(self.suppression_rate, 6),
                "information_loss": self.information_loss()}


def anonymise(connection, source: str, target: str, *, quasi_identifiers: Sequence[Ladder | str],
              sensitive: Sequence[Ladder | str] = (), k: int = PUBLISHED_K, l: int = PUBLISHED_L,
              partition_by: Sequence[str] = (), keep: Sequence[str] = (),
              max_suppression: float = 0.05,
              cuts: Sequence[tuple[str, str]] | None = None,
              person: str | None = None) -> AnonymityReport:
    """Write `target` from `source`: generalised, suppressed where needed, k-anonymous, l-diverse.

    `quasi_identifiers` in priority order: the first is specialised first, so kept finest; or
    `cuts`, passes of (ladder name, finest level name of the pass), e.g. the area to its 시군구,
    then the days, then the area to its 읍면동 (each ladder ends at its finest level after). A
    sensitive Ladder is applied at its first level (e.g. an amount band); `keep` columns pass
    through unchanged (pseudonymous keys, categories). `person`: a column of `keep` naming each
    record's person (a pseudonymous key), when one person can make several records: k then counts
    people. Raises AnonymityError above the budget.
    """
    _check_names(source, target)
    if k < 1 or l < 1:
        raise ValueError("k and l must be at least 1")
    if not quasi_identifiers:
        raise ValueError("k-anonymity needs at least one quasi-identifier")
    ladders = [q if isinstance(q, Ladder) else exact_ladder(q) for q in quasi_identifiers]
    sensitives = [s if isinstance(s, Ladder) else exact_ladder(s) for s in sensitive]
    if person is not None and person not in keep:
        raise ValueError(f"the person column {person!r} must be kept (the report counts people on the output)")
    plan = _Plan(ladders, list(partition_by), _sensitive_outputs(sensitives), k, l,
                 _fixed_techniques(partition_by, sensitives), person)

    connection.execute(plan.work_sql(source, sensitives, keep))
    try:
        connection.execute(plan.suppress_sql(), plan.parameters)
        current = [len(ladder.levels) - 1 for ladder in ladders]
        for i, finest in _passes(ladders, cuts):
            for level in range(current[i], finest, -1):
                connection.execute(plan.cut_sql(i, level), plan.parameters)
                cut, stay = connection.execute(
                    f"SELECT count(*) FILTER (WHERE _cut), count(*) FILTER (WHERE NOT _cut) FROM {_CUT}").fetchall()[0]
                if cut:
                    connection.execute(plan.specialise_sql(i, level))
                if stay:
                    connection.execute(plan.fix_sql(i))
                current[i] = level - 1
                if not cut:  # every record of this ladder stays where it is: nothing left to cut
                    current[i] = 0
                    break
        records_in, suppressed = connection.execute(plan.counts_sql()).fetchall()[0]
        records_in, suppressed = int(records_in or 0), int(suppressed or 0)
        if records_in and suppressed / records_in > max_suppression:
            raise AnonymityError(
                f"{suppressed} of {records_in} records would be suppressed "
                f"({suppressed / records_in:.1%} > {max_suppression:.1%}); "
                "add coarser levels or lower k/l")
        connection.execute(plan.target_sql(source, target, sensitives, keep))
        return _report(connection, plan, target, records_in, suppressed)
    finally:
        connection.execute(f"DROP TABLE IF EXISTS {_WORK}")
        connection.execute(f"DROP TABLE IF EXISTS {_CUT}")


def _passes(ladders: list[Ladder], cuts: Sequence[tuple[str, str]] | None) -> list[tuple[int, int]]:
    """(ladder index, finest level of the pass); every ladder is cut to its finest level in the end."""
    names = [ladder.name for ladder in ladders]
    passes = []
    for name, level in cuts or ():
        if name not in names:
            raise ValueError(f"cut of an unknown ladder {name!r}; ladders: {', '.join(names)}")
        i = names.index(name)
        levels = [lv.name for lv in ladders[i].levels]
        if level not in levels:
            raise ValueError(f"ladder {name!r} has no level {level!r}; levels: {', '.join(levels)}")
        passes.append((i, levels.index(level)))
    return passes + [(i, 0) for i in range(len(ladders))]


def person_hash(column: str) -> str:
    """A person's key as 8 bytes (its 64-character pseudonym held by every distinct count took
    hundreds of MB at a million rows). Two keys sharing a hash would count as one person: fewer
    people, never more, so a check can only be stricter. A missing key hashes to one value:
    records without one are one person together."""
    return f"hash({column})"


def _check_names(*tables: str) -> None:
    for table in tables:
        if not _TABLE_NAME.fullmatch(table):
            raise ValueError(f"not a plain table name: {table!r}")


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
    partition: list[str]
    sensitive: list[str]
    k: int
    l: int
    fixed_techniques: dict[str, list[str]]
    person: str | None = None

    def level_column(self, i: int, level: int, out: int) -> str:
        return quote(f"_q{i}_{level}_{out}")

    def top(self, i: int) -> int:
        return len(self.ladders[i].levels) - 1

    def sensitive_columns(self, sensitives: list[Ladder]) -> list[tuple[str, str]]:
        """(SQL over a source record, name) of each sensitive output."""
        return [(sql, quote(out)) for s in sensitives for sql, out in zip(s.levels[0].sql, s.outputs)]

    def cell_columns(self, sensitives: list[Ladder]) -> list[tuple[str, str]]:
        """(SQL over a source record, name) of what makes its cell: partition, every level of
        every ladder (and the sensitive values when l > 2)."""
        levels = [(sql, self.level_column(i, j, o))
                  for i, ladder in enumerate(self.ladders)
                  for j, level in enumerate(ladder.levels)
                  for o, sql in enumerate(level.sql)]
        sens = self.sensitive_columns(sensitives) if self.sensitive_in_cells else []
        return [*((quote(c), quote(c)) for c in self.partition), *sens, *levels]

    def work_sql(self, source: str, sensitives: list[Ladder], keep: Sequence[str]) -> str:
        """One row per cell (`_row` numbers the cells), with its record count `_n` and its people
        `_pe` and `_ps` (see the module's docstring)."""
        keys = self.cell_columns(sensitives)
        bounds = [] if self.sensitive_in_cells else [
            (sql, out) for s in sensitives for sql, out in zip(s.levels[0].sql, s.outputs)]
        state = [f"{self.top(i)} AS _lv{i}, false AS _fix{i}" for i in range(len(self.ladders))]
        columns = ", ".join(["row_number() OVER () AS _row", "false AS _suppressed", "*", *state])
        if self.person is None:  # a record is a person: a cell's people are its records
            cells = [f"{sql} AS {name}" for sql, name in keys]
            cells += [f"{bound}({sql}) AS {quote(f'_{bound}_{out}')}" for sql, out in bounds for bound in ("min", "max")]
            group = ", ".join(sql for sql, _ in keys)
            counted = f"SELECT {', '.join(cells)}, count(*) AS _n, count(*) AS _pe, 0 AS _ps FROM {source} GROUP BY {group}"
        else:
            counted = self._people_per_cell_sql(source, keys, bounds)
        return (f"CREATE OR REPLACE TEMP TABLE {_WORK} AS SELECT *, {self.key()} AS _key "
                f"FROM (SELECT {columns} FROM ({counted}))")

    def _people_per_cell_sql(self, source: str, keys: list[tuple[str, str]], bounds: list[tuple[str, str]]) -> str:
        """Cells with their records `_n`, their people found in no other cell of the partition
        `_pe`, and their people also found elsewhere `_ps`; records without a key are one person.

        Counted on 8-byte hashes in plain GROUP BYs (which spill; distinct counts of the cells'
        many text columns took 1.9 GB at a million records): a cell's people are its distinct
        (cell, person) pairs. A cell's hash shared by two cells would add their people together;
        the report counts every class's people again on the written table, so it cannot pass unseen."""
        names = [name for _, name in keys]
        values = [f"{sql} AS {quote(f'_value_{out}')}" for sql, out in bounds]
        partition = f"hash({', '.join(quote(p) for p in self.partition)})" if self.partition else "0"
        bound_columns = [f"{bound}({quote(f'_value_{out}')}) AS {quote(f'_{bound}_{out}')}"
                         for _, out in bounds for bound in ("min", "max")]
        return f"""
WITH placed AS (
  SELECT *, hash({', '.join(names)}) AS _cell, {partition} AS _part FROM (
    SELECT {', '.join([*(f'{sql} AS {name}' for sql, name in keys), *values])},
      {person_hash(quote(self.person))} AS _person FROM {source})),
pairs AS (SELECT _part, _cell, _person FROM placed GROUP BY ALL),
spread AS (SELECT _part, _person, count(*) AS _cells FROM pairs GROUP BY ALL),
people AS (
  SELECT p._cell, count(*) FILTER (WHERE s._cells = 1) AS _pe, count(*) FILTER (WHERE s._cells > 1) AS _ps
  FROM pairs p JOIN spread s ON p._part = s._part AND p._person = s._person GROUP BY p._cell),
cells AS (
  SELECT {', '.join([*names, *bound_columns])}, count(*) AS _n, any_value(_cell) AS _cell
  FROM placed GROUP BY {', '.join(names)})
SELECT c.* EXCLUDE (_cell), p._pe, p._ps FROM cells c JOIN people p ON c._cell = p._cell"""

    def value(self, i: int, out: int, at: int | None = None) -> str:
        """Ladder i's output `out` at the record's current level (or at level `at`)."""
        if at is not None:
            return self.level_column(i, at, out)
        whens = " ".join(f"WHEN {j} THEN {self.level_column(i, j, out)}"
                         for j in range(len(self.ladders[i].levels)))
        return f"CASE _lv{i} {whens} END"

    def published(self, at: dict[int, int] | None = None) -> list[tuple[str, str]]:
        """(SQL, output name) of each quasi-identifier's published value."""
        at = at or {}
        return [(self.value(i, o, at.get(i)), out)
                for i, ladder in enumerate(self.ladders) for o, out in enumerate(ladder.outputs)]

    def key(self, at: dict[int, int] | None = None) -> str:
        """A record's class as one 64-bit hash of its partition values and published tuple.

        Hashing groups several times faster than a text key; a collision could only merge two
        classes in the engine's bookkeeping, and k and l are measured again on the written
        table (`_report`), so it can never make a check pass.
        """
        parts = [*(quote(p) for p in self.partition), *(sql for sql, _ in self.published(at))]
        return f"hash({', '.join(parts)})" if parts else "0"

    def diversity(self, prefix: str = "") -> str:
        return "".join(f", {self.distinct(prefix, s)} AS {quote('_l_' + s)}" for s in self.sensitive)

    @property
    def sensitive_in_cells(self) -> bool:
        """For l > 2 a cell holds one value of each sensitive column (count(DISTINCT) needs them);
        for l ≤ 2 it holds their least and greatest value, so fewer cells."""
        return self.l > 2

    def carried_sensitive(self) -> list[str]:
        """The sensitive columns of a cell row."""
        if self.sensitive_in_cells:
            return [quote(s) for s in self.sensitive]
        return [quote(f"_{bound}_{s}") for s in self.sensitive for bound in ("min", "max")]

    def distinct(self, prefix: str, sensitive: str) -> str:
        """Distinct values of a sensitive column in a class, capped at l (all the test needs).

        For l ≤ 2, min ≠ max says it without a count(DISTINCT): several times faster.
        """
        if self.sensitive_in_cells:
            return f"count(DISTINCT {prefix}{quote(sensitive)})"
        least, greatest = prefix + quote(f"_min_{sensitive}"), prefix + quote(f"_max_{sensitive}")
        return (f"CASE WHEN min({least}) IS NULL THEN 0 "
                f"WHEN min({least}) = max({greatest}) THEN 1 ELSE 2 END")

    def passing(self, alias: str = "") -> str:
        """k records and k people (a lower bound: `_pe` summed, `_ps` the most of one cell), l values."""
        prefix = f"{alias}." if alias else ""
        tests = [f"{prefix}_n >= $k", f"{prefix}_pe + {prefix}_ps >= $k",
                 *(f"{prefix}{quote('_l_' + s)} >= $l" for s in self.sensitive)]
        return "(" + " AND ".join(tests) + ")"

    @staticmethod
    def people(prefix: str = "") -> str:
        """The sums a group of cells carries for `passing`."""
        return f", sum({prefix}_pe) AS _pe, max({prefix}_ps) AS _ps"

    @property
    def parameters(self) -> dict[str, int]:
        return {"k": self.k, "l": self.l} if self.sensitive else {"k": self.k}

    def suppress_sql(self) -> str:
        """Mark the partitions failing even at the top of every ladder (데이터 삭제)."""
        return (f"UPDATE {_WORK} SET _suppressed = true WHERE _key IN (SELECT _key FROM "
                f"(SELECT _key, sum(_n) AS _n{self.people()}{self.diversity()} FROM {_WORK} GROUP BY _key) "
                f"WHERE NOT {self.passing()})")

    def cut_sql(self, i: int, level: int) -> str:
        """Which records of ladder i's classes at `level` go one level finer (`_cut`)."""
        child = self.key({i: level - 1})
        known = " AND ".join(f"{self.level_column(i, level - 1, o)} IS NOT NULL"
                             for o in range(len(self.ladders[i].outputs)))
        sensitive = "".join(f", {column}" for column in self.carried_sensitive())
        return f"""
CREATE OR REPLACE TEMP TABLE {_CUT} AS
WITH candidates AS (
  SELECT _row, _n, _pe, _ps, _key, {child} AS _child, {known} AS _known{sensitive}
  FROM {_WORK} WHERE NOT _suppressed AND NOT _fix{i} AND _lv{i} = {level}),
children AS (
  SELECT _key, _child, sum(_n) AS _n{self.people()}, bool_and(_known) AS _known{self.diversity()}
  FROM candidates GROUP BY _key, _child),
judged AS (SELECT _key, _child, _n, _known AND {self.passing()} AS _pass FROM children),
rest AS (
  SELECT c._key, sum(c._n) AS _n{self.people('c.')}{self.diversity('c.')}
  FROM candidates c JOIN judged j ON c._key = j._key AND c._child = j._child
  WHERE NOT j._pass GROUP BY c._key),
rescued AS (
  SELECT j._key, j._child FROM judged j JOIN rest r ON j._key = r._key
  WHERE j._pass AND NOT {self.passing('r')}
  QUALIFY row_number() OVER (PARTITION BY j._key ORDER BY j._n, j._child) = 1)
SELECT c._row, j._pass AND s._key IS NULL AS _cut
FROM candidates c JOIN judged j ON c._key = j._key AND c._child = j._child
LEFT JOIN rescued s ON s._key = j._key AND s._child = j._child
"""

    def specialise_sql(self, i: int, level: int) -> str:
        return (f"UPDATE {_WORK} SET _lv{i} = {level - 1}, _key = {self.key({i: level - 1})} "
                f"FROM {_CUT} c WHERE {_WORK}._row = c._row AND c._cut")

    def fix_sql(self, i: int) -> str:
        return (f"UPDATE {_WORK} SET _fix{i} = true "
                f"FROM {_CUT} c WHERE {_WORK}._row = c._row AND NOT c._cut")

    def counts_sql(self) -> str:
        return f"SELECT sum(_n), sum(_n) FILTER (WHERE _suppressed) FROM {_WORK}"

    def target_sql(self, source: str, target: str, sensitives: list[Ladder], keep: Sequence[str]) -> str:
        """Each record of `source`, in its order, joined to its cell for the published values."""
        cells = self.cell_columns(sensitives)
        published = ", ".join(f"{sql} AS {quote('_out_' + out)}" for sql, out in self.published())
        same_cell = " AND ".join(f"r.{name} IS NOT DISTINCT FROM w.{name}" for _, name in cells)
        columns = ", ".join([*(f"r.{quote(p)}" for p in self.partition),
                             *(f"w.{quote('_out_' + out)} AS {quote(out)}" for _, out in self.published()),
                             *(f"r.{quote(s)}" for s in self.sensitive), *(f"r.{quote(c)}" for c in keep)])
        carried = cells + ([] if self.sensitive_in_cells else self.sensitive_columns(sensitives))
        names = {name for _, name in carried}
        records = ", ".join(["row_number() OVER () AS _record", *(f"{sql} AS {name}" for sql, name in carried),
                             *(quote(c) for c in keep if quote(c) not in names)])
        return (f"CREATE OR REPLACE TABLE {target} AS SELECT {columns} "
                f"FROM (SELECT {records} FROM {source}) r "
                f"JOIN (SELECT *, {published} FROM {_WORK} WHERE NOT _suppressed) w ON {same_cell} "
                f"ORDER BY r._record")

    def reached_sql(self, i: int) -> str:
        """The finest level of ladder i whose value the record publishes (NULL never matches)."""
        outputs = range(len(self.ladders[i].outputs))
        whens = " ".join(
            f"WHEN {' AND '.join(f'{self.level_column(i, j, o)} = {self.value(i, o)}' for o in outputs)} THEN {j}"
            for j in range(len(self.ladders[i].levels)))
        return f"CASE {whens} ELSE _lv{i} END"


def _report(connection, plan: _Plan, target: str, records_in: int, suppressed: int) -> AnonymityReport:
    keys = [*plan.partition, *(out for _, out in plan.published())]
    classes = connection.execute(_class_stats_sql(target, keys, plan.sensitive, plan.person)).fetchall()
    sizes = [row[0] for row in classes]
    l_reached = {s: min((row[1 + i] for row in classes), default=0)
                 for i, s in enumerate(plan.sensitive)}
    reached = _levels_reached(connection, plan)
    return AnonymityReport(
        k_required=plan.k, l_required=plan.l if plan.sensitive else 1,
        k_reached=min(sizes, default=0), l_reached=l_reached,
        records_in=records_in, records_out=connection.execute(f"SELECT count(*) FROM {target}").fetchone()[0],
        records_suppressed=suppressed,
        equivalence_classes=len(sizes), class_sizes=_size_buckets(sizes),
        levels={ladder.name: {ladder.levels[j].name: n for j, n in sorted(reached[i].items())}
                for i, ladder in enumerate(plan.ladders)},
        techniques=_techniques(plan, reached, suppressed),
        partition_by=list(plan.partition), sensitive=list(plan.sensitive),
        generalised_share=_generalised_share(connection, plan),
        priority=[ladder.name for ladder in plan.ladders],
        k_counted="records" if plan.person is None else "people",
    )


def _levels_reached(connection, plan: _Plan) -> list[dict[int, int]]:
    """Per ladder: level → records published at it (by value, see `_Plan.reached_sql`)."""
    reached = []
    for i in range(len(plan.ladders)):
        rows = connection.execute(f"SELECT {plan.reached_sql(i)} AS level, CAST(sum(_n) AS BIGINT) FROM {_WORK} "
                                  "WHERE NOT _suppressed GROUP BY level").fetchall()
        reached.append(dict(rows))
    return reached


def _generalised_share(connection, plan: _Plan) -> dict[str, float]:
    """Per output column: share of the records with a known finest value (a 읍면동 read from the
    address, a completion date) that publish a coarser one."""
    tests = [(out, f"sum(CASE WHEN {plan.value(i, o, 0)} IS NULL THEN NULL "  # per record: cells weigh _n
                   f"WHEN {sql} IS DISTINCT FROM {plan.value(i, o, 0)} THEN _n ELSE 0 END) / "
                   f"sum(CASE WHEN {plan.value(i, o, 0)} IS NOT NULL THEN _n END)")
             for i, ladder in enumerate(plan.ladders) for o, out in enumerate(ladder.outputs)
             for sql in [plan.value(i, o)]]
    row = connection.execute(f"SELECT {', '.join(t for _, t in tests)} FROM {_WORK} "
                             "WHERE NOT _suppressed").fetchall()[0]
    return {out: round(float(v or 0.0), 4) for (out, _), v in zip(tests, row)}


def _class_stats_sql(table: str, keys: Sequence[str], sensitive: Sequence[str], person: str | None = None) -> str:
    """Per class: its size (records, or distinct people with `person`; no key counts as one) and
    its distinct values of each sensitive column."""
    size = "count(*)" if person is None else f"count(DISTINCT {person_hash(quote(person))})"
    diversity = "".join(f", count(DISTINCT {quote(s)})" for s in sensitive)
    group = f" GROUP BY {', '.join(quote(k) for k in keys)}" if keys else ""
    return f"SELECT {size}{diversity} FROM {table}{group}"


def class_stats(connection, table: str, keys: Sequence[str], sensitive: Sequence[str] = (),
                person: str | None = None) -> tuple[int, dict[str, int]]:
    """(k, l per sensitive column) of any table: our own check, independent of the engine's state.
    With `person`, k counts distinct people."""
    rows = connection.execute(_class_stats_sql(table, keys, sensitive, person)).fetchall()
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


def _techniques(plan: _Plan, reached: list[dict[int, int]], suppressed: int) -> dict[str, list[str]]:
    techniques = dict(plan.fixed_techniques)
    for i, ladder in enumerate(plan.ladders):
        names = {ladder.levels[j].technique for j in reached[i]}
        for out in ladder.outputs:
            techniques[out] = sorted(names | ({SUPPRESSED} if suppressed else set()))
    return techniques
