"""`gn-pipelines process`: handle everything waiting in the landing zone now.

It evaluates the landing sensor itself and executes the runs it requests with the same jobs,
recorded in the Dagster instance (so they appear in the UI), tagged like the daemon's runs so
neither ever loads the same bytes again.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, timezone
from typing import Callable

import dagster as dg
# not exported by `dagster` itself: the error the run storage raises for a run id already stored
from dagster._core.errors import DagsterRunAlreadyExists

from gn_pipelines import thread_priority
from gn_pipelines.ingest.landing_state import LandingClaims, LandingStateStore
from gn_pipelines.publish.builds import prepare_charts
from gn_pipelines.publish.releases import recover_releases
from gn_pipelines.run_recovery import (
    RECOVERED_TAG,
    PoolWaitTimeout,
    job_pools,
    owner_tags,
    recover_dead_runs,
    run_state,
    wait_for_pools,
)
from gn_pipelines.settings import DataZones
from gn_pipelines.run_outcomes import (
    OUTCOME_TAG, QUARANTINED, SILENT_CONSOLE, RunOutcome, about_run, failed_outcomes, is_drop, outcomes_of_run,
    WORKER_DIED, request_labels, root_cause, skipped_outcome, stopped_by_blocking_check, trace_of,
)
from gn_pipelines.submission import claim_run_id
from gn_pipelines.ingest.batch import file_key
from gn_pipelines.ingest.landing import is_temporary
from gn_pipelines.unfinished_writes import remove_dead_work_directories
from gn_pipelines.worker_server import stop_worker_server, worker_context, worker_started
from gn_pipelines.sensors import (
    LANDING_SENSOR_NAME, RUN_KEY_TAG, SENSOR_NAME_TAG, batch_files, collection_request, evaluate_landing,
    planned_check_of,
)


def _definitions() -> dg.Definitions:
    from gn_pipelines.definitions import defs

    return defs


def plan_runs(defs: dg.Definitions, instance: dg.DagsterInstance) -> tuple[list[dg.RunRequest], list[tuple[str, str]]]:
    """Evaluate the landing sensor's tick without a cursor: against the landing state in the
    instance's database (unchanged files are not read again), with the files whose runs did not
    finish planned again. Registers the partitions it adds. Returns the run requests, and the
    files left waiting with why (uploads under a temporary name left out: they are not files yet)."""
    result, plan = evaluate_landing(instance, defs.resources["zones"], None)
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    waiting = [(relative, why) for relative, why in plan.waiting if not is_temporary(relative)]
    return list(result.run_requests or []), waiting


def source_files(requests: list[dg.RunRequest]) -> set[str]:
    """The landing paths these run requests are about (every file of a batch; set-up runs are
    about none)."""
    return {label for r in requests if is_drop(r) for label in request_labels(r)}


def already_succeeded(instance: dg.DagsterInstance, run_key: str) -> bool:
    """A run key is done when its run succeeded, or failed only because its data was stopped by
    a blocking check (that verdict would not change on a retry)."""
    return finished_run_id(instance, run_key) is not None


def finished_run_id(instance: dg.DagsterInstance, run_key: str) -> str | None:
    """The run that did a run key (see `already_succeeded`), or None."""
    tags = {RUN_KEY_TAG: run_key, SENSOR_NAME_TAG: LANDING_SENSOR_NAME}
    records = instance.get_run_records(
        filters=dg.RunsFilter(tags=tags, statuses=[dg.DagsterRunStatus.SUCCESS]), limit=1)
    records = records or instance.get_run_records(
        filters=dg.RunsFilter(tags=tags | {OUTCOME_TAG: QUARANTINED}), limit=1)
    return records[0].dagster_run.run_id if records else None


# Runs created up to this long after the first claim are still read for their files: a run's
# creation time and a claim's come from different clocks (the database's, a host's)
CLAIMS_CLOCK_MARGIN_SECONDS = 24 * 3600


def loaded_file_keys(instance: dg.DagsterInstance, dataset: str, claims: LandingClaims) -> set[str]:
    """The keys of the files of `dataset` some run from before claims already loaded (or stopped
    for good): the files of succeeded or stopped batch runs, and of the per-file runs from before
    batches. Every batch since claims claimed each of its files, so only runs created before the
    first claim are read: a fixed set, not every run of ten years (28 s on a fabricated ten-year
    instance)."""
    first_claim = claims.first_claimed_at()
    created_before = (None if first_claim is None else
                      datetime.fromtimestamp(first_claim + CLAIMS_CLOCK_MARGIN_SECONDS, timezone.utc))
    # one tag per query, the others checked here: Dagster joins run_tags once per tag, and SQLite
    # looks the second tag up by key and value for every row of the first, statistics or not
    # (10 s at 4,500 runs)
    records = instance.get_run_records(filters=dg.RunsFilter(
        tags={"gn/dataset": dataset}, statuses=[dg.DagsterRunStatus.SUCCESS], created_before=created_before))
    records += instance.get_run_records(filters=dg.RunsFilter(
        tags={OUTCOME_TAG: QUARANTINED}, created_before=created_before))
    keys = set()
    for record in records:
        run = record.dagster_run
        if run.tags.get("gn/dataset") != dataset or run.tags.get(SENSOR_NAME_TAG) != LANDING_SENSOR_NAME:
            continue
        files = batch_files(dg.RunRequest(run_config=run.run_config or {}))
        if files:
            keys.update(f.key for f in files)
        elif "gn/content_sha256" in run.tags and "gn/provider" in run.tags:
            keys.add(file_key(run.tags["gn/content_sha256"], run.tags["gn/provider"], dataset))
    return keys


def pending_requests(instance: dg.DagsterInstance, requests: list[dg.RunRequest]) -> tuple[list[dg.RunRequest], int]:
    """The requests still to run, a batch reduced to its files not loaded yet (a file of a
    crashed batch is redone, a loaded one never); and how many files were skipped."""
    pending, skipped, loaded = [], 0, {}
    claims = LandingClaims(LandingStateStore.of_instance(instance))
    for request in requests:
        files = batch_files(request)
        if not files:
            if already_succeeded(instance, request.run_key):
                skipped += is_drop(request)
            else:
                pending.append(request)
            continue
        dataset, month = request.tags["gn/dataset"], request.tags["gn/month"]
        if dataset not in loaded:
            loaded[dataset] = loaded_file_keys(instance, dataset, claims)
        # a claimed file is loaded when its holder loaded it (a run listing it may have left it to
        # another run that then failed); a file never claimed when its bytes were loaded under
        # another name of its folder, by a claim's holder or a run from before claims (by key)
        holders = claims.holders((f.relative, f.sha256) for f in files)
        copies = claims.loaded_elsewhere((f.relative, f.sha256) for f in files
                                         if (f.relative, f.sha256) not in holders)
        remaining = [f for f in files if not (holder.loaded if (holder := holders.get((f.relative, f.sha256)))
                                              else (f.relative, f.sha256) in copies or f.key in loaded[dataset])]
        skipped += len(files) - len(remaining)
        if remaining:
            pending.append(request if len(remaining) == len(files) else collection_request(dataset, month, remaining))
    return pending, skipped


def execute_request(request: dg.RunRequest, environment: tuple[dict, str] | None = None) -> list[RunOutcome]:
    """Execute one run request in this process, against the instance in DAGSTER_HOME.
    `environment`: the caller's environment variables and working directory, taken on first (a
    worker forked from a fork server would otherwise keep the server's)."""
    if environment is not None:
        variables, directory = environment
        os.environ.clear()
        os.environ.update(variables)
        os.chdir(directory)
    try:
        return execute_request_in(_worker_instance(), request)
    finally:
        # Dagster leaves SIGTERM raising KeyboardInterrupt after a run: an idle worker the pool
        # terminates (another worker died) would print that traceback instead of ending quietly
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


