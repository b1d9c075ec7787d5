"""The validation log: one JSON record per validation, never overwritten (read by the
scorecard and the restricted warehouse's `validation_log` view)."""

from __future__ import annotations

from pathlib import Path

from gn_pipelines.ingest.drop_log import append_record
from gn_pipelines.settings import DataZones

VALIDATION_LOG_COLUMNS = {
    "event_id": "VARCHAR", "recorded_at": "TIMESTAMPTZ", "dataset": "VARCHAR",
    "provider_code": "VARCHAR", "source_file": "VARCHAR", "content_sha256": "VARCHAR",
    "rows_validated": "BIGINT", "rows_passed": "BIGINT", "rows_quarantined": "BIGINT",
    "rows_rejected_at_collection": "BIGINT", "rows_with_warnings": "BIGINT",
    "quarantined_whole": "BOOLEAN", "reason": "VARCHAR", "failed_checks": "VARCHAR[]",
    "report_path": "VARCHAR", "run_id": "VARCHAR", "period_end": "DATE",
}


def validation_log_dir(zones: DataZones) -> Path:
    return zones.restricted / "quality" / "validation_log"


def record_validation(zones: DataZones, outcome, *, content_sha256: str | None, run_id: str) -> dict:
    from gn_pipelines.quality.reports import failed_checks

    return append_record(validation_log_dir(zones), {
        "dataset": outcome.dataset, "provider_code": outcome.provider_code,
        "source_file": outcome.source_file, "content_sha256": content_sha256,
        "rows_validated": outcome.rows_in, "rows_passed": outcome.rows_passed,
        "rows_quarantined": outcome.rows_quarantined,
        "rows_rejected_at_collection": outcome.rows_rejected_at_collection,
        "rows_with_warnings": outcome.rows_with_warnings,
        "quarantined_whole": outcome.quarantined_whole, "reason": outcome.reason,
        "failed_checks": failed_checks(outcome),  # the drop-level ones too, as the UI and `process` name them
        "report_path": str(outcome.report_path) if outcome.report_path else None, "run_id": run_id,
        "period_end": outcome.period_end.isoformat() if outcome.period_end else None,
    })
