"""Build the publication's tables of drops beside the rest of the publication.

The aggregates read only the pseudonymised drops, which are final once a dataset's batches are
done; the complaint keywords also keep a cache of each complaint file's nouns
(`restricted/build_cache/<build>/`) and tokenise the files not cached yet. `process --workers N`
runs these builds in one process of its own, on the core the workers leave free, while it goes
on to the publication: the warm-up keeps each result under its tables' fingerprints
(gn_pipelines/publish/build_results.py), and the publication's step (run after the other steps,
so the warm-up has their time) waits for the build's lock and publishes the kept result, or
builds itself if there is none (the gate checks it either way). The warm-up runs the builds
themselves (the same code, the same cache): nothing here knows how a build caches.

`process` starts it with the batches (arguments: its pid, `--early` where a core is left beside
the workers, else `--when-idle`, the datasets). Protocol on its pipes: `go <dataset>` (every batch
of the dataset succeeded): it takes the locks of that dataset's builds, answers `locked <dataset>`
and builds them in turn, releasing each lock once its build is done; `end`: no more datasets, it
ends once its builds are done. Meanwhile, when idle, it loads what the builds need (`prepare`: the
language model, seconds of CPU), before the first `go` too. `--when-idle`: it runs at the lowest
CPU priority throughout, on what the batches and then the publication leave idle (while the
workers' fork server still imports, between runs; the publication is the longer of the two), and
a step that waits for one of its locks lends it the step's priority (`file_lock`), so it never
waits on what a busy machine leaves to the lowest priority. Where that could not be done (an
ordinary user may lower a priority, not raise it) it runs at its normal priority and loads
nothing before the first `go`, as without either option.
The kernel kills it when `process` dies (PR_SET_PDEATHSIG), and its standard input
closing without `end` (`process` gave up) ends it: a dataset never told `go` (its batch failed)
gets nothing written, and a warm-up never outlives `process`. One ended half-way leaves
what the build leaves when killed (the next build removes the partial files).

Usage: python -m gn_pipelines.build_cache_warmup <pid of process> [--early | --when-idle] <dataset>...
(environment: the data root)
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Callable, Iterator

from gn_pipelines import thread_priority
from gn_pipelines.file_lock import exclusive_lock
from gn_pipelines.unfinished_writes import work_directory

GO = "go"  # process → warm-up: "go <dataset>", every batch of the dataset succeeded
END = "end"  # process → warm-up: no more datasets will be told to go
LOCKED = "locked"  # warm-up → process: "locked <dataset>", it holds the locks of the dataset's builds
EARLY = "--early"  # load the model while the batches still run (a core is left beside the workers)
WHEN_IDLE = "--when-idle"  # load it meanwhile, everything at the lowest priority (no core is left beside them)
GO_WAIT_SECONDS = 6 * 3600  # bound on waiting for the batches (a warm-up never waits for ever)


def build_cache_dir(restricted: Path, build_name: str) -> Path:
    return restricted / "build_cache" / build_name


@contextmanager
def build_cache_lock(cache_dir: Path) -> Iterator[None]:
    """One build at a time on a cache (a warm-up and the publication's step; released if the
    holder dies)."""
    from gn_pipelines.settings import make_private_directory

    make_private_directory(cache_dir)
    with exclusive_lock(cache_dir / ".lock", what=f"the {cache_dir.name} build cache"):
        yield


def warm_builds_of(dataset: str) -> list[str]:
    """The builds of `dataset`'s drops a warm-up runs beside the publication (every aggregate),
    in the order it runs them: those keeping a cache (a model to load, new files to tokenise) last."""
    from gn_pipelines.datasets import DATASETS

    aggregates = DATASETS[dataset].aggregates if dataset in DATASETS else ()
    return [a.table.name for a in sorted(aggregates, key=lambda a: a.keeps_cache)]


def step_priority(dataset: str | None, build_name: str) -> int:
    """The executor priority of a build's step: the warmed ones run after the others (0), those
    keeping a cache last of all, so the warm-up has the time of the steps before them."""
    builds = warm_builds_of(dataset) if dataset is not None else []
    if build_name not in builds:
        return 0
    from gn_pipelines.datasets import AGGREGATES

    return -2 if AGGREGATES[build_name].keeps_cache else -1


def _drop_builds(build_names: list[str]):
    from gn_pipelines.publish.builds import DROPS, table_builds

    by_name = {b.name: b for b in table_builds() if b.reads == DROPS}
    return [by_name[name] for name in build_names if name in by_name]


def warm(build_names: list[str], locks: dict[str, ExitStack] | None = None) -> None:
    """Run these builds of drops (as the publication would), in this order, for their caches and
    the results kept for the publication's steps (`publish/build_results.py`). `locks`: each
    build's lock taken already (`hold_lock`), released once that build is done."""
    from gn_pipelines.privacy.deidentify import ensure_pseudonymised_seed
    from gn_pipelines.publish.build_results import keep_result
    from gn_pipelines.publish.builds import input_files, table_fingerprints
    from gn_pipelines.settings import DataZones

    zones = DataZones.from_env()
    for build in _drop_builds(build_names):
        with (locks or {}).get(build.name) or hold_lock(zones, build.name):
            source, files = input_files(build, zones)
            if not files:
                continue
            ensure_pseudonymised_seed(build.dataset, zones)  # else the release adds it meanwhile
            files = input_files(build, zones)[1]
            cache_dir = build_cache_dir(zones.restricted, build.name)
            fingerprints = table_fingerprints(build, files, zones.root)
            with work_directory(zones.scratch, prefix="warmup-charts-") as charts:
                built = build.build(source, Path(charts), cache_dir=cache_dir, scratch=zones.scratch)
                # kept only if no drop changed while it was built
                if table_fingerprints(build, input_files(build, zones)[1], zones.root) == fingerprints:
                    keep_result(cache_dir, fingerprints, built)


