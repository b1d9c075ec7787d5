"""Benchmark: de-identify a one-million-row complaint drop, and release it k-anonymous.

The drop is synthesised (seeded; about one text in six carries personal data), collected and
validated first; then each step runs in a fresh child process so its peak RSS is its own:
  drop     `deidentify_drop`: keyed pseudonyms, birth year and sex from the 주민등록번호,
           읍면동 from the address, title and body scrubbed (two texts per row), the residual
           scan, the Parquet written. Targets: ≥ 20,000 texts/s, < 2 GB peak.
  release  `release`: every drop generalised until k = 5 (partitioned by month), scanned,
           written as the de-identified table.

Usage: .venv/bin/python bench/bench_deidentify.py [--rows 1000000]
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

from gn_pipelines.privacy.deidentify import DERIVE_PROCESSES

PROVIDER, DATASET, FILE_NAME = "48120", "civil_complaints", "2025-03-04.csv"

PREPARE = """
import datetime as dt, json, sys
from pathlib import Path

from gn_pipelines.privacy.deidentify import DERIVE_PROCESSES
from gn_pipelines.datasets import get_contract
from gn_pipelines.ingest.collect import collect_drop
from gn_pipelines.quality.validate import validate_drop
from gn_pipelines.settings import DataZones
zones = DataZones(Path(sys.argv[1])).ensure()
contract = get_contract("civil_complaints")
collected = collect_drop(Path(sys.argv[2]), contract=contract, provider_code=sys.argv[3],
                         source_file=f"{sys.argv[3]}/civil_complaints/{sys.argv[4]}", content_sha256="0" * 64,
                         zones=zones, collected_at=dt.datetime.now(dt.timezone.utc))
validated = validate_drop(contract, provider_code=sys.argv[3], file_name=sys.argv[4], zones=zones,
                          rows_rejected_at_collection=collected.rows_rejected, today=dt.date(2025, 6, 30))
print(json.dumps({"validated_rows": validated.rows_passed}))
"""

DROP = """
import time
started = time.perf_counter()
import json, resource, sys
from pathlib import Path

from gn_pipelines.privacy.deidentify import DERIVE_PROCESSES
from gn_pipelines.datasets import get_contract
from gn_pipelines.privacy.deidentify import deidentify_drop, pseudonymised_path
from gn_pipelines.quality.validate import validated_path
from gn_pipelines.settings import DataZones
zones = DataZones(Path(sys.argv[1])).ensure()
called = time.perf_counter()
outcome = deidentify_drop(get_contract("civil_complaints"), zones=zones, secret=b"bench-only-key",
                          source=validated_path(zones, "civil_complaints", sys.argv[2], sys.argv[3]),
                          target=pseudonymised_path(zones, "civil_complaints", sys.argv[2], sys.argv[3]))
finished = time.perf_counter()
print(json.dumps({"rows": outcome.rows, "seconds": finished - called, "process_seconds": finished - started,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "worker_peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "replaced": outcome.replaced_in_text, "residual": outcome.residual}))
"""

RELEASE = """
import time
started = time.perf_counter()
import json, resource, sys
from pathlib import Path

from gn_pipelines.privacy.deidentify import DERIVE_PROCESSES
from gn_pipelines.datasets import get_contract
from gn_pipelines.privacy.deidentify import release
from gn_pipelines.settings import DataZones
zones = DataZones(Path(sys.argv[1])).ensure()
called = time.perf_counter()
result = release(get_contract("civil_complaints"), zones=zones)
finished = time.perf_counter()
anonymity = result.anonymity
print(json.dumps({"rows": result.rows, "seconds": finished - called,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "k_reached": anonymity["k_reached"], "suppressed": anonymity["records_suppressed"],
                  "residual": result.residual}))
"""


def run_child(code: str, *args: object) -> dict:
    child = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True)
    if child.returncode:
        raise SystemExit(child.stderr)
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    from gn_pipelines.synth import write_civil_complaints_drop

    with tempfile.TemporaryDirectory(prefix="bench-deidentify-") as work:
        root = Path(work) / "data"
        drop = Path(work) / FILE_NAME
        started = time.perf_counter()
        write_civil_complaints_drop(drop, provider=PROVIDER, day=dt.date(2025, 3, 4), rows=args.rows, seed=20251125)
        prepared = run_child(PREPARE, root, drop, PROVIDER, FILE_NAME)
        print(f"prepared {prepared['validated_rows']:,} validated rows in {time.perf_counter() - started:.1f} s")
        per_drop = run_child(DROP, root, PROVIDER, FILE_NAME)
        texts = 2 * per_drop["rows"]
        print(f"deidentify_drop: {per_drop['rows']:,} rows, {texts:,} texts in {per_drop['seconds']:.1f} s "
              f"= {texts / per_drop['seconds']:,.0f} texts/s; peak RSS {per_drop['peak_mib']:,.0f} MiB, "
              f"each of its {DERIVE_PROCESSES} derivation processes at most {per_drop['worker_peak_mib']:,.0f} MiB "
              f"(process incl. imports {per_drop['process_seconds']:.1f} s)")
        print(f"  identifiers replaced in text: {per_drop['replaced']}; residual: {per_drop['residual'] or 'none'}")
        released = run_child(RELEASE, root)
        print(f"release (k = 5 by month): {released['rows']:,} rows in {released['seconds']:.1f} s; peak RSS "
              f"{released['peak_mib']:,.0f} MiB; k reached {released['k_reached']}, "
              f"{released['suppressed']:,} suppressed; residual: {released['residual'] or 'none'}")


if __name__ == "__main__":
    main()
