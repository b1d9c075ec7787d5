"""Atomic publication of the published tables into `warehouse/published.duckdb`.

DuckDB lets one process write a file, and a reader of a file that is being rewritten in place
would block the writer (or see it half done). So a publication never touches the live file: it
builds the new version in a sibling temporary file (fresh, so the file does not grow with free
blocks), copies over the published tables it does not replace, writes the comments and the
catalog, checkpoints, fsyncs, and `os.replace`s it over the old one. Readers that hold the old
file keep reading their consistent snapshot (the old inode); new connections see the new
version; a failed or killed publication leaves only a stale temporary file, removed next time.
"""

from __future__ import annotations

import os
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import duckdb

from gn_pipelines.file_lock import exclusive_lock
from gn_pipelines.ingest.casting import sql_text
from gn_pipelines.ingest.parquet_io import DUCKDB_MEMORY_LIMIT, PORTABLE_STORAGE
from gn_pipelines.publish.catalog import catalog_rows
from gn_pipelines.publish.tables import CATALOG_TABLE, PUBLISHED_TABLES, PublishedTable, published_table
from gn_pipelines.unfinished_writes import fsync_path

# A source is a SELECT (over Parquet, an attached database, views made by `connection_setup`),
# or a small in-memory frame (pandas DataFrame or pyarrow Table).
TableSource = Any
ConnectionSetup = Callable[[duckdb.DuckDBPyConnection], None]
TEMP_MARKER = ".tmp-"
# Bounded like every stage: beyond it DuckDB spills next to the file (`<file>.tmp`), so a table of
# millions of rows is written without taking the machine's memory (DuckDB's default is 80 % of it).
_WRITING = PORTABLE_STORAGE | {"memory_limit": DUCKDB_MEMORY_LIMIT}


class PublicationError(RuntimeError):
    """A publication was refused or failed; the previous published file is untouched."""


@dataclass(frozen=True)
class PublicationResult:
    published_db: Path
    row_counts: dict[str, int]  # every table now in the file
    published: tuple[str, ...]  # tables (re)built by this publication
    carried_over: tuple[str, ...]  # tables copied unchanged from the previous version
    published_at: datetime
    seconds: float


def publish(published_db: Path, tables: Mapping[str, TableSource], *,
            connection_setup: ConnectionSetup | None = None,
            carry_from: Path | None = None, in_place: bool = False) -> PublicationResult:
    """Publish `tables` (name → SELECT or frame) atomically; the other published tables carry over
    from the file's previous version, or from `carry_from` when it has none (a new release).

    Columns must be exactly those of `tables.py` (any order; they are cast to the declared types).
    `data_catalog` is rebuilt from the result unless it is given.

    `in_place`: for a file nobody reads yet (a release being built): once it exists, it is
    changed in one transaction instead of being copied whole into a new file, so each build of a
    release no longer copies every table built before it. A killed write rolls back with the
    transaction (and the run's draft release is abandoned anyway).
    """
    started = time.monotonic()
    published_db = Path(published_db)
    for name in tables:
        _declared(name)
    published_db.parent.mkdir(parents=True, exist_ok=True)
    with _publisher_lock(published_db):
        remove_stale_temp_files(published_db)
        if in_place and published_db.exists():
            now = datetime.now(timezone.utc)
            counts = _update(published_db, tables, connection_setup, now)
            fsync_path(published_db)
            carried = tuple(t for t in counts if t not in tables and t != CATALOG_TABLE)
            return PublicationResult(published_db, counts, tuple(tables), carried, now,
                                     round(time.monotonic() - started, 3))
        temp = published_db.with_name(f"{published_db.name}{TEMP_MARKER}{uuid.uuid4().hex[:12]}")
        try:
            now = datetime.now(timezone.utc)
            previous = published_db if published_db.exists() or carry_from is None else Path(carry_from)
            counts, carried = _build(temp, previous, tables, connection_setup, now)
            fsync_path(temp)
            os.replace(temp, published_db)
            fsync_path(published_db.parent)
        finally:
            _remove_temp(temp)
    return PublicationResult(published_db, counts, tuple(tables), carried, now,
                             round(time.monotonic() - started, 3))


def _declared(name: str) -> PublishedTable:
    try:
        return published_table(name)
    except KeyError as error:
        raise PublicationError(str(error.args[0])) from None


