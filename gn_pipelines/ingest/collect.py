"""Collect one archived drop: decode, map headers, type in DuckDB, stage accepted and
rejected rows as Parquet in the restricted zone.

Each drop runs in its own in-memory DuckDB (spilling to the scratch zone), so drops from
different providers never contend for a database file and can run on different machines.
"""

from __future__ import annotations

import csv
import hashlib
import datetime as dt
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from gn_pipelines.contracts import DatasetContract, PrivacyClass
from gn_pipelines.contracts.model import FileBudget
from gn_pipelines.ingest.budget import OverBudget, check_budget
from gn_pipelines.ingest.casting import EXTRA_COLUMNS, cleaned_cell, column_sql, output_column_names, sql_text
from gn_pipelines.ingest.encoding import UndecodableFile, detect_encoding, transcode_to_utf8
from gn_pipelines.ingest.excel import UnreadableWorkbook, xlsx_to_csv
from gn_pipelines.ingest.parquet_io import (
    copy_atomically, copy_members_atomically, optimizers_disabled, scratch_connection,
)
from gn_pipelines.ingest.headers import HeaderMapping, map_headers, read_header_rows
from gn_pipelines.ingest.layouts import (
    SOURCE_POSITION_HEADER, LayoutRejected, extra_headers, interpret_layout_headers, read_layout,
)
from gn_pipelines.reference import PROVIDERS_BY_CODE, PROVINCE_CODE, codes_allowed_for
from gn_pipelines.settings import DataZones
from gn_pipelines.unfinished_writes import work_directory

LINEAGE_COLUMNS = ("provider_code", "source_file", "content_sha256", "source_row_number", "collected_at")


class DropRejected(Exception):
    """The whole file is rejected; the message is the reason shown to the data engineer."""


@dataclass
class DropOutcome:
    dataset: str
    provider_code: str
    source_file: str
    content_sha256: str
    status: str  # "collected" or "rejected"
    reason: str | None = None
    file_format: str | None = None  # csv or xlsx
    encoding: str | None = None
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    blank_rows: int = 0
    rejections_by_reason: dict[str, int] = field(default_factory=dict)
    unknown_columns: list[str] = field(default_factory=list)
    layout: str | None = None  # the contract layout the file was read in; None: its own table
    warnings: list[str] = field(default_factory=list)  # accepted, but worth a look
    collected_path: Path | None = None
    rejected_rows_path: Path | None = None
    preview: list[dict] = field(default_factory=list)  # masked sample of accepted rows
    parser_peak_rss_bytes: int | None = None  # measured when collected in a child process

    @property
    def summary(self) -> str:
        if self.status == "rejected":
            return f"rejected: {self.reason}"
        return f"{self.rows_accepted} rows accepted, {self.rows_rejected} rejected"


# A staged file is the stem plus `.parquet`, a sidecar's suffix, or a writer's `.….partial`: a stem
# of at most this many bytes keeps every such name under the 255 bytes a file name may have.
STAGED_NAME_BYTES = 120


def staged_name(file_name: str) -> str:
    """A file-system-safe stem for a drop's staged files (Hangul kept, readable), one per name: a
    name the safe form changes (`2025-03-01 오전.csv` and `2025-03-01_오전.csv` were one stem, and
    one file's rows replaced the other's) or a longer one (80 Hangul syllables are 240 bytes, a
    legal landing name) keeps its safe beginning and gets a digest of the whole name. A name the
    safe form keeps never holds `~`, so it shares no stem with a digested one."""
    safe = re.sub(r"[^\w.\-]", "_", file_name)
    if safe == file_name and len(safe.encode("utf-8")) <= STAGED_NAME_BYTES:
        return safe
    digest = hashlib.sha256(file_name.encode("utf-8")).hexdigest()[:16]
    head = safe.encode("utf-8")[:STAGED_NAME_BYTES - len(digest) - 1].decode("utf-8", "ignore")
    return f"{head}~{digest}"


def collected_path(zones: DataZones, dataset: str, provider: str, file_name: str) -> Path:
    return zones.restricted / "collected" / dataset / provider / f"{staged_name(file_name)}.parquet"


def rejected_rows_path(zones: DataZones, dataset: str, provider: str, file_name: str) -> Path:
    return zones.restricted / "rejected_rows" / dataset / provider / f"{staged_name(file_name)}.parquet"


def collect_drop(
    archived: Path,
    *,
    contract: DatasetContract,
    provider_code: str,
    source_file: str,
    content_sha256: str,
    zones: DataZones,
    collected_at: dt.datetime,
) -> DropOutcome:
    """Collect `archived` (an immutable copy of the drop) into the restricted zone."""
    with scratch_connection(zones.scratch, prefix="collect-") as connection:
        return _collect_one(connection, archived, contract=contract, provider_code=provider_code,
                            source_file=source_file, content_sha256=content_sha256, zones=zones,
                            collected_at=collected_at)


