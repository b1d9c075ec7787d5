"""A corpus of hostile drops, generated (seeded) by the tests instead of committed as big files."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

from gn_pipelines_tests.drops import csv_bytes, sample_rows

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
</Types>"""
_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"""
_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
</Relationships>"""
_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')


def _workbook(path: Path, sheet_parts, *, compresslevel: int = 6, sheet_path: str = "xl/worksheets/sheet1.xml") -> Path:
    """A minimal xlsx whose first sheet's XML is the concatenation of `sheet_parts` (streamed),
    stored at `sheet_path` (the workbook's relationships point there; any path is legal)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES.replace("/xl/worksheets/sheet1.xml", f"/{sheet_path}"))
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels",
                         _WORKBOOK_RELS.replace('Target="worksheets/sheet1.xml"', f'Target="/{sheet_path}"'))
        with archive.open(sheet_path, "w", force_zip64=True) as sheet:
            for part in sheet_parts:
                sheet.write(part.encode("utf-8") if isinstance(part, str) else part)
    return path


def far_cell_xlsx(path: Path, *, declare_dimension: bool = True, sheet_path: str = "xl/worksheets/sheet1.xml") -> Path:
    """One inline-string cell at XFD1048576: a few KB that asks calamine for 512 GiB."""
    dimension = '<dimension ref="A1:XFD1048576"/>' if declare_dimension else ""
    return _workbook(path, [_SHEET_HEAD, dimension,
                            '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>접수번호</t></is></c></row>'
                            '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
                            "</sheetData></worksheet>"], sheet_path=sheet_path)


def expanding_xlsx(path: Path, inflated_mib: int = 982) -> Path:
    """A sheet whose XML inflates to `inflated_mib` MiB from a few MiB (streamed, seeded rows)."""
    row = "".join(f'<c t="inlineStr"><is><t>{"가" * 40}</t></is></c>' for _ in range(10))
    block = ("<row>" + row + "</row>") * 200
    block_bytes = block.encode("utf-8")
    repeats = inflated_mib * (1 << 20) // len(block_bytes)

    def parts():
        yield _SHEET_HEAD + "<sheetData>"
        for _ in range(repeats):
            yield block_bytes
        yield "</sheetData></worksheet>"

    return _workbook(path, parts(), compresslevel=1)


def long_line_csv(path: Path, line_mib: int = 50, seed: int = 10) -> Path:
    """A valid header, then one 50 MB line (a field of seeded random Hangul, quoted)."""
    rows = sample_rows("civil_complaints", 1)
    header = csv_bytes(rows).split(b"\r\n")[0]
    rng = random.Random(seed)
    syllables = "".join(chr(rng.randrange(0xAC00, 0xD7A4)) for _ in range(4096)).encode("utf-8")
    body = syllables * (line_mib * (1 << 20) // len(syllables))
    path.write_bytes(header + b"\r\n" + b'2025-48740-000001,2025-03-01 14:05,48740,"' + body + b'"\r\n')
    return path


def not_a_zip_xlsx(path: Path, seed: int = 11) -> Path:
    path.write_bytes(random.Random(seed).randbytes(4096))
    return path


def zip_bomb_xlsx(path: Path, inflated_mib: int = 200) -> Path:
    """A sheet padded with whitespace that deflates ~1,000×: a classic zip bomb, small on disk."""
    padding = b" " * (1 << 20)

    def parts():
        yield _SHEET_HEAD + "<sheetData>"
        for _ in range(inflated_mib):
            yield padding
        yield "</sheetData></worksheet>"

    return _workbook(path, parts(), compresslevel=9)