def _begin_with_checked_sources(connection, tables: Mapping[str, TableSource],
                                connection_setup: ConnectionSetup | None) -> dict[str, str]:
    """Open the one transaction of a build, and each table's SELECT checked against its declaration.

    One transaction: every CREATE and COMMENT ON in auto-commit was its own commit (a third of a
    publication's time); a failure rolls back."""
    if connection_setup is not None:
        connection_setup(connection)
    connection.execute("BEGIN TRANSACTION")
    selects = {name: _source_select(connection, name, source) for name, source in tables.items()}
    for name, select in selects.items():
        check_columns(connection, _declared(name), select)
    return selects


def _build(temp: Path, previous: Path, tables: Mapping[str, TableSource],
           connection_setup: ConnectionSetup | None, now: datetime) -> tuple[dict[str, int], tuple[str, ...]]:
    connection = duckdb.connect(str(temp), config=_WRITING)
    try:
        selects = _begin_with_checked_sources(connection, tables, connection_setup)
        carried, last_updated = _carry_over(connection, previous, set(tables))
        for name, select in selects.items():
            _create_table(connection, _declared(name), select)
            last_updated[name] = now
        if CATALOG_TABLE not in tables:
            _create_catalog(connection, last_updated | {CATALOG_TABLE: now})
        _drop_everything_else(connection)
        counts = _comment_and_count(connection)
        connection.execute("COMMIT")
        connection.execute("CHECKPOINT")
        return counts, carried
    finally:
        connection.close()


def _update(published_db: Path, tables: Mapping[str, TableSource],
            connection_setup: ConnectionSetup | None, now: datetime) -> dict[str, int]:
    """`tables` replaced in the file itself, the catalog rebuilt, in one transaction."""
    connection = duckdb.connect(str(published_db), config=_WRITING)
    try:
        selects = _begin_with_checked_sources(connection, tables, connection_setup)
        present = {n for (n,) in connection.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main'").fetchall()}
        last_updated = {}
        if CATALOG_TABLE in present:
            last_updated = dict(connection.execute(
                f'SELECT table_name, last_updated FROM main."{CATALOG_TABLE}"').fetchall())
        for name, select in selects.items():
            _create_table(connection, _declared(name), select)
            write_comments(connection, _declared(name))
            last_updated[name] = now
        if CATALOG_TABLE not in tables:
            published = {t.name for t in PUBLISHED_TABLES if t.name in present | set(tables)}
            _create_catalog(connection, {n: last_updated.get(n, now) for n in published} | {CATALOG_TABLE: now})
            write_comments(connection, _declared(CATALOG_TABLE))
        _drop_everything_else(connection)
        counts = _row_counts(connection)
        connection.execute("COMMIT")
        connection.execute("CHECKPOINT")
        return counts
    finally:
        connection.close()


def _source_select(connection, name: str, source: TableSource) -> str:
    if isinstance(source, str):
        return source
    view = f"_publish_source_{name}"
    connection.register(view, source)
    return f'SELECT * FROM "{view}"'


def check_columns(connection, table: PublishedTable, select: str) -> None:
    """Refuse a source whose column names differ from the declaration (readable reason)."""
    try:
        described = connection.execute(f"DESCRIBE {select}").fetchall()
    except duckdb.Error as error:
        raise PublicationError(f"{table.name}: the source query fails: {error}") from error
    names = [row[0] for row in described]
    declared = set(table.column_names)
    missing = [c for c in table.column_names if c not in names]
    unexpected = [c for c in names if c not in declared]
    duplicated = sorted({c for c in names if names.count(c) > 1})
    if missing or unexpected or duplicated:
        parts = [f"missing {missing}" if missing else "", f"unexpected {unexpected}" if unexpected else "",
                 f"duplicated {duplicated}" if duplicated else ""]
        raise PublicationError(f"{table.name}: columns do not match tables.py: "
                               + "; ".join(p for p in parts if p))


def _carry_over(connection, previous: Path, replaced: set[str]) -> tuple[tuple[str, ...], dict[str, datetime]]:
    """Copy the previous version's published tables that this publication does not replace."""
    if not previous.exists():
        return (), {}
    connection.execute(f"ATTACH {sql_text(str(previous))} AS previous (READ_ONLY)")
    try:
        present = {n for (n,) in connection.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'previous' "
            "AND schema_name = 'main'").fetchall()}
        carried = tuple(t.name for t in PUBLISHED_TABLES
                        if t.name in present and t.name not in replaced and t.name != CATALOG_TABLE)
        for name in carried:
            connection.execute(f'CREATE TABLE main."{name}" AS SELECT * FROM previous.main."{name}"')
        last_updated = {}
        if CATALOG_TABLE in present:
            last_updated = dict(connection.execute(
                f'SELECT table_name, last_updated FROM previous.main."{CATALOG_TABLE}"').fetchall())
        now = datetime.now(timezone.utc)
        return carried, {name: last_updated.get(name, now) for name in carried}
    finally:
        connection.execute("DETACH previous")


