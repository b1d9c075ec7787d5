"""The published warehouse on PostgreSQL (GN_WAREHOUSE_POSTGRES_URL): a copy of each release in
schema `published`, with per-시군 row-level security. The DuckDB file stays the embedded default.

A release is loaded into a fresh staging schema (tables with the declared types, Korean and
English comments, grants and policies), then one transaction renames `published` away and the
staging schema into its place: a reader mid-query keeps reading the tables it started on (the
rename takes no lock on them), new queries see the new release. The previous schema is dropped
once no reader holds it (a bounded wait; otherwise the next release drops it).

Roles (NOLOGIN: grant them to people's login roles):
- `gn_platform` owns and writes the published tables; nobody else can write them.
- `gn_analyst` reads every published table whole.
- `gn_analyst_<code>`, one per 시군 and 창원 district, reads every table, but of the record-level
  (가명정보) tables only the rows of its own 시군 (창원시's role: its districts' rows too).

Bulk load: Arrow batches from DuckDB into PostgreSQL's binary COPY through ADBC
(adbc-driver-postgresql, the Arrow project's driver: 1M rows in 5.5–8.1 s on this machine).
"""

from __future__ import annotations

import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from gn_pipelines.publish.tables import PUBLISHED_TABLES, PublishedTable
from gn_pipelines.reference.providers import CHANGWON_DISTRICTS, SIGUN_CODES, codes_allowed_for

WAREHOUSE_POSTGRES_URL_ENV = "GN_WAREHOUSE_POSTGRES_URL"
SCHEMA = "published"
META_SCHEMA = "published_meta"
PLATFORM_ROLE = "gn_platform"
ANALYST_ROLE = "gn_analyst"
# Serialises publishers across machines (a lock in the warehouse, not on one host's disk).
PUBLISH_LOCK_KEY = 4_817_000_013
DROP_OLD_LOCK_TIMEOUT = "5s"
BATCH_ROWS = 100_000

POSTGRES_TYPES = {"VARCHAR": "text", "DOUBLE": "double precision", "TIMESTAMPTZ": "timestamptz"}


def sigungu_role(code: str) -> str:
    return f"{ANALYST_ROLE}_{code}"


def sigungu_roles() -> dict[str, frozenset[str]]:
    """Role → the 시군구 codes of the rows it may read in record-level tables."""
    roles = {sigungu_role(code): codes_allowed_for(code) for code in SIGUN_CODES}
    roles |= {sigungu_role(code): frozenset({code}) for code in CHANGWON_DISTRICTS}
    return roles


def is_record_level(table: PublishedTable) -> bool:
    """Pseudonymised record-level tables (their keys are withheld from open data)."""
    return bool(table.open_data_withheld) and table.provider_column is not None


@dataclass(frozen=True)
class PostgresPublication:
    release_id: str
    row_counts: dict[str, int]
    seconds: float
    old_schema_dropped: bool


def warehouse_postgres_url() -> str | None:
    return os.environ.get(WAREHOUSE_POSTGRES_URL_ENV) or None


def postgres_release_hooks() -> list:
    """With GN_WAREHOUSE_POSTGRES_URL set, a hook that publishes a whole release directory to
    PostgreSQL before it becomes current (a failure there leaves the current release as it was)."""
    url = warehouse_postgres_url()
    if not url:
        return []

    def publish_to_postgres(release_dir: Path) -> None:
        from gn_pipelines.publish.releases import PUBLISHED_FILE

        publish_release_to_postgres(Path(release_dir) / PUBLISHED_FILE, url, release_id=Path(release_dir).name)

    return [publish_to_postgres]


