"""Collection: one partitioned asset per dataset, one partition per delivery month.

A run collects a batch: every new file of a dataset and month, from any provider (partitions stay
bounded: ~120 per dataset in ten years). Each file is archived first, parsed in a limited child
process, staged and logged on its own; the asset's metadata carries a table with one row per
file. The same name delivered again (a correction) replaces that file's rows.
"""

import dagster as dg

from gn_pipelines.assets.metadata import markdown_table
from gn_pipelines.contracts import ColumnType, DatasetContract
from gn_pipelines.datasets import CONTRACTS
from gn_pipelines.resources import DataZonesResource

COLLECTION_GROUP = "collection"
# the batch's files another run holds or loaded (JSON: source_file, reason), on the
# drop_accepted check's result (always there) and on the materialization
HELD_ELSEWHERE_METADATA = "held_elsewhere"
DROP_ACCEPTED_CHECK = "drop_accepted"

_DAGSTER_TYPES = {
    ColumnType.TEXT: "VARCHAR", ColumnType.CODE: "VARCHAR", ColumnType.MONTH: "VARCHAR",
    ColumnType.TIMESTAMP: "TIMESTAMP", ColumnType.DATE: "DATE", ColumnType.INTEGER: "BIGINT",
    ColumnType.DECIMAL: "DOUBLE",
}


def collected_asset_key(dataset: str) -> dg.AssetKey:
    return dg.AssetKey(f"collected_{dataset}")


def ancestor_run_ids(instance: dg.DagsterInstance, run: dg.DagsterRun) -> list[str]:
    """The runs `run` re-executes: its parent, that run's parent, and so on (empty for a first run)."""
    ancestors: list[str] = []
    while run is not None and run.parent_run_id and run.parent_run_id not in ancestors:
        ancestors.append(run.parent_run_id)
        run = instance.get_run_by_id(run.parent_run_id)
    return ancestors


def month_partitions(dataset: str) -> dg.DynamicPartitionsDefinition:
    """The delivery months ("YYYY-MM") of a dataset, added by the landing sensor as files arrive:
    about 120 in ten years. A run is one batch: all new files of a dataset and month."""
    return dg.DynamicPartitionsDefinition(name=f"{dataset}_months")


class BatchFileConfig(dg.Config):
    relative: str  # <provider>/<dataset>/<file name> in the landing zone
    sha256: str
    provider_code: str


class DropBatchConfig(dg.Config):
    """The files of one batch (run config, written by the landing sensor)."""

    files: list[BatchFileConfig]


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
    """The collection asset of one dataset, with a check that every file was accepted whole."""

    @dg.asset(
        key=collected_asset_key(contract.name),
        partitions_def=month_partitions(contract.name),
        group_name=COLLECTION_GROUP,
        kinds={"duckdb", "parquet"},
        description=f"{contract.title_ko} ({contract.title_en}) as delivered, typed, in the restricted "
                    "zone: one partition per delivery month; each run collects a batch of that month's "
                    "new files (any provider), each file staged, logged and reported on its own.",
        metadata={"dagster/column_schema": column_schema(contract), "dataset": contract.name},
        # not materialized when every file of the batch is another run's (the later steps skip)
        output_required=False,
        check_specs=[dg.AssetCheckSpec(
            DROP_ACCEPTED_CHECK, asset=collected_asset_key(contract.name),
            description="Every file of the batch could be read as this dataset: decodable, not empty, "
                        "required headers present. A rejected file is an outcome, not a run failure: the "
                        "run succeeds, this check fails (ERROR), names the file and the reason, and "
                        "nothing of that file reaches the collected rows. Files another run holds "
                        "(claims) are left out and listed in `held_elsewhere`.")],
    )
    def collected(context: dg.AssetExecutionContext, config: DropBatchConfig,
                  zones: DataZonesResource):
        from gn_pipelines.ingest.batch import BatchFile
        from gn_pipelines.ingest.collect_batch import claim_batch, collect_batch
        from gn_pipelines.ingest.landing_state import LandingClaims, LandingStateStore

        if not config.files:
            raise dg.Failure("no files in the run config: a batch names the files it collects")
        files = [BatchFile(f.relative, f.sha256, f.provider_code) for f in config.files]
        # per-file claims in the instance's database: a file another run holds or loaded is left out
        claims = LandingClaims(LandingStateStore.of_instance(context.instance))
        claimed = claim_batch(claims, files, context.run.run_id,
                              lineage=ancestor_run_ids(context.instance, context.run))
        outcomes = collect_batch(contract, claimed.files, zones=zones.zones, run_id=context.run.run_id,
                                 partition_key=context.partition_key) if claimed.files else []
        # a file gone before it was archived is not this run's: its claim goes back, and the
        # file is not marked done, so the run that finds it again loads it
        vanished = [f for f in outcomes if f.vanished]
        claims.give_back(context.run.run_id, [(f.file.relative, f.file.sha256) for f in vanished])
        outcomes = [f for f in outcomes if not f.vanished]
        skipped = claimed.held_elsewhere | {f.file.relative: f.outcome.reason for f in vanished}
        elsewhere = {HELD_ELSEWHERE_METADATA: dg.MetadataValue.json(
            [{"source_file": relative, "reason": why, "set_aside": relative not in claimed.held_elsewhere}
             for relative, why in skipped.items()])}
        for relative, why in skipped.items():
            context.log.info(f"{relative}: skipped: {why}")
        if not outcomes:  # nothing of this batch is ours: no materialization, later steps skip
            yield dg.AssetCheckResult(check_name=DROP_ACCEPTED_CHECK, passed=True,
                                      description="no file collected: other runs hold every file of the batch, "
                                                  "or it left the landing zone",
                                      metadata={"files": 0, "rejected": 0, **elsewhere})
            return
        for file in outcomes:
            if file.outcome.status == "rejected":
                context.log.warning(f"{file.outcome.source_file} rejected: {file.outcome.reason}")
        rejected = [f.outcome for f in outcomes if f.outcome.status != "collected"]
        yield dg.MaterializeResult(
            metadata=batch_collection_metadata(outcomes) | elsewhere,
            check_results=[dg.AssetCheckResult(
                check_name=DROP_ACCEPTED_CHECK, passed=not rejected, severity=dg.AssetCheckSeverity.ERROR,
                description="; ".join(f"{o.source_file}: {o.reason}" for o in rejected) or None,
                metadata={"files": len(outcomes), "rejected": len(rejected), **elsewhere,
                          "rejected_files": dg.MetadataValue.md(markdown_table(
                              [{"file": o.source_file, "reason": o.reason} for o in rejected]) if rejected else "none")})],
        )

    return collected


