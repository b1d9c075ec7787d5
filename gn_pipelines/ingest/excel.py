"""xlsx drops: the first sheet, header in the first row, turned into a UTF-8 CSV for DuckDB.

python-calamine (Rust) reads xlsx several times faster than openpyxl and needs no Excel.
"""

from __future__ import annotations

import csv
import datetime as dt
import posixpath
import re
import zipfile
from pathlib import Path

_CHUNK = 1 << 20
_RELS = "xl/_rels/workbook.xml.rels"
_RELATIONSHIP = re.compile(rb"<Relationship\b[^>]*>")
_ATTRIBUTE = re.compile(rb'\b(Id|Type|Target|r:id|name)="([^"]*)"')
_SHEET = re.compile(rb"<sheet\b[^>]*>")
# A formula cell with no computed value (written by a program that does not calculate, such as
# openpyxl): `<c r="B2"><f>1+0.7</f><v /></c>`. Excel writes an empty text result as t="str".
_UNCOMPUTED_FORMULA = re.compile(
    rb'<c\b(?![^>]*\bt="str")[^>]*>\s*<f\b[^>]*(?:/>|>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>')


class UnreadableWorkbook(ValueError):
    """The xlsx file cannot be opened or has no sheet."""


def _small_member(archive: zipfile.ZipFile, name: str) -> bytes:
    """A workbook part of a few KB (the part list, relationships), or b"" if absent or too big."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        return b""
    if info.file_size > _CHUNK:
        return b""
    with archive.open(info) as stream:
        return stream.read(_CHUNK)


def worksheet_targets(archive: zipfile.ZipFile) -> dict[str, str]:
    """The workbook's worksheets by relationship id → the member holding each: a sheet may sit
    anywhere in the archive (`xl/data/s.xml`); readers follow these, not the folder name."""
    targets = {}
    for element in _RELATIONSHIP.findall(_small_member(archive, _RELS)):
        attributes = {k.decode(): v.decode("utf-8", "replace") for k, v in _ATTRIBUTE.findall(element)}
        if attributes.get("Type", "").endswith("/worksheet") and "Id" in attributes and "Target" in attributes:
            path = attributes["Target"]
            targets[attributes["Id"]] = path.lstrip("/") if path.startswith("/") else posixpath.normpath(f"xl/{path}")
    return targets


def uncomputed_formulas(source: Path, sheet_index: int) -> int:
    """Formula cells of the workbook's sheet `sheet_index` (in the workbook's order) saved without
    a computed value: the reader sees them empty. 0 when the sheet cannot be found."""
    with zipfile.ZipFile(source) as archive:
        sheets = _SHEET.findall(_small_member(archive, "xl/workbook.xml"))
        if sheet_index >= len(sheets):
            return 0
        relation = dict((k.decode(), v.decode()) for k, v in _ATTRIBUTE.findall(sheets[sheet_index])).get("r:id")
        member = worksheet_targets(archive).get(relation or "")
        if member is None or member not in archive.namelist():
            return 0
        found, tail = 0, b""
        with archive.open(member) as stream:
            while chunk := stream.read(_CHUNK):
                window = tail + chunk
                matches = list(_UNCOMPUTED_FORMULA.finditer(window))
                found += sum(1 for m in matches if m.end() > len(tail))  # not counted in the last window
                tail = window[-4096:]
        return found


def _cell_text(value: object) -> str:
    # Excel stores every number as a float: 48120 must not become "48120.0".
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") if value.time() != dt.time() else value.strftime("%Y-%m-%d")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return "" if value is None else str(value)


def _visible_worksheet(sheet) -> bool:
    """A worksheet a person opening the workbook sees (not hidden, not a chart sheet)."""
    from python_calamine import SheetTypeEnum, SheetVisibleEnum

    return sheet.visible == SheetVisibleEnum.Visible and sheet.typ == SheetTypeEnum.WorkSheet


def _other_sheets_with_data(workbook, sheets, first: int) -> list[str]:
    """The visible worksheets after the one read that hold cells (each within the file's budget,
    checked before any sheet is read), as `'4월' (21 rows)`."""
    found = []
    for index in range(first + 1, len(sheets)):
        if _visible_worksheet(sheets[index]):
            try:
                rows = workbook.get_sheet_by_index(index).height
            except Exception:  # calamine raises several types; the sheet is not the drop anyway
                found.append(f"{sheets[index].name!r} (unreadable)")
                continue
            if rows:
                found.append(f"{sheets[index].name!r} ({rows:,} rows)")
    return found


def xlsx_to_csv(source: Path, target: Path, warnings: list[str] | None = None) -> Path:
    """Write the first sheet of `source` as UTF-8 CSV to `target`, row by row: the first one a
    person opening the file sees (the spec's "first sheet"). A hidden sheet before it (old data,
    lookup lists) is passed over, and said in `warnings`."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(source))
        sheets = workbook.sheets_metadata
        first = next((i for i, s in enumerate(sheets) if _visible_worksheet(s)), 0)
        sheet = workbook.get_sheet_by_index(first)
    except Exception as error:  # calamine raises several types for corrupt archives
        raise UnreadableWorkbook(f"the xlsx file cannot be read ({error})") from error
    if blank := uncomputed_formulas(source, first):
        raise UnreadableWorkbook(
            f"{blank} formula cell(s) of sheet {sheets[first].name!r} were saved without a computed value "
            "(by a program that does not calculate formulas), so they would read as empty: open the file "
            "in Excel or LibreOffice and save it again, or deliver the values")
    if first and warnings is not None:
        hidden = ", ".join(repr(s.name) for s in sheets[:first])
        warnings.append(f"read sheet {sheets[first].name!r}, the first visible one; passed over hidden {hidden}")
    if warnings is not None and (others := _other_sheets_with_data(workbook, sheets, first)):
        # months on sheets of one workbook: only the first is the drop (the spec), the rest said
        warnings.append(f"read sheet {sheets[first].name!r} only; passed over the other sheet(s) with data "
                        f"{', '.join(others)}: deliver each as its own file")
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        for row in sheet.iter_rows():
            writer.writerow([_cell_text(v) for v in row])
    return target