def _collect_one(connection: duckdb.DuckDBPyConnection, archived: Path, *, contract: DatasetContract,
                 provider_code: str, source_file: str, content_sha256: str, zones: DataZones,
                 collected_at: dt.datetime) -> DropOutcome:
    """Collect one drop with `connection` (its tables are dropped after)."""
    outcome = DropOutcome(contract.name, provider_code, source_file, content_sha256, "collected")
    with _prepared_drop(archived, contract, zones, outcome, collected_at) as prepared:
        if prepared is None:
            return outcome
        load_raw, lineage, targets = prepared
        try:
            _type_and_stage(connection, load_raw, contract, lineage, targets, outcome)
        except duckdb.Error as error:
            _unreadable(outcome, error, contract.budget)
    return outcome


@contextmanager
def _prepared_drop(archived: Path, contract: DatasetContract, zones: DataZones, outcome: DropOutcome,
                   collected_at: dt.datetime):
    """The drop checked and decoded in a scratch directory that lasts as long as the block (its
    loader reads from there): (loader, lineage, targets), or None with `outcome` rejected."""
    with work_directory(zones.scratch, prefix="collect-") as work:
        try:
            load_raw = _prepare(archived, contract, Path(work), outcome)
        except DropRejected as rejection:
            outcome.status, outcome.reason = "rejected", str(rejection)
            yield None
            return
        yield (load_raw,
               _lineage(outcome.provider_code, outcome.source_file, outcome.content_sha256, collected_at),
               _targets(zones, contract, outcome.provider_code, outcome.source_file))


def _prepare(archived: Path, contract: DatasetContract, work_dir: Path, outcome: DropOutcome):
    """Check the raw bytes against the budget (before any parser: a hostile file is refused on
    them), decode, read the headers; returns how to load the cells (see `_raw_loader`)."""
    try:
        check_budget(archived, contract.budget)
    except OverBudget as over:
        raise DropRejected(f"over budget: {over}") from over
    csv_path = _as_utf8_csv(archived, work_dir, outcome)
    return _raw_loader(contract, csv_path, outcome)


def _targets(zones: DataZones, contract: DatasetContract, provider_code: str, source_file: str) -> tuple[Path, Path]:
    file_name = Path(source_file).name
    return (collected_path(zones, contract.name, provider_code, file_name),
            rejected_rows_path(zones, contract.name, provider_code, file_name))


def _lineage(provider_code: str, source_file: str, content_sha256: str, collected_at: dt.datetime) -> dict:
    return {"provider_code": provider_code, "source_file": source_file,
            "content_sha256": content_sha256, "collected_at": collected_at}


def _unreadable(outcome: DropOutcome, error: duckdb.Error, budget: FileBudget) -> None:
    # DuckDB's own message quotes the offending line (personal data): keep its first line
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    outcome.status, outcome.rows_read, outcome.rows_accepted, outcome.rows_rejected = "rejected", 0, 0, 0
    if isinstance(error, duckdb.OutOfMemoryException) and "used)" not in first_line:
        # the address space the contained parser may use ran out, not DuckDB's own buffer limit
        # (that one says "(… MiB/… MiB used)"): not a broken file, so say which limit it met
        outcome.reason = (f"the file cannot be read as CSV: the parser reached its {budget.parser_memory_bytes >> 20} "
                          f"MiB memory limit ({first_line}); nothing of it was loaded; "
                          "if the file is genuine, raise parser_memory_bytes in the dataset's budget")
        return
    outcome.reason = f"the file cannot be read as CSV ({first_line}); nothing of it was loaded"


