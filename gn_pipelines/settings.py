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

    def ensure(self) -> "DataZones":
        for path in (self.landing, self.archive, self.restricted, self.warehouse,
                     self.datalab, self.scratch):
            path.mkdir(parents=True, exist_ok=True)
        # open/ is a symlink to the current release (publish/releases.py), made with the first one
        return self
