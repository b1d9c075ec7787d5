"""Collection: one partitioned asset per dataset, one partition per dropped file.

Partitions are two-dimensional, provider × file name, so the UI shows a grid of which 시군
delivered which file and in what state. The same name delivered again (a correction)
re-materialises the same partition and replaces its rows. Every file is archived first.
"""

import datetime as dt

import dagster as dg

from gn_pipelines.assets.metadata import markdown_table
from gn_pipelines.contracts import ColumnType, DatasetContract
from gn_pipelines.datasets import CONTRACTS
from gn_pipelines.reference import PROVIDERS_BY_CODE
from gn_pipelines.resources import DataZonesResource

COLLECTION_GROUP = "collection"
DROP_ACCEPTED_CHECK = "drop_accepted"

_DAGSTER_TYPES = {
    ColumnType.TEXT: "VARCHAR", ColumnType.CODE: "VARCHAR", ColumnType.MONTH: "VARCHAR",
    ColumnType.TIMESTAMP: "TIMESTAMP", ColumnType.DATE: "DATE", ColumnType.INTEGER: "BIGINT",
    ColumnType.DECIMAL: "DOUBLE",
}


def collected_asset_key(dataset: str) -> dg.AssetKey:
    return dg.AssetKey(f"collected_{dataset}")


# Dimension names sort "provider" first, so keys read `<provider>|<file name>`.
PROVIDER_DIMENSION = "provider"
FILE_DIMENSION = "source_file"


def file_partitions(dataset: str) -> dg.DynamicPartitionsDefinition:
    """The file names that arrived for a dataset (any provider), added by the landing sensor."""
    return dg.DynamicPartitionsDefinition(name=f"{dataset}_files")


def drop_partitions(contract: DatasetContract) -> dg.MultiPartitionsDefinition:
    providers = sorted(contract.providers or PROVIDERS_BY_CODE)
    return dg.MultiPartitionsDefinition({
        PROVIDER_DIMENSION: dg.StaticPartitionsDefinition(providers),
        FILE_DIMENSION: file_partitions(contract.name),
    })


