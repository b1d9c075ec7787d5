"""The Dagster instance the platform's commands share with `dagster dev` (DAGSTER_HOME).

SQLite in DAGSTER_HOME is the embedded default. With GN_DAGSTER_POSTGRES_URL set, the generated
dagster.yaml puts runs, event logs and schedules in PostgreSQL and adds what several machines
need: the queued run coordinator (one run per dataset at a time), run monitoring, retries of
runs lost to infrastructure and tick retention (docs/scaling-out.md).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from gn_pipelines.settings import DataZones, make_private_directory

DAGSTER_POSTGRES_URL_ENV = "GN_DAGSTER_POSTGRES_URL"

logger = logging.getLogger("gn_pipelines")

HEADER = "# Written by gn-pipelines; edit freely, it is not overwritten.\n"

# Pools guard the shared DuckDB files: one writer at a time (see resources/warehouse.py).
POOLS = """\
concurrency:
  pools:
    default_limit: 1
  runs:
    max_concurrent_runs: 4
"""

# The daemon marks runs whose worker died failed, and frees the pool slots of finished runs
# (gn-pipelines process does the same for the runs it executed itself).
RUN_MONITORING = """\
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  cancel_timeout_seconds: 180
  poll_interval_seconds: 30
  free_slots_after_run_end_seconds: 60
"""

TELEMETRY = """\
telemetry:
  enabled: false
"""

# The UI's first-visit dialog asks for an e-mail address to send to dagster.io: nothing the
# center's engineers should be asked (their UI often cannot reach the internet anyway)
NO_SIGN_UP_DIALOG = """\
nux:
  enabled: false
"""

# Dagster stores the sensor's cursor in every tick row and keeps ticks for ever unless told: a
# quiet tick every 15 s is ~5,800 rows a day. Skipped ticks say only "nothing new".
RETENTION = """\
retention:
  schedule:
    purge_after_days: 90
  sensor:
    purge_after_days:
      skipped: 7
      failure: 90
      success: 90
"""

# what earlier versions generated: still ours, so replaced by the current one
EARLIER_DAGSTER_YAMLS = (HEADER + POOLS + RUN_MONITORING + TELEMETRY,
                         HEADER + POOLS + RUN_MONITORING + RETENTION + TELEMETRY)

# Dagster's SQLite storage in DAGSTER_HOME (the same files), writing events without an fsync and a
# new connection each: the fixed cost of a batch run's ~100 events (gn_pipelines/instance_storage.py)
SQLITE_STORAGE_CLASS = ("gn_pipelines.instance_storage", "SqliteStorageWithoutSyncPerEvent")
SQLITE_HEAD = HEADER + POOLS
SQLITE_TAIL = RUN_MONITORING + RETENTION + TELEMETRY + NO_SIGN_UP_DIALOG
EARLIER_SQLITE_TAILS = (RUN_MONITORING + RETENTION + TELEMETRY,)


def sqlite_dagster_yaml(home: Path) -> str:
    """The embedded instance in `home` (its path written out: a process may open the instance by
    its directory without DAGSTER_HOME set)."""
    import yaml

    module, name = SQLITE_STORAGE_CLASS
    storage = yaml.safe_dump({"storage": {"custom": {"module": module, "class": name,
                                                     "config": {"base_dir": str(home)}}}},
                             sort_keys=False, allow_unicode=True)
    return SQLITE_HEAD + storage + SQLITE_TAIL


# Several machines: the queue (one batch run per dataset at a time, so a dataset's batches load in
# order), retries only of runs lost to infrastructure (a failed check or bad data would fail
# again), and bounded tick history.
POSTGRES_OPERATIONS = """\
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
run_retries:
  enabled: true
  max_retries: 2
  retry_on_asset_or_op_failure: false
""" + RETENTION

PROVIDER_RUN_LIMIT = """\
    tag_concurrency_limits:
      - key: gn/dataset
        value:
          applyLimitPerUniqueValue: true
        limit: 1
