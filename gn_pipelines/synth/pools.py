"""Pools of realistic values, built once per seed (and provider) and then sampled with numpy.

Faker is called only here, a few thousand times per pool, never per cell of a drop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from faker import Faker

from gn_pipelines.reference.legal_dong import build_eup_myeon_dong, read_legal_dong_codes
from gn_pipelines.reference.providers import CHANGWON_CODE, PROVIDERS_BY_CODE
from gn_pipelines.synth.columns import concat, digit_pool, pick, strings

NAMES_PER_SEX = 4000
ADDRESSES_PER_PROVIDER = 4000
FIRST_BIRTH_DAY = date(1920, 1, 1)
LAST_BIRTH_DAY = date(2012, 12, 31)

DIGITS = digit_pool(1)
FOUR_DIGITS = digit_pool(4)
FIVE_DIGITS = digit_pool(5)


def rng_for(seed: int, *keys: int) -> np.random.Generator:
    """An independent, reproducible stream for one purpose (keys name the purpose)."""
    return np.random.default_rng([seed, *keys])


# ---------------------------------------------------------------- names


@dataclass(frozen=True)
class NamePool:
    """Korean full names, male ones first: index i < male_count is a man."""

    names: pa.Array
    texts: tuple[str, ...]
    male_count: int

    def sample(self, rng: np.random.Generator, male: np.ndarray) -> np.ndarray:
        """Indices of names matching each row's sex."""
        female_count = len(self.texts) - self.male_count
        offset = rng.integers(0, np.where(male, self.male_count, female_count))
        return np.where(male, offset, self.male_count + offset)


@lru_cache(maxsize=4)
def name_pool(seed: int) -> NamePool:
    """Faker ko_KR full names (surname + given name), NAMES_PER_SEX of each sex."""
    faker = Faker("ko_KR")
    faker.seed_instance(seed)
    male = [faker.last_name() + faker.first_name_male() for _ in range(NAMES_PER_SEX)]
    female = [faker.last_name() + faker.first_name_female() for _ in range(NAMES_PER_SEX)]
    texts = tuple(male + female)
    return NamePool(strings(texts), texts, len(male))


@lru_cache(maxsize=4)
def email_pool(seed: int) -> tuple[str, ...]:
    """Faker ko_KR free-mail addresses, for the e-mails people leave in complaint texts."""
    faker = Faker("ko_KR")
    faker.seed_instance(seed + 1)
    return tuple(faker.free_email() for _ in range(2000))


# ---------------------------------------------------------------- 주민등록번호


@dataclass(frozen=True)
class BirthDays:
    """Every day from FIRST_BIRTH_DAY to LAST_BIRTH_DAY as YYMMDD, with its parts as ints."""

    yymmdd: pa.Array
    year: np.ndarray
    month: np.ndarray
    day: np.ndarray


@lru_cache(maxsize=1)
def birth_days() -> BirthDays:
    days = pd.date_range(FIRST_BIRTH_DAY, LAST_BIRTH_DAY, freq="D")
    return BirthDays(strings(days.strftime("%y%m%d")), days.year.to_numpy(),
                     days.month.to_numpy(), days.day.to_numpy())


def birth_ordinals(rng: np.random.Generator, on: np.ndarray, ages: np.ndarray) -> np.ndarray:
    """Birth days (proleptic ordinals) of people aged `ages` (whole years) on day `on`."""
    days = (ages * 365.25 + rng.integers(0, 365, len(ages))).astype(np.int64)
    lowest, highest = FIRST_BIRTH_DAY.toordinal(), LAST_BIRTH_DAY.toordinal()
    return np.clip(on - days, lowest, highest)


# Weights of the 주민등록번호 check digit over its first 12 digits.
_CHECK_WEIGHTS = np.array([2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5])


def resident_numbers(rng: np.random.Generator, born: np.ndarray, male: np.ndarray,
                     hyphen: np.ndarray | None = None) -> pa.Array:
    """주민등록번호 YYMMDD-GNNNNNN with G from sex and century (1/2: 1900s, 3/4: 2000s).

    Half carry a valid check digit; numbers issued since 2020-10 have none, so the rest are random.
    """
    days = birth_days()
    index = born - FIRST_BIRTH_DAY.toordinal()
    year, month, day = days.year[index], days.month[index], days.day[index]
    gender = np.where(male, 1, 2) + np.where(year >= 2000, 2, 0)
    serial = rng.integers(0, 100_000, len(born))
    digits = np.stack([
        year % 100 // 10, year % 10, month // 10, month % 10, day // 10, day % 10, gender,
        *(serial // 10**k % 10 for k in (4, 3, 2, 1, 0)),
    ], axis=1)
    check = (11 - digits @ _CHECK_WEIGHTS % 11) % 10
    last = np.where(rng.random(len(born)) < 0.5, check, rng.integers(0, 10, len(born)))
    separator = pick(strings(["", "-"]), np.ones(len(born), int) if hyphen is None else hyphen)
    return concat(pick(days.yymmdd, index), separator, pick(DIGITS, gender),
                  pick(FIVE_DIGITS, serial), pick(DIGITS, last))


def mobile_numbers(rng: np.random.Generator, n: int) -> pa.Array:
    """010-XXXX-XXXX (the middle block of 010 numbers starts with 2–9)."""
    return concat("010-", pick(FOUR_DIGITS, rng.integers(2000, 10_000, n)), "-",
                  pick(FOUR_DIGITS, rng.integers(0, 10_000, n)))


# ---------------------------------------------------------------- addresses


@dataclass(frozen=True)
class AddressPool:
    """Addresses inside one provider, each with its 읍면동 and 시군구 code (창원: the 구's)."""

    address: pa.Array
    eup_myeon_dong: pa.Array
    sigungu_code: pa.Array
    dong_names: tuple[str, ...]  # the provider's 읍면동, for complaint texts
    road_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.address)


