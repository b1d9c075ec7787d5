"""Warm a publication build's cache beside the rest of the publication.

The complaint keyword statistic keeps a cache of each complaint file's nouns
(`restricted/build_cache/<build>/`): its build tokenises only the files not cached yet, which is
most of the publication's time after new complaint drops, on one core. `process --workers N`
starts this as a process of its own (with the batches where a core is left beside the workers,
else once they are done): it imports and loads what the build needs (`prepare`: the language
model), and waits for the word `go` on its standard input, sent once every batch of the dataset
succeeded. It then takes the cache's lock, says `locked` on its standard output and runs the
build, on the core the workers leave free, while `process` goes on to the publication, whose step
(run last but one, so the warm-up has the other steps' time) waits for the lock and publishes
what the warm-up built from the same inputs (kept under their fingerprints:
gn_pipelines/publish/build_results.py), else builds with every file cached. The warm-up runs the
build itself (the same code, the same cache): nothing here knows how a build caches.

It never outlives `process`: its standard input closing (`process` gave up because a batch
failed, or died) ends it at once, before `go` with nothing written. A warm-up ended half-way
leaves what the build leaves when killed (the next build removes the partial files).

Usage: python -m gn_pipelines.build_cache_warmup <build name>...  (environment: the data root)
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Callable, Iterator

from gn_pipelines.file_lock import exclusive_lock

GO = "go"  # process → warm-up: every batch of the dataset succeeded
LOCKED = "locked"  # warm-up → process: it holds the caches' locks, the publication may start
GO_WAIT_SECONDS = 6 * 3600  # bound on waiting for the batches (a warm-up never waits for ever)


def build_cache_dir(restricted: Path, build_name: str) -> Path:
    return restricted / "build_cache" / build_name


@contextmanager
def build_cache_lock(cache_dir: Path) -> Iterator[None]:
    """One build at a time on a cache (a warm-up and the publication's step; released if the
    holder dies)."""
    from gn_pipelines.settings import make_private_directory

    make_private_directory(cache_dir)
    with exclusive_lock(cache_dir / ".lock"):
        yield


def warm_builds_of(dataset: str) -> list[str]:
    """The builds of `dataset`'s drops that keep a cache between publications."""
    from gn_pipelines.datasets import DATASETS

    return [a.table.name for a in DATASETS[dataset].aggregates if a.keeps_cache] if dataset in DATASETS else []


def _drop_builds(build_names: list[str]):
    from gn_pipelines.publish.builds import DROPS, table_builds

    return [b for b in table_builds() if b.name in build_names and b.reads == DROPS]


def warm(build_names: list[str], locks: ExitStack | None = None) -> None:
    """Run these builds of drops (as the publication would) for their caches, and keep what they
    built for the publication's step (`publish/build_results.py`). `locks`: the caches' locks
    taken already (`hold_locks`), released once every build is done."""
    from gn_pipelines.privacy.deidentify import ensure_pseudonymised_seed
    from gn_pipelines.publish.build_results import keep_result
    from gn_pipelines.publish.builds import input_files, table_fingerprints
    from gn_pipelines.settings import DataZones

    zones = DataZones.from_env()
    builds = _drop_builds(build_names)
    with locks if locks is not None else hold_locks(zones, builds):
        for build in builds:
            source, files = input_files(build, zones)
            if not files:
                continue
            ensure_pseudonymised_seed(build.dataset, zones)  # else the release adds it meanwhile
            files = input_files(build, zones)[1]
            cache_dir = build_cache_dir(zones.restricted, build.name)
            fingerprints = table_fingerprints(build, files, zones.root)
            with tempfile.TemporaryDirectory(prefix="warmup-charts-", dir=zones.scratch) as charts:
                built = build.build(source, Path(charts), cache_dir=cache_dir, scratch=zones.scratch)
                # kept only if no drop changed while it was built
                if table_fingerprints(build, input_files(build, zones)[1], zones.root) == fingerprints:
                    keep_result(cache_dir, fingerprints, built)


def hold_locks(zones, builds) -> ExitStack:
    """The caches' locks of `builds`, all held (a publication's step waits for them)."""
    locks = ExitStack()
    for build in builds:
        locks.enter_context(build_cache_lock(build_cache_dir(zones.restricted, build.name)))
    return locks


def _listen(go: threading.Event, on_go: Callable[[], None]) -> None:
    """Read `process`'s words; the end of its standard input (it gave up or died) ends this process."""
    while line := sys.stdin.readline():
        if line.strip() == GO and not go.is_set():
            on_go()
            go.set()
    os._exit(0)


def main(build_names: list[str]) -> None:
    from gn_pipelines.settings import DataZones

    protocol = os.fdopen(os.dup(1), "w")  # stdout is for the protocol alone: stray prints go to stderr
    os.dup2(2, 1)
    go, locks = threading.Event(), ExitStack()

    def on_go() -> None:  # on the listening thread: the locks are held before `process` is told
        locks.enter_context(hold_locks(DataZones.from_env(), _drop_builds(build_names)))
        print(LOCKED, file=protocol, flush=True)

    threading.Thread(target=_listen, args=(go, on_go), name="listen", daemon=True).start()
    for build in _drop_builds(build_names):  # imports and models, while the batches run
        if build.prepare is not None:
            build.prepare()
    if not go.wait(GO_WAIT_SECONDS):
        return
    warm(build_names, locks=locks)


if __name__ == "__main__":
    main(sys.argv[1:])
