"""Publication: the published warehouse (one asset per build of published tables), the open-data export.

Every table is written into the release being built (`gn_pipelines/publish/releases.py`), only
from de-identified assets, and only through the publication gate (`publish/gate.py`: a final
residual-identifier scan; no small cell in aggregates). A table whose inputs did not change since
the current release (`gn_pipelines/fingerprints.py`) is carried over instead of being rebuilt. The
open-data export completes the release and makes it current in one swap: a failed check or a
killed run leaves the current release as it was. The builds come from `publish/builds.py`: no
dataset is named here.
"""

import base64
from contextlib import nullcontext

import dagster as dg

from gn_pipelines.assets.automation import REFRESH_WHEN_INPUTS_CHANGE
from gn_pipelines.assets.deidentification import (
    RESIDUAL_CHECK,
    deidentified_asset_key,
    pseudonymised_asset_key,
)
from gn_pipelines.assets.scorecard import SCORECARD_KEY
from gn_pipelines.build_cache_warmup import step_priority, warm_builds_of
from gn_pipelines.publish.builds import DROPS, RELEASED, TableBuild, table_builds
from gn_pipelines.resources import DataZonesResource
from gn_pipelines.seoul_time import seoul_iso

PUBLISHED_GROUP = "published"
OPEN_DATA_GROUP = "open_data"

PRIORITY_TAG = "dagster/priority"  # the executor runs the ready step of highest priority first
PUBLISHED_POOL = "published_warehouse"  # one writer of published.duckdb at a time
SMALL_CELL_CHECK = "no_small_cells"


def published_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["published", table])


def release_draft(context: dg.AssetExecutionContext, zones):
    """The release this run writes into (a draft left by a failed or dead run is rolled back)."""
    from gn_pipelines.publish.releases import draft_release
    from gn_pipelines.run_recovery import run_state

    return draft_release(zones.root, context.run.run_id, lambda run_id: (
        "active" if run_id == context.run.run_id else run_state(context.instance, run_id)))


def _input_asset(build: TableBuild) -> dg.AssetKey:
    if build.reads == RELEASED:
        return deidentified_asset_key(build.dataset)
    if build.reads == DROPS:
        return pseudonymised_asset_key(build.dataset)
    return SCORECARD_KEY


def _checks(build: TableBuild) -> list[dg.AssetCheckSpec]:
    from gn_pipelines.privacy.recipes import SMALL_CELL_THRESHOLD

    specs = []
    for table in build.tables:
        specs.append(dg.AssetCheckSpec(
            RESIDUAL_CHECK, asset=published_key(table), blocking=True,
            description="Final scan of the rows about to be published; any identifier stops the publication."))
        if build.suppressed:
            specs.append(dg.AssetCheckSpec(
                SMALL_CELL_CHECK, asset=published_key(table), blocking=True,
                description=f"No published cell counts fewer than {SMALL_CELL_THRESHOLD} (records, and "
                            "people where one person can make several records)."))
    return specs


def gate_events(outcome, zones, draft, build: TableBuild, row_counts: dict[str, int]):
    """The materialisations and blocking check results of one gate outcome."""
    blocked = outcome.blocked_reason
    for table, verdict in outcome.verdicts.items():
        key = published_key(table)
        metadata = {"published": outcome.passed, "release": draft.id,
                    "published_db": dg.MetadataValue.path(str(zones.published_db)),
                    "fingerprint": (outcome.records.get(table) or {}).get("fingerprint") or ""}
        if outcome.carried_from:
            metadata["carried_over_from"] = outcome.carried_from  # inputs unchanged: not rebuilt
        if outcome.passed:
            metadata["dagster/row_count"] = row_counts.get(table, 0)
        if outcome.publication is not None:
            metadata["published_at"] = seoul_iso(outcome.publication.published_at)
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)
        yield dg.AssetCheckResult(
            asset_key=key, check_name=RESIDUAL_CHECK, passed=not verdict.residual_identifiers,
            severity=dg.AssetCheckSeverity.ERROR, description=blocked,
            metadata={"residual_identifiers": dg.MetadataValue.json(verdict.residual_identifiers)})
        if build.suppressed:
            report = (outcome.records.get(table) or {}).get("report") or {}
            yield dg.AssetCheckResult(
                asset_key=key, check_name=SMALL_CELL_CHECK, passed=not verdict.small_cells,
                severity=dg.AssetCheckSeverity.ERROR, description=blocked,
                metadata={"cells_under_threshold": verdict.small_cells or 0,
                          "threshold": verdict.threshold, **{k: v for k, v in report.items() if k != "threshold"}})


