"""GN_PSEUDONYM_KEY: said loudly when missing, never written anywhere when set."""

import subprocess
import sys

from gn_pipelines.resources import PseudonymKeyResource
from gn_pipelines_tests.drops import csv_bytes, drop, sample_rows

SECRET = "test-secret-9f3c1e7a-never-store-me"


def test_missing_key_is_said_loudly_when_the_code_location_loads():
    environment = {"PATH": "", "HOME": "/tmp"}
    loaded = subprocess.run([sys.executable, "-c", "import gn_pipelines.definitions"],
                            capture_output=True, text=True, env=environment)
    assert "GN_PSEUDONYM_KEY is not set" in loaded.stderr
    quiet = subprocess.run([sys.executable, "-c", "import gn_pipelines.definitions"],
                           capture_output=True, text=True, env=environment | {"GN_PSEUDONYM_KEY": SECRET})
    assert "GN_PSEUDONYM_KEY" not in quiet.stderr and SECRET not in quiet.stderr


def test_the_key_never_reaches_the_data_root_or_the_instance(zones, instance, process, monkeypatch, capfd):
    monkeypatch.setenv("GN_PSEUDONYM_KEY", SECRET)
    drop(zones.landing, "48740/civil_complaints/2025-03-01.csv", csv_bytes(sample_rows("civil_complaints", 3)))
    lines = process(publish=True)  # through de-identification, publication and the open-data export
    printed, logged = capfd.readouterr()  # the report lines, and Dagster's console log
    assert lines and SECRET not in "\n".join(lines) + printed + logged
    key_id = PseudonymKeyResource().key_id()
    assert len(key_id) == 12 and key_id not in SECRET
    # the key id, not the key, is what a release records
    reports = list((zones.restricted / "privacy_reports").glob("*.json"))
    assert any(key_id in r.read_text(encoding="utf-8") for r in reports)
    needle = SECRET.encode()
    files = [p for p in zones.root.rglob("*") if p.is_file()]  # zones, DuckDB files, DAGSTER_HOME
    assert files and not [p for p in files if needle in p.read_bytes()]