def hold_lock(zones, build_name: str) -> ExitStack:
    """The lock of a build's cache, held (the publication's step waits for it)."""
    lock = ExitStack()
    lock.enter_context(build_cache_lock(build_cache_dir(zones.restricted, build_name)))
    return lock


def _listen(told: "queue.Queue[str | None]", on_go: Callable[[str], None]) -> None:
    """Read `process`'s words; its standard input closing without `end` ends this process."""
    while line := sys.stdin.readline():
        word, _, dataset = line.strip().partition(" ")
        if word == GO and dataset:
            on_go(dataset)
            told.put(dataset)
        elif word == END:
            told.put(None)
            return
    os._exit(0)


def _die_with(parent: int) -> None:
    """Killed by the kernel when the thread that started this process ends (Linux), whatever this
    process is doing; ended now if that happened already. Elsewhere the closing of its standard
    input ends it (`_listen`)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(0)


def main(arguments: list[str]) -> None:
    """`arguments`: the pid of `process`, EARLY, WHEN_IDLE or neither, the datasets."""
    from gn_pipelines.settings import DataZones

    parent, *rest = arguments
    _die_with(int(parent))
    mode, datasets = (rest[0], rest[1:]) if rest[:1] in ([EARLY], [WHEN_IDLE]) else (None, rest)
    lowered = mode == WHEN_IDLE and thread_priority.restorable()
    if lowered:  # first: every thread started from here on (the listener, the model's) inherits it
        thread_priority.lower()
    early = mode == EARLY or lowered
    protocol = os.fdopen(os.dup(1), "w")  # stdout is for the protocol alone: stray prints go to stderr
    os.dup2(2, 1)
    told: queue.Queue[str | None] = queue.Queue()
    locks: dict[str, ExitStack] = {}  # per build

    def on_go(dataset: str) -> None:  # on the listening thread: the locks are held before `process` is told
        zones = DataZones.from_env()
        locks.update({name: hold_lock(zones, name) for name in warm_builds_of(dataset)})
        print(f"{LOCKED} {dataset}", file=protocol, flush=True)

    threading.Thread(target=_listen, args=(told, on_go), name="listen", daemon=True).start()
    if not early:  # idle (no import, no model) until the first dataset is told to go
        try:
            told.put(told.get(timeout=GO_WAIT_SECONDS))  # the only word so far: order kept
        except queue.Empty:
            return
    builds = {b.name: b for d in datasets for b in _drop_builds(warm_builds_of(d))}
    unprepared = [b.prepare for b in builds.values() if b.prepare]
    pending: list[str] = []
    ended = False
    while pending or not ended:
        while not told.empty():
            dataset = told.get()
            ended = ended or dataset is None
            pending += warm_builds_of(dataset) if dataset is not None else []
        if pending:  # the builds needing no model first: their steps come first in the publication
            name = min(pending, key=lambda n: builds[n].prepare is not None if n in builds else False)
            pending.remove(name)
            warm([name], locks={name: locks.pop(name)})
        elif unprepared:  # what the builds need is loaded while no dataset is waiting
            unprepared.pop(0)()
        elif not ended:
            try:
                told.put(told.get(timeout=GO_WAIT_SECONDS))
            except queue.Empty:
                return


if __name__ == "__main__":
    main(sys.argv[1:])
