"""A batch's files written in one statement are the files written one by one; a killed writer's
folder is removed by the next write there."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from gn_pipelines.ingest.parquet_io import copy_atomically, copy_members_atomically
from gn_pipelines_tests.polling import poll

# three members: many rows out of order, none at all, one row; a text and a NULL-able column
ROWS = """SELECT * FROM (VALUES (0, 3, 'c', NULL), (2, 1, 'z', 1.5::DOUBLE), (0, 1, 'a', 2.0), (0, 2, 'b', NULL))
          AS t(__member, row_number, label, amount)"""
QUERY = "SELECT __member, row_number, label, amount, $tag AS tag FROM batch"


@pytest.fixture
def connection():
    connection = duckdb.connect()
    connection.execute(f"CREATE TABLE batch AS {ROWS}")
    # many rows for member 0: on several threads DuckDB would interleave their order in its file
    connection.execute("SET threads = 2")
    connection.execute("INSERT INTO batch SELECT 0, 100 + i, 'x' || i, i FROM range(1000000) r(i)")
    yield connection
    connection.close()


def _same_file(connection, written: Path, expected: Path) -> bool:
    """Same schema, same rows, in the same (row number) order."""
    describe = "DESCRIBE SELECT * FROM read_parquet($p)"
    if connection.execute(describe, {"p": str(written)}).fetchall() != connection.execute(
            describe, {"p": str(expected)}).fetchall():
        return False
    differing = connection.execute("""SELECT count(*) FROM (
        (SELECT * FROM read_parquet($a) EXCEPT ALL SELECT * FROM read_parquet($b)) UNION ALL
        (SELECT * FROM read_parquet($b) EXCEPT ALL SELECT * FROM read_parquet($a)))""",
                                   {"a": str(written), "b": str(expected)}).fetchone()[0]
    in_order = connection.execute("""SELECT coalesce(bool_and(row_number > previous), true) FROM (
        SELECT row_number, lag(row_number) OVER () AS previous FROM read_parquet($p))""",
                                  {"p": str(written)}).fetchone()[0]
    return differing == 0 and in_order


def _one_by_one(connection, folder: Path) -> list[Path]:
    targets = [folder / f"one/{i}.parquet" for i in range(3)]
    for i, target in enumerate(targets):
        copy_atomically(connection, f"SELECT * EXCLUDE (__member) FROM ({QUERY}) WHERE __member = {i} "
                        "ORDER BY row_number", {"tag": "t"}, target)
    return targets


@pytest.mark.parametrize("rows", [10, 10_000_000], ids=["partitioned", "file by file"])
def test_members_written_together_equal_members_written_alone(connection, tmp_path, rows):
    expected = _one_by_one(connection, tmp_path)
    targets = [tmp_path / f"together/{provider}/{i}.parquet" for i, provider in enumerate("abc")]

    copy_members_atomically(connection, QUERY, {"tag": "t"}, targets, order_by="row_number", rows=rows)

    assert all(_same_file(connection, t, e) for t, e in zip(targets, expected))
    assert connection.execute("SELECT count(*) FROM read_parquet($p)", {"p": str(targets[1])}).fetchone()[0] == 0
    # nothing is left beside the targets but the targets
    assert sorted(p.relative_to(tmp_path / "together") for p in (tmp_path / "together").rglob("*")
                  if p.is_file()) == [Path(f"{p}/{i}.parquet") for i, p in enumerate("abc")]


def test_partitioned_copy_restores_the_connection_threads(connection, tmp_path):
    connection.execute("SET threads = 2")
    copy_members_atomically(connection, QUERY, {"tag": "t"}, [tmp_path / f"{i}.parquet" for i in range(3)],
                            order_by="row_number", rows=10)
    assert connection.execute("SELECT current_setting('threads')").fetchone()[0] == 2


KILLED_WRITER = """
import sys, duckdb
from pathlib import Path
from gn_pipelines.ingest.parquet_io import copy_members_atomically, work_connection
folder = Path(sys.argv[1])
connection = work_connection(folder.parent, memory_limit="200MB")  # its spill stays in the test's folder
# far more rows than it can sort before it is killed, in one partitioned COPY
copy_members_atomically(connection, "SELECT i % 2 AS __member, i AS row_number FROM range(2000000000) r(i)", {},
                        [folder / "a" / "0.parquet", folder / "b" / "1.parquet"], order_by="row_number", rows=10)
"""


def test_the_next_write_removes_the_folder_of_a_killed_writer_only(connection, tmp_path):
    folder = tmp_path / "staged"
    writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(folder)])
    try:
        assert poll(lambda: writer.poll() is not None or any(folder.glob(".members-*")), 120), \
            "the writer never made its folder"
        assert writer.poll() is None, "the writer ended before it was killed"
    finally:
        writer.kill()
        writer.wait(30)
    left = list(folder.glob(".members-*"))
    assert len(left) == 1
    host = socket.gethostname()
    live = folder / f".members-{os.getpid()}--{host}-abc123"  # this process: writing, for all it knows
    other_host_today = folder / ".members-42-99-another-host-abc123"
    other_host_stale = folder / ".members-42-99-another-host-def456"
    for kept in (live, other_host_today, other_host_stale):
        (kept / "out").mkdir(parents=True)
        (kept / "out" / "part.parquet").write_bytes(b"PAR1")
    two_days_ago = time.time() - 2 * 86400
    for path in (other_host_stale, other_host_stale / "out", other_host_stale / "out" / "part.parquet"):
        os.utime(path, (two_days_ago, two_days_ago))

    targets = [folder / "a" / "0.parquet", folder / "b" / "1.parquet", folder / "b" / "2.parquet"]
    copy_members_atomically(connection, QUERY, {"tag": "t"}, targets, order_by="row_number", rows=10)

    assert sorted(p.name for p in folder.glob(".members-*")) == sorted([live.name, other_host_today.name])
    assert connection.execute("SELECT count(*) FROM read_parquet($p)", {"p": str(targets[2])}).fetchone()[0] == 1
