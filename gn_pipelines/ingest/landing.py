"""The landing zone: where providers drop files, and which of them are ready to collect.

Scanning only stats files; contents are read (hashed) only for files that are new or changed.
Nothing is followed: a symbolic link, a file with other hard links (it may be shared with a
place outside the zone) or a directory named like a file is refused as it stands (its target
is never read, hashed or archived). Names are NFC-normalised: macOS and some Windows tools
write Hangul decomposed (NFD), and both spellings of one name are one drop.
"""

from __future__ import annotations

import hashlib
import os
import stat as stat_module
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from gn_pipelines.datasets import CONTRACTS
from gn_pipelines.reference import PROVIDERS_BY_CODE

# Providers upload under a temporary name and rename when done.
TEMPORARY_SUFFIXES = (".part", ".tmp", ".crdownload")
ACCEPTED_EXTENSIONS = (".csv", ".xlsx")
# A file name is a partition key: Dagster reserves these characters in multi-partition keys.
FORBIDDEN_NAME_CHARACTERS = "|,[]"
_HASH_CHUNK = 1 << 20


class LandedFile(NamedTuple):
    """A file in the landing zone, as `stat` sees it (a named tuple: a scan makes 100k of them)."""

    disk_path: str  # as on disk (its name may be NFD); a string: 100k Path objects cost seconds
    relative: str  # NFC POSIX path under the landing root, e.g. 48740/water_quality/x.csv
    size: int
    mtime_ns: int
    refusal: str | None = None  # a link or a directory: refused, never followed

    @property
    def path(self) -> Path:
        return Path(self.disk_path)

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


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


NAME_NOT_READABLE = ("the file name is neither UTF-8 nor CP949 (shown with its bytes escaped): "
                     "refused, not read; rename it and deliver it again")


def _decoded_name(name: str) -> str | None:
    """A name as listed (bytes that are not UTF-8 come as surrogates), read: NFC, or a CP949 name
    (a Windows zip tool's) decoded as CP949; None when neither reads it."""
    if name.isascii():
        return name
    try:
        name.encode("utf-8")
        return nfc(name)
    except UnicodeEncodeError:
        pass
    try:
        return nfc(os.fsencode(name).decode("cp949"))
    except UnicodeDecodeError:
        return None


def landing_name(name: str) -> str:
    """A listed name as the platform names it: read (`_decoded_name`), else its bytes escaped (`\\xb9`)."""
    decoded = _decoded_name(name)
    return decoded if decoded is not None else os.fsencode(name).decode("utf-8", "backslashreplace")


def readable_name(name: str) -> bool:
    """False for a listed name `landing_name` could only escape."""
    return _decoded_name(name) is not None


def scan_landing(landing_root: Path) -> list[LandedFile]:
    """Every entry under the landing root (hidden ones skipped), sorted by NFC path; links and
    directories named like files come back with a `refusal`, unread."""
    found: dict[str, LandedFile] = {}
    if not landing_root.is_dir():
        return []
    _scan_directory(str(landing_root.resolve()), "", found)
    return [found[relative] for relative in sorted(found)]


def _scan_directory(directory: str, prefix: str, found: dict[str, LandedFile]) -> None:
    # os.scandir and plain strings: the zone holds ~100k files, and pathlib's parsing was 3/4 of
    # a scan's time (bench/bench_landing_scan.py)
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):  # removed or replaced since it was listed
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            status = entry.stat(follow_symlinks=False)
        except FileNotFoundError:  # renamed away between listing and stat
            continue
        name = landing_name(entry.name)
        relative = prefix + name
        is_directory = stat_module.S_ISDIR(status.st_mode)
        if is_directory:
            _scan_directory(entry.path, relative + "/", found)  # never a linked folder: lstat said so
        linked = stat_module.S_ISLNK(status.st_mode) or status.st_nlink > 1 and not is_directory
        refusal = refusal_of(Path(entry.path), status) if linked else None
        if refusal is None and not readable_name(entry.name):
            refusal = NAME_NOT_READABLE
        if refusal is None and not stat_module.S_ISREG(status.st_mode):
            if not relative.lower().endswith(ACCEPTED_EXTENSIONS):
                continue  # an ordinary folder: walked into
            refusal = ("a directory named like a file: files belong in <provider code>/<dataset>/<file>; "
                       "deliver the file itself, not a folder of that name")
        landed = LandedFile(entry.path, relative, status.st_size, status.st_mtime_ns, refusal)
        earlier = found.get(relative)
        # two spellings of one name: the newer is the delivery (a re-upload from another tool)
        if earlier is None or (landed.mtime_ns, entry.name) > (earlier.mtime_ns, Path(earlier.disk_path).name):
            found[relative] = landed


def refusal_of(path: Path, status: os.stat_result) -> str | None:
    """Why an entry can not be read as a delivery without following it elsewhere, if it can't."""
    if stat_module.S_ISLNK(status.st_mode):
        return (f"a symbolic link (to {os.readlink(path)!r}): refused, never followed nor archived; "
                "deliver the file itself")
    if stat_module.S_ISREG(status.st_mode) and status.st_nlink > 1:
        return (f"a hard link ({status.st_nlink} names for one file, possibly outside the landing zone): "
                "refused, not read nor archived; deliver a copy of the file")
    return None


def landed_path(landing_root: Path, relative: str) -> Path:
    """The on-disk path of the landed file whose NFC name is `relative` (the newest spelling)."""
    exact = landing_root / relative
    parent = exact.parent
    try:
        candidates = [parent / name for name in os.listdir(parent) if landing_name(name) == nfc(exact.name)]
    except FileNotFoundError:
        return exact
    if not candidates:
        return exact
    return max(candidates, key=lambda p: (p.lstat().st_mtime_ns, p.name))


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
