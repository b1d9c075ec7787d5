"""Publication through real runs with the instance and the warehouse on PostgreSQL: the release
that becomes current is the one in schema `published`, table by table, row by row."""

import datetime as dt

import duckdb
import pytest

from gn_pipelines.publish.postgres_warehouse import WAREHOUSE_POSTGRES_URL_ENV
from gn_pipelines.synth import synthesize_drops


@pytest.mark.parametrize("dagster_storage", ["postgres"], indirect=True)
def test_a_release_is_published_to_postgres_as_it_becomes_current(zones, instance, process, postgres_server,
                                                                 monkeypatch):
    import psycopg2

    url = postgres_server.create_database("warehouse")
    monkeypatch.setenv(WAREHOUSE_POSTGRES_URL_ENV, url)
    synthesize_drops(zones.landing, datasets=["civil_complaints", "welfare_recipients"],
                     providers=["48170", "48250"], start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 2),
                     rows_per_file=40)
    process(publish=True)
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"

    current = zones.published_db.resolve()
    with duckdb.connect(str(current), read_only=True) as local:
        expected = {name: local.execute(f'SELECT count(*) FROM main."{name}"').fetchone()[0]
                    for (name,) in local.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        by_sigungu = dict(local.execute("SELECT sigungu_code, count(*) FROM civil_complaints GROUP BY 1").fetchall())
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT release_id FROM published_meta.releases")
        assert [r for (r,) in cursor.fetchall()] == [current.parent.name]
        got = {}
        for name in expected:
            cursor.execute(f'SELECT count(*) FROM published."{name}"')
            got[name] = cursor.fetchone()[0]
        assert got == expected and expected["civil_complaints"] > 0
        cursor.execute("SET ROLE gn_analyst_48170")
        cursor.execute("SELECT sigungu_code, count(*) FROM published.civil_complaints GROUP BY 1")
        assert dict(cursor.fetchall()) == {"48170": by_sigungu["48170"]}
