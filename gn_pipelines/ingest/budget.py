"""A file's budget, checked on its raw bytes before any parser sees it.

A CSV is measured in one streaming pass (size, physical lines, the longest line, header fields);
an xlsx through its zip directory and one capped, streaming inflate of each worksheet (the range
it declares, the last cell it uses, its inflated size and compression ratio). Nothing here
builds a table, so a hostile file costs at most one read and a 1 MiB buffer.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

from gn_pipelines.contracts.model import FileBudget
from gn_pipelines.ingest.excel import worksheet_targets

_CHUNK = 1 << 20
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]{1,3})?(\d+)?(?::([A-Z]{1,3})(\d+))?"')
_CELL_REFERENCE = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]{1,3})(\d{1,7})"')
_ROW_NUMBER = re.compile(rb'<(?:\w+:)?row\s[^>]*?\br="(\d{1,7})"')


class OverBudget(ValueError):
    """The file is over its dataset's budget; the message says which limit and by how much."""


def _mib(size: float) -> str:
    return f"{size / (1 << 20):,.1f} MiB"


def check_budget(path: Path, budget: FileBudget) -> None:
    """Raise OverBudget if the file at `path` exceeds `budget` (xlsx by zip, the rest as CSV)."""
    size = path.stat().st_size
    if size > budget.max_bytes:
        raise OverBudget(f"the file is {_mib(size)}, over this dataset's budget of {_mib(budget.max_bytes)}")
    if path.suffix.lower() == ".xlsx":
        check_xlsx_budget(path, budget)
    else:
        check_csv_budget(path, budget)