def _raw_loader(contract: DatasetContract, csv_path: Path, outcome: DropOutcome):
    """How to load the file's cells as the `raw` table, from its header rows: in the first of the
    contract's layouts they match, else as the contract's one-header-row table. Returns a
    function of a connection giving the header mapping and the SQL of the row numbers and shape."""
    try:
        header_rows = read_header_rows(csv_path)
    except csv.Error as error:  # e.g. a lone carriage return inside an unquoted header or first row
        raise DropRejected(f"the header rows cannot be read as CSV ({str(error).split(' - ')[0]}); lines must end in "
                           "CRLF or LF, and a field holding a line break must be quoted") from error
    layout = next((layout for layout in contract.layouts if layout.matches(header_rows)), None)
    if layout is None:
        mapping = _mapped_headers(contract, csv_path, header_rows)
        outcome.unknown_columns = list(mapping.unknown)
        return MappedTable(csv_path, mapping)
    try:
        headers = interpret_layout_headers(layout, contract, header_rows)
    except LayoutRejected as error:
        raise DropRejected(f"read as the {layout.title}: {error}") from error
    outcome.layout, outcome.unknown_columns = layout.name, headers.unknown
    width = headers.width

    def load_layout(connection):
        outcome.warnings += read_layout(connection, csv_path, layout, contract, headers)
        names = tuple(c.name for c in contract.columns)
        mapping = HeaderMapping((*(c.header for c in contract.columns), SOURCE_POSITION_HEADER,
                                 *extra_headers(contract, headers)), dict(enumerate(names)))
        return mapping, "source_row_number", _misshapen_problems(width, "too_few_fields", cells=len(mapping.headers))

    return load_layout


def _as_utf8_csv(archived: Path, work_dir: Path, outcome: DropOutcome) -> Path:
    suffix = archived.suffix.lower()
    if archived.stat().st_size == 0:
        raise DropRejected("the file is empty (0 bytes)")
    if suffix == ".xlsx":
        outcome.file_format, outcome.encoding = "xlsx", "xlsx"
        try:
            return xlsx_to_csv(archived, work_dir / "sheet1.csv", outcome.warnings)
        except UnreadableWorkbook as error:
            raise DropRejected(str(error)) from error
    outcome.file_format = "csv"
    try:
        outcome.encoding = detect_encoding(archived)
    except UndecodableFile as error:
        raise DropRejected(str(error)) from error
    if outcome.encoding in ("cp949", "utf-16"):
        return transcode_to_utf8(archived, work_dir / "utf8.csv", outcome.encoding)
    return archived


_ROWS_SEARCHED_FOR_THE_HEADER = 10


def _mapped_headers(contract: DatasetContract, csv_path: Path, header_rows: list[list[str]]) -> HeaderMapping:
    if not header_rows or not any(h.strip() for h in header_rows[0]):
        raise DropRejected("the file has no header row (it is blank)")
    mapping = map_headers(contract, header_rows)
    if not mapping.acceptable:
        raise DropRejected("; ".join(mapping.problems) + _header_found_lower(contract, csv_path, mapping))
    return mapping


def _header_found_lower(contract: DatasetContract, csv_path: Path, mapping: HeaderMapping) -> str:
    """Where the headers missing from the first row are a few rows down (a title above them, as
    many exports write), say so: the reason named headers that are in the file."""
    if not mapping.missing_required:
        return ""
    rows = read_header_rows(csv_path, _ROWS_SEARCHED_FOR_THE_HEADER)
    for index in range(1, len(rows)):
        if any(h.strip() for h in rows[index]) and not map_headers(contract, rows[index:]).missing_required:
            return (f". They are in row {index + 1}: the header must be the file's first row (delete the "
                    f"{index} row(s) above it, e.g. a title)")
    return ""


@dataclass(frozen=True)
class MappedTable:
    """A file in the contract's one-header-row table: its cells load as `raw` (one column per
    header); files whose headers map alike can be typed together (`collect_group`)."""

    csv_path: Path
    mapping: HeaderMapping

    def __call__(self, connection, table: str = "raw"):
        _load_raw(connection, self.csv_path, len(self.mapping.headers), table)
        return self.mapping, "rowid + 2", _shape_problems(len(self.mapping.headers), self.last_named)

    @property
    def last_named(self) -> int:
        """The last column with a header (mapped or not): a row without it is short."""
        return max(i for i, header in enumerate(self.mapping.headers) if header.strip())

    @property
    def shape(self) -> tuple:
        """Files of the same shape are typed by the same SQL."""
        return self.mapping.headers, tuple(sorted(self.mapping.canonical_by_position.items()))


def _type_and_stage(connection, load_raw, contract: DatasetContract, lineage: dict,
                    targets: tuple[Path, Path], outcome: DropOutcome) -> None:
    try:
        mapping, row_number_sql, shape_problems = load_raw(connection)
        _create_typed(connection, _typed_table_sql(contract, mapping, row_number_sql, shape_problems,
                                                   _ProviderSql.of(lineage["provider_code"]), extra=("0 AS __member",)))
        connection.execute("DROP TABLE raw")
        _stage_and_count(connection, contract, [(lineage, targets, outcome)])
    finally:
        connection.execute("DROP TABLE IF EXISTS raw")
        connection.execute("DROP TABLE IF EXISTS typed")