FILES_METADATA = "files"  # the per-file table (JSON) downstream steps and `process` read


def file_summary(collected) -> dict:
    """One file's collection, as the per-file table records it."""
    outcome = collected.outcome
    return {
        "source_file": outcome.source_file, "provider_code": outcome.provider_code,
        "file_name": collected.file.file_name, "content_sha256": outcome.content_sha256,
        "status": outcome.status, "rows_read": outcome.rows_read, "rows_accepted": outcome.rows_accepted,
        "rows_rejected": outcome.rows_rejected, "rejection_reason": outcome.reason,
        "rejections_by_reason": outcome.rejections_by_reason, "warnings": outcome.warnings,
        "unknown_columns": outcome.unknown_columns, "archive_path": collected.archive_path,
        "file_format": outcome.file_format, "encoding": outcome.encoding,
        "layout": outcome.layout, "parser_peak_rss_mib": round(outcome.parser_peak_rss_bytes / (1 << 20), 1)
        if outcome.parser_peak_rss_bytes else None,
    }


def batch_collection_metadata(collected: list) -> dict:
    """What a data engineer reads on the asset page: one row per file, the batch's totals, and a
    masked preview of the first collected file."""
    files = [file_summary(c) for c in collected]
    accepted = [c.outcome for c in collected if c.outcome.status == "collected"]
    table = [{"file": f["source_file"], "provider": f["provider_code"], "status": f["status"],
              "rows": f["rows_accepted"], "rejected rows": f["rows_rejected"],
              "reason": f["rejection_reason"] or ", ".join(f"{k} ×{v}" for k, v in f["rejections_by_reason"].items())
              or "—"} for f in files]
    metadata = {
        "files_in_batch": len(files),
        "files_collected": len(accepted),
        "files_rejected": len(files) - len(accepted),
        "dagster/row_count": sum(o.rows_accepted for o in accepted),
        "rows_read": sum(o.rows_read for o in accepted),
        "rows_rejected": sum(o.rows_rejected for o in accepted),
        "per_file": dg.MetadataValue.md(markdown_table(table)),
        FILES_METADATA: dg.MetadataValue.json(files),
    }
    peaks = [c.outcome.parser_peak_rss_bytes for c in collected if c.outcome.parser_peak_rss_bytes]
    if peaks:
        metadata["parser_peak_rss_mib"] = round(max(peaks) / (1 << 20), 1)
    warnings = [f"{c.outcome.source_file}: {w}" for c in collected for w in c.outcome.warnings]
    metadata["warnings"] = dg.MetadataValue.md("\n".join(f"- {w}" for w in warnings) or "none")
    if accepted:
        first = accepted[0]
        metadata["preview (personal values masked)"] = dg.MetadataValue.md(
            f"{first.source_file}\n\n" + markdown_table(first.preview))
    return metadata


COLLECTION_ASSETS = [build_collection_asset(contract) for contract in CONTRACTS.values()]