def check_csv_budget(path: Path, budget: FileBudget) -> None:
    """Lines, the longest line and the header's fields, in one pass over the bytes."""
    lines, longest, current, first_line = 0, 0, 0, bytearray()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            pieces = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
            if lines == 0 and len(first_line) <= budget.max_line_bytes:
                first_line += pieces[0]
            current += len(pieces[0])
            for piece in pieces[1:]:
                longest, lines, current = max(longest, current), lines + 1, len(piece)
                if longest > budget.max_line_bytes:
                    raise OverBudget(
                        f"line {lines} is over {_mib(budget.max_line_bytes)} long (at least {_mib(longest)}): "
                        "over this dataset's line-length budget; a delivered row is never that long")
        longest = max(longest, current)
    if longest > budget.max_line_bytes:
        raise OverBudget(f"a line of {_mib(longest)} is over this dataset's line-length budget of "
                         f"{_mib(budget.max_line_bytes)}")
    rows = lines + (1 if current else 0) - 1  # the header is not a row
    if rows > budget.max_rows:
        raise OverBudget(f"the file has {rows:,} lines, over this dataset's budget of {budget.max_rows:,} rows")
    header = bytes(first_line).decode("utf-8", errors="replace")
    columns = len(next(csv.reader(io.StringIO(header)), []))
    if columns > budget.max_columns:
        raise OverBudget(f"the header has {columns:,} columns, over this dataset's budget of {budget.max_columns:,}")


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def check_xlsx_budget(path: Path, budget: FileBudget) -> None:
    """The zip's declared sizes and ratios, then each worksheet inflated under a cap."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise OverBudget(f"the xlsx file is not a readable zip archive ({error})") from error
    with archive:
        members = archive.infolist()
        declared = sum(m.file_size for m in members)
        if declared > budget.max_xlsx_uncompressed_bytes:
            raise OverBudget(f"the workbook declares {_mib(declared)} uncompressed, over this dataset's budget "
                             f"of {_mib(budget.max_xlsx_uncompressed_bytes)}")
        for member in members:
            _check_ratio(member.filename, member.file_size, member.compress_size, budget)
        relationships = next((m for m in members if m.filename == "xl/_rels/workbook.xml.rels"), None)
        if relationships is not None and relationships.file_size > _CHUNK:  # a few hundred bytes a sheet
            raise OverBudget(f"{relationships.filename} declares {_mib(relationships.file_size)}, "
                             "more than a workbook's relationships")
        named = set(worksheet_targets(archive).values())
        sheets = [m for m in members if (m.filename.startswith("xl/worksheets/") and m.filename.endswith(".xml"))
                  or m.filename in named]
        if not sheets:
            raise OverBudget("the xlsx file has no worksheet")
        inflated_total = 0
        for member in sheets:
            inflated_total += _check_sheet(archive, member, budget,
                                           budget.max_xlsx_uncompressed_bytes - inflated_total)


def _check_ratio(name: str, inflated: int, compressed: int, budget: FileBudget) -> None:
    ratio = inflated / max(compressed, 1)
    if inflated > _CHUNK and ratio > budget.max_compression_ratio:
        raise OverBudget(f"{name} inflates {ratio:,.0f}× ({_mib(compressed)} to {_mib(inflated)}), over this "
                         f"dataset's compression-ratio budget of {budget.max_compression_ratio:g}× (a zip bomb?)")


def _check_sheet(archive: zipfile.ZipFile, member: zipfile.ZipInfo, budget: FileBudget, allowance: int) -> int:
    """Inflate one worksheet in chunks (never more than `allowance` bytes): its declared range,
    its last used cell and row, its true size and ratio. Returns the inflated size."""
    inflated, max_row, max_column, tail = 0, 0, 0, b""
    with archive.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            inflated += len(chunk)
            if inflated > allowance:
                raise OverBudget(f"{member.filename} inflates past {_mib(budget.max_xlsx_uncompressed_bytes)}, "
                                 "this dataset's budget for an uncompressed workbook")
            _check_ratio(member.filename, inflated, member.compress_size, budget)
            window = tail + chunk
            if max_row == 0 and (declared := _DIMENSION.search(window)):
                _check_range(member.filename, "declares", declared, budget)
            for letters, row in _CELL_REFERENCE.findall(window):
                max_row, max_column = max(max_row, int(row)), max(max_column, _column_number(letters))
            for row in _ROW_NUMBER.findall(window):
                max_row = max(max_row, int(row))
            _check_extent(member.filename, "uses cells up to", max_row, max_column, budget)
            tail = window[-256:]  # a tag cut between chunks is seen whole in the next window
    return inflated


def _check_range(name: str, verb: str, match: re.Match, budget: FileBudget) -> None:
    first_column, first_row, last_column, last_row = match.groups()
    if last_column is None:  # a one-cell range such as A1
        last_column, last_row = first_column, first_row
    if not last_column or not last_row:
        return
    _check_extent(name, verb, int(last_row), _column_number(last_column), budget,
                  f"{(first_column or b'').decode()}{(first_row or b'').decode()}:{last_column.decode()}{last_row.decode()}")


EXCEL_LAST_ROW, EXCEL_LAST_COLUMN = 1_048_576, 16_384


def _check_extent(name: str, verb: str, rows: int, columns: int, budget: FileBudget, shown: str = "") -> None:
    where = f" ({shown})" if shown else ""
    if rows == EXCEL_LAST_ROW or columns == EXCEL_LAST_COLUMN:  # a whole row or column formatted, not data
        where += (", the sheet's last row or column: a cell formatted there (a border, a fill) stretches the "
                  "sheet; delete the rows and columns after the data in Excel and save again")
    if columns > budget.max_columns:
        raise OverBudget(f"{name} {verb} column {columns:,}{where}, over this dataset's budget of "
                         f"{budget.max_columns:,} columns")
    if rows - 1 > budget.max_rows:
        raise OverBudget(f"{name} {verb} row {rows:,}{where}, over this dataset's budget of {budget.max_rows:,} rows")
    if rows * columns > budget.max_xlsx_cells:
        raise OverBudget(f"{name} {verb} {rows:,} rows × {columns:,} columns{where}, over this dataset's budget "
                         f"of {budget.max_xlsx_cells:,} cells")
