"""Settings read from the environment, and the on-disk zones of the published contract.

Plain Python: no Dagster here. Paths are computed when asked for, never at import time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DATA_ROOT_ENV = "GN_DATA_ROOT"
PSEUDONYM_KEY_ENV = "GN_PSEUDONYM_KEY"
SETTLE_SECONDS_ENV = "GN_SETTLE_SECONDS"

DEFAULT_DATA_ROOT = "./data"
# The zone of every time people read (pages, registers, query results), whatever the host's:
# times are stored as instants (UTC or with their offset) and shown in this zone.
DISPLAY_TIME_ZONE = "Asia/Seoul"
# Personal data on disk is owner-only whatever the umask: these zones' directories are 0700, so
# nothing inside is reachable by another local user; the restricted warehouse file is 0600.
PRIVATE_DIRECTORY_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
# A drop must be unchanged for this long before it is collected (providers upload, then rename).
DEFAULT_SETTLE_SECONDS = 5.0


def data_root_from_env() -> Path:
    return Path(os.environ.get(DATA_ROOT_ENV) or DEFAULT_DATA_ROOT).expanduser().resolve()


def settle_seconds_from_env() -> float:
    value = os.environ.get(SETTLE_SECONDS_ENV)
    return float(value) if value else DEFAULT_SETTLE_SECONDS


@dataclass(frozen=True)
class DataZones:
    """Every place on disk, under one data root, in the zones of the published contract."""

    root: Path

    @classmethod
    def from_env(cls) -> "DataZones":
        return cls(data_root_from_env())

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def restricted(self) -> Path:
        return self.root / "restricted"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    @property
    def restricted_db(self) -> Path:
        return self.warehouse / "restricted.duckdb"

    @property
    def published_db(self) -> Path:
        return self.warehouse / "published.duckdb"

    @property
    def open_data(self) -> Path:
        return self.root / "open"

    @property
    def datalab(self) -> Path:
        return self.root / "datalab"

    @property
    def scratch(self) -> Path:
        """Working files of a run (decoded copies, DuckDB spill); safe to delete."""
        return self.root / "scratch"

    @property
    def dagster_home(self) -> Path:
        return Path(os.environ.get("DAGSTER_HOME") or self.root / "dagster_home")

    @property
    def private_directories(self) -> tuple[Path, ...]:
        """Zones holding personal data or run records: owner-only (the published zone is not)."""
        return (self.archive, self.restricted, self.datalab, self.scratch, self.dagster_home)

    def ensure(self) -> "DataZones":
        for path in (self.landing, self.warehouse):
            path.mkdir(parents=True, exist_ok=True)
        for path in self.private_directories:
            if path == self.dagster_home and not path.exists():
                continue  # made by instance.ensure_dagster_home, which tightens it too
            make_private_directory(path)
        make_private_file(self.restricted_db)
        # open/ is a symlink to the current release (publish/releases.py), made with the first one
        return self


def make_private_directory(path: Path) -> Path:
    """Create `path` (and parents) and make it owner-only, whatever the umask; an existing
    directory of ours is tightened."""
    path.mkdir(parents=True, exist_ok=True)
    if path.stat().st_uid == os.geteuid() and path.stat().st_mode & 0o077:
        os.chmod(path, PRIVATE_DIRECTORY_MODE)
    return path


def make_private_file(path: Path) -> None:
    """Owner-only read and write for a file of ours (a DuckDB file created under the umask)."""
    for candidate in (path, path.with_name(path.name + ".wal")):
        try:
            if candidate.stat().st_mode & 0o077 and candidate.stat().st_uid == os.geteuid():
                os.chmod(candidate, PRIVATE_FILE_MODE)
        except FileNotFoundError:
            pass


def permission_warnings(zones: DataZones) -> list[str]:
    """What on disk is more open than it should be: private zones readable by other users, or
    published data the analysts cannot read. Checked at start by the command line."""
    import stat

    warnings = []
    for path in (*zones.private_directories, zones.restricted_db):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o077:
            wanted = PRIVATE_DIRECTORY_MODE if path.is_dir() else PRIVATE_FILE_MODE
            warnings.append(f"{path} is {mode:o}: other local users can reach personal data in it; "
                            f"it should be {wanted:o} (owner only)")
    for path in (zones.warehouse, zones.published_db, zones.open_data):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            continue
        needed = 0o005 if path.is_dir() else 0o004
        if mode & needed != needed:
            warnings.append(f"{path} is {mode:o}: analysts cannot read the published data (it should be "
                            f"{'755' if path.is_dir() else '644'})")
    return warnings
