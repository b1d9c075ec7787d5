"""Files rejected before collection: misplaced, of an unknown type, or empty.

Each rejected file is archived and recorded (drop log), and materialises this asset once, so
its history in the UI is the list of rejected files with their reasons.
"""

import dagster as dg

from gn_pipelines.resources import DataZonesResource

LANDING_REJECTIONS_KEY = dg.AssetKey("landing_rejections")
REJECT_JOB_NAME = "record_landing_rejection"


class LandingRejectionConfig(dg.Config):
    landing_path: str  # relative to the landing root
    reason: str


@dg.asset(
    key=LANDING_REJECTIONS_KEY,
    group_name="collection",
    kinds={"parquet"},
    description="Files rejected as a whole before collection (wrong place, unknown type, empty). "
                "Each materialisation is one rejected file; the file is archived and kept.",
)
def landing_rejections(context: dg.AssetExecutionContext, config: LandingRejectionConfig,
                       zones: DataZonesResource) -> dg.MaterializeResult:
    from gn_pipelines.ingest.archive import archive_landed
    from gn_pipelines.ingest.drop_log import record_drop
    from gn_pipelines.ingest.landing import address_of

    data_zones = zones.zones
    sha256, archived = archive_landed(data_zones.landing, data_zones.archive, config.landing_path)
    address = address_of(config.landing_path)
    archive_path = archived.relative_to(data_zones.root).as_posix()
    record_drop(data_zones.restricted, dataset=address.dataset, provider_code=address.provider_code,
                source_file=config.landing_path, file_name=address.file_name, content_sha256=sha256,
                size_bytes=archived.stat().st_size, archive_path=archive_path, status="rejected",
                reason=config.reason, run_id=context.run.run_id)
    context.log.warning(f"{config.landing_path} rejected: {config.reason}")
    return dg.MaterializeResult(metadata={
        "status": "rejected",
        "source_file": config.landing_path,
        "rejection_reason": config.reason,
        "content_sha256": sha256,
        "archive_path": archive_path,
        "provider_code": address.provider_code or "",
        "dataset": address.dataset or "",
    })

