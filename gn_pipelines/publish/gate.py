"""The publication gate: the checks that block a table on its way into a release.

Write–audit–publish: the rows about to be published are checked first (a final scan for
residual identifiers in every text column; no visible cell under the small-cell threshold in an
aggregate), and the tables are written into the release being built only when every check of
every table passed. A blocked gate writes nothing, so the current release stays as it was.

Plain Python over DuckDB; the Dagster layer turns the verdicts into blocking asset checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import duckdb

from gn_pipelines.contracts.generalisation import quote
from gn_pipelines.ingest.casting import sql_text
from gn_pipelines.ingest.parquet_io import scratch_connection
from gn_pipelines.privacy.recipes import SMALL_CELL_THRESHOLD
from gn_pipelines.publish.releases import Release, base_published_db, record_table_inputs
from gn_pipelines.publish.tables import published_table
from gn_pipelines.publish.warehouse import PublicationResult, publish
from gn_pipelines.settings import DataZones

# A source: the path of a Parquet file (str or Path), or a frame (pandas DataFrame, pyarrow Table).
GateSource = Any


@dataclass(frozen=True)
class TableVerdict:
    """What the gate found in one table's rows."""

    table: str
    residual_identifiers: dict[str, int]  # kind → identifiers found in the text columns
    small_cells: int | None = None  # visible cells under the threshold; None: not an aggregate
    threshold: int = SMALL_CELL_THRESHOLD

    @property
    def passed(self) -> bool:
        return not self.residual_identifiers and not self.small_cells

    def to_dict(self) -> dict:
        return {"residual_identifiers": self.residual_identifiers, "small_cells": self.small_cells,
                "threshold": self.threshold}

    @classmethod
    def from_dict(cls, table: str, record: dict) -> TableVerdict:
        return cls(table, dict(record.get("residual_identifiers") or {}), record.get("small_cells"),
                   record.get("threshold", SMALL_CELL_THRESHOLD))


@dataclass(frozen=True)
class GateOutcome:
    verdicts: dict[str, TableVerdict]
    publication: PublicationResult | None  # None: blocked, or carried over unchanged
    carried_from: str | None = None  # the release the unchanged tables were built in
    records: dict[str, dict] = field(default_factory=dict)  # what the release records per table

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts.values())

    @property
    def blocked_reason(self) -> str | None:
        return None if self.passed else "a blocking check failed: nothing was published"


def text_columns(table: str) -> list[str]:
    """The free-text-capable columns of a published table (every VARCHAR but the keys)."""
    return [c.name for c in published_table(table).columns
            if c.type == "VARCHAR" and not c.name.endswith("_key")]


def _candidate(connection: duckdb.DuckDBPyConnection, source: GateSource) -> None:
    if isinstance(source, (str, Path)):
        connection.execute(f"CREATE VIEW candidate AS SELECT * FROM read_parquet({sql_text(str(source))})")
    else:
        connection.register("candidate", source)


def _residual_identifiers(connection: duckdb.DuckDBPyConnection, table: str) -> dict[str, int]:
    from gn_pipelines.privacy.scrubber import count_residual_identifiers

    found = count_residual_identifiers(connection, "candidate", text_columns(table))
    return {kind: int(n) for kind, n in found.items() if n}


def _small_cells(connection: duckdb.DuckDBPyConnection, count_column: str, threshold: int,
                 people_column: str | None = None) -> int:
    """Visible cells counting fewer than `threshold` records, or people where a person can make
    several records (a visible cell must show both; a hidden cell's count is NULL)."""
    count = quote(count_column)
    few_people = (f" OR ({count} IS NOT NULL AND coalesce({quote(people_column)}, 0) < $threshold)"
                  if people_column else "")
    return connection.execute(f"SELECT count(*) FROM candidate WHERE {count} < $threshold{few_people}",
                              {"threshold": threshold}).fetchone()[0]


def check_table(table: str, source: GateSource, count_column: str | None = None,
                scratch: Path | None = None, people_column: str | None = None) -> TableVerdict:
    """Every check of one table, on one connection (aggregates: with their count column and, if
    they count people apart, their people column); DuckDB spills to `scratch` beyond its memory
    limit (a released table can hold millions of rows)."""
    with scratch_connection(scratch) as connection:
        _candidate(connection, source)
        return TableVerdict(table, _residual_identifiers(connection, table),
                            None if count_column is None else _small_cells(
                                connection, count_column, SMALL_CELL_THRESHOLD, people_column))


def check_tables(sources: Mapping[str, GateSource], count_columns: Mapping[str, str] | None = None,
                 scratch: Path | None = None,
                 people_columns: Mapping[str, str] | None = None) -> dict[str, TableVerdict]:
    """Every check of every table (aggregates: those named in `count_columns`)."""
    counts, people = count_columns or {}, people_columns or {}
    return {table: check_table(table, source, counts.get(table), scratch, people.get(table))
            for table, source in sources.items()}


def _to_write(source: GateSource, people_column: str | None):
    """What `publish` writes of a checked source: a SELECT or a frame, without the people column."""
    if isinstance(source, (str, Path)):
        excluded = f" EXCLUDE ({quote(people_column)})" if people_column else ""
        return f"SELECT *{excluded} FROM read_parquet({sql_text(str(source))})"
    if people_column is None:
        return source
    if hasattr(source, "drop_columns"):  # pyarrow
        return source.drop_columns([people_column])
    return source.drop(columns=[people_column])


def publish_through_gate(root: Path, draft: Release, sources: Mapping[str, GateSource], *,
                         count_columns: Mapping[str, str] | None = None,
                         fingerprints: Mapping[str, str] | None = None,
                         reports: Mapping[str, dict] | None = None,
                         people_columns: Mapping[str, str] | None = None) -> GateOutcome:
    """Check `sources`; if every check passed, write them all into the release being built
    (`draft`; the other tables carry over) and record their fingerprints, verdicts and reports
    (e.g. a suppression report's figures, shown again when the table is carried over).
    `people_columns`: an aggregate's people column, checked against the threshold and not written."""
    people = people_columns or {}
    verdicts = check_tables(sources, count_columns, DataZones(root).scratch, people)
    if not all(v.passed for v in verdicts.values()):
        return GateOutcome(verdicts, None)
    selects = {table: _to_write(s, people.get(table)) for table, s in sources.items()}
    # the draft's file is read by nobody until the release is complete: changed in place (one
    # transaction), not copied whole again for every build
    result = publish(draft.published_db, selects, carry_from=base_published_db(root, draft), in_place=True)
    records = {table: {"fingerprint": (fingerprints or {}).get(table), "built_in": draft.id,
                       "checks": verdicts[table].to_dict(), "report": (reports or {}).get(table)}
               for table in sources}
    record_table_inputs(root, draft, records)
    return GateOutcome(verdicts, result, records=records)


def carry_over_through_gate(root: Path, draft: Release, records: Mapping[str, dict]) -> GateOutcome:
    """Tables whose inputs did not change (`releases.unchanged_table_inputs`): nothing is
    rebuilt; the release records them as carried over, with the verdicts they were published on."""
    record_table_inputs(root, draft, dict(records))
    verdicts = {table: TableVerdict.from_dict(table, record.get("checks") or {}) for table, record in records.items()}
    built_in = sorted({record.get("built_in") or "" for record in records.values()})
    return GateOutcome(verdicts, None, carried_from=", ".join(b for b in built_in if b) or None,
                       records=dict(records))
