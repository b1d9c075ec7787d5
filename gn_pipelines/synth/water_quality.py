"""수질 측정 자료: weekly measurements at the Nakdong stations in 경남.

A station's value on a day depends only on the seed, the station and the day, so 48000's
weekly file and a 시군's own file agree on the stations they share.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np

from gn_pipelines.reference.providers import PROVIDERS_BY_CODE, PROVINCE_CODE
from gn_pipelines.synth.columns import Columns, repeat, strings
from gn_pipelines.synth.defects import DefectRules, impossible_date, not_a_number
from gn_pipelines.synth.drop import write_drop
from gn_pipelines.synth.model import SynthFile
from gn_pipelines.synth.pools import rng_for

DATASET = "water_quality"
_KEY = 3
BASIN = "낙동강"


@dataclass(frozen=True)
class Station:
    """A measuring station and its typical levels (mg/L; chlorophyll-a mg/㎥)."""

    code: str
    name: str
    slug: str  # for the file name when a 시군 delivers the station alone
    provider: str  # the 시군 it lies in (assumed for the weirs on a county border)
    weekday: int  # day of the week it is sampled (0 = Monday)
    bod: float
    cod: float
    tp: float
    tn: float
    chl: float
    ss: float
    temp_offset: float = 0.0
    trend: float = 0.0  # yearly relative change of BOD and T-P (negative: improving), 1.0 in TREND_YEAR


TREND_YEAR = 2025


# 남지's levels follow the reported annual means (2024–2025: BOD 1.6, T-P 0.035–0.043 mg/L).
STATIONS: tuple[Station, ...] = (
    # 남지 improves towards its Ib target over the years (BOD about 2.3 and T-P 0.05 in 2021)
    Station("2020A10", "남지", "namji", "48740", 0, 1.75, 6.0, 0.040, 2.6, 14, 8, trend=-0.065),
    Station("2020A32", "창녕함안보", "changnyeong_haman_weir", "48730", 0, 1.9, 6.2, 0.042, 2.7, 18, 8),
    Station("2020A60", "삼랑진", "samnangjin", "48270", 1, 1.9, 6.3, 0.045, 2.8, 16, 9),
    Station("2022A10", "물금", "mulgeum", "48330", 1, 2.0, 6.5, 0.048, 2.9, 17, 10),
    Station("2014A70", "합천창녕보", "hapcheon_changnyeong_weir", "48890", 0,
            1.7, 5.8, 0.038, 2.5, 15, 7),
    Station("2019A80", "남강4-1", "namgang4-1", "48730", 2, 1.5, 5.5, 0.035, 2.3, 9, 7),
    Station("2021A60", "밀양강3", "miryanggang3", "48270", 2, 1.4, 5.0, 0.040, 2.4, 6, 6),
    Station("2015A60", "황강1-1", "hwanggang1-1", "48890", 2, 1.0, 3.8, 0.025, 1.9, 4, 5, -1.0),
)
STATION_PROVIDERS = frozenset({PROVINCE_CODE, *(s.provider for s in STATIONS)})

# Measured parameters with the decimals they are reported to.
DECIMALS = {
    "water_temp_c": 1, "ph": 1, "do_mg_l": 1, "bod_mg_l": 1, "cod_mg_l": 1, "ss_mg_l": 1,
    "tn_mg_l": 3, "tp_mg_l": 3, "toc_mg_l": 1, "total_coliform_100ml": 0, "chlorophyll_a_mg_m3": 1,
}
BELOW_DETECTION = {"chlorophyll_a_mg_m3": 0.02, "tp_mg_l": 0.004}  # share of days
BELOW_DETECTION_TOKENS = {"chlorophyll_a_mg_m3": ("<0.1", "ND", "불검출"), "tp_mg_l": ("ND", "불검출")}
NOT_MEASURED = {"toc_mg_l": 0.03, "total_coliform_100ml": 0.03}  # share of empty cells
NOT_MEASURED_OTHERWISE = 0.01
DATE_STYLES = ("%Y-%m-%d", "%Y.%m.%d", "%Y%m%d")


def stations_of(provider: str) -> tuple[Station, ...]:
    """The province delivers every station; a 시군 on the Nakdong delivers its own."""
    if provider == PROVINCE_CODE:
        return STATIONS
    return tuple(s for s in STATIONS if s.provider == provider)


def _oxygen_saturation(temp: np.ndarray) -> np.ndarray:
    """Dissolved-oxygen saturation of fresh water (mg/L) at `temp` ℃ (Benson–Krause fit)."""
    return 14.62 - 0.3898 * temp + 0.006969 * temp**2 - 0.00005897 * temp**3


@dataclass(frozen=True)
class StationYear:
    """Every day's values of one station and year, and which cells are empty or below detection."""

    values: dict[str, np.ndarray]
    empty: dict[str, np.ndarray]
    below_detection: dict[str, np.ndarray]  # token index + 1, 0 where detected


