"""Warm a publication build's cache beside the rest of the publication.

The complaint keyword statistic keeps a cache of each complaint file's nouns
(`restricted/build_cache/<build>/`): its build tokenises only the files not cached yet, which is
most of the publication's time after new complaint drops, on one core. `process --workers N`
starts this as a process of its own once a dataset's last batch is done, so the nouns are
tokenised on the second core while the publication builds the releases and the other tables; the
build's step waits for it (`build_cache_lock`) and then finds every file cached. The warm-up
runs the build itself (the same code, the same cache, its tables thrown away): nothing here knows
how a build caches. A warm-up killed half-way leaves what the build leaves when killed.

Usage: python -m gn_pipelines.build_cache_warmup <build name>...  (environment: the data root)
"""

from __future__ import annotations

import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from gn_pipelines.file_lock import exclusive_lock


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


def warm(build_names: list[str]) -> None:
    """Run these builds of drops (as the publication would) for their caches alone."""
    from gn_pipelines.privacy.deidentify import pseudonymised_glob
    from gn_pipelines.publish.builds import DROPS, table_builds
    from gn_pipelines.settings import DataZones

    zones = DataZones.from_env()
    for build in (b for b in table_builds() if b.name in build_names and b.reads == DROPS):
        cache_dir = build_cache_dir(zones.restricted, build.name)
        with build_cache_lock(cache_dir):
            source = pseudonymised_glob(zones, build.dataset)
            if not any(Path(source.anchor).glob(str(source.relative_to(source.anchor)))):
                continue
            with tempfile.TemporaryDirectory(prefix="warmup-charts-", dir=zones.scratch) as charts:
                build.build(source, Path(charts), cache_dir=cache_dir, scratch=zones.scratch)


if __name__ == "__main__":
    warm(sys.argv[1:])
