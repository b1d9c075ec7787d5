"""Drops from several providers collected by parallel runs: no DuckDB lock error, exact counts;
a worker that dies is reported per run."""

import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import dagster as dg
import pytest

from gn_pipelines.processing import process_landing
from gn_pipelines.run_outcomes import summary
from gn_pipelines_tests.drops import csv_bytes, drop, sample_rows

PROVIDERS = ["48120", "48170", "48250", "48740", "48890"]


@pytest.mark.timeout(180)
def test_parallel_runs_from_several_providers(zones, instance, warehouse):
    expected = {}
    for index, provider in enumerate(PROVIDERS):
        rows = sample_rows("civil_complaints", 200 + index, 시군구코드=provider)
        rows[7]["시군구코드"] = "48000"  # one row of another provider in each file
        drop(zones.landing, f"{provider}/civil_complaints/2025-03-01.csv", csv_bytes(rows, "cp949"))
        welfare = sample_rows("welfare_recipients", 50 + index, 시군구코드=provider)
        drop(zones.landing, f"{provider}/welfare_recipients/2025-03.csv", csv_bytes(welfare))
        expected[provider] = (199 + index, 50 + index)

    lines: list[str] = []
    outcomes = process_landing(instance, workers=3, echo=lines.append)

    # the warehouse set-up, every drop (one outcome each, from two batch runs), then one publication
    assert len(outcomes) == 1 + 2 * len(PROVIDERS) + 1
    assert outcomes[-1].label == "publish_all"
    assert all(o.success for o in outcomes), lines
    assert not any("lock" in line.lower() for line in lines)
    complaints = dict(warehouse("SELECT provider_code, count(*) FROM collected_civil_complaints GROUP BY 1"))
    welfare = dict(warehouse("SELECT provider_code, count(*) FROM collected_welfare_recipients GROUP BY 1"))
    assert {p: (complaints[p], welfare[p]) for p in PROVIDERS} == expected
    assert warehouse("SELECT count(*) FROM rejected_rows") == [(len(PROVIDERS),)]
    # one batch run per dataset and month, both in the instance, and they really overlapped in time
    records = [r for r in instance.get_run_records() if "gn/batch" in r.dagster_run.tags]
    assert sorted(r.dagster_run.tags["gn/batch"] for r in records) == [
        "civil_complaints 2025-03", "welfare_recipients 2025-03"]
    assert all(r.dagster_run.tags["gn/files"] == str(len(PROVIDERS)) for r in records)
    spans = sorted((r.start_time, r.end_time) for r in records)
    assert any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:]))


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer would


@dg.asset
def batch_done_by_the_other_worker() -> None:
    """Stands for a batch run that finished in the worker that survived."""


def test_a_run_finished_before_a_worker_died_is_reported_done_and_an_unfinished_one_not(instance):
    from gn_pipelines.processing import _result_of
    from gn_pipelines.sensors import LANDING_SENSOR_NAME, RUN_KEY_TAG, SENSOR_NAME_TAG

    finished = dg.RunRequest(run_key="done-batch", tags={"gn/source_file": "48170/welfare_recipients/2025-03.csv"})
    unfinished = dg.RunRequest(run_key="killed-batch", tags={"gn/source_file": "48740/civil_complaints/a.csv"})
    result = dg.materialize([batch_done_by_the_other_worker], instance=instance,
                            tags={RUN_KEY_TAG: "done-batch", SENSOR_NAME_TAG: LANDING_SENSOR_NAME})
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        broken = pool.submit(_die)  # the pool breaks: every future not reported yet raises

        [done] = _result_of(broken, finished, instance, pool)
        [lost] = _result_of(broken, unfinished, instance, pool)

    assert done.success and not done.worker_died and "finished, but its report was lost" in done.line
    assert not lost.success and lost.worker_died and lost.line.startswith("48740/civil_complaints/a.csv: NOT FINISHED")
    assert summary([done, lost]) == "2 file(s) in 1 run(s), 1 failed"  # the run that finished is counted
    assert done.run_id == result.run_id


def _finish_when_ended(ready: str) -> None:
    """A worker writing its run's success when the broken pool ends it: as Dagster does with an
    interrupt, it finishes that first (here in its SIGTERM handler), then exits."""
    from gn_pipelines.sensors import LANDING_SENSOR_NAME, RUN_KEY_TAG, SENSOR_NAME_TAG

    def finish(*_) -> None:
        with dg.DagsterInstance.get() as instance:  # the test's DAGSTER_HOME, inherited
            dg.materialize([batch_done_by_the_other_worker], instance=instance,
                           tags={RUN_KEY_TAG: "finishing-batch", SENSOR_NAME_TAG: LANDING_SENSOR_NAME})
        os._exit(0)

    signal.signal(signal.SIGTERM, finish)
    Path(ready).touch()
    while True:
        signal.pause()


def test_a_run_still_finishing_as_the_pool_breaks_is_judged_once_its_worker_ended(instance, tmp_path):
    """Seen in CI: the futures fail as the pool breaks, before it has ended the other worker,
    which then wrote its run's success: that run was told NOT FINISHED, and the next `process`
    (rightly) skipped its files as loaded."""
    from gn_pipelines.processing import _result_of
    from gn_pipelines_tests.polling import poll

    ready = tmp_path / "ready"
    finishing = dg.RunRequest(run_key="finishing-batch", tags={"gn/source_file": "48170/welfare_recipients/2025-03.csv"})
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        survivor = pool.submit(_finish_when_ended, str(ready))
        assert poll(ready.exists, seconds=60)
        pool.submit(_die)  # on the second worker: the pool breaks and ends the survivor
        [outcome] = _result_of(survivor, finishing, instance, pool)
    assert outcome.success and "finished, but its report was lost" in outcome.line, outcome.line


def test_runs_go_on_after_dagster_run_wipe_left_the_pools_without_slots(zones, instance):
    """`dagster run wipe` on SQLite deletes the pools' slots and keeps their limits (Dagster 1.13):
    every step of a pool then waited for ever, at full CPU. `process` and the daemon's dead-run
    sweep give the slots back first."""
    from gn_pipelines.definitions import defs
    from gn_pipelines.run_recovery import slots_given_back

    storage = instance.event_log_storage
    drop(zones.landing, "48740/civil_complaints/2025-03-01.csv", csv_bytes(sample_rows("civil_complaints", 3)))
    lines: list[str] = []
    process_landing(instance, echo=lines.append, publish=False)
    assert lines[-1].endswith("3 rows accepted, 0 rows rejected; 3 rows passed, 0 quarantined; failed checks: none")
    pool = "restricted_warehouse"

    def wiped() -> None:
        instance.wipe()  # what `dagster run wipe` does
        info = storage.get_concurrency_info(pool)
        assert (info.limit, info.slot_count) == (1, 0)  # a limit left without its slot

    wiped()
    with dg.build_sensor_context(instance=instance) as context:
        defs.resolve_sensor_def("dead_run_sweep")(context)
    assert storage.get_concurrency_info(pool).slot_count == 1

    wiped()
    drop(zones.landing, "48740/civil_complaints/2025-03-02.csv", csv_bytes(sample_rows("civil_complaints", 2)))
    lines = []
    outcomes = process_landing(instance, echo=lines.append, publish=True)
    assert slots_given_back(pool) in lines, lines
    assert all(o.success for o in outcomes) and any(line.startswith("48740/civil_complaints/2025-03-02.csv: 2 rows")
                                                    for line in lines), lines
    assert summary(outcomes) == "1 file(s) in 3 run(s), 0 failed", lines  # set-up again, the batch, publication
