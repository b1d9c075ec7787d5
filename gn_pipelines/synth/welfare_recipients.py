"""기초생활보장 수급자 현황: a monthly snapshot per 시군 of the recipients on its roll.

Each provider keeps one roll of people (seeded), so a person has the same 수급자번호, name and
주민등록번호 in every month they are enrolled; a month lists those enrolled at its end.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa

from gn_pipelines.datasets.welfare_recipients import BENEFIT_TYPES
from gn_pipelines.synth.columns import (
    Columns, concat, formatted, pick, repeat, strings, zero_padded,
)
from gn_pipelines.synth.defects import DefectRules, impossible_date, not_a_number
from gn_pipelines.synth.drop import write_drop
from gn_pipelines.synth.model import SynthFile
from gn_pipelines.synth.pools import (
    address_pool, birth_ordinals, name_pool, resident_numbers, rng_for,
)

DATASET = "welfare_recipients"
_KEY = 2

# Recipients listed in a month by default: a few hundred, more in the cities.
MONTHLY_RECIPIENTS = {
    "48120": 900, "48250": 650, "48170": 600, "48330": 450, "48310": 380, "48220": 330,
    "48240": 300, "48270": 320, "48720": 180, "48730": 220, "48740": 240, "48820": 220,
    "48840": 200, "48850": 210, "48860": 170, "48870": 180, "48880": 230, "48890": 210,
}
ROLL_START, ROLL_END = date(2000, 1, 1), date(2035, 12, 31)
MEAN_YEARS_ON_ROLL = 8.0
SPARE = 1.3  # enrolled people per listed row, so a month can always fill its rows

BENEFIT_WEIGHTS = np.array([0.35, 0.3, 0.3, 0.05])  # 생계, 의료, 주거, 교육
HOUSEHOLD_SIZES = np.arange(1, 21)
HOUSEHOLD_WEIGHTS = np.array([0.6, 0.2, 0.1, 0.06, 0.02, 0.01] + [0.01 / 14] * 14)
AGES = np.arange(20, 91)  # at enrolment
AGE_WEIGHTS = np.interp(AGES, [20, 40, 60, 75, 90], [0.3, 0.6, 1.4, 1.4, 0.2])
AGE_WEIGHTS = AGE_WEIGHTS / AGE_WEIGHTS.sum()

# 2025 monthly amounts (KRW) by household size 1..7; 생계급여 is the 중위소득 32 % line.
LIVELIHOOD_2025 = np.array([765_444, 1_258_451, 1_608_113, 1_951_287, 2_274_621, 2_580_392,
                            2_877_402])
HOUSING_2025 = np.array([178_000, 199_000, 237_000, 274_000, 284_000, 336_000, 336_000])
EDUCATION_PER_CHILD = 55_000
ANNUAL_RAISE = 1.05  # the standards rise about 5 % a year


@dataclass(frozen=True)
class Roll:
    """Everyone ever enrolled with one provider, in order of enrolment (= 수급자번호 order)."""

    columns: Columns  # person-level columns: recipient_no, name, rrn, code, 읍면동, address, ...
    enrolled: np.ndarray  # ordinals
    left: np.ndarray  # ordinals of leaving the roll
    household: np.ndarray
    benefit: np.ndarray
    share: np.ndarray  # share of the full amount paid (income is deducted)


def _roll_size(listed: int) -> int:
    years = (ROLL_END - ROLL_START).days / 365.25
    return int(np.ceil(listed * SPARE * years / MEAN_YEARS_ON_ROLL))


@lru_cache(maxsize=32)
def welfare_roll(seed: int, provider: str, listed: int) -> Roll:
    """A roll on which about `listed × SPARE` people are enrolled at any time after 2010."""
    rng = rng_for(seed, _KEY, int(provider), listed)
    size = _roll_size(listed)
    enrolled = np.sort(rng.integers(ROLL_START.toordinal(), ROLL_END.toordinal(), size))
    male = rng.random(size) < 0.45
    born = birth_ordinals(rng, enrolled, rng.choice(AGES, size, p=AGE_WEIGHTS))
    # people leave the roll after some years, and at the latest when they die (at 80–100)
    stay = (rng.exponential(MEAN_YEARS_ON_ROLL, size) * 365.25).astype(np.int64) + 30
    death = born + (rng.uniform(80, 100, size) * 365.25).astype(np.int64)
    left = np.maximum(np.minimum(enrolled + stay, death), enrolled + 30)
    household = rng.choice(HOUSEHOLD_SIZES, size, p=HOUSEHOLD_WEIGHTS / HOUSEHOLD_WEIGHTS.sum())
    benefit = rng.choice(len(BENEFIT_TYPES), size, p=BENEFIT_WEIGHTS)
    benefit = np.where((benefit == 3) & (household == 1), 0, benefit)  # 교육급여 needs a child
    addresses = address_pool(seed, provider)
    home = rng.integers(0, len(addresses), size)
    names = name_pool(seed)
    columns = {
        "recipient_no": concat(f"{provider}-", zero_padded(np.arange(1, size + 1), 6)),
        "name": pick(names.names, names.sample(rng, male)),
        "resident_reg_no": resident_numbers(rng, born, male),
        "sigungu_code": repeat(provider, size),
        "eup_myeon_dong": pick(addresses.eup_myeon_dong, home),
        "address": pick(addresses.address, home),
        "disability": pick(strings(["N", "Y"]), (rng.random(size) < 0.2).astype(int)),
        "enrolled_on": _iso_dates(enrolled),
    }
    return Roll(columns, enrolled, left, household, benefit, rng.uniform(0.3, 1.0, size))


def _iso_dates(ordinals: np.ndarray) -> pa.Array:
    days = (ordinals - date(1970, 1, 1).toordinal()).astype("datetime64[D]")
    return pa.array(np.datetime_as_string(days, unit="D"), type=pa.string())


def listed_in(roll: Roll, month: date, rows: int) -> np.ndarray:
    """Roll positions listed in `month`: enrolled at its end, earliest first, `rows` at most.

    Earliest first keeps a person listed from month to month until they leave the roll.
    """
    month_end = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    on_roll = (roll.enrolled <= month_end.toordinal()) & (roll.left > month_end.toordinal())
    return np.flatnonzero(on_roll)[:rows]


def monthly_amounts(roll: Roll, listed: np.ndarray, month: date, rng: np.random.Generator
                    ) -> np.ndarray:
    """What each listed person is paid in `month`: benefit standard × share, raised yearly."""
    household = np.minimum(roll.household[listed], 7) - 1
    benefit = roll.benefit[listed]
    raise_ = ANNUAL_RAISE ** (month.year - 2025)
    medical = rng.lognormal(np.log(90_000), 0.9, len(listed)) * (rng.random(len(listed)) < 0.7)
    full = np.select(
        [benefit == 0, benefit == 1, benefit == 2],
        [LIVELIHOOD_2025[household], medical, HOUSING_2025[household]],
        EDUCATION_PER_CHILD * np.maximum(household, 1),
    )
    share = np.where(benefit == 1, 1.0, roll.share[listed])
    return (np.round(full * share * raise_ / 10) * 10).astype(np.int64)


@dataclass(frozen=True)
class WelfareMonth:
    provider: str
    month: date  # the first day of the month
    seed: int
    rows: int

    @property
    def stream(self) -> tuple[int, ...]:
        return (self.seed, _KEY, int(self.provider), self.month.toordinal())


def welfare_chunks(snapshot: WelfareMonth, sizes: Sequence[int], thousands: bool
                   ) -> Iterator[Columns]:
    """The month's recipients in chunks, in 수급자번호 order."""
    rng = rng_for(*snapshot.stream, 0)
    roll = welfare_roll(snapshot.seed, snapshot.provider, snapshot.rows)
    listed = listed_in(roll, snapshot.month, snapshot.rows)
    amounts = monthly_amounts(roll, listed, snapshot.month, rng)
    month_text = f"{snapshot.month:%Y-%m}" if rng.random() < 0.8 else f"{snapshot.month:%Y%m}"
    start = 0
    for size in sizes:
        part = listed[start:start + size]
        columns = {name: values.take(part) for name, values in roll.columns.items()}
        yield {
            "reference_month": repeat(month_text, size),
            **columns,
            "household_size": formatted(roll.household[part], "d"),
            "benefit_type": pick(strings(BENEFIT_TYPES), roll.benefit[part]),
            "monthly_amount_krw": formatted(amounts[start:start + size], "," if thousands else "d"),
        }
        start += size


