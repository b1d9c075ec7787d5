"""Validation: one partitioned asset per dataset between collection and de-identification.

A run validates a batch (the new files of a dataset and delivery month) set-based, with one
Great Expectations validation and one Data Docs page. Each rule of the dataset
(`gn_pipelines/quality/rules.py`) is an asset check of its own, naming the files that failed it.
A file quarantined whole stops alone: only its rows never reach de-identification, and the
blocking check fails at WARN naming it while the batch's other files go on; when no file of the
batch goes on, the check fails at ERROR and stops the run there. A drop with a few bad rows goes
on without them: those checks fail at WARN, naming the rows sent to quarantine.
"""

import warnings

import dagster as dg

from gn_pipelines.assets.collection import FILES_METADATA, ancestor_run_ids, collected_asset_key, month_partitions
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
    """The checks of a dataset, partitioned like the asset: each result belongs to its batch (the
    delivery month) and names the files that failed it, so the asset page and each check's
    history show which file passed and which failed."""
    key = validated_asset_key(contract.name)
    partitions = month_partitions(contract.name)
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


def batch_files(context: dg.AssetExecutionContext, upstream: dg.AssetKey, dataset: str) -> list[dict]:
    """The per-file rows (FILES_METADATA) the upstream step of this batch recorded: in this run; in
    a re-execution (the UI's "Re-execute from failure"), in the run it re-executes, whose files it
    claims, leaving out (and logging) those another run has taken over since; in a run of this step
    alone (the UI's Materialize), the partition's latest."""
    from gn_pipelines.ingest.batch import BatchFile
    from gn_pipelines.ingest.collect_batch import claim_batch
    from gn_pipelines.ingest.landing_state import LandingClaims, LandingStateStore

    lineage = [context.run.run_id, *ancestor_run_ids(context.instance, context.run)]
    found = next(((run_id, m) for run_id in lineage
                  if (m := _materialization_in_run(context.instance, run_id, upstream)) is not None), None)
    if found is None:
        return _latest_of_partition(context, upstream)[FILES_METADATA]
    run_id, metadata = found
    files = metadata[FILES_METADATA]
    if run_id == context.run.run_id:
        return files
    collected = files if upstream == collected_asset_key(dataset) else next(
        m for r in lineage if (m := _materialization_in_run(context.instance, r, collected_asset_key(dataset)))
        is not None)[FILES_METADATA]
    claimed = claim_batch(LandingClaims(LandingStateStore.of_instance(context.instance)),
                          [BatchFile(f["source_file"], f["content_sha256"], f["provider_code"]) for f in collected],
                          context.run.run_id, lineage=lineage[1:])
    for relative, why in claimed.held_elsewhere.items():
        context.log.info(f"{relative}: skipped: {why}")
    ours = {f.relative for f in claimed.files}
    return [f for f in files if f["source_file"] in ours]


def _materialization_in_run(instance: dg.DagsterInstance, run_id: str, asset_key: dg.AssetKey) -> dict | None:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    ours = [r for r in records if r.asset_key == asset_key]
    if not ours:
        return None
    return {name: value.value for name, value in ours[-1].asset_materialization.metadata.items()}


def _latest_of_partition(context: dg.AssetExecutionContext, asset_key: dg.AssetKey) -> dict:
    latest = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[context.partition_key]), limit=1).records
    if not latest:
        raise dg.Failure(f"{asset_key.to_user_string()} {context.partition_key} has not been materialised yet")
    return {name: value.value for name, value in latest[0].asset_materialization.metadata.items()}


