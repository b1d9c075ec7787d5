"""The jobs the sensor, the schedules and `gn-pipelines` launch."""

import dagster as dg

from gn_pipelines.assets.collection import collected_asset_key, drop_partitions
from gn_pipelines.assets.deidentification import DEIDENTIFICATION_GROUP, pseudonymised_asset_key
from gn_pipelines.assets.validation import validated_asset_key
from gn_pipelines.contracts import CONTRACTS


def ingest_job_name(dataset: str) -> str:
    return f"ingest_{dataset}"


# One run per dropped file: collect, validate, then pseudonymise and scrub. A blocking check
# that fails stops the run there, so a quarantined drop never reaches de-identification.
INGEST_JOBS = [
    dg.define_asset_job(
        ingest_job_name(dataset),
        selection=dg.AssetSelection.assets(collected_asset_key(dataset), validated_asset_key(dataset),
                                           pseudonymised_asset_key(dataset)),
        partitions_def=drop_partitions(contract),
        description=f"Collect, validate and pseudonymise one dropped {dataset} file "
                    "(a partition: provider × file name).",
    )
    for dataset, contract in CONTRACTS.items()
]

PUBLISH_JOB_NAME = "publish_all"
PUBLISHED_GROUP = "published"
OPEN_DATA_GROUP = "open_data"

# Everything downstream of the drops: the de-identified releases, the published warehouse,
# the scorecard and the open-data exports.
publish_job = dg.define_asset_job(
    PUBLISH_JOB_NAME,
    selection=(dg.AssetSelection.groups(DEIDENTIFICATION_GROUP, PUBLISHED_GROUP, OPEN_DATA_GROUP)
               - dg.AssetSelection.assets(*(pseudonymised_asset_key(d) for d in CONTRACTS)))
              | dg.AssetSelection.assets("provider_scorecard"),
    description="Rebuild the de-identified releases, the published warehouse and the open-data exports.",
)

nightly_publication_schedule = dg.ScheduleDefinition(
    name="nightly_publication",
    job=publish_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Seoul",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="02:00 Asia/Seoul: rebuild every published table and export.",
)

# Declarative automation: the releases, the scorecard, the published tables and the open data
# refresh when their inputs change (see REFRESH_WHEN_INPUTS_CHANGE), one dataset's chain at a
# time; running by default so a new deployment needs no click in the UI.
publication_automation_sensor = dg.AutomationConditionSensorDefinition(
    "refresh_published_on_new_data",
    target=dg.AssetSelection.groups(DEIDENTIFICATION_GROUP, PUBLISHED_GROUP, OPEN_DATA_GROUP)
    | dg.AssetSelection.assets("provider_scorecard"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Refresh de-identified releases, published tables and exports after new drops.",
)
