"""Write a drop chunk by chunk as CSV (UTF-8, UTF-8 with BOM, CP949) or as a one-sheet xlsx.

Lines and cells are assembled by Arrow compute kernels, so a million rows never pass through
Python one by one; both formats are byte-for-byte reproducible (no clock in the xlsx zip).
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gn_pipelines.synth.columns import concat, strings

TEMPORARY_SUFFIX = ".part"  # providers upload under a temporary name, then rename


def drop_path(path: Path, defects: Sequence[str]) -> Path:
    """Where a drop meant for `path` lands: `.xlsx` for xlsx, a `.part` name while partial."""
    if "xlsx" in defects:
        path = path.with_suffix(".xlsx")
    if "partial" in defects:
        path = path.with_name(path.name + TEMPORARY_SUFFIX)
    return path


class DropSink(Protocol):
    def write(self, arrays: Sequence[pa.Array]) -> None: ...
    def close(self) -> None: ...


def _joined_bytes(values: pa.Array) -> memoryview:
    """The concatenated UTF-8 bytes of a string array without nulls, straight from its buffer."""
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[values.offset:]
    return memoryview(values.buffers()[2])[offsets[0]:offsets[len(values)]]


# ---------------------------------------------------------------- CSV


def _csv_field(values: pa.Array) -> pa.Array:
    """Quote (RFC 4180) only the cells that need it, as office software does."""
    needs_quotes = pc.fill_null(pc.match_substring_regex(values, '[",\r\n]'), False)
    quoted = concat('"', pc.replace_substring(values, '"', '""'), '"')
    return pc.if_else(needs_quotes, quoted, values)


def csv_lines(arrays: Sequence[pa.Array], newline: str) -> memoryview:
    fields = [_csv_field(a) for a in arrays]
    lines = pc.binary_join_element_wise(*fields, ",", null_handling="replace",
                                        null_replacement="")
    return _joined_bytes(pc.binary_join_element_wise(lines, "", newline))


class CsvSink:
    """CSV in one of the encodings providers use; CP949 files get Windows line endings."""

    def __init__(self, path: Path, headers: Sequence[str], encoding: str):
        self._file: BinaryIO = path.open("wb")
        self._encoding = encoding
        self._newline = "\r\n" if encoding == "cp949" else "\n"
        if encoding == "utf-8-sig":
            self._file.write("\ufeff".encode())
        self.write([strings([h]) for h in headers])

    def write(self, arrays: Sequence[pa.Array]) -> None:
        if len(arrays[0]) == 0:
            return
        data = csv_lines(arrays, self._newline)
        if self._encoding == "cp949":
            data = bytes(data).decode("utf-8").encode("cp949")
        self._file.write(data)

    def close(self) -> None:
        self._file.close()


# ---------------------------------------------------------------- xlsx

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entry times: fixed so the same drop gives the same bytes
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_PACKAGE = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.styles+xml"/></Types>'),
    "_rels/.rels": (
        f'<Relationships xmlns="{_RELS}"><Relationship Id="rId1" Type="{_DOC_RELS}/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_RELS}">'
        f'<Relationship Id="rId1" Type="{_DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_DOC_RELS}/styles" Target="styles.xml"/></Relationships>'),
    "xl/styles.xml": (
        f'<styleSheet xmlns="{_MAIN}"><fonts count="1"><font><sz val="11"/><name val="맑은 고딕"/>'
        '</font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill>'
        '<patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/>'
        '<right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
        '<cellStyles count="1">'
        '<cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'),
}
_PLAIN_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"


def _zip_entry(name: str) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name, _FIXED_TIME)
    entry.compress_type = zipfile.ZIP_DEFLATED
    return entry


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _escaped(values: pa.Array) -> pa.Array:
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        values = pc.replace_substring(values, char, entity)
    return values


def _cells(values: pa.Array, reference: pa.Array, numeric: bool) -> pa.Array:
    """`<c>` elements: numbers as numbers in numeric columns, everything else as inline text."""
    text = concat('<c r="', reference, '" t="inlineStr"><is><t xml:space="preserve">',
                  _escaped(values), "</t></is></c>")
    if not numeric:
        return text
    number = concat('<c r="', reference, '"><v>', values, "</v></c>")
    return pc.if_else(pc.fill_null(pc.match_substring_regex(values, _PLAIN_NUMBER), False),
                      number, text)


class XlsxSink:
    """A one-sheet workbook streamed into the zip: header in row 1, bounded memory."""

    def __init__(self, path: Path, headers: Sequence[str], numeric: Sequence[bool]):
        self._zip = zipfile.ZipFile(path, "w")
        for name, xml in _PACKAGE.items():
            self._zip.writestr(_zip_entry(name), _XML + xml)
        self._sheet = self._zip.open(_zip_entry("xl/worksheets/sheet1.xml"), "w", force_zip64=True)
        self._sheet.write(f'{_XML}<worksheet xmlns="{_MAIN}"><sheetData>'.encode())
        self._letters = [_column_letter(i) for i in range(len(headers))]
        self._numeric = list(numeric)
        self._next_row = 1
        self.write([strings([h]) for h in headers], header=True)

    def write(self, arrays: Sequence[pa.Array], header: bool = False) -> None:
        rows = len(arrays[0])
        if rows == 0:
            return
        numbers = pc.cast(pa.array(np.arange(self._next_row, self._next_row + rows)), pa.string())
        cells = [_cells(values, concat(letter, numbers), numeric and not header)
                 for values, letter, numeric in zip(arrays, self._letters, self._numeric)]
        row_cells = pc.binary_join_element_wise(*cells, "", null_handling="replace",
                                                null_replacement="")
        xml = concat('<row r="', numbers, '">', row_cells, "</row>")
        self._sheet.write(_joined_bytes(xml))
        self._next_row += rows

    def close(self) -> None:
        self._sheet.write(b"</sheetData></worksheet>")
        self._sheet.close()
        self._zip.close()


def open_sink(path: Path, headers: Sequence[str], numeric: Sequence[bool],
              defects: Sequence[str]) -> DropSink:
    """A sink for the file format and encoding the defects ask for (plain UTF-8 CSV by default)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if "xlsx" in defects:
        return XlsxSink(path, headers, numeric)
    encoding = "cp949" if "cp949" in defects else "utf-8-sig" if "utf8_bom" in defects else "utf-8"
    return CsvSink(path, headers, encoding)
