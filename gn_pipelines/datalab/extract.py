"""Run a data-lab extract: check it, query the published warehouse read-only, suppress small
cells, write the extract and its privacy note to `datalab/<request id>/`, audit the outcome.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from gn_pipelines.datalab.audit import record_request
from gn_pipelines.datalab.privacy_note import privacy_note
from gn_pipelines.datalab.request import ExtractRequest, refusal_reason
from gn_pipelines.ingest.casting import sql_text
from gn_pipelines.publish.open_data import write_csv_with_bom
from gn_pipelines.publish.suppression import possible_cells, suppress_small_cells
from gn_pipelines.publish.tables import SMALL_CELL_THRESHOLD, PublishedTable, published_table
from gn_pipelines.settings import DataZones

AUDIT_DB_NAME = "audit.duckdb"
# A grouped extract is completed with its empty cells (so that they hide too): bounded.
MAX_GROUPED_CELLS = 200_000


@dataclass(frozen=True)
class ExtractOutcome:
    request_id: str
    granted: bool
    reason: str | None  # why it was refused
    directory: Path | None
    files: tuple[Path, ...]
    rows: int
    suppressed_cells: int  # primary + secondary
    secondary_suppressed_cells: int = 0


def audit_db(zones: DataZones) -> Path:
    return zones.datalab / AUDIT_DB_NAME


def run_extract(request: ExtractRequest, zones: DataZones) -> ExtractOutcome:
    """Grant or refuse the request; a refusal is an outcome (audited), never an exception."""
    reason = refusal_reason(request)
    if reason is None and not zones.published_db.exists():
        reason = "the published warehouse does not exist yet"
    if reason is not None:
        return _refuse(request, zones, reason)
    try:
        outcome = _extract(request, zones, published_table(request.table))
    except _Refused as refusal:
        return _refuse(request, zones, str(refusal))
    except BaseException as error:
        record_request(audit_db(zones), request, decision="failed", reason=f"{type(error).__name__}: {error}")
        raise
    record_request(audit_db(zones), request, decision="granted", reason=None, rows=outcome.rows,
                   suppressed_cells=outcome.suppressed_cells, output_dir=outcome.directory)
    return outcome


class _Refused(Exception):
    pass


def _refuse(request: ExtractRequest, zones: DataZones, reason: str) -> ExtractOutcome:
    record_request(audit_db(zones), request, decision="refused", reason=reason)
    return ExtractOutcome(request.request_id, False, reason, None, (), 0, 0)


def _extract(request: ExtractRequest, zones: DataZones, table: PublishedTable) -> ExtractOutcome:
    zones.scratch.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect()  # in memory; the published file is attached read-only
    try:
        connection.execute(f"SET temp_directory = {sql_text(str(zones.scratch / 'datalab'))}")
        connection.execute(f"ATTACH {sql_text(str(zones.published_db))} AS published (READ_ONLY)")
        _materialise(connection, request, table)
        primary, secondary = suppress_grouped(connection, request.group_by) if request.group_by else (0, 0)
        rows = connection.execute("SELECT count(*) FROM extract").fetchone()[0]
        directory, files = _write_outputs(connection, request, zones, table, rows, primary, secondary)
    finally:
        connection.close()
    return ExtractOutcome(request.request_id, True, None, directory, files, rows, primary + secondary, secondary)


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
    exists = connection.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'published' AND schema_name = 'main' "
        "AND table_name = ?", [table.name]).fetchone()[0]
    if not exists:
        raise _Refused(f"{table.name} has not been published yet")
    where, params = _where(request, table)
    source = f'published.main."{table.name}"'
    if request.group_by:
        keys = ", ".join(f'"{c}"' for c in request.group_by)
        sql = f"SELECT {keys}, count(*) AS count FROM {source}{where} GROUP BY ALL"
    else:
        sql = f'SELECT {", ".join(chr(34) + c + chr(34) for c in request.columns)} FROM {source}{where}'
    try:
        connection.execute(f"CREATE TABLE extract AS {sql}", params)  # in memory
    except (duckdb.ConversionException, duckdb.BinderException, duckdb.InvalidInputException) as error:
        raise _Refused(f"a filter value does not fit its column: {str(error).splitlines()[0]}") from error


def suppress_grouped(connection, group_by: tuple[str, ...]) -> tuple[int, int]:
    """Complete the grouped cube with its empty cells, then suppress as the published aggregates
    are (cells under 5, complements, the linear audit; `publish/suppression.py`).
    Returns (primary, secondary) numbers of suppressed cells."""
    cells = possible_cells(connection, "extract", group_by)
    if cells > MAX_GROUPED_CELLS:
        raise _Refused(f"grouping by {', '.join(group_by)} gives {cells:,} possible cells, more than "
                       f"{MAX_GROUPED_CELLS:,}: group by fewer or coarser columns, or filter")
    report = suppress_small_cells(connection, "extract", count_column="count", value_columns=(),
                                  dimensions=group_by, threshold=SMALL_CELL_THRESHOLD, complete_within=())
    return report.primary, report.secondary


def _output_select(request: ExtractRequest) -> str:
    if not request.group_by:
        return "SELECT * FROM extract"
    keys = ", ".join(f'"{c}"' for c in request.group_by)
    return f"SELECT {keys}, count, suppressed, suppression FROM extract ORDER BY {keys}"


def _write_outputs(connection, request: ExtractRequest, zones: DataZones, table: PublishedTable,
                   rows: int, primary: int, secondary: int) -> tuple[Path, tuple[Path, ...]]:
    """Write into a temp folder, then swap it in as `datalab/<request id>/` (never half an extract)."""
    final = zones.datalab / request.request_id
    temp = zones.datalab / f".{request.request_id}.tmp-{uuid.uuid4().hex[:8]}"
    temp.mkdir(parents=True)
    try:
        select = _output_select(request)
        connection.execute(f"COPY ({select}) TO {sql_text(str(temp / 'extract.parquet'))} (FORMAT parquet)")
        write_csv_with_bom(connection, select, temp / "extract.csv")
        last_updated = connection.execute(
            "SELECT max(last_updated) FROM published.main.data_catalog WHERE table_name = ?",
            [table.name]).fetchone()[0] if _has_catalog(connection) else None
        (temp / "privacy_note.md").write_text(
            privacy_note(request, table, rows, primary, secondary, last_updated), encoding="utf-8")
        (temp / "request.json").write_text(request.canonical() + "\n", encoding="utf-8")
        _swap_in(temp, final)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    names = ("extract.csv", "extract.parquet", "privacy_note.md", "request.json")
    return final, tuple(final / n for n in names)


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
