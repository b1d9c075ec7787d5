"""The platform's Dagster definitions. This module only assembles; each stage lives in assets/."""

import dagster as dg

from gn_pipelines.assets.collection import COLLECTION_ASSETS
from gn_pipelines.assets.landing_rejections import landing_rejections, reject_landing_file_job
from gn_pipelines.assets.restricted_warehouse import (
    REFERENCE_ASSETS,
    restricted_warehouse_views,
    setup_restricted_warehouse_job,
)
from gn_pipelines.assets.validation import INGEST_JOBS, VALIDATION_ASSETS
from gn_pipelines.resources import (
    DataZonesResource,
    PseudonymKeyResource,
    RestrictedWarehouseResource,
    warn_if_pseudonym_key_missing,
)
from gn_pipelines.sensors import landing_drop_sensor

warn_if_pseudonym_key_missing()

_zones = DataZonesResource()

defs = dg.Definitions(
    assets=[*REFERENCE_ASSETS, restricted_warehouse_views, *COLLECTION_ASSETS, *VALIDATION_ASSETS,
            landing_rejections],
    jobs=[setup_restricted_warehouse_job, reject_landing_file_job, *INGEST_JOBS],
    sensors=[landing_drop_sensor],
    resources={
        "zones": _zones,
        "warehouse": RestrictedWarehouseResource(zones=_zones),
        "pseudonym_key": PseudonymKeyResource(),
    },
)
