"""Helpers for Dagster-level tests: drive the platform as `gn-pipelines process` does."""

from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from gn_pipelines.processing import process_landing
from gn_pipelines_tests.conftest import DAGSTER_STORAGES

# Modules whose tests on a function-level `instance` also run on PostgreSQL, the instance of a
# scaled-out platform (issue 13 item 6), where it is cheap: what they check goes through the
# instance's records (check evaluations and their metadata, run tags, automation cursors).
# test_collection and test_sensor mark themselves (`on_both_storages`). Left on SQLite for the
# time they cost (docs/scaling-out.md "Tests"): concurrency, de-identification and publication
# (PostgreSQL runs, pools and claims under load: e2e/test_scale_out.py).
ALSO_ON_POSTGRES = frozenset({"test_automation", "test_quality_stage"})


def pytest_generate_tests(metafunc):
    module = metafunc.module.__name__.rpartition(".")[2]
    marked = any("dagster_storage" in mark.args[0]
                 for mark in metafunc.definition.iter_markers("parametrize"))
    if module in ALSO_ON_POSTGRES and "dagster_storage" in metafunc.fixturenames and not marked:
        metafunc.parametrize("dagster_storage", DAGSTER_STORAGES, indirect=True)


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
