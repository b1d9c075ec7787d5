"""Benchmark: information loss of the complaint release, before and after a change of the engine.

Two weeks of synthetic province complaints (every provider, realistic volumes: 252 files,
about 16,900 rows) are synthesised once. Each version of the code (a git revision, and the
working tree) then collects every drop, de-identifies it and releases the dataset at k = 5, in
its own process, from its own copy of `gn_pipelines`. The figures are computed here, the same
way for both, from the released table alone:

  suppressed       share of rows not released
  district kept    share of rows published with a 읍면동 (`district` not NULL)
  generalised      per quasi-identifier, share of released rows above its finest level
  class size       average size of the equivalence classes over the published QIs
  k (pycanon)      k of the released table checked by pycanon (when installed)

Usage: .venv/bin/python bench/bench_information_loss.py [--before REV] [--k 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from datetime import date
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_BEFORE = "b98e6f0"  # main before the Mondrian engine and the text generalisation

RELEASE = """
import datetime as dt, json, sys
from pathlib import Path

import gn_pipelines
if (Path(gn_pipelines.__file__).parent / "datasets").is_dir():
    from gn_pipelines.datasets import get_contract
else:  # a revision before d754b28 (the default --before): get_contract was in contracts
    from gn_pipelines.contracts import get_contract
from gn_pipelines.ingest.collect import collect_drop, collected_path
from gn_pipelines.privacy.deidentify import deidentify_drop, pseudonymised_path, release
from gn_pipelines.settings import DataZones

landing, root, k = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
zones = DataZones(root).ensure()
contract = get_contract("civil_complaints")
secret = b"bench: information loss"
for path in sorted(landing.glob("*/civil_complaints/*.csv")):
    provider, name = path.parts[-3], path.name
    outcome = collect_drop(path, contract=contract, provider_code=provider,
                           source_file=f"{provider}/civil_complaints/{name}", content_sha256="0" * 64,
                           zones=zones, collected_at=dt.datetime(2025, 3, 15, tzinfo=dt.timezone.utc))
    if outcome.status != "collected":
        continue
    collected = collected_path(zones, contract.name, provider, name)
    deidentify_drop(contract, source=collected, target=pseudonymised_path(zones, contract.name, provider, name),
                    secret=secret, zones=zones)
result = release(contract, zones=zones, k=k)
print(json.dumps({"target": str(result.target), "report": result.report()}, default=str))
"""

# Published quasi-identifiers and, per column, the SQL saying a value is above its finest level.
GENERALISED = {
    "sigungu_code": "sigungu_code IN ('48120', '48000')",
    "district": "district IS NULL",
    "age_band": "age_band IS NULL OR age_band = '*' OR NOT regexp_full_match(age_band, '\\d\\d-\\d\\d') "
                "OR CAST(right(age_band, 2) AS INTEGER) - CAST(left(age_band, 2) AS INTEGER) <> 4",
    "sex": "sex IS NULL OR sex = '*'",
}
# days are known only once a complaint is completed: their share is among the completed
DAYS_GENERALISED = {
    "days_to_completion (exact withheld)": "days_to_completion IS NULL",
    "days_to_completion_band (no band either)": "days_to_completion_band IS NULL",
}


def _code_at(revision: str, into: Path) -> Path:
    """`gn_pipelines` of a git revision, extracted under `into`."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", revision, "gn_pipelines"],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def _release(code: Path, landing: Path, root: Path, k: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code)}
    done = subprocess.run([sys.executable, "-c", RELEASE, str(landing), str(root), str(k)],
                          env=env, capture_output=True, text=True, cwd=code)
    if done.returncode:
        raise SystemExit(f"the release of {code} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(released: Path, rows_in: int, k: int) -> dict:
    """The information-loss figures of one released complaints table."""
    import duckdb

    db = duckdb.connect()
    db.execute(f"CREATE VIEW r AS SELECT * FROM read_parquet('{released}')")
    columns = {c for (c,) in db.execute("SELECT column_name FROM (DESCRIBE r)").fetchall()}
    qis = ["received_month", "sigungu_code", "district", "age_band", "sex", "days_to_completion"]
    qis += [c for c in ("days_to_completion_band",) if c in columns]
    rows = db.execute("SELECT count(*) FROM r").fetchone()[0]
    figures = {"rows_in": rows_in, "rows_released": rows,
               "suppressed_share": round(1 - rows / rows_in, 4) if rows_in else 0.0,
               "district_kept_share": round(db.execute(
                   "SELECT count(*) FILTER (WHERE district IS NOT NULL) FROM r").fetchone()[0] / rows_in, 4)}
    figures["generalised_share"] = {
        column: round(db.execute(f"SELECT avg(CASE WHEN {test} THEN 1 ELSE 0 END) FROM r").fetchone()[0], 4)
        for column, test in GENERALISED.items()}
    for label, test in DAYS_GENERALISED.items():
        if label.split()[0] in columns:
            figures["generalised_share"][label] = round(db.execute(
                f"SELECT avg(CASE WHEN {test} THEN 1 ELSE 0 END) FROM r WHERE status = '처리완료'").fetchone()[0], 4)
    keys = ", ".join(qis)
    sizes = [n for (n,) in db.execute(f"SELECT count(*) FROM r GROUP BY {keys}").fetchall()]
    figures["classes"] = len(sizes)
    figures["average_class_size"] = round(sum(sizes) / len(sizes), 2) if sizes else 0.0
    figures["k_reached"] = min(sizes, default=0)
    try:
        from pycanon import anonymity

        # NULL is a value here (no 읍면동, not completed); pandas would drop it from the groups
        frame = db.execute(f"SELECT {', '.join(f'coalesce(CAST({q} AS VARCHAR), $null) AS {q}' for q in qis)} "
                           "FROM r", {"null": "NULL"}).df()
        figures["k_pycanon"] = int(anonymity.k_anonymity(frame, qis))
    except ImportError:
        figures["k_pycanon"] = "pycanon not installed"
    figures["levels_reported"] = {}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=DEFAULT_BEFORE, help="git revision of the baseline")
    parser.add_argument("--after", default=None,
                        help="git revision of the change (default: the working tree)")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 3, 1))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2025, 3, 14))
    args = parser.parse_args()

    from gn_pipelines.synth.drops import synthesize_drops

    with tempfile.TemporaryDirectory(prefix="bench-loss-") as work:
        work = Path(work)
        files = synthesize_drops(work / "landing", datasets=["civil_complaints"], start=args.start, end=args.end)
        rows_in = sum(f.rows for f in files)
        print(f"{len(files)} files, {rows_in:,} rows synthesised ({args.start} – {args.end}), k = {args.k}")
        after = _code_at(args.after, work / "after") if args.after else REPO
        versions = {f"before ({args.before})": _code_at(args.before, work / "before"),
                    f"after ({args.after or 'working tree'})": after}
        for label, code in versions.items():
            result = _release(code, work / "landing", work / f"root-{label.split()[0]}", args.k)
            figures = measure(Path(result["target"]), rows_in, args.k)
            anonymity = result["report"]["anonymity"] or {}
            figures["levels_reported"] = anonymity.get("levels", {})
            figures["information_loss_reported"] = anonymity.get("information_loss", "not reported")
            figures["text_generalised"] = result["report"].get("quasi_identifiers_generalised_in_text", "not reported")
            print(f"\n== {label}")
            print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