def publish_release_to_postgres(published_db: Path, url: str, *, release_id: str | None = None) -> PostgresPublication:
    """Copy every table of a built release (`published.duckdb`) into schema `published`, swapped
    in one transaction. The connecting user needs CREATEROLE (or the roles made beforehand) and
    membership in gn_platform, which the first publication grants it."""
    import duckdb
    from adbc_driver_postgresql import dbapi

    started = time.monotonic()
    published_db = Path(published_db).resolve()
    release_id = release_id or _release_id(published_db)
    staging = f"{SCHEMA}_staging_{uuid.uuid4().hex[:10]}"
    source = duckdb.connect(str(published_db), read_only=True)
    connection = dbapi.connect(_libpq_url(url))
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT pg_advisory_lock(%d)" % PUBLISH_LOCK_KEY)
        try:
            ensure_roles(cursor)
            connection.commit()
            cursor.execute(f"SET ROLE {PLATFORM_ROLE}")
            _drop_leftovers(connection, cursor)
            counts = _build_staging(connection, cursor, source, staging)
            connection.commit()
            _swap(cursor, staging, release_id, counts)
            connection.commit()
            dropped = _drop_leftovers(connection, cursor)
        finally:
            connection.rollback()
            cursor.execute("RESET ROLE")
            cursor.execute("SELECT pg_advisory_unlock(%d)" % PUBLISH_LOCK_KEY)
            connection.commit()
            cursor.close()
    finally:
        connection.close()
        source.close()
    return PostgresPublication(release_id, counts, round(time.monotonic() - started, 3), dropped)


def _release_id(published_db: Path) -> str:
    """The release directory's name (`releases/<id>/published.duckdb`), else the file's mtime."""
    if published_db.parent.parent.name == "releases":
        return published_db.parent.name
    from datetime import datetime, timezone

    from gn_pipelines.seoul_time import in_seoul

    # on Seoul's clock, as the release directories are named
    return f"{in_seoul(datetime.fromtimestamp(published_db.stat().st_mtime, timezone.utc)):%Y%m%dT%H%M%S}"


def _libpq_url(url: str) -> str:
    """libpq takes `postgresql://`; a SQLAlchemy-style `postgresql+driver://` is accepted too."""
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", url)


def ensure_roles(cursor) -> None:
    """Create the roles that are missing, and let the connecting user act as gn_platform."""
    cursor.execute("SELECT rolname FROM pg_roles")
    existing = {row[0] for row in cursor.fetchall()}
    wanted = [PLATFORM_ROLE, ANALYST_ROLE, *sigungu_roles()]
    for role in (r for r in wanted if r not in existing):
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN')
    cursor.execute(f"SELECT pg_has_role(current_user, '{PLATFORM_ROLE}', 'MEMBER')")
    if not cursor.fetchone()[0]:
        cursor.execute(f'GRANT "{PLATFORM_ROLE}" TO current_user')
    cursor.execute("SELECT has_database_privilege(%s, current_database(), 'CREATE')" % _literal(PLATFORM_ROLE))
    if not cursor.fetchone()[0]:
        cursor.execute(f'GRANT CREATE ON DATABASE "{_current_database(cursor)}" TO "{PLATFORM_ROLE}"')
    cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{META_SCHEMA}" AUTHORIZATION "{PLATFORM_ROLE}"')


def _current_database(cursor) -> str:
    cursor.execute("SELECT current_database()")
    return cursor.fetchone()[0]


def _build_staging(connection, cursor, source, staging: str) -> dict[str, int]:
    readers = [ANALYST_ROLE, *sigungu_roles()]
    cursor.execute(f'CREATE SCHEMA "{staging}"')
    cursor.execute(f'GRANT USAGE ON SCHEMA "{staging}" TO {", ".join(_ident(r) for r in readers)}')
    present = {name for (name,) in source.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()}
    counts = {}
    for table in (t for t in PUBLISHED_TABLES if t.name in present):
        qualified = f'"{staging}"."{table.name}"'
        columns = ", ".join(f'"{c.name}" {POSTGRES_TYPES.get(c.type, c.type.lower())}' for c in table.columns)
        cursor.execute(f"CREATE TABLE {qualified} ({columns})")
        select = ", ".join(f'"{c.name}"' for c in table.columns)
        reader = source.sql(f'SELECT {select} FROM main."{table.name}"').to_arrow_reader(BATCH_ROWS)
        counts[table.name] = cursor.adbc_ingest(table.name, reader, mode="append", db_schema_name=staging)
        _comment(cursor, qualified, table)
        _grant_and_protect(cursor, qualified, table, readers)
    return counts


