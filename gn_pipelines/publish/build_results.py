"""A build's result kept in its cache directory, under the fingerprints of its tables.

A cache warm-up (gn_pipelines/build_cache_warmup.py) runs a build beside the publication; it
keeps what it built here, and the publication's step, finding the fingerprints it computes
itself (inputs, declaration, code: gn_pipelines/fingerprints.py), reads the tables instead of
building them again. Only tables held as frames (the aggregates) are kept, each as Parquet read
back and compared with the frame before it is kept: what the step publishes is the frame the
build made. The gate still checks every table the step publishes. Restricted zone, like the
cache beside it; one result per build, written whole (renamed into place) or not at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path

from gn_pipelines.publish.builds import Built
from gn_pipelines.unfinished_writes import partial_path

_RESULTS = "results"


def _result_dir(cache_dir: Path, fingerprints: dict[str, str]) -> Path:
    key = hashlib.sha256(json.dumps(sorted(fingerprints.items())).encode()).hexdigest()
    return Path(cache_dir) / _RESULTS / key


def keep_result(cache_dir: Path, fingerprints: dict[str, str], built: Built) -> bool:
    """Keep `built` for the step that will compute `fingerprints`; False when it cannot be kept
    exactly (a table not held as a frame, a chart, a frame Parquet does not give back as it was)."""
    import pandas as pd

    from gn_pipelines.settings import make_private_directory

    if built.charts or set(built.sources) != set(fingerprints) or not all(
            isinstance(frame, pd.DataFrame) for frame in built.sources.values()):
        return False
    target = _result_dir(cache_dir, fingerprints)
    make_private_directory(target.parent)
    partial = partial_path(target)
    shutil.rmtree(partial, ignore_errors=True)
    make_private_directory(partial)
    try:
        for table, frame in built.sources.items():
            frame.to_parquet(partial / f"{table}.parquet", index=False)
            try:
                pd.testing.assert_frame_equal(pd.read_parquet(partial / f"{table}.parquet"), frame,
                                              check_exact=True)
            except AssertionError:
                return False
        (partial / "result.json").write_text(json.dumps({
            "count_columns": built.count_columns,
            "people_columns": built.people_columns,
            "reports": {table: asdict(report) for table, report in built.reports.items()}}))
        for other in partial.parent.iterdir():  # one result per build: the latest inputs'
            if other != partial:
                shutil.rmtree(other, ignore_errors=True)
        os.replace(partial, target)
        return True
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def kept_result(cache_dir: Path, fingerprints: dict[str, str]) -> Built | None:
    """The result kept for exactly these fingerprints, or None."""
    import pandas as pd

    from gn_pipelines.publish.suppression import SuppressionReport

    folder = _result_dir(cache_dir, fingerprints)
    if not (folder / "result.json").is_file():
        return None
    kept = json.loads((folder / "result.json").read_text())
    reports = {table: SuppressionReport(**(report | {"margin_groups": tuple(map(tuple, report["margin_groups"]))}))
               for table, report in kept["reports"].items()}
    return Built({table: pd.read_parquet(folder / f"{table}.parquet") for table in fingerprints},
                 dict(kept["count_columns"]), reports, people_columns=dict(kept.get("people_columns") or {}))