_WORKER_INSTANCES: dict[tuple[int, str], dg.DagsterInstance] = {}


def _worker_instance() -> dg.DagsterInstance:
    """The instance in DAGSTER_HOME, opened once per worker process for all its runs (opening
    it checks every storage's schema: about half a second a run on a loaded machine) and
    closed when the worker exits."""
    from multiprocessing import util

    key = (os.getpid(), os.environ.get("DAGSTER_HOME", ""))
    if key not in _WORKER_INSTANCES:
        instance = _WORKER_INSTANCES[key] = dg.DagsterInstance.get()
        # a pool's worker leaves through os._exit: multiprocessing's exit finalizers still run
        util.Finalize(instance, instance.dispose, exitpriority=10)
    return _WORKER_INSTANCES[key]


def execute_request_in(instance: dg.DagsterInstance, request: dg.RunRequest,
                       echo: Callable[[str], None] = print) -> list[RunOutcome]:
    """Execute one run (a batch, a rejection or a set-up run); one outcome per file."""
    defs = _definitions()
    tags = {**request.tags, RUN_KEY_TAG: request.run_key, SENSOR_NAME_TAG: LANDING_SENSOR_NAME, **owner_tags()}
    job = defs.resolve_job_def(request.job_name)
    labels = request_labels(request)
    # a run id claimed in the instance database: another process on any machine sharing the
    # instance gets DagsterRunAlreadyExists for the same batch (gn_pipelines/submission.py)
    claim = claim_run_id(instance, request.run_key, per_file=bool(batch_files(request)),
                         planned_check=planned_check_of(request))
    if claim.run_id is None:
        return [skipped_outcome(label, claim.reason) for label in labels]
    try:
        wait_for_pools(instance, job_pools(job), echo=echo)
    except PoolWaitTimeout as error:
        return [RunOutcome(label, False, f"{label}: NOT RUN ({error})") for label in labels]
    try:
        result = job.execute_in_process(
            run_config={**(request.run_config or {}), **SILENT_CONSOLE}, instance=instance,
            partition_key=request.partition_key, run_id=claim.run_id,
            tags=tags, raise_on_error=False)
    except DagsterRunAlreadyExists:
        return [skipped_outcome(label, "another process claimed it first") for label in labels]
    if not result.success and stopped_by_blocking_check(result):
        # the data was stopped, as designed: an outcome to report, not a platform failure
        instance.add_run_tags(result.run_id, {OUTCOME_TAG: QUARANTINED})
        return outcomes_of_run(labels, result, stopped_run=True)
    if not result.success:
        failure = next((e for e in result.all_events if e.is_step_failure), None)
        return failed_outcomes(labels, root_cause(failure), trace_of(failure), result)
    return outcomes_of_run(labels, result, stopped_run=False)


