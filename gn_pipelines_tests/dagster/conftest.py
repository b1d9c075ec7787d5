"""Helpers for Dagster-level tests: drive the platform as `gn-pipelines process` does."""

from contextlib import contextmanager
from pathlib import Path

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


@contextmanager
def isolated_platform(root: Path):
    """A data root, its Dagster instance and the environment the platform reads, for a whole
    module (set up once: processing and publishing cost tens of seconds)."""
    import dagster as dg

    from gn_pipelines.instance import ensure_dagster_home
    from gn_pipelines.settings import DataZones
    from gn_pipelines_tests.conftest import TEST_PSEUDONYM_KEY

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GN_DATA_ROOT", str(root))
        patch.setenv("GN_SETTLE_SECONDS", "0")
        patch.setenv("GN_PSEUDONYM_KEY", TEST_PSEUDONYM_KEY)
        patch.delenv("DAGSTER_HOME", raising=False)
        zones = DataZones(root).ensure()
        patch.setenv("DAGSTER_HOME", str(ensure_dagster_home(zones)))
        with dg.DagsterInstance.get() as instance:
            yield zones, instance


def process_and_publish(instance) -> None:
    outcomes = process_landing(instance, echo=lambda line: None, publish=True)
    assert all(o.success for o in outcomes), [o.line for o in outcomes if not o.success]
