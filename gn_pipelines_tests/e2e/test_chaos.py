"""Chaos: `gn-pipelines process` killed with SIGKILL at seeded random moments in every stage
(start-up, the set-up run, drop runs, publication, the release being written, the open-data
export), then one plain `process`. The restricted and published data must equal those of an
uninterrupted run on the same drops, no run may be left in progress, no pool slot held, no
half-written file or scratch directory left, and every wait is bounded."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb
import pytest

from gn_pipelines.publish.releases import current_release, list_releases
from gn_pipelines.run_recovery import IN_PROGRESS
from gn_pipelines_tests.e2e.conftest import Platform
from gn_pipelines_tests.e2e.drops import complaints_48740, deliver, welfare_48170_cp949

# about ten `process` starts per seed, plus the uninterrupted run for the first one
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]

COMMAND_TIMEOUT = 600  # one whole `process` of the drops below, on a busy 2-core machine
KILLS = 10
MAX_ATTEMPTS = 18
# In pipeline order: each kill waits for its stage to start, then a seeded random moment more.
SCHEDULE = ("startup", "setup", "drop", "drop", "drop", "publication", "release", "release", "export", "startup")
# Columns that say when or by which run something happened: they differ between any two runs.
VOLATILE = ("collected_at", "quarantined_at", "recorded_at", "last_event_at", "run_id", "event_id",
            "last_updated", "report_path", "validation_report")


FIRST_DROPS = (complaints_48740("20250301.csv", valid_rows=30),  # 1 row of 31 bad: quarantined, the rest passes
               complaints_48740("20250302.csv", valid_rows=20, first_receipt=101),
               welfare_48170_cp949(valid_rows=12))
# Delivered one by one when a `process` ends before its kill (it did all there was to do), so
# that the kills after it still find a stage ahead of them; the rest before the final run.
LATER_DROPS = tuple(complaints_48740(f"202503{day:02d}.csv", valid_rows=10, first_receipt=100 * day)
                    for day in range(3, 3 + MAX_ATTEMPTS))


def deliver_drops(platform: Platform, drops=FIRST_DROPS) -> None:
    for drop in drops:
        deliver(platform.zones.landing, drop.relative, drop.content, outgoing=platform.outgoing)


def run_process(platform: Platform, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run((platform.command("gn-pipelines"), "process"), env=platform.env, cwd=cwd,
                          capture_output=True, text=True, timeout=COMMAND_TIMEOUT)


def _digest(connection: duckdb.DuckDBPyConnection, relation: str) -> tuple[int, str]:
    """Row count and an order-independent hash of every non-volatile column."""
    columns = [r[0] for r in connection.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall() if r[0] not in VOLATILE]
    selected = ", ".join(f'"{c}"' for c in columns)
    return connection.execute(
        f"SELECT count(*), md5(coalesce(string_agg(CAST(row AS VARCHAR), chr(10) ORDER BY CAST(row AS VARCHAR)), '')) "
        f"FROM (SELECT {selected} FROM {relation}) AS row").fetchone()


def fingerprint(platform: Platform) -> dict[str, tuple[int, str]]:
    """The restricted warehouse's views, the de-identified releases and every published table."""
    zones = platform.zones
    found = {}
    with duckdb.connect(str(zones.restricted_db), read_only=True) as restricted:
        views = [v for (v,) in restricted.execute(
            "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main' ORDER BY 1").fetchall()
            if v not in ("drop_log", "validation_log", "privacy_reports", "key_usage", "processing_ledger")]
        # ^ event logs and the ledger: one entry per attempt (and per release)
        for view in views:
            found[f"restricted.{view}"] = _digest(restricted, view)
        for path in sorted((zones.restricted / "deidentified").glob("*.parquet")):
            found[f"deidentified.{path.stem}"] = _digest(restricted, f"read_parquet('{path}')")
    with duckdb.connect(str(zones.published_db), read_only=True) as published:
        for (table,) in published.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall():
            found[f"published.{table}"] = _digest(published, table)
    return found


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict[str, tuple[int, str]]:
    root = tmp_path_factory.mktemp("uninterrupted")
    platform = Platform.under(root)
    deliver_drops(platform, FIRST_DROPS + LATER_DROPS)
    result = run_process(platform, root)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    return fingerprint(platform)


