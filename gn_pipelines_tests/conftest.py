"""Shared fixtures: a temporary data root, a persistent Dagster instance, the real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from gn_pipelines.settings import DataZones

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_DATA = REPO_ROOT.parent / "shared" / "data" / "real"
TEST_PSEUDONYM_KEY = "test-only-pseudonym-key-3f9a1c-5e8b2d70"  # 40 bytes: keys under 32 are refused


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


@pytest.fixture
def instance(zones, monkeypatch):
    """A real, persistent Dagster instance in the data root (as `gn-pipelines process` uses)."""
    import dagster as dg

    from gn_pipelines.instance import ensure_dagster_home

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = ensure_dagster_home(zones)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as dagster_instance:
        yield dagster_instance