def _stage_and_count(connection, contract: DatasetContract,
                     files: list[tuple[dict, tuple[Path, Path], DropOutcome]]) -> None:
    """Stage the typed rows of `files` (the table `typed`; `__member` is the index of a row's file
    in `files`, each with its lineage, targets and outcome) and count them file by file."""
    outcomes = [outcome for _, _, outcome in files]
    _skip_notes_under_the_data(connection, outcomes)
    _count_per_file(connection, outcomes)
    if len(files) == 1:
        ((lineage, targets, _),) = files
        copy_atomically(connection, _accepted_sql(contract), lineage, targets[0])
        copy_atomically(connection, _rejected_rows_sql(), lineage | {"dataset": contract.name}, targets[1])
    else:  # every file's rows in one statement per kind, the lineage carried on each row
        copy_members_atomically(connection, _accepted_sql(contract, per_member=True), {},
                                [targets[0] for _, targets, _ in files], order_by="source_row_number",
                                rows=sum(o.rows_accepted for o in outcomes))
        copy_members_atomically(connection, _rejected_rows_sql(per_member=True), {},
                                [targets[1] for _, targets, _ in files], order_by="source_row_number",
                                rows=sum(o.rows_rejected for o in outcomes))
    for outcome, preview in zip(outcomes, _masked_previews(connection, contract, len(files))):
        outcome.preview = preview
    for _, targets, outcome in files:
        outcome.collected_path, outcome.rejected_rows_path = targets


# The notes Korean office tables end with, alone in the first cell of their line: `※ ND: 불검출`,
# `* 단위: mg/L`, `주) …`, `주1: …`, `자료: 창녕군`, `출처 : …`, `Note: …` (not `(주)`: a company)
NOTE_LINE = r"(?i)^\s*(※|\*|＊|주\s*\d*\s*[):：]|(자료|출처|비고|참고|단위|source|note)s?\s*[:：])"


def _skip_notes_under_the_data(connection, outcomes: list[DropOutcome]) -> None:
    """Note lines after a file's last row of data are no rows (blank, like empty lines), and the
    file's warnings say so; elsewhere a note line stays a row too short to read."""
    if not connection.execute("SELECT count(*) FROM typed WHERE note IS NOT NULL").fetchone()[0]:
        return
    connection.execute("""
        UPDATE typed SET blank = true
        FROM (SELECT __member, coalesce(max(source_row_number) FILTER (WHERE NOT blank AND note IS NULL), 0) AS last
              FROM typed GROUP BY __member) d
        WHERE typed.note IS NOT NULL AND typed.__member = d.__member AND typed.source_row_number > d.last""")
    for member, lines, first in connection.execute("""
            SELECT __member, count(*), arg_min(note, source_row_number) FROM typed
            WHERE note IS NOT NULL AND blank GROUP BY __member ORDER BY __member""").fetchall():
        shown = first if len(first) <= 60 else first[:57] + "..."
        outcomes[member].warnings.append(
            f"{lines} note line(s) under the data skipped, not read as rows (the first: {shown!r})")


def _count_per_file(connection, outcomes: list[DropOutcome]) -> None:
    """Rows read, blank, rejected (and why) and accepted of each file of `typed`, by `__member`."""
    counts = {member: figures for member, *figures in connection.execute(
        "SELECT __member, count(*) FILTER (WHERE NOT blank), count(*) FILTER (WHERE blank), "
        "count(*) FILTER (WHERE NOT blank AND reason IS NOT NULL) FROM typed GROUP BY __member").fetchall()}
    reasons: dict[int, dict[str, int]] = {}
    for member, code, count in connection.execute(
            "SELECT __member, code, count(*) FROM (SELECT __member, unnest(reason_codes) AS code FROM typed "
            "WHERE NOT blank AND reason IS NOT NULL) GROUP BY __member, code ORDER BY __member, 3 DESC, 2").fetchall():
        reasons.setdefault(member, {})[code] = count
    for member, outcome in enumerate(outcomes):
        outcome.rows_read, outcome.blank_rows, outcome.rows_rejected = counts.get(member, (0, 0, 0))
        outcome.rows_accepted = outcome.rows_read - outcome.rows_rejected
        outcome.rejections_by_reason = reasons.get(member, {})


@dataclass
class GroupMember:
    """A file held for typing with others of its shape: its cells are loaded as `table`."""

    table: str
    loader: MappedTable
    lineage: dict
    targets: tuple[Path, Path]
    outcome: DropOutcome


