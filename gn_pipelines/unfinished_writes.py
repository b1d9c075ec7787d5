"""Files written beside their target and renamed into place whole, and the work directories of
the scratch zone, named after their writer (pid, start ticks, host), so that what a killed writer
left is removed: the first write of a process into a folder removes the leftovers of dead writers
there. A killed run's batch is redone into the same folders, so its leftovers go with the redo;
the scratch zone (spills and copies of restricted rows) is swept by the next process working in it,
at once after a child process dies (`contained.py`: a parser killed by a hostile file), and as
`process` ends (a worker killed mid-run).

A leftover goes at once if its writer was a process of this host that is gone, after a day if
another host's (its processes cannot be seen here; no write takes that long)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gn_pipelines.process_identity import process_alive, this_process

FOREIGN_LEFTOVER_SECONDS = 24 * 3600
MEMBERS_PREFIX = ".members-"
_WRITER = r"(?P<pid>\d+)-(?P<started>\d*)-(?P<host>[^/]+)"
# Beside targets, only hidden names are judged (a delivered file's staged name may look like
# anything): a file (or folder) being written, and a batch's folder (tempfile's random tail).
_BESIDE_TARGETS = (re.compile(rf"^\..+\.{_WRITER}\.partial$"), re.compile(rf"^\.members-{_WRITER}-[a-z0-9_]+$"))
# In the scratch zone, which holds nothing else: a work directory ("collect-<writer>.<random>")
WORK_DIRECTORIES = (re.compile(rf"^[a-z][a-z-]*-{_WRITER}\.[a-z0-9_]+$"),)
_swept: set[tuple] = set()  # (process, folder, patterns): a folder is swept once per process


def partial_path(target: Path) -> Path:
    """Where this process writes `target` before renaming it into place (its folder made if missing)."""
    _sweep_once(target.parent, _BESIDE_TARGETS)
    return target.with_name(f".{target.name}.{_writer()}.partial")


def write_text_atomically(target: Path, text: str, *, durable: bool = False, owner_only: bool = False,
                          only_if_absent: bool = False) -> bool:
    """`text` (UTF-8) written beside `target`, then renamed into place: readers see all of it or
    the file as it was. `durable`: on disk before this returns (the file, then its folder's entry),
    for records a power cut must not take (the key in force, the data-lab ledger). `owner_only`:
    mode 0600 from the first byte. `only_if_absent`: placed only if `target` does not exist yet, in
    one step (a hard link fails on an existing name); False when another writer placed it first."""
    partial = partial_path(target)
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if owner_only else 0o666)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        if only_if_absent:
            try:
                os.link(partial, target)
            except FileExistsError:
                return False
        else:
            os.replace(partial, target)
        if durable:
            fsync_path(target.parent)
        return True
    finally:
        partial.unlink(missing_ok=True)


def fsync_path(path: Path) -> None:
    """Flush a file or a directory (its entries) to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def members_folder(parent: Path) -> Path:
    """A new folder in `parent` for a batch's files before each is renamed onto its target (one
    filesystem, so each rename is atomic)."""
    _sweep_once(parent, _BESIDE_TARGETS)
    return Path(tempfile.mkdtemp(prefix=f"{MEMBERS_PREFIX}{_writer()}-", dir=parent))


@contextmanager
def work_directory(parent: Path, prefix: str) -> Iterator[Path]:
    """A fresh owner-only directory in `parent` (the scratch zone), removed on exit, like
    `tempfile.TemporaryDirectory`; a killed writer's is removed by the next process working there."""
    _sweep_once(parent, WORK_DIRECTORIES)
    work = Path(tempfile.mkdtemp(prefix=f"{prefix}{_writer()}.", dir=parent))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def remove_dead_writers_leftovers(folder: Path, leftovers: tuple[re.Pattern, ...] = _BESIDE_TARGETS) -> list[Path]:
    """Remove what dead writers left in `folder`: the entries named by one of `leftovers` (partial
    files and batch folders beside targets; work directories in the scratch zone)."""
    removed = []
    with os.scandir(folder) as entries:
        for entry in entries:
            named = next(filter(None, (p.match(entry.name) for p in leftovers)), None)
            if named is None:
                continue
            leftover = Path(entry.path)
            alive = process_alive(named["host"], int(named["pid"]), named["started"])
            if alive is None:
                alive = time.time() - _last_change(leftover) < FOREIGN_LEFTOVER_SECONDS
            if not alive:
                _remove(leftover)
                removed.append(leftover)
    return removed


def remove_dead_work_directories(scratch: Path) -> list[Path]:
    """Remove the work directories dead writers left in the scratch zone (if it exists yet)."""
    return remove_dead_writers_leftovers(scratch, WORK_DIRECTORIES) if scratch.is_dir() else []


def _sweep_once(folder: Path, leftovers: tuple[re.Pattern, ...]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if (os.getpid(), folder, leftovers) not in _swept:
        remove_dead_writers_leftovers(folder, leftovers)
        _swept.add((os.getpid(), folder, leftovers))


def _writer() -> str:
    host, pid, started = this_process()
    return f"{pid}-{started}-{host}"


def _last_change(path: Path) -> float:
    """The newest modification time in `path` (itself included); now if it changes meanwhile."""
    try:
        inside = [p.stat().st_mtime for p in path.rglob("*")] if path.is_dir() else []
        return max([path.stat().st_mtime] + inside)
    except FileNotFoundError:
        return time.time()


def _remove(leftover: Path) -> None:
    if leftover.is_dir() and not leftover.is_symlink():
        shutil.rmtree(leftover, ignore_errors=True)
    else:
        leftover.unlink(missing_ok=True)