def _create_table(connection, table: PublishedTable, select: str) -> None:
    casts = ", ".join(f'CAST("{c.name}" AS {c.type}) AS "{c.name}"' for c in table.columns)
    try:
        connection.execute(f'CREATE OR REPLACE TABLE main."{table.name}" AS SELECT {casts} FROM ({select}) AS source')
    except duckdb.Error as error:
        raise PublicationError(f"{table.name}: building the table failed: {error}") from error


def _create_catalog(connection, last_updated: dict[str, datetime]) -> None:
    table = published_table(CATALOG_TABLE)
    columns = ", ".join(f'"{c.name}" {c.type}' for c in table.columns)
    connection.execute(f'CREATE OR REPLACE TABLE main."{CATALOG_TABLE}" ({columns})')
    rows = catalog_rows(connection, last_updated)
    placeholders = ", ".join("?" for _ in table.columns)
    connection.executemany(f'INSERT INTO main."{CATALOG_TABLE}" VALUES ({placeholders})', rows)


def _drop_everything_else(connection) -> None:
    """Leave only contract tables: `connection_setup` may have made views over the restricted zone."""
    declared = {t.name for t in PUBLISHED_TABLES}
    for kind, schema, name in connection.execute(
            "SELECT 'VIEW', schema_name, view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary "
            "AND database_name = current_database() UNION ALL "
            "SELECT 'TABLE', schema_name, table_name FROM duckdb_tables() WHERE NOT temporary "
            "AND database_name = current_database()").fetchall():
        if not (kind == "TABLE" and schema == "main" and name in declared):
            connection.execute(f'DROP {kind} IF EXISTS "{schema}"."{name}"')


def _comment_and_count(connection) -> dict[str, int]:
    present = {n for (n,) in connection.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main'").fetchall()}
    for table in (t for t in PUBLISHED_TABLES if t.name in present):
        write_comments(connection, table)
    return _row_counts(connection)


def _row_counts(connection) -> dict[str, int]:
    present = {n for (n,) in connection.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main'").fetchall()}
    return {table.name: connection.execute(f'SELECT count(*) FROM main."{table.name}"').fetchone()[0]
            for table in PUBLISHED_TABLES if table.name in present}


def write_comments(connection, table: PublishedTable) -> None:
    """`COMMENT ON` the table and each column, in Korean then English, the privacy class first."""
    table_comment = (f"[{table.privacy_class}] {table.title_ko}: {table.description_ko} | "
                     f"{table.title_en}: {table.description_en}")
    connection.execute(f'COMMENT ON TABLE main."{table.name}" IS {sql_text(table_comment)}')
    for column in table.columns:
        comment = f"{column.comment_ko} | {column.comment_en}"
        connection.execute(f'COMMENT ON COLUMN main."{table.name}"."{column.name}" IS {sql_text(comment)}')


@contextmanager
def _publisher_lock(published_db: Path) -> Iterator[None]:
    """One publisher per file at a time (an OS lock, released even when the process is killed)."""
    with exclusive_lock(published_db.with_name(published_db.name + ".publish.lock"),
                        what=f"the publisher lock of {published_db.name}"):
        yield


def remove_stale_temp_files(published_db: Path) -> list[Path]:
    """Remove temporary files left by killed publications (call only while holding the lock)."""
    stale = sorted(published_db.parent.glob(f"{published_db.name}{TEMP_MARKER}*"))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _remove_temp(temp: Path) -> None:
    for path in (temp, temp.with_name(temp.name + ".wal")):
        path.unlink(missing_ok=True)
