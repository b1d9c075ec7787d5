"""The landing sensor: watches the landing zone and requests one run per dataset and delivery
month holding every complete new file of it (a batch; files in the run config).

A batch's run key comes from its files' keys: their contents and the delivering provider's
folder (the same bytes never load twice for one provider, and each provider's delivery is its
own). Each file's size, mtime and hash are kept in the instance's database
(ingest/landing_state.py) and the cursor stays a few hundred bytes, so a tick with nothing new
only lists and stats files.
"""

import hashlib
from collections import defaultdict
from pathlib import Path

import dagster as dg

from gn_pipelines.assets.collection import DROP_ACCEPTED_CHECK, collected_asset_key, month_partitions
from gn_pipelines.assets.landing_rejections import LANDING_REJECTIONS_KEY, REJECT_JOB_NAME
from gn_pipelines.assets.restricted_warehouse import WAREHOUSE_SETUP_JOB
from gn_pipelines.jobs import INGEST_JOBS, ingest_job_name, reject_landing_file_job, setup_restricted_warehouse_job
from gn_pipelines.datasets import CONTRACTS
from gn_pipelines.restricted_views import VIEWS_VERSION
from gn_pipelines.ingest.batch import BatchFile, batch_run_key, delivery_month, file_key, files_from_config
from gn_pipelines.ingest.landing import landed_path
from gn_pipelines.ingest.landing_state import LandingStateStore, dump_cursor, plan_with_state
from gn_pipelines.ingest.planning import LandingPlan, PlannedRejection
from gn_pipelines.resources import DataZonesResource

LANDING_SENSOR_NAME = "landing_drop_sensor"
RUN_KEY_TAG = "dagster/run_key"
SENSOR_NAME_TAG = "dagster/sensor_name"


def warehouse_version(data_root: Path) -> str:
    """Changes when a contract, the views' definitions or the data root change (the views hold
    absolute paths), so the warehouse views are rebuilt once for each."""
    signature = repr((str(data_root), VIEWS_VERSION, sorted((name, c.columns) for name, c in CONTRACTS.items())))
    return hashlib.sha256(signature.encode()).hexdigest()[:16]


def warehouse_setup_key(instance: dg.DagsterInstance, zones) -> str:
    """The set-up run's key: `warehouse_version`, and while `restricted.duckdb` is missing though a
    set-up run built it before (someone deleted it), the run that built it as well: its views and
    reference tables are rebuilt once, and once more if it goes again. One look-up, only then."""
    version = warehouse_version(zones.root)
    if zones.restricted_db.exists():
        return version
    built = instance.get_run_records(filters=dg.RunsFilter(
        job_name=WAREHOUSE_SETUP_JOB, statuses=[dg.DagsterRunStatus.SUCCESS]), limit=1)
    return f"{version}:rebuild-after-{built[0].dagster_run.run_id[:8]}" if built else version


BATCH_TAG = "gn/batch"  # "<dataset> <month>": a batch run (one per dataset × delivery month)
FILE_COUNT_TAG = "gn/files"


def collection_run_key(sha256: str, provider_code: str, dataset: str) -> str:
    """A file's key (the run key of a batch derives from its files' keys)."""
    return file_key(sha256, provider_code, dataset)


def batch_label(dataset: str, month: str) -> str:
    return f"{dataset} {month}"


def collection_request(dataset: str, month: str, files: list[BatchFile]) -> dg.RunRequest:
    """One run for a batch: the files (sorted) in the run config, the month as partition."""
    files = sorted(files, key=lambda f: f.relative)
    tags = {"gn/dataset": dataset, "gn/month": month, BATCH_TAG: batch_label(dataset, month),
            FILE_COUNT_TAG: str(len(files))}
    if len(files) == 1:  # a batch of one is found by its file, as before batches
        tags |= {"gn/source_file": files[0].relative, "gn/content_sha256": files[0].sha256}
    if len({f.provider_code for f in files}) == 1:
        tags["gn/provider"] = files[0].provider_code
    return dg.RunRequest(
        run_key=batch_run_key(dataset, month, files),
        job_name=ingest_job_name(dataset),
        partition_key=month,
        run_config={"ops": {collected_asset_key(dataset).to_python_identifier(): {
            "config": {"files": [f.as_config() for f in files]}}}},
        tags=tags,
    )


def batch_files(request: dg.RunRequest) -> list[BatchFile]:
    """The files a batch request carries (empty for any other request)."""
    ops = (request.run_config or {}).get("ops", {})
    for op in ops.values():
        files = (op.get("config") or {}).get("files")
        if files is not None:
            return files_from_config(files)
    return []


def planned_check_of(request: dg.RunRequest) -> dg.AssetCheckKey | None:
    """A check every run of this request's job plans when it is created (a batch's: its
    collection's `drop_accepted`); None for the set-up and rejection jobs, which have none."""
    dataset = request.tags.get("gn/dataset") if batch_files(request) else None
    return dg.AssetCheckKey(collected_asset_key(dataset), DROP_ACCEPTED_CHECK) if dataset else None


