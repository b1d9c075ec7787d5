"""Loading the platform uses no deprecated API (Dagster 2.0 removes what its warnings name)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

LOAD_DEFINITIONS = """
import dagster as dg
from gn_pipelines.definitions import defs
dg.Definitions.validate_loadable(defs)
assert len(list(defs.resolve_all_job_defs())) >= 9
"""


def test_loading_the_definitions_raises_no_deprecation_warning():
    # A fresh interpreter: in this one the modules are imported already and would not warn again.
    environment = os.environ | {"PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", LOAD_DEFINITIONS],
                            cwd=REPO, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]


def test_a_deprecated_call_in_project_code_would_fail_the_check(tmp_path):
    # The check above can fail: the same run refuses a define_asset_job(partitions_def=...).
    module = tmp_path / "deprecated_job.py"
    module.write_text(
        "import dagster as dg\n"
        "@dg.asset(partitions_def=dg.StaticPartitionsDefinition(['a']))\n"
        "def a(): ...\n"
        "job = dg.define_asset_job('j', selection=[a], partitions_def=dg.StaticPartitionsDefinition(['a']))\n")
    result = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", "import deprecated_job"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "DeprecationWarning" in result.stderr