def build_validation_asset(contract: DatasetContract) -> dg.AssetsDefinition:
    @dg.asset(
        key=validated_asset_key(contract.name),
        partitions_def=month_partitions(contract.name),
        deps=[collected_asset_key(contract.name)],
        group_name=VALIDATION_GROUP,
        kinds={"duckdb", "parquet", "great_expectations"},
        description=f"{contract.title_ko}: the rows of each drop that passed every ERROR rule, a batch "
                    "(delivery month) at a time. Rows that failed are in quarantine with the names of "
                    "the rules they failed; a file quarantined whole stops alone, the batch's other "
                    "files go on.",
        metadata={"dataset": contract.name,
                  "quarantine_threshold": contract.quarantine_threshold},
        check_specs=_check_specs(contract),
    )
    def validated(context: dg.AssetExecutionContext, zones: DataZonesResource):
        from gn_pipelines.quality.validate import BatchMember, validate_batch
        from gn_pipelines.quality.validation_log import record_validation

        files = batch_files(context, collected_asset_key(contract.name), contract.name)
        collected = [f for f in files if f["status"] == "collected"]
        rejected = [f for f in files if f["status"] != "collected"]
        batch = None
        if collected:
            batch = validate_batch(contract, [
                BatchMember(f["provider_code"], f["file_name"], int(f["rows_rejected"] or 0), f["content_sha256"])
                for f in collected], zones=zones.zones, run_id=context.run.run_id, label=str(context.partition_key))
            for member, outcome in zip(collected, batch.files):
                record_validation(zones.zones, outcome, content_sha256=member["content_sha256"],
                                  run_id=context.run.run_id)
            # one event for the batch (each is a write to the event log), a line per file
            context.log.info("\n".join(f"{o.source_file}: {o.summary()}" for o in batch.files))
        yield dg.MaterializeResult(metadata=_materialization_metadata(batch, rejected))
        yield from _check_results(contract, batch, rejected)

    return validated


def file_results(batch, rejected: list[dict]) -> list[dict]:
    """One row per file: what validation made of it (the CLI's line and the UI's table)."""
    from gn_pipelines.quality.reports import failed_checks

    rows = [{"source_file": f["source_file"], "provider_code": f["provider_code"], "status": "rejected at collection",
             "rows_validated": 0, "rows_passed": 0, "rows_quarantined": 0, "quarantined_whole": False,
             "reason": f["rejection_reason"], "failed_checks": [DROP_COLLECTED_CHECK]} for f in rejected]
    for outcome in batch.files if batch else []:
        rows.append({
            "source_file": outcome.source_file, "provider_code": outcome.provider_code,
            "status": "quarantined whole" if outcome.quarantined_whole else "validated",
            "rows_validated": outcome.rows_in, "rows_passed": outcome.rows_passed,
            "rows_quarantined": outcome.rows_quarantined, "quarantined_whole": outcome.quarantined_whole,
            "reason": outcome.reason, "failed_checks": failed_checks(outcome),
            "report": outcome.report_path.as_uri() if outcome.report_path else None,
        })
    return rows


def _materialization_metadata(batch, rejected: list[dict]) -> dict:
    rows = file_results(batch, rejected)
    files = batch.files if batch else []
    failed = [{"check": r.rule.name, "severity": r.rule.severity.value, "rows": r.failed_rows,
               "percent": round(r.percent, 3),
               "files": ", ".join(o.source_file for o in files if o.results[i].failed_rows)}
              for i, r in enumerate(batch.results if batch else []) if not r.passed]
    metadata = {
        "dagster/row_count": sum(o.rows_passed for o in files),
        "files_in_batch": len(rows),
        "files_validated": sum(not o.quarantined_whole for o in files),
        "files_quarantined_whole": sum(o.quarantined_whole for o in files),
        "files_rejected_at_collection": len(rejected),
        "rows_validated": sum(o.rows_in for o in files),
        "rows_passed": sum(o.rows_passed for o in files),
        "rows_quarantined": sum(o.rows_quarantined for o in files),
        "rows_with_warnings": sum(o.rows_with_warnings for o in files),
        "failed_checks": dg.MetadataValue.md(markdown_table(failed) if failed else "none"),
        "per_file": dg.MetadataValue.md(markdown_table([
            {"file": r["source_file"], "provider": r["provider_code"], "status": r["status"],
             "rows passed": r["rows_passed"], "quarantined": r["rows_quarantined"],
             "failed checks": ", ".join(r["failed_checks"]) or "none", "reason": r["reason"] or "—"}
            for r in rows])),
        FILES_METADATA: dg.MetadataValue.json(rows),
    }
    if batch and batch.report_path:
        metadata["report"] = dg.MetadataValue.url(batch.report_path.as_uri())
    return metadata


