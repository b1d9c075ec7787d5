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


class RefusedLandedFile(ValueError):
    """The landed entry is a link or resolves outside the landing zone: it is never read."""


def archive_landed(landing_root: Path, archive_root: Path, relative: str) -> tuple[str, Path]:
    """Archive the landed file at `relative`; say plainly if it has gone since it was seen."""
    from gn_pipelines.ingest.landing import landed_path

    landed = landed_path(landing_root, relative)
    if not landed.exists() and not landed.is_symlink():
        raise FileNotFoundError(f"{relative} is no longer in the landing zone; nothing was collected")
    root = landing_root.resolve()
    if root not in landed.parent.resolve().parents and landed.parent.resolve() != root:
        raise RefusedLandedFile(f"{relative} resolves outside the landing zone: refused, not archived")
    return archive_file(landed, archive_root, refuse_links=True)


def _open_unfollowed(source: Path):
    """Open a landed file without following a link, and refuse anything but a lone regular file
    (checked on the open descriptor, so a swap after the scan cannot slip a link through)."""
    from gn_pipelines.ingest.landing import refusal_of

    try:
        descriptor = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as error:
        if source.is_symlink():
            raise RefusedLandedFile(refusal_of(source, source.lstat())) from error
        raise
    status = os.fstat(descriptor)
    refusal = refusal_of(source, status) or (
        None if stat.S_ISREG(status.st_mode) else "not a regular file: refused, not archived")
    if refusal:
        os.close(descriptor)
        raise RefusedLandedFile(refusal)
    return os.fdopen(descriptor, "rb")


def archive_file(source: Path, archive_root: Path, *, refuse_links: bool = False) -> tuple[str, Path]:
    """Copy `source` into the archive while hashing it; return (sha256, archived path).

    The copy is written under a temporary name and renamed, then made read-only (owner only:
    the archive holds personal data); the same bytes archived twice keep the first copy.
    """
    archive_root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    reader_of = _open_unfollowed if refuse_links else (lambda path: path.open("rb"))
    handle, temporary = tempfile.mkstemp(dir=archive_root, prefix=".incoming-")
    try:
        with os.fdopen(handle, "wb") as writer, reader_of(source) as reader:
            while chunk := reader.read(_CHUNK):
                digest.update(chunk)
                writer.write(chunk)
        sha256 = digest.hexdigest()
        target = archived_path(archive_root, sha256, source.suffix)
        if target.exists():
            os.unlink(temporary)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(temporary, stat.S_IRUSR)
            os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return sha256, target
