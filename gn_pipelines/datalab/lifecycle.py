"""After a request: the adequacy review (적정성 검토) of a pending 가명정보 extract, the list of
requests, and the destruction of extracts whose period has ended (PIPC 가명정보 처리 가이드라인:
use for the stated period only, then destroy, and keep the record of it).
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from gn_pipelines.datalab.audit import RequestState, record_request, record_review, request_states
from gn_pipelines.datalab.extract import GRANTED, REFUSED, ExtractOutcome, _extract, _Refused, audit_db
from gn_pipelines.datalab.ledger import DESTRUCTION, EXTRACT, LedgerEntry, append_entry
from gn_pipelines.datalab.request import ExtractRequest, parse_request
from gn_pipelines.publish.tables import PSEUDONYMOUS, published_table
from gn_pipelines.seoul_time import today_in_seoul
from gn_pipelines.settings import DataZones

APPROVED, NOT_APPROVED = "적정", "부적정"


class ReviewRefused(Exception):
    """The review itself is not allowed (self-review, unknown or already decided request)."""


def same_person(reviewer: str, requester: str) -> bool:
    """Names compared without spacing, case or the organisation in brackets ("김분석 (센터)" = "김 분석")."""
    def person(name: str) -> str:
        return re.sub(r"\s+", "", re.sub(r"[(\[].*", "", name)).casefold()

    return person(reviewer) == person(requester) or reviewer.strip().casefold() == requester.strip().casefold()


def review_request(zones: DataZones, request_id: str, *, reviewer: str, approve: bool, note: str) -> ExtractOutcome:
    """Record an adequacy review of a pending request; on 적정, re-run the checks and extract."""
    state = _pending(zones, request_id)
    request = _stored_request(state)
    if not reviewer.strip() or not note.strip():
        raise ReviewRefused("a review names its reviewer and gives its reasons (--note)")
    if same_person(reviewer, request.requester):
        raise ReviewRefused(f"{reviewer} requested {request_id}: a request is reviewed by someone else")
    evidence = state.evidence or {}
    if not approve:
        record_review(audit_db(zones), request_id, reviewer=reviewer, verdict=NOT_APPROVED, note=note, evidence=evidence)
        record_request(audit_db(zones), request, decision="rejected", reason=note, reviewer=reviewer, evidence=evidence)
        return ExtractOutcome(request_id, "rejected", note, None, (), 0, 0, evidence=evidence)
    record_review(audit_db(zones), request_id, reviewer=reviewer, verdict=APPROVED, note=note, evidence=evidence)
    try:
        outcome = _extract(request, zones, published_table(request.table), reviewer=reviewer)
    except _Refused as refusal:  # the published data changed since the request: checked again
        record_request(audit_db(zones), request, decision="refused", reason=str(refusal), reviewer=reviewer,
                       evidence=refusal.evidence)
        return ExtractOutcome(request_id, REFUSED, str(refusal), None, (), 0, 0, evidence=refusal.evidence)
    if outcome.status == GRANTED and request.privacy_class == PSEUDONYMOUS:
        _ledger_extract(zones, request, outcome, reviewer)
    return outcome


def _pending(zones: DataZones, request_id: str) -> RequestState:
    state = next((s for s in request_states(audit_db(zones)) if s.request_id == request_id), None)
    if state is None:
        raise ReviewRefused(f"no request {request_id}")
    if state.decision != "pending_review":
        raise ReviewRefused(f"{request_id} is {state.decision}, not pending review")
    return state


def _stored_request(state: RequestState) -> ExtractRequest:
    return parse_request(state.request or {})


def _ledger_extract(zones: DataZones, request: ExtractRequest, outcome: ExtractOutcome, reviewer: str) -> None:
    from gn_pipelines.privacy.deidentify import release_key_id

    table = published_table(request.table)
    key_ids = sorted({k for d in table.source_datasets if (k := release_key_id(zones, d))})
    append_entry(zones, LedgerEntry(
        EXTRACT, request.request_id, request.purpose,
        items=tuple(f"{table.name}.{c}" for c in request.columns),
        recipient=f"{request.requester} ({request.organisation})", period_start=today_in_seoul().isoformat(),
        period_end=outcome.expires_on.isoformat() if outcome.expires_on else None, reviewer=reviewer,
        verdict=APPROVED, key_id=", ".join(key_ids) or None,
        destruction_due=outcome.expires_on.isoformat() if outcome.expires_on else None))


@dataclass(frozen=True)
class Destruction:
    request_id: str
    directory: str | None
    files: int
    expires_on: date


def destroy_expired(zones: DataZones, now: date | None = None) -> list[Destruction]:
    """Destroy every granted extract whose period has ended by `now` (default: today in Seoul),
    record it in the audit trail and, for 가명정보, in the processing ledger."""
    now = now or today_in_seoul()
    destroyed = []
    for state in request_states(audit_db(zones)):
        if state.decision != GRANTED or state.expires_on is None or state.expires_on > now:
            continue
        files = shred_directory(Path(state.output_dir)) if state.output_dir else 0
        request = _stored_request(state)
        record_request(audit_db(zones), request, decision="destroyed",
                       reason=f"use period ended {state.expires_on.isoformat()}; {files} file(s) overwritten and deleted",
                       output_dir=Path(state.output_dir) if state.output_dir else None, expires_on=state.expires_on)
        if state.privacy_class == PSEUDONYMOUS:
            append_entry(zones, LedgerEntry(DESTRUCTION, state.request_id, request.purpose,
                                            recipient=f"{request.requester} ({request.organisation})",
                                            destruction_due=state.expires_on.isoformat(),
                                            destroyed_on=now.isoformat()))
        destroyed.append(Destruction(state.request_id, state.output_dir, files, state.expires_on))
    return destroyed


def shred_directory(directory: Path) -> int:
    """Overwrite every file with random bytes, fsync, delete it, then the folder; the number of files.

    Irrecoverable on the file system as far as the platform can make it: on copy-on-write or
    flash storage the old blocks may survive, so the data lab belongs on an encrypted volume
    (docs/privacy-governance.md)."""
    if not directory.exists():
        return 0
    count = 0
    for path in sorted(directory.rglob("*"), reverse=True):
        if path.is_file() and not path.is_symlink():
            size = path.stat().st_size
            with open(path, "r+b") as handle:
                remaining = size
                while remaining:
                    chunk = min(remaining, 1 << 20)
                    handle.write(os.urandom(chunk))
                    remaining -= chunk
                handle.flush()
                os.fsync(handle.fileno())
            path.unlink()
            count += 1
        elif path.is_symlink():
            path.unlink()
    shutil.rmtree(directory)
    return count


def list_requests(zones: DataZones) -> list[RequestState]:
    return request_states(audit_db(zones))
