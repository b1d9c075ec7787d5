"""Releases: every publication is built whole in `releases/<id>/` and made current at once.

A release directory holds `published.duckdb`, `open/` and `charts/`. It is built as a draft
(marked by `building.json`, which names the runs that wrote into it), completed by writing
`release.json` (the manifest), and made current by ONE atomic rename of the symlink
`releases/current`. The analysts' paths, `warehouse/published.duckdb` and `open/`, are symlinks
through `releases/current`, so a reader that opens them sees the old release or the new one,
never a mix (resolve the path once to read several files of one release).

An interrupted draft is finished (its manifest was written: only the swap was missing) or
rolled back (deleted: a run that wrote into it failed or died) by the next publication or
`gn-pipelines process`. The last `GN_KEEP_RELEASES` (default 3) complete releases are kept, so
an operator can roll back with `gn-pipelines release rollback`.

Each release also records, in `inputs.json`, the fingerprint of the inputs every published table
was built from (`gn_pipelines/fingerprints.py`) and the gate's verdict on it: a table whose inputs did
not change since the base release is carried over instead of being rebuilt (docs/publication.md).

Plain Python: the Dagster layer tells whether a run is active, succeeded or failed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Iterable, Iterator, Literal

from gn_pipelines.file_lock import exclusive_lock
from gn_pipelines.seoul_time import now_in_seoul
from gn_pipelines.unfinished_writes import fsync_path, write_text_atomically

RELEASES = "releases"
CURRENT = "current"
# A release's id: Seoul time to the microsecond. Other folders under releases/ (lost+found on a
# mount point, an operator's backup) are not releases: never listed, pruned or waited after.
RELEASE_ID_FORMAT = "%Y%m%dT%H%M%S-%f"
_RELEASE_ID = re.compile(r"[0-9]{8}T[0-9]{6}-[0-9]{6}")
PUBLISHED_FILE = "published.duckdb"
OPEN_DIR = "open"
CHARTS_DIR = "charts"
BUILDING_MARKER = "building.json"
_NEW_PREFIX = ".new-"  # a draft being made, before it has its marker
MANIFEST = "release.json"
TABLE_INPUTS = "inputs.json"
KEEP_RELEASES_ENV = "GN_KEEP_RELEASES"
DEFAULT_KEEP_RELEASES = 3

RunState = Literal["active", "succeeded", "failed"]
RunStateOf = Callable[[str], RunState]
ReleaseHook = Callable[[Path], None]


class ReleaseError(RuntimeError):
    """An operator's release command that cannot be done (unknown id, nothing to roll back to)."""


@dataclass(frozen=True)
class Release:
    id: str
    path: Path
    complete: bool  # has its manifest: can be (or is) current
    manifest: dict

    @property
    def published_db(self) -> Path:
        return self.path / PUBLISHED_FILE

    @property
    def open_dir(self) -> Path:
        return self.path / OPEN_DIR

    @property
    def charts_dir(self) -> Path:
        return self.path / CHARTS_DIR


def releases_dir(root: Path) -> Path:
    return Path(root) / RELEASES


def keep_releases_from_env() -> int:
    return max(1, int(os.environ.get(KEEP_RELEASES_ENV) or DEFAULT_KEEP_RELEASES))


def _release(path: Path) -> Release:
    manifest_path = path / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
    return Release(path.name, path, manifest_path.exists(), manifest)


def list_releases(root: Path) -> list[Release]:
    """Every release directory, complete or draft, oldest first."""
    folder = releases_dir(root)
    if not folder.is_dir():
        return []
    return [_release(p) for p in sorted(folder.iterdir())
            if _RELEASE_ID.fullmatch(p.name) and p.is_dir() and not p.is_symlink()]


def current_release(root: Path) -> Release | None:
    link = releases_dir(root) / CURRENT
    if not link.is_symlink() or not link.resolve().is_dir():
        return None
    return _release(link.resolve())


def _draft(root: Path) -> Release | None:
    return next((r for r in list_releases(root) if (r.path / BUILDING_MARKER).exists()), None)


def _building(release: Release) -> dict:
    return json.loads((release.path / BUILDING_MARKER).read_text(encoding="utf-8"))


@contextmanager
def releases_lock(root: Path) -> Iterator[None]:
    """One writer of the releases at a time (an OS lock, released even when the process is killed;
    a waiter gives up after `file_lock.LOCK_WAIT_SECONDS`, naming the holder)."""
    folder = releases_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(folder / ".lock", what="the releases folder"):
        yield


