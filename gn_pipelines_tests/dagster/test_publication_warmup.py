"""`process --workers 2` warms the complaint keywords' cache in a process of its own once the
complaint batches are done; the publication's step waits for it and publishes the same table."""

import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from gn_pipelines.build_cache_warmup import build_cache_dir, build_cache_lock
from gn_pipelines.processing import process_landing
from gn_pipelines.synth import synthesize_drops
from gn_pipelines_tests.polling import poll

KEYWORDS = "civil_complaint_keywords_monthly"


def test_the_warmed_cache_publishes_the_same_keywords(zones, instance):
    from gn_pipelines.privacy.deidentify import pseudonymised_glob
    from gn_pipelines.publish.builds import table_builds

    synthesize_drops(zones.landing, datasets=["civil_complaints"], providers=["48120", "48170"],
                     start=date(2025, 3, 1), end=date(2025, 3, 2), seed=7, rows_per_file=60)
    synthesize_drops(zones.landing, datasets=["welfare_recipients"], providers=["48120"],
                     start=date(2025, 3, 1), end=date(2025, 3, 1), seed=7, rows_per_file=40)
    lines = []
    outcomes = process_landing(instance, workers=2, publish=True, echo=lines.append)
    assert all(o.success for o in outcomes), lines
    cache = build_cache_dir(zones.restricted, KEYWORDS)
    assert len(list(cache.glob("nouns-*/*.parquet"))) == 4  # one per complaint file
    with duckdb.connect(str(zones.published_db), read_only=True) as connection:
        published = connection.execute(f"SELECT * FROM {KEYWORDS}").df()
    # the same build from scratch (a cache of its own)
    [build] = [b for b in table_builds() if b.name == KEYWORDS]
    with tempfile.TemporaryDirectory() as scratch:
        fresh = build.build(pseudonymised_glob(zones, "civil_complaints"), Path(scratch),
                            cache_dir=Path(scratch) / "cache", scratch=Path(scratch)).sources[KEYWORDS]
    columns = list(published.columns)
    assert len(published) > 0 and set(columns) <= set(fresh.columns)
    pd.testing.assert_frame_equal(published.sort_values(columns).reset_index(drop=True),
                                  fresh[columns].sort_values(columns).reset_index(drop=True), check_dtype=False)


def test_a_build_waits_for_the_warm_up_holding_its_cache(tmp_path):
    cache = tmp_path / "cache"
    started, ended = tmp_path / "started", tmp_path / "ended"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time, pathlib\n"
        "from gn_pipelines.build_cache_warmup import build_cache_lock\n"
        f"with build_cache_lock(pathlib.Path({str(cache)!r})):\n"
        f"    pathlib.Path({str(started)!r}).touch()\n"
        "    time.sleep(1.0)  # the warm-up's work\n"
        f"    pathlib.Path({str(ended)!r}).touch()\n")])
    try:
        assert poll(started.exists, seconds=30)
        with build_cache_lock(cache):
            assert ended.exists()  # the holder was done before this build could start
    finally:
        holder.wait(timeout=30)
