"""Files rejected before collection: misplaced, of an unknown type, empty, or a link; and
deliveries of bytes the provider already delivered under another name (recorded, loaded once).

Each such file is recorded (drop log) and archived, except links and folders, which are never
followed; each materialises this asset once, so its history in the UI lists them with reasons.
"""

import dagster as dg

from gn_pipelines.resources import DataZonesResource

LANDING_REJECTIONS_KEY = dg.AssetKey("landing_rejections")
REJECT_JOB_NAME = "record_landing_rejection"


class LandingRejectionConfig(dg.Config):
    landing_path: str  # relative to the landing root
    reason: str
    archive: bool = True  # False: a link or a folder, recorded without reading it
    status: str = "rejected"  # or "duplicate"


@dg.asset(
    key=LANDING_REJECTIONS_KEY,
    group_name="collection",
    kinds={"parquet"},
    description="Files rejected as a whole before collection (wrong place, unknown type, empty). "
                "Each materialisation is one rejected file; the file is archived and kept.",
)
def landing_rejections(context: dg.AssetExecutionContext, config: LandingRejectionConfig,
                       zones: DataZonesResource) -> dg.MaterializeResult:
    from gn_pipelines.ingest.archive import RefusedLandedFile, archive_landed
    from gn_pipelines.ingest.drop_log import record_drop
    from gn_pipelines.ingest.landing import address_of

    data_zones = zones.zones
    reason, sha256, archive_path, size = config.reason, None, None, None
    if config.archive:
        try:
            sha256, archived = archive_landed(data_zones.landing, data_zones.archive, config.landing_path)
            archive_path, size = archived.relative_to(data_zones.root).as_posix(), archived.stat().st_size
        except RefusedLandedFile as refusal:  # turned into a link since the scan
            reason = str(refusal)
    address = address_of(config.landing_path)
    record_drop(data_zones.restricted, dataset=address.dataset, provider_code=address.provider_code,
                source_file=config.landing_path, file_name=address.file_name, content_sha256=sha256,
                size_bytes=size, archive_path=archive_path, status=config.status,
                reason=reason, run_id=context.run.run_id)
    context.log.warning(f"{config.landing_path} {config.status}: {reason}")
    return dg.MaterializeResult(metadata={
        "status": config.status,
        "source_file": config.landing_path,
        "rejection_reason": reason,
        "content_sha256": sha256 or "not read",
        "archive_path": archive_path or "not archived",
        "provider_code": address.provider_code or "",
        "dataset": address.dataset or "",
    })

