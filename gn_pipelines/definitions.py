"""The platform's Dagster definitions. This module only assembles; each stage lives in assets/."""

import dagster as dg

from gn_pipelines.assets.collection import COLLECTION_ASSETS
from gn_pipelines.assets.landing_rejections import landing_rejections
from gn_pipelines.assets.restricted_warehouse import REFERENCE_ASSETS, restricted_warehouse_views
from gn_pipelines.assets.scorecard import FRESHNESS_CHECKS, provider_scorecard
from gn_pipelines.assets.deidentification import DEIDENTIFIED_ASSETS, PSEUDONYMISED_ASSETS
from gn_pipelines.assets.publication import PUBLISHED_TABLE_ASSETS, open_data_export
from gn_pipelines.assets.validation import VALIDATION_ASSETS
from gn_pipelines.jobs import (
    JOBS,
    datalab_destruction_schedule,
    nightly_publication_schedule,
    provider_freshness_schedule,
    publication_automation_sensor,
)
from gn_pipelines.resources import (
    DataZonesResource,
    PseudonymKeyResource,
    RestrictedWarehouseResource,
    warn_if_pseudonym_key_missing,
)
from gn_pipelines.sensors import dead_run_sweep_sensor, landing_drop_sensor

warn_if_pseudonym_key_missing()

_zones = DataZonesResource()

# A launched run (the daemon's, the UI's) runs each step in its own process. Spawned, each step
# imported Python, Dagster and these definitions again (seconds each, 16 steps in a
# publication); forked from a server that imported them once per run, a step starts at once.
STEP_PROCESSES = dg.multiprocess_executor.configured({"start_method": {"forkserver": {}}})

defs = dg.Definitions(
    assets=[*REFERENCE_ASSETS, restricted_warehouse_views, *COLLECTION_ASSETS, *VALIDATION_ASSETS,
            provider_scorecard, *PSEUDONYMISED_ASSETS, *DEIDENTIFIED_ASSETS, *PUBLISHED_TABLE_ASSETS,
            open_data_export, landing_rejections],
    asset_checks=[*FRESHNESS_CHECKS],
    jobs=JOBS,
    executor=STEP_PROCESSES,
    schedules=[provider_freshness_schedule, nightly_publication_schedule, datalab_destruction_schedule],
    sensors=[landing_drop_sensor, publication_automation_sensor, dead_run_sweep_sensor],
    resources={
        "zones": _zones,
        "warehouse": RestrictedWarehouseResource(zones=_zones),
        "pseudonym_key": PseudonymKeyResource(),
    },
)