def _chart_preview(event: dg.MaterializeResult, chart) -> dg.MaterializeResult:
    encoded = base64.b64encode(chart.read_bytes()).decode()
    metadata = dict(event.metadata or {}) | {
        "chart": dg.MetadataValue.path(str(chart)),
        "chart_preview": dg.MetadataValue.md(f"![{chart.stem}](data:image/png;base64,{encoded})")}
    return dg.MaterializeResult(asset_key=event.asset_key, metadata=metadata)


def build_publication_asset(build: TableBuild) -> dg.AssetsDefinition:
    """The asset publishing one build's tables: carried over when its inputs are unchanged,
    otherwise built, gated and written into the release being built."""
    specs = [dg.AssetSpec(published_key(table), deps=[_input_asset(build)], group_name=PUBLISHED_GROUP,
                          kinds={"duckdb"}, description=build.description,
                          automation_condition=REFRESH_WHEN_INPUTS_CHANGE)
             for table in build.tables]

    warmed = build.dataset is not None and build.name in warm_builds_of(build.dataset)
    # a build `process` may be warming runs after the steps ready beside it: the warm-up has
    # their time to finish, instead of this step waiting for it
    priority = step_priority(build.dataset, build.name)
    @dg.multi_asset(name=f"publish_{build.name}", pool=PUBLISHED_POOL, can_subset=False,
                    specs=specs, check_specs=_checks(build),
                    op_tags={PRIORITY_TAG: str(priority)} if priority else None)
    def publish_tables(context: dg.AssetExecutionContext, zones: DataZonesResource):
        from gn_pipelines.build_cache_warmup import build_cache_dir, build_cache_lock
        from gn_pipelines.publish.build_results import kept_result
        from gn_pipelines.publish.builds import input_files, table_fingerprints
        from gn_pipelines.publish.gate import carry_over_through_gate, publish_through_gate
        from gn_pipelines.publish.releases import base_release, carry_charts, unchanged_table_inputs

        data_zones = zones.zones
        source, files = input_files(build, data_zones)
        if not files:
            raise dg.Failure(f"nothing to publish: {build.name} has no input yet ({source})")
        fingerprints = table_fingerprints(build, files, data_zones.root)
        draft = release_draft(context, data_zones)
        unchanged = unchanged_table_inputs(data_zones.root, draft, fingerprints)
        charts = {}
        if unchanged is not None:
            copied = carry_charts(data_zones.root, draft, [name for _, name, _ in build.charts])
            charts = {table: draft.charts_dir / name for table, name, _ in build.charts
                      if (draft.charts_dir / name).exists()}
            outcome = carry_over_through_gate(data_zones.root, draft, unchanged)
            base = base_release(data_zones.root, draft)
            row_counts = base.manifest.get("tables", {}) if base is not None else {}
            context.log.info(f"{build.name}: inputs unchanged since release {outcome.carried_from}; "
                             f"carried over ({len(copied)} chart(s) copied)")
        else:
            cache_dir = build_cache_dir(data_zones.restricted, build.name)
            # a build whose cache `process` may be warming waits for the warm-up to finish, and
            # publishes what the warm-up built from the same inputs, if it kept it
            with build_cache_lock(cache_dir) if warmed else nullcontext():
                built = kept_result(cache_dir, fingerprints) if warmed else None
                if built is not None:
                    context.log.info(f"{build.name}: built by the cache warm-up from the same inputs")
                else:
                    built = build.build(source, draft.charts_dir, cache_dir=cache_dir, scratch=data_zones.scratch)
            charts = built.charts
            for table, report in built.reports.items():
                context.log.info(f"{table}: {report.primary} cells suppressed, {report.secondary} more to protect totals")
            outcome = publish_through_gate(
                data_zones.root, draft, built.sources, count_columns=built.count_columns,
                fingerprints=fingerprints, reports={t: r.as_metadata() for t, r in built.reports.items()},
                people_columns=built.people_columns)
            row_counts = outcome.publication.row_counts if outcome.publication is not None else {}
        for event in gate_events(outcome, data_zones, draft, build, row_counts):
            if isinstance(event, dg.MaterializeResult) and event.asset_key.path[-1] in charts:
                event = _chart_preview(event, charts[event.asset_key.path[-1]])
            yield event

    return publish_tables


