"""The drop log: one JSON record per handled file (collected or rejected), never overwritten.

Records are small files in the restricted zone, so runs on any machine can append without
touching a shared database; the restricted warehouse reads them as the `drop_log` view.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from gn_pipelines.seoul_time import now_in_seoul, seoul_iso, seoul_stamp
from gn_pipelines.unfinished_writes import write_text_atomically

DROP_LOG_FIELDS = (
    "event_id", "recorded_at", "dataset", "provider_code", "source_file", "file_name",
    "partition_key", "content_sha256", "size_bytes", "archive_path", "status", "reason",
    "file_format", "encoding", "rows_read", "rows_accepted", "rows_rejected", "unknown_columns",
    "run_id", "delivered_at",
)


def drop_log_dir(restricted_root: Path) -> Path:
    return restricted_root / "drop_log"


def record_drop(restricted_root: Path, **fields) -> dict:
    """Append one record; unknown fields are refused so the table keeps one shape."""
    unexpected = set(fields) - set(DROP_LOG_FIELDS)
    if unexpected:
        raise ValueError(f"unknown drop-log fields: {sorted(unexpected)}")
    record = {name: None for name in DROP_LOG_FIELDS} | fields
    record["unknown_columns"] = list(record["unknown_columns"] or [])
    return append_record(drop_log_dir(restricted_root), record)


def append_record(directory: Path, record: dict) -> dict:
    """Write `record` as a new JSON file in `directory` (atomically), stamped and given an id."""
    recorded_at = now_in_seoul()  # in the file and its name: people browse these folders too
    record["event_id"] = record.get("event_id") or uuid.uuid4().hex
    record["recorded_at"] = seoul_iso(recorded_at)
    target = directory / f"{seoul_stamp(recorded_at)}_{record['event_id'][:12]}.json"
    # its partial carries its writer: a killed writer's is removed by the next process recording here
    write_text_atomically(target, json.dumps(record, ensure_ascii=False))
    return record
