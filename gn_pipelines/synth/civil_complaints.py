"""민원 접수 자료: a daily file per 시군 of the complaints received that day."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa

from gn_pipelines.datasets.civil_complaints import COMPLAINT_CATEGORIES, COMPLAINT_STATUSES
from gn_pipelines.synth.columns import (
    Columns, concat, digit_pool, pick, set_cells, strings, with_nulls, zero_padded,
)
from gn_pipelines.synth.defects import DefectRules, impossible_date
from gn_pipelines.synth.drop import chunk_sizes, write_drop
from gn_pipelines.synth.model import SynthFile
from gn_pipelines.synth.pools import (
    address_pool, birth_ordinals, district_codes_for, mobile_numbers, name_pool,
    resident_numbers, rng_for,
)
from gn_pipelines.synth.texts import (
    PERSONAL_SHARE, TEXTS_PER_CATEGORY, Complainant, complaint_texts, personal_kinds,
    personal_sentence,
)

DATASET = "civil_complaints"
_KEY = 1  # this dataset's key in the random streams
# The kinds of personal data written into each title and body ("name,phone", null for none):
# ground truth for the scrubber's recall, returned by complaint_table and never written.
PERSONAL_TRUTH = "_personal_data_in_text"

# Complaints on an ordinary weekday; weekends bring about a third (online channels only).
WEEKDAY_COMPLAINTS = {
    "48120": 320, "48250": 200, "48170": 160, "48330": 150, "48310": 110, "48220": 70,
    "48240": 65, "48270": 60, "48720": 25, "48730": 40, "48740": 45, "48820": 35,
    "48840": 30, "48850": 30, "48860": 25, "48870": 28, "48880": 40, "48890": 30,
}
WEEKEND_SHARE = 0.35

CATEGORY_WEIGHTS = np.array([0.2, 0.15, 0.1, 0.1, 0.07, 0.08, 0.1, 0.05, 0.07, 0.08])
STATUS_WEIGHTS = np.array([0.25, 0.3, 0.35, 0.05, 0.05])  # 접수, 처리중, 처리완료, 반려, 취하
DEPARTMENTS = {
    "도로·교통": ("건설과", "교통행정과"), "환경·위생": ("환경위생과", "청소행정과"),
    "복지": ("주민복지과", "노인장애인과"), "건축·주택": ("건축과", "도시재생과"),
    "세무·재정": ("재무과", "세무과"), "상하수도": ("상하수도사업소", "맑은물사업소"),
    "안전·재난": ("안전총괄과", "재난관리과"), "문화·관광": ("문화관광과", "체육진흥과"),
    "농림·수산": ("농업정책과", "산림녹지과", "해양수산과"), "기타": ("행정과", "민원봉사과"),
}
# Complainants are adults; weights rise to the 50s and 60s, who complain most.
AGES = np.arange(19, 90)
AGE_WEIGHTS = np.interp(AGES, [19, 30, 55, 70, 89], [0.4, 1.0, 1.6, 1.2, 0.2])
AGE_WEIGHTS = AGE_WEIGHTS / AGE_WEIGHTS.sum()


# ---------------------------------------------------------------- how many, and which numbers


@lru_cache(maxsize=64)
def _year_counts(seed: int, provider: str, year: int) -> np.ndarray:
    first = date(year, 1, 1)
    days = (date(year + 1, 1, 1) - first).days
    weekend = np.array([(first + timedelta(d)).weekday() >= 5 for d in range(days)])
    mean = WEEKDAY_COMPLAINTS[provider] * np.where(weekend, WEEKEND_SHARE, 1.0)
    return rng_for(seed, _KEY, int(provider), year).poisson(mean)


def daily_complaint_count(seed: int, provider: str, day: date) -> int:
    """How many complaints a provider receives on `day` by default."""
    return int(_year_counts(seed, provider, day.year)[day.timetuple().tm_yday - 1])


def receipts_before(seed: int, provider: str, day: date, rows_per_day: int | None) -> int:
    """Receipts the provider issued earlier in the year: today's numbers continue from there."""
    day_of_year = day.timetuple().tm_yday - 1
    if rows_per_day is not None:
        return rows_per_day * day_of_year
    return int(_year_counts(seed, provider, day.year)[:day_of_year].sum())


# ---------------------------------------------------------------- the rows of one day


