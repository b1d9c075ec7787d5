"""The end-to-end tests' drops: hand-made files with the row counts the platform must reach.

Rows come from the shared builder (`gn_pipelines_tests.drops`); this module adds the expected
outcome of each file and a delivery that never shows a half-written file in the landing zone.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gn_pipelines_tests.drops import csv_bytes, headers_of, sample_rows

OTHER_PROVIDER_REASON = "시군구코드 48170 is not the provider's own code (48740 창녕군)"
MISPLACED_REASON = "unknown provider folder '99999'"


@dataclass(frozen=True)
class SampleDrop:
    relative: str  # <provider code>/<dataset>/<file name> under the landing root
    content: bytes
    accepted_rows: int
    rejected_rows: int

    @property
    def provider_code(self) -> str:
        return self.relative.split("/", 1)[0]


def complaints_48740(file_name: str = "20250301.csv", *, valid_rows: int = 3,
                     first_receipt: int = 1) -> SampleDrop:
    """UTF-8 civil_complaints of 창녕군: `valid_rows` good rows and one row of 진주시 (48170)."""
    rows = sample_rows("civil_complaints", valid_rows + 1)
    for number, row in enumerate(rows, start=first_receipt):
        row["접수번호"] = f"2025-48740-{number:06d}"
    rows[-1]["시군구코드"] = "48170"
    return SampleDrop(f"48740/civil_complaints/{file_name}", csv_bytes(rows), valid_rows, 1)


def welfare_48170_cp949(file_name: str = "202503_수급자.csv", *, valid_rows: int = 4) -> SampleDrop:
    """welfare_recipients of 진주시 in CP949, as Korean office software exports it."""
    content = csv_bytes(sample_rows("welfare_recipients", valid_rows), encoding="cp949")
    return SampleDrop(f"48170/welfare_recipients/{file_name}", content, valid_rows, 0)


def misplaced(relative: str = "99999/foo/x.csv") -> SampleDrop:
    """A file in an unknown provider folder: rejected as a whole, before collection."""
    header_only = (",".join(headers_of("civil_complaints")) + "\r\n").encode("utf-8")
    return SampleDrop(relative, header_only, 0, 0)


def deliver(landing_root: Path, relative: str, content: bytes, *, outgoing: Path) -> Path:
    """Write `content` in `outgoing` (same file system, outside the landing zone), then
    rename it to `landing_root/relative`: the sensor sees the whole file or nothing."""
    target = landing_root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    outgoing.mkdir(parents=True, exist_ok=True)
    handle, written = tempfile.mkstemp(dir=outgoing, prefix="drop-")
    with os.fdopen(handle, "wb") as writer:
        writer.write(content)
    os.replace(written, target)
    return target
