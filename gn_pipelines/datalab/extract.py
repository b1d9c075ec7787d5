"""Run a data-lab extract: check it, query the published warehouse read-only, suppress small
cells, run the risk checks, then either write the extract and its privacy note to
`datalab/<request id>/` (counts, and rows of 익명정보/통계 tables: at once) or hold it for an
adequacy review (rows of a 가명정보 table: nothing is written until a reviewer who is not the
requester approves). Every outcome is audited; an extract lives until its period ends.
"""

from __future__ import annotations

import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Iterator

import duckdb

from gn_pipelines.contracts.generalisation import quote
from gn_pipelines.datalab.audit import record_request
from gn_pipelines.datalab.privacy_note import privacy_note
from gn_pipelines.datalab.risk import PEOPLE, PERSON, failed_checks, risk_evidence, visible_cells
from gn_pipelines.datalab.request import ExtractRequest, refusal_reason
from gn_pipelines.ingest.casting import sql_text
from gn_pipelines.ingest.parquet_io import scratch_connection
from gn_pipelines.privacy.anonymity import person_hash
from gn_pipelines.publish.open_data import write_csv_with_bom
from gn_pipelines.publish.suppression import possible_cells, suppress_small_cells
from gn_pipelines.publish.tables import SMALL_CELL_THRESHOLD, PublishedTable, published_table
from gn_pipelines.seoul_time import today_in_seoul
from gn_pipelines.settings import DataZones

AUDIT_DB_NAME = "audit.duckdb"
# A grouped extract is completed with its empty cells (so that they hide too): bounded.
MAX_GROUPED_CELLS = 200_000


GRANTED, PENDING, REFUSED = "granted", "pending review", "refused"


@dataclass(frozen=True)
class ExtractOutcome:
    request_id: str
    status: str  # GRANTED, PENDING or REFUSED
    reason: str | None  # why it was refused
    directory: Path | None
    files: tuple[Path, ...]
    rows: int
    suppressed_cells: int  # primary + secondary
    secondary_suppressed_cells: int = 0
    expires_on: date | None = None
    evidence: dict | None = None  # the automatic risk checks

    @property
    def granted(self) -> bool:
        return self.status == GRANTED

    @property
    def line(self) -> str:
        """What `gn-pipelines extract` prints."""
        return f"{self.request_id}: {self.status}" + (f" ({self.reason})" if self.reason else "")


def audit_db(zones: DataZones) -> Path:
    return zones.datalab / AUDIT_DB_NAME


def run_extract(request: ExtractRequest, zones: DataZones) -> ExtractOutcome:
    """Grant, hold for review or refuse the request; a refusal is an outcome (audited), never an exception."""
    reason = refusal_reason(request) or _reused_id_reason(request, zones)
    if reason is None and not zones.published_db.exists():
        reason = "the published warehouse does not exist yet"
    if reason is not None:
        return _refuse(request, zones, reason)
    try:
        if request.needs_review:
            return _hold_for_review(request, zones)
        outcome = _extract(request, zones, published_table(request.table))
    except _Refused as refusal:
        return _refuse(request, zones, str(refusal), getattr(refusal, "evidence", None))
    except BaseException as error:
        record_request(audit_db(zones), request, decision="failed", reason=f"{type(error).__name__}: {error}")
        raise
    return outcome


def _reused_id_reason(request: ExtractRequest, zones: DataZones) -> str | None:
    """A request id names one request: another request may not take over its folder or history."""
    from gn_pipelines.datalab.audit import request_states
    from gn_pipelines.datalab.request import parse_request

    earlier = next((s for s in request_states(audit_db(zones)) if s.request_id == request.request_id), None)
    if earlier is None or earlier.request is None or earlier.decision == "refused":
        return None
    if parse_request(earlier.request).canonical() != request.canonical():
        return f"request_id {request.request_id!r} is already used by another request ({earlier.decision})"
    return None


class _Refused(Exception):
    def __init__(self, reason: str, evidence: dict | None = None):
        super().__init__(reason)
        self.evidence = evidence


def refuse(request: ExtractRequest, zones: DataZones, reason: str) -> ExtractOutcome:
    """Refuse and audit a request that cannot even be submitted (e.g. a field the form does not know)."""
    return _refuse(request, zones, reason)


