"""The landing state: what is known of every landed file, kept in the Dagster instance's database.

One row per file (path, size, mtime, sha256, whether its run finished for good) in the table
`gn_landing_files`, beside the run storage's own tables, so the daemon's sensor and
`gn-pipelines process` on any machine sharing the instance see the same state (SQLite in
DAGSTER_HOME, or PostgreSQL). The sensor's cursor stays a few hundred bytes: a high-water mark
of mtimes and a digest of the files known at the last tick. A tick whose listing at or below the
mark still matches the digest only looks up the files above the mark; any other difference (a
file copied with an old mtime by `cp -p` or `rsync -t`, a removed or replaced file) reconciles
the whole listing against the table, so nothing is missed (docs/landing-state.md).

Claims (table `gn_landing_claims`): the first step of every batch run claims its files (path and
bytes) in one statement; a file held by another run that is still going, or that loaded it, is
left out of this run. So two hosts, the daemon's sensor and a command, or a retry and a command
never load one file twice, whatever batches they planned (docs/scaling-out.md).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from gn_pipelines.ingest.landing import LandedFile, scan_landing
from gn_pipelines.ingest.planning import KnownFile, LandingPlan, LandingState, delivery_folder, plan_files

CURSOR_VERSION = 2
# the names of files still waiting are kept in the cursor up to this many characters; beyond,
# the next tick reconciles against the table instead (slower, never wrong)
WAITING_NAMES_LIMIT = 2000
# rows per statement: SQLite allows 32,766 bound variables (999 before 3.32)
CHUNK = 500

_metadata = sa.MetaData()
LANDING_FILES = sa.Table(
    "gn_landing_files", _metadata,
    sa.Column("relative", sa.Text, primary_key=True),  # NFC path under the landing root
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("mtime_ns", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("done", sa.Boolean, nullable=False, default=False),
    sa.Index("gn_landing_files_by_sha256", "sha256"),  # duplicates: the same bytes under another name
)

# Who holds which file's bytes: the run that collects (or collected) them. A separate table, not
# columns of gn_landing_files: a claim is per (path, bytes) and must exist for files that table
# has no row of (a run launched from the UI, a file forgotten since), and existing instances need
# no ALTER TABLE.
LANDING_CLAIMS = sa.Table(
    "gn_landing_claims", _metadata,
    sa.Column("relative", sa.Text, primary_key=True),
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.String(255), nullable=False),
    sa.Column("claimed_at", sa.Float, nullable=False),  # epoch seconds
    sa.Index("gn_landing_claims_by_sha256", "sha256"),  # the same bytes loaded under another name
)

Connect = Callable[[], AbstractContextManager[sa.Connection]]


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class LandingStateStore:
    """The table of landed files, reached through a storage's `connect()` (the Dagster run
    storage's: a transaction per call on SQLite, autocommit on PostgreSQL)."""

    def __init__(self, connect: Connect):
        self._connect = connect
        with self._connect() as connection:
            try:
                _metadata.create_all(connection, checkfirst=True)
                for index in LANDING_CLAIMS.indexes:  # added since: create_all skips existing tables
                    index.create(connection, checkfirst=True)
            except sa.exc.DBAPIError:  # another process created them at the same moment
                inspector = sa.inspect(connection)
                if not (all(inspector.has_table(name) for name in _metadata.tables)
                        and {i.name for i in LANDING_CLAIMS.indexes} <= {
                            i["name"] for i in inspector.get_indexes(LANDING_CLAIMS.name)}):
                    raise

    @classmethod
    def of_instance(cls, instance) -> LandingStateStore:
        """The state in a Dagster instance's database (its run storage: SQLite or PostgreSQL)."""
        return cls(instance.run_storage.connect)

    def known(self, relatives: Iterable[str]) -> LandingState:
        """What is recorded of these files (absent: never planned)."""
        found: LandingState = {}
        with self._connect() as connection:
            for chunk in _chunks(sorted(set(relatives))):
                rows = connection.execute(sa.select(LANDING_FILES).where(LANDING_FILES.c.relative.in_(chunk)))
                found.update(_as_state(rows))
        return found

    def everything(self) -> LandingState:
        with self._connect() as connection:
            return _as_state(connection.execute(sa.select(LANDING_FILES)))

    def holding(self, digests: set[str]) -> list[tuple[str, str]]:
        """(relative path, sha256) of the recorded files with these contents."""
        found: list[tuple[str, str]] = []
        with self._connect() as connection:
            for chunk in _chunks(sorted(digests)):
                query = sa.select(LANDING_FILES.c.relative, LANDING_FILES.c.sha256).where(
                    LANDING_FILES.c.sha256.in_(chunk))
                found += [(row.relative, row.sha256) for row in connection.execute(query)]
        return found

    def record(self, state: Mapping[str, KnownFile]) -> None:
        """Insert or replace these files' rows."""
        rows = [(relative, *entry) for relative, entry in sorted(state.items())]
        with self._connect() as connection:
            postgres = connection.dialect.name == "postgresql"
            for chunk in _chunks(rows, 10_000):
                if postgres:  # five arrays, one statement: psycopg2's executemany is a row per round trip
                    connection.execute(_UPSERT_ARRAYS, dict(zip(_COLUMNS, map(list, zip(*chunk)))))
                else:  # sqlite3's executemany binds row after row in C, under the variable limit
                    connection.execute(_SQLITE_UPSERT, [dict(zip(_COLUMNS, row)) for row in chunk])

    def count_done(self) -> int:
        with self._connect() as connection:
            return connection.execute(
                sa.select(sa.func.count()).select_from(LANDING_FILES).where(LANDING_FILES.c.done)).scalar_one()

    def mark_done(self, relatives: Iterable[str]) -> None:
        """These files' runs finished for good: `process` plans them again no more."""
        self._update(relatives, done=True)

    def forget(self, relatives: Iterable[str]) -> None:
        """Remove the rows of files no longer in the landing zone."""
        with self._connect() as connection:
            for chunk in _chunks(sorted(set(relatives))):
                connection.execute(sa.delete(LANDING_FILES).where(LANDING_FILES.c.relative.in_(chunk)))

    def _update(self, relatives: Iterable[str], **values) -> None:
        with self._connect() as connection:
            for chunk in _chunks(sorted(set(relatives))):
                connection.execute(sa.update(LANDING_FILES).where(LANDING_FILES.c.relative.in_(chunk)).values(**values))


