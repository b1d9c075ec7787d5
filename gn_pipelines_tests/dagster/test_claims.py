"""Per-file claims through `process` on a real instance: a file another run holds is left to it
(whoever launched that run: the daemon's sensor, a retry, another host), and loaded by the next
`process` once that run has failed; nothing is lost, nothing loads twice."""

import hashlib
import json

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from gn_pipelines.ingest.drop_log import drop_log_dir
from gn_pipelines.ingest.landing_state import LandingClaims, LandingStateStore
from gn_pipelines.processing import process_landing
from gn_pipelines.run_outcomes import summary
from gn_pipelines_tests.conftest import on_both_storages
from gn_pipelines_tests.drops import csv_bytes, drop, sample_rows

A, B = "48740/civil_complaints/2025-03-01.csv", "48740/civil_complaints/2025-03-02.csv"


def process(instance) -> list[str]:
    """`process`'s lines, its summary last."""
    lines: list[str] = []
    outcomes = process_landing(instance, echo=lines.append, publish=False)
    assert all(o.success for o in outcomes), lines
    return [*lines, summary(outcomes)]


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
    assert first[-1] == "0 file(s) in 2 run(s), 0 failed, 2 left to another process", first  # set-up and batch

    instance.report_run_failed(holder)  # its worker died: run monitoring or the dead-run sweep says so
    # the same batch again (the same run key as the run that succeeded without loading it)
    second = process(instance)
    assert any(line.startswith(f"{A}: 3 rows accepted") for line in second), second
    assert any(line.startswith(f"{B}: 2 rows accepted") for line in second), second
    assert second[-1] == "2 file(s) in 1 run(s), 0 failed", second
    assert not any("rows accepted" in line for line in process(instance))  # loaded: never again
    records = [json.loads(path.read_text(encoding="utf-8")) for path in drop_log_dir(zones.restricted).glob("*.json")
               if not path.name.startswith("_")]  # _schema.json is no record
    assert sorted(record["source_file"] for record in records) == [A, B]  # each handled once


def _ingest_civil_complaints() -> dg.JobDefinition:
    """The batch job, rebuilt in the run's own process (as the UI's re-execution launches it)."""
    from gn_pipelines.definitions import defs

    return defs.resolve_job_def("ingest_civil_complaints")


