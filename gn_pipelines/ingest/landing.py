"""The landing zone: where providers drop files, and which of them are ready to collect.

Scanning only stats files; contents are read (hashed) only for files that are new or changed.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from gn_pipelines.contracts import CONTRACTS
from gn_pipelines.reference import PROVIDERS_BY_CODE

# Providers upload under a temporary name and rename when done.
TEMPORARY_SUFFIXES = (".part", ".tmp", ".crdownload")
ACCEPTED_EXTENSIONS = (".csv", ".xlsx")
# A file name is a partition key: Dagster reserves these characters in multi-partition keys.
FORBIDDEN_NAME_CHARACTERS = "|,[]"
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class LandedFile:
    """A file in the landing zone, as `stat` sees it."""

    path: Path
    relative: str  # POSIX path under the landing root, e.g. 48740/water_quality/x.csv
    size: int
    mtime_ns: int

    @property
    def fingerprint(self) -> tuple[int, int]:
        return (self.size, self.mtime_ns)


@dataclass(frozen=True)
class DropAddress:
    """Where a landed file claims to belong, and why it can not be collected if it can't."""

    provider_code: str | None
    dataset: str | None
    file_name: str
    problem: str | None = None


def scan_landing(landing_root: Path) -> list[LandedFile]:
    """Every regular file under the landing root (hidden files skipped), sorted by path."""
    found: list[LandedFile] = []
    if not landing_root.is_dir():
        return found
    for directory, subdirectories, files in os.walk(landing_root):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(directory) / name
            try:
                stat = path.stat()
            except FileNotFoundError:  # renamed away between listing and stat
                continue
            relative = path.relative_to(landing_root).as_posix()
            found.append(LandedFile(path, relative, stat.st_size, stat.st_mtime_ns))
    return found


def is_temporary(relative: str) -> bool:
    return relative.lower().endswith(TEMPORARY_SUFFIXES)


def is_settled(landed: LandedFile, settle_seconds: float, now: float | None = None) -> bool:
    """True when the file has not changed for `settle_seconds` (it is no longer being written)."""
    now = time.time() if now is None else now
    return now - landed.mtime_ns / 1e9 >= settle_seconds


def address_of(relative: str) -> DropAddress:
    """Read `<provider code>/<dataset>/<file>`; say what is wrong if the file is misplaced."""
    parts = relative.split("/")
    name = parts[-1]
    if len(parts) != 3:
        return DropAddress(None, None, name, "misplaced: files belong in <provider code>/<dataset>/<file>, "
                                             f"this one is at {relative}")
    provider, dataset, _ = parts
    if provider not in PROVIDERS_BY_CODE:
        return DropAddress(provider, dataset, name,
                           f"unknown provider folder {provider!r}: not one of the 19 provider codes")
    if dataset not in CONTRACTS:
        return DropAddress(provider, dataset, name,
                           f"unknown dataset folder {dataset!r}: expected one of {', '.join(CONTRACTS)}")
    contract = CONTRACTS[dataset]
    if contract.providers is not None and provider not in contract.providers:
        return DropAddress(provider, dataset, name, f"provider {provider} does not deliver {dataset}")
    extension = Path(name).suffix.lower()
    if extension not in ACCEPTED_EXTENSIONS:
        return DropAddress(provider, dataset, name,
                           f"unknown file type {extension or '(no extension)'!r}: only .csv and .xlsx are accepted")
    forbidden = sorted(c for c in FORBIDDEN_NAME_CHARACTERS if c in name)
    if forbidden or "..." in name:
        shown = ", ".join(repr(c) for c in forbidden or ["..."])
        return DropAddress(provider, dataset, name, f"file names may not contain {shown}: rename the file")
    return DropAddress(provider, dataset, name)


def content_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
