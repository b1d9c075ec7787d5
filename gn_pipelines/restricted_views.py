"""The restricted warehouse's views over every stage's staged files and logs (collection,
validation, de-identification), and the seed files that keep them valid.

It sits above `ingest/`, `quality/` and `privacy/` (it reads what each writes), so none of
them imports it and the arrows point one way.

A view over a glob fails when nothing matches, so each glob gets a zero-row seed file with the
exact schema collection writes; new drops then show up in the views without a rebuild.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from gn_pipelines.datalab.ledger import ENTRY_ID, LEDGER_COLUMNS, ledger_dir
from gn_pipelines.datasets import CONTRACTS
from gn_pipelines.ingest.casting import sql_text
from gn_pipelines.ingest.collect import write_empty_staging
from gn_pipelines.ingest.drop_log import drop_log_dir
from gn_pipelines.ingest.log_compaction import fold_past_months, json_records, log_records, reading
from gn_pipelines.ingest.parquet_io import copy_atomically, copy_file_atomically
from gn_pipelines.privacy.key_custody import key_usage_dir
from gn_pipelines.quality.scorecard import scorecard_sql
from gn_pipelines.quality.validate import write_empty_quarantine
from gn_pipelines.quality.validation_log import VALIDATION_LOG_COLUMNS, validation_log_dir
from gn_pipelines.settings import DataZones

SEED_FOLDER = "_schema"
VIEWS_VERSION = 5  # bump when a view changes: the sensor then rebuilds the warehouse views
DROP_LOG_COLUMNS = {
    "event_id": "VARCHAR", "recorded_at": "TIMESTAMPTZ", "dataset": "VARCHAR",
    "provider_code": "VARCHAR", "source_file": "VARCHAR", "file_name": "VARCHAR",
    "partition_key": "VARCHAR", "content_sha256": "VARCHAR", "size_bytes": "BIGINT",
    "archive_path": "VARCHAR", "status": "VARCHAR", "reason": "VARCHAR", "file_format": "VARCHAR",
    "encoding": "VARCHAR", "rows_read": "BIGINT", "rows_accepted": "BIGINT",
    "rows_rejected": "BIGINT", "unknown_columns": "VARCHAR[]", "run_id": "VARCHAR",
    "delivered_at": "TIMESTAMPTZ",
}


def rejected_rows_glob(zones: DataZones) -> Path:
    return zones.restricted / "rejected_rows" / "*" / "*" / "*.parquet"


# one row per release of a de-identified table (see privacy/deidentify.py, Release.report)
PRIVACY_REPORT_COLUMNS = {
    "event_id": "VARCHAR", "recorded_at": "TIMESTAMPTZ", "run_id": "VARCHAR", "dataset": "VARCHAR",
    "rows_released": "BIGINT", "key_id": "VARCHAR", "techniques": "JSON", "deleted_columns": "VARCHAR[]",
    "anonymity": "JSON", "identifiers_replaced_in_text": "JSON", "residual_identifiers": "JSON",
}


# one row per use of the pseudonymisation key (never the key: its id), see privacy/key_custody.py
KEY_USAGE_COLUMNS = {
    "event_id": "VARCHAR", "recorded_at": "TIMESTAMPTZ", "run_id": "VARCHAR", "stage": "VARCHAR",
    "key_id": "VARCHAR", "pid": "BIGINT",
}


def privacy_report_dir(zones: DataZones) -> Path:
    return zones.restricted / "privacy_reports"


def staged_glob(zones: DataZones, stage: str, dataset: str) -> Path:
    """Every staged file of a stage (collected, validated, quarantine, ...) of a dataset."""
    return zones.restricted / stage / dataset / "*" / "*.parquet"


def seed_path(zones: DataZones, stage: str, dataset: str) -> Path:
    """The zero-row seed file of a stage's glob for a dataset."""
    return zones.restricted / stage / dataset / SEED_FOLDER / "empty.parquet"


def seed_staging(zones: DataZones) -> None:
    """Write the zero-row seed files (idempotent: rewritten each time, schema from the code). The
    typing SQL runs once per dataset; validation keeps collection's columns, so its seed is a copy."""
    for dataset, contract in CONTRACTS.items():
        seed = seed_path(zones, "collected", dataset)
        write_empty_staging(contract, collected=seed, rejected_rows=seed_path(zones, "rejected_rows", dataset))
        copy_file_atomically(seed, seed_path(zones, "validated", dataset))
        write_empty_quarantine(seed, seed_path(zones, "quarantine", dataset))
    _seed_logs(zones)


def event_logs(zones: DataZones) -> dict[str, tuple[Path, dict[str, str]]]:
    """The event logs the views read: view name → (folder, the records' column types)."""
    return {"drop_log": (drop_log_dir(zones.restricted), DROP_LOG_COLUMNS),
            "validation_log": (validation_log_dir(zones), VALIDATION_LOG_COLUMNS),
            "privacy_reports": (privacy_report_dir(zones), PRIVACY_REPORT_COLUMNS),
            "key_usage": (key_usage_dir(zones), KEY_USAGE_COLUMNS)}