def drop_partition_key(provider_code: str, file_name: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({PROVIDER_DIMENSION: provider_code, FILE_DIMENSION: file_name})


def column_schema(contract: DatasetContract) -> dg.TableSchema:
    # "required" is a quality rule checked later, not a constraint collection enforces
    columns = [
        dg.TableColumn(c.name, _DAGSTER_TYPES[c.type], description=" · ".join(
            part for part in (c.header, c.privacy.value, "required" if c.required else "",
                              c.description) if part))
        for c in contract.columns
    ]
    lineage = [("provider_code", "VARCHAR"), ("source_file", "VARCHAR"), ("content_sha256", "VARCHAR"),
               ("source_row_number", "BIGINT"), ("collected_at", "TIMESTAMPTZ")]
    columns += [dg.TableColumn(name, kind, description="lineage") for name, kind in lineage]
    return dg.TableSchema(columns=columns)


def build_collection_asset(contract: DatasetContract) -> dg.AssetsDefinition:
    """The collection asset of one dataset, with a check that the file was accepted whole."""

    @dg.asset(
        key=collected_asset_key(contract.name),
        partitions_def=drop_partitions(contract),
        group_name=COLLECTION_GROUP,
        kinds={"duckdb", "parquet"},
        description=f"{contract.title_ko} ({contract.title_en}) as delivered, typed, in the restricted "
                    "zone: one partition per dropped file (provider × file name).",
        metadata={"dagster/column_schema": column_schema(contract), "dataset": contract.name},
        check_specs=[dg.AssetCheckSpec(
            DROP_ACCEPTED_CHECK, asset=collected_asset_key(contract.name),
            description="The file could be read as this dataset: decodable, not empty, required "
                        "headers present. A rejected file is an outcome, not a run failure: the run "
                        "succeeds, this check fails (ERROR) and names the reason, and nothing of the "
                        "file reaches the collected rows.")],
    )
    def collected(context: dg.AssetExecutionContext, zones: DataZonesResource) -> dg.MaterializeResult:
        from gn_pipelines.ingest.archive import RefusedLandedFile, archive_landed
        from gn_pipelines.ingest.collect import DropOutcome
        from gn_pipelines.ingest.contained import collect_contained
        from gn_pipelines.ingest.drop_log import record_drop
        from gn_pipelines.ingest.landing import landed_path

        data_zones = zones.zones
        keys = context.partition_key.keys_by_dimension
        provider_code, file_name = keys[PROVIDER_DIMENSION], keys[FILE_DIMENSION]
        relative = f"{provider_code}/{contract.name}/{file_name}"
        delivered_at = landed_at(landed_path(data_zones.landing, relative))
        try:
            sha256, archived = archive_landed(data_zones.landing, data_zones.archive, relative)
        except RefusedLandedFile as refusal:  # became a link since the scan: never followed
            sha256, archived, archive_path = None, None, None
            outcome = DropOutcome(contract.name, provider_code, relative, "", "rejected", reason=str(refusal))
        else:
            archive_path = archived.relative_to(data_zones.root).as_posix()
            context.log.info(f"archived {relative} as {archived.name}")
            # parsed in a limited child process: a parser crash is this file's rejection
            outcome = collect_contained(archived, contract=contract, provider_code=provider_code,
                                        source_file=relative, content_sha256=sha256, zones=data_zones,
                                        collected_at=dt.datetime.now(dt.timezone.utc))
        record_drop(data_zones.restricted, dataset=contract.name, provider_code=provider_code,
                    source_file=relative, file_name=file_name, partition_key=context.partition_key,
                    content_sha256=sha256, size_bytes=archived.stat().st_size if archived else None,
                    archive_path=archive_path, status=outcome.status,
                    reason=outcome.reason, file_format=outcome.file_format, encoding=outcome.encoding,
                    rows_read=outcome.rows_read, rows_accepted=outcome.rows_accepted,
                    rows_rejected=outcome.rows_rejected, unknown_columns=outcome.unknown_columns,
                    run_id=context.run.run_id, delivered_at=delivered_at)
        if outcome.status == "rejected":
            context.log.warning(f"{relative} rejected: {outcome.reason}")
        return dg.MaterializeResult(
            metadata=collection_metadata(outcome, archive_path or "not archived"),
            check_results=[dg.AssetCheckResult(
                check_name=DROP_ACCEPTED_CHECK, passed=outcome.status == "collected",
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={"reason": outcome.reason or "accepted", "source_file": relative})],
        )

    return collected


def landed_at(path) -> str | None:
    """When the file arrived in the landing zone (its modification time), for on-time checks."""
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc).isoformat()
    except FileNotFoundError:
        return None


def collection_metadata(outcome, archive_path: str) -> dict:
    """What a data engineer reads on the asset page: counts, reasons, and a masked preview."""
    metadata = {
        "status": outcome.status,
        "source_file": outcome.source_file,
        "provider_code": outcome.provider_code,
        "content_sha256": outcome.content_sha256,
        "archive_path": archive_path,
        "dagster/row_count": outcome.rows_accepted,
        "rows_read": outcome.rows_read,
        "rows_rejected": outcome.rows_rejected,
    }
    if outcome.parser_peak_rss_bytes:
        metadata["parser_peak_rss_mib"] = round(outcome.parser_peak_rss_bytes / (1 << 20), 1)
    if outcome.reason:
        metadata["rejection_reason"] = outcome.reason
    if outcome.file_format:
        metadata["file_format"] = outcome.file_format
    if outcome.encoding:
        metadata["encoding"] = outcome.encoding
    if outcome.status == "collected":
        metadata["layout"] = outcome.layout or "one header row (the drop spec's table)"
        metadata["warnings"] = dg.MetadataValue.md("\n".join(f"- {w}" for w in outcome.warnings) or "none")
        metadata["unknown_columns"] = ", ".join(outcome.unknown_columns) or "none"
        metadata["rejections_by_reason"] = dg.MetadataValue.json(outcome.rejections_by_reason)
        metadata["collected_parquet"] = dg.MetadataValue.path(str(outcome.collected_path))
        metadata["rejected_rows_parquet"] = dg.MetadataValue.path(str(outcome.rejected_rows_path))
        metadata["preview (personal values masked)"] = dg.MetadataValue.md(markdown_table(outcome.preview))
    return metadata


COLLECTION_ASSETS = [build_collection_asset(contract) for contract in CONTRACTS.values()]