@dataclass
class Stage:
    """What tells, from outside, that `process` has reached a stage."""

    platform: Platform
    instance: "dagster.DagsterInstance"  # noqa: F821

    def _started(self, job_prefix: str) -> bool:
        import dagster as dg

        records = self.instance.get_run_records(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
        return any(r.dagster_run.job_name.startswith(job_prefix) for r in records)

    def _draft_has(self, name: str) -> bool:
        return any(not r.complete and (r.path / name).exists() for r in list_releases(self.platform.zones.root))

    def reached(self, stage: str) -> Callable[[], bool]:
        return {
            "startup": lambda: True,
            "setup": lambda: self._started("setup_restricted_warehouse"),
            "drop": lambda: self._started("ingest_"),
            "publication": lambda: self._started("publish_all"),
            "release": lambda: self._draft_has("published.duckdb"),
            "export": lambda: self._draft_has("open"),
        }[stage]


def kill_at(platform: Platform, cwd: Path, stage: Stage, name: str, rng: random.Random) -> bool:
    """Start `process`, wait for stage `name` (bounded), SIGKILL it a random moment later.
    True when it was killed still running (False: it finished before)."""
    proc = subprocess.Popen((platform.command("gn-pipelines"), "process"), env=platform.env, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        reached = stage.reached(name)
        deadline = time.monotonic() + COMMAND_TIMEOUT
        while not reached():
            if proc.poll() is not None:
                return False
            assert time.monotonic() < deadline, f"process neither reached {name} nor ended in {COMMAND_TIMEOUT} s"
            time.sleep(0.05)
        delay = rng.uniform(0.5, 4.0) if name == "startup" else rng.uniform(0.0, 1.5)
        try:
            proc.wait(delay)
            return False
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            return True
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)


@pytest.mark.parametrize("seed", [11, 22, 33])
def test_process_killed_at_random_moments_recovers_to_the_uninterrupted_result(seed, uninterrupted,
                                                                                tmp_path):
    import dagster as dg

    platform = Platform.under(tmp_path)
    deliver_drops(platform)
    later = list(LATER_DROPS)
    rng = random.Random(seed)
    killed_in: list[str] = []
    attempts = list(SCHEDULE)
    with platform.instance() as instance:
        stage = Stage(platform, instance)
        while len(killed_in) < KILLS and attempts and len(killed_in) + len(attempts) <= MAX_ATTEMPTS + KILLS:
            name = attempts.pop(0)
            if kill_at(platform, tmp_path, stage, name, rng):
                killed_in.append(name)
                continue
            deliver_drops(platform, later[:1])  # it finished first: work for the next kills
            del later[:1]
            if len(killed_in) + len(attempts) < KILLS:
                attempts.append("startup")  # and kill it again, earlier
        assert len(killed_in) >= KILLS, f"only {len(killed_in)} kills landed: {killed_in}"
        # kills of a `process` with nothing left to do would prove nothing
        assert len([name for name in killed_in if name != "startup"]) >= 3, killed_in
        deliver_drops(platform, later)

        started = time.monotonic()
        result = run_process(platform, tmp_path)
        recovery_seconds = time.monotonic() - started
        assert result.returncode == 0, result.stdout + result.stderr[-3000:]
        left = instance.get_run_records(filters=dg.RunsFilter(statuses=IN_PROGRESS))
        assert left == [], [(r.dagster_run.job_name, r.dagster_run.status) for r in left]
        storage = instance.event_log_storage
        assert not storage.get_concurrency_run_ids(), "a pool slot is still held"
    assert current_release(platform.zones.root) is not None
    assert not [r.id for r in list_releases(platform.zones.root) if not r.complete], "a draft was left"
    root = platform.zones.root  # what the killed writers left half-written went with the redo
    assert [str(p.relative_to(root)) for p in root.rglob("*")
            if p.name.endswith(".partial") or p.name.startswith(".members-")] == []
    assert list(platform.zones.scratch.iterdir()) == []
    assert fingerprint(platform) == uninterrupted
    print(f"seed {seed}: {len(killed_in)} kills survived ({', '.join(killed_in)}); "
          f"the plain process after them took {recovery_seconds:.1f} s")
