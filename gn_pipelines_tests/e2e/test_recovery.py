"""Recovery without a human: `gn-pipelines process` (or one of its workers) killed with SIGKILL at a
chosen moment, then one plain `process`; and a reader polling the published warehouse while a
release is swapped in."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable

import duckdb
import pytest

from gn_pipelines.publish.releases import current_release, list_releases
from gn_pipelines.publish.tables import PUBLISHED_TABLES
from gn_pipelines.resources import RESTRICTED_WAREHOUSE_POOL
from gn_pipelines.run_recovery import IN_PROGRESS
from gn_pipelines.unfinished_writes import WORK_DIRECTORIES
from gn_pipelines_tests.e2e.conftest import Platform
from gn_pipelines_tests.e2e.drops import complaints_48740, deliver, welfare_48170_cp949

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]  # two or three whole `process` each

COMMAND_TIMEOUT = 300  # a whole `process` on this small landing zone, on a busy 2-core machine


def explain(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr[-3000:]}"


def process(platform: Platform, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run((platform.command("gn-pipelines"), "process", *args), env=platform.env, cwd=cwd,
                          capture_output=True, text=True, timeout=COMMAND_TIMEOUT)


def start_process(platform: Platform, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen((platform.command("gn-pipelines"), "process"), env=platform.env, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = COMMAND_TIMEOUT,
               proc: subprocess.Popen | None = None) -> None:
    """Poll `condition` (bounded); fail saying what never happened."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc is None or proc.poll() is None, f"process ended before {what}"
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.1)


def deliver_sample(platform: Platform) -> None:
    for drop in (complaints_48740(valid_rows=30), welfare_48170_cp949(valid_rows=12)):
        deliver(platform.zones.landing, drop.relative, drop.content, outgoing=platform.outgoing)


def runs_in_progress(platform: Platform) -> list[str]:
    import dagster as dg

    with platform.instance() as instance:
        return [f"{r.dagster_run.job_name}:{r.dagster_run.status.value}" for r in
                instance.get_run_records(filters=dg.RunsFilter(statuses=IN_PROGRESS))]


def pool_holders(platform: Platform, pool: str) -> set[str]:
    with platform.instance() as instance:
        return instance.event_log_storage.get_concurrency_info(pool).active_run_ids


def test_kill_during_the_setup_run_frees_its_pool_slot(platform, tmp_path):
    deliver_sample(platform)
    killed = start_process(platform, tmp_path)
    wait_until(lambda: pool_holders(platform, RESTRICTED_WAREHOUSE_POOL), "the set-up run holds its pool slot",
               proc=killed)
    killed.send_signal(signal.SIGKILL)
    killed.wait(10)
    assert pool_holders(platform, RESTRICTED_WAREHOUSE_POOL)  # the dead run still holds the only slot

    started = time.monotonic()
    result = process(platform, tmp_path)
    assert result.returncode == 0, explain(result)
    assert "recovered run" in result.stdout and "setup_restricted_warehouse" in result.stdout, explain(result)
    assert "publish_all: " in result.stdout, explain(result)
    assert pool_holders(platform, RESTRICTED_WAREHOUSE_POOL) == set()
    assert runs_in_progress(platform) == []
    print(f"recovered from a kill in the set-up run in {time.monotonic() - started:.1f} s")


def test_kill_during_publication_is_rolled_back_and_republished_by_a_plain_process(platform, tmp_path):
    deliver_sample(platform)
    killed = start_process(platform, tmp_path)
    releases = platform.zones.root / "releases"
    wait_until(lambda: any((r.path / "published.duckdb").exists() for r in list_releases(platform.zones.root)),
               "a table written into the release being built", proc=killed)
    killed.send_signal(signal.SIGKILL)
    killed.wait(10)
    assert current_release(platform.zones.root) is None, "killed too late: the release was already complete"

    result = process(platform, tmp_path)
    assert result.returncode == 0, explain(result)
    assert "rolled back" in result.stdout and "publishing again" in result.stdout, explain(result)
    release = current_release(platform.zones.root)
    assert release is not None and set(release.manifest["tables"]) == {t.name for t in PUBLISHED_TABLES}
    catalog = json.loads((platform.zones.open_data / "catalog.json").read_text(encoding="utf-8"))
    assert {d["table_name"] for d in catalog["datasets"]} <= set(release.manifest["tables"])
    assert [p.name for p in releases.iterdir() if p.is_dir() and not p.is_symlink()] == [release.id]
    assert runs_in_progress(platform) == []

    again = process(platform, tmp_path)  # nothing new: the release stands
    assert again.returncode == 0 and "publish_all" not in again.stdout, explain(again)


def _snapshot(published_db: Path) -> tuple | None:
    """Every table's row count and last update, as one reader connection sees them."""
    try:
        with duckdb.connect(str(published_db), read_only=True) as connection:
            return tuple(connection.execute(
                "SELECT table_name, row_count, last_updated FROM data_catalog ORDER BY 1").fetchall())
    except (duckdb.IOException, duckdb.CatalogException):
        return None  # replaced or being replaced under the reader: try again


