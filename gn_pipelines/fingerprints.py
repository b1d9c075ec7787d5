"""Fingerprints of what a published table (or a release of records) is built from.

A fingerprint is the SHA-256 of the content of every input file (with its path under the zone,
so a drop moved or removed counts as a change), of the declaration it is shaped by, and of the
code that builds, checks and anonymises it (the files of `CODE_FOLDERS`: the dataset
declarations, the recipes with their thresholds, the reference tables). Equal fingerprints mean
the same rows would be published again, so the table can be carried over (docs/publication.md).
Content, not modification times: a drop rewritten with the same bytes changes nothing.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Iterable

_CHUNK = 1 << 20
PACKAGE = Path(__file__).resolve().parent
# The code a published table depends on beyond its inputs (the recipes with k, l and the
# small-cell threshold, the scrubber of the residual scan, the builders, the reference names).
CODE_FOLDERS = ("contracts", "datasets", "publish", "privacy", "water", "reference")


def file_digest(path: Path) -> str:
    """SHA-256 of a file's content; hashed once per process while the file stays the same inode,
    size and modification time (a run fingerprints the same drops for several tables)."""
    status = os.stat(path)
    return _digest_of(os.path.realpath(path), status.st_ino, status.st_size, status.st_mtime_ns)


# Room for every drop of ten years (~72,000 files per stage, ~0.5 KB an entry: ~35 MB): with 4,096
# entries a publication hashing ~25,000 complaint drops per table missed every time (16 s a table)
@lru_cache(maxsize=1 << 17)
def _digest_of(path: str, inode: int, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def code_digest() -> str:
    """The publication code's version: a digest of its source and reference files (any edit rebuilds)."""
    digest = hashlib.sha256()
    for folder in CODE_FOLDERS:
        for path in sorted(p for p in (PACKAGE / folder).rglob("*")
                           if p.is_file() and "__pycache__" not in p.parts):
            digest.update(str(path.relative_to(PACKAGE)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def inputs_fingerprint(files: Iterable[Path], *, relative_to: Path, declaration: str = "") -> str:
    """One fingerprint for `files` (content and place), a declaration (e.g. a table's repr) and the code."""
    digest = hashlib.sha256()
    digest.update(code_digest().encode())
    digest.update(declaration.encode())
    for path in sorted(Path(p) for p in files):
        digest.update(b"\0" + str(path.relative_to(relative_to) if path.is_relative_to(relative_to)
                                  else path).encode() + b"\0")
        digest.update(file_digest(path).encode())
    return digest.hexdigest()