def new_release_id(root: Path) -> str:
    """Seoul time to the microsecond (people in Seoul read it), after every existing id (ids sort
    in release order). Where the latest id is not behind this clock (a host whose clock ran ahead
    made it), the id one microsecond after it: waiting for the clock could take hours."""
    latest = max((r.id for r in list_releases(root)), default="")
    candidate = f"{now_in_seoul():{RELEASE_ID_FORMAT}}"
    if candidate > latest:
        return candidate
    return f"{datetime.strptime(latest, RELEASE_ID_FORMAT) + timedelta(microseconds=1):{RELEASE_ID_FORMAT}}"


def draft_release(root: Path, run_id: str, run_state: RunStateOf) -> Release:
    """The release being built, which `run_id` joins; a draft left by a failed or dead run is
    rolled back first. A new draft starts from the current release (its tables carry over)."""
    with releases_lock(root):
        draft = _draft(root)
        _remove_leftovers(root)
        if draft is not None and _abandoned(draft, run_state):
            _delete(draft)
            draft = None
        if draft is None:
            base = current_release(root)
            return _release(_new_draft(root, {"base": base.id if base else None, "runs": [run_id]}))
        building = _building(draft)
        if run_id not in building["runs"]:
            building["runs"].append(run_id)
            _write_json(draft.path / BUILDING_MARKER, building)
        return draft


def _new_draft(root: Path, building: dict) -> Path:
    """A new release folder that holds its building marker from the moment it bears a release's
    name: made hidden, then renamed. (Made in place, a kill between the folder and its marker
    left a nameless draft that no command finished or rolled back.)"""
    release_id = new_release_id(root)
    hidden = releases_dir(root) / f"{_NEW_PREFIX}{release_id}"
    hidden.mkdir(parents=True)
    _write_json(hidden / BUILDING_MARKER, {
        "id": release_id, **building, "started_at": now_in_seoul().isoformat(timespec="seconds")})
    path = hidden.with_name(release_id)
    os.rename(hidden, path)
    fsync_path(path.parent)
    return path


def _abandoned(draft: Release, run_state: RunStateOf) -> bool:
    return not draft.complete and any(run_state(r) == "failed" for r in _building(draft)["runs"])


def base_published_db(root: Path, draft: Release) -> Path | None:
    """The published file a draft's untouched tables carry over from (its base release's)."""
    base = _building(draft).get("base")
    path = releases_dir(root) / base / PUBLISHED_FILE if base else None
    return path if path is not None and path.exists() else None


def complete_release(root: Path, draft: Release, *, before_swap: Iterable[ReleaseHook] = (),
                     after_swap: Iterable[ReleaseHook] = (), keep: int | None = None,
                     manifest_extra: dict | None = None) -> Release:
    """Write the draft's manifest and make it current in one swap; prune old releases.

    `before_swap` hooks get the release directory once it is whole (e.g. publish it elsewhere
    too); a hook that raises leaves the current release as it was. `after_swap` hooks run once
    it is current.
    """
    with releases_lock(root):
        for hook in before_swap:
            hook(draft.path)
        building = _building(draft)
        _carry_table_inputs(root, draft)
        _write_json(draft.path / MANIFEST, {
            "id": draft.id, "base": building.get("base"), "runs": building["runs"],
            "started_at": building["started_at"],
            "completed_at": now_in_seoul().isoformat(timespec="seconds"),
            "tables": table_row_counts(draft.path / PUBLISHED_FILE), **(manifest_extra or {})})
        _fsync_tree(draft.path)
        _make_current(root, draft.id)
        (draft.path / BUILDING_MARKER).unlink()
        ensure_analyst_links(root)
        prune_releases(root, keep if keep is not None else keep_releases_from_env())
        release = _release(draft.path)
    for hook in after_swap:
        hook(release.path)
    return release


def table_inputs(release: Release) -> dict[str, dict]:
    """Per published table of a release: the fingerprint of its inputs, the release it was built
    in and the gate's verdict (empty for a release made before fingerprints)."""
    path = release.path / TABLE_INPUTS
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def base_release(root: Path, draft: Release) -> Release | None:
    """The complete release a draft started from (its tables carry over from it)."""
    base = _building(draft).get("base")
    path = releases_dir(root) / base if base else None
    return _release(path) if path is not None and (path / MANIFEST).exists() else None


