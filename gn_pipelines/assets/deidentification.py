"""De-identification: per batch of drops (pseudonyms, derived values, scrubbed text; each file
staged on its own), then per dataset (generalised until k-anonymous and l-diverse), each guarded
by a blocking residual scan.

The per-batch asset runs in the same job as collection and validation and takes only the files
validation let through, so a drop quarantined whole never reaches it. The dataset release refreshes when its drops change.
"""

import dagster as dg

from gn_pipelines.assets.automation import REFRESH_WHEN_INPUTS_CHANGE
from gn_pipelines.assets.collection import month_partitions
from gn_pipelines.assets.validation import batch_files, validated_asset_key
from gn_pipelines.contracts import DatasetContract
from gn_pipelines.datasets import CONTRACTS
from gn_pipelines.privacy.recipes import RECIPES
from gn_pipelines.resources import DataZonesResource, PseudonymKeyResource

DEIDENTIFICATION_GROUP = "deidentification"
RESIDUAL_CHECK = "no_residual_identifiers"
K_CHECK = "k_anonymous"
L_CHECK = "l_diverse"


def pseudonymised_asset_key(dataset: str) -> dg.AssetKey:
    return dg.AssetKey(f"pseudonymised_{dataset}")


def deidentified_asset_key(dataset: str) -> dg.AssetKey:
    return dg.AssetKey(f"deidentified_{dataset}")


def build_pseudonymised_asset(contract: DatasetContract) -> dg.AssetsDefinition:
    key = pseudonymised_asset_key(contract.name)

    @dg.asset(
        key=key,
        partitions_def=month_partitions(contract.name),
        deps=[validated_asset_key(contract.name)],
        group_name=DEIDENTIFICATION_GROUP,
        kinds={"duckdb", "parquet"},
        description=f"{contract.title_ko}, a batch of drops (a delivery month) at a time: keyed "
                    "pseudonyms (가명처리), birth year and sex derived then the 주민등록번호 deleted "
                    "(데이터 삭제), free text scrubbed (데이터 마스킹). Each file's rows staged on their "
                    "own. Restricted zone.",
        check_specs=[dg.AssetCheckSpec(
            RESIDUAL_CHECK, asset=key, blocking=True,
            description="No identifier survives in the free text; a file that fails is not written "
                        "(the check names it).")],
    )
    def pseudonymised(context: dg.AssetExecutionContext, zones: DataZonesResource,
                      pseudonym_key: PseudonymKeyResource):
        from gn_pipelines.assets.metadata import markdown_table
        from gn_pipelines.privacy.deidentify import pseudonymised_path
        from gn_pipelines.privacy.deidentify_batch import BatchDrop, deidentify_batch
        from gn_pipelines.quality.validate import validated_path

        data_zones = zones.zones
        files = batch_files(context, validated_asset_key(contract.name), contract.name)
        going_on = [f for f in files if f["status"] == "validated"]
        drops = []
        for f in going_on:
            file_name = f["source_file"].rsplit("/", 1)[-1]
            source = validated_path(data_zones, contract.name, f["provider_code"], file_name)
            if not source.exists():
                raise dg.Failure(f"{f['source_file']} has no validated rows to de-identify")
            drops.append(BatchDrop(f["source_file"], source, pseudonymised_path(
                data_zones, contract.name, f["provider_code"], file_name)))
        if not drops:
            raise dg.Failure(f"{context.partition_key}: no file of the batch has validated rows to de-identify")
        secret = pseudonym_key.secret_for(data_zones, run_id=context.run.run_id,
                                          stage=f"pseudonymise {contract.name} {context.partition_key} "
                                                f"({len(drops)} files)")
        outcomes = deidentify_batch(contract, drops, secret=secret, zones=data_zones)
        residual = {name: o.residual for name, o in outcomes.items() if o.residual}
        replaced: dict[str, int] = {}
        for outcome in outcomes.values():
            for kind, n in outcome.replaced_in_text.items():
                replaced[kind] = replaced.get(kind, 0) + n
        yield dg.MaterializeResult(metadata={
            "dagster/row_count": sum(o.rows for o in outcomes.values()),
            "files_in_batch": len(outcomes),
            "key_id": next(iter(outcomes.values())).key_id,
            "identifiers_replaced_in_text": dg.MetadataValue.json(replaced),
            "written": sum(o.target is not None for o in outcomes.values()),
            "per_file": dg.MetadataValue.md(markdown_table([
                {"file": name, "rows": o.rows, "written": o.target is not None,
                 "identifiers replaced": sum(o.replaced_in_text.values()),
                 "residual": ", ".join(f"{k} ×{v}" for k, v in o.residual.items()) or "none"}
                for name, o in outcomes.items()])),
        })
        # like validation: a file holding a residual stays out alone; the check blocks (ERROR)
        # only when no file of the batch was written
        severity = dg.AssetCheckSeverity.ERROR if len(residual) == len(outcomes) else dg.AssetCheckSeverity.WARN
        yield dg.AssetCheckResult(
            check_name=RESIDUAL_CHECK, passed=not residual, severity=severity,
            description=("not written: " + ", ".join(residual)) if residual else None,
            metadata={"residual_identifiers": dg.MetadataValue.json(residual)})

    return pseudonymised


