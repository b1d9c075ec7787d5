"""SQL, generated from a contract, that types a drop's text cells in DuckDB.

Every cell is read as text; each column gets a typed expression and, where the text does not
parse, a reason a person can read. A row with any reason is rejected as a whole; the file is not.
Only contract constants (headers, formats) are written into the SQL; data is never formatted in.
"""

from __future__ import annotations

from dataclasses import dataclass

from gn_pipelines.contracts import Column, ColumnType, DatasetContract

# LOCALDATA writes YYYYMMDD, YYYY-MM-DD, YYYYMMDDhhmmss, YYYY-MM-DD hh:mm:ss and, in its full
# downloads, a database timestamp with fractions (2021-11-03 02:40:00.0): all are read.
TIMESTAMP_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M",
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y%m%d%H%M%S", "%Y%m%d%H%M", "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
)
DATE_FORMATS = ("%Y-%m-%d", "%Y.%m.%d", "%Y/%m/%d", "%Y%m%d", "%Y%m%d%H%M%S", "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%d %H:%M:%S.%f")
MONTH_FORMATS = ("%Y-%m", "%Y%m", "%Y.%m", "%Y/%m")
# The lengths a date written in digits alone may have: strptime reads `2025113` as 2025-11-03
# where 2025-01-13 is as likely, so other lengths are not dates
COMPACT_LENGTHS = {ColumnType.TIMESTAMP: (12, 14), ColumnType.DATE: (8, 14), ColumnType.MONTH: (6,)}
# Below the detection limit: `<0.1`, `ND`, `불검출` (kept as a flag, never as a made-up number).
BELOW_DETECTION_PATTERN = r"^<\s*[0-9]*\.?[0-9]+$"
NOT_DETECTED_WORDS = ("ND", "N.D.", "N.D", "불검출")

EXAMPLES = {
    ColumnType.TIMESTAMP: "a date and time such as 2025-03-01 14:05",
    ColumnType.DATE: "a date such as 2025-03-04",
    ColumnType.MONTH: "a month such as 2025-03",
    ColumnType.INTEGER: "a whole number",
    ColumnType.DECIMAL: "a number",
}


def sql_text(value: str) -> str:
    """A SQL string literal for a contract constant."""
    return "'" + value.replace("'", "''") + "'"


# A number as the spec allows it: digits, a sign, thousands separators only in groups of three
# (`1,234`). Anything else is rejected, not guessed: DuckDB's cast alone rounds 2.5 into an integer,
# and with every comma dropped a decimal comma (`0,038` mg/L) became 38; NaN and inf are no values.
_DIGITS = r"[+-]?(?:[1-9][0-9]{0,2}(?:,[0-9]{3})+|[0-9]+)"
INTEGER_TEXT = _DIGITS
DECIMAL_TEXT = rf"(?:{_DIGITS}(?:\.[0-9]*)?|[+-]?\.[0-9]+)(?:[eE][+-]?[0-9]+)?"  # 1e-05: a tiny Excel number


def _formats(formats: tuple[str, ...]) -> str:
    return "[" + ", ".join(sql_text(f) for f in formats) + "]"


def cleaned_cell(raw: str) -> str:
    """Trim a raw cell; the spec's missing-value tokens (empty, `-`, `NULL`) become NULL."""
    return f"CASE WHEN trim({raw}) IN ('', '-') OR upper(trim({raw})) = 'NULL' THEN NULL ELSE trim({raw}) END"


@dataclass(frozen=True)
class ColumnSql:
    """The typed output columns of one contract column and its rejection checks."""

    outputs: tuple[tuple[str, str], ...]  # (expression, output name)
    problems: tuple[tuple[str, str, str], ...]  # (condition, reason expression, reason code)


def below_detection(value: str) -> str:
    words = ", ".join(sql_text(w) for w in NOT_DETECTED_WORDS)
    return f"(regexp_full_match({value}, {sql_text(BELOW_DETECTION_PATTERN)}) OR upper({value}) IN ({words}))"