def _check_results(contract: DatasetContract, batch, rejected: list[dict]):
    """One result per check for the batch (the month's partition): failed when any file failed
    it, naming the files. A blocking check fails at ERROR only when no file of the batch goes on:
    a file quarantined whole or rejected stops alone (its rows never reach de-identification, the
    others' do), and the check names it."""
    files = batch.files if batch else []
    goes_on = any(not o.quarantined_whole for o in files)
    report = {"report": dg.MetadataValue.url(batch.report_path.as_uri())} if batch and batch.report_path else {}

    def severity(rule_severity: Severity) -> dg.AssetCheckSeverity:
        return dg.AssetCheckSeverity.ERROR if rule_severity == Severity.ERROR and not goes_on \
            else dg.AssetCheckSeverity.WARN

    def named(failing: list[tuple[str, object]], column: str) -> dict:
        return {"failed_files": dg.MetadataValue.md(markdown_table(
            [{"file": name, column: value} for name, value in failing]) if failing else "none")}

    yield dg.AssetCheckResult(
        check_name=DROP_COLLECTED_CHECK, passed=not rejected, severity=severity(Severity.ERROR),
        description=_stopped_text(rejected and [f["source_file"] for f in rejected], "rejected at collection"),
        metadata={"files": len(files) + len(rejected),
                  **named([(f["source_file"], f["rejection_reason"]) for f in rejected], "reason")})
    whole = [o for o in files if o.quarantined_whole]
    yield dg.AssetCheckResult(
        check_name=BAD_ROW_SHARE_CHECK, passed=not whole, severity=severity(Severity.ERROR),
        description=_stopped_text([o.source_file for o in whole], "quarantined whole"),
        metadata={"threshold": contract.quarantine_threshold,
                  "max_bad_row_share": round(max((o.bad_share for o in files), default=0.0), 5),
                  **named([(o.source_file, o.reason) for o in whole], "reason"), **report})
    unreadable = [(o.source_file, o.rows_rejected_at_collection) for o in files if o.rows_rejected_at_collection]
    yield dg.AssetCheckResult(
        check_name=PARSEABLE_CHECK, passed=not unreadable, severity=severity(Severity.ERROR),
        metadata={"unexpected_count": sum(n for _, n in unreadable), **named(unreadable, "rows")})
    for i, result in enumerate(batch.results if batch else []):
        failing = [(o.source_file, o.results[i].failed_rows) for o in files if o.results[i].failed_rows]
        yield dg.AssetCheckResult(
            check_name=result.rule.name, passed=result.passed, severity=severity(result.rule.severity),
            description=_describe(result, failing, whole, goes_on),
            metadata={
                "unexpected_count": result.failed_rows,
                "unexpected_percent": round(result.percent, 4),
                "gx_unexpected_count": result.gx_unexpected_count if result.gx_unexpected_count is not None else -1,
                "sample (personal values masked)": dg.MetadataValue.json(result.sample),
                "severity": result.rule.severity.value,
                **named(failing, "rows"), **report,
            })
    if batch is None:  # every file was rejected at collection: the rules had nothing to read
        not_run = {"reason": "not evaluated: every file of the batch was rejected at collection"}
        for name in [BAD_ROW_SHARE_CHECK, PARSEABLE_CHECK, *(r.name for r in rules_for(contract))][2:]:
            yield dg.AssetCheckResult(check_name=name, passed=False, severity=dg.AssetCheckSeverity.WARN,
                                      metadata=not_run)


def _stopped_text(names: list[str] | bool, what: str) -> str | None:
    if not names:
        return None
    return f"{len(names)} file(s) {what}, stopped alone (the batch's other files go on): " + ", ".join(names)


def _describe(result, failing: list[tuple[str, int]], whole: list, goes_on: bool) -> str | None:
    if result.gx_error:
        return f"Great Expectations could not evaluate this rule: {result.gx_error}"
    if result.passed:
        return None
    where = "; ".join(f"{name} ×{n}" for name, n in failing)
    if result.rule.severity == Severity.WARN:
        return f"{result.failed_rows} rows flagged (WARN: they go on): {where}"
    if not goes_on:
        return f"{result.failed_rows} rows failed; every file of the batch is quarantined whole: {where}"
    return f"{result.failed_rows} rows failed and were quarantined; the rest goes on: {where}"


VALIDATION_ASSETS = [build_validation_asset(contract) for contract in CONTRACTS.values()]