def load_for_group(connection, archived: Path, *, contract: DatasetContract, provider_code: str,
                   source_file: str, content_sha256: str, zones: DataZones, collected_at: dt.datetime,
                   table: str) -> DropOutcome | GroupMember:
    """Check, decode and load one drop's cells as `table` (the parsing of untrusted bytes, file by
    file); the typing waits for its group (`collect_group`). A file refused here, or one of a
    contract layout, is finished at once: its outcome is returned."""
    outcome = DropOutcome(contract.name, provider_code, source_file, content_sha256, "collected")
    with _prepared_drop(archived, contract, zones, outcome, collected_at) as prepared:
        if prepared is None:
            return outcome
        load_raw, lineage, targets = prepared
        try:
            if not isinstance(load_raw, MappedTable):  # a layout is read and typed alone
                _type_and_stage(connection, load_raw, contract, lineage, targets, outcome)
                return outcome
            load_raw(connection, table)  # the cells, read while the decoded copy exists
        except duckdb.Error as error:
            connection.execute(f"DROP TABLE IF EXISTS {table}")
            _unreadable(outcome, error, contract.budget)
            return outcome
    return GroupMember(table, load_raw, lineage, targets, outcome)


def collect_group(connection, contract: DatasetContract, members: list[GroupMember]) -> list[DropOutcome]:
    """Type the loaded files of one shape in one statement (the typing SQL costs more to plan than
    to run on a small file), then stage and count them together, a few statements for the whole
    group (each statement cost more than a small file's rows). Row numbers, reasons, the provider's
    own codes, lineage and staged files stay per file. If DuckDB refuses the batch, each file is
    typed alone (its cells are kept until the group is staged), so a failure stays that file's."""
    if len(members) > 1:
        try:
            outcomes = _collect_together(connection, contract, members)
        except duckdb.Error:
            connection.execute("DROP TABLE IF EXISTS raw")
            connection.execute("DROP TABLE IF EXISTS typed")
            connection.execute("DROP TABLE IF EXISTS members")
        else:
            for member in members:
                connection.execute(f"DROP TABLE {member.table}")
            return outcomes
    for member in members:
        loaded = member.loader

        def rename(connection, table=member.table, loaded=loaded):
            connection.execute(f"ALTER TABLE {table} RENAME TO raw")
            return loaded.mapping, "rowid + 2", _shape_problems(len(loaded.mapping.headers), loaded.last_named)

        try:
            _type_and_stage(connection, rename, contract, member.lineage, member.targets, member.outcome)
        except duckdb.Error as error:
            _unreadable(member.outcome, error, contract.budget)
        finally:
            connection.execute(f"DROP TABLE IF EXISTS {member.table}")
    return [m.outcome for m in members]


def _collect_together(connection, contract: DatasetContract, members: list[GroupMember]) -> list[DropOutcome]:
    first = members[0].loader
    connection.execute("CREATE TABLE members (__member INTEGER, __provider_codes VARCHAR[], __provider_label VARCHAR, "
                       + ", ".join(f"__{name} {kind}" for name, kind in _LINEAGE_TYPES.items()) + ")")
    # one statement, a list per column (executemany runs one insert per file)
    columns = {"member": list(range(len(members))),
               "provider_codes": [sorted(codes_allowed_for(m.lineage["provider_code"])) for m in members],
               "provider_label": [_provider_label(m.lineage["provider_code"]) for m in members]}
    columns |= {name: [(m.lineage | {"dataset": contract.name})[name] for m in members] for name in _LINEAGE_TYPES}
    connection.execute("INSERT INTO members SELECT " + ", ".join(f"unnest(${name})" for name in columns), columns)
    # each file's own row numbers, in file order; its provider's codes and its lineage on each of its rows
    connection.execute("CREATE TABLE raw AS SELECT r.*, m.* EXCLUDE (__member) FROM ("
                       + " UNION ALL ".join(f"SELECT *, rowid + 2 AS __row, {i} AS __member FROM {m.table}"
                                            for i, m in enumerate(members))
                       + ") r JOIN members m USING (__member) ORDER BY __member, __row")
    connection.execute("DROP TABLE members")
    try:
        _create_typed(connection, _typed_table_sql(
            contract, first.mapping, "__row", _shape_problems(len(first.mapping.headers), first.last_named),
            _ProviderSql.per_row(), extra=("__member", *(f"__{name}" for name in _LINEAGE_TYPES))))
        connection.execute("DROP TABLE raw")
        _stage_and_count(connection, contract, [(m.lineage, m.targets, m.outcome) for m in members])
    finally:
        connection.execute("DROP TABLE IF EXISTS raw")
        connection.execute("DROP TABLE IF EXISTS typed")
    return [m.outcome for m in members]