def unchanged_table_inputs(root: Path, draft: Release, fingerprints: dict[str, str]) -> dict[str, dict] | None:
    """The records of `fingerprints`' tables when every one is already in the draft (a retried
    run) or in its base release with the same fingerprint; None when any must be rebuilt."""
    own = table_inputs(draft)
    base = base_release(root, draft)
    inherited = table_inputs(base) if base is not None and base.published_db.exists() else {}
    present = set(table_row_counts(base.published_db)) if inherited else set()
    found = {}
    for table, fingerprint in fingerprints.items():
        if own.get(table, {}).get("fingerprint") == fingerprint:
            found[table] = own[table]
        elif table in present and inherited.get(table, {}).get("fingerprint") == fingerprint:
            found[table] = inherited[table]
        else:
            return None
    return found


def carried_over_tables(root: Path, draft: Release) -> set[str]:
    """Tables of the draft holding the same rows as in its base release (not rebuilt in it; the
    catalog is rebuilt by every publication)."""
    from gn_pipelines.publish.tables import CATALOG_TABLE

    base = base_release(root, draft)
    if base is None or not base.published_db.exists():
        return set()
    own = table_inputs(draft)
    in_base = set(table_row_counts(base.published_db))
    return {t for t in table_row_counts(draft.published_db)
            if t in in_base and t != CATALOG_TABLE and own.get(t, {}).get("built_in") != draft.id}


def carry_charts(root: Path, draft: Release, names: Iterable[str]) -> list[Path]:
    """Copy charts of tables carried over from the base release into the draft (a release is whole)."""
    base = base_release(root, draft)
    copied = []
    for name in names:
        source = base.charts_dir / name if base is not None else None
        if source is not None and source.exists() and not (draft.charts_dir / name).exists():
            draft.charts_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, draft.charts_dir / name)
            copied.append(draft.charts_dir / name)
    return copied


def record_table_inputs(root: Path, draft: Release, records: dict[str, dict]) -> None:
    """Add the records of tables just written into (or carried over to) the draft."""
    with releases_lock(root):
        _write_json(draft.path / TABLE_INPUTS, table_inputs(draft) | records)


def _carry_table_inputs(root: Path, draft: Release) -> None:
    """The base's records of tables the draft carried over untouched complete the draft's."""
    base = base_release(root, draft)
    own = table_inputs(draft)
    present = set(table_row_counts(draft.published_db))
    carried = {t: r for t, r in (table_inputs(base) if base is not None else {}).items()
               if t in present and t not in own}
    if carried or own:
        _write_json(draft.path / TABLE_INPUTS, {t: r for t, r in (carried | own).items() if t in present})