class _Submission:
    """Hands `requests` to `pool` from a thread of its own; `futures()` waits for it."""

    def __init__(self, pool: ProcessPoolExecutor, requests: list[dg.RunRequest], environment: tuple[dict, str]):
        self._submitted: dict = {}
        self._error: BaseException | None = None

        def submit_all() -> None:
            try:
                for request in requests:
                    self._submitted[id(request)] = pool.submit(execute_request, request, environment)
            except BaseException as error:  # raised again by futures(), in the caller's thread
                self._error = error

        self._thread = threading.Thread(target=submit_all, name="submit-runs", daemon=True)
        self._thread.start()

    def futures(self) -> dict:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._submitted


class _CacheWarmups:
    """The warm-up (gn_pipelines/build_cache_warmup.py): one process of its own building the
    publication's tables of drops of the datasets whose batches succeeded, on the core the workers
    leave free, while this process goes on to the publication (whose steps run these builds last
    and publish what the warm-up kept). Started with the batches, it loads its model meanwhile;
    where no core is left beside the workers it does everything at the lowest CPU priority, and
    whoever waits for it (a step for its lock, this process at the end) lends it theirs
    (`build_cache_warmup` says where that cannot be done).
    A dataset whose batches failed is never told to go: nothing of it is written. The warm-up ends
    when this process ends or dies (the kernel kills it; its standard input closes)."""

    READY_SECONDS = 30.0  # bound on waiting for the warm-up to hold the locks of the told datasets

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._datasets: list[str] = []
        self._process: subprocess.Popen | None = None
        self._told: set[str] = set()
        self._decided: set[str] = set()
        self._all_decided = threading.Event()  # a batch's callbacks may run just after its result is read

    def start(self, datasets: set[str], spare_core: bool) -> None:
        """Start the warm-up, from this (the main) thread: the kernel kills it when this thread
        ends. It loads its model now: with a core left beside the workers (`spare_core`) as any
        process, else at the lowest CPU priority, on the time the batches leave idle (where its
        priority could be raised again; else once a dataset's batches are done)."""
        from gn_pipelines.build_cache_warmup import EARLY, WHEN_IDLE, warm_builds_of

        self._datasets = [d for d in sorted(datasets) if warm_builds_of(d)]
        if self._datasets:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "gn_pipelines.build_cache_warmup", str(os.getpid()),
                 EARLY if spare_core else WHEN_IDLE, *self._datasets], text=True,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def watch(self, batches: dict[int, tuple[str, Future]]) -> None:
        by_dataset: dict[str, list[Future]] = {d: [] for d in self._datasets}
        for dataset, future in batches.values():
            if dataset in by_dataset:
                by_dataset[dataset].append(future)
        for dataset, futures in by_dataset.items():
            for future in futures:  # called in the pool's thread as each batch ends
                future.add_done_callback(lambda _, d=dataset, f=futures: self._tell_when_done(d, f))
            if not futures:
                self._decide(dataset, go=False)

    @staticmethod
    def _succeeded(future: Future) -> bool:
        """The batch ran to its end: every file loaded, or stopped by a blocking check (a verdict)."""
        return (not future.cancelled() and future.exception() is None
                and all(o.success or o.stopped for o in future.result()))

    def _tell_when_done(self, dataset: str, futures: list[Future]) -> None:
        if all(f.done() for f in futures):
            self._decide(dataset, go=all(self._succeeded(f) for f in futures))

    def _decide(self, dataset: str, go: bool) -> None:
        from gn_pipelines.build_cache_warmup import END, GO

        with self._lock:
            if dataset in self._decided or not self._datasets:
                return
            self._decided.add(dataset)
            words = [f"{GO} {dataset}"] if go else []
            if self._decided >= set(self._datasets):
                words.append(END)
                self._all_decided.set()
            if self._process is None or self._process.stdin.closed:
                return
            try:
                self._process.stdin.write("".join(f"{word}\n" for word in words))
                self._process.stdin.flush()
                if go:
                    self._told.add(dataset)
            except OSError:  # it ended already (e.g. killed): the publication builds without it
                pass

    def ready(self) -> None:
        """Wait (bounded) until the warm-up holds the locks of every dataset told to go: the
        publication's steps then wait for it instead of building beside it."""
        from gn_pipelines.build_cache_warmup import LOCKED

        deadline = time.monotonic() + self.READY_SECONDS
        self._all_decided.wait(self.READY_SECONDS if self._datasets else 0)
        with self._lock:
            process, waiting = self._process, {f"{LOCKED} {d}" for d in self._told}
        received = b""
        while process is not None and waiting and (remaining := deadline - time.monotonic()) > 0:
            if not select.select([process.stdout], [], [], remaining)[0]:
                break
            chunk = os.read(process.stdout.fileno(), 4096)  # the pipe itself: no buffer hides a line
            if not chunk:  # it ended
                break
            received += chunk
            *lines, received = received.split(b"\n")
            waiting -= {line.decode().strip() for line in lines}

    def close(self, finished: bool) -> None:
        """`finished`: the publication ran; a warm-up told to go is awaited, else ended at once."""
        with self._lock:
            process, self._process, self._datasets = self._process, None, []
        if process is None:
            return
        if finished and self._told:
            thread_priority.lend(process.pid)  # now waited for: not on what a busy machine leaves it
            process.wait()
        try:
            process.stdin.close()  # ends it at once if it still runs
        except OSError:
            pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def _batch_weight(request: dg.RunRequest) -> int:
    """How many files a run request carries: the longest runs go to the workers first."""
    return int(request.tags.get("gn/files") or 1)


