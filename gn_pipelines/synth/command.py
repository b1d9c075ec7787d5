"""`gn-pipelines synth`: write seeded synthetic drops into the landing zone."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from gn_pipelines.settings import DataZones
from gn_pipelines.synth.drops import DATASETS, DEFAULT_SEED, synthesize_drops
from gn_pipelines.synth.model import DEFECTS, SynthFile

DEFAULT_START, DEFAULT_END = date(2025, 3, 1), date(2025, 3, 31)  # fixed: no wall clock

# The sample landing zone of `gn-pipelines dev`: a clean week from a city, a county and the
# province, then a few drops the platform must reject in part or as a whole.
SAMPLE_DROPS: tuple[dict, ...] = (
    dict(datasets=DATASETS, providers=["48000", "48120", "48740", "48890"],
         start=date(2025, 3, 1), end=date(2025, 3, 7)),
    dict(datasets=["civil_complaints"], providers=["48740"], start=date(2025, 3, 8),
         end=date(2025, 3, 8), defects=["bad_rows", "other_sigungu", "duplicates"]),
    dict(datasets=["civil_complaints"], providers=["48120"], start=date(2025, 3, 8),
         end=date(2025, 3, 8), defects=["xlsx", "header_variants"]),
    dict(datasets=["welfare_recipients"], providers=["48890"], start=date(2025, 2, 1),
         end=date(2025, 2, 1), defects=["cp949", "thousands", "null_tokens"]),
    dict(datasets=["water_quality"], providers=["48000"], start=date(2025, 3, 10),
         end=date(2025, 3, 12), defects=["missing_headers"]),
)


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


def write_sample_drops(landing: Path, seed: int = DEFAULT_SEED) -> list[SynthFile]:
    """Fill `landing` with the small sample of SAMPLE_DROPS (for a first look at the platform),
    plus one stray document the platform rejects before collection (not in the returned list)."""
    files = [file for drops in SAMPLE_DROPS for file in synthesize_drops(landing, seed=seed, **drops)]
    stray = landing / STRAY_SAMPLE
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"HWP Document File V5.00 (sample stray file)")
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gn-pipelines synth", description=__doc__)
    configure_parser(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
