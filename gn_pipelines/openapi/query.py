"""A table's API request: its parameters validated, then one page of rows from the release.

Item fields and filter parameters are the columns' names in camelCase, as data.go.kr services
name them (`sigungu_code` -> `sigunguCode`). Every table with a month or a date also takes
`year` and `month`; any other text column of a table is a filter on exact values.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from gn_pipelines.openapi.convention import ApiError, Page, ResultCode, item_json, render, render_json_items
from gn_pipelines.openapi.release import SELECTION_ROWS_KEPT, Release

DEFAULT_ROWS = 10
MAX_ROWS = 1000  # as data.go.kr caps numOfRows
MAX_PAGE_NO = 1_000_000
RESULT_TYPES = ("json", "xml")
SERVICE_KEY = "serviceKey"
# `_type` is the older data.go.kr spelling of resultType that some clients still send
COMMON_PARAMETERS = ("pageNo", "numOfRows", "resultType", "_type")
MONTH_COLUMNS = ("month", "received_month", "reference_month")
CODE_COLUMNS = ("sigungu_code", "provider_code")  # 5-digit 시군구 / provider codes
# descriptive text, not a dimension anyone filters on exactly
NOT_FILTERS = frozenset({"note", "top_failed_checks", "description", "columns", "title_ko", "title_en",
                         "providers", "privacy_treatment", "title", "body"})
MAX_TEXT_FILTER = 100

# ASCII digits only: \d and str.isdigit() also take ４８１２０, ² and ① (int() then fails on some)
_CODE = re.compile(r"[0-9]{5}")
_MONTH = re.compile(r"([0-9]{4})-?(0[1-9]|1[0-2])")
_YEAR = re.compile(r"[0-9]{4}")
_DIGITS = re.compile(r"[0-9]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def camel_case(column: str) -> str:
    head, *rest = column.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass(frozen=True)
class Filter:
    """One filter parameter of a table: what it accepts and the condition it adds."""

    parameter: str
    column: str
    kind: str  # code | text | month | year | date | bool
    description: str

    def condition(self, raw: str) -> tuple[str, object]:
        """SQL condition with one bound value; ApiError(10) when `raw` is not a valid value."""
        column = f'"{self.column}"'
        value = self._parse(raw)
        if self.kind == "year":
            if self.column == "year":
                return f"{column} = ?", value
            if self.column in MONTH_COLUMNS:
                return f"left({column}, 4) = ?", str(value)
            return f"year({column}) = ?", value
        if self.kind == "month" and self.column not in MONTH_COLUMNS:
            return f"strftime({column}, '%Y-%m') = ?", value
        return f"{column} = ?", value

    def _parse(self, raw: str) -> object:
        invalid = ApiError(ResultCode.INVALID_REQUEST_PARAMETER, f"{self.parameter}: {self.description}")
        raw = raw.strip()
        if self.kind == "code":
            if not _CODE.fullmatch(raw):
                raise invalid
            return raw
        if self.kind == "month":
            match = _MONTH.fullmatch(raw)
            if not match:
                raise invalid
            return f"{match[1]}-{match[2]}"
        if self.kind == "year":
            if not _YEAR.fullmatch(raw) or not 1900 <= int(raw) <= 2100:
                raise invalid
            return int(raw)
        if self.kind == "date":
            for pattern in ("%Y%m%d", "%Y-%m-%d"):
                try:
                    return dt.datetime.strptime(raw, pattern).date()
                except ValueError:
                    pass
            raise invalid
        if self.kind == "bool":
            flags = {"true": True, "y": True, "1": True, "false": False, "n": False, "0": False}
            if raw.lower() not in flags:
                raise invalid
            return flags[raw.lower()]
        if not raw or len(raw) > MAX_TEXT_FILTER or _CONTROL.search(raw):
            raise invalid
        return raw


def table_filters(columns: Iterable[tuple[str, str]]) -> dict[str, Filter]:
    """The filter parameters of a table, from its columns (name, DuckDB type)."""
    columns = list(columns)
    names = {name for name, _ in columns}
    filters: dict[str, Filter] = {}

    def add(parameter: str, column: str, kind: str, description: str) -> None:
        filters.setdefault(parameter, Filter(parameter, column, kind, description))

    for name, type_ in columns:
        if name == "year":
            add("year", name, "year", "연도 YYYY")
        elif name in MONTH_COLUMNS:
            add("month", name, "month", "월 YYYYMM 또는 YYYY-MM")
            if "year" not in names:
                add("year", name, "year", "연도 YYYY")
        elif type_ == "DATE":
            add(camel_case(name), name, "date", "날짜 YYYYMMDD 또는 YYYY-MM-DD")
            add("year", name, "year", "연도 YYYY")
            add("month", name, "month", "월 YYYYMM 또는 YYYY-MM")
        elif name in CODE_COLUMNS:
            add(camel_case(name), name, "code", "5자리 코드")
        elif type_ == "BOOLEAN" and not name.endswith("_below_detection"):
            add(camel_case(name), name, "bool", "true 또는 false")
        elif type_ == "VARCHAR" and name not in NOT_FILTERS:
            add(camel_case(name), name, "text", f"값 그대로(최대 {MAX_TEXT_FILTER}자)")
    return filters


@dataclass(frozen=True)
class PageRequest:
    page_no: int
    num_of_rows: int
    result_type: str
    filters: tuple[tuple[Filter, str], ...]


def is_service_key(name: str) -> bool:
    """`serviceKey`, or `ServiceKey` as many data.go.kr services spell it (any case)."""
    return name.lower() == "servicekey"


def service_key_of(items: list[tuple[str, str]]) -> str | None:
    return next((value for name, value in items if is_service_key(name)), None)


def result_type_of(parameters: Mapping[str, str]) -> str:
    """The requested format, json when absent or unknown (so errors can still be rendered)."""
    value = (parameters.get("resultType") or parameters.get("_type") or "json").lower()
    return value if value in RESULT_TYPES else "json"


def _integer(parameters: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = parameters.get(name)
    if raw is None or raw == "":
        return default
    if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        raise ApiError(ResultCode.INVALID_REQUEST_PARAMETER, f"{name} must be an integer {low}–{high}")
    return int(raw)


def parse_page_request(items: list[tuple[str, str]], filters: Mapping[str, Filter]) -> PageRequest:
    """Validate a request's query parameters (each at most once) against a table's filters."""
    parameters: dict[str, str] = {}
    for name, value in items:
        if is_service_key(name):
            name = SERVICE_KEY
        if name in parameters:
            raise ApiError(ResultCode.INVALID_REQUEST_PARAMETER, f"{name} is given more than once")
        parameters[name] = value
    unknown = sorted(set(parameters) - {SERVICE_KEY, *COMMON_PARAMETERS} - set(filters))
    if unknown:
        raise ApiError(ResultCode.INVALID_REQUEST_PARAMETER,
                       f"unknown parameter(s) {', '.join(unknown)}; this service takes "
                       f"{', '.join(sorted(filters)) or 'no filters'}")
    for name in ("resultType", "_type"):
        if name in parameters and parameters[name].lower() not in RESULT_TYPES:
            raise ApiError(ResultCode.INVALID_REQUEST_PARAMETER, f"{name} must be json or xml")
    page_no = _integer(parameters, "pageNo", 1, 1, MAX_PAGE_NO)
    num_of_rows = _integer(parameters, "numOfRows", DEFAULT_ROWS, 1, MAX_ROWS)
    chosen = tuple((filters[name], value) for name, value in parameters.items() if name in filters)
    for filter_, value in chosen:
        filter_.condition(value)  # ApiError(10) on an invalid value, before the call is counted
    return PageRequest(page_no, num_of_rows, result_type_of(parameters), chosen)


class Selection:
    """The rows of one table that match one set of filters, in the export's row order.

    A release never changes, so a selection is computed once per release and filters and then
    paged by slicing; each item's JSON text is kept the first time it is served.
    """

    def __init__(self, names: list[str], rows: list[tuple]):
        self.names = names
        self.rows = rows
        self._json: list[str | None] = [None] * len(rows)

    def item(self, index: int) -> dict:
        return dict(zip(self.names, self.rows[index]))

    def json_item(self, index: int) -> str:
        text = self._json[index]
        if text is None:
            text = self._json[index] = item_json(self.item(index))
        return text

    @property
    def total(self) -> int:
        return len(self.rows)

    def page_indices(self, request: PageRequest) -> range:
        start = (request.page_no - 1) * request.num_of_rows
        return range(min(start, len(self.rows)), min(start + request.num_of_rows, len(self.rows)))

    def page_items(self, request: PageRequest) -> list[dict]:
        return [self.item(i) for i in self.page_indices(request)]

    def page_json(self, request: PageRequest) -> list[str]:
        return [self.json_item(i) for i in self.page_indices(request)]


class PagedSelection:
    """A selection too large to hold (more than `SELECTION_ROWS_KEPT` rows): its count, and each
    page read from DuckDB with LIMIT and OFFSET. Holding a million-row table's rows per request
    took a gigabyte each (16 dataset pages at once: 11 GB)."""

    def __init__(self, release: Release, names: list[str], sql: str, values: list, total: int):
        self.release, self.names, self.sql, self.values, self.total = release, names, sql, values, total

    def page_items(self, request: PageRequest) -> list[dict]:
        start = (request.page_no - 1) * request.num_of_rows
        if start >= self.total:
            return []
        cursor = self.release.cursor()
        try:
            rows = cursor.execute(f"{self.sql} LIMIT {int(request.num_of_rows)} OFFSET {int(start)}",
                                  self.values).fetchall()
        finally:
            cursor.close()
        return [dict(zip(self.names, row)) for row in rows]

    def page_json(self, request: PageRequest) -> list[str]:
        return [item_json(item) for item in self.page_items(request)]


def selection_key(table: str, request: PageRequest) -> tuple:
    """What identifies a selection: the table and its filters' parsed values (so `202503` and
    `2025-03` share one). Raises ApiError(10) on an invalid value."""
    conditions = sorted((f.parameter, repr(f.condition(raw))) for f, raw in request.filters)
    return (table, tuple(conditions))


def select_rows(release: Release, table: str, request: PageRequest) -> Selection | PagedSelection:
    """The matching rows of `table` in the release, from its cache or from DuckDB (counted first:
    a selection larger than `SELECTION_ROWS_KEPT` is paged from DuckDB instead of held)."""
    key = selection_key(table, request)
    cached = release.cached_selection(key)
    if cached is not None:
        return cached
    columns = [name for name, _ in release.columns[table]]
    conditions, values = [], []
    for filter_, raw in request.filters:
        condition, value = filter_.condition(raw)
        conditions.append(condition)
        values.append(value)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    selected = ", ".join(f'"{c}"' for c in columns)
    sql = f'SELECT {selected} FROM "{table}"{where} ORDER BY file_row_number'
    names = [camel_case(c) for c in columns]
    cursor = release.cursor()
    try:
        total = cursor.execute(f'SELECT count(*) FROM "{table}"{where}', values).fetchone()[0]
        if total > SELECTION_ROWS_KEPT:
            return PagedSelection(release, names, sql, values, total)
        rows = cursor.execute(sql, values).fetchall()
    finally:
        cursor.close()
    return release.keep_selection(key, Selection(names, rows))


def query_page(release: Release, table: str, request: PageRequest) -> Page:
    """One page of an open table, in the export's row order, with the total of matching rows."""
    selection = select_rows(release, table, request)
    return Page(selection.page_items(request), request.num_of_rows, request.page_no, selection.total)


def answer_page(selection: Selection | PagedSelection, request: PageRequest) -> tuple[bytes, str]:
    """The response body and media type of one page of a selection."""
    if request.result_type == "json":
        return (render_json_items(selection.page_json(request), request.num_of_rows,
                                  request.page_no, selection.total), "application/json; charset=utf-8")
    page = Page(selection.page_items(request), request.num_of_rows, request.page_no, selection.total)
    return render(page, request.result_type)