@dataclass(frozen=True)
class Holder:
    """The run holding a file's claim, as the run storage knows it."""

    run_id: str
    status: str | None  # Dagster's run status ("STARTED", "SUCCESS", …); None: the run is gone
    stopped: bool  # tagged gn/outcome=quarantined: its data was stopped for good
    finished: bool = False  # the landing state records the file (these bytes) as finished

    @property
    def loaded(self) -> bool:
        """It finished with the file for good: loaded it (or rejected it), or stopped its data;
        or the landing state says so, which outlives the run (someone may delete it)."""
        return self.status == "SUCCESS" or (self.stopped and self.status in _ENDED) or self.finished

    def why(self) -> str:
        """The one-line reason a file is left out of another run."""
        if self.loaded:
            return f"run {self.run_id[:8]} already loaded it"
        return f"run {self.run_id[:8]} holds it ({(self.status or 'gone').lower()})"


@dataclass(frozen=True)
class BatchClaim:
    held: list[tuple[str, str]]  # (relative, sha256) this run may load
    elsewhere: dict[str, Holder]  # relative → the run that holds it instead


class LandingClaims:
    """Per-file claims in the table `gn_landing_claims`, judged against the run storage's own
    tables in the same database (`runs`: run id and status; `run_tags`: the quarantined tag).

    A claim is taken over only from a run that ended without loading the file (failed or
    canceled, not stopped by a blocking check) or that no longer exists; a run holding it or one
    that loaded it keeps it. The whole batch is claimed by one statement: atomic on SQLite (one
    writer) and PostgreSQL (a concurrent claimer waits for the row and re-checks the condition)."""

    def __init__(self, store: LandingStateStore):
        self._connect = store._connect

    def claim(self, run_id: str, files: Iterable[tuple[str, str]], *, now: float | None = None) -> BatchClaim:
        """Claim these (relative path, sha256) for `run_id`; what it holds and who holds the rest."""
        files = sorted(set(files))
        now = time.time() if now is None else now
        with self._connect() as connection:
            if connection.dialect.name == "postgresql":
                relatives, digests = (list(column) for column in zip(*files)) if files else ([], [])
                connection.execute(_CLAIM_ARRAYS, {"relative": relatives, "sha256": digests, "run_id": run_id,
                                                   "now": now})
            else:
                connection.execute(_CLAIM_JSON, {"files": json.dumps(files, ensure_ascii=False), "run_id": run_id,
                                                 "now": now})
        holders = self.holders(files)
        held = [f for f in files if holders[f].run_id == run_id]
        return BatchClaim(held, {relative: holders[(relative, sha)] for relative, sha in files
                                 if holders[(relative, sha)].run_id != run_id})

    def give_back(self, run_id: str, files: Iterable[tuple[str, str]]) -> None:
        """Give back `run_id`'s claims on these (relative, sha256): files it did not load after all
        (gone before it archived them). The claim stays, held by no run (`given back by …`), so
        the file counts as not loaded (a claimless file of a succeeded batch would count as
        loaded by key) and the run that finds it again takes it over."""
        with self._connect() as connection:
            for relative, sha256 in sorted(set(files)):
                connection.execute(_GIVE_BACK, {"relative": relative, "sha256": sha256, "run_id": run_id})

    def loaded_elsewhere(self, files: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Those of these (relative, sha256) whose bytes a run loaded (or stopped for good) under
        another name in the same provider and dataset folder: the same delivery, loaded once."""
        wanted: dict[tuple[str, str], set[str]] = {}
        for relative, sha256 in files:
            wanted.setdefault((delivery_folder(relative), sha256), set()).add(relative)
        found: set[tuple[str, str]] = set()
        for relative, sha256, holder in self._claims_by(_HOLDERS_OF_BYTES, "digests", {s for _, s in wanted}):
            if holder.loaded:
                names = wanted.get((delivery_folder(relative), sha256), set())
                found.update((name, sha256) for name in names if name != relative)
        return found

    def record_finished(self) -> int:
        """Mark finished (`done`) in the landing state the files whose claim's run loaded them
        (or stopped their data), in one statement; how many. `process` marks the files of the
        runs it saw end; this catches the daemon's runs, so that deleting a run later does not
        make its files count as not loaded."""
        with self._connect() as connection:
            return connection.execute(_RECORD_FINISHED, {"done": True}).rowcount

    def first_claimed_at(self) -> float | None:
        """When the first claim still recorded was taken (epoch seconds); None: no claim yet."""
        with self._connect() as connection:
            return connection.execute(sa.select(sa.func.min(LANDING_CLAIMS.c.claimed_at))).scalar_one()

    def holders(self, files: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Holder]:
        """The run holding each claimed file (files never claimed are absent)."""
        wanted = set(files)
        return {(relative, sha256): holder
                for relative, sha256, holder in self._claims_by(_HOLDERS, "relatives", {r for r, _ in wanted})
                if (relative, sha256) in wanted}

    def _claims_by(self, query: sa.TextClause, parameter: str, values: set[str]) -> list[tuple[str, str, Holder]]:
        """(relative, sha256, holder) of the claims `query` finds for `values`, asked in chunks."""
        found = []
        with self._connect() as connection:
            for chunk in _chunks(sorted(values)):
                found += [(relative, sha256, Holder(run_id, status, bool(stopped), bool(finished)))
                          for relative, sha256, run_id, status, stopped, finished
                          in connection.execute(query, {parameter: chunk}).fetchall()]
        return found


_ENDED = ("FAILURE", "CANCELED")
_ENDED_SQL = ", ".join(f"'{status}'" for status in _ENDED)  # the same statuses, in the statements
# Dagster's run storage tables (runs, run_tags) and the landing state, read in one statement. A run
# stopped the data when tagged gn/outcome=quarantined (run_outcomes.OUTCOME_TAG = QUARANTINED,
# written here as text to keep this module free of Dagster): a verdict a retry would repeat.
_STOPPED = """EXISTS (
        SELECT 1 FROM run_tags AS t WHERE t.run_id = {run} AND t.key = 'gn/outcome' AND t.value = 'quarantined')"""
_FINISHED_FILE = """EXISTS (
        SELECT 1 FROM gn_landing_files AS f WHERE f.relative = {claim}.relative AND f.sha256 = {claim}.sha256
        AND f.done)"""
# the holder keeps its claim while its run exists and is not ended, or ended having stopped the
# data; and whatever became of its run, once the landing state records the file as finished
_HOLDER_KEEPS = f"""(EXISTS (
        SELECT 1 FROM runs AS r WHERE r.run_id = gn_landing_claims.run_id
        AND (r.status NOT IN ({_ENDED_SQL}) OR {_STOPPED.format(run="r.run_id")}))
    OR {_FINISHED_FILE.format(claim="gn_landing_claims")})"""
_TAKE_OVER = f"""
    ON CONFLICT (relative, sha256) DO UPDATE SET run_id = excluded.run_id, claimed_at = excluded.claimed_at
    WHERE gn_landing_claims.run_id = excluded.run_id OR NOT {_HOLDER_KEEPS}"""
_CLAIM_ARRAYS = sa.text(f"""
    INSERT INTO gn_landing_claims (relative, sha256, run_id, claimed_at)
    SELECT f.relative, f.sha256, :run_id, :now
    FROM unnest(CAST(:relative AS text[]), CAST(:sha256 AS varchar[])) AS f(relative, sha256)
    {_TAKE_OVER}""")
# SQLite: the files as one JSON parameter (no bound-variable limit); WHERE true: without it
# SQLite would read ON CONFLICT as a join's ON
_CLAIM_JSON = sa.text(f"""
    INSERT INTO gn_landing_claims (relative, sha256, run_id, claimed_at)
    SELECT json_extract(f.value, '$[0]'), json_extract(f.value, '$[1]'), :run_id, :now
    FROM json_each(:files) AS f WHERE true
    {_TAKE_OVER}""")
_GIVE_BACK = sa.text("UPDATE gn_landing_claims SET run_id = 'given back by ' || :run_id "
                     "WHERE relative = :relative AND sha256 = :sha256 AND run_id = :run_id")
_HOLDER_COLUMNS = f"""
    SELECT c.relative, c.sha256, c.run_id, r.status, {_STOPPED.format(run="c.run_id")},
        {_FINISHED_FILE.format(claim="c")}
    FROM gn_landing_claims AS c LEFT JOIN runs AS r ON r.run_id = c.run_id"""
_RECORD_FINISHED = sa.text(f"""
    UPDATE gn_landing_files SET done = :done
    WHERE NOT done AND EXISTS (
        SELECT 1 FROM gn_landing_claims AS c JOIN runs AS r ON r.run_id = c.run_id
        WHERE c.relative = gn_landing_files.relative AND c.sha256 = gn_landing_files.sha256
        AND (r.status = 'SUCCESS' OR (r.status IN ({_ENDED_SQL}) AND {_STOPPED.format(run="r.run_id")})))""")
_HOLDERS = sa.text(f"{_HOLDER_COLUMNS} WHERE c.relative IN :relatives").bindparams(
    sa.bindparam("relatives", expanding=True))
_HOLDERS_OF_BYTES = sa.text(f"{_HOLDER_COLUMNS} WHERE c.sha256 IN :digests").bindparams(
    sa.bindparam("digests", expanding=True))


_COLUMNS = ("relative", "size", "mtime_ns", "sha256", "done")
_UPDATED = ", ".join(f"{column} = excluded.{column}" for column in _COLUMNS[1:])
_SQLITE_UPSERT = sa.text(f"""
    INSERT INTO gn_landing_files ({", ".join(_COLUMNS)}) VALUES (:relative, :size, :mtime_ns, :sha256, :done)
    ON CONFLICT (relative) DO UPDATE SET {_UPDATED}""")
_UPSERT_ARRAYS = sa.text(f"""
    INSERT INTO gn_landing_files ({", ".join(_COLUMNS)})
    SELECT * FROM unnest(CAST(:relative AS text[]), CAST(:size AS bigint[]), CAST(:mtime_ns AS bigint[]),
                         CAST(:sha256 AS varchar[]), CAST(:done AS boolean[]))
    ON CONFLICT (relative) DO UPDATE SET {_UPDATED}""")


def _as_state(result: sa.CursorResult) -> LandingState:
    # fetchall: rows fetched in one call (iterating fetches one at a time: 2x slower at 100k)
    return {relative: KnownFile(size, mtime_ns, sha256, bool(done))
            for relative, size, mtime_ns, sha256, done in result.fetchall()}


@dataclass(frozen=True)
class ScanCursor:
    """What the sensor remembers between ticks, bounded whatever the number of landed files."""

    mark: int  # the newest mtime_ns of the files known at the last tick
    digest: str  # of the (path, size, mtime) of every file known at the last tick, in path order
    waiting: frozenset[str]  # files seen at the last tick but not planned yet (uploads, unsettled)

    def unsure(self, listed: list[LandedFile]) -> list[LandedFile] | None:
        """The listed files the table must be asked about: those above the mark or waiting; None
        when the files at or below the mark are not exactly the ones known at the last tick."""
        mark, waiting = self.mark, self.waiting
        unsure = [landed for landed in listed if landed.mtime_ns > mark or landed.relative in waiting]
        unsure_names = {landed.relative for landed in unsure}
        digest = _digest(landed for landed in listed if landed.relative not in unsure_names)
        return unsure if digest == self.digest else None

    @classmethod
    def after(cls, listed: list[LandedFile], waiting: set[str]) -> ScanCursor:
        """The memory of a tick that listed `listed` and recorded all of them but `waiting`."""
        known = [landed for landed in listed if landed.relative not in waiting]
        mark = max((landed.mtime_ns for landed in known), default=0)
        return cls(mark, _digest(known), frozenset(waiting))

    def to_json(self) -> dict | None:
        """The cursor's fields, or None when the waiting names would not fit (start afresh)."""
        waiting = sorted(self.waiting)
        if sum(len(name) for name in waiting) > WAITING_NAMES_LIMIT:
            return None
        return {"mark": self.mark, "digest": self.digest, "waiting": waiting}


def _digest(files: Iterable[LandedFile]) -> str:
    """Of the files' paths and stat fingerprints, in the scan's (path) order."""
    lines = "".join(f"{landed.relative}\0{landed.size}\0{landed.mtime_ns}\n" for landed in files)
    return hashlib.sha256(lines.encode()).hexdigest()


def dump_cursor(scan: ScanCursor | None, **extra) -> str:
    fields = scan.to_json() if scan else None
    return json.dumps({"version": CURSOR_VERSION, "scan": fields, **extra}, ensure_ascii=False,
                      separators=(",", ":"))


def load_cursor(cursor: str | None) -> tuple[ScanCursor | None, LandingState, dict]:
    """The scan memory of a cursor, the files of an old (version 1) cursor, and the cursor's other
    entries; an unreadable cursor starts afresh (a full reconcile against the table)."""
    try:
        payload = json.loads(cursor) if cursor else {}
    except json.JSONDecodeError:
        return None, {}, {}
    if not isinstance(payload, dict):
        return None, {}, {}
    version = payload.pop("version", None)
    scan = payload.pop("scan", None)
    # version 1 kept every file in the cursor: adopt them instead of hashing everything again
    legacy = {relative: KnownFile(*entry[:3]) for relative, entry in (payload.pop("files", None) or {}).items()
              if isinstance(entry, list) and len(entry) >= 3} if version == 1 else {}
    if version != CURSOR_VERSION or not scan:
        return None, legacy, payload
    return ScanCursor(scan["mark"], scan["digest"], frozenset(scan["waiting"])), {}, payload


def plan_with_state(landing_root: Path, store: LandingStateStore, cursor: str | None, settle_seconds: float,
                    *, now: float | None = None,
                    hasher: Callable[[Path], str] | None = None) -> tuple[LandingPlan, ScanCursor, dict]:
    """Plan one pass over the landing zone against the stored state, record what it learnt, and
    return the plan, the scan memory for the next cursor and the cursor's other entries.

    Without a cursor (a first tick, or `gn-pipelines process`) the whole listing is reconciled
    with the table and the files whose runs did not finish are planned again (unread)."""
    now = time.time() if now is None else now
    scan, legacy, extra = load_cursor(cursor)
    listed = scan_landing(landing_root)
    unsure = scan.unsure(listed) if scan else None
    if unsure is None:
        previous = store.everything()
        store.forget(previous.keys() - {landed.relative for landed in listed})
        replan = [] if cursor else [relative for relative, entry in previous.items() if not entry.done]
        plan = plan_files(listed, legacy | previous, settle_seconds, now=now, hasher=hasher, replan=replan)
        plan.recorded.update({relative: entry for relative, entry in legacy.items()
                              if plan.state.get(relative) is entry and relative not in plan.recorded})
    else:
        previous = store.known(landed.relative for landed in unsure)
        plan = plan_files(unsure, previous, settle_seconds, now=now, hasher=hasher, same_bytes=store.holding)
        plan.unchanged += len(listed) - len(unsure)
    store.record(plan.recorded)
    if unsure == [] and scan and not scan.waiting:  # nothing new, nothing waiting: the same memory
        return plan, scan, extra
    return plan, ScanCursor.after(listed, {relative for relative, _ in plan.waiting}), extra
