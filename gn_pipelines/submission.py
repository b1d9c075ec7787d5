"""`gn-pipelines process --submit`: hand the runs to the instance's run coordinator and launcher
(the queue and the daemon on PostgreSQL, containers with DockerRunLauncher) instead of executing
them in this process, wait for them (bounded), and report one line per file as `process` does.

Claims: every run of a landing run key gets a run id derived from the key and its attempt
number, and the instance database refuses a second run with the same id. So two `process`
commands on two machines sharing the data root and the instance never load the same file
twice: the second one is told the first has it.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import dagster as dg
# not exported by `dagster` itself: the error the run storage raises for a run id already stored
from dagster._core.errors import DagsterRunAlreadyExists

from gn_pipelines.run_outcomes import (
    OUTCOME_TAG, QUARANTINED, QUIET_CONSOLE, RunOutcome, about_run, failed_outcomes, is_drop, outcomes_of_run,
    request_labels, root_cause, skipped_outcome, stopped_by_blocking_check,
)
from gn_pipelines.sensors import LANDING_SENSOR_NAME, RUN_KEY_TAG, SENSOR_NAME_TAG, batch_files, planned_check_of

SUBMIT_TIMEOUT_ENV = "GN_SUBMIT_TIMEOUT_SECONDS"
DEFAULT_SUBMIT_TIMEOUT = 3600.0
POLL_SECONDS = 1.0
# The code location's name where the daemon looks a run's job up: `dagster dev -m
# gn_pipelines.definitions` (gn-pipelines dev), `dagster-daemon run -m …` and deploy/workspace.yaml.
CODE_LOCATION = "gn_pipelines.definitions"
CLAIM_NAMESPACE = uuid.UUID("6f1d7c1e-48a0-4c2e-9b1a-0d3e48000013")

FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


@dataclass(frozen=True)
class Claim:
    run_id: str | None  # None: not ours to run
    reason: str = ""


def claim_run_id(instance: dg.DagsterInstance, run_key: str, *, per_file: bool = False,
                 planned_check: dg.AssetCheckKey | None = None) -> Claim:
    """The run id this attempt at `run_key` must use, or why there is none: a run of it is
    still going (here or on another machine), or one already loaded it. `planned_check`: a check
    of the run's job (`planned_check_of`), by which the id of a deleted run is recognised.

    `per_file`: a batch, whose run claims its files one by one in its first step. Then a finished
    run of the same key does not stop another attempt: it may have left its files to a run that
    failed since (the files' own claims say what is loaded, and `process` planned only those
    not loaded)."""
    records = instance.get_run_records(filters=dg.RunsFilter(
        tags={RUN_KEY_TAG: run_key, SENSOR_NAME_TAG: LANDING_SENSOR_NAME}))
    for record in records:
        run = record.dagster_run
        if run.status not in FINISHED:
            return Claim(None, f"run {run.run_id[:8]} has it ({run.status.value.lower()})")
        if not per_file and (run.status == dg.DagsterRunStatus.SUCCESS or run.tags.get(OUTCOME_TAG) == QUARANTINED):
            return Claim(None, f"run {run.run_id[:8]} already loaded it")
    # The attempt after the runs of the key; but runs someone deleted (the Runs page's "Delete")
    # no longer count, so that attempt's id may be a later attempt's that still exists, or a
    # deleted run's, whose asset-check rows Dagster keeps: either would refuse the run for ever.
    # Every process derives the same next free id, so two of them still meet on it.
    existing = {record.dagster_run.run_id for record in records}
    attempt = len(records)
    while (run_id := str(uuid.uuid5(CLAIM_NAMESPACE, f"{run_key}#{attempt}"))) in existing or \
            left_by_a_deleted_run(instance, run_id, planned_check):
        attempt += 1
    return Claim(run_id)


def left_by_a_deleted_run(instance: dg.DagsterInstance, run_id: str, check: dg.AssetCheckKey | None) -> bool:
    """Whether a deleted run had this id. Dagster (1.13) deletes a run's record and events but not
    its asset-check executions, planned for every check of its job when the run is created: a new
    run with the same id fails at creation on their unique index. One index look-up (asset key,
    check name, run id) in the event log storage's own table; None or a storage without that
    table: nothing to find."""
    connect = getattr(instance.event_log_storage, "index_connection", None)
    if check is None or connect is None:
        return False
    import sqlalchemy as sa
    from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable as executions

    with connect() as connection:
        return connection.execute(sa.select(executions.c.id).where(
            executions.c.asset_key == check.asset_key.to_string(), executions.c.check_name == check.name,
            executions.c.run_id == run_id).limit(1)).first() is not None


class RecordedRun:
    """A finished run read back from the instance's event log, with the few methods of
    ExecuteInProcessResult the report uses."""

    def __init__(self, instance: dg.DagsterInstance, run: dg.DagsterRun):
        self.run_id = run.run_id
        self.success = run.status == dg.DagsterRunStatus.SUCCESS
        self.status = run.status
        self.all_events = [entry.dagster_event for entry in instance.all_logs(run.run_id)
                           if entry.dagster_event is not None]

    def get_asset_materialization_events(self):
        return [e for e in self.all_events if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION]

    def get_asset_check_evaluations(self):
        return [e.asset_check_evaluation_data for e in self.all_events
                if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION]


def outcome_of(instance: dg.DagsterInstance, label: str, result: RecordedRun):
    """The outcome of a run about one thing (the publication, a set-up run)."""
    return outcomes_of(instance, [label], result)[0]


def outcomes_of(instance: dg.DagsterInstance, labels: list[str], result: RecordedRun) -> list:
    """One outcome per file of a finished run."""
    if not result.success and stopped_by_blocking_check(result):
        instance.add_run_tags(result.run_id, {OUTCOME_TAG: QUARANTINED})
        return outcomes_of_run(labels, result, stopped_run=True)
    if not result.success:
        failure = next((e for e in result.all_events if e.is_step_failure), None)
        cause = root_cause(failure) if failure else f"run {result.status.value.lower()}"
        return failed_outcomes(labels, cause, result=result)
    return outcomes_of_run(labels, result, stopped_run=False)


def submit_timeout() -> float:
    return float(os.environ.get(SUBMIT_TIMEOUT_ENV) or DEFAULT_SUBMIT_TIMEOUT)


class Submitter:
    """The code location as the instance's launcher sees it (a gRPC server of this package),
    kept open while the submitted runs are waited for."""

    def __init__(self, instance: dg.DagsterInstance):
        from dagster._core.workspace.context import WorkspaceProcessContext
        from dagster._core.workspace.load_target import ModuleTarget

        self.instance = instance
        self._process_context = WorkspaceProcessContext(instance, ModuleTarget(
            module_name="gn_pipelines.definitions", attribute=None, working_directory=os.getcwd(),
            location_name=CODE_LOCATION))

    def __enter__(self) -> "Submitter":
        self._process_context.__enter__()
        self.workspace = self._process_context.create_request_context()
        return self

    def __exit__(self, *exc) -> None:
        self._process_context.__exit__(*exc)

    def submit(self, job_name: str, *, run_id: str | None, tags: dict, run_config: dict | None = None,
               partition_key: str | None = None) -> dg.DagsterRun:
        from dagster._cli.job import _create_run
        from gn_pipelines.definitions import defs

        if partition_key is not None:  # the partition tags the daemon would add
            resolved = dg.RunRequest(partition_key=partition_key, tags=tags, run_config=run_config or {}) \
                .with_resolved_tags_and_config(defs.resolve_job_def(job_name), [], self.instance)
            tags, run_config = dict(resolved.tags), dict(resolved.run_config)
        location = self.workspace.get_code_location(CODE_LOCATION)
        repository = next(iter(location.get_repositories().values()))
        remote_job = repository.get_full_job(job_name)
        run = _create_run(instance=self.instance, code_location=location, remote_repo=repository,
                          remote_job=remote_job, run_config=run_config or {}, tags=tags,
                          op_selection=None, run_id=run_id)
        return self.instance.submit_run(run.run_id, self.workspace)

    def wait(self, runs: dict[str, str], echo: Callable[[str], None], timeout: float | None = None):
        """Wait until every run (run id → label) has finished; yield (label, RecordedRun) as each does."""
        if not runs:
            return
        timeout = submit_timeout() if timeout is None else timeout
        coordinator = type(self.instance.run_coordinator).__name__
        launcher = type(self.instance.run_launcher).__name__
        echo(f"waiting up to {timeout:.0f} s for {len(runs)} run(s) handed to {coordinator} / {launcher}"
             + (" (the dagster-daemon dequeues them)" if "Queued" in coordinator else ""))
        deadline = time.monotonic() + timeout
        waiting = dict(runs)
        while waiting:
            for run_id, label in list(waiting.items()):
                run = self.instance.get_run_by_id(run_id)
                if run is not None and run.status in FINISHED:
                    del waiting[run_id]
                    yield label, RecordedRun(self.instance, run)
            if waiting and time.monotonic() > deadline:
                states = sorted({self.instance.get_run_by_id(r).status.value for r in waiting})
                raise TimeoutError(f"{len(waiting)} submitted run(s) still {', '.join(states)} after "
                                   f"{timeout:.0f} s (is the dagster-daemon running?): "
                                   + ", ".join(waiting.values()))
            if waiting:
                time.sleep(POLL_SECONDS)  # polling the instance's database, bounded by the deadline


def submit_and_wait(instance: dg.DagsterInstance, requests: Sequence[dg.RunRequest],
                    echo: Callable[[str], None], publish: bool | None,
                    behind: Callable[[], str | None] = lambda: None) -> list:
    """Submit the set-up runs and wait, then every drop's run and wait, then (if `publish`) the
    publication; one outcome per file (per run for a set-up run or the publication), reported as
    each run finishes."""
    from gn_pipelines.jobs import PUBLISH_JOB_NAME

    outcomes = []
    with Submitter(instance) as submitter:
        setup = [r for r in requests if not is_drop(r)]
        for drops, batch in ((False, setup), (True, [r for r in requests if is_drop(r)])):
            submitted, labels_of = {}, {}
            for request in batch:
                labels = request_labels(request)
                label = ", ".join(labels) if len(labels) < 4 else f"{request.tags.get('gn/batch')} ({len(labels)} files)"
                claim = claim_run_id(instance, request.run_key, per_file=bool(batch_files(request)),
                                     planned_check=planned_check_of(request))
                if claim.run_id is None:
                    for one in labels:
                        outcomes.append(skipped_outcome(one, claim.reason))
                        echo(outcomes[-1].line)
                    continue
                tags = {**request.tags, RUN_KEY_TAG: request.run_key, SENSOR_NAME_TAG: LANDING_SENSOR_NAME}
                try:
                    run = submitter.submit(request.job_name, run_id=claim.run_id, tags=tags,
                                           run_config={**(request.run_config or {}), **QUIET_CONSOLE},
                                           partition_key=request.partition_key)
                except DagsterRunAlreadyExists:
                    for one in labels:
                        outcomes.append(skipped_outcome(one, "another process claimed it first"))
                        echo(outcomes[-1].line)
                    continue
                submitted[run.run_id], labels_of[run.run_id] = label, labels
            try:
                for _, result in submitter.wait(submitted, echo):
                    run_outcomes = outcomes_of(instance, labels_of[result.run_id], result)
                    for outcome in run_outcomes if drops else about_run(run_outcomes):
                        outcomes.append(outcome)
                        echo(outcome.line)
            except TimeoutError as error:
                outcomes.append(RunOutcome("submitted runs", False, f"NOT FINISHED: {error}", about_file=False))
                echo(outcomes[-1].line)
                return outcomes
        ran_drops = any(o.success and not o.claimed_elsewhere for o in outcomes
                        if o.label != "setup_restricted_warehouse")
        if publish or (publish is None and (ran_drops or behind())):
            run = submitter.submit(PUBLISH_JOB_NAME, run_id=None, run_config=QUIET_CONSOLE,
                                   tags={"gn/trigger": "gn-pipelines process --submit"})
            try:
                for label, result in submitter.wait({run.run_id: PUBLISH_JOB_NAME}, echo):
                    (outcome,) = about_run([outcome_of(instance, label, result)])
                    if outcome.success:
                        outcome = replace(outcome, line=f"{label}: published, open data exported")
                    outcomes.append(outcome)
                    echo(outcome.line)
            except TimeoutError as error:
                outcomes.append(RunOutcome(PUBLISH_JOB_NAME, False, f"NOT FINISHED: {error}", about_file=False))
                echo(outcomes[-1].line)
    return outcomes
