"""Every drop of a date range: which providers deliver which dataset, when, under which name."""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import numpy as np

from gn_pipelines.datasets import CONTRACTS
from gn_pipelines.reference.providers import PROVIDERS_BY_CODE, PROVINCE_CODE, SIGUN_CODES
from gn_pipelines.synth import business_licences, civil_complaints, water_quality, welfare_recipients
from gn_pipelines.synth.model import SynthFile, check_defects

DEFAULT_SEED = 20251125
DATASETS = (civil_complaints.DATASET, welfare_recipients.DATASET, water_quality.DATASET,
            business_licences.DATASET)
# written in their contract's own table (with the file defects); the others in their source's layout
CONTRACT_LAYOUT_DATASETS = (civil_complaints.DATASET, welfare_recipients.DATASET, water_quality.DATASET)


def providers_for(dataset: str, providers: Sequence[str] | None) -> list[str]:
    """The providers that deliver `dataset`, among `providers` (None: its default providers)."""
    if dataset == water_quality.DATASET:
        valid, default = water_quality.STATION_PROVIDERS, (PROVINCE_CODE,)
    elif dataset == business_licences.DATASET:  # the province's LOCALDATA file, or a 시군's own
        valid, default = frozenset({PROVINCE_CODE, *SIGUN_CODES}), (PROVINCE_CODE,)
    else:
        valid = default = frozenset(SIGUN_CODES)
    if providers is None:
        return sorted(default)
    unknown = sorted(set(providers) - set(PROVIDERS_BY_CODE))
    if unknown:
        raise ValueError(f"unknown provider code(s) {', '.join(unknown)}")
    return sorted(p for p in set(providers) if p in valid)


def days(start: date, end: date) -> Iterator[date]:
    for offset in range((end - start).days + 1):
        yield start + timedelta(offset)


def months(start: date, end: date) -> Iterator[date]:
    month = start.replace(day=1)
    while month <= end:
        yield month
        month = (month + timedelta(days=32)).replace(day=1)


def weeks(start: date, end: date) -> Iterator[date]:
    monday = water_quality.week_monday(start)
    while monday <= end:
        yield monday
        monday += timedelta(days=7)


def _complaint_drops(folder: Path, provider: str, start: date, end: date, seed: int,
                     defects: Sequence[str], rows: int | None, as_of: date | None = None) -> Iterator[SynthFile]:
    for day in days(start, end):
        yield _delivered(civil_complaints.write_civil_complaints_drop(
            folder / f"{day:%Y-%m-%d}.csv", provider=provider, day=day, rows=rows, seed=seed,
            defects=defects, as_of=as_of), period_end=day, due_days=1, seed=seed)


def _welfare_drops(folder: Path, provider: str, start: date, end: date, seed: int,
                   defects: Sequence[str], rows: int | None) -> Iterator[SynthFile]:
    for month in months(start, end):
        month_end = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        yield _delivered(welfare_recipients.write_welfare_recipients_drop(
            folder / f"{month:%Y-%m}.csv", provider=provider, month=month, rows=rows, seed=seed,
            defects=defects), period_end=month_end, due_days=15, seed=seed)


def _water_drops(folder: Path, provider: str, start: date, end: date, seed: int,
                 defects: Sequence[str], rows: int | None) -> Iterator[SynthFile]:
    for monday in weeks(start, end):
        if water_quality.measurements(provider, monday, start, end, rows):
            yield _delivered(water_quality.write_water_quality_drop(
                folder / water_quality.water_file_name(provider, monday), provider=provider,
                week=monday, seed=seed, defects=defects, rows=rows, start=start, end=end),
                period_end=monday + timedelta(days=6), due_days=7, seed=seed)


def _licence_drops(folder: Path, provider: str, start: date, end: date, seed: int,
                   defects: Sequence[str], rows: int | None) -> Iterator[SynthFile]:
    # LOCALDATA as downloaded: the layout is its own, so the contract's file defects do not apply
    for month in months(start, end):
        month_end = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        yield _delivered(business_licences.write_business_licences_drop(
            folder / business_licences.licence_file_name(month), provider=provider, month=month, seed=seed,
            licences_per_sigun=rows), period_end=month_end, due_days=15, seed=seed)


LATE_SHARE = 0.08  # about one file in twelve arrives after it was due
_KST = timezone(timedelta(hours=9))


def _delivered(file: SynthFile, *, period_end: date, due_days: int, seed: int) -> SynthFile:
    """Date the file's arrival (its mtime) as a provider would upload it: within its due time,
    or a few days late for a seeded share of files, so the scorecard has something to say."""
    key = zlib.crc32(f"{seed}:{file.path.parent.parent.name}:{file.path.name}".encode())
    rng = np.random.default_rng(key)
    hours = rng.uniform(8, 18) + (due_days - 1) * 24 * rng.uniform(0, 1)
    if rng.random() < LATE_SHARE:
        hours += due_days * 24 + rng.uniform(24, 72)
    arrived = datetime.combine(period_end + timedelta(days=1), time(0), _KST) + timedelta(hours=hours)
    os.utime(file.path, (arrived.timestamp(), arrived.timestamp()))
    return file


_WRITERS = {
    civil_complaints.DATASET: _complaint_drops,
    welfare_recipients.DATASET: _welfare_drops,
    water_quality.DATASET: _water_drops,
    business_licences.DATASET: _licence_drops,
}


def synthesize_drops(landing_root: Path, *, datasets: Sequence[str],
                     providers: Sequence[str] | None = None, start: date, end: date,
                     seed: int = DEFAULT_SEED, defects: Sequence[str] = (),
                     rows_per_file: int | None = None, as_of: date | None = None) -> list[SynthFile]:
    """Write every drop of `datasets` from `providers` between `start` and `end` (inclusive).

    Layout `<landing_root>/<provider>/<dataset>/<file>`; each defect applies to every file.
    Complaints are daily, welfare snapshots monthly, water quality weekly (named by its Monday).
    `as_of`: the day the files are written; no complaint is completed after it.
    """
    check_defects(defects)
    unknown = sorted(set(datasets) - set(CONTRACTS))
    if unknown:
        raise ValueError(f"unknown dataset(s) {', '.join(unknown)}; known: {', '.join(DATASETS)}")
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    written: list[SynthFile] = []
    for dataset in datasets:
        for provider in providers_for(dataset, providers):
            folder = Path(landing_root) / provider / dataset
            write = _WRITERS[dataset]
            extra = {"as_of": as_of} if as_of is not None and write is _complaint_drops else {}
            written.extend(write(folder, provider, start, end, seed, defects, rows_per_file, **extra))
    return written
