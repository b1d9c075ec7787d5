"""Read a drop delivered in one of its contract's other layouts (contracts/layouts.py) into the
`raw` table collection types: one text cell per contract column, in contract order.

The header rows (two short lists) are interpreted in Python; the rows themselves are turned
wide-to-long and back in DuckDB (UNPIVOT, then one row per unit and period), so a large export
costs no Python loop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from gn_pipelines.contracts import DatasetContract, header_key
from gn_pipelines.contracts.layouts import CodedTableLayout, CodeLookup, Layout, WideByPeriodLayout, unit_in_name
from gn_pipelines.ingest.casting import cleaned_cell, sql_text
from gn_pipelines.reference.bundled import bundled_reference_file

HEADER_ROWS = 2  # of the wide-by-period layout
# The extra cell of each output row telling where its value came from: the line and period.
SOURCE_POSITION_HEADER = "원본 위치 (line, period)"


class LayoutRejected(Exception):
    """The header rows match the layout but cannot be read as it: the reason for the engineer."""


@dataclass(frozen=True)
class ValueColumn:
    """One value column of the file: where it is, its period and the contract column it fills."""

    position: int
    label: str  # the period as written in row 1, e.g. '2025.03'
    period: str  # the date the period's values are dated to, 'YYYY-MM-DD'
    canonical: str


@dataclass
class LayoutHeaders:
    width: int
    value_columns: list[ValueColumn]
    unknown: list[str] = field(default_factory=list)  # parameters the contract does not hold
    warnings: list[str] = field(default_factory=list)


def interpret_headers(layout: WideByPeriodLayout, contract: DatasetContract,
                      header_rows: list[list[str]]) -> LayoutHeaders:
    """Which column holds which parameter of which period: matched by name, wherever it is."""
    periods, parameters = header_rows[0], header_rows[1]
    if len(periods) != len(parameters):
        raise LayoutRejected(f"the two header rows have {len(periods)} and {len(parameters)} fields")
    by_key = {key: column for column in contract.columns for key in column.header_keys}
    fixed = {layout.period_column, *(canonical for canonical, _ in layout.copied)}
    if layout.code:
        fixed.add(layout.code.target)
    found = LayoutHeaders(len(periods), [])
    seen: dict[tuple[str, str], str] = {}
    merged = ""  # the label a merged cell of row 1 spans (a spreadsheet keeps it in its first cell)
    for position in range(len(layout.identifying_headers), len(periods)):
        label, parameter = periods[position].strip(), parameters[position].strip()
        if not label and not parameter:
            continue  # a trailing empty column
        label = merged = label or merged
        period = re.fullmatch(layout.period_pattern, label)
        if not period:
            raise LayoutRejected(f"column {position + 1} ({parameter!r}) has no period label in row 1: {label!r}")
        year, month = (int(g) for g in period.groups())
        if not 1 <= month <= 12:
            raise LayoutRejected(f"column {position + 1}: {label!r} is not a month")
        column = by_key.get(header_key(parameter))
        if column is None or column.name in fixed:
            if parameter not in found.unknown:
                found.unknown.append(parameter)
            continue
        delivered, expected = unit_in_name(parameter), unit_in_name(column.header)
        if delivered and expected and delivered != expected:
            warning = f"{parameter!r}: unit {delivered} is not {column.header}'s {expected}; column left out"
            if warning not in found.warnings:
                found.warnings.append(warning)
            continue
        if (label, column.name) in seen:
            raise LayoutRejected(f"ambiguous headers: {seen[label, column.name]!r} and {parameter!r} "
                                 f"both mean {column.header} in {label}")
        seen[label, column.name] = parameter
        found.value_columns.append(ValueColumn(position, label, f"{year:04d}-{month:02d}-{layout.period_day:02d}",
                                               column.name))
    if not found.value_columns:
        raise LayoutRejected(f"no column of the {layout.title} holds a parameter of {contract.name}")
    return found


def _normalised(sql: str) -> str:
    # names compare without spaces, case or composed/decomposed Hangul differences
    return f"lower(replace(nfc_normalize(trim({sql})), ' ', ''))"


def _load_wide(connection: duckdb.DuckDBPyConnection, csv_path: Path, width: int,
               header_rows: int = HEADER_ROWS) -> None:
    # As collection reads a one-header file: every cell text, an overflow column, NULL padding.
    columns = {f"c{i}": "VARCHAR" for i in range(width)} | {"overflow": "VARCHAR"}
    columns_sql = "{" + ", ".join(f"{sql_text(n)}: 'VARCHAR'" for n in columns) + "}"
    connection.execute(
        f"""CREATE TABLE wide AS SELECT * FROM read_csv($path, header = false, skip = {header_rows},
            auto_detect = false, columns = {columns_sql}, delim = ',', quote = '"', escape = '"',
            null_padding = true, strict_mode = false, nullstr = '\x01', parallel = false,
            max_line_size = 10000000)""",
        {"path": str(csv_path)},
    )


def _code_sql(lookup: CodeLookup, cell_of: dict[str, str]) -> tuple[str, str, str]:
    """(join clause, code expression, known-code condition) for a code lookup."""
    on = " AND ".join(f"{_normalised(cell_of[header])} = {_normalised(f'reference.{column}')}"
                      for header, column in lookup.match)
    join = f"LEFT JOIN lookup_reference reference ON {on}"
    path = "concat_ws('/', " + ", ".join(f"trim({cell_of[h]})" for h in lookup.key_from) + ")"
    named = " OR ".join(f"coalesce(trim({cell_of[h]}), '') <> ''" for h in lookup.key_from)
    if lookup.key_prefix is None:
        return join, f"reference.{lookup.code_column}", f"reference.{lookup.code_column} IS NOT NULL"
    key = f"{sql_text(lookup.key_prefix)} || upper(left(sha256(nfc_normalize({path})), 8))"
    code = f"coalesce(reference.{lookup.code_column}, CASE WHEN {named} THEN {key} END)"
    return join, code, f"reference.{lookup.code_column} IS NOT NULL"


def _load_lookup(connection: duckdb.DuckDBPyConnection, lookup: CodeLookup) -> None:
    connection.execute(
        "CREATE TABLE lookup_reference AS SELECT * FROM read_csv($path, header = true, all_varchar = true)",
        {"path": str(bundled_reference_file(lookup.reference))})
    keys = ", ".join(_normalised(column) for _, column in lookup.match)
    duplicated = connection.execute(
        f"SELECT count(*) FROM (SELECT {keys} FROM lookup_reference GROUP BY ALL HAVING count(*) > 1)").fetchone()[0]
    if duplicated:
        raise ValueError(f"reference table {lookup.reference} names {duplicated} unit(s) twice")


def read_wide_by_period(connection: duckdb.DuckDBPyConnection, csv_path: Path, layout: WideByPeriodLayout,
                        contract: DatasetContract, headers: LayoutHeaders) -> list[str]:
    """Create `raw` (source_row_number, c0… in contract order then the source position, overflow,
    too_few_fields) from a UTF-8 CSV in `layout`; returns warnings (e.g. unregistered stations)."""
    _load_wide(connection, csv_path, headers.width)
    identifying = {header: f"c{i}" for i, header in enumerate(layout.identifying_headers)}
    connection.execute("CREATE TABLE value_columns (cell VARCHAR, label VARCHAR, period VARCHAR, canonical VARCHAR)")
    connection.executemany("INSERT INTO value_columns VALUES (?, ?, ?, ?)",
                           [(f"c{v.position}", v.label, v.period, v.canonical) for v in headers.value_columns])
    cells = ", ".join(f"c{v.position}" for v in headers.value_columns)
    # Wide to long: one row per line × value column. NULL cells are kept (a short line has
    # them) so that a misshapen line still yields rows that collection rejects with a reason.
    connection.execute(f"""CREATE TABLE long AS
        SELECT u.line, {", ".join(f"u.{c}" for c in identifying.values())}, u.overflow, u.too_few_fields,
               v.label, v.period, v.canonical, u.value
        FROM (SELECT rowid + {HEADER_ROWS + 1} AS line, c{headers.width - 1} IS NULL AS too_few_fields, *
              FROM wide) UNPIVOT INCLUDE NULLS (value FOR cell IN ({cells})) u
        JOIN value_columns v USING (cell)""")
    measures = sorted({v.canonical for v in headers.value_columns})
    # Long to one row per line and period; a period with no value at all (every cell empty, `-`
    # or `NULL`, the spec's missing values) was not measured.
    per_period = ", ".join(f"first(value) FILTER (WHERE canonical = {sql_text(m)}) AS {m}" for m in measures)
    connection.execute(f"""CREATE TABLE per_period AS
        SELECT line, label, period, {", ".join(f"any_value({c}) AS {c}" for c in identifying.values())},
               any_value(overflow) AS overflow, bool_or(too_few_fields) AS too_few_fields, {per_period}
        FROM long GROUP BY line, label, period
        HAVING bool_or({cleaned_cell('value')} IS NOT NULL) OR any_value(overflow) IS NOT NULL
            OR bool_or(too_few_fields)""")
    join, code, known, names = "", "NULL", "true", "''"
    if layout.code:
        names = "concat_ws('/', " + ", ".join(f"trim(p.{identifying[h]})" for h in layout.code.key_from) + ")"
        _load_lookup(connection, layout.code)
        join, code, known = _code_sql(layout.code, {h: f"p.{c}" for h, c in identifying.items()})
    copied = dict(layout.copied)
    outputs = []
    for column in contract.columns:
        if layout.code and column.name == layout.code.target:
            expression = code
        elif column.name in copied:
            expression = f"p.{identifying[copied[column.name]]}"
        elif column.name == layout.period_column:
            expression = "p.period"
        elif column.name in measures:
            expression = f"coalesce(p.{column.name}, '')"
        else:
            expression = "''"
        outputs.append(f"{expression} AS c{len(outputs)}")
    outputs.append(f"format('line {{}}, {{}}', p.line, p.label) AS c{len(outputs)}")
    # Row numbers must be unique within a drop (validation and quarantine join on them): the
    # output rows are numbered in reading order from the first data line; the extra cell keeps
    # each row's line and period in the file.
    connection.execute(f"""CREATE TABLE raw AS
        SELECT row_number() OVER (ORDER BY p.line, p.period) + {HEADER_ROWS} AS source_row_number,
               {", ".join(outputs)}, p.overflow, p.too_few_fields,
               {known} AS known_code, {names} AS unit_names
        FROM per_period p {join} ORDER BY p.line, p.period""")
    warnings = list(headers.warnings)
    if layout.code:
        target = [i for i, c in enumerate(contract.columns) if c.name == layout.code.target][0]
        unknown = connection.execute(
            f"SELECT DISTINCT unit_names, c{target} FROM raw WHERE NOT known_code AND c{target} IS NOT NULL "
            "ORDER BY 1").fetchall()
        if unknown:
            listed = ", ".join(f"{names} → {key}" for names, key in unknown)
            warnings.append(f"{len(unknown)} {layout.code.unknown}, given name keys: {listed}")
    for table in ("wide", "long", "per_period", "value_columns", "lookup_reference"):
        connection.execute(f"DROP TABLE IF EXISTS {table}")
    connection.execute("ALTER TABLE raw DROP COLUMN known_code")
    connection.execute("ALTER TABLE raw DROP COLUMN unit_names")
    return warnings



@dataclass
class TableHeaders:
    """Which contract column each position of a coded table's header row holds."""

    width: int
    canonical_by_position: dict[int, str]
    warnings: list[str] = field(default_factory=list)
    extra: list[tuple[int, str]] = field(default_factory=list)  # (position, header) of the unknown ones

    @property
    def unknown(self) -> list[str]:
        return [header for _, header in self.extra]


