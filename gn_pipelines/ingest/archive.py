"""The archive: an immutable, content-addressed copy of every drop, made before anything else."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path

_CHUNK = 1 << 20


def archived_path(archive_root: Path, sha256: str, extension: str) -> Path:
    return archive_root / "sha256" / sha256[:2] / f"{sha256}{extension.lower()}"


def archive_landed(landing_root: Path, archive_root: Path, relative: str) -> tuple[str, Path]:
    """Archive the landed file at `relative`; say plainly if it has gone since it was seen."""
    landed = landing_root / relative
    if not landed.is_file():
        raise FileNotFoundError(f"{relative} is no longer in the landing zone; nothing was collected")
    return archive_file(landed, archive_root)


def archive_file(source: Path, archive_root: Path) -> tuple[str, Path]:
    """Copy `source` into the archive while hashing it; return (sha256, archived path).

    The copy is written under a temporary name and renamed, then made read-only; the same
    bytes archived twice keep the first copy.
    """
    archive_root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    handle, temporary = tempfile.mkstemp(dir=archive_root, prefix=".incoming-")
    try:
        with os.fdopen(handle, "wb") as writer, source.open("rb") as reader:
            while chunk := reader.read(_CHUNK):
                digest.update(chunk)
                writer.write(chunk)
        sha256 = digest.hexdigest()
        target = archived_path(archive_root, sha256, source.suffix)
        if target.exists():
            os.unlink(temporary)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(temporary, stat.S_IRUSR | stat.S_IRGRP)
            os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return sha256, target
