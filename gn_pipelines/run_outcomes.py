"""What a run's outcome says: one line per file (a batch run has several), and whether its data
was stopped.

Shared by `process` run in this process (processing.py) and runs handed to the instance's queue
(submission.py), so both report a drop the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import dagster as dg

@dataclass(frozen=True)
class RunOutcome:
    label: str  # the landing path, or the job for a set-up run
    success: bool
    line: str
    stopped: bool = False  # its drop was stopped by a blocking check (a data verdict, not a failure)
    trace: str = ""  # a real failure's error with its stack trace, for the console
    claimed_elsewhere: bool = False  # another process (or machine) runs or ran it: not run here
    set_aside: bool = False  # (with claimed_elsewhere) gone or unreadable when its batch came to it
    run_id: str = ""  # the Dagster run it comes from ("" when none ran here); a batch's files share it
    about_file: bool = True  # False for a set-up run or the publication

    @property
    def interrupted(self) -> bool:
        """Its run was stopped by Ctrl-C or SIGTERM: the command stops too."""
        return INTERRUPTED in self.trace

    @property
    def worker_died(self) -> bool:
        """The worker process running it died (`process --workers N`): the run never finished."""
        return WORKER_DIED in self.line


INTERRUPTED = "DagsterExecutionInterruptedError"
WORKER_DIED = ("a worker process died (killed, or out of memory) before its run finished; "
               "the next `process` runs its files again")


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


def _materialized(result) -> dict[str, dict]:
    by_asset = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        by_asset[materialization.asset_key.path[-1]] = {
            k: v.value for k, v in materialization.metadata.items()}
    return by_asset


def describe(result: dg.ExecuteInProcessResult) -> str:
    """The line of a run of one file (a rejection, or a batch of one)."""
    lines = describe_files(result)
    if len(lines) == 1:
        return lines[0][1]
    by_asset = _materialized(result)
    rejected = next((m for m in by_asset.values() if m.get("status") in ("rejected", "duplicate")), None)
    if rejected is not None:
        return f"{rejected['status']}: {rejected.get('rejection_reason')}"
    return "done"


def describe_files(result) -> list[tuple[str, str, bool]]:
    """One line per file of a batch run: what collection accepted, then what validation passed
    and stopped; with whether the file was stopped (rejected, or quarantined whole)."""
    by_asset = _materialized(result)
    collected = next((m for name, m in by_asset.items() if name.startswith("collected_")), None)
    validated = next((m for name, m in by_asset.items() if name.startswith("validated_")), None)
    if collected is None or "files" not in collected:
        return []
    validated_by_file = {f["source_file"]: f for f in (validated or {}).get("files") or []}
    return [(f["source_file"], *file_line(f, validated_by_file.get(f["source_file"])))
            for f in collected["files"]]


def file_line(collected: dict, validated: dict | None) -> tuple[str, bool]:
    if collected.get("status") == "rejected":
        return f"rejected: {collected.get('rejection_reason')}", True
    line = f"{collected.get('rows_accepted', 0)} rows accepted, {collected.get('rows_rejected', 0)} rows rejected"
    reasons = collected.get("rejections_by_reason") or {}
    if reasons:
        line += " (" + ", ".join(f"{code} ×{count}" for code, count in reasons.items()) + ")"
    if validated is not None:
        line += "; " + validation_line(validated)
    warnings = collected.get("warnings") or []  # e.g. stations outside the registry
    if warnings:
        line += "; warnings: " + " | ".join(warnings)
    return line, bool(validated and validated.get("quarantined_whole"))


def validation_line(validated: dict) -> str:
    failed = sorted(validated.get("failed_checks") or [])
    if validated.get("quarantined_whole"):
        line = f"QUARANTINED WHOLE ({validated.get('reason')})"
    else:
        line = f"{validated.get('rows_passed', 0)} rows passed, {validated.get('rows_quarantined', 0)} quarantined"
    line += f"; failed checks: {', '.join(failed) or 'none'}"
    if failed and validated.get("report"):
        line += f"; report: {validated['report']}"
    return line


def request_labels(request: dg.RunRequest) -> list[str]:
    """The files a request is about (one line each), or its job for a set-up run."""
    from gn_pipelines.sensors import batch_files

    files = batch_files(request)
    if files:
        return [f.relative for f in files]
    return [request.tags.get("gn/source_file", request.job_name)]


def held_elsewhere(result) -> dict[str, RunOutcome]:
    """The files of a batch run that another run held or had loaded (its claim step left them
    out), or that were gone or unreadable when it came to archive them (set aside): landing path
    → its outcome, from the collection check's result."""
    from gn_pipelines.assets.collection import HELD_ELSEWHERE_METADATA

    for evaluation in result.get_asset_check_evaluations():
        entry = (evaluation.metadata or {}).get(HELD_ELSEWHERE_METADATA)
        if entry is not None:
            return {f["source_file"]: replace(skipped_outcome(f["source_file"], f["reason"]), run_id=result.run_id,
                                              set_aside=bool(f.get("set_aside")))
                    for f in entry.value}
    return {}