def reading_event_logs(zones: DataZones, *views: str):
    """A block reading the logs behind `views` without a fold removing a record it listed
    (`log_compaction.reading`): the platform's own readers (the scorecard, the freshness checks)."""
    return reading(*(event_logs(zones)[view][0] for view in views))


def reading_every_log(zones: DataZones):
    """As `reading_event_logs`, for every log a view reads, the processing ledger included: an
    analyst's statement in `gn-pipelines sql --restricted`."""
    return reading(*(folder for folder, _ in event_logs(zones).values()), ledger_dir(zones))


def fold_event_logs(zones: DataZones, today: date) -> list[Path]:
    """Fold the logs' past months into Parquet (ingest/log_compaction.py); the files written."""
    return [path for folder, columns in event_logs(zones).values()
            for path in fold_past_months(folder, columns, today)]


def _seed_logs(zones: DataZones) -> None:
    """Each log's zero-row seeds: a JSON file, and a Parquet file typed like its folded months
    (rewritten each time, like the staged files' seeds: its schema comes from the code)."""
    import duckdb

    logs = [*event_logs(zones).values(), (ledger_dir(zones), LEDGER_COLUMNS)]
    with duckdb.connect() as connection:
        for folder, columns in logs:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            seed = folder / f"{SEED_FOLDER}.json"
            seed.touch()
            copy_atomically(connection, f"SELECT * FROM {json_records(seed, columns)}", {},
                            folder / f"{SEED_FOLDER}.parquet")


def create_log_views(connection, zones: DataZones) -> None:
    """Only the views `drop_log` and `validation_log` (what the scorecard and the freshness checks
    read): no staged files' seeds to write, no staged Parquet footers to read."""
    _seed_logs(zones)
    for view in ("drop_log", "validation_log"):
        connection.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM {log_records(*event_logs(zones)[view])}")


def create_restricted_views(connection, zones: DataZones) -> list[str]:
    """(Re)create the views; returns their names."""
    seed_staging(zones)
    views = []
    for dataset in CONTRACTS:
        for stage in ("collected", "validated", "quarantine"):
            name = f"{stage}_{dataset}"
            connection.execute(
                f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet("
                f"{sql_text(str(staged_glob(zones, stage, dataset)))}, union_by_name = true)")
            views.append(name)
    connection.execute(
        f"CREATE OR REPLACE VIEW rejected_rows AS SELECT * FROM read_parquet({sql_text(str(rejected_rows_glob(zones)))}, "
        "union_by_name = true)")
    create_log_views(connection, zones)
    connection.execute(
        "CREATE OR REPLACE VIEW drop_rejections AS SELECT recorded_at, provider_code, dataset, source_file, "
        "reason, content_sha256, archive_path FROM drop_log WHERE status = 'rejected'")
    # what arrived, per provider and dataset, and the state of its latest version: a version
    # validation quarantined whole is 'quarantined', with the validation's reason
    connection.execute("""
        CREATE OR REPLACE VIEW drop_status AS
        WITH latest AS (
            SELECT * FROM drop_log
            QUALIFY row_number() OVER (PARTITION BY source_file ORDER BY recorded_at DESC) = 1),
        verdicts AS (
            SELECT source_file, content_sha256, quarantined_whole, reason, report_path FROM validation_log
            QUALIFY row_number() OVER (PARTITION BY source_file, content_sha256 ORDER BY recorded_at DESC) = 1)
        SELECT l.provider_code, l.dataset, l.source_file,
               CASE WHEN l.status = 'collected' AND v.quarantined_whole THEN 'quarantined' ELSE l.status END AS status,
               CASE WHEN l.status = 'collected' AND v.quarantined_whole THEN v.reason ELSE l.reason END AS reason,
               l.rows_accepted, l.rows_rejected, l.recorded_at AS last_event_at, l.content_sha256,
               v.report_path AS validation_report
        FROM latest l LEFT JOIN verdicts v USING (source_file, content_sha256)""")
    for view in ("privacy_reports", "key_usage"):
        connection.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM {log_records(*event_logs(zones)[view])}")
    # the 가명정보 processing ledger (datalab/ledger.py), for an auditor: folded by each release
    ledger = log_records(ledger_dir(zones), LEDGER_COLUMNS, id_column=ENTRY_ID)
    connection.execute(f"CREATE OR REPLACE VIEW processing_ledger AS SELECT * FROM {ledger}")

    connection.execute(f"CREATE OR REPLACE VIEW provider_scorecard AS {scorecard_sql()}")
    return views + ["rejected_rows", "drop_log", "drop_rejections", "drop_status", "validation_log",
                    "privacy_reports", "key_usage", "processing_ledger", "provider_scorecard"]
