"""What the generator reports for each file, and the defects it can put into a drop."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Row defects: counted exactly in SynthFile so tests can assert what the platform rejects.
ROW_DEFECTS = ("bad_rows", "other_sigungu", "duplicates")
# Layout defects: how the file is written (encoding, format, headers, naming, value styles).
FILE_DEFECTS = (
    "cp949", "utf8_bom", "xlsx", "header_variants", "missing_headers", "wrong_headers",
    "partial", "null_tokens", "thousands",
)
DEFECTS = ROW_DEFECTS + FILE_DEFECTS

# Defects that mean nothing for a dataset are skipped for it (and left out of SynthFile.defects).
NOT_APPLICABLE = {
    "civil_complaints": frozenset({"thousands"}),  # no numeric column
    "water_quality": frozenset({"other_sigungu"}),  # rows carry a station, not a 시군 code
}
ENCODING_DEFECTS = frozenset({"cp949", "utf8_bom"})


@dataclass(frozen=True)
class SynthFile:
    """One file written into the landing zone, with the exact count of each row defect."""

    path: Path
    dataset: str
    provider: str
    rows: int  # data rows written, defective ones included
    bad_rows: int = 0  # rows with exactly one unparseable cell
    other_sigungu_rows: int = 0  # otherwise valid rows carrying another 시군's code
    duplicate_rows: int = 0  # repeats of an earlier row's key (the first occurrence not counted)
    defects: tuple[str, ...] = ()


def check_defects(defects: Sequence[str]) -> tuple[str, ...]:
    """Validate defect names and return them in canonical order, without repeats."""
    unknown = sorted(set(defects) - set(DEFECTS))
    if unknown:
        raise ValueError(f"unknown defect(s) {', '.join(unknown)}; known: {', '.join(DEFECTS)}")
    if ENCODING_DEFECTS <= set(defects):
        raise ValueError("cp949 and utf8_bom exclude each other")
    return tuple(d for d in DEFECTS if d in defects)


def defects_for(dataset: str, defects: Sequence[str]) -> tuple[str, ...]:
    """The defects that apply to one file of `dataset` (encodings do not apply to xlsx)."""
    skipped = set(NOT_APPLICABLE.get(dataset, ()))
    if "xlsx" in defects:
        skipped |= ENCODING_DEFECTS
    return tuple(d for d in check_defects(defects) if d not in skipped)
