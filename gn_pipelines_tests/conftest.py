"""Shared fixtures: a temporary data root, a persistent Dagster instance, the real files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from gn_pipelines.settings import DataZones
from gn_pipelines_tests.postgres_server import postgres_server  # noqa: F401 (a session fixture)

REPO_ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent  # the console scripts of the environment running the tests
REAL_DATA = REPO_ROOT.parent / "shared" / "data" / "real"
TEST_PSEUDONYM_KEY = "test-only-pseudonym-key-3f9a1c-5e8b2d70"  # 40 bytes: keys under 32 are refused


def installed_command(name: str) -> str:
    """The path of a console script installed beside the tests' Python (gn-pipelines, dagster, ...),
    not whatever comes first on PATH."""
    path = VENV_BIN / name
    assert path.is_file(), f"{name} is not installed in {VENV_BIN}"
    return str(path)


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The real public files in ../shared/data/real (see its PROVENANCE.md)."""
    assert REAL_DATA.is_dir(), f"the real data files are expected at {REAL_DATA}"
    return REAL_DATA


@pytest.fixture
def zones(tmp_path, monkeypatch) -> DataZones:
    """A fresh data root; the platform's resources read it from the environment."""
    root = tmp_path / "data"
    monkeypatch.setenv("GN_DATA_ROOT", str(root))
    monkeypatch.setenv("GN_SETTLE_SECONDS", "0")
    monkeypatch.setenv("GN_PSEUDONYM_KEY", TEST_PSEUDONYM_KEY)
    return DataZones(root).ensure()


DAGSTER_STORAGES = ("sqlite", "postgres")
# A module marked so runs each of its Dagster tests on both instance storages.
on_both_storages = pytest.mark.parametrize("dagster_storage", DAGSTER_STORAGES, indirect=True)


@pytest.fixture
def dagster_storage(request, monkeypatch) -> str:
    """SQLite in DAGSTER_HOME (the default), or a fresh database on the test server."""
    from gn_pipelines.instance import DAGSTER_POSTGRES_URL_ENV

    storage = getattr(request, "param", "sqlite")
    if storage == "postgres":
        server = request.getfixturevalue("postgres_server")
        monkeypatch.setenv(DAGSTER_POSTGRES_URL_ENV, server.create_database("dagster"))
    else:
        monkeypatch.delenv(DAGSTER_POSTGRES_URL_ENV, raising=False)
    return storage


@pytest.fixture
def instance(zones, monkeypatch, dagster_storage):
    """A real, persistent Dagster instance in the data root (as `gn-pipelines process` uses),
    on SQLite, or on PostgreSQL where the module asks for both (`on_both_storages`)."""
    import dagster as dg

    from gn_pipelines.instance import ensure_dagster_home

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = ensure_dagster_home(zones)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as dagster_instance:
        yield dagster_instance