def _bad_cell(columns: Columns, row: int, rng: np.random.Generator) -> tuple[str, str]:
    """An impossible enrolment date, or text where a number belongs."""
    choice = rng.integers(3)
    if choice == 0:
        year = int(columns["enrolled_on"][row].as_py()[:4])
        return "enrolled_on", impossible_date(year, rng)
    return ("household_size", "monthly_amount_krw")[choice - 1], not_a_number(rng)


RULES = DefectRules(
    bad_cell=_bad_cell, key_columns=("recipient_no",), code_column="sigungu_code",
    removable=("name", "resident_reg_no", "eup_myeon_dong", "address", "benefit_type",
               "disability"),
)


def default_recipients(provider: str) -> int:
    return MONTHLY_RECIPIENTS[provider]


def write_welfare_recipients_drop(path: Path, *, provider: str, month: date, rows: int | None,
                                  seed: int, defects: Sequence[str] = ()) -> SynthFile:
    """Write one provider's snapshot of `month` (`rows=None`: the provider's usual roll)."""
    wanted = default_recipients(provider) if rows is None else rows
    snapshot = WelfareMonth(provider, month.replace(day=1), seed, wanted)
    roll = welfare_roll(seed, provider, wanted)
    count = len(listed_in(roll, snapshot.month, wanted))
    return write_drop(
        path, dataset=DATASET, provider=provider, rows=count,
        chunks=lambda sizes: welfare_chunks(snapshot, sizes, "thousands" in defects),
        rules=RULES, defects=defects, rng=rng_for(*snapshot.stream, 2),
    )