PUBLISHED_TABLE_ASSETS = [build_publication_asset(build) for build in table_builds()]
PUBLISHED_KEYS = [spec.key for asset in PUBLISHED_TABLE_ASSETS for spec in asset.specs]


def _ledger_hook(zones):
    """Once a release is current, its 가명정보 tables go into the processing ledger (시행령 제29조의5)."""
    from gn_pipelines.datalab.ledger import record_release

    return lambda path: record_release(zones, path)


def _attachments(root, draft):
    """Charts published beside their tables: the draft's, else its base release's."""
    from gn_pipelines.publish.open_data import Attachment
    from gn_pipelines.publish.releases import base_release

    base = base_release(root, draft)
    attachments = {}
    for table, name, title in (chart for build in table_builds() for chart in build.charts):
        path = draft.charts_dir / name
        if not path.exists() and base is not None:
            path = base.charts_dir / name
        if path.exists():
            attachments.setdefault(table, []).append(Attachment(path, title))
    return attachments


@dg.asset(
    key=dg.AssetKey(["open", "open_data_export"]),
    deps=PUBLISHED_KEYS,
    group_name=OPEN_DATA_GROUP,
    kinds={"parquet", "csv", "html"},
    automation_condition=REFRESH_WHEN_INPUTS_CHANGE,
    pool=PUBLISHED_POOL,
    description="open/ (익명정보 and 통계 only): a Parquet file and an Excel-ready CSV (UTF-8 with "
                "BOM) per opened table, the 가명정보 tables only as their k = 10 public release without "
                "keys or free text; catalog.json (공공누리 제1유형, privacy_class per entry) and a static "
                "index.html. The `data_catalog` table holds the same entries. Tables carried over "
                "unchanged keep the current release's files.",
)
def open_data_export(context: dg.AssetExecutionContext, zones: DataZonesResource) -> dg.MaterializeResult:
    from gn_pipelines.fingerprints import code_digest
    from gn_pipelines.publish.open_data import export_open_data
    from gn_pipelines.publish.postgres_warehouse import postgres_release_hooks
    from gn_pipelines.publish.releases import (
        base_published_db,
        base_release,
        carried_over_tables,
        complete_release,
    )
    from gn_pipelines.publish.warehouse import publish

    data_zones = zones.zones
    draft = release_draft(context, data_zones)
    if not draft.published_db.exists():  # no table changed in this release: carry them all over
        publish(draft.published_db, {}, carry_from=base_published_db(data_zones.root, draft))
    base = base_release(data_zones.root, draft)
    if base is not None:  # it was current: in the ledger even if the run that made it was killed
        from gn_pipelines.datalab.ledger import record_release_if_missing

        record_release_if_missing(data_zones, base.path)
    reusable = set()
    if base is not None and base.manifest.get("publication_code") == code_digest():
        built = {table for build in table_builds() for table in build.tables}
        reusable = carried_over_tables(data_zones.root, draft) & built
    export = export_open_data(draft.published_db, draft.open_dir, attachments=_attachments(data_zones.root, draft),
                              reuse_from=base.open_dir if base is not None else None, unchanged=reusable,
                              scratch=data_zones.scratch)
    release = complete_release(data_zones.root, draft, before_swap=postgres_release_hooks(),
                               after_swap=[_ledger_hook(data_zones)],
                               manifest_extra={"publication_code": code_digest()})
    context.log.info(f"release {release.id} is current: {len(release.manifest['tables'])} tables "
                     f"({len(reusable)} exports carried over unchanged)")
    return dg.MaterializeResult(metadata={
        "release": release.id,
        "datasets": len(export.catalog),
        "exports_carried_over": dg.MetadataValue.json(sorted(reusable)),
        "privacy_classes": dg.MetadataValue.json({e["table_name"]: e["privacy_class"] for e in export.catalog}),
        "disclosure_risk": dg.MetadataValue.json(export.disclosure_risk),
        "files": len(export.files),
        "index": dg.MetadataValue.url((data_zones.open_data / "index.html").as_uri()),
        "catalog": dg.MetadataValue.path(str(data_zones.open_data / "catalog.json")),
    })