def _refuse(request: ExtractRequest, zones: DataZones, reason: str, evidence: dict | None = None) -> ExtractOutcome:
    record_request(audit_db(zones), request, decision="refused", reason=reason, evidence=evidence)
    return ExtractOutcome(request.request_id, REFUSED, reason, None, (), 0, 0, evidence=evidence)


@contextmanager
def _published(zones: DataZones) -> Iterator[duckdb.DuckDBPyConnection]:
    # in memory, bounded, spilling into a work directory of the scratch zone (a killed extract's
    # spill goes with the next process working there); the published file attached read-only
    with scratch_connection(zones.scratch, prefix="datalab-") as connection:
        connection.execute(f"ATTACH {sql_text(str(zones.published_db))} AS published (READ_ONLY)")
        yield connection


def _checked(connection, request: ExtractRequest, zones: DataZones, table: PublishedTable) -> tuple[int, int, dict]:
    """Materialise and suppress the extract in memory and run the risk checks; _Refused if one fails."""
    _materialise(connection, request, table)
    people = PEOPLE if request.group_by and table.person is not None else None
    primary, secondary = suppress_grouped(connection, request.group_by, people) if request.group_by else (0, 0)
    evidence = risk_evidence(connection, request, table, audit_db(zones))
    failed = failed_checks(evidence)
    if failed:
        raise _Refused("; ".join(failed), evidence)
    return primary, secondary, evidence


def _hold_for_review(request: ExtractRequest, zones: DataZones) -> ExtractOutcome:
    """Record a 가명정보 row request as pending review with the evidence of the checks; write nothing."""
    with _published(zones) as connection:
        _, _, evidence = _checked(connection, request, zones, published_table(request.table))
        rows = connection.execute("SELECT count(*) FROM extract").fetchone()[0]
    record_request(audit_db(zones), request, decision="pending_review", reason=None, rows=rows, evidence=evidence)
    return ExtractOutcome(request.request_id, PENDING, None, None, (), rows, 0, evidence=evidence)


def _extract(request: ExtractRequest, zones: DataZones, table: PublishedTable, *,
             reviewer: str | None = None) -> ExtractOutcome:
    with _published(zones) as connection:
        primary, secondary, evidence = _checked(connection, request, zones, table)
        rows = connection.execute("SELECT count(*) FROM extract").fetchone()[0]
        expires_on = today_in_seoul() + timedelta(days=request.period_days)
        directory, files = _write_outputs(connection, request, zones, table, rows, primary, secondary,
                                          expires_on=expires_on, reviewer=reviewer)
        cells = visible_cells(connection, request) if request.group_by else None
    record_request(audit_db(zones), request, decision="granted", reason=None, rows=rows,
                   suppressed_cells=primary + secondary, output_dir=directory, expires_on=expires_on,
                   reviewer=reviewer, evidence=evidence, cells=cells)
    return ExtractOutcome(request.request_id, GRANTED, None, directory, files, rows, primary + secondary,
                          secondary, expires_on, evidence)


def _where(request: ExtractRequest, table: PublishedTable) -> tuple[str, list]:
    clauses, params = [], []
    for f in request.filters:
        kind = table.column(f.column).type
        value = f'CAST(? AS {kind})'
        if f.operator == "in":
            clauses.append(f'"{f.column}" IN ({", ".join(value for _ in f.value)})')
            params += list(f.value)
        elif f.operator == "between":
            clauses.append(f'"{f.column}" BETWEEN {value} AND {value}')
            params += list(f.value)
        else:
            clauses.append(f'"{f.column}" {f.operator} {value}')
            params.append(f.value)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _materialise(connection, request: ExtractRequest, table: PublishedTable) -> None:
    connection.execute("DROP TABLE IF EXISTS extract")
    exists = connection.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'published' AND schema_name = 'main' "
        "AND table_name = ?", [table.name]).fetchone()[0]
    if not exists:
        raise _Refused(f"{table.name} has not been published yet")
    where, params = _where(request, table)
    source = f'published.main."{table.name}"'
    # where one person makes several records, each cell's people (suppression) or each row's
    # person (the k check) is carried along, and never written out
    person = None if table.person is None else person_hash(quote(table.person))
    if request.group_by:
        keys = ", ".join(f'"{c}"' for c in request.group_by)
        people = "" if person is None else f", count(DISTINCT {person}) AS {PEOPLE}"
        sql = f"SELECT {keys}, count(*) AS count{people} FROM {source}{where} GROUP BY ALL"
    else:
        held = "" if person is None else f", {person} AS {PERSON}"
        sql = f'SELECT {", ".join(chr(34) + c + chr(34) for c in request.columns)}{held} FROM {source}{where}'
    try:
        connection.execute(f"CREATE TABLE extract AS {sql}", params)  # in memory
    except (duckdb.ConversionException, duckdb.BinderException, duckdb.InvalidInputException) as error:
        raise _Refused(f"a filter value does not fit its column: {str(error).splitlines()[0]}") from error


