"""xlsx drops: the first sheet, header in the first row, turned into a UTF-8 CSV for DuckDB.

python-calamine (Rust) reads xlsx several times faster than openpyxl and needs no Excel.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path


class UnreadableWorkbook(ValueError):
    """The xlsx file cannot be opened or has no sheet."""


def _cell_text(value: object) -> str:
    # Excel stores every number as a float: 48120 must not become "48120.0".
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") if value.time() != dt.time() else value.strftime("%Y-%m-%d")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return "" if value is None else str(value)


def xlsx_to_csv(source: Path, target: Path, warnings: list[str] | None = None) -> Path:
    """Write the first sheet of `source` as UTF-8 CSV to `target`, row by row: the first one a
    person opening the file sees (the spec's "first sheet"). A hidden sheet before it (old data,
    lookup lists) is passed over, and said in `warnings`."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    try:
        workbook = CalamineWorkbook.from_path(str(source))
        sheets = workbook.sheets_metadata
        first = next((i for i, s in enumerate(sheets)
                      if s.visible == SheetVisibleEnum.Visible and s.typ == SheetTypeEnum.WorkSheet), 0)
        sheet = workbook.get_sheet_by_index(first)
    except Exception as error:  # calamine raises several types for corrupt archives
        raise UnreadableWorkbook(f"the xlsx file cannot be read ({error})") from error
    if first and warnings is not None:
        hidden = ", ".join(repr(s.name) for s in sheets[:first])
        warnings.append(f"read sheet {sheets[first].name!r}, the first visible one; passed over hidden {hidden}")
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        for row in sheet.iter_rows():
            writer.writerow([_cell_text(v) for v in row])
    return target
