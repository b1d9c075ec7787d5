"""A killed writer's partial file goes with the next write into its folder; a live or recent one stays."""

import os
import socket
import subprocess
import time

import duckdb

from gn_pipelines.ingest.parquet_io import copy_atomically
from gn_pipelines.unfinished_writes import FOREIGN_LEFTOVER_SECONDS


def test_the_first_write_into_a_folder_removes_dead_writers_partials_only(tmp_path):
    gone = subprocess.Popen(["true"])
    gone.wait()
    host = socket.gethostname()
    folder = tmp_path / "restricted" / "collected" / "civil_complaints" / "48740"
    folder.mkdir(parents=True)
    dead_here = folder / f".2025-03-03.parquet.{gone.pid}-1-{host}.partial"
    live_here = folder / f".2025-03-04.parquet.{os.getpid()}--{host}.partial"
    other_host_recent = folder / ".2025-03-05.parquet.42-7-another-host.partial"
    other_host_stale = folder / ".2025-03-06.parquet.42-7-another-host.partial"
    not_a_partial = folder / ".2025-03-07.parquet.partial"  # no writer in its name: not ours to judge
    for leftover in (dead_here, live_here, other_host_recent, other_host_stale, not_a_partial):
        leftover.write_bytes(b"rows of a file being written")
    stale = time.time() - FOREIGN_LEFTOVER_SECONDS - 60
    os.utime(other_host_stale, (stale, stale))

    with duckdb.connect() as connection:
        copy_atomically(connection, "SELECT 1 AS row_number", {}, folder / "2025-03-08.parquet")

    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["2025-03-08.parquet", live_here.name, other_host_recent.name, not_a_partial.name])
