"""Readers never block the platform: an analyst holding a read-only connection on
warehouse/restricted.duckdb (as the docs show) does not stall or fail a run that writes it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gn_pipelines.assets.restricted_warehouse import WAREHOUSE_SETUP_JOB
from gn_pipelines.file_lock import LockTimeout
from gn_pipelines.ingest.database_swap import writer_lock
from gn_pipelines.run_recovery import owner_tags

# An analyst in another process: connects read-only, says so, answers queries from stdin.
ANALYST = """
import sys, duckdb
connection = duckdb.connect(sys.argv[1], read_only=True)
print("connected", flush=True)
for line in sys.stdin:
    print(connection.execute(line).fetchone()[0], flush=True)
"""


def test_an_analyst_connection_on_restricted_duckdb_does_not_stall_the_setup_run(zones, instance):
    from gn_pipelines.definitions import defs

    setup = defs.resolve_job_def(WAREHOUSE_SETUP_JOB)
    assert setup.execute_in_process(instance=instance, tags=owner_tags()).success
    analyst = subprocess.Popen([sys.executable, "-c", ANALYST, str(zones.restricted_db)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert analyst.stdout.readline().strip() == "connected"
        again = setup.execute_in_process(instance=instance, tags=owner_tags(), raise_on_error=False)
        assert again.success, [e.message for e in again.all_events if e.is_step_failure]
        # the analyst keeps its snapshot and can go on querying
        analyst.stdin.write("SELECT count(*) FROM reference.providers\n")
        analyst.stdin.flush()
        assert analyst.stdout.readline().strip() == "19"
    finally:
        analyst.stdin.close()
        analyst.wait(30)
        analyst.stdout.close()


def test_a_platform_writer_waits_a_bounded_time_and_names_the_holder(tmp_path):
    import os

    database = tmp_path / "restricted.duckdb"
    with writer_lock(database):
        with pytest.raises(LockTimeout, match=f"pid {os.getpid()}"):
            with writer_lock(database, timeout=0.3):
                pass
