"""Publication: the published warehouse (one asset per published table), the open-data export.

Every table is written into the release being built (`gn_pipelines/publish/releases.py`), only
from de-identified assets, and only after the blocking checks (a final residual-identifier
scan; no cell under 5 in aggregates) passed on the rows about to be published. The open-data
export completes the release and makes it current in one swap: a failed check or a killed run
leaves the current release as it was.
"""

import base64

import dagster as dg

from gn_pipelines.assets.automation import REFRESH_WHEN_INPUTS_CHANGE
from gn_pipelines.assets.deidentification import (
    RESIDUAL_CHECK,
    deidentified_asset_key,
    pseudonymised_asset_key,
)
from gn_pipelines.assets.scorecard import SCORECARD_KEY
from gn_pipelines.resources import DataZonesResource

PUBLISHED_GROUP = "published"
OPEN_DATA_GROUP = "open_data"

PUBLISHED_POOL = "published_warehouse"  # one writer of published.duckdb at a time
SMALL_CELL_CHECK = "no_small_cells"
NAMJI_CHART = "nakdong_namji_bod_tp.png"


def published_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["published", table])


def _text_columns(table: str) -> list[str]:
    from gn_pipelines.publish.tables import published_table

    return [c.name for c in published_table(table).columns
            if c.type == "VARCHAR" and not c.name.endswith("_key")]


def _scan(frame_or_parquet, table: str) -> dict[str, int]:
    """The final identifier scan over the rows about to be published."""
    import duckdb

    from gn_pipelines.privacy.scrubber import count_residual_identifiers

    connection = duckdb.connect()
    try:
        if isinstance(frame_or_parquet, str):
            connection.execute(f"CREATE VIEW candidate AS SELECT * FROM read_parquet('{frame_or_parquet}')")
        else:
            connection.register("candidate", frame_or_parquet)
        found = count_residual_identifiers(connection, "candidate", _text_columns(table))
    finally:
        connection.close()
    return {kind: int(n) for kind, n in found.items() if n}


def release_draft(context: dg.AssetExecutionContext, zones):
    """The release this run writes into (a draft left by a failed or dead run is rolled back)."""
    from gn_pipelines.publish.releases import draft_release
    from gn_pipelines.run_recovery import run_state

    return draft_release(zones.root, context.run.run_id, lambda run_id: (
        "active" if run_id == context.run.run_id else run_state(context.instance, run_id)))


def _publish_checked(draft, zones, sources: dict, small_cells: dict | None = None):
    """Scan each source (identifiers; cells under 5 in aggregates), write all of them into the
    release being built (`draft`) if every check passes; yield the results."""
    from gn_pipelines.publish.releases import base_published_db
    from gn_pipelines.publish.warehouse import publish

    residual = {table: _scan(source, table) for table, source in sources.items()}
    small = {table: _cells_under_5(frame, column) for table, (frame, column, _) in (small_cells or {}).items()}
    clean = not any(residual.values()) and not any(small.values())
    result = None
    if clean:
        selects = {table: (f"SELECT * FROM read_parquet('{s}')" if isinstance(s, str) else s)
                   for table, s in sources.items()}
        result = publish(draft.published_db, selects, carry_from=base_published_db(zones.root, draft))
    blocked = None if clean else "a blocking check failed: nothing was published"
    for table in sources:
        key = published_key(table)
        metadata = {"published": clean, "release": draft.id,
                    "published_db": dg.MetadataValue.path(str(zones.published_db))}
        if result:
            metadata["dagster/row_count"] = result.row_counts.get(table, 0)
            metadata["published_at"] = result.published_at.isoformat()
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)
        yield dg.AssetCheckResult(
            asset_key=key, check_name=RESIDUAL_CHECK, passed=not residual[table],
            severity=dg.AssetCheckSeverity.ERROR, description=blocked,
            metadata={"residual_identifiers": dg.MetadataValue.json(residual[table])})
        if table in small:
            report = small_cells[table][2]
            yield dg.AssetCheckResult(
                asset_key=key, check_name=SMALL_CELL_CHECK, passed=small[table] == 0,
                severity=dg.AssetCheckSeverity.ERROR, description=blocked,
                metadata={"cells_under_5": small[table], **report.as_metadata()})


def _cells_under_5(frame, count_column: str) -> int:
    return int(((frame[count_column] < 5) & frame[count_column].notna()).sum())


