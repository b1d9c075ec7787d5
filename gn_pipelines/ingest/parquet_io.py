"""The DuckDB habits every stage shares: a bounded, spilling connection per piece of work,
Parquet written beside its target and renamed into place, and database files others can open."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

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
    if scratch is not None:
        scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch, prefix=prefix) as work:
        connection = work_connection(Path(work), memory_limit)
        try:
            yield connection
        finally:
            connection.close()


def used_parameters(query: str, parameters: dict) -> dict:
    """DuckDB refuses named parameters a statement does not use."""
    return {name: value for name, value in parameters.items() if f"${name}" in query}


def copy_atomically(connection: duckdb.DuckDBPyConnection, query: str, parameters: dict,
                    target: Path) -> None:
    """Write `query` as Parquet next to `target`, then rename: readers never see half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    connection.execute(f"COPY ({query}) TO $target (FORMAT parquet, COMPRESSION zstd)",
                       used_parameters(query, parameters) | {"target": str(partial)}).fetchall()
    os.replace(partial, target)