"""

POSTGRES_HEAD = HEADER + POOLS + PROVIDER_RUN_LIMIT
POSTGRES_TAIL = POSTGRES_OPERATIONS + RUN_MONITORING + TELEMETRY + NO_SIGN_UP_DIALOG
EARLIER_POSTGRES_TAILS = (POSTGRES_OPERATIONS + RUN_MONITORING + TELEMETRY,)


def postgres_dagster_yaml(url: str) -> str:
    """The instance on PostgreSQL. The connection is written out field by field with
    `scheme: postgresql+psycopg2` (SQLAlchemy 2.1 would pick psycopg 3 for `postgresql://`:
    dagster issue #33958), so any process reading the file (daemon, webserver, a run's
    container) connects alike. The password is never written: libpq reads PGPASSWORD or ~/.pgpass."""
    import yaml

    parts = urlsplit(url)
    database = {"username": unquote(parts.username or "postgres"), "hostname": parts.hostname or "localhost",
                "port": parts.port or 5432, "db_name": unquote(parts.path.lstrip("/")) or "postgres",
                "scheme": "postgresql+psycopg2"}
    if parts.query:
        database["params"] = dict(parse_qsl(parts.query))
    storage = yaml.safe_dump({"storage": {"postgres": {"postgres_db": database}}}, sort_keys=False,
                             allow_unicode=True)
    return POSTGRES_HEAD + storage + POSTGRES_TAIL


def _generated(text: str) -> bool:
    """Ours and unedited (for either storage)."""
    sqlite = SQLITE_HEAD + f"storage:\n  custom:\n    module: {SQLITE_STORAGE_CLASS[0]}\n"
    return (text in EARLIER_DAGSTER_YAMLS
            or (text.startswith(sqlite) and text.endswith((SQLITE_TAIL, *EARLIER_SQLITE_TAILS)))
            or (text.startswith(POSTGRES_HEAD + "storage:\n")
                and text.endswith((POSTGRES_TAIL, *EARLIER_POSTGRES_TAILS))))


def dagster_postgres_url() -> str | None:
    return os.environ.get(DAGSTER_POSTGRES_URL_ENV) or None


def ensure_dagster_home(zones: DataZones) -> Path:
    """Use DAGSTER_HOME, or `<data root>/dagster_home`; give it our dagster.yaml if it has none
    (or has ours, unedited, for the other storage), and warn when its own lacks the pools."""
    home = Path(os.environ.get("DAGSTER_HOME") or zones.root / "dagster_home").resolve()
    make_private_directory(home)  # run records and logs name files and show sample values
    postgres_url = dagster_postgres_url()
    password = urlsplit(postgres_url).password if postgres_url else None
    if password and not os.environ.get("PGPASSWORD"):
        os.environ["PGPASSWORD"] = unquote(password)  # for this process and the ones it starts
    wanted = postgres_dagster_yaml(postgres_url) if postgres_url else sqlite_dagster_yaml(home)
    config = home / "dagster.yaml"
    current = config.read_text(encoding="utf-8") if config.exists() else None
    if current is None or (_generated(current) and current != wanted):
        config.write_text(wanted, encoding="utf-8")
    elif not _generated(current):
        warn_if_pools_missing(config)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


# Dagster creates its PostgreSQL tables when a process first opens the instance. Processes doing
# so at once (the daemon, the webserver, `process` on several hosts, against a new database) can
# collide in PostgreSQL's catalog; dagster-postgres retries some of the resulting errors, not
# 42710 ("type ... already exists", the table's row type created by the winner meanwhile).
# The loser finds the tables there when it opens the instance again.
CREATION_RACE_CODES = frozenset({"42710", "42P07", "23505"})  # duplicate object, table, key
OPEN_ATTEMPTS = 5


def lost_creation_race(error: BaseException) -> bool:
    """`error` (or what caused it) is PostgreSQL refusing a table another process created first."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if getattr(getattr(error, "orig", None), "pgcode", None) in CREATION_RACE_CODES:
            return True
        error = error.__cause__ or error.__context__
    return False


def open_instance(attempts: int = OPEN_ATTEMPTS):
    """The instance in DAGSTER_HOME (`DagsterInstance.get()`), opened again when its first opening
    lost the race to create Dagster's tables (a bounded number of times, a little later each)."""
    import time

    import dagster as dg

    for attempt in range(1, attempts + 1):
        try:
            return dg.DagsterInstance.get()
        except Exception as error:
            if attempt == attempts or not lost_creation_race(error):
                raise
            logger.warning("another process was creating the Dagster instance's tables: opening it again")
            time.sleep(0.2 * attempt)


def warn_if_pools_missing(config: Path) -> bool:
    """A dagster.yaml of one's own without `concurrency.pools` leaves the `restricted_warehouse`
    pool unlimited: two writers of one DuckDB file, and the second run fails."""
    import yaml

    settings = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    pools = (settings.get("concurrency") or {}).get("pools")
    if pools is not None:
        return False
    logger.warning(
        "\n%s\n%s has no `concurrency: pools:` block: the restricted_warehouse pool is then "
        "unlimited and two runs may write warehouse/restricted.duckdb at once (the second fails). "
        "Add:\n%s%s", "!" * 78, config, POOLS, "!" * 78)
    return True
