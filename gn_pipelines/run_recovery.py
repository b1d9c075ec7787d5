"""Recovery of runs whose process died, for the runs `gn-pipelines` executes in its own process.

The daemon's runs are watched by Dagster's run monitoring (`dagster.yaml`). Runs executed in
process (`execute_in_process`: `gn-pipelines process` and `extract`) have no run worker to
monitor: each is tagged with its owner (host, pid and that process's start time, so a reused
pid is not mistaken for the owner), and the next command marks the runs of a dead owner failed
and frees the concurrency-pool slots they held. Pool waits are bounded and name the holder.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from typing import Callable, Iterable

import dagster as dg

from gn_pipelines.process_identity import process_alive, this_process

# "<pid>@<host> started <ticks>": the owner's start time in clock ticks since boot tells a reused
# pid from it; one tag, not three, on every run the Runs page lists
OWNER_TAG = "gn/owner"
_OWNER = re.compile(r"([0-9]+)@(\S*) started ([0-9]*)")
# runs of earlier versions carry the three parts as tags of their own
LEGACY_OWNER_HOST_TAG, LEGACY_OWNER_PID_TAG, LEGACY_OWNER_STARTED_TAG = (
    "gn/owner_host", "gn/owner_pid", "gn/owner_started")
RECOVERED_TAG = "gn/recovered"  # set on a run marked failed because its process died
POOL_WAIT_ENV = "GN_POOL_WAIT_SECONDS"
DEFAULT_POOL_WAIT_SECONDS = 300.0

IN_PROGRESS = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
               dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def owner_tag(host: str, pid: int, started: str) -> dict[str, str]:
    return {OWNER_TAG: f"{pid}@{host} started {started}"}


def owner_tags() -> dict[str, str]:
    """The tag naming this process as the owner of an in-process run."""
    return owner_tag(*this_process())


def run_owner(tags: dict[str, str]) -> tuple[str, int, str] | None:
    """(host, pid, start ticks) of a run's owner; None for a run without one (or a tag not ours)."""
    if OWNER_TAG in tags:
        found = _OWNER.fullmatch(tags[OWNER_TAG])
        return (found[2], int(found[1]), found[3]) if found else None
    if tags.get(LEGACY_OWNER_PID_TAG, "").isdigit():
        return (tags.get(LEGACY_OWNER_HOST_TAG, ""), int(tags[LEGACY_OWNER_PID_TAG]),
                tags.get(LEGACY_OWNER_STARTED_TAG, ""))
    return None


def owner_alive(tags: dict[str, str]) -> bool | None:
    """True/False for a run owned by a process of this host; None when another host owns it
    (or the run names no owner)."""
    owner = run_owner(tags)
    return None if owner is None else process_alive(*owner)


def describe_owner(run: dg.DagsterRun) -> str:
    owner = run_owner(run.tags)
    if owner is not None:
        return f"pid {owner[1]} on {owner[0]}"
    return "the daemon" if run.remote_job_origin is not None else "an earlier command"


# Tags every in-process run of `gn-pipelines process` carried before runs had owner tags.
LEGACY_PROCESS_TAGS = ("dagster/run_key", "gn/trigger")


def is_dead_in_process_run(run: dg.DagsterRun) -> bool:
    """An in-process run whose owner is gone. Runs launched by the daemon (they have a remote
    origin) are left to run monitoring; runs of `process` from a version without owner tags have
    no process left to finish them; anyone else's in-process runs are left alone."""
    if run.remote_job_origin is not None:
        return False
    if run_owner(run.tags) is None:
        return any(tag in run.tags for tag in LEGACY_PROCESS_TAGS)
    return owner_alive(run.tags) is False


@dataclass(frozen=True)
class Recovered:
    run_id: str
    job_name: str
    status: str  # the status it was left in
    label: str  # the file or job it was working on

    @property
    def line(self) -> str:
        return (f"recovered run {self.run_id[:8]} ({self.label}): its process died while it was "
                f"{self.status}; marked failed, its pool slots freed, its work will be redone")


def recover_dead_runs(instance: dg.DagsterInstance) -> list[Recovered]:
    """Mark the in-process runs of dead owners failed and free their pool slots; free the slots
    any finished run still holds (a run killed between its failure and its clean-up)."""
    recovered = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=IN_PROGRESS)):
        run = record.dagster_run
        if not is_dead_in_process_run(run):
            continue
        # tagged first: a kill between the two must not leave a failed run that looks like any other
        instance.add_run_tags(run.run_id, {RECOVERED_TAG: "its process died"})
        instance.report_run_failed(
            run, message=f"gn-pipelines: the process that executed this run ({describe_owner(run)}) "
                         "is gone; marked failed so the next command redoes its work")
        _free_slots(instance, run.run_id)
        recovered.append(Recovered(run.run_id, run.job_name, run.status.value,
                                   run.tags.get("gn/source_file") or run.tags.get("gn/batch", run.job_name)))
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        holders = storage.get_concurrency_run_ids()
        if holders:
            finished = instance.get_run_records(filters=dg.RunsFilter(
                run_ids=list(holders), statuses=[s for s in dg.DagsterRunStatus if s not in IN_PROGRESS
                                                 and s != dg.DagsterRunStatus.QUEUED]))
            for record in finished:
                _free_slots(instance, record.dagster_run.run_id)
    return recovered


