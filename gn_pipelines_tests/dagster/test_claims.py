"""Per-file claims through `process` on a real instance: a file another run holds is left to it
(whoever launched that run: the daemon's sensor, a retry, another host), and loaded by the next
`process` once that run has failed; nothing is lost, nothing loads twice."""

import hashlib
import json

import dagster as dg
from dagster._core.test_utils import create_run_for_test

from gn_pipelines.ingest.drop_log import drop_log_dir
from gn_pipelines.ingest.landing_state import LandingClaims, LandingStateStore
from gn_pipelines.processing import process_landing
from gn_pipelines_tests.drops import csv_bytes, drop, sample_rows

A, B = "48740/civil_complaints/2025-03-01.csv", "48740/civil_complaints/2025-03-02.csv"


def process(instance) -> list[str]:
    lines: list[str] = []
    outcomes = process_landing(instance, echo=lines.append, publish=False)
    assert all(o.success for o in outcomes), lines
    return lines


def test_files_held_by_another_run_are_left_to_it_then_loaded_once_that_run_failed(zones, instance):
    contents = {A: csv_bytes(sample_rows("civil_complaints", 3)), B: csv_bytes(sample_rows("civil_complaints", 2))}
    for relative, content in contents.items():
        drop(zones.landing, relative, content)
    # a run of the same month with a random id (as the daemon's sensor or a retry creates) that
    # claimed both files in its first step and is still going
    holder = create_run_for_test(instance, job_name="ingest_civil_complaints", status=dg.DagsterRunStatus.STARTED)
    claims = LandingClaims(LandingStateStore.of_instance(instance))
    files = [(relative, hashlib.sha256(content).hexdigest()) for relative, content in contents.items()]
    assert len(claims.claim(holder.run_id, files).held) == 2

    # process's run of the batch succeeds, loading nothing: each file says who has it
    first = process(instance)
    assert {f"{A}: skipped: run {holder.run_id[:8]} holds it (started)",
            f"{B}: skipped: run {holder.run_id[:8]} holds it (started)"} <= set(first), first

    instance.report_run_failed(holder)  # its worker died: run monitoring or the dead-run sweep says so
    # the same batch again (the same run key as the run that succeeded without loading it)
    second = process(instance)
    assert any(line.startswith(f"{A}: 3 rows accepted") for line in second), second
    assert any(line.startswith(f"{B}: 2 rows accepted") for line in second), second
    assert not any("rows accepted" in line for line in process(instance))  # loaded: never again
    records = [json.loads(path.read_text(encoding="utf-8")) for path in drop_log_dir(zones.restricted).glob("*.json")
               if not path.name.startswith("_")]  # _schema.json is no record
    assert sorted(record["source_file"] for record in records) == [A, B]  # each handled once