def skipped_outcome(label: str, reason: str) -> RunOutcome:
    """Not run here: another process (or machine) runs or ran it."""
    return RunOutcome(label, True, f"{label}: skipped: {reason}", claimed_elsewhere=True)


def outcomes_of_run(labels: list[str], result, *, stopped_run: bool) -> list[RunOutcome]:
    """One outcome per file of a finished run (success, or stopped by a blocking check)."""
    elsewhere = held_elsewhere(result)
    lines = {name: (line, stopped) for name, line, stopped in describe_files(result)}
    if not lines and not elsewhere:  # a run about one file that is not a batch (a rejection) or a set-up run
        return [RunOutcome(labels[0], True, f"{labels[0]}: {describe(result)}", stopped=stopped_run,
                           run_id=result.run_id)]
    return [elsewhere[label] if label in elsewhere else
            RunOutcome(label, True, f"{label}: {lines[label][0]}" if label in lines else f"{label}: done",
                       stopped=lines.get(label, ("", stopped_run))[1] or stopped_run, run_id=result.run_id)
            for label in labels]


def failed_outcomes(labels: list[str], cause: str, trace: str = "", result=None) -> list[RunOutcome]:
    """A run that failed for real: every file of it says so (the trace once), but those its
    claim step left to another run (`result`: the run, when there is one)."""
    elsewhere = held_elsewhere(result) if result is not None else {}
    ours = [label for label in labels if label not in elsewhere]
    run_id = result.run_id if result is not None else ""
    return [elsewhere[label] if label in elsewhere else
            RunOutcome(label, False, f"{label}: FAILED ({cause})", trace=trace if label == ours[0] else "",
                       run_id=run_id)
            for label in labels]


def about_run(outcomes: list[RunOutcome]) -> list[RunOutcome]:
    """The outcomes of a run that is about no file (a set-up run, the publication)."""
    return [replace(outcome, about_file=False) for outcome in outcomes]


def summary(outcomes: list[RunOutcome]) -> str:
    """The last line of `process`: the files and the Dagster runs it handled (a batch run holds
    several files), then how many of them failed or were stopped by a blocking check."""
    ours = [o for o in outcomes if not o.claimed_elsewhere]
    files = sum(o.about_file for o in ours)
    runs = len({o.run_id for o in outcomes if o.run_id})  # a batch run may have left all its files to others
    failed = sum(not o.success for o in ours)
    stopped = sum(o.stopped for o in ours)
    set_aside = sum(o.set_aside for o in outcomes)
    elsewhere = len(outcomes) - len(ours) - set_aside
    return (f"{files} file(s) in {runs} run(s), {failed} failed"
            + (f", {stopped} stopped by a blocking check" if stopped else "")
            + (f", {elsewhere} left to another process" if elsewhere else "")
            + (f", {set_aside} set aside (gone or unreadable: loaded when found again)" if set_aside else ""))


def is_drop(request: dg.RunRequest) -> bool:
    """A request about delivered files (a batch, or a file rejected before collection)."""
    return "gn/source_file" in request.tags or "gn/batch" in request.tags