def _load_raw(connection: duckdb.DuckDBPyConnection, csv_path: Path, width: int, table: str = "raw") -> None:
    # Every cell as text. One extra column catches rows with too many fields; null padding
    # (with an impossible NULL string, so empty cells stay '') marks rows with too few.
    # parallel=false: the parallel reader cannot pad rows with quoted newlines.
    columns = {f"c{i}": "VARCHAR" for i in range(width)} | {"overflow": "VARCHAR"}
    columns_sql = "{" + ", ".join(f"{sql_text(n)}: 'VARCHAR'" for n in columns) + "}"
    connection.execute(
        f"""CREATE TABLE {table} AS SELECT * FROM read_csv($path, header = true, auto_detect = false,
            columns = {columns_sql}, delim = ',', quote = '"', escape = '"',
            null_padding = true, strict_mode = false, nullstr = '\x01', parallel = false,
            max_line_size = 10000000)""",
        {"path": str(csv_path)},
    )


@dataclass(frozen=True)
class _ProviderSql:
    """The provider's own codes and its name as SQL: constants for one file, columns of `raw`
    (`__provider_codes`, `__provider_label`) when files of several providers are typed together."""

    codes: str
    label: str

    @classmethod
    def of(cls, provider_code: str) -> "_ProviderSql":
        allowed = ", ".join(sql_text(code) for code in sorted(codes_allowed_for(provider_code)))
        return cls(f"[{allowed}]", sql_text(_provider_label(provider_code)))

    @classmethod
    def per_row(cls) -> "_ProviderSql":
        return cls("__provider_codes", "__provider_label")


def _provider_label(provider_code: str) -> str:
    provider = PROVIDERS_BY_CODE[provider_code]
    return f"{provider.code} {provider.name}"


def _typed_table_sql(contract: DatasetContract, mapping: HeaderMapping, row_number_sql: str,
                     shape_problems: list[tuple[str, str, str]], provider: "_ProviderSql",
                     extra: tuple[str, ...] = ()) -> str:
    position_of = {name: pos for pos, name in mapping.canonical_by_position.items()}
    width = len(mapping.headers)
    selects, problems = [], []
    for column in contract.columns:
        # each mapped cell is cleaned once, in the inner query (`v<position>`): written out in
        # every expression that reads it, it made the statement slow to plan
        sql = column_sql(column, f"v{position_of[column.name]}" if column.name in position_of
                         else "CAST(NULL AS VARCHAR)")
        selects += [f"{expression} AS {name}" for expression, name in sql.outputs]
        problems += sql.problems
    if contract.keeps_extra_columns:
        selects.append(f"{_extra_columns_sql(mapping)} AS {EXTRA_COLUMNS}")
    problems += shape_problems
    if contract.provider_code_column:
        problems += _provider_problems(contract, position_of, provider)
    # each condition is evaluated once: the row's problems as a list of (code, text) structs
    problem_list = "[p FOR p IN [" + ", ".join(
        f"CASE WHEN {condition} THEN {{'code': {sql_text(code)}, 'text': {text}}} END"
        for condition, text, code in problems) + "] IF p IS NOT NULL]"
    cells = [f"c{i}" for i in range(width)]
    blank = " AND ".join(f"coalesce(trim({c}), '') = ''" for c in cells + ["overflow"])
    # a note alone on its line (`※ ND: 불검출`, `자료: …`): its text, else NULL (see _skip_notes_under_the_data)
    rest_blank = " AND ".join(f"coalesce(trim({c}), '') = ''" for c in cells[1:] + ["overflow"])
    note = f"CASE WHEN {rest_blank} AND regexp_matches(c0, {sql_text(NOTE_LINE)}) THEN trim(c0) END"
    raw_json = "json_object(" + ", ".join(
        f"{sql_text(h.strip() or f'column {i + 1}')}, c{i}" for i, h in enumerate(mapping.headers)) + ")"
    cleaned = ", ".join(f"{cleaned_cell(f'c{pos}')} AS v{pos}" for pos in sorted(set(position_of.values())))
    # a table, not a view: the typing is computed in one pass, then the raw text is dropped. The
    # problems are a column of an inner query: an alias of the same SELECT is expanded wherever
    # it is read, which evaluated every condition once per reader. Projections only, no sort:
    # `_create_typed` runs it so that the rows keep `raw`'s order
    return f"""CREATE TABLE typed AS SELECT __source_row AS source_row_number, ({blank}) AS blank, {note} AS note,
        NULLIF(array_to_string([p.text FOR p IN problems], '; '), '') AS reason,
        [p.code FOR p IN problems] AS reason_codes,
        CASE WHEN len(problems) > 0 THEN {raw_json} END AS raw_values,
        {", ".join(selects + list(extra))} FROM (
            SELECT *, {problem_list} AS problems FROM (
                SELECT *, {row_number_sql} AS __source_row, {cleaned} FROM raw))"""


