"""`process --workers 2` warms the complaint keywords' cache in a process of its own once the
complaint batches are done; the publication's step waits for it and publishes the same table."""

import os
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import Future
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from gn_pipelines import thread_priority
from gn_pipelines.build_cache_warmup import END, GO, LOCKED, WHEN_IDLE, build_cache_dir, build_cache_lock
from gn_pipelines.datasets.civil_complaints import KIWI_THREADS
from gn_pipelines.jobs import PUBLISH_JOB_NAME
from gn_pipelines.processing import _CacheWarmups, process_landing
from gn_pipelines.run_outcomes import RunOutcome, summary
from gn_pipelines.synth import synthesize_drops
from gn_pipelines_tests.polling import next_line, poll
from gn_pipelines_tests.unit.test_thread_priority import (
    needs_restoring, nice_values, without_the_right_to_raise_a_priority,
)

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
    # one batch run per dataset and month, besides the set-up run and the publication
    assert summary(outcomes) == "5 file(s) in 4 run(s), 0 failed", lines
    cache = build_cache_dir(zones.restricted, KEYWORDS)
    assert len(list(cache.glob("nouns-*/*.parquet"))) == 4  # one per complaint file
    assert len(list((cache / "results").iterdir())) == 1  # what the warm-up built, published below
    # its step runs after every other build (the warm-up has their time), before the open data
    [publication] = instance.get_run_records(filters=dg.RunsFilter(job_name=PUBLISH_JOB_NAME))
    steps = [s.step_key for s in sorted(instance.get_run_step_stats(publication.dagster_run.run_id),
                                        key=lambda s: s.start_time)]
    assert steps[-2:] == [f"publish_{KEYWORDS}", "open__open_data_export"], steps
    messages = [e.user_message for e in instance.all_logs(publication.dagster_run.run_id)]
    assert any("built by the cache warm-up" in m for m in messages)
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


def _pseudonymised_complaints(zones, instance) -> None:
    synthesize_drops(zones.landing, datasets=["civil_complaints"], providers=["48120"],
                     start=date(2025, 3, 1), end=date(2025, 3, 2), seed=7, rows_per_file=40)
    lines = []
    outcomes = process_landing(instance, workers=1, publish=False, echo=lines.append)
    assert outcomes and all(o.success for o in outcomes), lines