def _to_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _ledger_holds_the_current_release(zones: DataZones, echo: Callable[[str], None]) -> None:
    """A run killed right after its release became current left it out of the processing ledger."""
    from gn_pipelines.datalab.ledger import record_release_if_missing
    from gn_pipelines.publish.releases import current_release

    current = current_release(zones.root)
    if current is not None and current.complete and record_release_if_missing(zones, current.path):
        echo(f"release {current.id}: recorded in the processing ledger (its run ended before it could)")


def process_landing(instance: dg.DagsterInstance, *, workers: int = 1, publish: bool | None = None,
                    echo: Callable[[str], None] = print,
                    echo_error: Callable[[str], None] = _to_stderr, submit: bool = False) -> list[RunOutcome]:
    """Plan and execute every pending run, then publish (`publish` None: when a drop ran or
    nothing was published yet; True: always; False: never). One outcome per file, and one per
    set-up or publication run (`run_outcomes.summary` counts both).
    `submit`: hand the runs to the instance's queue and launcher and wait for them instead."""
    defs = _definitions()
    zones = DataZones.from_env()
    for recovered in recover_dead_runs(instance):
        echo(recovered.line)
    for line in recover_releases(zones.root, lambda run_id: run_state(instance, run_id)):
        echo(line)
    _ledger_holds_the_current_release(zones, echo)
    requests, waiting = plan_runs(defs, instance)
    # a batch is reduced to its files not loaded yet (per file: a crashed batch's files are redone)
    pending, _ = pending_requests(instance, requests)
    # the landing state remembers which files finished (here, elsewhere or by the daemon), so the
    # next `process` does not plan them again; failed, killed or never-run ones stay unfinished
    landing_state = LandingStateStore.of_instance(instance)
    landing_state.mark_done(source_files(requests) - source_files(pending))
    # set-up runs first (the warehouse views), then the drops, in parallel where asked
    setup = [r for r in pending if not is_drop(r)]
    drops = [r for r in pending if is_drop(r)]
    skipped = landing_state.count_done()  # files whose current bytes were loaded or rejected before
    if skipped:
        echo(f"{skipped} file(s) skipped: already loaded or rejected earlier with the same bytes")
    for relative, why in waiting:
        echo(f"{relative}: waiting: {why}")
    if submit:
        from gn_pipelines.submission import submit_and_wait

        submitted = submit_and_wait(instance, setup + drops, echo, publish,
                                    behind=lambda: publication_behind(instance, zones))
        landing_state.mark_done(o.label for o in submitted if o.success and not o.claimed_elsewhere)
        return submitted
    outcomes: list[RunOutcome] = []

    def report(run_outcomes: list[RunOutcome]) -> None:
        """A run's outcomes: its files marked done together (one write, not one per file)."""
        outcomes.extend(run_outcomes)
        done = [o.label for o in run_outcomes if o.success and not o.claimed_elsewhere]  # landing paths
        if done:
            landing_state.mark_done(done)
        for outcome in run_outcomes:
            echo(outcome.line)
            if outcome.trace and not outcome.interrupted:
                echo_error(outcome.trace)

    warmups = _CacheWarmups()
    published = False
    try:
        if workers > 1 and len(drops) > 1:
            # The drops start at once in the workers, the biggest first; the set-up run (reference
            # tables and views in restricted.duckdb, which no drop reads) runs here meanwhile.
            # A worker that dies raises BrokenProcessPool here instead of leaving the command waiting.
            datasets = {r.tags.get("gn/dataset", "") for r in drops}
            if publish is not False:
                warmups.start(datasets, spare_core=len(os.sched_getaffinity(0)) > workers)
            with ProcessPoolExecutor(min(workers, len(drops)), mp_context=worker_context(),
                                     initializer=worker_started) as pool:
                # submitting waits for the fork server's imports: a thread submits, this one sets up
                submitting = _Submission(pool, sorted(drops, key=_batch_weight, reverse=True),
                                         (dict(os.environ), os.getcwd()))
                for request in setup:
                    report(about_run(execute_request_in(instance, request, echo)))
                if publish is not False and not any(o.interrupted for o in outcomes):
                    # while the workers' fork server still imports: off the publication's serial path
                    prepare_charts(datasets)
                futures = submitting.futures()
                warmups.watch({id(r): (r.tags.get("gn/dataset", ""), futures[id(r)]) for r in drops})
                if any(o.interrupted for o in outcomes):
                    pool.shutdown(cancel_futures=True)
                    stop_worker_server()
                    return outcomes
                for request in drops:  # reported in the planned order
                    run_outcomes = _result_of(futures[id(request)], request, instance, pool)
                    report(run_outcomes)
                    if any(o.interrupted for o in run_outcomes):
                        pool.shutdown(cancel_futures=True)
                        stop_worker_server()
                        return outcomes
            stop_worker_server()  # no more runs for the workers (the publication runs here)
            if any(o.worker_died for o in outcomes):
                # the pool has ended its other workers too: their runs are failed now, not at the
                # next command, and free the pool slots the publication needs
                for recovered in recover_dead_runs(instance):
                    echo(recovered.line)
        else:
            if workers > 1:
                stop_worker_server()  # `gn-pipelines process` may have started it for nothing
            for request in setup:
                report(about_run(execute_request_in(instance, request, echo)))
            if any(o.interrupted for o in outcomes):
                return outcomes
            for request in drops:
                run_outcomes = execute_request_in(instance, request, echo)
                report(run_outcomes)
                if any(o.interrupted for o in run_outcomes):
                    return outcomes
        ran_drops = any(o.success for o in outcomes if o.label != "setup_restricted_warehouse")
        behind = None if ran_drops else publication_behind(instance, zones)
        if publish is None and behind:
            echo(f"publishing again: {behind}")
        if publish or (publish is None and (ran_drops or behind)):
            warmups.ready()
            published = True
            report([publish_in(instance, echo)])
        return outcomes
    finally:
        warmups.close(finished=published)
        # a worker or parser killed mid-run leaves its work directory (restricted rows) in scratch
        remove_dead_work_directories(zones.scratch)