def _seasonal_values(station: Station, rng: np.random.Generator, year: int) -> dict[str, np.ndarray]:
    day = np.arange(366)
    trend = (1 + station.trend) ** (year - TREND_YEAR)
    season = lambda peak: np.cos(2 * np.pi * (day - peak) / 365.25)  # noqa: E731
    bump = lambda centre, width: np.exp(-(((day - centre) / width) ** 2))  # noqa: E731
    noise = lambda sigma: rng.lognormal(0.0, sigma, len(day))  # noqa: E731
    temp = 16 - 12 * season(20) + station.temp_offset + rng.normal(0, 0.8, len(day))
    # chlorophyll-a: diatoms in late winter, cyanobacteria in late summer
    chl = station.chl * (0.6 + 1.0 * bump(230, 35) + 0.7 * bump(60, 25)) * noise(0.35)
    cod = station.cod * (1 + 0.1 * season(75)) * noise(0.1)
    return {
        "water_temp_c": temp,
        "ph": np.clip(7.5 + 0.025 * (chl - station.chl) + rng.normal(0, 0.12, len(day)), 7.0, 8.5),
        "do_mg_l": np.maximum(0.95 * _oxygen_saturation(temp) + 0.04 * (chl - station.chl)
                              + rng.normal(0, 0.4, len(day)), 3.0),
        "bod_mg_l": station.bod * trend * (1 + 0.15 * season(75)) * noise(0.12),
        "cod_mg_l": cod,
        "ss_mg_l": station.ss * (1 + 1.5 * bump(200, 25)) * noise(0.4),  # the monsoon
        "tn_mg_l": station.tn * (1 + 0.2 * season(20)) * noise(0.08),
        "tp_mg_l": station.tp * trend * (0.9 + 0.35 * bump(200, 35)) * noise(0.15),
        "toc_mg_l": cod * 0.62 * noise(0.05),
        "total_coliform_100ml": 10 ** (2.5 + 0.7 * bump(210, 40) + rng.normal(0, 0.35, len(day))),
        "chlorophyll_a_mg_m3": chl,
    }


@lru_cache(maxsize=128)
def station_year(seed: int, station_code: str, year: int) -> StationYear:
    """The station's series for one year: seasonal cycle plus noise, seeded."""
    index = next(i for i, s in enumerate(STATIONS) if s.code == station_code)
    rng = rng_for(seed, _KEY, index, year)
    values = _seasonal_values(STATIONS[index], rng, year)
    empty = {name: rng.random(366) < NOT_MEASURED.get(name, NOT_MEASURED_OTHERWISE)
             for name in values}
    below = {}
    for name, share in BELOW_DETECTION.items():
        tokens = rng.integers(1, len(BELOW_DETECTION_TOKENS[name]) + 1, 366)
        below[name] = np.where(rng.random(366) < share, tokens, 0)
    return StationYear(values, empty, below)


def _cell(name: str, on: date, series: StationYear, thousands: bool) -> str | None:
    day = on.timetuple().tm_yday - 1
    if series.empty[name][day]:
        return None
    token = series.below_detection.get(name, np.zeros(366, int))[day]
    if token:
        return BELOW_DETECTION_TOKENS[name][token - 1]
    return format(series.values[name][day], f"{',' if thousands else ''}.{DECIMALS[name]}f")


# ---------------------------------------------------------------- weekly files


