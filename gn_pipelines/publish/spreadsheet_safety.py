"""Formula-safe text for files people open in a spreadsheet (OWASP "CSV injection").

A cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return runs as a formula when
the CSV or xlsx opens in Excel (`=HYPERLINK(...)`, `-2+3+cmd|' /C calc'!A0`). OWASP's advice:
prefix such a cell with a single quote, so it shows as text. A number (`-12`, `+3.5`) stays a
number. Only spreadsheet exports (open-data CSV and xlsx, data-lab extracts) are neutralised;
Parquet keeps every value as delivered.
"""

from __future__ import annotations

import re

from gn_pipelines.contracts.generalisation import quote

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# the same rule in RE2 for DuckDB, so a whole column is neutralised in one set-based statement
_TRIGGER_SQL = "^[=+\\-@\\t\\r]"
_NUMBER_SQL = "^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?$"


def formula_safe(value: object) -> object:
    """`value` made inert for a spreadsheet: text starting with a trigger gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def formula_safe_sql(expression: str) -> str:
    """The DuckDB expression of `formula_safe` for a VARCHAR `expression`."""
    return (f"CASE WHEN regexp_matches({expression}, '{_TRIGGER_SQL}') "
            f"AND NOT regexp_matches({expression}, '{_NUMBER_SQL}') "
            f"THEN '''' || {expression} ELSE {expression} END")


def formula_safe_select(connection, source: str) -> str:
    """`SELECT` over `source` (a query) with every text column passed through `formula_safe_sql`."""
    described = connection.execute(f"DESCRIBE {source}").fetchall()
    columns = []
    for name, kind, *_ in described:
        quoted = quote(name)
        columns.append(f"{formula_safe_sql(quoted)} AS {quoted}" if kind == "VARCHAR" else quoted)
    return f"SELECT {', '.join(columns)} FROM ({source})"
