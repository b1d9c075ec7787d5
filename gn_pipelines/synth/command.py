"""`gn-pipelines synth`: write seeded synthetic drops into the landing zone."""

from __future__ import annotations

import argparse
import os
from datetime import date, datetime, timedelta
from pathlib import Path

from gn_pipelines.seoul_time import SEOUL, now_in_seoul
from gn_pipelines.settings import DataZones
from gn_pipelines.synth.drops import DATASETS, DEFAULT_SEED, synthesize_drops
from gn_pipelines.synth.model import DEFECTS, SynthFile
from gn_pipelines.synth.water_quality import write_water_history_drop


DEFAULT_START, DEFAULT_END = date(2025, 3, 1), date(2025, 3, 31)  # fixed: no wall clock

# The sample landing zone of `gn-pipelines dev`, relative to today (Asia/Seoul) so that the
# platform looks as it would in service: five days of complaints from a city and a county,
# the last monthly welfare snapshots (two months from 합천), several years of Nakdong water quality from the
# province, last month's LOCALDATA licences of the province, one provider that stopped delivering (김해, late for the freshness check), and a few
# drops the platform must reject in part or as a whole. Sized to process in about a minute on
# two cores; `gn-pipelines synth` writes more.
SAMPLE_DAYS = 5
SAMPLE_WATER_YEARS = 5
LATE_PROVIDER = "48250"  # 김해시: its last complaints are days old


def sample_plan(today: date) -> list[dict]:
    """The sample's synthesize_drops calls for `today` (the files' days end two days earlier:
    a file arrives the day after its day, and none may arrive in the future)."""
    last = today - timedelta(days=2)
    first = last - timedelta(days=SAMPLE_DAYS - 1)
    this_month = today.replace(day=1)
    previous_month = (this_month - timedelta(days=1)).replace(day=1)
    before_previous = (previous_month - timedelta(days=1)).replace(day=1)
    complaints, welfare, water = "civil_complaints", "welfare_recipients", "water_quality"
    licences = "business_licences"
    return [
        dict(datasets=[complaints], providers=["48120", "48890"], start=first, end=last - timedelta(days=1)),
        dict(datasets=[complaints], providers=["48890"], start=last, end=last),
        dict(datasets=[complaints], providers=["48120"], start=last, end=last, defects=["xlsx", "header_variants"]),
        dict(datasets=[complaints], providers=["48740"], start=last, end=last,
             defects=["bad_rows", "other_sigungu", "duplicates"]),
        dict(datasets=[complaints], providers=[LATE_PROVIDER], start=first, end=first),
        dict(datasets=[welfare], providers=["48120"], start=previous_month, end=previous_month),
        dict(datasets=[welfare], providers=["48890"], start=before_previous, end=before_previous),
        dict(datasets=[welfare], providers=["48890"], start=previous_month, end=previous_month,
             defects=["cp949", "thousands", "null_tokens"]),
        dict(datasets=[water], providers=["48000"], start=last - timedelta(days=6), end=last),
        dict(datasets=[water], providers=["48000"], start=last - timedelta(days=20),
             end=last - timedelta(days=14), defects=["missing_headers"]),
        dict(datasets=[licences], providers=["48000"], start=previous_month, end=previous_month),
    ]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the synth options to `parser` (the CLI wires it as a sub-command)."""
    parser.add_argument("--landing", type=Path, default=None,
                        help="landing root (default: <GN_DATA_ROOT or ./data>/landing)")
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--providers", nargs="+", default=None, metavar="CODE",
                        help="provider codes (default: every provider of each dataset)")
    parser.add_argument("--start", type=date.fromisoformat, default=DEFAULT_START,
                        help=f"first day, YYYY-MM-DD (default {DEFAULT_START})")
    parser.add_argument("--end", type=date.fromisoformat, default=DEFAULT_END,
                        help=f"last day, YYYY-MM-DD (default {DEFAULT_END})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--rows", type=int, default=None,
                        help="rows per file (default: realistic volumes)")
    parser.add_argument("--defect", dest="defects", action="append", choices=DEFECTS, default=[],
                        metavar="NAME", help=f"repeatable; one of: {', '.join(DEFECTS)}")


def describe(file: SynthFile) -> str:
    """One line per file: where, how many rows, and which defects it carries."""
    counts = ", ".join(f"{n} {label}" for n, label in (
        (file.bad_rows, "bad"), (file.other_sigungu_rows, "other-sigungu"),
        (file.duplicate_rows, "duplicate")) if n)
    notes = "; ".join(part for part in (", ".join(file.defects), counts) if part)
    return f"{file.path}  {file.rows} rows" + (f"  [{notes}]" if notes else "")


def run(args: argparse.Namespace) -> int:
    """Write the drops asked for and print one line per file and a total."""
    landing = args.landing or DataZones.from_env().landing
    try:
        files = synthesize_drops(landing, datasets=args.datasets, providers=args.providers,
                                 start=args.start, end=args.end, seed=args.seed,
                                 defects=args.defects, rows_per_file=args.rows)
    except ValueError as error:
        print(f"synth: {error}")
        return 2
    for file in files:
        print(describe(file))
    print(f"{len(files)} files, {sum(f.rows for f in files)} rows written under {landing}")
    return 0


# A mistake providers really make: a 한글 (.hwp) document dropped beside the data.
STRAY_SAMPLE = Path("48740/civil_complaints/민원처리지침.hwp")


def write_sample_drops(landing: Path, seed: int = DEFAULT_SEED, *, now: datetime | None = None) -> list[SynthFile]:
    """Fill `landing` with the sample of `sample_plan` for `now` (default: the clock), plus one
    stray document the platform rejects before collection (not in the returned list)."""
    now = now or now_in_seoul()
    today = now.astimezone(SEOUL).date()
    # written today: no complaint of the last days is completed in the future
    files = [file for drops in sample_plan(today)
             for file in synthesize_drops(landing, seed=seed, as_of=today - timedelta(days=1), **drops)]
    last = today - timedelta(days=2)
    history_start = date(today.year - SAMPLE_WATER_YEARS, 1, 1)
    history = write_water_history_drop(
        landing / "48000" / "water_quality" / f"history_{history_start:%Y%m}_{last:%Y%m%d}.csv",
        provider="48000", start=history_start, end=last - timedelta(days=7), seed=seed)
    files.append(history)
    stray = landing / STRAY_SAMPLE
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"HWP Document File V5.00 (sample stray file)")
    _not_after(now, [*(f.path for f in files), stray])
    return files


def _not_after(now: datetime, paths: list[Path]) -> None:
    """A file dated after `now` (a late arrival drawn for a recent day) arrived just now instead;
    the history export and the stray document arrived an hour ago."""
    for path in paths:
        arrived = path.stat().st_mtime
        if arrived > now.timestamp() or path.name.startswith("history_") or path.suffix == ".hwp":
            stamp = now.timestamp() - 3600
            os.utime(path, (stamp, stamp))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gn-pipelines synth", description=__doc__)
    configure_parser(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