def interpret_table_headers(layout: CodedTableLayout, contract: DatasetContract,
                            header_rows: list[list[str]]) -> TableHeaders:
    """The contract columns of a coded table's header row, matched by name; the looked-up
    column is never read from the file, and every other required column must be there."""
    headers = header_rows[0]
    by_key = {key: column for column in contract.columns for key in column.header_keys
              if column.name != layout.code.target}
    found = TableHeaders(len(headers), {})
    seen: dict[str, str] = {}
    for position, header in enumerate(headers):
        column = by_key.get(header_key(header))
        if column is None:
            if header.strip():
                found.extra.append((position, header.strip()))
        elif column.name in seen:
            raise LayoutRejected(f"ambiguous headers: {seen[column.name]!r} and {header.strip()!r} "
                                 f"both mean {column.header}")
        else:
            seen[column.name] = header.strip()
            found.canonical_by_position[position] = column.name
    missing = [c.header for c in contract.required_columns if c.name not in seen and c.name != layout.code.target]
    if missing:
        raise LayoutRejected(f"required headers missing: {', '.join(missing)}")
    return found


def read_coded_table(connection: duckdb.DuckDBPyConnection, csv_path: Path, layout: CodedTableLayout,
                     contract: DatasetContract, headers: TableHeaders) -> list[str]:
    """Create `raw` (as `read_wide_by_period` does) from a UTF-8 CSV in `layout`: one output row
    per line, the looked-up code filled in; returns warnings naming the codes not found."""
    _load_wide(connection, csv_path, headers.width, header_rows=1)
    _load_lookup(connection, layout.code)
    position_of = {name: position for position, name in headers.canonical_by_position.items()}
    cell_of = {header: f"w.c{position_of[_column_named(contract, header)]}"
               for header in {h for h, _ in layout.code.match} | set(layout.code.key_from)}
    join, code, known = _code_sql(layout.code, cell_of)
    outputs = []
    for column in contract.columns:
        if column.name == layout.code.target:
            expression = code
        elif column.name in position_of:
            expression = f"w.c{position_of[column.name]}"
        else:
            expression = "CAST(NULL AS VARCHAR)"
        outputs.append(f"{expression} AS c{len(outputs)}")
    outputs.append(f"format('line {{}}', w.rowid + 2) AS c{len(outputs)}")
    if contract.keeps_extra_columns:  # after the source position, as `extra_headers` lists them
        outputs += [f"w.c{position} AS c{len(outputs) + i}" for i, (position, _) in enumerate(headers.extra)]
    last = max(position_of.values())
    looked_up = "concat_ws('/', " + ", ".join(f"trim({cell_of[h]})" for h in layout.code.key_from) + ")"
    connection.execute(f"""CREATE TABLE raw AS
        SELECT w.rowid + 2 AS source_row_number, {", ".join(outputs)}, w.overflow,
               w.c{last} IS NULL AS too_few_fields, {known} AS known_code, {looked_up} AS looked_up
        FROM wide w {join} ORDER BY w.rowid""")
    warnings = list(headers.warnings)
    unknown = connection.execute(
        "SELECT looked_up, count(*) FROM raw WHERE NOT known_code AND looked_up <> '' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    if unknown:
        listed = ", ".join(f"{value} ({rows} rows)" for value, rows in unknown)
        warnings.append(f"{len(unknown)} {layout.code.unknown}: {listed}")
    for table in ("wide", "lookup_reference"):
        connection.execute(f"DROP TABLE IF EXISTS {table}")
    connection.execute("ALTER TABLE raw DROP COLUMN known_code")
    connection.execute("ALTER TABLE raw DROP COLUMN looked_up")
    return warnings


def extra_headers(contract: DatasetContract, headers: LayoutHeaders | TableHeaders) -> tuple[str, ...]:
    """The headers of the columns `read_layout` adds to `raw` after the source position: the
    coded table's unknown ones, for a contract that keeps them."""
    if not contract.keeps_extra_columns or not isinstance(headers, TableHeaders):
        return ()
    return tuple(header for _, header in headers.extra)


def _column_named(contract: DatasetContract, header: str) -> str:
    """The contract column a layout names by one of its headers (its own, an alias, the name)."""
    key = header_key(header)
    return next(c.name for c in contract.columns if key in c.header_keys)


def interpret_layout_headers(layout: Layout, contract: DatasetContract,
                             header_rows: list[list[str]]) -> LayoutHeaders | TableHeaders:
    """Where each contract column is in a file of `layout` (LayoutRejected if it cannot be read)."""
    if isinstance(layout, CodedTableLayout):
        return interpret_table_headers(layout, contract, header_rows)
    return interpret_headers(layout, contract, header_rows)


def read_layout(connection: duckdb.DuckDBPyConnection, csv_path: Path, layout: Layout,
                contract: DatasetContract, headers: LayoutHeaders | TableHeaders) -> list[str]:
    """Create `raw` from a file of `layout`; returns the warnings of the reading."""
    if isinstance(layout, CodedTableLayout):
        return read_coded_table(connection, csv_path, layout, contract, headers)
    return read_wide_by_period(connection, csv_path, layout, contract, headers)
