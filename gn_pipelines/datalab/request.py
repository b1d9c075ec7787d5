"""A data-lab extract request, parsed from a mapping or YAML, and the checks that grant or refuse it.

Parsing is lenient (anything shaped like a request becomes one, a missing field included) so that
every request, even a malformed one, reaches the checks and the audit trail with a readable reason.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

import yaml

from gn_pipelines.publish.tables import PSEUDONYMOUS, PUBLISHED_TABLES_BY_NAME, STATISTICS, PublishedTable
from gn_pipelines.seoul_time import in_seoul

# The use period of an extract (PIPC 가명정보 처리 가이드라인: a stated period, then destruction).
DEFAULT_PERIOD_DAYS = 30
MAX_PERIOD_DAYS = 90
REQUIRED_FIELDS = ("requester", "organisation", "purpose", "table")
OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "in", "between")
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


@dataclass(frozen=True)
class ExtractFilter:
    column: str
    operator: str
    value: Any


@dataclass(frozen=True)
class ExtractRequest:
    requester: str
    purpose: str
    table: str
    columns: tuple[str, ...] = ()
    filters: tuple[ExtractFilter, ...] = ()
    group_by: tuple[str, ...] = ()
    given_id: str | None = None
    requested_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    organisation: str = ""
    period_days: Any = DEFAULT_PERIOD_DAYS  # checked, not trusted: it comes from a file

    @property
    def needs_review(self) -> bool:
        """Record-level rows of a 가명정보 table leave only after an adequacy review."""
        table = PUBLISHED_TABLES_BY_NAME.get(self.table)
        return not self.group_by and table is not None and table.privacy_class == PSEUDONYMOUS

    @property
    def privacy_class(self) -> str | None:
        """The class of the extract: counts are statistics; rows keep their table's class."""
        table = PUBLISHED_TABLES_BY_NAME.get(self.table)
        if table is None:
            return None
        return STATISTICS if self.group_by else table.privacy_class

    @property
    def request_id(self) -> str:
        """The given id if it is a safe folder name, else the date and a hash of what is asked."""
        if self.given_id and _REQUEST_ID.fullmatch(self.given_id):
            return self.given_id
        return f"{in_seoul(self.requested_at):%Y%m%d}-{hashlib.sha256(self.canonical().encode()).hexdigest()[:10]}"

    def canonical(self) -> str:
        """What is asked, as stable JSON (the hash of the derived request id)."""
        return json.dumps({"requester": self.requester, "purpose": self.purpose, "table": self.table,
                           "columns": list(self.columns), "group_by": list(self.group_by),
                           "filters": [[f.column, f.operator, f.value] for f in self.filters],
                           **({"organisation": self.organisation} if self.organisation else {}),
                           **({"period_days": self.period_days}
                              if self.period_days != DEFAULT_PERIOD_DAYS else {})},
                          ensure_ascii=False, sort_keys=True, default=str)

    def as_mapping(self) -> dict:
        """The request as its YAML would give it (stored with the request, parsed again at review)."""
        return {"requester": self.requester, "organisation": self.organisation, "purpose": self.purpose,
                "table": self.table, "columns": list(self.columns), "group_by": list(self.group_by),
                "filters": [{"column": f.column, "operator": f.operator, "value": f.value} for f in self.filters],
                "period_days": self.period_days, "request_id": self.request_id}


def _names(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return tuple(str(v) for v in value)


def _filter(item: Any) -> ExtractFilter:
    if isinstance(item, Mapping):
        operator = item.get("operator", item.get("op", "="))
        return ExtractFilter(str(item.get("column", "")), str(operator).strip().lower(), item.get("value"))
    if isinstance(item, (list, tuple)) and len(item) == 3:
        return ExtractFilter(str(item[0]), str(item[1]).strip().lower(), item[2])
    return ExtractFilter("", f"unreadable filter {item!r}", None)


def parse_request(data: Mapping[str, Any]) -> ExtractRequest:
    """An ExtractRequest from a mapping (YAML, Dagster run config); checks come later."""
    if not isinstance(data, Mapping):
        raise TypeError(f"an extract request is a mapping, not {type(data).__name__}")
    period = data.get("period_days")
    return ExtractRequest(
        requester=str(data.get("requester") or "").strip(), purpose=str(data.get("purpose") or "").strip(),
        table=_table(data), columns=_names(data.get("columns")),
        filters=tuple(_filter(f) for f in data.get("filters") or ()), group_by=_names(data.get("group_by")),
        given_id=str(data["request_id"]) if data.get("request_id") else None,
        organisation=str(data.get("organisation") or "").strip(),
        period_days=DEFAULT_PERIOD_DAYS if period is None else period)


def _table(data: Mapping[str, Any]) -> str:
    """`table: name`, or `tables: [name]` (one table per request: a join would need its own review)."""
    tables = data.get("tables")
    if tables and not data.get("table"):
        names = _names(tables)
        return names[0] if len(names) == 1 else ",".join(names)
    return str(data.get("table") or "").strip()


def load_request(path: Path) -> ExtractRequest:
    """Parse a request YAML file (see `example_request.yaml`)."""
    return parse_request(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})


