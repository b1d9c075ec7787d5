"""Benchmark: validate a one-million-row complaint drop; print time and peak memory, against
the same validation done the naive way.

The drop is synthesised (seeded, with bad rows and duplicates) and collected first; then each
way of validating runs in a fresh child process, so its peak RSS is its own (collection's
memory does not count) and its time includes importing Great Expectations:
  stage  `validate_drop`: DuckDB evaluates every rule and splits validated / quarantined rows,
         GX validates a frame of only the needed columns (Arrow strings, no batch hashing),
         and the report page is written. Target: < 15 s and < 1.5 GB peak on 2 cores.
  naive  the whole collected drop in one pandas DataFrame (all columns, default dtypes), the
         verdict columns of the HOLDS rules computed in pandas (the RRN rule with the Python
         `is_valid_rrn`, row by row), then GX with defaults: ephemeral context, default result
         format, default batch hashing, the same expectations (`gx_suite.expectation_for`).
         It only counts unexpected rows: no quarantine files, no report page.
Both print each rule's unexpected count; the script checks they agree.

Usage: .venv/bin/python bench/bench_quality.py [--rows 1000000] [--skip-naive]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROVIDER, DATASET, FILE_NAME = "48120", "civil_complaints", "2025-03-04.csv"
TODAY = "2025-06-30"  # validation day: the drop's dates are all in the past

COLLECT = """
import datetime as dt, json, sys
from pathlib import Path
from gn_pipelines.datasets import get_contract
from gn_pipelines.ingest.collect import collect_drop
from gn_pipelines.settings import DataZones
zones = DataZones(Path(sys.argv[1])).ensure()
outcome = collect_drop(Path(sys.argv[2]), contract=get_contract("civil_complaints"), provider_code=sys.argv[3],
                       source_file=f"{sys.argv[3]}/civil_complaints/{sys.argv[4]}", content_sha256="0" * 64,
                       zones=zones, collected_at=dt.datetime.now(dt.timezone.utc))
print(json.dumps({"accepted": outcome.rows_accepted, "rejected": outcome.rows_rejected}))
"""

STAGE = """
import time
started = time.perf_counter()
import datetime as dt, json, resource, sys
from pathlib import Path
from gn_pipelines.datasets import get_contract
from gn_pipelines.quality.validate import validate_drop
from gn_pipelines.settings import DataZones
zones = DataZones(Path(sys.argv[1])).ensure()
called = time.perf_counter()
outcome = validate_drop(get_contract("civil_complaints"), provider_code=sys.argv[2], file_name=sys.argv[3],
                        zones=zones, rows_rejected_at_collection=int(sys.argv[4]),
                        today=dt.date.fromisoformat(sys.argv[5]), run_id="bench")
finished = time.perf_counter()
print(json.dumps({
    "seconds": finished - started, "call_seconds": finished - called,
    "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "rows": outcome.rows_in, "passed": outcome.rows_passed, "quarantined": outcome.rows_quarantined,
    "whole": outcome.quarantined_whole,
    "sql": {r.rule.name: r.failed_rows for r in outcome.results},
    "gx": {r.rule.name: r.gx_unexpected_count for r in outcome.results},
    "gx_errors": {r.rule.name: r.gx_error for r in outcome.results if r.gx_error},
}))
"""

NAIVE = """
import time
started = time.perf_counter()
import datetime as dt, json, resource, sys
import pandas as pd
import great_expectations as gx
from gn_pipelines.datasets import get_contract
from gn_pipelines.contracts.model import RuleKind
from gn_pipelines.privacy.identifiers import is_valid_rrn
from gn_pipelines.quality.gx_suite import expectation_for
from gn_pipelines.quality.rules import rules_for
from gn_pipelines.reference import codes_allowed_for

collected, provider, today = sys.argv[1], sys.argv[2], dt.date.fromisoformat(sys.argv[3])
frame = pd.read_parquet(collected)  # every column, default dtypes
loaded = time.perf_counter()

# The derived column and the HOLDS verdicts, in pandas (a missing value passes, as in SQL)
frame["received_on"] = frame["received_at"].dt.normalize()
completed = pd.to_datetime(frame["completed_on"])
verdicts = {
    "received_at_not_in_future": frame["received_at"].isna() | (frame["received_at"].dt.date <= today),
    "completed_on_not_in_future": completed.isna() | (completed.dt.date <= today),
    "resident_reg_no_valid": frame["resident_reg_no"].map(lambda v: v is None or v != v or is_valid_rrn(v)),
    "completed_on_only_when_closed": completed.isna() | frame["status"].isna()
                                     | ~frame["status"].isin(["접수", "처리중"]),
    "sigungu_code_belongs_to_provider": frame["sigungu_code"].isna()
                                        | frame["sigungu_code"].isin(sorted(codes_allowed_for(provider))),
}
rules = rules_for(get_contract("civil_complaints"))
missing = {r.name for r in rules if r.kind == RuleKind.HOLDS} - set(verdicts)
assert not missing, f"no naive verdict for {missing}"
for name, verdict in verdicts.items():
    frame[name] = verdict.astype(bool)
