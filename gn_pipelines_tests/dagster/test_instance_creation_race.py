"""Opening a new PostgreSQL instance while another process creates Dagster's tables: PostgreSQL
refuses the loser's CREATE TABLE (42710, "type ... already exists", which dagster-postgres does
not retry), and the platform's commands open the instance again and find the tables there."""

from __future__ import annotations

import logging

import psycopg2
import pytest
import sqlalchemy as db

from gn_pipelines.instance import lost_creation_race, open_instance, postgres_dagster_yaml

# A table of Dagster's schedule storage, created after the run and event log storages' tables
TAKEN_NAME = "asset_daemon_asset_evaluations"


def _execute(url: str, statement: str) -> None:
    connection = psycopg2.connect(url)
    connection.autocommit = True
    try:
        connection.cursor().execute(statement)
    finally:
        connection.close()


def _sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg2://", 1)


def public_tables(url: str) -> set[str]:
    connection = psycopg2.connect(url)
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row[0] for row in cursor.fetchall()}
    finally:
        connection.close()


def test_a_real_creation_conflict_is_told_from_other_database_errors(postgres_server):
    engine = db.create_engine(_sqlalchemy_url(postgres_server.create_database("race")))
    try:
        with engine.connect() as connection:
            connection.execute(db.text("CREATE TYPE taken AS ENUM ('x')"))
            connection.commit()
        with pytest.raises(db.exc.ProgrammingError) as conflict, engine.connect() as connection:
            connection.execute(db.text("CREATE TABLE taken (x int)"))
        with pytest.raises(db.exc.ProgrammingError) as missing, engine.connect() as connection:
            connection.execute(db.text("SELECT * FROM not_there"))
    finally:
        engine.dispose()
    assert conflict.value.orig.pgcode == "42710"
    assert lost_creation_race(conflict.value)
    try:  # as Dagster raises it: its own error, caused by the database's
        raise RuntimeError("opening the instance failed") from conflict.value
    except RuntimeError as wrapped:
        assert lost_creation_race(wrapped)
    assert not lost_creation_race(missing.value)  # 42P01: not a race, raised at once


def test_the_instance_is_opened_again_once_the_other_creator_is_done(postgres_server, tmp_path, monkeypatch, caplog):
    url = postgres_server.create_database("dagster")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    (tmp_path / "dagster.yaml").write_text(postgres_dagster_yaml(url), encoding="utf-8")
    # The state a loser sees: the row type of one of Dagster's tables already created by another
    # process (here a bare type, so that the first opening fails as the CI run's did: 42710)
    _execute(url, f"CREATE TYPE {TAKEN_NAME} AS ENUM ('x')")

    class OtherCreatorFinishes(logging.Handler):
        """When the command says it opens the instance again, the other process has finished
        creating the tables (Dagster's own table definitions; its bare type gives way to them)."""

        def emit(self, record: logging.LogRecord) -> None:
            if "opening it again" in record.getMessage():
                from dagster._core.storage.schedules.schema import ScheduleStorageSqlMetadata

                _execute(url, f"DROP TYPE IF EXISTS {TAKEN_NAME}")
                engine = db.create_engine(_sqlalchemy_url(url))
                try:
                    ScheduleStorageSqlMetadata.create_all(engine)
                finally:
                    engine.dispose()

    finisher = OtherCreatorFinishes()
    logging.getLogger("gn_pipelines").addHandler(finisher)
    try:
        with caplog.at_level(logging.WARNING, logger="gn_pipelines"), open_instance() as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            assert instance.get_runs() == []  # its tables are all there
    finally:
        logging.getLogger("gn_pipelines").removeHandler(finisher)
    assert caplog.text.count("opening it again") == 1

    tables = public_tables(url)
    assert TAKEN_NAME in tables and {"runs", "event_logs", "jobs"} <= tables

    # any other failure to open is raised at once, not waited on
    (tmp_path / "dagster.yaml").write_text(postgres_dagster_yaml(url.rsplit("/", 1)[0] + "/not_there"),
                                           encoding="utf-8")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="gn_pipelines"), pytest.raises(Exception) as refused:
        open_instance()
    assert not lost_creation_race(refused.value) and "opening it again" not in caplog.text