def _extra_columns_sql(mapping: HeaderMapping) -> str:
    """The cells of the columns the contract does not name, as one JSON object keyed by their
    headers as delivered (a repeated header numbered: `비고`, `비고 (2)`); NULL when there are none."""
    keys, pairs = {}, []
    for position, header in enumerate(mapping.headers):
        name = header.strip()
        if position in mapping.canonical_by_position or not name or name == SOURCE_POSITION_HEADER:
            continue
        keys[name] = keys.get(name, 0) + 1
        key = name if keys[name] == 1 else f"{name} ({keys[name]})"
        pairs.append(f"{sql_text(key)}, {cleaned_cell(f'c{position}')}")
    return f"json_object({', '.join(pairs)})" if pairs else "CAST(NULL AS JSON)"


def _create_typed(connection, typed_table_sql: str) -> None:
    """Run `_typed_table_sql` with the rows in `raw`'s order, without sorting them: DuckDB keeps
    the order through projections, and its IN-list rewrite, which plans a constant list (the
    provider's own codes) as a join that may reorder rows, is off for the statement. The staged
    files are filters of `typed` in this order, with no sort of their own."""
    with optimizers_disabled(connection, "in_clause"):
        connection.execute(typed_table_sql)


def _shape_problems(width: int, last_named: int) -> list[tuple[str, str, str]]:
    # A row without the last named column is short, even where that column is not the contract's
    # (a field lost midway shifts the next values into the contract's columns); columns with no
    # header after it (an Excel export's empty trailing ones) may be cut.
    return _misshapen_problems(width, f"c{last_named} IS NULL", cells=width)


def _misshapen_problems(width: int, short: str, cells: int) -> list[tuple[str, str, str]]:
    """A row too short (`short`: its SQL condition) or too long for a header of `width` fields;
    and one of them holding a line break in one of its `cells`: a quote inside a quoted field that
    is not doubled opens a field the reader closes lines later, so the row holds the next records
    in one cell and they get no row of their own."""
    run_on = " OR ".join(f"contains(c{i}, chr(10))" for i in range(cells))
    return [
        (short, f"'row has fewer fields than the header''s {width}'", "too_few_fields"),
        ("overflow IS NOT NULL", f"'row has more fields than the header''s {width}'", "too_many_fields"),
        (f"({short} OR overflow IS NOT NULL) AND ({run_on})", sql_text(RUN_ON_QUOTE), "unpaired_quote"),
    ]


RUN_ON_QUOTE = ("a field runs on over a line break: a double quote inside a field was probably not doubled "
                "(write \"\" for \"), so the record(s) on the following line(s) are inside this row, not rows of "
                "their own")


def _provider_problems(contract: DatasetContract, position_of: dict[str, int],
                       provider: _ProviderSql) -> list[tuple[str, str, str]]:
    column = contract.column(contract.provider_code_column)
    value = f"v{position_of[column.name]}"
    return [
        (f"({value}) IS NULL",
         f"{sql_text(f'{column.header} is missing: every row must carry the provider' + chr(39) + 's code (')} "
         f"|| {provider.label} || ')'", f"missing_provider_code:{column.name}"),
        (f"NOT list_contains({provider.codes}, ({value}))",
         f"{sql_text(column.header + ' ')} || ({value}) || {sql_text(' is not the provider' + chr(39) + 's own code (')} "
         f"|| {provider.label} || ')'", f"other_provider_code:{column.name}"),
    ]


# The lineage of a staged row: bound parameters ($provider_code, ...) for one file; for files
# staged together, columns of `typed` (`__provider_code`, ...) from the group's members table.
_LINEAGE_TYPES = {"provider_code": "VARCHAR", "source_file": "VARCHAR", "content_sha256": "VARCHAR",
                  "collected_at": "TIMESTAMPTZ", "dataset": "VARCHAR"}


def _lineage_sql(name: str, per_member: bool) -> str:
    return f"__{name}" if per_member else f"${name}"


# `typed` is written in the file's row order (`_create_typed`), and a filter of one table keeps
# that order: the staged files need no second sort of the drop. `per_member`: the lineage comes
# from each row, which also carries its file's index (`__member`, the partition of the write).
def _accepted_sql(contract: DatasetContract, *, per_member: bool = False) -> str:
    columns = ", ".join(output_column_names(contract))
    lineage = {name: _lineage_sql(name, per_member) for name in _LINEAGE_TYPES}
    return f"""SELECT {columns}, {lineage['provider_code']} AS provider_code,
        {lineage['source_file']} AS source_file, {lineage['content_sha256']} AS content_sha256, source_row_number,
        CAST({lineage['collected_at']} AS TIMESTAMPTZ) AS collected_at{', __member' if per_member else ''}
        FROM typed WHERE NOT blank AND reason IS NULL"""


