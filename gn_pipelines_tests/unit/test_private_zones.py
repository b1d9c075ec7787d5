"""Personal data on disk is owner-only whatever the umask; the published zone stays readable."""

import os
import stat

import pytest

from gn_pipelines.instance import ensure_dagster_home
from gn_pipelines.settings import DataZones, permission_warnings


@pytest.fixture
def open_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_private_zones_are_created_owner_only_under_umask_022(tmp_path, monkeypatch, open_umask):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    zones = DataZones(tmp_path / "data").ensure()
    home = ensure_dagster_home(zones)
    for path in (zones.archive, zones.restricted, zones.datalab, zones.scratch, home):
        assert mode(path) == 0o700, path
    assert mode(zones.warehouse) == 0o755 and mode(zones.landing) == 0o755
    assert permission_warnings(zones) == []


def test_the_start_check_names_what_is_too_open_and_ensure_tightens_it(tmp_path, monkeypatch, open_umask):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    root = tmp_path / "data"
    (root / "restricted").mkdir(parents=True)  # as an older version left it: 755
    (root / "warehouse").mkdir()
    (root / "warehouse" / "restricted.duckdb").write_bytes(b"")
    os.chmod(root / "warehouse" / "restricted.duckdb", 0o644)
    zones = DataZones(root)
    warnings = permission_warnings(zones)
    assert any("restricted is 755: other local users can reach personal data" in w for w in warnings)
    assert any("restricted.duckdb is 644" in w and "should be 600" in w for w in warnings)
    zones.ensure()
    assert mode(zones.restricted) == 0o700 and mode(zones.restricted_db) == 0o600
    assert permission_warnings(zones) == []
