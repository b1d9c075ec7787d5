"""The shape of a dataset contract: what a provider delivers and how each column is treated.

A contract is data, not code: collection, quality and de-identification all read it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gn_pipelines.contracts.layouts import Layout


class PrivacyClass(StrEnum):
    """How a column is treated on its way out of the restricted zone."""

    DIRECT_IDENTIFIER = "direct_identifier"  # deleted or pseudonymised (이름, 주민등록번호, ...)
    QUASI_IDENTIFIER = "quasi_identifier"  # generalised until k-anonymous (area, age, dates)
    SENSITIVE = "sensitive"  # kept, l-diverse within each quasi-identifier group
    FREE_TEXT = "free_text"  # scrubbed of identifiers
    NON_PERSONAL = "non_personal"  # published as is


class ColumnType(StrEnum):
    TEXT = "text"
    CODE = "code"  # fixed-length digit code, e.g. the 5-digit 시군구코드
    TIMESTAMP = "timestamp"
    DATE = "date"
    MONTH = "month"  # a calendar month, kept as 'YYYY-MM'
    INTEGER = "integer"
    DECIMAL = "decimal"


_PARENTHESISED_TAIL = re.compile(r"\(([^()]*)\)$")
# What a unit looks like once NFKC-normalised and case-folded: mg/l, °c (from ℃), m3 (from ㎥)...
# and `-`, no unit (`pH(-)`)
_UNIT = re.compile(r".*[/°%].*|(mg|g|kg|m|m2|m3|km|ha|ppm|ppb|원|천원|백만원|개|개소|명|건|세|미터|제곱미터|톤|-)")
# A unit written after a space without parentheses (`BOD mg/L`, `수온 ℃`): only the forms no name
# ends in (a slash, a degree, a percent), so `사업장 명` stays `사업장명`
SPACED_UNIT_TAIL = re.compile(r"\s+([^\s()]*[/°%][^\s()]*)\s*$")


def header_key(header: str) -> str:
    """Normalise a header for matching: NFKC, no BOM or spaces, case-folded, trailing units dropped.

    `BOD(mg/L)`, `BOD (mg/L)`, `BOD mg/L`, ` BOD ` and `\\ufeffBOD` all become `bod` (the spec
    allows a unit with or without its parentheses); other parentheses stay, so `좌표(X)` is not
    `좌표(Y)`.
    """
    text = unicodedata.normalize("NFKC", header).replace("\ufeff", "")
    text = SPACED_UNIT_TAIL.sub("", text.strip())
    text = re.sub(r"\s+", "", text).casefold()
    while (tail := _PARENTHESISED_TAIL.search(text)) and _UNIT.fullmatch(tail.group(1)):
        text = text[:tail.start()]
    return text


def bare_header_key(header: str) -> str:
    """A contract header without any trailing parentheses: `수소이온농도(pH)` also answers to
    `수소이온농도`. Applied to the contract's own headers only, never to a file's."""
    text = header_key(header)
    while tail := _PARENTHESISED_TAIL.search(text):
        text = text[:tail.start()]
    return text


class Severity(StrEnum):
    """ERROR: the row is quarantined (and too many such rows quarantine the drop); WARN informs."""

    ERROR = "ERROR"
    WARN = "WARN"


@dataclass(frozen=True)
class Column:
    header: str  # the header of the drop spec, in Korean
    name: str  # canonical name used everywhere after collection
    type: ColumnType
    privacy: PrivacyClass
    required: bool = False
    aliases: tuple[str, ...] = ()  # tolerated header variants besides `header` and `name`
    allowed_values: tuple[str, ...] | None = None
    min_value: float | None = None
    max_value: float | None = None
    length: int | None = None  # for CODE columns
    below_detection: bool = False  # may be written `<0.1`, `ND`, `불검출`
    # a Korean identifier format the values must follow: "rrn" or "phone" (quality rules)
    identifier_format: str | None = None
    # what a value outside [min_value, max_value] costs its row
    range_severity: Severity = Severity.ERROR
    description: str = ""
    # a date that may lie ahead (a planned end, e.g. 휴업종료일자): no "not in the future" rule
    may_be_future: bool = False
    # also matched without its trailing parentheses (`수소이온농도(pH)` ← `수소이온농도`); off where
    # the parentheses tell two columns apart (`좌표정보(X)`, `좌표정보(Y)`)
    bare_header_match: bool = True

    @property
    def header_keys(self) -> frozenset[str]:
        variants = (self.header, self.name, *self.aliases)
        keys = (header_key, bare_header_key) if self.bare_header_match else (header_key,)
        return frozenset(key(h) for h in variants for key in keys)


class RuleKind(StrEnum):
    NOT_NULL = "not_null"
    IN_SET = "in_set"
    BETWEEN = "between"
    MATCHES = "matches"  # an anchored regular expression valid in both Python and RE2
    UNIQUE = "unique"  # the columns together are unique within the drop
    NOT_BEFORE = "not_before"  # columns[0] >= columns[1] where both are present
    REQUIRED_WHEN = "required_when"  # columns[0] present when `when` = (column, value)
    HOLDS = "holds"  # `sql` (a boolean over the row) is not FALSE


@dataclass(frozen=True)
class QualityRule:
    """One expectation on a drop, stated once; quality renders it to GX and to SQL.

    SQL may use the bound parameters `$today` (DATE), `$provider_codes` (VARCHAR[]: the codes
    the delivering provider may use), `$known_eup_myeon_dong` (VARCHAR[] of `시군구코드 읍면동`),
    `$registered_station_codes` and `$registered_stations` (VARCHAR[] of `측정소코드 측정소명`, the
    name without spaces) of the water station registry.
    """

    name: str
    kind: RuleKind
    columns: tuple[str, ...]
    description: str
    severity: Severity = Severity.ERROR
    values: tuple[str, ...] = ()
    min_value: float | None = None
    max_value: float | None = None
    pattern: str | None = None
    when: tuple[str, str] | None = None
    sql: str | None = None
    # columns computed before validation, as (name, SQL expression), e.g. a date from a timestamp
    derived: tuple[tuple[str, str], ...] = ()


# A daily file is due the day after; a weekly one within a week; a monthly one by the 15th of
# the next month. A provider is late when nothing came for one cadence plus that grace.
CADENCE_GRACE_HOURS = {"daily": 24.0, "weekly": 7 * 24.0, "monthly": 15 * 24.0}
CADENCE_INTERVAL_HOURS = {"daily": 48.0, "weekly": 14 * 24.0, "monthly": 46 * 24.0}


_MiB = 1 << 20


@dataclass(frozen=True)
class FileBudget:
    """What one delivered file may cost before it is parsed; a file over it is refused whole.

    Checked on the raw bytes (and the xlsx zip directory) without a parser, so a hostile file
    never reaches one; the parser itself then runs in a child process held to `parser_memory_bytes`
    of address space and `parser_cpu_seconds`, so a crash is the file's rejection, not the run's.
    """

    max_bytes: int = 512 * _MiB
    max_rows: int = 5_000_000
    max_columns: int = 200
    max_line_bytes: int = 1 * _MiB  # one physical CSV line (a long complaint is a few KB)
    max_xlsx_cells: int = 5_000_000  # rows × columns of a sheet's range, declared or used
    max_xlsx_uncompressed_bytes: int = 512 * _MiB  # every part of the workbook, inflated
    max_compression_ratio: float = 200.0  # xlsx XML deflates 5-20×; zip bombs 1,000× and more
    # RLIMIT_AS of the parsing process: virtual, not RSS (DuckDB's own 1 GB memory_limit bounds
    # RSS). DuckDB's threads and buffers reserve far more address space than they touch: a
    # 340 MiB, 1M-row complaint file needs ~2.5 GiB of it, and 2 GiB refused it as out of memory.
    parser_memory_bytes: int = 4096 * _MiB
    parser_cpu_seconds: int = 900


@dataclass(frozen=True)
class DatasetContract:
    name: str
    title_ko: str
    title_en: str
    columns: tuple[Column, ...]
    # how often each provider is expected to deliver (used by freshness checks)
    cadence: str
    # the column that must carry the provider's own code (rows of another 시군 are rejected)
    provider_code_column: str | None = None
    # sets of columns unique within a provider
    unique_within_provider: tuple[tuple[str, ...], ...] = ()
    # providers allowed to deliver this dataset; None means every provider
    providers: frozenset[str] | None = None
    description: str = ""
    # dataset-specific quality rules, besides those derived from the columns
    rules: tuple[QualityRule, ...] = ()
    # a drop with a larger share of bad rows is quarantined whole
    quarantine_threshold: float = 0.05
    # the column that dates a row's period (a day, a month): files are on time or late against it
    period_column: str | None = None
    # hours after the end of a file's period by which it is due; None: from the cadence
    delivery_grace_hours: float | None = None
    # hours without any delivery after which a provider is late; None: from the cadence
    delivery_interval_hours: float | None = None
    # other shapes the dataset is delivered in, read into the same columns (contracts/layouts.py)
    layouts: tuple[Layout, ...] = ()
    # what one file may cost before parsing (bytes, rows, columns, line length, xlsx size)
    budget: FileBudget = FileBudget()
    # columns the contract does not name are kept, as delivered, in the collected row's
    # `extra_columns` (JSON, restricted zone; never published): LOCALDATA's differ by business type
    keeps_extra_columns: bool = False

    @property
    def grace_hours(self) -> float:
        return self.delivery_grace_hours or CADENCE_GRACE_HOURS[self.cadence]

    @property
    def interval_hours(self) -> float:
        return self.delivery_interval_hours or CADENCE_INTERVAL_HOURS[self.cadence]

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def required_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    def columns_of(self, privacy: PrivacyClass) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.privacy == privacy)