# received_on is compared with completed_on (a date): both as timestamps for pandas
frame["completed_on"] = completed
prepared = time.perf_counter()

context = gx.get_context(mode="ephemeral")
batch_definition = (context.data_sources.add_pandas("drop").add_dataframe_asset("civil_complaints")
                    .add_batch_definition_whole_dataframe("whole drop"))
suite = context.suites.add(gx.ExpectationSuite(name="civil_complaints"))
for rule in rules:
    suite.add_expectation(expectation_for(rule))
validation = context.validation_definitions.add(
    gx.ValidationDefinition(name="civil_complaints", data=batch_definition, suite=suite))
result = validation.run(batch_parameters={"dataframe": frame})
finished = time.perf_counter()
counts = {r.expectation_config.meta["gn_rule"]: (r.result or {}).get("unexpected_count") for r in result.results}
errors = {r.expectation_config.meta["gn_rule"]: str((r.exception_info or {}).get("exception_message"))
          for r in result.results if (r.exception_info or {}).get("raised_exception")}
print(json.dumps({
    "seconds": finished - started, "load_seconds": loaded - started, "prepare_seconds": prepared - loaded,
    "gx_seconds": finished - prepared, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "rows": len(frame), "frame_mib": frame.memory_usage(deep=True).sum() / 2**20,
    "gx": {k: None if v is None else int(v) for k, v in counts.items()}, "gx_errors": errors,
}))
"""


def run_child(code: str, *args: str) -> dict:
    child = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True)
    if child.returncode:
        sys.exit(f"child failed (exit {child.returncode}):\n{child.stderr[-3000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()
    from gn_pipelines.ingest.collect import collected_path
    from gn_pipelines.settings import DataZones
    from gn_pipelines.synth import write_civil_complaints_drop

    with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp:
        root = Path(tmp) / "data"
        zones = DataZones(root).ensure()
        drop = Path(tmp) / FILE_NAME
        started = time.perf_counter()
        written = write_civil_complaints_drop(drop, provider=PROVIDER, day=dt.date(2025, 3, 4), rows=args.rows,
                                              seed=20251125, defects=("bad_rows", "duplicates"))
        print(f"synthesised {args.rows:,} rows ({drop.stat().st_size / 2**20:.0f} MiB; {written.bad_rows} "
              f"unreadable, {written.duplicate_rows} duplicated keys) in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        collected = run_child(COLLECT, root, drop, PROVIDER, FILE_NAME)
        source = collected_path(zones, DATASET, PROVIDER, FILE_NAME)
        print(f"collected {collected['accepted']:,} rows, {collected['rejected']} rejected "
              f"({source.stat().st_size / 2**20:.0f} MiB Parquet) in {time.perf_counter() - started:.1f} s")

        stage = run_child(STAGE, root, PROVIDER, FILE_NAME, collected["rejected"], TODAY)
        naive = None if args.skip_naive else run_child(NAIVE, source, PROVIDER, TODAY)
        report(stage, naive)


def report(stage: dict, naive: dict | None) -> None:
    verdict = "within" if stage["seconds"] < 15 and stage["peak_mib"] < 1536 else "OVER"
    print(f"\nstage: {stage['rows']:,} rows, {stage['passed']:,} passed, {stage['quarantined']:,} quarantined"
          f"{' (whole drop)' if stage['whole'] else ''}; validate_drop call {stage['call_seconds']:.1f} s")
    if naive:
        print(f"naive: frame of all columns {naive['frame_mib']:,.0f} MiB; imports + load {naive['load_seconds']:.1f} s, "
              f"HOLDS verdicts in pandas {naive['prepare_seconds']:.1f} s, GX {naive['gx_seconds']:.1f} s")
    print(f"\n{'way':<8}{'seconds':>9}{'peak RSS MiB':>14}")
    print(f"{'stage':<8}{stage['seconds']:>9.1f}{stage['peak_mib']:>14,.0f}   {verdict} the 15 s / 1.5 GB target")
    if naive:
        print(f"{'naive':<8}{naive['seconds']:>9.1f}{naive['peak_mib']:>14,.0f}")
    disagree = {name: (n, stage["gx"][name]) for name, n in stage["sql"].items() if stage["gx"][name] != n}
    if naive:
        disagree |= {f"{name} (naive)": (n, naive["gx"].get(name)) for name, n in stage["sql"].items()
                     if naive["gx"].get(name) != n}
    failing = {name: n for name, n in stage["sql"].items() if n}
    print(f"\nrules failing (SQL): {failing}")
    errors = {**stage["gx_errors"], **(naive or {}).get("gx_errors", {})}
    print(f"GX agrees with SQL on every rule{'' if naive is None else ', in both ways'}: "
          f"{'yes' if not disagree and not errors else f'NO: {disagree} {errors}'}")


if __name__ == "__main__":
    main()