def test_a_reader_sees_the_old_release_or_the_new_one_never_a_mix(platform, tmp_path):
    deliver_sample(platform)
    first = process(platform, tmp_path)
    assert first.returncode == 0, explain(first)
    published = platform.zones.published_db
    old = _snapshot(published)
    republish = subprocess.Popen((platform.command("gn-pipelines"), "process", "--publish"),
                                 env=platform.env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
    seen = set()
    deadline = time.monotonic() + COMMAND_TIMEOUT
    while republish.poll() is None and time.monotonic() < deadline:
        seen.add(_snapshot(published))
        time.sleep(0.02)
    out, err = republish.communicate(timeout=COMMAND_TIMEOUT)
    assert republish.returncode == 0, f"{out}\n{err[-3000:]}"
    new = _snapshot(published)
    assert new != old
    mixed = seen - {old, new, None}
    assert not mixed, f"{len(mixed)} state(s) mixing two releases, e.g. {sorted(mixed)[0]}"
    # the open data of the current release was made from its warehouse (the 가명정보 tables are
    # opened as a coarser public release, with their own row counts)
    release_dir = platform.zones.open_data.resolve().parent
    catalog = json.loads((release_dir / "open" / "catalog.json").read_text(encoding="utf-8"))
    rows = {table: count for table, count, _ in _snapshot(release_dir / "published.duckdb")}
    opened = {d["table_name"]: d["row_count"] for d in catalog["datasets"] if d["privacy_class"] != "가명정보"}
    assert opened and opened == {table: rows[table] for table in opened}


def _worker_at_work(platform: Platform, command: subprocess.Popen) -> int | None:
    """A worker of `command` (not a parser child of one), named by its work directory in scratch."""
    for entry in platform.zones.scratch.iterdir():
        named = WORK_DIRECTORIES[0].match(entry.name)
        if (named and int(named["pid"]) != command.pid and entry.name.startswith(("contained-", "deidentify-"))
                and not entry.name.startswith("contained-duckdb-")):
            return int(named["pid"])
    return None


def test_a_worker_killed_mid_run_is_reported_its_run_failed_and_the_next_process_finishes(platform, tmp_path):
    drops = (complaints_48740(valid_rows=3000), welfare_48170_cp949(valid_rows=3000))
    for drop in drops:
        deliver(platform.zones.landing, drop.relative, drop.content, outgoing=platform.outgoing)
    command = subprocess.Popen((platform.command("gn-pipelines"), "process", "--workers", "2"),
                               env=platform.env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    worker = None

    def worker_found() -> bool:
        nonlocal worker
        worker = _worker_at_work(platform, command)
        return worker is not None

    wait_until(worker_found, "a worker at work", proc=command)
    os.kill(worker, signal.SIGKILL)
    out, err = command.communicate(timeout=COMMAND_TIMEOUT)
    killed = subprocess.CompletedProcess(command.args, command.returncode, out, err)

    assert killed.returncode == 1 and "Traceback" not in err, explain(killed)
    assert "NOT FINISHED (a worker process died (killed, or out of memory)" in out, explain(killed)
    assert list(platform.zones.scratch.iterdir()) == [], "the dead worker's work directory (restricted rows) is left"
    assert runs_in_progress(platform) == [], "the dead worker's run is failed by the command itself"

    again = process(platform, tmp_path)
    assert again.returncode == 0, explain(again)
    both = f"{explain(killed)}\n{explain(again)}"
    for drop in drops:
        loaded = f"{drop.relative}: {drop.accepted_rows} rows accepted"
        if f"{drop.relative}: NOT FINISHED" in out:  # the dead worker's run, or one the pool ended
            assert loaded in again.stdout, both
        else:  # reported before the kill, or finished by the other worker just before it
            assert loaded in out or f"{drop.relative}: finished, but its report was lost" in out, both
        provider, dataset, name = drop.relative.split("/")
        assert (platform.zones.restricted / "pseudonymised" / dataset / provider / f"{name}.parquet").is_file(), both
    assert "publish_all: " in again.stdout, explain(again)


def _descendants(pid: int) -> set[int]:
    """The live processes under `pid` (from /proc; zombies left out)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                children.setdefault(int(fields[1]), []).append(int(entry))
    found, pending = set(), list(children.get(pid, ()))
    while pending:
        child = pending.pop()
        found.add(child)
        pending.extend(children.get(child, ()))
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_the_command_killed_alone_takes_its_fork_server_and_workers_with_it(platform, tmp_path):
    """cron's or `timeout`'s SIGKILL reaches the command's pid only: its fork server and workers
    lived on for ever (0.6 GB, the dead command's output held open); the next process is whole."""
    drops = (complaints_48740(valid_rows=3000), welfare_48170_cp949(valid_rows=3000))
    for drop in drops:
        deliver(platform.zones.landing, drop.relative, drop.content, outgoing=platform.outgoing)
    command = subprocess.Popen((platform.command("gn-pipelines"), "process", "--workers", "2"),
                               env=platform.env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: _worker_at_work(platform, command) is not None, "a worker at work", proc=command)
    family = _descendants(command.pid)
    assert _worker_at_work(platform, command) in family
    command.send_signal(signal.SIGKILL)
    command.wait(timeout=30)
    wait_until(lambda: not [pid for pid in family if _alive(pid)], "the command's processes ended", timeout=60)

    again = process(platform, tmp_path)
    assert again.returncode == 0 and "publish_all: " in again.stdout, explain(again)
    for drop in drops:
        provider, dataset, name = drop.relative.split("/")
        assert (platform.zones.restricted / "pseudonymised" / dataset / provider / f"{name}.parquet").is_file()
