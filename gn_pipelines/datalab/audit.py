"""The data lab's audit trail: every request, granted or refused, in `datalab/audit.duckdb`.

Append-only by construction: this module only creates the table and inserts into it.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from gn_pipelines.datalab.request import ExtractRequest
from gn_pipelines.ingest.parquet_io import PORTABLE_STORAGE

AUDIT_TABLE = "extract_requests"
_CREATE = f"""
CREATE TABLE IF NOT EXISTS {AUDIT_TABLE} (
    request_id VARCHAR NOT NULL, recorded_at TIMESTAMPTZ NOT NULL, requester VARCHAR, purpose VARCHAR,
    table_name VARCHAR, columns VARCHAR[], filters VARCHAR, group_by VARCHAR[],
    decision VARCHAR NOT NULL, reason VARCHAR, rows BIGINT, suppressed_cells INTEGER, output_dir VARCHAR)
"""
# Two extracts finishing together contend for DuckDB's single-writer lock: wait, do not fail.
_LOCK_WAIT_SECONDS = 30.0


def record_request(audit_db: Path, request: ExtractRequest, *, decision: str, reason: str | None,
                   rows: int = 0, suppressed_cells: int = 0, output_dir: Path | None = None) -> None:
    """Append one request and its outcome (decision: granted, refused or failed)."""
    audit_db.parent.mkdir(parents=True, exist_ok=True)
    values = [request.request_id, datetime.now(timezone.utc), request.requester, request.purpose,
              request.table, list(request.columns),
              json.dumps([[f.column, f.operator, f.value] for f in request.filters], ensure_ascii=False, default=str),
              list(request.group_by), decision, reason, rows, suppressed_cells,
              str(output_dir) if output_dir else None]
    deadline = time.monotonic() + _LOCK_WAIT_SECONDS
    while True:
        try:
            with duckdb.connect(str(audit_db), config=PORTABLE_STORAGE) as connection:
                connection.execute(_CREATE)
                connection.execute(f"INSERT INTO {AUDIT_TABLE} VALUES ({', '.join('?' * len(values))})", values)
            return
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
