"""What a run's outcome says: one line per file, and whether its data was stopped.

Shared by `process` run in this process (processing.py) and runs handed to the instance's queue
(submission.py), so both report a drop the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

@dataclass(frozen=True)
class RunOutcome:
    label: str  # the landing path, or the job for a set-up run
    success: bool
    line: str
    stopped: bool = False  # its drop was stopped by a blocking check (a data verdict, not a failure)
    trace: str = ""  # a real failure's error with its stack trace, for the console
    claimed_elsewhere: bool = False  # another process (or machine) runs or ran it: not run here

    @property
    def interrupted(self) -> bool:
        """Its run was stopped by Ctrl-C or SIGTERM: the command stops too."""
        return INTERRUPTED in self.trace


INTERRUPTED = "DagsterExecutionInterruptedError"


# The console shows only warnings and errors: the one line per file is the report, and every
# event is still recorded in the instance (the Runs page of the UI).
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
# A drop's run logs nothing on the console: a quarantined or rejected drop is an outcome, said
# in its one line, not an ERROR with a stack trace; a real failure's trace is printed by us.
SILENT_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}

OUTCOME_TAG = "gn/outcome"
QUARANTINED = "quarantined"


def trace_of(failure) -> str:
    """The failed step's error with its stack trace (and causes), as Dagster would log it."""
    if failure is None:
        return ""
    return f"{failure.step_key}: " + failure.step_failure_data.error.to_string()


def stopped_by_blocking_check(result: dg.ExecuteInProcessResult) -> bool:
    """True when every failed step failed only because a blocking ERROR check failed."""
    failures = [e for e in result.all_events if e.is_step_failure]
    blocked = [e for e in result.get_asset_check_evaluations()
               if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR]
    return bool(blocked) and all(
        "DagsterAssetCheckFailedError" in (f.step_failure_data.error.cls_name or "") for f in failures)


def root_cause(failure) -> str:
    if failure is None:
        return "run failed"
    error = failure.step_failure_data.error
    while error.cause is not None:
        error = error.cause
    return error.message.strip().splitlines()[0]


def describe(result: dg.ExecuteInProcessResult) -> str:
    """One line per file: what collection accepted, then what validation passed and stopped."""
    by_asset = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        by_asset[materialization.asset_key.path[-1]] = {
            k: v.value for k, v in materialization.metadata.items()}
    collected = next((m for name, m in by_asset.items() if name.startswith("collected_")), None)
    validated = next((m for name, m in by_asset.items() if name.startswith("validated_")), None)
    rejected = next((m for m in by_asset.values() if m.get("status") in ("rejected", "duplicate")), None)
    if collected is None and rejected is not None:
        return f"{rejected['status']}: {rejected.get('rejection_reason')}"
    if collected is None:
        return "done"
    if collected.get("status") == "rejected":
        return f"rejected: {collected.get('rejection_reason')}"
    line = f"{collected.get('dagster/row_count', 0)} rows accepted, {collected.get('rows_rejected', 0)} rows rejected"
    reasons = collected.get("rejections_by_reason") or {}
    if reasons:
        line += " (" + ", ".join(f"{code} ×{count}" for code, count in reasons.items()) + ")"
    if validated is not None:
        line += "; " + validation_line(result, validated)
    warnings = collected.get("warnings")  # e.g. stations outside the registry (a Markdown list)
    if warnings and warnings != "none":
        line += "; warnings: " + " | ".join(w.removeprefix("- ") for w in warnings.splitlines())
    return line


def validation_line(result: dg.ExecuteInProcessResult, validated: dict) -> str:
    failed = sorted({e.check_name for e in result.get_asset_check_evaluations()
                     if not e.passed and e.asset_key.path[-1].startswith("validated_")})
    if validated.get("quarantined_whole"):
        line = f"QUARANTINED WHOLE ({validated.get('quarantine_reason')})"
    else:
        line = f"{validated.get('rows_passed', 0)} rows passed, {validated.get('rows_quarantined', 0)} quarantined"
    line += f"; failed checks: {', '.join(failed) or 'none'}"
    if failed and validated.get("report"):
        line += f"; report: {validated['report']}"
    return line


def is_drop(request: dg.RunRequest) -> bool:
    return "gn/source_file" in request.tags
