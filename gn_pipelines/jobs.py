"""Every job of the platform, and the schedules and automation that launch them.

The sensor, the schedules and `gn-pipelines` launch these; asset modules never import this one.
"""

import dagster as dg

from gn_pipelines.assets.collection import collected_asset_key
from gn_pipelines.assets.datalab import DATALAB_JOB, DESTROY_JOB, destroy_expired_extracts, extract_for_datalab
from gn_pipelines.assets.deidentification import DEIDENTIFICATION_GROUP, pseudonymised_asset_key
from gn_pipelines.assets.landing_rejections import LANDING_REJECTIONS_KEY, REJECT_JOB_NAME
from gn_pipelines.assets.publication import OPEN_DATA_GROUP, PUBLISHED_GROUP
from gn_pipelines.assets.restricted_warehouse import REFERENCE_GROUP, WAREHOUSE_SETUP_JOB
from gn_pipelines.assets.scorecard import FRESHNESS_CHECKS, SCORECARD_KEY
from gn_pipelines.assets.validation import validated_asset_key
from gn_pipelines.datasets import CONTRACTS


def ingest_job_name(dataset: str) -> str:
    return f"ingest_{dataset}"


# One run per batch (the new files of a dataset and delivery month): collect, validate, then
# pseudonymise and scrub. A file quarantined whole never reaches de-identification; a blocking
# check stops the run only when no file of the batch goes on. The partitions (delivery months)
# come from the selected assets.
INGEST_JOBS = [
    dg.define_asset_job(
        ingest_job_name(dataset),
        selection=dg.AssetSelection.assets(collected_asset_key(dataset), validated_asset_key(dataset),
                                           pseudonymised_asset_key(dataset)),
        description=f"Collect, validate and pseudonymise a batch of dropped {dataset} files "
                    "(a partition: the delivery month; the files in the run config).",
    )
    for dataset in CONTRACTS
]

reject_landing_file_job = dg.define_asset_job(
    REJECT_JOB_NAME, selection=dg.AssetSelection.assets(LANDING_REJECTIONS_KEY),
    description="Archive and record one file rejected before collection.",
)

setup_restricted_warehouse_job = dg.define_asset_job(
    WAREHOUSE_SETUP_JOB,
    selection=dg.AssetSelection.groups(REFERENCE_GROUP),
    description="Build the reference tables and the restricted warehouse's views.",
)

PUBLISH_JOB_NAME = "publish_all"

# Everything downstream of the drops: the de-identified releases, the published warehouse,
# the scorecard and the open-data exports.
publish_job = dg.define_asset_job(
    PUBLISH_JOB_NAME,
    selection=(dg.AssetSelection.groups(DEIDENTIFICATION_GROUP, PUBLISHED_GROUP, OPEN_DATA_GROUP)
               - dg.AssetSelection.assets(*(pseudonymised_asset_key(d) for d in CONTRACTS)))
              | dg.AssetSelection.assets(SCORECARD_KEY),
    description="Rebuild the de-identified releases, the published warehouse and the open-data exports.",
)

check_provider_freshness_job = dg.define_asset_job(
    "check_provider_freshness",
    selection=dg.AssetSelection.checks(*FRESHNESS_CHECKS),
    description="Say which providers are late with their deliveries.",
)


@dg.job(name=DATALAB_JOB, description="One data-lab extract request (run config: the request).")
def datalab_extract_job():
    extract_for_datalab()


@dg.job(name=DESTROY_JOB, description="Destroy the data-lab extracts whose use period has ended.")
def datalab_destroy_expired_job():
    destroy_expired_extracts()


JOBS = [setup_restricted_warehouse_job, reject_landing_file_job, *INGEST_JOBS,
        check_provider_freshness_job, publish_job, datalab_extract_job, datalab_destroy_expired_job]

def _seoul_schedule(name: str, job, cron: str, description: str | None = None) -> dg.ScheduleDefinition:
    """A schedule on the province's clock, running by default (no click needed after a deploy)."""
    return dg.ScheduleDefinition(name=name, job=job, cron_schedule=cron, execution_timezone="Asia/Seoul",
                                 default_status=dg.DefaultScheduleStatus.RUNNING, description=description)


datalab_destruction_schedule = _seoul_schedule(
    "nightly_datalab_destruction", datalab_destroy_expired_job, "30 3 * * *",
    "03:30 Asia/Seoul: destroy the data-lab extracts whose use period has ended.")
nightly_publication_schedule = _seoul_schedule(
    "nightly_publication", publish_job, "0 2 * * *",
    "02:00 Asia/Seoul: rebuild every published table and export.")
provider_freshness_schedule = _seoul_schedule("provider_freshness_hourly", check_provider_freshness_job, "0 * * * *")

# Declarative automation: the releases, the scorecard, the published tables and the open data
# refresh when their inputs change (see REFRESH_WHEN_INPUTS_CHANGE), one dataset's chain at a
# time; running by default so a new deployment needs no click in the UI.
publication_automation_sensor = dg.AutomationConditionSensorDefinition(
    "refresh_published_on_new_data",
    target=dg.AssetSelection.groups(DEIDENTIFICATION_GROUP, PUBLISHED_GROUP, OPEN_DATA_GROUP)
    | dg.AssetSelection.assets(SCORECARD_KEY),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Refresh de-identified releases, published tables and exports after new drops.",
)
