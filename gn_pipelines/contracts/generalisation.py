"""Generalisation ladders (데이터 범주화 / 데이터 마스킹), as data: each level a DuckDB expression.

A ladder climbs from the most detailed publishable form of a quasi-identifier to `*`. Level
labels are stable and sort in their natural order as plain strings (zero-padded bounds,
`+` for a top-coded band, `*` for masked), so published tables sort without a lookup:

| ladder      | levels (labels)                                                                |
|-------------|--------------------------------------------------------------------------------|
| age         | exact `034` → 5-year `30-34` (top `85+`) → 10-year `30-39` (top `80+`) → `70+` top-coded → `*` |
| sex         | kept → `*`                                                                     |
| area        | (시군구, 읍면동) → (시군구, `*`) → [창원 구 → 창원시] → (`48000` 경상남도, `*`)     |
| household   | `1`…`4`, `5+` → `1`, `2`, `3+` → `*`                                           |
| date        | `2025-03-14` → `2025-03` → `2025-Q1` → `2025` → `*`                            |
| amount KRW  | 300k bands `0300-0600k` (top `3000k+`) → 1M bands `1000-2000k` (top `2000k+`) → `*` |
| days        | exact `05` → `00`, `01-03`, `04-07`, `08-14`, `15-30`, `31-60`, `61+` → `00-07`, `08-30`, `31+` → `*` |

Bands are [lower, upper): `0300-0600k` holds 300,000 ≤ amount < 600,000 KRW. Age is the age
reached in the reference year (연 나이): only the birth year survives de-identification.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from gn_pipelines.reference.providers import CHANGWON_CODE, CHANGWON_DISTRICTS, PROVINCE_CODE

GENERALISED = "데이터 범주화"
MASKED = "데이터 마스킹"
KEPT = "원본 유지"
MASK = "*"


@dataclass(frozen=True)
class Level:
    """One rung: a name, the guideline technique, one SQL expression per output column."""

    name: str
    technique: str
    sql: tuple[str, ...]


@dataclass(frozen=True)
class Ladder:
    """A quasi-identifier's generalisation hierarchy, finest level first."""

    name: str
    outputs: tuple[str, ...]
    levels: tuple[Level, ...]

    def from_level(self, first: int) -> Ladder:
        """The same ladder without its finer levels (e.g. never publish an exact age)."""
        return replace(self, levels=self.levels[first:])

    def until_level(self, last: int) -> Ladder:
        """The same ladder stopping at `last` (e.g. an amount band used as a sensitive value)."""
        return replace(self, levels=self.levels[:last + 1])


def quote(identifier: str) -> str:
    """A double-quoted DuckDB identifier."""
    return '"' + identifier.replace('"', '""') + '"'


def _level(name: str, technique: str, *sql: str) -> Level:
    return Level(name, technique, tuple(sql))


def _masked(count: int = 1) -> Level:
    return _level("masked", MASKED, *([f"'{MASK}'"] * count))


def exact_ladder(column: str, output: str | None = None) -> Ladder:
    """Kept as text → `*` (e.g. sex)."""
    kept = _level("kept", KEPT, f"CAST({quote(column)} AS VARCHAR)")
    return Ladder(output or column, (output or column,), (kept, _masked()))


def sex_ladder(column: str = "sex", output: str = "sex") -> Ladder:
    return exact_ladder(column, output)


def _year_of(at: str | date) -> str:
    if isinstance(at, date):
        return str(at.year)  # a typed date, not data from a file
    # works for DATE, TIMESTAMP and 'YYYY-MM' text alike
    return f"CAST(left(CAST({quote(at)} AS VARCHAR), 4) AS INTEGER)"


def _band(value: str, width: int, top: int, digits: int = 2) -> str:
    low = f"({value} // {width}) * {width}"
    return (f"CASE WHEN {value} IS NULL THEN NULL WHEN {value} >= {top} THEN '{top}+' "
            f"ELSE lpad(CAST({low} AS VARCHAR), {digits}, '0') || '-' || "
            f"lpad(CAST({low} + {width - 1} AS VARCHAR), {digits}, '0') END")


def age_ladder(birth_year: str = "birth_year", at: str | date = "reference_month",
               output: str = "age_band") -> Ladder:
    """Age in the year of `at` (a column or a date): exact → 5y → 10y → 70+ → `*`."""
    age = f"({_year_of(at)} - {quote(birth_year)})"
    return Ladder("age", (output,), (
        _level("exact age", KEPT, f"lpad(CAST({age} AS VARCHAR), 3, '0')"),
        _level("5-year band, 85+", GENERALISED, _band(age, 5, 85)),
        _level("10-year band, 80+", GENERALISED, _band(age, 10, 80)),
        _level("10-year band, 70+", GENERALISED, _band(age, 10, 70)),
        _masked(),
    ))


def area_ladder(sigungu: str = "sigungu_code", eup_myeon_dong: str = "eup_myeon_dong",
                changwon_districts: bool = False) -> Ladder:
    """읍면동 → 시군구 → (창원 구 → 창원시) → 도: outputs (sigungu_code, eup_myeon_dong)."""
    code, dong = quote(sigungu), quote(eup_myeon_dong)
    levels = [
        _level("읍면동", KEPT, code, dong),
        _level("시군구", GENERALISED, code, f"'{MASK}'"),
    ]
    if changwon_districts:
        districts = ", ".join(f"'{c}'" for c in CHANGWON_DISTRICTS)  # constants, not data
        levels.append(_level("시군", GENERALISED,
                             f"CASE WHEN {code} IN ({districts}) THEN '{CHANGWON_CODE}' ELSE {code} END",
                             f"'{MASK}'"))
    levels.append(_level("도 (경상남도)", GENERALISED, f"'{PROVINCE_CODE}'", f"'{MASK}'"))
    return Ladder("area", (sigungu, eup_myeon_dong), tuple(levels))


