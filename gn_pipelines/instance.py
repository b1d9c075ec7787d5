"""The Dagster instance the platform's commands share with `dagster dev` (DAGSTER_HOME)."""

from __future__ import annotations

import os
from pathlib import Path

from gn_pipelines.settings import DataZones, make_private_directory

# Pools guard the shared DuckDB files: one writer at a time (see resources/warehouse.py).
DAGSTER_YAML = """\
# Written by gn-pipelines; edit freely, it is not overwritten.
concurrency:
  pools:
    default_limit: 1
  runs:
    max_concurrent_runs: 4
# The daemon marks runs whose worker died failed, and frees the pool slots of finished runs
# (gn-pipelines process does the same for the runs it executed itself).
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  poll_interval_seconds: 30
  free_slots_after_run_end_seconds: 60
telemetry:
  enabled: false
"""


def ensure_dagster_home(zones: DataZones) -> Path:
    """Use DAGSTER_HOME, or `<data root>/dagster_home`; give it our dagster.yaml if it has none."""
    home = Path(os.environ.get("DAGSTER_HOME") or zones.root / "dagster_home").resolve()
    make_private_directory(home)  # run records and logs name files and show sample values
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    return home
