"""Validation: one partitioned asset per dataset between collection and de-identification.

Each rule of the dataset (`gn_pipelines/quality/rules.py`) is an asset check of its own;
ERROR rules are blocking, so a drop quarantined whole stops here and nothing downstream runs
on it. A drop with a few bad rows goes on without them: those checks fail at WARN, naming the
rows sent to quarantine.
"""

import warnings

import dagster as dg

from gn_pipelines.assets.collection import (
    FILE_DIMENSION,
    PROVIDER_DIMENSION,
    collected_asset_key,
    drop_partitions,
)
from gn_pipelines.assets.metadata import markdown_table
from gn_pipelines.contracts import DatasetContract
from gn_pipelines.datasets import CONTRACTS
from gn_pipelines.contracts.model import Severity
from gn_pipelines.quality.rules import (
    BAD_ROW_SHARE_CHECK,
    DROP_COLLECTED_CHECK,
    PARSEABLE_CHECK,
    rules_for,
)
from gn_pipelines.resources import DataZonesResource

VALIDATION_GROUP = "validation"


def validated_asset_key(dataset: str) -> dg.AssetKey:
    return dg.AssetKey(f"validated_{dataset}")


def _check_specs(contract: DatasetContract) -> list[dg.AssetCheckSpec]:
    """The checks of a dataset, partitioned like the asset: each result belongs to its file, so
    the asset page and each check's history show which file passed and which failed."""
    key = validated_asset_key(contract.name)
    partitions = drop_partitions(contract)
    specs = [
        (DROP_COLLECTED_CHECK, True, "Collection accepted the file (decodable, required headers)."),
        (BAD_ROW_SHARE_CHECK, True, f"At most {contract.quarantine_threshold:.0%} of the delivered rows "
                                    "are bad; above that the drop is quarantined whole."),
        (PARSEABLE_CHECK, False, "Every cell could be typed (rows that could not are kept, with "
                                 "reasons, in rejected_rows)."),
        *((rule.name, rule.severity == Severity.ERROR, f"[{rule.severity.value}] {rule.description}")
          for rule in rules_for(contract)),
    ]
    with warnings.catch_warnings():
        # partitioned checks are a preview feature of Dagster 1.13; the warning would be printed
        # at every load of the code location
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return [dg.AssetCheckSpec(name, asset=key, blocking=blocking, description=description,
                                  partitions_def=partitions)
                for name, blocking, description in specs]


