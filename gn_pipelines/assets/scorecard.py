"""The provider scorecard (refreshed after validations) and the providers' freshness checks.

Both read the drop and validation logs through the restricted warehouse's view definitions,
built in an in-memory DuckDB, so they never wait for the restricted warehouse's write lock.
"""

import datetime as dt

import dagster as dg

from gn_pipelines.assets.automation import REFRESH_WHEN_INPUTS_CHANGE
from gn_pipelines.assets.metadata import markdown_table
from gn_pipelines.assets.validation import VALIDATION_GROUP, validated_asset_key
from gn_pipelines.contracts import DatasetContract
from gn_pipelines.datasets import CONTRACTS
from gn_pipelines.resources import DataZonesResource

SCORECARD_KEY = dg.AssetKey("provider_scorecard")
PREVIEW_ROWS = 20


def scorecard_path(zones):
    return zones.restricted / "quality" / "provider_scorecard.parquet"


def _log_views(zones):
    import duckdb

    from gn_pipelines.restricted_views import create_restricted_views

    connection = duckdb.connect()
    create_restricted_views(connection, zones)
    return connection


@dg.asset(
    key=SCORECARD_KEY,
    group_name=VALIDATION_GROUP,
    deps=[validated_asset_key(dataset) for dataset in CONTRACTS],
    kinds={"duckdb", "parquet"},
    automation_condition=REFRESH_WHEN_INPUTS_CHANGE,
    description="Each provider's deliveries per dataset and month: files on time and late, rows "
                "accepted, rows and files quarantined, the most frequent failed checks. No personal "
                "data; published as `provider_scorecard`.",
)
def provider_scorecard(context: dg.AssetExecutionContext, zones: DataZonesResource) -> dg.MaterializeResult:
    from gn_pipelines.ingest.parquet_io import copy_atomically
    from gn_pipelines.quality.scorecard import scorecard_sql

    data_zones = zones.zones
    connection = _log_views(data_zones)
    try:
        target = scorecard_path(data_zones)
        copy_atomically(connection, scorecard_sql(), {}, target)
        frame = connection.execute("SELECT * FROM read_parquet(?)", [str(target)]).df()
    finally:
        connection.close()
    preview = frame.head(PREVIEW_ROWS).astype(object).where(frame.head(PREVIEW_ROWS).notna(), None)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(frame),
        "files_late": int(frame["files_late"].sum()) if len(frame) else 0,
        "files_quarantined": int(frame["files_quarantined"].sum()) if len(frame) else 0,
        "scorecard_parquet": dg.MetadataValue.path(str(target)),
        "preview": dg.MetadataValue.md(markdown_table(preview.to_dict("records"))),
    })


def freshness_check_name(dataset: str) -> str:
    return f"{dataset}_providers_fresh"


def build_freshness_check(contract: DatasetContract) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=SCORECARD_KEY,
        name=freshness_check_name(contract.name),
        description=f"Every provider that delivers {contract.name} delivered within "
                    f"{contract.interval_hours:g} h ({contract.cadence}); fails naming each late provider "
                    "(providers that never delivered are listed as not delivering yet).",
    )
    def providers_fresh(zones: DataZonesResource) -> dg.AssetCheckResult:
        from gn_pipelines.quality.scorecard import provider_freshness

        connection = _log_views(zones.zones)
        try:
            freshness = provider_freshness(connection, contract, dt.datetime.now(dt.timezone.utc))
        finally:
            connection.close()
        return dg.AssetCheckResult(
            passed=freshness.passed, severity=dg.AssetCheckSeverity.WARN,
            description=freshness.describe(),
            metadata={"late_providers": dg.MetadataValue.json(freshness.late),
                      "late_count": len(freshness.late),
                      "not_yet_delivering": dg.MetadataValue.json(list(freshness.not_yet_delivering)),
                      "interval_hours": contract.interval_hours})

    return providers_fresh


FRESHNESS_CHECKS = [build_freshness_check(contract) for contract in CONTRACTS.values()]