def _comment(cursor, qualified: str, table: PublishedTable) -> None:
    """The same Korean and English comments as the DuckDB file."""
    text = f"{table.title_ko}: {table.description_ko} | {table.title_en}: {table.description_en}"
    cursor.execute(f"COMMENT ON TABLE {qualified} IS {_literal(text)}")
    for column in table.columns:
        comment = f"{column.comment_ko} | {column.comment_en}"
        cursor.execute(f'COMMENT ON COLUMN {qualified}."{column.name}" IS {_literal(comment)}')


def _grant_and_protect(cursor, qualified: str, table: PublishedTable, readers: list[str]) -> None:
    cursor.execute(f"REVOKE ALL ON {qualified} FROM PUBLIC")
    cursor.execute(f"GRANT SELECT ON {qualified} TO {', '.join(_ident(r) for r in readers)}")
    if not is_record_level(table):
        return
    # Row-level security: gn_analyst reads every row, each 시군 role only its own 시군's rows.
    # The owner (gn_platform) is not subject to it; a role without a policy sees no row.
    cursor.execute(f"ALTER TABLE {qualified} ENABLE ROW LEVEL SECURITY")
    cursor.execute(f"CREATE POLICY every_row ON {qualified} FOR SELECT TO {ANALYST_ROLE} USING (true)")
    for role, codes in sigungu_roles().items():
        listed = ", ".join(_literal(code) for code in sorted(codes))
        cursor.execute(f'CREATE POLICY "own_rows_{role}" ON {qualified} FOR SELECT TO "{role}" '
                       f'USING ("{table.provider_column}" IN ({listed}))')


def _swap(cursor, staging: str, release_id: str, counts: dict[str, int]) -> None:
    """One transaction: `published` becomes `published_old_…`, the staging schema `published`."""
    import json

    cursor.execute(f"SELECT 1 FROM pg_namespace WHERE nspname = {_literal(SCHEMA)}")
    if cursor.fetchone():
        cursor.execute(f'ALTER SCHEMA "{SCHEMA}" RENAME TO "{SCHEMA}_old_{uuid.uuid4().hex[:10]}"')
    cursor.execute(f'ALTER SCHEMA "{staging}" RENAME TO "{SCHEMA}"')
    cursor.execute(f'COMMENT ON SCHEMA "{SCHEMA}" IS '
                   + _literal(f"공개 데이터 릴리스 {release_id} | published release {release_id}"))
    # The release pointer other machines read: which release the schema holds, since when.
    cursor.execute(f'CREATE TABLE IF NOT EXISTS "{META_SCHEMA}".releases (release_id text NOT NULL, '
                   "published_at timestamptz NOT NULL DEFAULT now(), row_counts jsonb NOT NULL)")
    cursor.execute(f'INSERT INTO "{META_SCHEMA}".releases (release_id, row_counts) VALUES '
                   f"({_literal(release_id)}, {_literal(json.dumps(counts))}::jsonb)")


def _drop_leftovers(connection, cursor) -> bool:
    """Drop the schemas of previous releases and of failed builds, each in its own transaction,
    waiting a bounded time for readers still on them; True when none is left."""
    cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'published\\_old\\_%' "
                   "OR nspname LIKE 'published\\_staging\\_%'")
    leftovers = [row[0] for row in cursor.fetchall()]
    connection.commit()
    all_dropped = True
    for schema in leftovers:
        try:
            cursor.execute(f"SET LOCAL lock_timeout = '{DROP_OLD_LOCK_TIMEOUT}'")
            cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')
            connection.commit()
        except Exception as error:  # a reader still holds it: the next release drops it
            connection.rollback()
            if "lock timeout" not in str(error):
                raise
            all_dropped = False
    return all_dropped


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
