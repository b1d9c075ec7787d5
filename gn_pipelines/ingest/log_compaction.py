"""Event logs folded by month: the JSON records (`append_record`, one small file per event) of a
month that is over are merged into one Parquet file, `<YYYY-MM>.parquet`, in the same folder.

A log of one record per delivered file would otherwise hold ~15,000 files a year, all read by
every scorecard build and freshness check (DuckDB reads 72,000 of them in about 10 s). Folding
keeps at most two months as JSON files (the current and the previous one: a record written late
on another machine's clock is still merged when its month is folded again) and one Parquet file
per earlier month.

Never loses a record: the month's Parquet (its earlier fold and the month's JSON files, one row
per event id) is written whole and renamed into place before those JSON files are removed. A
fold killed in between leaves records in both; the next fold merges them again, and the views
keep one row per event id meanwhile. One fold at a time per folder (a file lock; a process that
finds it held leaves the fold to its holder rather than wait). The platform's own readers hold
that lock shared while they read (`reading`), so a fold never removes a JSON file they listed;
a fold that finds readers leaves its work to the next one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path

from gn_pipelines.file_lock import exclusive_lock_if_free, shared_lock
from gn_pipelines.ingest.casting import sql_text

FOLD_LOCK = ".fold.lock"
FOLD_WAIT_SECONDS = 60.0  # a fold takes seconds; longer, its holder may be stuck: read anyway
EVENT_ID = "event_id"  # the event logs' record id (the processing ledger's is `entry_id`)


def one_per_record(id_column: str = EVENT_ID) -> str:
    """One row per record id (a record without an id, which no version wrote, is kept as it is)."""
    return (f"QUALIFY {id_column} IS NULL OR "
            f"row_number() OVER (PARTITION BY {id_column} ORDER BY recorded_at) = 1")


def months_to_fold(directory: Path, today: date) -> list[str]:
    """The months (`YYYYMM`, from the records' names) that have JSON records and ended before the
    previous month."""
    return sorted(_past_months_records(directory, today))


def _past_months_records(directory: Path, today: date) -> dict[str, list[Path]]:
    """The JSON records of each month to fold, from one listing of the folder (a first fold of
    years of records would otherwise list it once per month)."""
    first_kept = f"{today.year - (today.month == 1):04d}{(today.month - 2) % 12 + 1:02d}"
    records: dict[str, list[Path]] = {}
    for path in directory.glob("[0-9]*.json"):
        month = path.name[:6]
        if month.isdigit() and month < first_kept:
            records.setdefault(month, []).append(path)
    return records


def fold_past_months(directory: Path, columns: dict[str, str], today: date,
                     id_column: str = EVENT_ID) -> list[Path]:
    """Fold each month of `directory` before the previous one into its Parquet file; returns
    the files written. `columns`: the records' DuckDB types (as the log's view reads them);
    `id_column`: the column naming each record once."""
    import duckdb

    if not directory.is_dir() or not months_to_fold(directory, today):
        return []
    with exclusive_lock_if_free(directory / FOLD_LOCK) as free:
        if not free:
            return []  # being folded or read now (its holder may be stuck: never wait for it)
        past = _past_months_records(directory, today)  # listed again, under the lock
        with duckdb.connect() as connection:
            return [_fold_month(connection, directory, columns, month, sorted(past[month]), id_column)
                    for month in sorted(past)]


def _fold_month(connection, directory: Path, columns: dict[str, str], month: str, records: list[Path],
                id_column: str) -> Path:
    from gn_pipelines.ingest.parquet_io import copy_atomically

    target = directory / f"{month[:4]}-{month[4:]}.parquet"
    sources = [f"SELECT * FROM {json_records(records, columns)}"]
    if target.exists():
        sources.append(f"SELECT * FROM read_parquet({sql_text(str(target))})")
    copy_atomically(connection, f"""
        SELECT * FROM ({' UNION ALL BY NAME '.join(sources)}) {one_per_record(id_column)}
        ORDER BY recorded_at, {id_column}""", {}, target)
    for record in records:
        record.unlink(missing_ok=True)
    return target


@contextmanager
def reading(*folders: Path) -> Iterator[None]:
    """Read the logs in `folders` in this block without a fold removing a JSON file the read has
    listed (DuckDB would fail on it): their fold locks held shared, a running fold waited for."""
    with ExitStack() as locks:
        for folder in folders:
            if folder.is_dir():
                locks.enter_context(shared_lock(folder / FOLD_LOCK, FOLD_WAIT_SECONDS))
        yield


def json_records(files: Path | list[Path], columns: dict[str, str]) -> str:
    """DuckDB's read of JSON records (a glob, or a list of files), typed as `columns`."""
    listed = sql_text(str(files)) if isinstance(files, Path) else f"[{', '.join(sql_text(str(p)) for p in files)}]"
    typed = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items()) + "}"
    return f"read_json({listed}, columns = {typed}, format = 'newline_delimited')"


def log_records(folder: Path, columns: dict[str, str], id_column: str = EVENT_ID) -> str:
    """A log's records: this and last month's JSON files and the folded months' Parquet files,
    one row per record (a fold killed after writing its Parquet leaves its JSON files behind).
    Both globs always match: the views' seed files (`restricted_views._seed_logs`) see to it."""
    return _one_per_record_of(_record_parts(folder, columns), id_column)


def present_records(folder: Path, columns: dict[str, str], id_column: str) -> str | None:
    """As `log_records`, for a log without seed files: what it holds (JSON records, folded
    months), or None while it holds nothing."""
    json_part, parquet_part = _record_parts(folder, columns)
    parts = [part for part, suffix in ((json_part, "*.json"), (parquet_part, "*.parquet"))
             if next(folder.glob(suffix), None) is not None]
    return _one_per_record_of(parts, id_column) if parts else None


def _record_parts(folder: Path, columns: dict[str, str]) -> tuple[str, str]:
    """The SELECTs of a log's JSON records and of its folded months."""
    return (f"SELECT * FROM {json_records(folder / '*.json', columns)}",
            f"SELECT * FROM read_parquet({sql_text(str(folder / '*.parquet'))})")


def _one_per_record_of(parts: list[str] | tuple[str, ...], id_column: str) -> str:
    return f"(SELECT * FROM ({' UNION ALL BY NAME '.join(parts)}) {one_per_record(id_column)})"
