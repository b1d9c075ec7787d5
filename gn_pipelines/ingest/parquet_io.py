"""The DuckDB habits every stage shares: a bounded, spilling connection per piece of work,
Parquet written beside its target and renamed into place, and database files others can open."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from gn_pipelines.unfinished_writes import members_folder, partial_path, work_directory

# Per-stage memory cap: DuckDB spills to the work folder beyond it, so memory does not grow
# with the size of a drop.
DUCKDB_MEMORY_LIMIT = "1GB"

# DuckDB files that people open with their own DuckDB (analysts, the data lab, engineers' CLI)
# are created in the oldest storage format DuckDB still writes: a file in DuckDB 2's own format
# is refused by every 1.x release, the current DuckDB CLI (1.5.6) included.
PORTABLE_STORAGE = {"storage_compatibility_version": "v0.10.2"}


def work_connection(work_dir: Path, memory_limit: str = DUCKDB_MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that spills to `work_dir` and keeps row order."""
    connection = duckdb.connect(config={
        "memory_limit": memory_limit,
        "temp_directory": str(work_dir / "duckdb_spill"),
        "preserve_insertion_order": True,
    })
    connection.execute("SET enable_progress_bar = false")  # it would print into the run's stdout
    return connection


@contextmanager
def scratch_connection(scratch: Path | None, memory_limit: str = DUCKDB_MEMORY_LIMIT, *,
                       prefix: str = "duckdb-") -> Iterator[duckdb.DuckDBPyConnection]:
    """A `work_connection` spilling to a fresh owner-only directory under `scratch` (the data
    root's scratch zone; the system's temporary directory if None), removed on exit: for a
    step whose work folder holds nothing but DuckDB's spill. A bare `duckdb.connect()` may take
    80 % of the machine."""
    with (work_directory(scratch, prefix) if scratch is not None
          else tempfile.TemporaryDirectory(prefix=prefix)) as work:
        connection = work_connection(Path(work), memory_limit)
        try:
            yield connection
        finally:
            connection.close()


@contextmanager
def _setting_within(connection: duckdb.DuckDBPyConnection, name: str, value,
                   restored_to=None) -> Iterator[None]:
    """The block's statements under DuckDB setting `name` = `value`; after it, `restored_to`, or
    the connection's own value read before (the block-scoped settings below all go through here)."""
    if restored_to is None:
        restored_to = connection.execute("SELECT current_setting($name)", {"name": name}).fetchone()[0]
    connection.execute(f"SET {name} = $value", {"value": value})
    try:
        yield
    finally:
        connection.execute(f"SET {name} = $value", {"value": restored_to})


def one_thread(connection: duckdb.DuckDBPyConnection):
    """The block's statements on one thread (the connection's setting restored after): where the
    order rows come out in must be the order they went in, e.g. through a join."""
    return _setting_within(connection, "threads", 1)


def optimizers_disabled(connection: duckdb.DuckDBPyConnection, *names: str):
    """The block's statements planned without DuckDB's optimizer passes `names` (the connection's
    list restored after)."""
    before = connection.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0]
    listed = [name for name in before.split(",") if name.strip()]
    return _setting_within(connection, "disabled_optimizers", ",".join([*listed, *names]), restored_to=before)


def memory_limit_within(connection: duckdb.DuckDBPyConnection, limit: str,
                        restored_to: str = DUCKDB_MEMORY_LIMIT):
    """The block under a smaller DuckDB memory limit, `restored_to` after (the connection's own:
    DuckDB shows its setting rounded, so one read back and set again drifts). DuckDB spills what
    it holds beyond the limit at once, leaving the room to what Python builds in the block."""
    return _setting_within(connection, "memory_limit", limit, restored_to=restored_to)


def used_parameters(query: str, parameters: dict) -> dict:
    """DuckDB refuses named parameters a statement does not use."""
    return {name: value for name, value in parameters.items() if f"${name}" in query}


def copy_atomically(connection: duckdb.DuckDBPyConnection, query: str, parameters: dict,
                    target: Path) -> None:
    """Write `query` as Parquet next to `target`, then rename: readers never see half a file."""
    partial = partial_path(target)
    connection.execute(f"COPY ({query}) TO $target (FORMAT parquet, COMPRESSION zstd)",
                       used_parameters(query, parameters) | {"target": str(partial)}).fetchall()
    os.replace(partial, target)


def copy_file_atomically(source: Path, target: Path) -> Path:
    """Copy a finished file beside `target`, then rename it into place (as `copy_atomically`)."""
    partial = partial_path(target)
    shutil.copyfile(source, partial)
    os.replace(partial, target)
    return target


# Below this many rows a batch's files are written by one partitioned COPY on one thread (row
# order within a partition holds only on one thread); above it, file by file on every thread.
# A COPY costs about as much to plan as to write a small file: 126 small complaint files
# took ~250 statements per stage before.
PARTITIONED_COPY_MAX_ROWS = 250_000


def copy_members_atomically(connection: duckdb.DuckDBPyConnection, query: str, parameters: dict,
                            targets: list[Path], *, order_by: str, rows: int,
                            member_column: str = "__member") -> None:
    """Write `query`'s rows as one Parquet file per batch member, like `copy_atomically` (each
    target renamed into place whole): the rows of member i (`member_column` = i, which is not
    written) go to `targets[i]`, in `order_by` order; a member without rows gets an empty file."""
    members = f"SELECT * EXCLUDE ({member_column}) FROM ({query})"
    # beside the targets; every file is two folders below `staging`, out of reach of the stages'
    # `<dataset>/*/*.parquet` readers; a killed writer's folder goes with the next write there
    staging = members_folder(Path(os.path.commonpath([t.parent for t in targets])))
    try:
        if len(targets) == 1 or rows > PARTITIONED_COPY_MAX_ROWS:
            written = []
            for i in range(len(targets)):
                written.append(staging / "out" / str(i) / "member.parquet")
                copy_atomically(connection, f"{members} WHERE {member_column} = {i} ORDER BY {order_by}",
                                parameters, written[-1])
        else:
            written = _copy_partitioned(connection, query, parameters, staging, len(targets),
                                        order_by=order_by, member_column=member_column)
        if None in written:  # members without rows get the query's empty file
            empty = staging / "empty" / "empty.parquet"
            copy_atomically(connection, f"{members} LIMIT 0", parameters, empty)
            for i in [i for i, file in enumerate(written) if file is None]:
                written[i] = shutil.copyfile(empty, staging / "empty" / f"{i}.parquet")
        for file, target in zip(written, targets):
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(file, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _copy_partitioned(connection: duckdb.DuckDBPyConnection, query: str, parameters: dict, staging: Path,
                      members: int, *, order_by: str, member_column: str) -> list[Path | None]:
    """One COPY on one thread into a folder per member; each member's file (None without rows)."""
    with one_thread(connection):
        connection.execute(
            f"COPY (SELECT * FROM ({query}) ORDER BY {member_column}, {order_by}) TO $folder "
            f"(FORMAT parquet, COMPRESSION zstd, PARTITION_BY ({member_column}))",
            used_parameters(query, parameters) | {"folder": str(staging / "out")}).fetchall()
    written: list[Path | None] = []
    for i in range(members):
        files = sorted((staging / "out" / f"{member_column}={i}").glob("*.parquet"))
        if len(files) > 1:
            raise RuntimeError(f"DuckDB split member {i}'s rows into {len(files)} files")
        written.append(files[0] if files else None)
    return written