def _result_of(future: Future, request: dg.RunRequest, instance: dg.DagsterInstance,
               pool: ProcessPoolExecutor) -> list[RunOutcome]:
    """A worker's outcomes. A worker that died (killed, out of memory) breaks the pool: a run that
    had not finished fails with this line (its files stay unfinished for the next command); one
    its worker finished is done, only its report was lost."""
    try:
        return future.result()
    except BrokenProcessPool:
        # The futures fail as the pool breaks, while it still ends the other workers: one may be
        # writing its run's success right now (Dagster delays an interrupt until then). Judged
        # once every worker is gone, when each run's state is final.
        pool.shutdown(wait=True, cancel_futures=True)
        labels = request_labels(request)
        run_id = finished_run_id(instance, request.run_key)
        if run_id is not None:
            return [RunOutcome(label, True, f"{label}: {REPORT_LOST}", run_id=run_id) for label in labels]
        return [RunOutcome(label, False, f"{label}: NOT FINISHED ({WORKER_DIED})") for label in labels]


REPORT_LOST = ("finished, but its report was lost when a worker process died: its lines are on its "
               "run's page in the UI")


def publication_behind(instance: dg.DagsterInstance, zones: DataZones) -> str | None:
    """Why the current release does not hold everything loaded so far (None: it does)."""
    from gn_pipelines.assets.restricted_warehouse import WAREHOUSE_SETUP_JOB
    from gn_pipelines.jobs import PUBLISH_JOB_NAME
    from gn_pipelines.publish.releases import current_release, pending_draft

    if current_release(zones.root) is None:
        return "nothing is published yet"
    if pending_draft(zones.root) is not None:
        return "a release is waiting to be completed"
    last = instance.get_run_records(filters=dg.RunsFilter(job_name=PUBLISH_JOB_NAME), limit=1)
    if last and RECOVERED_TAG in last[0].dagster_run.tags:
        return "the last publication was interrupted"
    published = instance.get_run_records(
        filters=dg.RunsFilter(job_name=PUBLISH_JOB_NAME, statuses=[dg.DagsterRunStatus.SUCCESS]), limit=1)
    if not published:
        return "no publication has succeeded yet"
    since = datetime.fromtimestamp(published[0].start_time, timezone.utc)
    loaded = instance.get_run_records(filters=dg.RunsFilter(
        tags={SENSOR_NAME_TAG: LANDING_SENSOR_NAME}, statuses=[dg.DagsterRunStatus.SUCCESS],
        updated_after=since), limit=10)
    if any(r.dagster_run.job_name != WAREHOUSE_SETUP_JOB and (r.end_time or 0) > published[0].start_time
           for r in loaded):
        return "files were loaded after the last publication started"
    return None


