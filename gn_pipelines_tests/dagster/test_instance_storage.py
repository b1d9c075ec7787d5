"""The embedded instance's event log (gn_pipelines/instance_storage.py): Dagster's SQLite files,
written without an fsync and a new connection per event, still read by Dagster's own storage
and still streamed live to a watcher (the webserver's run page)."""

import multiprocessing
import sqlite3
import time
import uuid
from contextlib import closing

import dagster as dg
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from gn_pipelines.instance_storage import SqliteEventLogWithoutSyncPerEvent, SqliteStorageWithoutSyncPerEvent
from gn_pipelines_tests.polling import poll


@dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="numbers")])
def numbers():
    yield dg.MaterializeResult(metadata={"rows": 3},
                               check_results=[dg.AssetCheckResult(check_name="positive", passed=True)])


def test_generated_instance_uses_it_and_dagster_reads_the_same_files(instance):
    assert isinstance(instance.event_log_storage, SqliteEventLogWithoutSyncPerEvent)
    result = dg.materialize([numbers], instance=instance)
    assert result.success
    # Dagster's stock storage on the same directory (an older dagster.yaml, another process) sees it all
    stock = SqliteEventLogStorage(instance.event_log_storage._base_dir)
    written = [r.event_log_entry.dagster_event_type for r in stock.get_records_for_run(result.run_id).records]
    assert dg.DagsterEventType.ASSET_CHECK_EVALUATION in written
    assert dg.DagsterEventType.RUN_SUCCESS in written
    latest = stock.get_latest_materialization_events([dg.AssetKey("numbers")])[dg.AssetKey("numbers")]
    assert latest.run_id == result.run_id
    assert instance.get_latest_materialization_event(dg.AssetKey("numbers")).run_id == result.run_id
    check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("numbers"), "positive")])
    assert check[dg.AssetCheckKey(dg.AssetKey("numbers"), "positive")].run_id == result.run_id


def test_commits_are_not_fsynced_but_the_databases_stay_in_wal(tmp_path):
    storage = SqliteStorageWithoutSyncPerEvent.from_local(str(tmp_path))
    for connect in (storage.event_log_storage.index_connection, storage.run_storage.connect):
        with connect() as connection:
            raw = connection.connection.driver_connection
            assert raw.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
            assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    storage.dispose()


def test_a_watcher_sees_each_event_while_the_run_is_being_written(tmp_path):
    """The webserver streams a live run's log from a watcher of the run's database file; the
    writer keeps its connection open, so the events sit in the WAL until it closes."""
    writer = SqliteEventLogWithoutSyncPerEvent(str(tmp_path))
    reader = SqliteEventLogStorage(str(tmp_path))  # Dagster's own, as an older dagster.yaml has it
    run_id = str(uuid.uuid4())
    seen: list[str] = []

    def message(i: int) -> dg.EventLogEntry:
        return dg.EventLogEntry(error_info=None, level=20, user_message=f"event {i}", run_id=run_id,
                                timestamp=time.time(), step_key=None, job_name="a_job", dagster_event=None)

    try:
        writer.store_event(message(0))
        reader.watch(run_id, None, lambda entry, cursor: seen.append(entry.user_message))
        for i in range(1, 4):
            writer.store_event(message(i))
            assert poll(lambda: f"event {i}" in seen, seconds=20), seen
    finally:
        reader.dispose()
        writer.dispose()
    # closing the writer checkpointed the WAL into the run's database
    assert not (tmp_path / f"{run_id}.db-wal").exists()
    with closing(sqlite3.connect(tmp_path / f"{run_id}.db")) as connection:
        assert connection.execute("SELECT count(*) FROM event_logs").fetchone()[0] == 4


def _open_storage_at_once(base_dir: str, everyone_ready, outcomes) -> None:
    everyone_ready.wait(timeout=120)
    try:
        SqliteStorageWithoutSyncPerEvent.from_local(base_dir).dispose()
        outcomes.put("opened")
    except Exception as error:  # the outcome is what the test compares
        outcomes.put(repr(error))


def test_processes_opening_a_fresh_home_at_once_create_each_database_once(tmp_path):
    """`dev`'s webserver and daemon, or `process` beside a reader, open a fresh DAGSTER_HOME together:
    without the lock two of them stamped `runs.db` twice and the instance never opened again."""
    spawn = multiprocessing.get_context("spawn")  # a clean interpreter each, as separate commands are
    for attempt in range(2):
        base_dir = str(tmp_path / f"home{attempt}")
        everyone_ready, outcomes = spawn.Barrier(6), spawn.Queue()
        openers = [spawn.Process(target=_open_storage_at_once, args=(base_dir, everyone_ready, outcomes))
                   for _ in range(6)]
        for opener in openers:
            opener.start()
        results = [outcomes.get(timeout=180) for _ in openers]
        for opener in openers:
            opener.join(timeout=60)
        assert results == ["opened"] * 6
        for database in ("history/runs.db", "schedules/schedules.db", "history/runs/index.db"):
            with closing(sqlite3.connect(f"{base_dir}/{database}")) as connection:
                assert connection.execute("SELECT count(*) FROM alembic_version").fetchone()[0] == 1, database
        SqliteStorageWithoutSyncPerEvent.from_local(base_dir).dispose()  # and it opens again
