"""A killed writer's partial file goes with the next write into its folder (a staged file, an event
log's record), and its work directory in the scratch zone with the next process working there; a
live or another host's recent one stays."""

import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from gn_pipelines.ingest.drop_log import drop_log_dir, record_drop
from gn_pipelines.ingest.parquet_io import copy_atomically
from gn_pipelines.unfinished_writes import FOREIGN_LEFTOVER_SECONDS, work_directory, write_text_atomically


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
    # a staged file whose delivered name looks like a work directory's ("<prefix>-<pid>-<ticks>-<host>.…")
    staged = folder / "water-2025-03-weekly.csv.parquet"
    for leftover in (dead_here, live_here, other_host_recent, other_host_stale, not_a_partial, staged):
        leftover.write_bytes(b"rows of a file being written")
    stale = time.time() - FOREIGN_LEFTOVER_SECONDS - 60
    for old in (other_host_stale, staged):
        os.utime(old, (stale, stale))

    with duckdb.connect() as connection:
        copy_atomically(connection, "SELECT 1 AS row_number", {}, folder / "2025-03-08.parquet")

    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["2025-03-08.parquet", live_here.name, other_host_recent.name, not_a_partial.name, staged.name])


KILLED_IN_ITS_WORK_DIRECTORY = """
import sys
from pathlib import Path
from gn_pipelines.unfinished_writes import work_directory
with work_directory(Path(sys.argv[1]), prefix="deidentify-") as work:
    (work / "validated.parquet").write_bytes(b"restricted rows")
    print(work, flush=True)
    sys.stdin.read()  # holds its directory until it is killed
"""


def test_a_killed_process_work_directory_in_the_scratch_zone_goes_with_the_next_process_working_there(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with subprocess.Popen([sys.executable, "-c", KILLED_IN_ITS_WORK_DIRECTORY, str(scratch)],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as killed:
        left = Path(killed.stdout.readline().strip())  # it made its directory and wrote into it
        killed.kill()
        killed.wait(30)
    assert (left / "validated.parquet").exists()
    alive = subprocess.Popen([sys.executable, "-c", KILLED_IN_ITS_WORK_DIRECTORY, str(scratch)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        working = Path(alive.stdout.readline().strip())
        foreign = scratch / "collect-42-7-another-host.abcd1234"  # another host's: not judged for a day
        foreign.mkdir()
        with work_directory(scratch, prefix="release-") as mine:
            assert sorted(p.name for p in scratch.iterdir()) == sorted([working.name, foreign.name, mine.name])
        assert sorted(p.name for p in scratch.iterdir()) == sorted([working.name, foreign.name])
    finally:
        alive.kill()
        alive.wait(30)
        alive.stdin.close()
        alive.stdout.close()


def test_a_killed_writers_partial_record_goes_with_the_next_record_in_its_log(tmp_path):
    gone = subprocess.Popen(["true"])
    gone.wait()
    log = drop_log_dir(tmp_path)
    log.mkdir(parents=True)
    dead = log / f".20261206T020000-000000_0123456789ab.json.{gone.pid}-1-{socket.gethostname()}.partial"
    dead.write_text('{"dataset": "civil_compl', encoding="utf-8")  # killed mid-write

    record = record_drop(tmp_path, dataset="civil_complaints", status="collected")

    [written] = log.iterdir()
    assert written.name.endswith(f"_{record['event_id'][:12]}.json")
    assert json.loads(written.read_text(encoding="utf-8")) == record


def test_a_record_written_owner_only_and_only_if_absent_never_replaces_the_first(tmp_path):
    record = tmp_path / "restricted" / "key_in_force.json"
    assert write_text_atomically(record, '{"key_id": "first"}', durable=True, owner_only=True, only_if_absent=True)
    assert not write_text_atomically(record, '{"key_id": "second"}', durable=True, owner_only=True,
                                     only_if_absent=True)
    assert record.read_text() == '{"key_id": "first"}' and stat.S_IMODE(record.stat().st_mode) == 0o600
    assert write_text_atomically(record, '{"key_id": "rekeyed"}', durable=True, owner_only=True)
    assert record.read_text() == '{"key_id": "rekeyed"}' and stat.S_IMODE(record.stat().st_mode) == 0o600
    assert [p.name for p in record.parent.iterdir()] == ["key_in_force.json"]  # no partial left behind