def refusal_reason(request: ExtractRequest) -> str | None:
    """Why the request must be refused (first reason found), or None when it may run."""
    missing = [name for name in REQUIRED_FIELDS if not getattr(request, name)]
    if missing:
        return f"missing required field(s): {', '.join(missing)}"
    if not request.columns and not request.group_by:
        return "missing required field(s): columns (or group_by for counts)"
    period = request.period_days
    if isinstance(period, bool) or not isinstance(period, int) or not 1 <= period <= MAX_PERIOD_DAYS:
        return f"period_days must be a whole number of days from 1 to {MAX_PERIOD_DAYS} (got {period!r})"
    if "," in request.table:
        return "one table per request (tables: [one name])"
    if request.given_id and not _REQUEST_ID.fullmatch(request.given_id):
        return f"request_id {request.given_id!r} is not a safe folder name (letters, digits, - and _)"
    table = PUBLISHED_TABLES_BY_NAME.get(request.table)
    if table is None:
        return f"{request.table!r} is not a published table (known: {', '.join(PUBLISHED_TABLES_BY_NAME)})"
    return _column_reason(request, table) or _filter_reason(request, table) or _shape_reason(request, table)


def _not_allowed(table: PublishedTable, names: tuple[str, ...], allowed: tuple[str, ...], use: str) -> str | None:
    unknown = [n for n in names if n not in table.column_names]
    if unknown:
        return f"{table.name} has no column {', '.join(unknown)}"
    refused = [n for n in names if n not in allowed]
    if refused:
        return (f"{', '.join(refused)} may not be {use} in {table.name} "
                f"(allowed: {', '.join(allowed) or 'none'})")
    return None


def _column_reason(request: ExtractRequest, table: PublishedTable) -> str | None:
    return (_not_allowed(table, request.columns, table.selectable, "selected")
            or _not_allowed(table, request.group_by, table.groupable, "grouped by"))


def _filter_reason(request: ExtractRequest, table: PublishedTable) -> str | None:
    for f in request.filters:
        if reason := _not_allowed(table, (f.column,), table.filterable, "filtered on"):
            return reason
        if f.operator not in OPERATORS:
            return f"filter on {f.column}: operator {f.operator!r} is not one of {', '.join(OPERATORS)}"
        if reason := _value_reason(f):
            return reason
    return None


def _value_reason(f: ExtractFilter) -> str | None:
    is_list = isinstance(f.value, (list, tuple))
    if f.operator == "in" and not (is_list and f.value):
        return f"filter on {f.column}: 'in' takes a non-empty list of values"
    if f.operator == "between" and not (is_list and len(f.value) == 2):
        return f"filter on {f.column}: 'between' takes a list of two values"
    if f.operator not in ("in", "between") and (is_list or f.value is None):
        return f"filter on {f.column}: {f.operator!r} takes one value"
    return None


def _shape_reason(request: ExtractRequest, table: PublishedTable) -> str | None:
    if request.group_by:
        extra = [c for c in request.columns if c not in request.group_by]
        if extra:
            return (f"grouped output holds the group-by columns and a count; "
                    f"{', '.join(extra)} is not in group_by")
        return None
    if not table.record_level_allowed and table.privacy_class != PSEUDONYMOUS:
        return (f"{table.name} may not be extracted row by row: ask for counts with group_by "
                f"(allowed: {', '.join(table.groupable)})")
    if not request.columns:
        return "name the columns to extract (or a group_by for counts)"
    return None
