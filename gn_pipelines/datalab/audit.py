"""The data lab's audit trail in `datalab/audit.duckdb`: every request and every change of its
state (submitted, granted, refused, pending review, rejected, destroyed), the adequacy reviews,
and the cells each grouped extract released (what the differencing check compares against).

Append-only by construction: this module only creates tables and inserts into them. A request's
state is its latest event.
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Iterator

import duckdb

from gn_pipelines.datalab.request import ExtractRequest
from gn_pipelines.ingest.parquet_io import PORTABLE_STORAGE

AUDIT_TABLE = "extract_requests"
REVIEW_TABLE = "adequacy_reviews"
CELLS_TABLE = "released_cells"
_CREATE = (f"""
CREATE TABLE IF NOT EXISTS {AUDIT_TABLE} (
    request_id VARCHAR NOT NULL, recorded_at TIMESTAMPTZ NOT NULL, requester VARCHAR, purpose VARCHAR,
    table_name VARCHAR, columns VARCHAR[], filters VARCHAR, group_by VARCHAR[],
    decision VARCHAR NOT NULL, reason VARCHAR, rows BIGINT, suppressed_cells INTEGER, output_dir VARCHAR)
""", *(f"ALTER TABLE {AUDIT_TABLE} ADD COLUMN IF NOT EXISTS {column}" for column in (
    "organisation VARCHAR", "period_days INTEGER", "privacy_class VARCHAR", "expires_on DATE",
    "reviewer VARCHAR", "evidence VARCHAR", "request VARCHAR")), f"""
CREATE TABLE IF NOT EXISTS {REVIEW_TABLE} (
    request_id VARCHAR NOT NULL, reviewed_at TIMESTAMPTZ NOT NULL, reviewer VARCHAR NOT NULL,
    verdict VARCHAR NOT NULL, note VARCHAR, evidence VARCHAR)
""", f"""
CREATE TABLE IF NOT EXISTS {CELLS_TABLE} (
    request_id VARCHAR NOT NULL, requester VARCHAR, organisation VARCHAR, table_name VARCHAR,
    group_by VARCHAR, cell VARCHAR, count BIGINT)
""")
# Two extracts finishing together contend for DuckDB's single-writer lock: wait, do not fail.
_LOCK_WAIT_SECONDS = 30.0


@contextmanager
def _writing(audit_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    audit_db.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + _LOCK_WAIT_SECONDS
    while True:
        try:
            connection = duckdb.connect(str(audit_db), config=PORTABLE_STORAGE)
            break
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    try:
        for statement in _CREATE:
            connection.execute(statement)
        yield connection
    finally:
        connection.close()


def record_request(audit_db: Path, request: ExtractRequest, *, decision: str, reason: str | None,
                   rows: int = 0, suppressed_cells: int = 0, output_dir: Path | None = None,
                   expires_on: date | None = None, reviewer: str | None = None,
                   evidence: dict | None = None, cells: list[tuple[str, int]] | None = None) -> None:
    """Append one event of a request (decision: granted, refused, failed, pending_review, rejected,
    destroyed); with `cells`, the grouped cells it released (cell as JSON, count)."""
    period = request.period_days if isinstance(request.period_days, int) else None
    values = [request.request_id, datetime.now(timezone.utc), request.requester, request.purpose,
              request.table, list(request.columns),
              json.dumps([[f.column, f.operator, f.value] for f in request.filters], ensure_ascii=False, default=str),
              list(request.group_by), decision, reason, rows, suppressed_cells,
              str(output_dir) if output_dir else None, request.organisation, period, request.privacy_class,
              expires_on, reviewer, json.dumps(evidence, ensure_ascii=False, default=str) if evidence else None,
              json.dumps(request.as_mapping(), ensure_ascii=False, default=str)]
    with _writing(audit_db) as connection:
        names = [row[0] for row in connection.execute(f"DESCRIBE {AUDIT_TABLE}").fetchall()]
        connection.execute(f"INSERT INTO {AUDIT_TABLE} ({', '.join(names)}) VALUES ({', '.join('?' * len(values))})",
                           values)
        if cells:
            key = ",".join(sorted(request.group_by))
            connection.executemany(f"INSERT INTO {CELLS_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)", [
                [request.request_id, request.requester, request.organisation, request.table, key, cell, count]
                for cell, count in cells])


def record_review(audit_db: Path, request_id: str, *, reviewer: str, verdict: str, note: str,
                  evidence: dict) -> None:
    """Append an adequacy review (적정 / 부적정) with the evidence of the automatic checks."""
    with _writing(audit_db) as connection:
        connection.execute(f"INSERT INTO {REVIEW_TABLE} VALUES (?, ?, ?, ?, ?, ?)", [
            request_id, datetime.now(timezone.utc), reviewer, verdict, note,
            json.dumps(evidence, ensure_ascii=False, default=str)])


@dataclass(frozen=True)
class RequestState:
    request_id: str
    decision: str  # the latest event
    recorded_at: datetime
    requester: str
    organisation: str | None
    table_name: str
    privacy_class: str | None
    expires_on: date | None
    output_dir: str | None
    reviewer: str | None
    reason: str | None
    request: dict | None  # the request as submitted (parsed again at review)
    evidence: dict | None


def request_states(audit_db: Path) -> list[RequestState]:
    """Every request in its latest state, oldest first (empty before the first request)."""
    if not audit_db.exists():
        return []
    with _writing(audit_db) as connection:  # also upgrades an older audit file
        rows = connection.execute(f"""
            SELECT request_id, decision, recorded_at, requester, organisation, table_name, privacy_class,
                   expires_on, output_dir, reviewer, reason, request, evidence,
                   min(recorded_at) OVER (PARTITION BY request_id) AS first_at
            FROM {AUDIT_TABLE}
            QUALIFY row_number() OVER (PARTITION BY request_id ORDER BY recorded_at DESC) = 1
            ORDER BY first_at, request_id""").fetchall()
    return [RequestState(*row[:11], json.loads(row[11]) if row[11] else None,
                         json.loads(row[12]) if row[12] else None) for row in rows]


def latest_grant(audit_db: Path, request_id: str) -> RequestState | None:
    """The request's latest `granted` event still in force (not destroyed since)."""
    states = {s.request_id: s for s in request_states(audit_db)}
    state = states.get(request_id)
    return state if state is not None and state.decision == "granted" else None


def earlier_cells(audit_db: Path, request: ExtractRequest) -> list[tuple[str, str, int]]:
    """(request id, cell, count) of the visible cells released earlier to the same requester and
    organisation from the same table and group-by columns."""
    if not audit_db.exists():
        return []
    with _writing(audit_db) as connection:
        return connection.execute(
            f"SELECT request_id, cell, count FROM {CELLS_TABLE} WHERE requester = ? "
            f"AND coalesce(organisation, '') = ? AND table_name = ? AND group_by = ? AND request_id <> ?",
            [request.requester, request.organisation, request.table, ",".join(sorted(request.group_by)),
             request.request_id]).fetchall()
