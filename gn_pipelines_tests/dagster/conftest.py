"""Helpers for Dagster-level tests: drive the platform as `gn-pipelines process` does."""

import duckdb
import pytest

from gn_pipelines.processing import process_landing


@pytest.fixture
def process(instance):
    """Run everything waiting in the landing zone; returns the printed lines. Publication is
    left out unless asked for: most tests are about one stage, and it costs seconds each time."""

    def run(publish: bool = False) -> list[str]:
        lines: list[str] = []
        outcomes = process_landing(instance, echo=lines.append, publish=None if publish else False)
        assert all(o.success for o in outcomes), lines
        return lines

    return run


@pytest.fixture
def warehouse(zones):
    """Query the restricted warehouse read-only, as a data engineer would."""

    def query(sql: str, *params):
        with duckdb.connect(str(zones.restricted_db), read_only=True) as connection:
            return connection.execute(sql, list(params)).fetchall()

    return query
