"""Which text encoding a drop uses (UTF-8 with or without BOM, or CP949), and transcoding.

charset-normalizer ranks the candidates from samples; a strict streaming decode of the whole
file then confirms the choice, so a file is never half-read with the wrong codec.
"""

from __future__ import annotations

import codecs
from pathlib import Path

# The spec's encodings, most specific first. EUC-KR is a subset of CP949.
CANDIDATE_ENCODINGS = ("utf_8", "cp949")
UTF8_BOM = codecs.BOM_UTF8
_CHUNK = 1 << 20
_SAMPLE = 1 << 16


class UndecodableFile(ValueError):
    """The file is not text in any accepted encoding."""


def detect_encoding(path: Path) -> str:
    """Return `utf-8-sig`, `utf-8`, `cp949` or `utf-16` (with its BOM) for `path`, or raise UndecodableFile."""
    with path.open("rb") as handle:
        head = handle.read(_SAMPLE)
    if head.startswith(UTF8_BOM):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]  # Excel's "유니코드 텍스트", Notepad's "Unicode": its NULs are text
    else:
        if b"\x00" in head:
            raise UndecodableFile("the file contains NUL bytes: it is binary, not CSV text")
        candidates = _ranked_candidates(head)
    for encoding in candidates:
        if decodes_cleanly(path, encoding):
            return encoding
    raise UndecodableFile(
        "the file is neither valid UTF-8 nor CP949 (EUC-KR) text; re-export it as UTF-8 or CP949 CSV"
    )


def _ranked_candidates(sample: bytes) -> list[str]:
    from charset_normalizer import from_bytes  # imported here: only collection needs it

    ranked = [m.encoding for m in from_bytes(sample, cp_isolation=list(CANDIDATE_ENCODINGS))]
    # a sample cut mid-character can make the detector drop a valid candidate: keep all
    ordered = [e for e in ranked if e in CANDIDATE_ENCODINGS]
    return ordered + [e for e in CANDIDATE_ENCODINGS if e not in ordered]


def decodes_cleanly(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    wide = codecs.lookup(encoding).name == "utf-16"  # its NUL bytes are halves of characters
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                if not wide and b"\x00" in chunk:
                    return False
                if "\x00" in decoder.decode(chunk):
                    return False
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def transcode_to_utf8(source: Path, target: Path, encoding: str) -> Path:
    """Stream `source` into a UTF-8 copy at `target` (DuckDB reads UTF-8 natively)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with source.open("rb") as reader, target.open("w", encoding="utf-8", newline="") as writer:
        while chunk := reader.read(_CHUNK):
            writer.write(decoder.decode(chunk))
        writer.write(decoder.decode(b"", final=True))
    return target