def _checks(table: str, small_cells: bool = False) -> list[dg.AssetCheckSpec]:
    specs = [dg.AssetCheckSpec(RESIDUAL_CHECK, asset=published_key(table), blocking=True,
                               description="Final scan of the rows about to be published; any "
                                           "identifier stops the publication.")]
    if small_cells:
        specs.append(dg.AssetCheckSpec(SMALL_CELL_CHECK, asset=published_key(table), blocking=True,
                                       description="No published cell counts fewer than 5."))
    return specs


def _spec(table: str, deps: list, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(published_key(table), deps=deps, group_name=PUBLISHED_GROUP,
                        kinds={"duckdb"}, description=description,
                        automation_condition=REFRESH_WHEN_INPUTS_CHANGE)


def _record_level(table: str, dataset: str):
    @dg.multi_asset(
        name=f"publish_{table}", pool=PUBLISHED_POOL, can_subset=False,
        specs=[_spec(table, [deidentified_asset_key(dataset)],
                     f"Published `{table}`: the de-identified, k-anonymous records.")],
        check_specs=_checks(table),
    )
    def publish_record_level(context: dg.AssetExecutionContext, zones: DataZonesResource):
        from gn_pipelines.privacy.deidentify import deidentified_path

        source = deidentified_path(zones.zones, dataset)
        if not source.exists():
            raise dg.Failure(f"nothing to publish: {dataset} has no de-identified release yet")
        yield from _publish_checked(release_draft(context, zones.zones), zones.zones, {table: str(source)})

    return publish_record_level


def _named(frame, zones):
    """Add `sigungu_name` from the reference providers (and 창원's districts)."""
    from gn_pipelines.reference import CHANGWON_DISTRICTS, PROVIDERS_BY_CODE

    names = {code: p.name for code, p in PROVIDERS_BY_CODE.items()}
    names |= {code: f"{names['48120']} {name}" for code, name in CHANGWON_DISTRICTS.items()}
    frame.insert(1, "sigungu_name", frame["sigungu_code"].map(names))
    return frame


def _aggregate(table: str, dataset: str, view: str):
    @dg.multi_asset(
        name=f"publish_{table}", pool=PUBLISHED_POOL, can_subset=False,
        specs=[_spec(table, [pseudonymised_asset_key(dataset)],
                     f"Published `{table}`: counts from every de-identified record, cells under 5 "
                     "suppressed, plus secondary suppression so they cannot be recovered from totals.")],
        check_specs=_checks(table, small_cells=True),
    )
    def publish_aggregate(context: dg.AssetExecutionContext, zones: DataZonesResource):
        import duckdb

        from gn_pipelines.privacy.deidentify import pseudonymised_glob
        from gn_pipelines.publish.aggregates import AGGREGATES

        connection = duckdb.connect()
        try:
            glob = str(pseudonymised_glob(zones.zones, dataset))
            connection.execute(f"CREATE VIEW {view} AS SELECT * FROM read_parquet('{glob}', union_by_name = true)")
            build, spec = AGGREGATES[table]
            report = build(connection)
            frame = _named(connection.execute(f"SELECT * FROM {table}").df(), zones.zones)
        finally:
            connection.close()
        context.log.info(f"{table}: {report.primary} cells suppressed, {report.secondary} more to protect totals")
        yield from _publish_checked(release_draft(context, zones.zones), zones.zones, {table: frame},
                                    small_cells={table: (frame, spec.count_column, report)})

    return publish_aggregate


WATER_TABLES = ("water_quality_measurements", "water_quality_station_grades", "nakdong_namji_target")


@dg.multi_asset(
    name="publish_water_quality", pool=PUBLISHED_POOL, can_subset=False,
    specs=[_spec(t, [deidentified_asset_key("water_quality")],
                 f"Published `{t}`: 하천 생활환경기준 grades on annual means (see docs/architecture.md).")
           for t in WATER_TABLES],
    check_specs=[spec for t in WATER_TABLES for spec in _checks(t)],
)
def publish_water_quality(context: dg.AssetExecutionContext, zones: DataZonesResource):
    import duckdb

    from gn_pipelines.privacy.deidentify import deidentified_path
    from gn_pipelines.water.chart import render_namji_chart
    from gn_pipelines.water.grading import build_water_tables, monthly_namji_series

    data_zones = zones.zones
    source = deidentified_path(data_zones, "water_quality")
    if not source.exists():
        raise dg.Failure("nothing to publish: water_quality has no de-identified release yet")
    connection = duckdb.connect()
    try:
        build_water_tables(connection, str(source))
        frames = {t: connection.execute(f"SELECT * FROM {t}").df() for t in WATER_TABLES}
        chart = render_namji_chart(monthly_namji_series(connection),
                                   release_draft(context, data_zones).charts_dir / NAMJI_CHART)
    finally:
        connection.close()
    for event in _publish_checked(release_draft(context, data_zones), data_zones, frames):
        if isinstance(event, dg.MaterializeResult) and event.asset_key == published_key("nakdong_namji_target"):
            encoded = base64.b64encode(chart.read_bytes()).decode()
            metadata = dict(event.metadata or {}) | {
                "chart": dg.MetadataValue.path(str(chart)),
                "chart_preview": dg.MetadataValue.md(f"![남지 BOD, T-P](data:image/png;base64,{encoded})")}
            event = dg.MaterializeResult(asset_key=event.asset_key, metadata=metadata)
        yield event


@dg.multi_asset(
    name="publish_provider_scorecard", pool=PUBLISHED_POOL, can_subset=False,
    specs=[_spec("provider_scorecard", [SCORECARD_KEY],
                 "Published `provider_scorecard` (no personal data).")],
    check_specs=_checks("provider_scorecard"),
)
def publish_provider_scorecard(context: dg.AssetExecutionContext, zones: DataZonesResource):
    from gn_pipelines.assets.scorecard import scorecard_path

    source = scorecard_path(zones.zones)
    if not source.exists():
        raise dg.Failure("the provider scorecard has not been built yet")
    yield from _publish_checked(release_draft(context, zones.zones), zones.zones, {"provider_scorecard": str(source)})


PUBLISHED_TABLE_ASSETS = [
    _record_level("civil_complaints", "civil_complaints"),
    _record_level("welfare_recipients", "welfare_recipients"),
    _aggregate("civil_complaints_monthly", "civil_complaints", "complaint_drops"),
    _aggregate("civil_complaint_keywords_monthly", "civil_complaints", "complaint_drops"),
    _aggregate("welfare_summary", "welfare_recipients", "welfare_drops"),
    publish_water_quality,
    publish_provider_scorecard,
]
PUBLISHED_KEYS = [spec.key for asset in PUBLISHED_TABLE_ASSETS for spec in asset.specs]


def _ledger_hook(zones):
    """Once a release is current, its 가명정보 tables go into the processing ledger (시행령 제29조의5)."""
    from gn_pipelines.datalab.ledger import record_release

    return lambda path: record_release(zones, path)


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
                "index.html. The `data_catalog` table holds the same entries.",
)
def open_data_export(context: dg.AssetExecutionContext, zones: DataZonesResource) -> dg.MaterializeResult:
    from gn_pipelines.publish.open_data import Attachment, export_open_data
    from gn_pipelines.publish.postgres_warehouse import postgres_release_hooks
    from gn_pipelines.publish.releases import base_published_db, complete_release
    from gn_pipelines.publish.warehouse import publish

    data_zones = zones.zones
    draft = release_draft(context, data_zones)
    if not draft.published_db.exists():  # no table changed in this release: carry them all over
        publish(draft.published_db, {}, carry_from=base_published_db(data_zones.root, draft))
    chart = draft.charts_dir / NAMJI_CHART
    base = base_published_db(data_zones.root, draft)
    if not chart.exists() and base is not None and (base.parent / "charts" / NAMJI_CHART).exists():
        chart = base.parent / "charts" / NAMJI_CHART
    attachments = {"nakdong_namji_target": [Attachment(chart, "남지 월별 BOD·T-P와 수질등급 기준")]} if chart.exists() else {}
    export = export_open_data(draft.published_db, draft.open_dir, attachments=attachments)
    release = complete_release(data_zones.root, draft, before_swap=postgres_release_hooks(),
                               after_swap=[_ledger_hook(data_zones)])
    context.log.info(f"release {release.id} is current: {len(release.manifest['tables'])} tables")
    return dg.MaterializeResult(metadata={
        "release": release.id,
        "datasets": len(export.catalog),
        "privacy_classes": dg.MetadataValue.json({e["table_name"]: e["privacy_class"] for e in export.catalog}),
        "disclosure_risk": dg.MetadataValue.json(export.disclosure_risk),
        "files": len(export.files),
        "index": dg.MetadataValue.url((data_zones.open_data / "index.html").as_uri()),
        "catalog": dg.MetadataValue.path(str(data_zones.open_data / "catalog.json")),
    })
