"""The published warehouse on a real PostgreSQL server: per-시군 row-level security, nobody but
the platform writes, Korean and English comments, and a reader mid-query keeps its snapshot
while a new release is swapped in."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from gn_pipelines.publish.postgres_warehouse import (SCHEMA, publish_release_to_postgres,
                                                     sigungu_roles)
from gn_pipelines.publish.tables import published_table
from gn_pipelines.publish.warehouse import publish

SAMPLE_VALUES = {"VARCHAR": "x", "INTEGER": 1, "BIGINT": 7, "DOUBLE": 0.5, "BOOLEAN": False,
                 "DATE": dt.date(2025, 3, 1), "TIMESTAMPTZ": dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc)}


def rows_of(table: str, codes: list[str], tag: str) -> pa.Table:
    """One row per code, every column filled; `tag` marks the release in the first text column."""
    declared = published_table(table)
    columns = {}
    for column in declared.columns:
        if column.name == "sigungu_code":
            columns[column.name] = codes
        elif column.name == declared.columns[0].name and column.type == "VARCHAR":
            columns[column.name] = [f"{tag}-{i}" for i in range(len(codes))]
        else:
            columns[column.name] = [SAMPLE_VALUES[column.type]] * len(codes)
    return pa.table(columns)


RECORD_CODES = ["48170", "48170", "48120", "48121", "48250"]


def release(path, tag: str, codes=RECORD_CODES):
    publish(path, {"civil_complaints": rows_of("civil_complaints", codes, tag),
                   "welfare_recipients": rows_of("welfare_recipients", codes, tag),
                   "civil_complaints_monthly": rows_of("civil_complaints_monthly", ["48170", "48250"], tag)})
    return path


@pytest.fixture
def warehouse_url(postgres_server):
    return postgres_server.create_database("warehouse")


def connect(url):
    import psycopg2

    return psycopg2.connect(url)


def as_role(url, role: str, sql: str):
    with connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(f'SET ROLE "{role}"')
        cursor.execute(sql)
        return cursor.fetchall()


def test_each_sigungu_role_reads_aggregates_and_only_its_own_records(tmp_path, warehouse_url):
    result = publish_release_to_postgres(release(tmp_path / "published.duckdb", "r1"), warehouse_url)
    assert result.row_counts["civil_complaints"] == 5 and result.row_counts["civil_complaints_monthly"] == 2
    for table in ("civil_complaints", "welfare_recipients"):
        sql = f"SELECT sigungu_code FROM {SCHEMA}.{table} ORDER BY 1"
        assert as_role(warehouse_url, "gn_analyst_48170", sql) == [("48170",), ("48170",)]
        assert as_role(warehouse_url, "gn_analyst_48120", sql) == [("48120",), ("48121",)]
        assert as_role(warehouse_url, "gn_analyst_48121", sql) == [("48121",)]
        assert as_role(warehouse_url, "gn_analyst_48890", sql) == []
        assert len(as_role(warehouse_url, "gn_analyst", sql)) == 5
    aggregate = f"SELECT sigungu_code FROM {SCHEMA}.civil_complaints_monthly ORDER BY 1"
    assert as_role(warehouse_url, "gn_analyst_48170", aggregate) == [("48170",), ("48250",)]
    assert len(sigungu_roles()) == 18 + 5


@pytest.mark.parametrize("role", ["gn_analyst", "gn_analyst_48170"])
@pytest.mark.parametrize("statement", [
    "INSERT INTO published.civil_complaints (complaint_key) VALUES ('forged')",
    "UPDATE published.civil_complaints SET status = 'forged'",
    "DELETE FROM published.welfare_recipients",
    "CREATE TABLE published.mine (x int)",
    "DROP TABLE published.data_catalog",
])
def test_analysts_cannot_write(tmp_path, warehouse_url, role, statement):
    import psycopg2

    publish_release_to_postgres(release(tmp_path / "published.duckdb", "r1"), warehouse_url)
    with connect(warehouse_url) as connection, connection.cursor() as cursor:
        cursor.execute(f'SET ROLE "{role}"')
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cursor.execute(statement)


def test_a_role_without_grants_reads_nothing(tmp_path, warehouse_url):
    import psycopg2

    publish_release_to_postgres(release(tmp_path / "published.duckdb", "r1"), warehouse_url)
    with connect(warehouse_url) as connection, connection.cursor() as cursor:
        cursor.execute("CREATE ROLE somebody_else NOLOGIN")
        cursor.execute("SET ROLE somebody_else")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cursor.execute("SELECT count(*) FROM published.civil_complaints_monthly")


def test_tables_carry_korean_and_english_comments(tmp_path, warehouse_url):
    publish_release_to_postgres(release(tmp_path / "published.duckdb", "r1"), warehouse_url)
    comments = dict(as_role(warehouse_url, "gn_analyst", (
        "SELECT c.relname, obj_description(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'published' AND c.relkind = 'r'")))
    assert set(comments) == {"civil_complaints", "welfare_recipients", "civil_complaints_monthly", "data_catalog"}
    assert comments["civil_complaints"].startswith("민원 접수 현황(가명정보)") and "Civil complaints" in comments["civil_complaints"]
    column = as_role(warehouse_url, "gn_analyst", "SELECT col_description('published.civil_complaints'::regclass, 1)")
    assert column == [("민원 가명키(HMAC-SHA-256) | pseudonymous complaint key (HMAC-SHA-256)",)]


def test_a_reader_mid_query_keeps_its_snapshot_while_a_release_is_swapped_in(tmp_path, warehouse_url):
    first = publish_release_to_postgres(release(tmp_path / "r1.duckdb", "r1"), warehouse_url, release_id="r1")
    reader = connect(warehouse_url)
    try:
        cursor = reader.cursor(name="mid_query")  # a server-side cursor: the query is open between fetches
        cursor.itersize = 1
        cursor.execute("SELECT complaint_key FROM published.civil_complaints")
        seen = [cursor.fetchone()[0]]
        second = publish_release_to_postgres(release(tmp_path / "r2.duckdb", "r2", RECORD_CODES[:3]),
                                             warehouse_url, release_id="r2")
        seen += [row[0] for row in cursor.fetchall()]
        assert sorted(seen) == [f"r1-{i}" for i in range(5)]  # the whole first release, nothing of the second
        assert not second.old_schema_dropped  # the reader still held it
        reader.commit()
    finally:
        reader.close()
    assert sorted(k for (k,) in as_role(warehouse_url, "gn_analyst", "SELECT complaint_key FROM published.civil_complaints")) \
        == ["r2-0", "r2-1", "r2-2"]
    third = publish_release_to_postgres(release(tmp_path / "r3.duckdb", "r3"), warehouse_url, release_id="r3")
    assert first.old_schema_dropped and third.old_schema_dropped
    schemas = as_role(warehouse_url, "gn_analyst", "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'published%' ORDER BY 1")
    assert schemas == [("published",), ("published_meta",)]
    pointer = as_role(warehouse_url, "gn_platform", "SELECT release_id FROM published_meta.releases ORDER BY published_at, release_id")
    assert [r for (r,) in pointer] == ["r1", "r2", "r3"]
