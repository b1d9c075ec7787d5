"""Write a DuckDB file that analysts may hold open, without ever waiting for them.

DuckDB lets one process write a file and refuses a writer while any other process has it open,
even read-only. So the platform never writes the live file: it copies it, changes the copy,
checkpoints it and renames it over the live one. A reader keeps its snapshot (the old inode)
and sees the new version when it reconnects. Writers among themselves take an OS lock; a
writer that must wait gives up after a bounded wait, naming the process that holds it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

from gn_pipelines.file_lock import exclusive_lock

TEMP_MARKER = ".swap-"
WRITER_WAIT_SECONDS = 120.0


def writer_lock(database: Path, *, timeout: float = WRITER_WAIT_SECONDS):
    """One platform writer of `database` at a time; past `timeout` s, `LockTimeout` names the holder."""
    return exclusive_lock(database.with_name(database.name + ".write.lock"), wait_seconds=timeout,
                          what=f"{database.name}'s writer lock")


@contextmanager
def swapped_connection(database: Path, config: dict | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection on a copy of `database`, renamed over it when the block succeeds
    (nothing changes if it raises or the process dies: a stale copy is removed next time)."""
    database = Path(database)
    database.parent.mkdir(parents=True, exist_ok=True)
    with writer_lock(database):
        for stale in database.parent.glob(f"{database.name}{TEMP_MARKER}*"):
            stale.unlink(missing_ok=True)
        temp = database.with_name(f"{database.name}{TEMP_MARKER}{uuid.uuid4().hex[:12]}")
        try:
            if database.exists():
                shutil.copyfile(database, temp)
                shutil.copymode(database, temp)
                wal = database.with_name(database.name + ".wal")
                if wal.exists():  # left by a writer of an earlier version: its changes are not lost
                    shutil.copyfile(wal, temp.with_name(temp.name + ".wal"))
            connection = duckdb.connect(str(temp), config=config or {})
            try:
                yield connection
                connection.execute("CHECKPOINT")
            finally:
                connection.close()
            with open(temp, "rb") as handle:
                os.fsync(handle.fileno())
            # the live file's WAL (already copied in) must not be replayed onto the new file
            database.with_name(database.name + ".wal").unlink(missing_ok=True)
            os.replace(temp, database)
        finally:
            for path in (temp, temp.with_name(temp.name + ".wal")):
                path.unlink(missing_ok=True)