def week_monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def measurements(provider: str, week: date, start: date | None = None, end: date | None = None,
                 rows: int | None = None) -> list[tuple[Station, date]]:
    """(station, day) sampled in the week of `week` within [start, end].

    By default each station once, on its weekday; `rows` asks for more (up to daily sampling).
    """
    monday = week_monday(week)
    stations = stations_of(provider)
    days = 1 if rows is None else min(7, max(1, -(-rows // max(1, len(stations)))))
    sampled = [(s, monday + timedelta((s.weekday + k) % 7)) for k in range(days) for s in stations]
    sampled = [(s, d) for s, d in sampled
               if (start is None or d >= start) and (end is None or d <= end)]
    return sorted(sampled[:rows] if rows is not None else sampled, key=lambda m: (m[1], m[0].code))


def water_chunks(measured: Sequence[tuple[Station, date]], seed: int, date_style: str,
                 thousands: bool, sizes: Sequence[int]) -> Iterator[Columns]:
    start = 0
    for size in sizes:
        part = measured[start:start + size]
        series = [station_year(seed, s.code, d.year) for s, d in part]
        columns = {
            "station_code": strings([s.code for s, _ in part]),
            "station_name": strings([s.name for s, _ in part]),
            "basin": repeat(BASIN, size),
            "measured_on": strings([d.strftime(date_style) for _, d in part]),
        }
        for name in DECIMALS:
            columns[name] = strings([_cell(name, d, year, thousands)
                                     for (_, d), year in zip(part, series)])
        yield columns
        start += size


def _bad_cell(columns: Columns, row: int, rng: np.random.Generator) -> tuple[str, str]:
    """An impossible measuring date, or text in a measured value."""
    if rng.random() < 0.4:
        year = int(columns["measured_on"][row].as_py()[:4])
        return "measured_on", impossible_date(year, rng)
    names = list(DECIMALS)
    return names[rng.integers(len(names))], not_a_number(rng)


RULES = DefectRules(
    bad_cell=_bad_cell, key_columns=("station_code", "station_name", "measured_on"),
    removable=("station_code", "station_name"),
)


def water_file_name(provider: str, week: date) -> str:
    """`20250303_weekly.csv` from the province; a 시군 names its station (`20250303_namji.csv`)."""
    own = stations_of(provider)
    if provider == PROVINCE_CODE:
        label = "weekly"
    elif len(own) == 1:
        label = own[0].slug
    else:
        label = PROVIDERS_BY_CODE[provider].romanized.lower()
    return f"{week_monday(week):%Y%m%d}_{label}.csv"


def write_water_quality_drop(path: Path, *, provider: str, week: date, seed: int,
                             defects: Sequence[str] = (), rows: int | None = None,
                             start: date | None = None, end: date | None = None) -> SynthFile:
    """Write the measurements of `provider`'s stations in the week of `week` (within start..end)."""
    measured = measurements(provider, week, start, end, rows)
    if not measured:
        raise ValueError(f"provider {provider} has no station sampled in the week of {week}")
    stream = (seed, _KEY, int(provider), week_monday(week).toordinal())
    style_rng = rng_for(*stream, 0)
    date_style = DATE_STYLES[style_rng.choice(3, p=[0.7, 0.2, 0.1])]
    return write_drop(
        path, dataset=DATASET, provider=provider, rows=len(measured),
        chunks=lambda sizes: water_chunks(measured, seed, date_style, "thousands" in defects,
                                          sizes),
        rules=RULES, defects=defects, rng=rng_for(*stream, 2),
    )


def monthly_measurements(provider: str, start: date, end: date) -> list[tuple[Station, date]]:
    """(station, day) once a month per station (its weekday in the month's second week), as a
    history export of several years holds them."""
    sampled = []
    month = start.replace(day=1)
    while month <= end:
        for station in stations_of(provider):
            day = month + timedelta(days=7 + (station.weekday - (month + timedelta(days=7)).weekday()) % 7)
            if start <= day <= end:
                sampled.append((station, day))
        month = (month + timedelta(days=32)).replace(day=1)
    return sorted(sampled, key=lambda m: (m[1], m[0].code))


def write_water_history_drop(path: Path, *, provider: str, start: date, end: date, seed: int) -> SynthFile:
    """One file with a monthly measurement of each of `provider`'s stations from start to end."""
    measured = monthly_measurements(provider, start, end)
    stream = (seed, _KEY, int(provider), start.toordinal(), end.toordinal())
    return write_drop(
        path, dataset=DATASET, provider=provider, rows=len(measured),
        chunks=lambda sizes: water_chunks(measured, seed, DATE_STYLES[0], False, sizes),
        rules=RULES, defects=(), rng=rng_for(*stream, 2),
    )
