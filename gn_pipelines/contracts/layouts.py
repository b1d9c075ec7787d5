"""Delivery layouts: other shapes in which a dataset arrives, each read into the contract's
canonical columns before the usual typing, rejection and lineage.

A layout is a declaration (which header rows it has, which columns name the row, how periods
and parameters are laid out, which reference table gives codes); `ingest/layouts.py` reads it
in DuckDB. A file is read with the first layout its header rows match, else as the contract's
own one-header-row table.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from gn_pipelines.contracts.model import SPACED_UNIT_TAIL, header_key

_PARENTHESISED_TAIL = re.compile(r"\(([^()]*)\)\s*$")


# Other spellings of a contract's unit (normalised as below): a count per 100 mL is the count of
# 총대장균군 per 100 mL, whatever word names the count
SAME_UNITS = {"개/100ml": "총대장균군수/100ml", "cfu/100ml": "총대장균군수/100ml", "mpn/100ml": "총대장균군수/100ml"}


def unit_in_name(name: str) -> str | None:
    """The unit written at the end of a header in parentheses, or after a space without them,
    normalised for comparison: `총인 T-P (mg/L)` → `mg/l`, `수온 (℃ )` → `°c`, `BOD mg/L` →
    `mg/l`, `총대장균군 (총대장균군수/100㎖)` → `총대장균군수/100ml`. `(pH )` names the parameter,
    not a unit: None."""
    normalised = unicodedata.normalize("NFKC", name)
    tail = _PARENTHESISED_TAIL.search(normalised) or SPACED_UNIT_TAIL.search(normalised)
    if not tail:
        return None
    unit = re.sub(r"\s+", "", tail.group(1)).casefold()
    unit = SAME_UNITS.get(unit, unit)
    return unit if header_key(f"x({unit})") == "x" else None


@dataclass(frozen=True)
class CodeLookup:
    """A canonical code found by names in a bundled reference table; where no row matches, a
    stable key made from the names (a prefix and the first hex digits of their SHA-256), or
    no code at all when `key_prefix` is None, and a warning naming the row."""

    target: str  # canonical column that receives the code
    reference: str  # a table of gn_pipelines/reference/data (without .csv)
    code_column: str  # its column holding the code
    match: tuple[tuple[str, str], ...]  # (file header, reference column) pairs that must all agree
    key_from: tuple[str, ...]  # file headers whose values, joined by '/', make the stable key
    key_prefix: str | None  # None: an unmatched row gets no code (and is rejected for it)
    unknown: str  # what rows without a code are, for the warning: "station(s) outside the registry"


@dataclass(frozen=True)
class WideByPeriodLayout:
    """A table export with two header rows: row 1 names the row-identifying columns, then a
    period label (e.g. the month `2025.03`) over every value column of that period; row 2
    repeats the identifying names, then the parameter of each value column with its unit
    (`생물화학적산소요구량 BOD (mg/L)`). One row per station (or other unit); the set and order
    of parameters may change from period to period. Read wide-to-long, then one output row
    per identified unit and period."""

    name: str
    title: str
    identifying_headers: tuple[str, ...]  # row 1 and row 2 start with these, in this order
    period_pattern: str  # a period label of row 1, with groups (year, month)
    period_column: str  # canonical DATE column receiving the period
    period_day: int  # the day of the month a month-level value is dated to
    # canonical column ← identifying header (text copied as is)
    copied: tuple[tuple[str, str], ...]
    code: CodeLookup | None = None

    def identifying_keys(self) -> tuple[str, ...]:
        return tuple(header_key(h) for h in self.identifying_headers)

    def matches(self, header_rows: list[list[str]]) -> bool:
        """Whether a file's first two rows are this layout's header rows."""
        if len(header_rows) < 2:
            return False
        width = len(self.identifying_headers)
        first, second = header_rows[0], header_rows[1]
        if len(first) <= width or len(second) <= width:
            return False
        keys = self.identifying_keys()
        return (tuple(header_key(h) for h in first[:width]) == keys
                and tuple(header_key(h) for h in second[:width]) == keys
                and all(re.fullmatch(self.period_pattern, h.strip()) for h in first[width:] if h.strip()))


@dataclass(frozen=True)
class CodedTableLayout:
    """A one-header-row table in another system's own headers (e.g. the LOCALDATA standard
    file), recognised by `signature_headers`; columns are matched to the contract by name (its
    headers and aliases), extra ones reported (and kept when the contract keeps them), and the contract column `code.target`,
    which the file does not carry, is looked up from other columns in a reference table."""

    name: str
    title: str
    signature_headers: tuple[str, ...]  # all present in the header row (in any order)
    absent_headers: tuple[str, ...]  # none present: a file with them is the contract's own table
    code: CodeLookup

    def matches(self, header_rows: list[list[str]]) -> bool:
        """Whether a file's header row is this layout's: every signature header present, and
        none of the headers only the contract's own table has (e.g. the looked-up code's)."""
        if not header_rows:
            return False
        present = {header_key(h) for h in header_rows[0]}
        return (all(header_key(h) in present for h in self.signature_headers)
                and not any(header_key(h) in present for h in self.absent_headers))


Layout = WideByPeriodLayout | CodedTableLayout
