"""End-to-end fixtures: a temporary data root and Dagster home, handed to real subprocesses.

Nothing here is mocked: the tests start the venv's own commands (`dagster`, `gn-pipelines`)
with these folders in their environment and read the results back from the same folders.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import duckdb
import pytest

from gn_pipelines.instance import sqlite_dagster_yaml
from gn_pipelines.sensors import LANDING_SENSOR_NAME, SENSOR_NAME_TAG
from gn_pipelines.settings import DATA_ROOT_ENV, PSEUDONYM_KEY_ENV, SETTLE_SECONDS_ENV, DataZones
from gn_pipelines_tests.conftest import TEST_PSEUDONYM_KEY, VENV_BIN, installed_command


@dataclass(frozen=True)
class Platform:
    """One isolated installation: its data zones, its Dagster home, and its environment."""

    zones: DataZones
    dagster_home: Path
    outgoing: Path  # drops are written here, then renamed into the landing zone
    env: dict[str, str]

    @classmethod
    def under(cls, root: Path) -> "Platform":
        zones = DataZones(root / "data").ensure()
        home = root / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text(sqlite_dagster_yaml(home), encoding="utf-8")
        env = {name: value for name, value in os.environ.items()
               if name not in (PSEUDONYM_KEY_ENV, "DAGSTER_HOME")}
        env |= {
            DATA_ROOT_ENV: str(zones.root),
            "DAGSTER_HOME": str(home),
            SETTLE_SECONDS_ENV: "0",
            PSEUDONYM_KEY_ENV: TEST_PSEUDONYM_KEY,  # never the developer's own key
            "PYTHONUNBUFFERED": "1",
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        }
        return cls(zones, home, root / "outgoing", env)

    command = staticmethod(installed_command)

    @contextmanager
    def instance(self) -> Iterator["dagster.DagsterInstance"]:  # noqa: F821
        """The Dagster instance the subprocesses record their runs in."""
        import dagster as dg

        with dg.DagsterInstance.from_config(str(self.dagster_home)) as instance:
            yield instance

    @staticmethod
    def landing_runs(instance) -> list:
        """Run records of every run the landing sensor requested (daemon or `process`)."""
        import dagster as dg

        return list(instance.get_run_records(
            filters=dg.RunsFilter(tags={SENSOR_NAME_TAG: LANDING_SENSOR_NAME})))

    @contextmanager
    def restricted_warehouse(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """warehouse/restricted.duckdb, read-only (open it only when no run writes it)."""
        connection = duckdb.connect(str(self.zones.restricted_db), read_only=True)
        try:
            yield connection
        finally:
            connection.close()

    def row_counts(self, *views: str) -> dict[str, int]:
        with self.restricted_warehouse() as warehouse:
            return {view: warehouse.execute(f"SELECT count(*) FROM {view}").fetchone()[0]
                    for view in views}


@pytest.fixture
def platform(tmp_path: Path) -> Platform:
    return Platform.under(tmp_path)