def table_row_counts(published_db: Path) -> dict[str, int]:
    import duckdb

    if not published_db.exists():
        return {}
    with duckdb.connect(str(published_db), read_only=True) as connection:
        tables = [n for (n,) in connection.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY 1").fetchall()]
        return {t: connection.execute(f'SELECT count(*) FROM main."{t}"').fetchone()[0] for t in tables}


def recover_releases(root: Path, run_state: RunStateOf) -> list[str]:
    """Finish or roll back a draft left by a run that is no longer active; say which."""
    said = []
    with releases_lock(root):
        _remove_leftovers(root)
        draft = _draft(root)
        if draft is not None:
            runs = _building(draft)["runs"]
            states = {r: run_state(r) for r in runs}
            if draft.complete:
                if (current := current_release(root)) is None or current.id != draft.id:
                    _make_current(root, draft.id)
                (draft.path / BUILDING_MARKER).unlink()
                said.append(f"release {draft.id}: interrupted after it was complete; finished (now current)")
            elif any(s == "failed" for s in states.values()):
                _delete(draft)
                current = current_release(root)
                said.append(f"release {draft.id}: interrupted while it was being built; rolled back "
                            f"(current release: {current.id if current else 'none'}); it will be rebuilt")
        migrated = ensure_analyst_links(root)
        if migrated:
            said.append(f"release {migrated}: the published warehouse and open data found in place "
                        "were moved into this first release")
    return said


def pending_draft(root: Path) -> Release | None:
    """A draft not yet complete (a publication in progress, or waiting for its open-data export)."""
    draft = _draft(root)
    return draft if draft is not None and not draft.complete else None


def rollback(root: Path, release_id: str | None = None) -> tuple[str | None, str]:
    """Make `release_id` (default: the complete release before the current one) current."""
    with releases_lock(root):
        complete = [r for r in list_releases(root) if r.complete and not (r.path / BUILDING_MARKER).exists()]
        current = current_release(root)
        if release_id is None:
            older = [r for r in complete if current is None or r.id < current.id]
            if not older:
                raise ReleaseError("no earlier release to roll back to "
                                   f"(releases: {', '.join(r.id for r in complete) or 'none'})")
            target = older[-1]
        else:
            target = next((r for r in complete if r.id == release_id), None)
            if target is None:
                raise ReleaseError(f"no complete release {release_id!r} "
                                   f"(releases: {', '.join(r.id for r in complete) or 'none'})")
        _make_current(root, target.id)
        ensure_analyst_links(root)
    return (current.id if current else None), target.id


def prune_releases(root: Path, keep: int) -> list[str]:
    """Delete complete releases beyond the newest `keep` (never the current one)."""
    current = current_release(root)
    complete = [r for r in list_releases(root) if r.complete and not (r.path / BUILDING_MARKER).exists()]
    removed = []
    for release in complete[:-keep] if keep < len(complete) else []:
        if current is None or release.id != current.id:
            _delete(release)
            removed.append(release.id)
    return removed


def _delete(release: Release) -> None:
    """Hide the release with one rename, then delete it (a kill midway leaves no half release)."""
    hidden = release.path.with_name(f".deleting-{release.id}")
    os.rename(release.path, hidden)
    shutil.rmtree(hidden)


def _remove_leftovers(root: Path) -> None:
    """Finish deletions, new drafts and symlink swaps that a killed process left half done."""
    for path in [*releases_dir(root).glob(".deleting-*"), *releases_dir(root).glob(f"{_NEW_PREFIX}*")]:
        shutil.rmtree(path, ignore_errors=True)
    for release in list_releases(root):  # neither draft nor complete: made in place by an earlier version
        if not release.complete and not (release.path / BUILDING_MARKER).exists():
            _delete(release)
    for path in releases_dir(root).glob(".current-*"):
        path.unlink(missing_ok=True)
    for link in analyst_links(root):
        for path in link.parent.glob(f".{link.name}.link-*"):
            path.unlink(missing_ok=True)


def _make_current(root: Path, release_id: str) -> None:
    """Point `releases/current` at `release_id` with one atomic rename of a new symlink."""
    folder = releases_dir(root)
    temp = folder / f".current-{uuid.uuid4().hex[:8]}"
    os.symlink(release_id, temp)
    os.replace(temp, folder / CURRENT)
    fsync_path(folder)


def analyst_links(root: Path) -> dict[Path, str]:
    """The analysts' paths and where they point (relative, so the data root can move)."""
    root = Path(root)
    return {root / "warehouse" / PUBLISHED_FILE: f"../{RELEASES}/{CURRENT}/{PUBLISHED_FILE}",
            root / OPEN_DIR: f"{RELEASES}/{CURRENT}/{OPEN_DIR}"}


def ensure_analyst_links(root: Path) -> str | None:
    """Make the analysts' paths symlinks through `releases/current`; a data root of an earlier
    version (a plain published file and open folder) becomes the first release. Returns the id
    of that migrated release, if any (call under the releases lock)."""
    root = Path(root)
    published, open_dir = root / "warehouse" / PUBLISHED_FILE, root / OPEN_DIR
    plain_published = published.exists() and not published.is_symlink()
    plain_open = open_dir.is_dir() and not open_dir.is_symlink()
    migrated = None
    if plain_published or (plain_open and any(open_dir.iterdir())):
        # a draft first: if this is killed midway, the next publication completes it
        release = _new_draft(root, {"base": None, "runs": [], "migrated": True})
        if plain_published:
            os.rename(published, release / PUBLISHED_FILE)
        if plain_open:
            os.rename(open_dir, release / OPEN_DIR)
        _write_json(release / MANIFEST, {
            "id": release.name, "base": None, "runs": [], "migrated": True,
            "completed_at": now_in_seoul().isoformat(timespec="seconds"),
            "tables": table_row_counts(release / PUBLISHED_FILE)})
        _make_current(root, release.name)
        (release / BUILDING_MARKER).unlink()
        migrated = release.name
    elif plain_open:
        open_dir.rmdir()  # an empty folder made by an earlier version
    for link, target in analyst_links(root).items():
        if not link.is_symlink() or os.readlink(link) != target:
            link.parent.mkdir(parents=True, exist_ok=True)
            temp = link.with_name(f".{link.name}.link-{uuid.uuid4().hex[:8]}")
            os.symlink(target, temp)
            os.replace(temp, link)
    return migrated


def _write_json(path: Path, value: dict) -> None:
    write_text_atomically(path, json.dumps(value, ensure_ascii=False, indent=2) + "\n", durable=True)


def _fsync_tree(path: Path) -> None:
    """Flush every file of a release before it becomes current (a crash must not expose holes)."""
    for folder, _, files in os.walk(path):
        for name in files:
            with open(os.path.join(folder, name), "rb") as handle:
                os.fsync(handle.fileno())
        fsync_path(Path(folder))