_APARTMENTS = ("푸르지오", "자이", "힐스테이트", "롯데캐슬", "부영", "주공", "한림", "대동",
               "코아루", "e편한세상", "우방", "한신", "현대", "삼성", "동원로얄듀크")
_KIND_WEIGHT = {"읍": 3.0, "동": 2.0, "면": 1.0}


@lru_cache(maxsize=1)
def _legal_dong_names() -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """The 읍면동 frame and, for each 읍·면 code prefix, the names of its 리."""
    codes = read_legal_dong_codes()
    codes.columns = ["code", "name", "status"]
    ri = codes[(codes["status"] == "존재") & (codes["code"].str[8:] != "00")]
    ri_names = ri.groupby(ri["code"].str[:8])["name"].agg(lambda s: s.str.split().str[-1].tolist())
    return build_eup_myeon_dong(), ri_names.to_dict()


def _stem(place: str) -> str:
    """'남지읍' → '남지', '중앙동1가' → '중앙': the stem local road names are made of."""
    stem = re.sub(r"(읍|면|동|구|시|군)$", "", re.sub(r"\d+가$", "", place))
    return stem or place


def _roads(dong: str, area: str, rng: np.random.Generator) -> list[str]:
    stem, area_stem = _stem(dong), _stem(area)
    numbered = [f"{stem}{k}길" for k in sorted(rng.choice(np.arange(1, 40), 4, replace=False))]
    return [f"{stem}로", f"{stem}중앙로", f"{area_stem}대로", *numbered]


def _road_address(region: str, dong: str, kind: str, road: str, rng: np.random.Generator) -> str:
    number = f"{rng.integers(1, 250)}" + (f"-{rng.integers(1, 20)}" if rng.random() < 0.1 else "")
    if rng.random() < 0.35:  # an apartment: detailed address with 동·호
        number += f", {rng.integers(101, 120)}동 {rng.integers(1, 25)}{rng.integers(1, 5):02d}호"
    if kind == "동":  # road-name addresses of a 동 name it in parentheses at the end
        return f"{region} {road} {number} ({dong})"
    return f"{region} {dong} {road} {number}"


def _lot_address(region: str, dong: str, ri: list[str], rng: np.random.Generator) -> str:
    lot = f"{rng.integers(1, 999)}" + (f"-{rng.integers(1, 30)}" if rng.random() < 0.5 else "")
    village = f" {ri[rng.integers(len(ri))]}" if ri else ""
    return f"{region} {dong}{village} {lot}"


@lru_cache(maxsize=32)
def address_pool(seed: int, provider: str) -> AddressPool:
    """Road-name and lot-number addresses spread over the provider's real 읍면동."""
    rng = rng_for(seed, 101, int(provider))
    frame, ri_names = _legal_dong_names()
    dongs = frame[frame["provider_code"] == provider].reset_index(drop=True)
    if dongs.empty:
        raise ValueError(f"provider {provider} has no 읍면동 (the province delivers no addresses)")
    regions = dongs["legal_dong_name"].str.rsplit(" ", n=1).str[0]
    areas = dongs["district_name"].fillna(PROVIDERS_BY_CODE[provider].name)
    roads = [_roads(d, a, rng) for d, a in zip(dongs["eup_myeon_dong"], areas)]
    weight = dongs["kind"].map(_KIND_WEIGHT).to_numpy()
    chosen = rng.choice(len(dongs), ADDRESSES_PER_PROVIDER, p=weight / weight.sum())
    addresses = []
    # plain lists: a pandas lookup per address cost most of writing the dev sample
    dong_of, kind_of, region_of = dongs["eup_myeon_dong"].tolist(), dongs["kind"].tolist(), regions.tolist()
    code_of = dongs["legal_dong_code"].tolist()
    for i in chosen:
        dong, kind, region = dong_of[i], kind_of[i], region_of[i]
        ri = ri_names.get(code_of[i][:8], [])
        if rng.random() < 0.6:
            road = roads[i][rng.integers(len(roads[i]))]
            addresses.append(_road_address(region, dong, kind, road, rng))
        else:
            addresses.append(_lot_address(region, dong, ri, rng))
    return AddressPool(
        address=strings(addresses),
        eup_myeon_dong=pick(strings(dongs["eup_myeon_dong"].tolist()), chosen),
        sigungu_code=pick(strings(dongs["sigungu_code"].tolist()), chosen),
        dong_names=tuple(dongs["eup_myeon_dong"]),
        road_names=tuple(sorted({r for rs in roads for r in rs})),
    )


def apartment_detail(rng: np.random.Generator, dong: str) -> str:
    """A detailed home address with 동·호, as people write it in a complaint."""
    apartment = _APARTMENTS[rng.integers(len(_APARTMENTS))]
    unit = f"{rng.integers(101, 115)}동 {rng.integers(1, 20)}0{rng.integers(1, 5)}호"
    return f"{dong} {apartment}아파트 {unit}"


def district_codes_for(provider: str, pool_codes: pa.Array, rng: np.random.Generator) -> pa.Array:
    """창원 rows carry their 구 code most of the time and 48120 otherwise; others their own."""
    if provider != CHANGWON_CODE:
        return pool_codes
    own = rng.random(len(pool_codes)) < 0.3
    return pc.if_else(pa.array(own), pa.scalar(CHANGWON_CODE), pool_codes)