def test_a_reexecution_from_failure_redoes_its_own_batch_and_keeps_it_from_other_runs(zones, instance, monkeypatch):
    import gn_pipelines.quality.validate as validate
    from gn_pipelines.assets.validation import validated_asset_key
    from gn_pipelines.ingest.batch import BatchFile
    from gn_pipelines.processing import execute_request_in
    from gn_pipelines.sensors import collection_request

    def batch(relative: str, rows: int) -> BatchFile:
        content = csv_bytes(sample_rows("civil_complaints", rows))
        drop(zones.landing, relative, content)
        return BatchFile(relative, hashlib.sha256(content).hexdigest(), "48740")

    first_batch = batch(A, 3)
    instance.add_dynamic_partitions("civil_complaints_months", ["2025-03"])  # as the landing sensor does
    with monkeypatch.context() as failing:
        def disk_full(*args, **kwargs):
            raise OSError("No space left on device")

        failing.setattr(validate, "validate_batch", disk_full)
        (failed,) = execute_request_in(instance, collection_request("civil_complaints", "2025-03", [first_batch]),
                                       echo=lambda line: None)
    assert not failed.success
    failed_run = next(r for r in instance.get_runs() if r.status == dg.DagsterRunStatus.FAILURE)
    # meanwhile another batch of the same month is loaded: the month's latest collection is now B's
    (later,) = execute_request_in(instance, collection_request("civil_complaints", "2025-03", [batch(B, 2)]),
                                  echo=lambda line: None)
    assert later.success, later.line

    # the data engineer clicks "Re-execute from failure" on the failed run
    again = dg.execute_job(dg.reconstructable(_ingest_civil_complaints), instance=instance,
                           reexecution_options=dg.ReexecutionOptions.from_failure(failed_run.run_id, instance),
                           tags={"dagster/partition": "2025-03"})  # the UI carries the parent's partition over
    assert again.success, [e.step_failure_data.error.to_string() for e in again.get_step_failure_events()]
    (validated,) = [r.asset_materialization for r in instance.get_records_for_run(
        again.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
        if r.asset_key == validated_asset_key("civil_complaints")]
    assert [f["source_file"] for f in validated.metadata["files"].value] == [A]  # its own file, not B
    claims = LandingClaims(LandingStateStore.of_instance(instance))
    assert claims.holders([(A, first_batch.sha256)])[(A, first_batch.sha256)].run_id == again.run_id

    # so the next `process` leaves A to it: each file loaded once
    lines = process(instance)
    assert not any("rows accepted" in line for line in lines), lines
    records = [json.loads(path.read_text(encoding="utf-8")) for path in drop_log_dir(zones.restricted).glob("*.json")
               if not path.name.startswith("_")]
    assert sorted(record["source_file"] for record in records) == [A, B]


def test_a_file_gone_before_its_batch_archived_it_is_set_aside_not_left_to_another_process(zones, instance):
    from gn_pipelines.ingest.batch import BatchFile
    from gn_pipelines.processing import execute_request_in
    from gn_pipelines.sensors import collection_request

    planned = []
    for relative, rows in ((A, 3), (B, 2)):
        content = csv_bytes(sample_rows("civil_complaints", rows))
        drop(zones.landing, relative, content)
        planned.append(BatchFile(relative, hashlib.sha256(content).hexdigest(), "48740"))
    instance.add_dynamic_partitions("civil_complaints_months", ["2025-03"])
    (zones.landing / B).unlink()  # a sync tool replaces it between planning and archiving
    lines: list[str] = []
    outcomes = execute_request_in(instance, collection_request("civil_complaints", "2025-03", planned),
                                  echo=lines.append)
    assert [o.success for o in outcomes] == [True, True], [o.line for o in outcomes]
    assert outcomes[1].line.startswith(f"{B}: skipped: no longer in the landing zone"), outcomes[1].line
    assert summary(outcomes) == \
        "1 file(s) in 1 run(s), 0 failed, 1 set aside (gone or unreadable: loaded when found again)"

    drop(zones.landing, B, csv_bytes(sample_rows("civil_complaints", 2)))  # delivered again
    assert any(line.startswith(f"{B}: 2 rows accepted") for line in process(instance))


DAYS = 24 * 3600


def test_bytes_loaded_under_another_name_load_once_without_reading_every_run_since_claims_began(zones, instance):
    import time

    from gn_pipelines.processing import loaded_file_keys

    claims = LandingClaims(LandingStateStore.of_instance(instance))
    # an instance whose claims began three days ago: the runs since are not read for their files
    claims.claim("a run of three days ago", [("48740/civil_complaints/2025-02-28.csv", "f" * 64)],
                 now=time.time() - 3 * DAYS)
    content = csv_bytes(sample_rows("civil_complaints", 3))
    drop(zones.landing, A, content)
    assert any(line.startswith(f"{A}: 3 rows accepted") for line in process(instance))
    assert loaded_file_keys(instance, "civil_complaints", claims) == set()

    (zones.landing / A).unlink()  # moved away by the provider's sync: the landing state forgets it
    process(instance)
    drop(zones.landing, B, content)  # and delivered again, the same bytes under another name
    lines = process(instance)
    assert not any("rows accepted" in line for line in lines), lines
    records = [json.loads(path.read_text(encoding="utf-8")) for path in drop_log_dir(zones.restricted).glob("*.json")
               if not path.name.startswith("_")]
    assert [record["source_file"] for record in records] == [A]  # loaded once


def test_the_runs_from_before_claims_still_say_which_bytes_they_loaded(instance):
    import time

    from dagster._core.test_utils import create_run_for_test

    from gn_pipelines.ingest.batch import BatchFile
    from gn_pipelines.processing import loaded_file_keys
    from gn_pipelines.sensors import LANDING_SENSOR_NAME, RUN_KEY_TAG, SENSOR_NAME_TAG, collection_request

    loaded = BatchFile(A, "a" * 64, "48740")
    request = collection_request("civil_complaints", "2025-03", [loaded])
    create_run_for_test(instance, job_name=request.job_name, run_config=request.run_config,
                        status=dg.DagsterRunStatus.SUCCESS,
                        tags={**request.tags, RUN_KEY_TAG: request.run_key, SENSOR_NAME_TAG: LANDING_SENSOR_NAME})
    claims = LandingClaims(LandingStateStore.of_instance(instance))
    assert loaded_file_keys(instance, "civil_complaints", claims) == {loaded.key}  # no claim yet
    claims.claim("the first batch run after the upgrade", [(B, "b" * 64)], now=time.time())
    assert loaded_file_keys(instance, "civil_complaints", claims) == {loaded.key}  # from before claims
    claims.claim("a run of three days ago", [(B, "c" * 64)], now=time.time() - 3 * DAYS)
    assert loaded_file_keys(instance, "civil_complaints", claims) == set()  # created after claims began


def test_a_file_the_daemons_run_loaded_is_not_loaded_again_once_that_run_is_deleted(zones, instance):
    """The daemon's sensor plans A and a run loads it; no `process` saw that run end. Someone
    then deletes the run from the Runs page. The dead-run sweep (a sensor of the daemon) has
    recorded A as finished meanwhile, so the next `process` does not load it a second time."""
    from gn_pipelines.definitions import defs
    from gn_pipelines.processing import execute_request_in
    from gn_pipelines.sensors import LANDING_SENSOR_NAME

    drop(zones.landing, A, csv_bytes(sample_rows("civil_complaints", 3)))
    with dg.build_sensor_context(instance=instance, resources=defs.resources) as context:
        tick = defs.resolve_sensor_def(LANDING_SENSOR_NAME)(context)
    for partitions in tick.dynamic_partitions_requests:
        instance.add_dynamic_partitions(partitions.partitions_def_name, list(partitions.partition_keys))
    outcomes = [o for request in tick.run_requests for o in execute_request_in(instance, request)]
    assert any(o.line.startswith(f"{A}: 3 rows accepted") for o in outcomes), [o.line for o in outcomes]
    with dg.build_sensor_context(instance=instance) as context:
        swept = defs.resolve_sensor_def("dead_run_sweep")(context)
    assert "1 loaded file(s) recorded as finished" in swept.skip_message, swept.skip_message

    batch_run = next(o.run_id for o in outcomes if o.label == A)
    instance.delete_run(batch_run)
    lines = process(instance)
    assert not any("rows accepted" in line for line in lines), lines
    records = [json.loads(path.read_text(encoding="utf-8")) for path in drop_log_dir(zones.restricted).glob("*.json")
               if not path.name.startswith("_")]
    assert [record["source_file"] for record in records] == [A]  # loaded once


@on_both_storages
@pytest.mark.parametrize("deleted", ["the first attempt", "both attempts"])
def test_a_batch_whose_failed_runs_were_deleted_is_loaded_by_the_next_process(zones, instance, monkeypatch, deleted):
    """A batch failed twice and someone deleted failed runs from the Runs page. The next attempt's
    id is neither a run that still exists (the second attempt, when only the first was deleted:
    before, every `process` said "another process claimed it first" for ever) nor a deleted one's
    (Dagster keeps a deleted run's asset-check rows: before, `process` crashed on their unique
    index)."""
    import gn_pipelines.quality.validate as validate

    drop(zones.landing, A, csv_bytes(sample_rows("civil_complaints", 3)))
    with monkeypatch.context() as failing:
        def disk_full(*args, **kwargs):
            raise OSError("No space left on device")

        failing.setattr(validate, "validate_batch", disk_full)
        for _ in range(2):
            lines: list[str] = []
            process_landing(instance, echo=lines.append, publish=False)
            assert f"{A}: FAILED (OSError: No space left on device)" in lines, lines
    failed = sorted((r for r in instance.get_runs() if r.status == dg.DagsterRunStatus.FAILURE),
                    key=lambda run: instance.get_run_record_by_id(run.run_id).create_timestamp)
    assert len(failed) == 2
    for run in failed if deleted == "both attempts" else failed[:1]:
        instance.delete_run(run.run_id)
    lines = process(instance)
    assert any(line.startswith(f"{A}: 3 rows accepted") for line in lines), lines
    records = [json.loads(path.read_text(encoding="utf-8")) for path in drop_log_dir(zones.restricted).glob("*.json")
               if not path.name.startswith("_")]
    assert [record["source_file"] for record in records].count(A) == 1 + 2  # the two failed attempts logged it too