def _collection_record(context: dg.AssetExecutionContext, dataset: str) -> dict:
    """What collection said about this partition's latest version (status, rows rejected)."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=collected_asset_key(dataset),
                              asset_partitions=[context.partition_key]), limit=1).records
    if not records:
        raise dg.Failure(f"{context.partition_key} has not been collected yet")
    metadata = records[0].asset_materialization.metadata
    return {name: value.value for name, value in metadata.items()}


def build_validation_asset(contract: DatasetContract) -> dg.AssetsDefinition:
    @dg.asset(
        key=validated_asset_key(contract.name),
        partitions_def=drop_partitions(contract),
        deps=[collected_asset_key(contract.name)],
        group_name=VALIDATION_GROUP,
        kinds={"duckdb", "parquet", "great_expectations"},
        description=f"{contract.title_ko}: the rows of each drop that passed every ERROR rule. "
                    "Rows that failed are in quarantine with the names of the rules they failed.",
        metadata={"dataset": contract.name,
                  "quarantine_threshold": contract.quarantine_threshold},
        check_specs=_check_specs(contract),
    )
    def validated(context: dg.AssetExecutionContext, zones: DataZonesResource):
        from gn_pipelines.quality.validate import validate_drop
        from gn_pipelines.quality.validation_log import record_validation

        keys = context.partition_key.keys_by_dimension
        provider_code, file_name = keys[PROVIDER_DIMENSION], keys[FILE_DIMENSION]
        collection = _collection_record(context, contract.name)
        if collection.get("status") != "collected":
            yield from _rejected_file_results(contract, collection)
            return
        outcome = validate_drop(contract, provider_code=provider_code, file_name=file_name,
                                zones=zones.zones, run_id=context.run.run_id,
                                rows_rejected_at_collection=int(collection.get("rows_rejected") or 0))
        record_validation(zones.zones, outcome, content_sha256=collection.get("content_sha256"),
                          run_id=context.run.run_id)
        context.log.info(f"{outcome.source_file}: {outcome.summary()}")
        report = dg.MetadataValue.url(outcome.report_path.as_uri())
        yield dg.MaterializeResult(metadata=_materialization_metadata(outcome, report))
        yield from _check_results(outcome, report)

    return validated


def _rejected_file_results(contract: DatasetContract, collection: dict):
    reason = collection.get("rejection_reason") or "rejected at collection"
    yield dg.MaterializeResult(metadata={"status": "rejected at collection", "reason": reason,
                                         "dagster/row_count": 0})
    yield dg.AssetCheckResult(check_name=DROP_COLLECTED_CHECK, passed=False,
                              severity=dg.AssetCheckSeverity.ERROR, metadata={"reason": reason})
    not_run = {"reason": "not evaluated: the file was rejected at collection"}
    for name in [BAD_ROW_SHARE_CHECK, PARSEABLE_CHECK, *(r.name for r in rules_for(contract))]:
        yield dg.AssetCheckResult(check_name=name, passed=False, severity=dg.AssetCheckSeverity.WARN,
                                  metadata=not_run)


def _materialization_metadata(outcome, report: dg.MetadataValue) -> dict:
    failed = [{"check": r.rule.name, "severity": r.rule.severity.value, "rows": r.failed_rows,
               "percent": round(r.percent, 3)} for r in outcome.results if not r.passed]
    metadata = {
        "dagster/row_count": outcome.rows_passed,
        "source_file": outcome.source_file,
        "rows_validated": outcome.rows_in,
        "rows_passed": outcome.rows_passed,
        "rows_quarantined": outcome.rows_quarantined,
        "rows_with_warnings": outcome.rows_with_warnings,
        "rows_rejected_at_collection": outcome.rows_rejected_at_collection,
        "bad_row_share": round(outcome.bad_share, 5),
        "quarantined_whole": outcome.quarantined_whole,
        "report": report,
        "failed_checks": dg.MetadataValue.md(markdown_table(failed) if failed else "none"),
        "quarantine_parquet": dg.MetadataValue.path(str(outcome.quarantine_path)),
    }
    if outcome.validated_path:
        metadata["validated_parquet"] = dg.MetadataValue.path(str(outcome.validated_path))
    if outcome.reason:
        metadata["quarantine_reason"] = outcome.reason
    return metadata


def _check_results(outcome, report: dg.MetadataValue):
    whole = outcome.quarantined_whole
    yield dg.AssetCheckResult(check_name=DROP_COLLECTED_CHECK, passed=True)
    yield dg.AssetCheckResult(
        check_name=BAD_ROW_SHARE_CHECK, passed=not whole, severity=dg.AssetCheckSeverity.ERROR,
        description=outcome.reason,
        metadata={"bad_row_share": round(outcome.bad_share, 5), "threshold": outcome.threshold,
                  "report": report})
    unreadable = outcome.rows_rejected_at_collection
    yield dg.AssetCheckResult(
        check_name=PARSEABLE_CHECK, passed=unreadable == 0, severity=_severity(whole, Severity.ERROR),
        metadata={"unexpected_count": unreadable})
    for result in outcome.results:
        yield dg.AssetCheckResult(
            check_name=result.rule.name, passed=result.passed,
            severity=_severity(whole, result.rule.severity),
            description=_describe(result, whole),
            metadata={
                "unexpected_count": result.failed_rows,
                "unexpected_percent": round(result.percent, 4),
                "gx_unexpected_count": result.gx_unexpected_count if result.gx_unexpected_count is not None else -1,
                "sample (personal values masked)": dg.MetadataValue.json(result.sample),
                "severity": result.rule.severity.value,
                "report": report,
            })


def _severity(whole: bool, rule_severity: Severity) -> dg.AssetCheckSeverity:
    """An ERROR rule blocks only when the drop is quarantined whole; its few bad rows otherwise
    went to quarantine and the drop goes on, so the failure is reported at WARN."""
    if rule_severity == Severity.ERROR and whole:
        return dg.AssetCheckSeverity.ERROR
    return dg.AssetCheckSeverity.WARN


def _describe(result, whole: bool) -> str | None:
    if result.gx_error:
        return f"Great Expectations could not evaluate this rule: {result.gx_error}"
    if result.passed:
        return None
    if result.rule.severity == Severity.WARN:
        return f"{result.failed_rows} rows flagged (WARN: they go on)"
    if whole:
        return f"{result.failed_rows} rows failed; the drop is quarantined whole"
    return f"{result.failed_rows} rows failed and were quarantined; the rest of the drop goes on"


VALIDATION_ASSETS = [build_validation_asset(contract) for contract in CONTRACTS.values()]