@lru_cache(maxsize=1)
def _clock_pool() -> pa.Array:
    """'HH:MM' for each minute, then 'HH:MM:SS' and 'HHMMSS' for each second of a day."""
    seconds = np.arange(86_400)
    two = digit_pool(2)
    hh, mm, ss = (pick(two, v) for v in (seconds // 3600, seconds // 60 % 60, seconds % 60))
    minutes = seconds[::60]
    return pa.concat_arrays([
        concat(pick(two, minutes // 3600), ":", pick(two, minutes // 60 % 60)),
        concat(hh, ":", mm, ":", ss), concat(hh, mm, ss),
    ])


_CLOCK_OFFSETS = np.array([0, 1440, 1440 + 86_400])
# receipt times: 2025-03-01 14:05, 2025.03.01 14:05:09 or 20250301140509
FORMAT_WEIGHTS = np.array([0.85, 0.1, 0.05])


@dataclass(frozen=True)
class ComplaintDay:
    """What every chunk of one provider's day shares."""

    provider: str
    day: date
    seed: int
    rows: int
    first_receipt: int  # sequence number of the day's first receipt, minus one
    receipt_width: int
    as_of: date | None = None  # no completion after this day (the file was written then)

    @property
    def stream(self) -> tuple[int, ...]:
        return (self.seed, _KEY, int(self.provider), self.day.toordinal())


def _received_at(day: date, rng: np.random.Generator, second: np.ndarray) -> pa.Array:
    style = rng.choice(3, len(second), p=FORMAT_WEIGHTS)
    prefixes = strings([f"{day:%Y-%m-%d} ", f"{day:%Y.%m.%d} ", f"{day:%Y%m%d}"])
    clock = np.where(style == 0, second // 60, second) + _CLOCK_OFFSETS[style]
    return concat(pick(prefixes, style), pick(_clock_pool(), clock))


def _departments(rng: np.random.Generator, category: np.ndarray) -> pa.Array:
    names = [DEPARTMENTS[c] for c in COMPLAINT_CATEGORIES]
    offsets = np.cumsum([0] + [len(n) for n in names])[:-1]
    counts = np.array([len(n) for n in names])
    index = offsets[category] + (rng.random(len(category)) * counts[category]).astype(int)
    pool = strings([d for group in names for d in group])
    return with_nulls(pick(pool, index), rng.random(len(category)) < 0.05)


def _completed_on(day: date, rng: np.random.Generator, status: np.ndarray,
                  as_of: date | None = None) -> pa.Array:
    """Present for 처리완료, from the day of receipt up to three days later (not after `as_of`)."""
    later = rng.choice(4, len(status), p=[0.5, 0.25, 0.15, 0.1])
    if as_of is not None:
        later = np.minimum(later, max(0, (as_of - day).days))
    pool = strings([f"{day + timedelta(k):%Y-%m-%d}" for k in range(4)])
    return with_nulls(pick(pool, later), status != COMPLAINT_STATUSES.index("처리완료"))


def _with_personal_data(columns: Columns, dongs: pa.Array, seed: int,
                        rng: np.random.Generator) -> Columns:
    """About one text in ten gets the complainant's own personal data written into it."""
    rows = np.flatnonzero(rng.random(len(dongs)) < PERSONAL_SHARE)
    people = {name: columns[name].take(rows).to_pylist()
              for name in ("complainant_name", "phone", "resident_reg_no", "title", "body")}
    titles, bodies, truth = [], [], []
    for i, dong in enumerate(dongs.take(rows).to_pylist()):
        person = Complainant(people["complainant_name"][i], people["phone"][i],
                             people["resident_reg_no"][i], dong)
        kinds = personal_kinds(person, rng)
        said = " ".join(personal_sentence(k, person, seed, rng) for k in kinds)
        body = people["body"][i]
        bodies.append(f"{said} {body}" if rng.random() < 0.5 else f"{body} {said}")
        in_title = "name" in kinds and rng.random() < 0.3
        titles.append(f"{people['title'][i]} ({person.name}님)" if in_title else people["title"][i])
        truth.append(",".join(kinds))
    columns["title"] = set_cells(columns["title"], rows, titles)
    columns["body"] = set_cells(columns["body"], rows, bodies)
    columns[PERSONAL_TRUTH] = set_cells(pa.nulls(len(columns["body"]), pa.string()), rows, truth)
    return columns


def _chunk(day: ComplaintDay, index: int, second: np.ndarray, receipt: np.ndarray) -> Columns:
    rng = rng_for(*day.stream, 1, index)
    n = len(second)
    addresses = address_pool(day.seed, day.provider)
    texts = complaint_texts(day.seed, day.provider)
    names = name_pool(day.seed)
    male = rng.random(n) < 0.5
    born = birth_ordinals(rng, np.full(n, day.day.toordinal()), rng.choice(AGES, n, p=AGE_WEIGHTS))
    address = rng.integers(0, len(addresses), n)
    category = rng.choice(len(COMPLAINT_CATEGORIES), n, p=CATEGORY_WEIGHTS)
    text = category * TEXTS_PER_CATEGORY + rng.integers(0, TEXTS_PER_CATEGORY, n)
    status = rng.choice(len(COMPLAINT_STATUSES), n, p=STATUS_WEIGHTS)
    columns = {
        "receipt_no": concat(f"{day.day.year}-{day.provider}-",
                             zero_padded(receipt, day.receipt_width)),
        "received_at": _received_at(day.day, rng, second),
        "sigungu_code": district_codes_for(day.provider, pick(addresses.sigungu_code, address),
                                           rng),
        "complainant_name": pick(names.names, names.sample(rng, male)),
        "resident_reg_no": with_nulls(resident_numbers(rng, born, male, rng.random(n) < 0.95),
                                      rng.random(n) < 0.04),
        "phone": with_nulls(mobile_numbers(rng, n), rng.random(n) < 0.12),
        "address": pick(addresses.address, address),
        "category": pick(strings(COMPLAINT_CATEGORIES), category),
        "title": pick(texts.titles, text),
        "body": pick(texts.bodies, text),
        "department": _departments(rng, category),
        "status": pick(strings(COMPLAINT_STATUSES), status),
        "completed_on": _completed_on(day.day, rng, status, day.as_of),
    }
    return _with_personal_data(columns, pick(addresses.eup_myeon_dong, address), day.seed, rng)


def _seconds_of_day(rng: np.random.Generator, rows: int) -> np.ndarray:
    """Receipt times, sorted: mostly office hours (09–18), the rest online at any hour."""
    office = rng.random(rows) < 0.8
    seconds = np.where(office, rng.integers(9 * 3600, 18 * 3600, rows),
                       rng.integers(0, 86_400, rows))
    return np.sort(seconds)


def _complaint_day(provider: str, day: date, rows: int | None, seed: int,
                   as_of: date | None = None) -> ComplaintDay:
    count = daily_complaint_count(seed, provider, day) if rows is None else rows
    first = receipts_before(seed, provider, day, rows)
    return ComplaintDay(provider, day, seed, count, first, max(6, len(str(first + count))), as_of)


def complaint_chunks(day: ComplaintDay, sizes: Sequence[int]) -> Iterator[Columns]:
    """The day's complaints in chunks of `sizes` rows, in order of receipt."""
    seconds = _seconds_of_day(rng_for(*day.stream, 0), sum(sizes))
    start = 0
    for index, size in enumerate(sizes):
        receipt = day.first_receipt + 1 + np.arange(start, start + size)
        yield _chunk(day, index, seconds[start:start + size], receipt)
        start += size


# ---------------------------------------------------------------- defects and the drop


def _bad_cell(columns: Columns, row: int, rng: np.random.Generator) -> tuple[str, str]:
    """An impossible receipt time, or an impossible completion date on a 처리완료 row."""
    year = int(columns["receipt_no"][row].as_py()[:4])
    if columns["status"][row].as_py() == "처리완료" and rng.random() < 0.3:
        return "completed_on", impossible_date(year, rng)
    clock = f"{rng.integers(0, 24):02d}:{rng.integers(0, 60):02d}"
    return "received_at", f"{impossible_date(year, rng)} {clock}"


RULES = DefectRules(
    bad_cell=_bad_cell, key_columns=("receipt_no",), code_column="sigungu_code",
    removable=("complainant_name", "address", "category", "title", "body", "status"),
)


def write_civil_complaints_drop(path: Path, *, provider: str, day: date, rows: int | None,
                                seed: int, defects: Sequence[str] = (), as_of: date | None = None) -> SynthFile:
    """Write one provider's complaints of `day` (`rows=None`: the provider's usual volume)."""
    complaint_day = _complaint_day(provider, day, rows, seed, as_of)
    return write_drop(
        path, dataset=DATASET, provider=provider, rows=complaint_day.rows,
        chunks=lambda sizes: complaint_chunks(complaint_day, sizes),
        rules=RULES, defects=defects, rng=rng_for(*complaint_day.stream, 2),
    )


def complaint_table(provider: str, day: date, rows: int | None, seed: int) -> pa.Table:
    """The clean rows of a complaint drop by canonical name, with `personal_data_in_text`.

    Same seed and arguments, same rows as the file `write_civil_complaints_drop` writes.
    """
    complaint_day = _complaint_day(provider, day, rows, seed)
    chunks = list(complaint_chunks(complaint_day, chunk_sizes(complaint_day.rows)))
    table = pa.Table.from_pydict({name: pa.chunked_array([c[name] for c in chunks], pa.string())
                                  for name in chunks[0]})
    return table.rename_columns([n.lstrip("_") for n in table.column_names])