def household_ladder(column: str = "household_size", output: str = "household_size_band") -> Ladder:
    """1, 2, 3, 4, 5+ → 1, 2, 3+ → `*`."""
    size = f"CAST({quote(column)} AS INTEGER)"
    return Ladder("household size", (output,), (
        _level("1–4, 5+", GENERALISED, f"CASE WHEN {size} >= 5 THEN '5+' ELSE CAST({size} AS VARCHAR) END"),
        _level("1, 2, 3+", GENERALISED, f"CASE WHEN {size} >= 3 THEN '3+' ELSE CAST({size} AS VARCHAR) END"),
        _masked(),
    ))


def date_ladder(column: str, output: str | None = None) -> Ladder:
    """Day → month → quarter → year → `*` (DATE, TIMESTAMP or ISO text)."""
    day = f"CAST({quote(column)} AS DATE)"
    return Ladder(column, (output or column,), (
        _level("day", KEPT, f"strftime({day}, '%Y-%m-%d')"),
        _level("month", GENERALISED, f"strftime({day}, '%Y-%m')"),
        _level("quarter", GENERALISED, f"strftime({day}, '%Y') || '-Q' || CAST(quarter({day}) AS VARCHAR)"),
        _level("year", GENERALISED, f"strftime({day}, '%Y')"),
        _masked(),
    ))


def month_ladder(column: str, output: str | None = None) -> Ladder:
    """A date ladder starting at the month (the finest level civil complaints publish)."""
    return date_ladder(column, output).from_level(1)


def _krw_band(amount: str, width_k: int, top_k: int) -> str:
    thousands = f"(CAST({amount} AS BIGINT) // 1000)"
    low = f"({thousands} // {width_k}) * {width_k}"
    return (f"CASE WHEN {amount} IS NULL THEN NULL WHEN {thousands} >= {top_k} THEN '{top_k:04d}k+' "
            f"ELSE lpad(CAST({low} AS VARCHAR), 4, '0') || '-' || "
            f"lpad(CAST({low} + {width_k} AS VARCHAR), 4, '0') || 'k' END")


def amount_ladder(column: str = "monthly_amount_krw", output: str = "amount_band") -> Ladder:
    """KRW: 300k bands up to 3M → 1M bands up to 2M → `*`."""
    amount = quote(column)
    return Ladder("amount", (output,), (
        _level("300k bands, 3000k+", GENERALISED, _krw_band(amount, 300, 3000)),
        _level("1M bands, 2000k+", GENERALISED, _krw_band(amount, 1000, 2000)),
        _masked(),
    ))


DAY_BANDS = ((0, 0), (1, 3), (4, 7), (8, 14), (15, 30), (31, 60))
COARSE_DAY_BANDS = ((0, 7), (8, 30))


def _days_band(days: str, bands: Sequence[tuple[int, int]]) -> str:
    whens = " ".join(
        f"WHEN {days} <= {high} THEN '{low:02d}'" if low == high else
        f"WHEN {days} <= {high} THEN '{low:02d}-{high:02d}'" for low, high in bands)
    return f"CASE WHEN {days} IS NULL THEN NULL {whens} ELSE '{bands[-1][1] + 1:02d}+' END"


def days_ladder(column: str = "days_to_completion", output: str = "days_band") -> Ladder:
    """Days to completion: exact → fine bands → coarse bands → `*`."""
    days = f"CAST({quote(column)} AS INTEGER)"
    return Ladder("days to completion", (output,), (
        _level("exact days", KEPT, f"lpad(CAST({days} AS VARCHAR), 2, '0')"),
        _level("days bands", GENERALISED, _days_band(days, DAY_BANDS)),
        _level("coarse days bands", GENERALISED, _days_band(days, COARSE_DAY_BANDS)),
        _masked(),
    ))


# Python twins of the SQL labels, for reports, tests and small frames.

def age_band_label(age: int, width: int = 5, top: int = 85) -> str:
    """`30-34`, `85+` (width 5); `30-39`, `80+` (width 10)."""
    if age >= top:
        return f"{top}+"
    low = age // width * width
    return f"{low:02d}-{low + width - 1:02d}"


def amount_band_label(krw: int, width_k: int = 300, top_k: int = 3000) -> str:
    """`0300-0600k` for 300,000 ≤ krw < 600,000; `3000k+` from the top."""
    thousands = krw // 1000
    if thousands >= top_k:
        return f"{top_k:04d}k+"
    low = thousands // width_k * width_k
    return f"{low:04d}-{low + width_k:04d}k"


def household_band_label(size: int, top: int = 5) -> str:
    """`1`…`4`, `5+` (top 5); `1`, `2`, `3+` (top 3)."""
    return f"{top}+" if size >= top else str(size)


def days_band_label(days: int, bands: Sequence[tuple[int, int]] = DAY_BANDS) -> str:
    for low, high in bands:
        if days <= high:
            return f"{low:02d}" if low == high else f"{low:02d}-{high:02d}"
    return f"{bands[-1][1] + 1:02d}+"