def publish_in(instance: dg.DagsterInstance, echo: Callable[[str], None] = print) -> RunOutcome:
    """Rebuild the releases, the published warehouse and the open data (as the nightly run does);
    its outcome is a run's, about no file."""
    from gn_pipelines.jobs import PUBLISH_JOB_NAME

    job = _definitions().resolve_job_def(PUBLISH_JOB_NAME)
    try:
        wait_for_pools(instance, job_pools(job), echo=echo)
    except PoolWaitTimeout as error:
        return RunOutcome(PUBLISH_JOB_NAME, False, f"{PUBLISH_JOB_NAME}: NOT RUN ({error})", about_file=False)
    result = job.execute_in_process(run_config=SILENT_CONSOLE, instance=instance,
                                    tags={"gn/trigger": "gn-pipelines process", **owner_tags()},
                                    raise_on_error=False)
    if result.success:
        tables = sum(1 for e in result.get_asset_materialization_events()
                     if e.materialization.asset_key.path[0] == "published")
        return RunOutcome(PUBLISH_JOB_NAME, True, f"{PUBLISH_JOB_NAME}: {tables} tables and data_catalog "
                                                           "published, open data exported", run_id=result.run_id,
                          about_file=False)
    stopped = stopped_by_blocking_check(result)
    failed = sorted({f"{e.asset_key.to_user_string()}:{e.check_name}"
                     for e in result.get_asset_check_evaluations() if not e.passed
                     and e.severity == dg.AssetCheckSeverity.ERROR})
    failure = next((e for e in result.all_events if e.is_step_failure), None)
    reason = f"stopped by {', '.join(failed)}" if stopped else root_cause(failure)
    return RunOutcome(PUBLISH_JOB_NAME, False, f"{PUBLISH_JOB_NAME}: FAILED ({reason}); the published zone is unchanged",
                      trace="" if stopped else trace_of(failure), run_id=result.run_id, about_file=False)