def build_deidentified_asset(contract: DatasetContract) -> dg.AssetsDefinition:
    key = deidentified_asset_key(contract.name)
    specs = [dg.AssetCheckSpec(RESIDUAL_CHECK, asset=key, blocking=True,
                               description="The final scan finds no identifier in any text column; "
                                           "otherwise nothing is released and publication stops.")]
    checks = RECIPES[contract.name].release.checks  # only checks that can fail (recipes.Release)
    if "k" in checks:
        specs.append(dg.AssetCheckSpec(K_CHECK, asset=key, blocking=True, description=(
            "Every equivalence class over the quasi-identifiers has ≥ k records.")))
    if "l" in checks:
        specs.append(dg.AssetCheckSpec(L_CHECK, asset=key, blocking=True, description=(
            "Every class has ≥ l distinct values of each sensitive attribute.")))

    @dg.asset(
        key=key,
        deps=[pseudonymised_asset_key(contract.name)],
        group_name=DEIDENTIFICATION_GROUP,
        kinds={"duckdb", "parquet"},
        automation_condition=REFRESH_WHEN_INPUTS_CHANGE,
        description=f"{contract.title_ko}, every drop, ready for publication: generalised along "
                    "hierarchies and suppressed where still needed (k-anonymity, l-diversity), with a "
                    "privacy report. Restricted zone.",
        check_specs=specs,
    )
    def deidentified(context: dg.AssetExecutionContext, zones: DataZonesResource):
        from gn_pipelines.ingest.drop_log import append_record
        from gn_pipelines.restricted_views import privacy_report_dir
        from gn_pipelines.privacy.deidentify import release

        data_zones = zones.zones
        result = release(contract, zones=data_zones)
        report = result.report()
        append_record(privacy_report_dir(data_zones), {"run_id": context.run.run_id, **report})
        anonymity = result.anonymity or {}
        metadata = {
            "dagster/row_count": result.rows,
            "key_id": result.key_id or "none",
            "released": result.target is not None,
            "reused": result.reused,  # same drops, recipe and code as the release already written
            "records_superseded": result.superseded,  # earlier deliveries of records sent again
            "privacy_report": dg.MetadataValue.json(report),
            "identifiers_replaced_in_text": dg.MetadataValue.json(result.replaced_in_text),
            "deleted_columns (데이터 삭제)": ", ".join(result.deleted_columns) or "none",
        }
        if anonymity:
            metadata.update({
                "information_loss": dg.MetadataValue.json(anonymity["information_loss"]),
                "levels": dg.MetadataValue.json(anonymity["levels"]),
                "quasi_identifiers_generalised_in_text": dg.MetadataValue.json(result.text_generalised),
                "k_reached": anonymity["k_reached"], "l_reached": dg.MetadataValue.json(anonymity["l_reached"]),
                "records_suppressed": anonymity["records_suppressed"],
                "suppression_rate": anonymity["suppression_rate"],
                "class_sizes": dg.MetadataValue.json(anonymity["class_sizes"]),
            })
        yield dg.MaterializeResult(metadata=metadata)
        yield dg.AssetCheckResult(
            check_name=RESIDUAL_CHECK, passed=not result.residual, severity=dg.AssetCheckSeverity.ERROR,
            metadata={"residual_identifiers": dg.MetadataValue.json(result.residual)})
        yield from _anonymity_checks(anonymity, checks)

    return deidentified


def _anonymity_checks(anonymity: dict, checks: tuple[str, ...]):
    """The k and l checks the recipe declares; a report without the figures is an error, not a pass."""
    if not checks or set(checks) == {"residual"}:
        return
    if not anonymity or not anonymity.get("k_required"):
        raise dg.Failure("the release has no anonymity report to check k and l against")
    released = anonymity.get("records_out", 0)
    if "k" in checks:
        k_ok = released == 0 or anonymity["k_reached"] >= anonymity["k_required"]
        yield dg.AssetCheckResult(
            check_name=K_CHECK, passed=k_ok, severity=dg.AssetCheckSeverity.ERROR,
            metadata={"k_required": anonymity["k_required"], "k_reached": anonymity["k_reached"],
                      "records_suppressed": anonymity.get("records_suppressed")})
    if "l" in checks:
        l_reached = anonymity.get("l_reached") or {}
        if not l_reached:
            raise dg.Failure("the l check has no sensitive attribute to check")
        l_ok = released == 0 or all(v >= anonymity["l_required"] for v in l_reached.values())
        yield dg.AssetCheckResult(
            check_name=L_CHECK, passed=l_ok, severity=dg.AssetCheckSeverity.ERROR,
            metadata={"l_required": anonymity["l_required"], "l_reached": dg.MetadataValue.json(l_reached)})


PSEUDONYMISED_ASSETS = [build_pseudonymised_asset(c) for c in CONTRACTS.values()]
DEIDENTIFIED_ASSETS = [build_deidentified_asset(c) for c in CONTRACTS.values()]