def column_sql(column: Column, value: str) -> ColumnSql:
    """Typed expression(s) for `column`, given the SQL of its cleaned text `value`."""
    name, kind = column.name, column.type
    if kind in (ColumnType.TEXT, ColumnType.CODE):
        outputs = ((value, name),)
        if kind == ColumnType.CODE:
            pattern = sql_text(f"[0-9]{{{column.length}}}")
            bad = f"{value} IS NOT NULL AND NOT regexp_full_match({value}, {pattern})"
            reason = (f"{sql_text(column.header + ': ')} || {value} || "
                      f"{sql_text(f' is not a {column.length}-digit code')}")
            return ColumnSql(outputs, ((bad, reason, f"invalid_code:{name}"),))
        return ColumnSql(outputs, ())
    if kind == ColumnType.TIMESTAMP:
        formats = _formats(TIMESTAMP_FORMATS)
        # `24:00` (or `2400`) is midnight at the end of the day, as Korean systems write it
        midnight = f"regexp_replace({value}, '24(:?00(:?00)?)$', '00\\1')"
        # Excel keeps no difference between a date and a date and time at 00:00: the xlsx reader
        # writes both as 2025-03-02, which is midnight here (only that ISO form, not 20250302)
        midnight_date = (f"CASE WHEN regexp_full_match({value}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
                         f"THEN try_strptime({value}, '%Y-%m-%d') END")
        typed = (f"coalesce(try_strptime({value}, {formats}), "
                 f"try_strptime({midnight}, {formats}) + INTERVAL 1 DAY, {midnight_date})")
    elif kind == ColumnType.DATE:
        typed = f"CAST(try_strptime({value}, {_formats(DATE_FORMATS)}) AS DATE)"
    elif kind == ColumnType.MONTH:
        # a month typed into Excel is stored as its first day: the xlsx reader writes 2025-06-01
        first_day = (f"CASE WHEN regexp_full_match({value}, '[0-9]{{4}}-[0-9]{{2}}-01') "
                     f"THEN try_strptime({value}, '%Y-%m-%d') END")
        typed = f"strftime(coalesce(try_strptime({value}, {_formats(MONTH_FORMATS)}), {first_day}), '%Y-%m')"
    elif kind == ColumnType.INTEGER:
        typed = f"CASE WHEN regexp_full_match({value}, {sql_text(INTEGER_TEXT)}) THEN TRY_CAST(replace({value}, ',', '') AS BIGINT) END"
    else:
        typed = f"CASE WHEN regexp_full_match({value}, {sql_text(DECIMAL_TEXT)}) THEN TRY_CAST(replace({value}, ',', '') AS DOUBLE) END"
    if kind in COMPACT_LENGTHS:  # digits of another length are not read (the row is rejected)
        lengths = ", ".join(str(n) for n in COMPACT_LENGTHS[kind])
        typed = (f"CASE WHEN length({value}) NOT IN ({lengths}) AND regexp_full_match({value}, '[0-9]+') "
                 f"THEN NULL ELSE {typed} END")
    outputs: tuple[tuple[str, str], ...] = ((typed, name),)
    unparsed = f"{value} IS NOT NULL AND {typed} IS NULL"
    if column.below_detection:
        flag = below_detection(value)
        limit = f"TRY_CAST(regexp_extract({value}, '^<\\s*([0-9]*\\.?[0-9]+)$', 1) AS DOUBLE)"
        outputs = (
            (f"CASE WHEN {flag} THEN NULL ELSE {typed} END", name),
            (f"coalesce({flag}, false)", f"{name}_below_detection"),
            (f"CASE WHEN {flag} THEN {limit} END", f"{name}_detection_limit"),
        )
        unparsed = f"{unparsed} AND NOT {flag}"
    reason = (f"{sql_text(column.header + ': ')} || {sql_text(chr(39))} || {value} || "
              f"{sql_text(chr(39) + ' is not ' + EXAMPLES[kind])}")
    return ColumnSql(outputs, ((unparsed, reason, f"invalid_{kind.value}:{name}"),))


EXTRA_COLUMNS = "extra_columns"


def output_column_names(contract: DatasetContract) -> list[str]:
    names = [name for column in contract.columns for _, name in column_sql(column, "NULL").outputs]
    return names + ([EXTRA_COLUMNS] if contract.keeps_extra_columns else [])