def suppress_grouped(connection, group_by: tuple[str, ...], people_column: str | None = None) -> tuple[int, int]:
    """Complete the grouped cube with its empty cells, then suppress as the published aggregates
    are (cells under 5 records or `people_column` people, complements, the linear audit;
    `publish/suppression.py`). Returns (primary, secondary) numbers of suppressed cells."""
    cells = possible_cells(connection, "extract", group_by)
    if cells > MAX_GROUPED_CELLS:
        raise _Refused(f"grouping by {', '.join(group_by)} gives {cells:,} possible cells, more than "
                       f"{MAX_GROUPED_CELLS:,}: group by fewer or coarser columns, or filter")
    report = suppress_small_cells(connection, "extract", count_column="count", value_columns=(),
                                  dimensions=group_by, threshold=SMALL_CELL_THRESHOLD, complete_within=(),
                                  people_column=people_column)
    return report.primary, report.secondary


def _output_select(request: ExtractRequest) -> str:
    if not request.group_by:
        columns = ", ".join(f'"{c}"' for c in request.columns)  # the person held for the k check stays
        return f"SELECT {columns} FROM extract"
    keys = ", ".join(f'"{c}"' for c in request.group_by)
    return f"SELECT {keys}, count, suppressed, suppression FROM extract ORDER BY {keys}"


def _write_outputs(connection, request: ExtractRequest, zones: DataZones, table: PublishedTable,
                   rows: int, primary: int, secondary: int, *, expires_on: date,
                   reviewer: str | None) -> tuple[Path, tuple[Path, ...]]:
    """Write into a temp folder, then swap it in as `datalab/<request id>/` (never half an extract)."""
    final = zones.datalab / request.request_id
    temp = zones.datalab / f".{request.request_id}.tmp-{uuid.uuid4().hex[:8]}"
    temp.mkdir(parents=True)
    try:
        select = _output_select(request)
        connection.execute(f"COPY ({select}) TO {sql_text(str(temp / 'extract.parquet'))} (FORMAT parquet)")
        write_spreadsheet_csv(connection, select, temp / "extract.csv")
        last_updated = connection.execute(
            "SELECT max(last_updated) FROM published.main.data_catalog WHERE table_name = ?",
            [table.name]).fetchone()[0] if _has_catalog(connection) else None
        (temp / "privacy_note.md").write_text(
            privacy_note(request, table, rows, primary, secondary, last_updated,
                         expires_on=expires_on, reviewer=reviewer), encoding="utf-8")
        (temp / "request.json").write_text(request.canonical() + "\n", encoding="utf-8")
        _swap_in(temp, final)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    names = ("extract.csv", "extract.parquet", "privacy_note.md", "request.json")
    return final, tuple(final / n for n in names)


def write_spreadsheet_csv(connection, select: str, target: Path) -> None:
    """The extract's CSV, for Korean Excel (UTF-8 with BOM), every text cell formula-safe
    (`publish/spreadsheet_safety.py`); the one place its cells are written."""
    write_csv_with_bom(connection, select, target)


def _has_catalog(connection) -> bool:
    return bool(connection.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'published' AND table_name = 'data_catalog'"
    ).fetchone()[0])


def _swap_in(temp: Path, final: Path) -> None:
    old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
    if final.exists():
        final.rename(old)
    temp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
