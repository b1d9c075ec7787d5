"""The embedded (SQLite) instance storage, without an fsync and a fresh connection per event.

Dagster's SQLite event log opens a new engine and connection for every write and closes it again:
each event of a run (~100 in a batch run: check evaluations and their plans) commits with an
fsync of the WAL, and each close checkpoints the WAL into the database with two more fsyncs; a
check evaluation writes the run's database once and the cross-run index twice. In a CPU profile
of `process` that was about a quarter of all samples, most of it commit and close.

This storage keeps Dagster's files and layout (`history/runs.db`, `history/runs/<run id>.db`,
`history/runs/index.db`, `schedules/`: the webserver, the daemon and older instances read them
alike) and changes only how this process writes them:

- every connection runs with `PRAGMA synchronous=NORMAL`, SQLite's setting for WAL databases: a
  commit is no longer fsynced (a killed process loses nothing; a power cut may lose the last
  commits, never the database's consistency);
- the connections to the cross-run index and to the run being written stay open between writes,
  so a write no longer ends in a checkpoint (two more fsyncs); the WAL is checkpointed when the
  connection closes (another run's shard, or the instance disposed) or grows past SQLite's limit.
  The webserver streams a live run's log from a watcher of the run's database file, which the
  closing connection used to modify at every event: a write now touches the file's time instead.

The run storage (`runs.db`: runs, tags, the landing state and the per-file claims) keeps its
connection and runs with `synchronous=NORMAL` the same way.

Dagster creates each database when a process first opens the storage, checking for its tables and
then creating and stamping them: two processes opening a fresh DAGSTER_HOME at once (`dev`'s
webserver and daemon, `process` beside a reader) could both stamp `runs.db` or `schedules.db`, and
the instance would never open again ("more than one head present"). Opening the storage holds a
file lock in its directory, so one process creates the databases and the others find them.

Measured on the shared 2-core machine (load 6): 10–25 ms per stored event before, 0.5–0.6 ms
after; a week of deliveries through `process --workers 2` 64 s → 47 s (docs/batching.md).

Configured by the generated dagster.yaml (`storage: custom:`, see instance.py).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlalchemy as db
import yaml
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.runs import SqliteRunStorage
from dagster._core.storage.schedules import SqliteScheduleStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

from gn_pipelines.file_lock import exclusive_lock

SYNCHRONOUS = "NORMAL"
# held while a process opens (and, the first time, creates) the storage's databases
INITIALISATION_LOCK = ".storage-initialisation.lock"


def _synchronous_normal(dbapi_connection, _record) -> None:
    dbapi_connection.execute(f"PRAGMA synchronous={SYNCHRONOUS}")


def _engine(conn_string: str) -> Engine:
    # one connection kept and reused by whichever thread writes next (the storage's lock
    # serialises them)
    engine = db.create_engine(conn_string, poolclass=QueuePool, pool_size=1, max_overflow=4,
                              connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False})
    db.event.listen(engine, "connect", _synchronous_normal)
    return engine


class SqliteEventLogWithoutSyncPerEvent(SqliteEventLogStorage):
    """Dagster's run-sharded SQLite event log; the connections to the cross-run index and to the
    run being written stay open between writes."""

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value) -> "SqliteEventLogWithoutSyncPerEvent":
        return cls(inst_data=inst_data, **config_value)

    def _engine_for(self, shard: str) -> Engine:
        # per process (a connection must not be shared with a forked child): the index, and the one
        # run shard written last (a process writes one run at a time)
        engines: dict[str, Engine] = self.__dict__.get("_open_engines") or {}
        if self.__dict__.get("_open_engines_pid") != os.getpid():
            engines = {}
            self.__dict__.update(_open_engines=engines, _open_engines_pid=os.getpid())
        if shard not in engines:
            for other in [s for s in engines if s != INDEX_SHARD_NAME]:
                engines.pop(other).dispose()
            engines[shard] = _engine(self.conn_string_for_shard(shard))
        return engines[shard]

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine_for(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                changes = conn.connection.driver_connection.total_changes
                with conn.begin():
                    yield conn
                wrote = conn.connection.driver_connection.total_changes != changes
            if wrote and shard != INDEX_SHARD_NAME:
                # the write is in the WAL file; the webserver's watcher of a live run reacts to
                # changes of the run's database file, which Dagster's close-per-write touched
                os.utime(self.path_for_shard(shard))

    def dispose(self) -> None:
        super().dispose()
        if self.__dict__.get("_open_engines_pid") == os.getpid():
            for engine in self.__dict__.pop("_open_engines").values():
                engine.dispose()


class SqliteRunStorageWithoutSyncPerWrite(SqliteRunStorage):
    """Dagster's SQLite run storage (`runs.db`: runs, tags, the landing state and claims), its
    connection kept open between writes: a run's ~10 writes and `process`'s landing-state
    updates no longer each open, fsync and checkpoint."""

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        if self.__dict__.get("_open_engine_pid") != os.getpid():
            self.__dict__.update(_open_engine=_engine(self._conn_string), _open_engine_pid=os.getpid())
        with self.__dict__["_open_engine"].connect() as conn:
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        super().dispose()
        if self.__dict__.get("_open_engine_pid") == os.getpid():
            self.__dict__.pop("_open_engine").dispose()
            self.__dict__.pop("_open_engine_pid")


class SqliteStorageWithoutSyncPerEvent(DagsterSqliteStorage):
    """`DagsterSqliteStorage` (same directories under `base_dir`) with the run storage and the
    event log above."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self.base_dir = base_dir
        Path(base_dir).mkdir(parents=True, exist_ok=True)
        with exclusive_lock(Path(base_dir) / INITIALISATION_LOCK, what="the Dagster storage's initialisation"):
            self._run_storage = SqliteRunStorageWithoutSyncPerWrite.from_local(_runs_directory(base_dir))
            self._event_log_storage = SqliteEventLogWithoutSyncPerEvent(_event_logs_directory(base_dir))
            self._schedule_storage = SqliteScheduleStorage.from_local(_schedule_directory(base_dir))
        self._inst_data = inst_data
        super(DagsterSqliteStorage, self).__init__()

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value) -> "SqliteStorageWithoutSyncPerEvent":
        return cls.from_local(inst_data=inst_data, **config_value)

    @property
    def event_storage_data(self) -> ConfigurableClassData | None:
        return ConfigurableClassData(__name__, SqliteEventLogWithoutSyncPerEvent.__name__,
                                     yaml.dump({"base_dir": _event_logs_directory(self.base_dir)},
                                               default_flow_style=False))
