"""Map a drop's header row onto a contract's canonical column names."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from gn_pipelines.contracts import DatasetContract, header_key
from gn_pipelines.contracts.layouts import WideByPeriodLayout, unit_in_name
from gn_pipelines.contracts.model import Column

_MONTH_LABEL = re.compile(r"^\d{4}[.\-]\d{2}$")
# Units that scale a value the contract counts in plain units (월지급액 in 원): never dropped silently
SCALED_UNITS = frozenset({"천원", "만원", "백만원", "억원", "천명", "천건", "천톤"})


def unit_problem(header: str, column: Column) -> str | None:
    """Why a header's unit is not the contract's, or None: a unit in a header is tolerated when it
    is the contract's own (`BOD(mg/L)`) or names no scale (`가구원수(명)`), never when it would
    change the values (`월지급액(천원)`: 766 is 766,000 원; `총인(T-P)(㎍/L)`: 38 ㎍/L is 0.038 mg/L)."""
    delivered, expected = unit_in_name(header), unit_in_name(column.header)
    if delivered is None or delivered == expected:
        return None
    if expected is not None:
        return f"{header.strip()!r}: values in {delivered}, the contract's {column.header} is in {expected}"
    if delivered.split("/")[0] in SCALED_UNITS:  # `천원/월` is in 천원 too
        return f"{header.strip()!r}: values in {delivered}, the contract's {column.header} counts plain units"
    return None


@dataclass(frozen=True)
class HeaderMapping:
    headers: tuple[str, ...]  # as written in the file
    canonical_by_position: dict[int, str]
    unknown: tuple[str, ...] = ()
    missing_required: tuple[str, ...] = ()  # Korean headers of the contract
    duplicated: tuple[str, ...] = ()
    problems: list[str] = field(default_factory=list)

    @property
    def acceptable(self) -> bool:
        return not self.problems


def read_header_rows(path: Path, rows: int = 2) -> list[list[str]]:
    """The first `rows` CSV records of a UTF-8 file (the header and what follows it)."""
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        head = handle.read(1 << 16)
    reader = csv.reader(io.StringIO(head))
    return [record for _, record in zip(range(rows), reader)]


def map_headers(contract: DatasetContract, header_rows: list[list[str]]) -> HeaderMapping:
    """Match each header to a contract column; report unknown, missing and duplicated ones."""
    headers = tuple(header_rows[0]) if header_rows else ()
    by_key = {key: column for column in contract.columns for key in column.header_keys}
    canonical: dict[int, str] = {}
    unknown, seen, duplicated, units, in_other_units = [], {}, [], [], set()
    for position, header in enumerate(headers):
        column = by_key.get(header_key(header))
        if column is None:
            if header.strip():
                unknown.append(header.strip())
        elif problem := unit_problem(header, column):
            units.append(problem)
            in_other_units.add(column.name)  # there, in another unit: not also "missing"
        elif column.name in seen:
            duplicated.append(f"{seen[column.name]!r} and {header.strip()!r} both mean {column.header}")
        else:
            seen[column.name] = header.strip()
            canonical[position] = column.name
    missing = tuple(c.header for c in contract.required_columns if c.name not in seen and c.name not in in_other_units)
    problems = []
    if missing:
        problems.append(_missing_headers_reason(contract, missing, header_rows))
    if duplicated:
        problems.append("ambiguous headers: " + "; ".join(duplicated))
    if units:
        problems.append("units other than the contract's (convert the values, or write the contract's "
                        "unit): " + "; ".join(units))
    return HeaderMapping(headers, canonical, tuple(unknown), missing, tuple(duplicated), problems)


def _missing_headers_reason(contract: DatasetContract, missing: tuple[str, ...],
                            header_rows: list[list[str]]) -> str:
    reason = f"required headers missing for {contract.name}: {', '.join(missing)}"
    first = header_rows[0] if header_rows else []
    separator = next((s for s in (";", "\t", "|") if len(first) == 1 and s in first[0]), None)
    if separator:
        reason += f". The header looks separated by {separator!r}: drops must be comma-separated CSV"
    if len(header_rows) > 1 and _looks_like_two_row_header(contract, header_rows):
        reason += (
            ". The file has a two-row header (row 1 holds months such as "
            f"{next(h for h in header_rows[0] if _MONTH_LABEL.match(h.strip()))!r}, row 2 the "
            "parameter names), but not as a layout this dataset accepts"
        )
        for layout in (layout for layout in contract.layouts if isinstance(layout, WideByPeriodLayout)):
            reason += f" (the {layout.title} begins both rows with {', '.join(layout.identifying_headers)})"
    return reason


def _looks_like_two_row_header(contract: DatasetContract, header_rows: list[list[str]]) -> bool:
    first, second = header_rows[0], header_rows[1]
    months = sum(bool(_MONTH_LABEL.match(h.strip())) for h in first)
    known = {key for column in contract.columns for key in column.header_keys}
    parameters = sum(header_key(h) in known for h in second)
    return months >= 2 and parameters >= 2
