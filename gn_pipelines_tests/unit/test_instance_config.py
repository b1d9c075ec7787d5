"""The generated dagster.yaml: SQLite by default, PostgreSQL with the queue and its limits when
GN_DAGSTER_POSTGRES_URL is set, and a loud warning for one's own file without the pools."""

import logging

import dagster as dg
import yaml

from gn_pipelines.instance import DAGSTER_POSTGRES_URL_ENV, DAGSTER_YAML, ensure_dagster_home
from gn_pipelines.settings import DataZones


def test_postgres_settings_are_generated_and_switch_back(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv(DAGSTER_POSTGRES_URL_ENV, "postgresql://gn:s3cret@db:5433/dagster")
    home = ensure_dagster_home(DataZones(tmp_path))
    text = (home / "dagster.yaml").read_text()
    settings = yaml.safe_load(text)
    assert settings["storage"] == {"postgres": {"postgres_db": {
        "username": "gn", "hostname": "db", "port": 5433, "db_name": "dagster", "scheme": "postgresql+psycopg2"}}}
    assert "s3cret" not in text  # libpq reads the password from PGPASSWORD, set for the processes it starts
    import os

    assert os.environ["PGPASSWORD"] == "s3cret"
    assert settings["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert settings["concurrency"]["runs"]["tag_concurrency_limits"] == [
        {"key": "gn/provider", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}]
    assert settings["concurrency"]["pools"]["default_limit"] == 1
    assert settings["run_monitoring"]["enabled"] and settings["run_retries"]["retry_on_asset_or_op_failure"] is False
    assert settings["retention"]["sensor"]["purge_after_days"]["skipped"] == 7
    # unset: our unedited file goes back to SQLite
    monkeypatch.delenv(DAGSTER_POSTGRES_URL_ENV)
    ensure_dagster_home(DataZones(tmp_path))
    assert (home / "dagster.yaml").read_text() == DAGSTER_YAML
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"


def test_own_dagster_yaml_without_pools_gets_a_loud_warning(tmp_path, monkeypatch, caplog):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with caplog.at_level(logging.WARNING, logger="gn_pipelines"):
        ensure_dagster_home(DataZones(tmp_path))
    assert "no `concurrency: pools:` block" in caplog.text and "restricted_warehouse" in caplog.text
    assert (home / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"  # kept as is
    caplog.clear()
    (home / "dagster.yaml").write_text("concurrency:\n  pools:\n    default_limit: 1\n")
    with caplog.at_level(logging.WARNING, logger="gn_pipelines"):
        ensure_dagster_home(DataZones(tmp_path))
    assert "pools" not in caplog.text
