"""The provider scorecard (refreshed after validations) and the providers' freshness checks.

Both read the drop and validation logs through the restricted warehouse's view definitions,
built in an in-memory DuckDB, so they never wait for the restricted warehouse's write lock.
The scorecard is rewritten only when the logs changed (fingerprint beside it); the freshness
checks are one step reading the drop log once.
"""

import datetime as dt

import dagster as dg

from gn_pipelines.assets.automation import REFRESH_WHEN_INPUTS_CHANGE
from gn_pipelines.assets.metadata import markdown_table
from gn_pipelines.assets.validation import VALIDATION_GROUP, validated_asset_key
from gn_pipelines.contracts import DatasetContract
from gn_pipelines.datasets import CONTRACTS
from gn_pipelines.quality.scorecard import scorecard_path
from gn_pipelines.resources import DataZonesResource
from gn_pipelines.unfinished_writes import write_text_atomically

SCORECARD_KEY = dg.AssetKey("provider_scorecard")
PREVIEW_ROWS = 20


def _fingerprint_path(zones):
    return scorecard_path(zones).with_suffix(".fingerprint.json")


def _log_views(zones):
    import duckdb

    from gn_pipelines.restricted_views import create_log_views

    connection = duckdb.connect()
    create_log_views(connection, zones)  # the two logs only: the staged files are not read
    return connection


def _reading_logs(zones):
    from gn_pipelines.restricted_views import reading_event_logs

    return reading_event_logs(zones, "drop_log", "validation_log")


def _scorecard_fingerprint(zones) -> str:
    """The logs' content and the scorecard's SQL (which carries the contracts' grace hours and
    the providers' names): the same fingerprint, the same rows."""
    from gn_pipelines.fingerprints import inputs_fingerprint
    from gn_pipelines.ingest.drop_log import drop_log_dir
    from gn_pipelines.quality.scorecard import scorecard_sql
    from gn_pipelines.quality.validation_log import validation_log_dir

    logs = [path for folder in (drop_log_dir(zones.restricted), validation_log_dir(zones))
            for path in (*folder.glob("*.json"), *folder.glob("*.parquet"))]
    return inputs_fingerprint(logs, relative_to=zones.root, declaration=scorecard_sql())


def _built_with(zones) -> str | None:
    import json

    try:
        return json.loads(_fingerprint_path(zones).read_text(encoding="utf-8"))["fingerprint"]
    except (OSError, ValueError, KeyError):
        return None


def _record_fingerprint(zones, fingerprint: str) -> None:
    import json

    # after the Parquet file: a killed run leaves an old fingerprint
    write_text_atomically(_fingerprint_path(zones), json.dumps({"fingerprint": fingerprint}))


@dg.asset(
    key=SCORECARD_KEY,
    group_name=VALIDATION_GROUP,
    deps=[validated_asset_key(dataset) for dataset in CONTRACTS],
    kinds={"duckdb", "parquet"},
    automation_condition=REFRESH_WHEN_INPUTS_CHANGE,
    description="Each provider's deliveries per dataset and month: files on time and late, rows "
                "accepted, rows and files quarantined, the most frequent failed checks. No personal "
                "data; published as `provider_scorecard`. Not rewritten when the logs did not change.",
)
def provider_scorecard(context: dg.AssetExecutionContext, zones: DataZonesResource) -> dg.MaterializeResult:
    import duckdb

    from gn_pipelines.ingest.parquet_io import copy_atomically
    from gn_pipelines.quality.scorecard import scorecard_sql
    from gn_pipelines.restricted_views import fold_event_logs
    from gn_pipelines.seoul_time import today_in_seoul

    data_zones = zones.zones
    target = scorecard_path(data_zones)
    # the logs' past months become one Parquet file each: reading them stays fast for years
    folded = fold_event_logs(data_zones, today_in_seoul())
    with _reading_logs(data_zones):  # another process's fold cannot remove a record listed here
        fingerprint = _scorecard_fingerprint(data_zones)
        reused = target.exists() and _built_with(data_zones) == fingerprint
        if not reused:  # else the same rows again: the file (and the published table) stays as it is
            connection = _log_views(data_zones)
            try:
                copy_atomically(connection, scorecard_sql(), {}, target)
            finally:
                connection.close()
    if not reused:
        _record_fingerprint(data_zones, fingerprint)
    with duckdb.connect() as connection:
        frame = connection.execute("SELECT * FROM read_parquet(?)", [str(target)]).df()
    preview = frame.head(PREVIEW_ROWS).astype(object).where(frame.head(PREVIEW_ROWS).notna(), None)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(frame),
        "reused": reused,
        "log_months_folded": len(folded),
        "fingerprint": fingerprint,
        "files_late": int(frame["files_late"].sum()) if len(frame) else 0,
        "files_quarantined": int(frame["files_quarantined"].sum()) if len(frame) else 0,
        "scorecard_parquet": dg.MetadataValue.path(str(target)),
        "preview": dg.MetadataValue.md(markdown_table(preview.to_dict("records"))),
    })


def freshness_check_name(dataset: str) -> str:
    return f"{dataset}_providers_fresh"


def _freshness_spec(contract: DatasetContract) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        freshness_check_name(contract.name), asset=SCORECARD_KEY,
        description=f"Every provider that delivers {contract.name} delivered within "
                    f"{contract.interval_hours:g} h ({contract.cadence}); fails naming each late provider "
                    "(providers that never delivered are listed as not delivering yet).")


# One step for every dataset's check (one read of the drop log), each still its own check in the UI.
@dg.multi_asset_check(name="providers_fresh", specs=[_freshness_spec(c) for c in CONTRACTS.values()],
                      can_subset=True)
def providers_fresh(context: dg.AssetCheckExecutionContext, zones: DataZonesResource):
    from gn_pipelines.quality.scorecard import freshness, last_deliveries

    with _reading_logs(zones.zones):  # the nightly publication may be folding a month right now
        connection = _log_views(zones.zones)
        try:
            last = last_deliveries(connection)
        finally:
            connection.close()
    now = dt.datetime.now(dt.timezone.utc)
    selected = context.selected_asset_check_keys
    for contract in CONTRACTS.values():
        name = freshness_check_name(contract.name)
        if dg.AssetCheckKey(SCORECARD_KEY, name) not in selected:
            continue
        verdict = freshness(contract, last.get(contract.name, {}), now)
        yield dg.AssetCheckResult(
            asset_key=SCORECARD_KEY, check_name=name,
            passed=verdict.passed, severity=dg.AssetCheckSeverity.WARN,
            description=verdict.describe(),
            metadata={"late_providers": dg.MetadataValue.json(verdict.late),
                      "late_count": len(verdict.late),
                      "not_yet_delivering": dg.MetadataValue.json(list(verdict.not_yet_delivering)),
                      "interval_hours": contract.interval_hours})


FRESHNESS_CHECKS = [providers_fresh]
FRESHNESS_CHECK_KEYS = [dg.AssetCheckKey(SCORECARD_KEY, freshness_check_name(c)) for c in CONTRACTS]