def _free_slots(instance: dg.DagsterInstance, run_id: str) -> None:
    if instance.event_log_storage.supports_global_concurrency_limits:
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)


def job_pools(job: dg.JobDefinition) -> set[str]:
    """The concurrency pools the steps of `job` claim."""
    return {node.definition.pool for node in job.graph.nodes if getattr(node.definition, "pool", None)}


def pool_holders(instance: dg.DagsterInstance, pool: str) -> list[str] | None:
    """None when `pool` has a free slot, else a description of each run holding one."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return None
    info = storage.get_concurrency_info(pool)
    limit = info.limit if info.limit is not None else info.slot_count
    if not limit or len(info.claimed_slots) < limit:
        return None
    described = []
    for run_id in sorted(info.active_run_ids):
        run = instance.get_run_by_id(run_id)
        if run is None:
            described.append(f"run {run_id[:8]} (deleted)")
        else:
            described.append(f"run {run_id[:8]} ({run.job_name}, {run.status.value}, {describe_owner(run)})")
    return described


def repair_pool_slots(instance: dg.DagsterInstance, pools: Iterable[str] | None = None) -> list[str]:
    """Give back their slots to the pools that have a limit but fewer slots, and name them.
    `dagster run wipe` on SQLite (Dagster 1.13) deletes the pools' slots and keeps their limits:
    every step of those pools then waits for a slot that no longer exists, for ever and at full
    CPU (Dagster's own wait has no bound). A pool never used yet has no limit row: Dagster sets it
    up at its first claim, as before. `pools`: None for every pool with a limit."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    limited = {pool.name for pool in storage.get_pool_limits()}
    repaired = []
    for pool in sorted(limited if pools is None else set(pools) & limited):
        info = storage.get_concurrency_info(pool)
        if not info.limit or info.slot_count >= info.limit:
            continue
        if info.using_default_limit:  # still follows the instance's default (dagster.yaml)
            storage.initialize_concurrency_limit_to_default(pool)
        else:
            storage.set_concurrency_slots(pool, info.limit)
        repaired.append(pool)
    return repaired


def slots_given_back(pool: str) -> str:
    return f"the {pool} pool had lost its slots (as `dagster run wipe` leaves it on SQLite): given back"


class PoolWaitTimeout(RuntimeError):
    """A pool stayed full for the whole bounded wait."""


def wait_for_pools(instance: dg.DagsterInstance, pools: Iterable[str], *, timeout: float | None = None,
                   echo: Callable[[str], None] = print, poll: float = 1.0) -> None:
    """Wait (bounded, saying for whom) until every pool in `pools` has a free slot; dead owners
    found meanwhile are recovered, so their slots free themselves."""
    if timeout is None:
        timeout = float(os.environ.get(POOL_WAIT_ENV) or DEFAULT_POOL_WAIT_SECONDS)
    deadline = time.monotonic() + timeout
    for pool in repair_pool_slots(instance, pools):
        echo(slots_given_back(pool))
    said: dict[str, list[str]] = {}
    for pool in sorted(pools):
        while (holders := pool_holders(instance, pool)) is not None:
            if said.get(pool) != holders:
                echo(f"waiting up to {timeout:.0f} s for the {pool} pool, held by {', '.join(holders)}")
                said[pool] = holders
            if time.monotonic() >= deadline:
                raise PoolWaitTimeout(f"the {pool} pool stayed held for {timeout:.0f} s by {', '.join(holders)}; "
                                      f"nothing was run (set {POOL_WAIT_ENV} to wait longer)")
            recover_dead_runs(instance)
            time.sleep(poll)


def run_state(instance: dg.DagsterInstance, run_id: str) -> str:
    """"active", "succeeded" or "failed" (a deleted run counts as failed), for publish/releases.py."""
    run = instance.get_run_by_id(run_id)
    if run is None:
        return "failed"
    if run.status in IN_PROGRESS or run.status == dg.DagsterRunStatus.QUEUED:
        return "active"
    return "succeeded" if run.status == dg.DagsterRunStatus.SUCCESS else "failed"