def batches_of(plan: LandingPlan, landing_root: Path) -> dict[tuple[str, str], list[BatchFile]]:
    """The planned files by dataset and delivery month."""
    batches: dict[tuple[str, str], list[BatchFile]] = defaultdict(list)
    for planned in plan.collections:
        try:
            landed_ns = landed_path(landing_root, planned.relative).stat().st_mtime_ns
        except FileNotFoundError:
            landed_ns = None
        month = delivery_month(planned.file_name, landed_ns)
        batches[(planned.dataset, month)].append(BatchFile(planned.relative, planned.sha256, planned.provider_code))
    return dict(batches)


def batch_requests(batches: dict[tuple[str, str], list[BatchFile]]) -> list[dg.RunRequest]:
    return [collection_request(dataset, month, files) for (dataset, month), files in sorted(batches.items())]


def rejection_request(rejected: PlannedRejection) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=f"{rejected.status}:{rejected.relative}:{rejected.sha256}",
        job_name=REJECT_JOB_NAME,
        run_config={"ops": {LANDING_REJECTIONS_KEY.to_python_identifier(): {
            "config": {"landing_path": rejected.relative, "reason": rejected.reason,
                       "archive": rejected.archive, "status": rejected.status}}}},
        tags={"gn/source_file": rejected.relative, "gn/content_sha256": rejected.sha256,
              f"gn/{rejected.status}": "true"},
    )


def warehouse_setup_request(version: str) -> dg.RunRequest:
    return dg.RunRequest(run_key=f"warehouse:{version}", job_name=WAREHOUSE_SETUP_JOB)


def partition_requests(batches: dict[tuple[str, str], list[BatchFile]]) -> list[dg.AddDynamicPartitionsRequest]:
    months_by_dataset: dict[str, set[str]] = defaultdict(set)
    for dataset, month in batches:
        months_by_dataset[dataset].add(month)
    return [dg.AddDynamicPartitionsRequest(month_partitions(dataset).name, sorted(months))
            for dataset, months in sorted(months_by_dataset.items())]


def describe_plan(plan: LandingPlan) -> str:
    parts = [f"{plan.unchanged} unchanged file(s)"]
    if plan.waiting:
        parts.append("waiting for " + ", ".join(f"{path} ({why})" for path, why in plan.waiting[:5]))
    if plan.duplicates:
        parts.append("same bytes as an earlier file: " + ", ".join(f"{a} = {b}" for a, b in plan.duplicates[:5]))
    return "; ".join(parts)


@dg.sensor(
    name=LANDING_SENSOR_NAME,
    jobs=[setup_restricted_warehouse_job, reject_landing_file_job, *INGEST_JOBS],
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests a collection run per dataset and delivery month for the complete new or "
                "corrected files in the landing zone, and a rejection run for files in the wrong place, of an unknown type or empty.",
)
def landing_drop_sensor(context: dg.SensorEvaluationContext, zones: DataZonesResource) -> dg.SensorResult:
    result, plan = evaluate_landing(context.instance, zones, context.cursor)
    for relative, why in plan.waiting:
        context.log.info(f"waiting for {relative}: {why}")
    for relative, same_as in plan.duplicates:
        context.log.info(f"{relative} has the same bytes as {same_as}: recorded, loaded once")
    return result


def evaluate_landing(instance: dg.DagsterInstance, zones: DataZonesResource,
                     cursor: str | None) -> tuple[dg.SensorResult, LandingPlan]:
    """The landing sensor's tick, and the plan behind it (`process` reports the files it leaves
    waiting)."""
    data_zones = zones.zones
    state = LandingStateStore.of_instance(instance)
    plan, scan, extra = plan_with_state(data_zones.landing, state, cursor, zones.settle)
    version = warehouse_setup_key(instance, data_zones)
    requests = [] if extra.get("warehouse") == version else [warehouse_setup_request(version)]
    batches = batches_of(plan, data_zones.landing)
    requests += batch_requests(batches)
    requests += [rejection_request(r) for r in plan.rejections]
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=partition_requests(batches),
        cursor=dump_cursor(scan, warehouse=version),
        skip_reason=None if requests else describe_plan(plan),
    ), plan


@dg.sensor(
    name="dead_run_sweep",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks failed the runs a `gn-pipelines process` or `extract` executed in its own "
                "process when that process died, and frees their pool slots (run monitoring covers "
                "the daemon's own runs). Records as finished, in the landing state, the files whose "
                "runs loaded them: a run deleted later no longer makes them count as not loaded. "
                "Gives their slots back to pools left without them (`dagster run wipe` on SQLite).",
)
def dead_run_sweep_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    from gn_pipelines.ingest.landing_state import LandingClaims, LandingStateStore
    from gn_pipelines.run_recovery import recover_dead_runs, repair_pool_slots, slots_given_back

    recovered = recover_dead_runs(context.instance)
    for run in recovered:
        context.log.warning(run.line)
    for pool in repair_pool_slots(context.instance):
        context.log.warning(slots_given_back(pool))
    finished = LandingClaims(LandingStateStore.of_instance(context.instance)).record_finished()
    return dg.SkipReason(f"{f'{len(recovered)} dead run(s) recovered' if recovered else 'no dead run'}, "
                         f"{finished} loaded file(s) recorded as finished")