def _warm_up(*mode: str, as_an_ordinary_user: bool = False) -> subprocess.Popen:
    command = [sys.executable, "-m", "gn_pipelines.build_cache_warmup", str(os.getpid()), *mode, "civil_complaints"]
    if as_an_ordinary_user:
        command = without_the_right_to_raise_a_priority(command)
    return subprocess.Popen(command, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def _end(warm_up: subprocess.Popen) -> None:
    warm_up.kill()
    warm_up.wait()
    for pipe in (warm_up.stdin, warm_up.stdout):
        pipe.close()


def _cached_files(zones) -> list[Path]:
    return list(build_cache_dir(zones.restricted, KEYWORDS).glob("nouns-*/*.parquet"))


def test_a_warm_up_told_to_go_holds_the_lock_then_fills_the_cache(zones, instance):
    _pseudonymised_complaints(zones, instance)
    warm_up = _warm_up()
    try:
        warm_up.stdin.write(f"{GO} civil_complaints\n{END}\n")
        warm_up.stdin.flush()
        assert warm_up.stdout.readline().strip() == f"{LOCKED} civil_complaints"
        with build_cache_lock(build_cache_dir(zones.restricted, KEYWORDS)):  # waits for the warm-up
            assert len(_cached_files(zones)) == 2  # one per complaint file
            assert len(list((build_cache_dir(zones.restricted, KEYWORDS) / "results").iterdir())) == 1
        assert warm_up.wait(timeout=60) == 0
    finally:
        _end(warm_up)


def _model_threads() -> int:
    """The threads of a warm-up whose model is loaded: its own, its listener, the model's workers."""
    return 2 + min(KIWI_THREADS, len(os.sched_getaffinity(0)))


@needs_restoring
def test_a_warm_up_runs_at_the_lowest_priority_until_a_step_waits_for_it(zones, instance):
    """`--when-idle` (no core left beside the workers): the model loads before `go`, and the builds
    run after it, on what other processes leave idle; a step waiting for a build's lock lends the
    warm-up its priority."""
    _pseudonymised_complaints(zones, instance)
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    warm_up = _warm_up(WHEN_IDLE)
    try:
        assert poll(lambda: len(nice_values(warm_up.pid)) >= _model_threads(), seconds=120), nice_values(warm_up.pid)
        assert set(nice_values(warm_up.pid).values()) == {thread_priority.LOWEST}
        warm_up.stdin.write(f"{GO} civil_complaints\n{END}\n")
        warm_up.stdin.flush()
        assert next_line(warm_up) == f"{LOCKED} civil_complaints"
        assert set(nice_values(warm_up.pid).values()) == {thread_priority.LOWEST}
        published = threading.Event()

        def publish_step() -> None:  # as the publication's step: waits for the keywords' lock
            with build_cache_lock(build_cache_dir(zones.restricted, KEYWORDS)):
                published.set()

        step = threading.Thread(target=publish_step)
        step.start()
        # the keyword build holds its lock from `locked` to its end (seconds: the texts' nouns)
        assert poll(lambda: set(nice_values(warm_up.pid).values()) == {ours}, seconds=30), nice_values(warm_up.pid)
        step.join(120)
        assert published.is_set()
        assert warm_up.wait(timeout=60) == 0
        assert len(_cached_files(zones)) == 2
    finally:
        _end(warm_up)


def test_a_warm_up_that_could_not_raise_its_priority_again_keeps_it_and_waits(zones, instance):
    """Where a lowered priority could not be raised again, `--when-idle` lowers nothing (a build at
    the lowest priority could wait for a busy machine for ever) and loads nothing before `go`."""
    _pseudonymised_complaints(zones, instance)
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    warm_up = _warm_up(WHEN_IDLE, as_an_ordinary_user=True)
    try:
        warm_up.stdin.write(f"{GO} civil_complaints\n{END}\n")
        warm_up.stdin.flush()
        assert next_line(warm_up) == f"{LOCKED} civil_complaints"
        assert set(nice_values(warm_up.pid).values()) == {ours}
        assert warm_up.wait(timeout=120) == 0
        assert len(_cached_files(zones)) == 2
    finally:
        _end(warm_up)


def test_a_warm_up_never_told_to_go_ends_and_writes_nothing(zones, instance):
    _pseudonymised_complaints(zones, instance)
    for last_words in ("", f"{END}\n"):  # `process` died; or the batches failed
        warm_up = _warm_up()
        try:
            warm_up.stdin.write(last_words)
            warm_up.stdin.close()
            assert warm_up.wait(timeout=60) == 0
            assert warm_up.stdout.read() == ""
            assert _cached_files(zones) == [] and not build_cache_dir(zones.restricted, KEYWORDS).exists()
        finally:
            _end(warm_up)


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's exit may wait for a reaper)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_warm_up_does_not_outlive_a_killed_process(zones, tmp_path):
    pid_file = tmp_path / "warm-up.pid"
    parent = subprocess.Popen([sys.executable, "-c", (
        "import os, pathlib, subprocess, sys, time\n"
        "warm_up = subprocess.Popen([sys.executable, '-m', 'gn_pipelines.build_cache_warmup', str(os.getpid()), "
        "'--early', 'civil_complaints'], stdin=subprocess.PIPE)\n"
        f"pathlib.Path({str(pid_file)!r}).write_text(str(warm_up.pid))\n"
        "time.sleep(600)  # `process` busy with its batches, until killed\n")])
    try:
        assert poll(pid_file.exists, seconds=30) and poll(lambda: pid_file.read_text() != "", seconds=5)
        warm_up = int(pid_file.read_text())
        assert _running(warm_up)
        parent.kill()  # SIGKILL: no clean-up of its own
        parent.wait(timeout=30)
        assert poll(lambda: not _running(warm_up), seconds=30)
    finally:
        parent.kill()
        parent.wait()


def _finish(batch: Future, success: bool | None) -> None:
    """A batch ends as the workers' pool reports it: its files' outcomes (None: the worker died)."""
    if success is None:
        batch.set_exception(RuntimeError("the worker died"))
    else:
        batch.set_result([RunOutcome("48120/civil_complaints/2025-03-01.csv", success, "")])


def test_process_tells_the_warm_up_to_go_only_when_every_batch_succeeded(zones, instance):
    _pseudonymised_complaints(zones, instance)
    for outcomes, warmed in (((True, False), False), ((True, None), False), ((True, True), True)):
        warmups = _CacheWarmups()
        warmups.start({"civil_complaints", "welfare_recipients"}, spare_core=True)  # only complaints keep a cache
        batches = [Future() for _ in outcomes]
        warmups.watch({i: ("civil_complaints", batch) for i, batch in enumerate(batches)})
        for batch, success in zip(batches, outcomes):
            _finish(batch, success)
        warmups.ready()
        warmups.close(finished=True)
        assert bool(_cached_files(zones)) == warmed, outcomes


@needs_restoring
def test_process_lends_its_priority_to_the_warm_up_it_waits_for_at_its_end(zones, instance):
    """`close` after the publication waits for a warm-up told to go: at the lowest priority it
    would wait on what a busy machine leaves it, so it gets `process`'s. The warm-up is held on a
    build's lock here (taken by the test first), so it is still there to be looked at."""
    _pseudonymised_complaints(zones, instance)
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    warmups = _CacheWarmups()
    with build_cache_lock(build_cache_dir(zones.restricted, KEYWORDS)):  # `go` will wait for it
        warmups.start({"civil_complaints"}, spare_core=False)
        warm_up = warmups._process.pid
        assert poll(lambda: len(nice_values(warm_up)) >= 2
                    and set(nice_values(warm_up).values()) == {thread_priority.LOWEST}, seconds=60)
        batch = Future()
        warmups.watch({0: ("civil_complaints", batch)})
        _finish(batch, True)  # go, end
        closing = threading.Thread(target=warmups.close, kwargs={"finished": True})
        closing.start()
        assert poll(lambda: set(nice_values(warm_up).values()) == {ours}, seconds=30), nice_values(warm_up)
    closing.join(120)
    assert not closing.is_alive() and len(_cached_files(zones)) == 2