def _rejected_rows_sql(*, per_member: bool = False) -> str:
    lineage = {name: _lineage_sql(name, per_member) for name in _LINEAGE_TYPES}
    return f"""SELECT {lineage['dataset']} AS dataset, {lineage['provider_code']} AS provider_code,
    {lineage['source_file']} AS source_file, {lineage['content_sha256']} AS content_sha256, source_row_number,
    reason, reason_codes, raw_values, CAST({lineage['collected_at']} AS TIMESTAMPTZ) AS collected_at{', __member' if per_member else ''}
    FROM typed WHERE NOT blank AND reason IS NOT NULL"""


REJECTED_ROWS_SQL = _rejected_rows_sql()


def mask_value(value: object) -> str | None:
    """Keep the first character of a personal value, mask the rest (for previews only)."""
    if value is None:
        return None
    text = str(value)
    return text[:1] + "*" * max(len(text) - 1, 0)


def _masked_previews(connection: duckdb.DuckDBPyConnection, contract: DatasetContract, files: int,
                     rows: int = 5) -> list[list[dict]]:
    """The first `rows` accepted rows of each file of `typed` (by `__member`), personal values masked."""
    personal = {c.name for c in contract.columns_of(PrivacyClass.DIRECT_IDENTIFIER)}
    free_text = {c.name for c in contract.columns_of(PrivacyClass.FREE_TEXT)}
    names = [c.name for c in contract.columns]
    records = connection.execute(
        f"SELECT __member, {', '.join(names)} FROM typed WHERE NOT blank AND reason IS NULL "
        f"QUALIFY row_number() OVER (PARTITION BY __member ORDER BY source_row_number) <= {rows} "
        "ORDER BY __member, source_row_number").fetchall()
    previews: list[list[dict]] = [[] for _ in range(files)]
    for member, *record in records:
        row = {}
        for name, value in zip(names, record):
            if name in personal:
                value = mask_value(value)
            elif name in free_text and value is not None:
                value = f"<{len(str(value))} characters>"
            row[name] = value if value is None or isinstance(value, (str, int, float)) else str(value)
        previews[member].append(row)
    return previews


def write_empty_collected(contract: DatasetContract, target: Path) -> Path:
    """A zero-row Parquet file with exactly the schema collection writes for `contract`."""
    with _empty_typed(contract) as connection:
        copy_atomically(connection, _accepted_sql(contract), _empty_lineage(contract), target)
    return target


def write_empty_staging(contract: DatasetContract, *, collected: Path, rejected_rows: Path) -> None:
    """Zero-row Parquet files with exactly the schemas collection writes for `contract`: its
    accepted rows (`collected`) and its rejected rows (`rejected_rows`), from one typing."""
    with _empty_typed(contract) as connection:
        copy_atomically(connection, _accepted_sql(contract), _empty_lineage(contract), collected)
        copy_atomically(connection, REJECTED_ROWS_SQL, _empty_lineage(contract), rejected_rows)


@contextmanager
def _empty_typed(contract: DatasetContract):
    """A connection holding `typed` of an empty file: the real typing SQL, so a schema taken from
    it can never drift. Planning it costs 20-60 ms a contract: run it once per set of seeds."""
    headers = tuple(column.header for column in contract.columns)
    mapping = HeaderMapping(headers, {i: c.name for i, c in enumerate(contract.columns)})
    connection = duckdb.connect(config={"threads": 1})  # nothing to parallelise in zero rows
    # the binder gives the types; the optimizer only rewrites (half the cost here, no rows to gain on)
    connection.execute("PRAGMA disable_optimizer")
    try:
        columns = ", ".join(f"CAST(NULL AS VARCHAR) AS c{i}" for i in range(len(headers)))
        connection.execute(f"CREATE TABLE raw AS SELECT {columns}, CAST(NULL AS VARCHAR) AS overflow LIMIT 0")
        connection.execute(_typed_table_sql(contract, mapping, "rowid + 2",
                                            _shape_problems(len(headers), len(headers) - 1),
                                            _ProviderSql.of(PROVINCE_CODE)))
        yield connection
    finally:
        connection.close()


def _empty_lineage(contract: DatasetContract) -> dict:
    return {"provider_code": "", "source_file": "", "content_sha256": "",
            "collected_at": dt.datetime.now(dt.timezone.utc), "dataset": contract.name}
