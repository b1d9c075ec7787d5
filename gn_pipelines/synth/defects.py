"""Defects a provider's file can carry: bad, foreign and duplicate rows, and header layouts.

Row defects are disjoint: a bad row has exactly one unparseable cell, an other-시군 row is
otherwise valid, and a duplicate repeats a clean row that comes earlier in the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gn_pipelines.contracts import Column, DatasetContract

from gn_pipelines.datasets import CONTRACTS
from gn_pipelines.reference.providers import SIGUN_CODES, codes_allowed_for
from gn_pipelines.synth.columns import Columns, pick, set_cells, strings, with_nulls
from gn_pipelines.synth.model import ROW_DEFECTS

MAX_DEFECT_ROWS = 10  # "a few" rows of each kind per file
EXTRA_COLUMN = "비고"  # an unknown column a provider adds; the platform ignores and reports it
PRIVATE_PREFIX = "_"  # columns of ground truth that are never written

BadCell = Callable[[Columns, int, np.random.Generator], tuple[str, str]]


@dataclass(frozen=True)
class DefectRules:
    """How rows of one dataset are made defective."""

    bad_cell: BadCell  # (column, unparseable value) for one row
    key_columns: tuple[str, ...]  # copied by a key-only duplicate
    removable: tuple[str, ...]  # required columns `missing_headers` may drop (no row defect's)
    code_column: str | None = None  # the provider code column, for other_sigungu


@dataclass(frozen=True)
class ChunkDefects:
    """Row positions (within one chunk) of each row defect."""

    bad: np.ndarray
    other_sigungu: np.ndarray
    duplicate_sources: np.ndarray
    duplicate_targets: np.ndarray
    key_only: np.ndarray  # per duplicate: repeat only the key, not the whole row


def impossible_date(year: int, rng: np.random.Generator) -> str:
    """A date no calendar has: month 13, 30 February, 31 April, month 0."""
    return (f"{year}-13-45", f"{year}-02-30", f"{year}-04-31", f"{year}-00-10")[rng.integers(4)]


def not_a_number(rng: np.random.Generator) -> str:
    return ("abc", "확인중", "1.2.3", "12a")[rng.integers(4)]  # none a missing-value token


def _few(rows: int) -> int:
    return min(MAX_DEFECT_ROWS, max(1, rows // 100))


def _split(count: int, parts: int) -> list[int]:
    return [count // parts + (i < count % parts) for i in range(parts)]


def _chunk_defects(size: int, bad: int, other: int, duplicates: int,
                   rng: np.random.Generator) -> ChunkDefects:
    bad = min(bad, size)  # when a file is too small for all, bad rows come first
    other = min(other, size - bad)
    duplicates = min(duplicates, (size - bad - other) // 2)
    order = rng.permutation(size)
    pairs = np.sort(order[bad + other:bad + other + 2 * duplicates].reshape(-1, 2), axis=1)
    return ChunkDefects(
        bad=np.sort(order[:bad]), other_sigungu=np.sort(order[bad:bad + other]),
        duplicate_sources=pairs[:, 0], duplicate_targets=pairs[:, 1],
        key_only=rng.random(len(pairs)) < 0.5,
    )


def plan_row_defects(sizes: Sequence[int], defects: Sequence[str], rng: np.random.Generator
                     ) -> list[ChunkDefects]:
    """Spread a few rows of each requested row defect over the chunks of a file."""
    rows = sum(sizes)
    wanted = {name: _few(rows) if name in defects else 0 for name in ROW_DEFECTS}
    splits = {name: _split(count, len(sizes)) for name, count in wanted.items()}
    return [
        _chunk_defects(size, splits["bad_rows"][i], splits["other_sigungu"][i],
                       splits["duplicates"][i], rng)
        for i, size in enumerate(sizes)
    ]


def _copy_rows(columns: Columns, plan: ChunkDefects, key_columns: Sequence[str]) -> Columns:
    for key_only in (False, True):
        chosen = plan.key_only == key_only
        sources, targets = plan.duplicate_sources[chosen], plan.duplicate_targets[chosen]
        for name in key_columns if key_only else list(columns):
            copies = columns[name].take(sources).to_pylist()
            columns[name] = set_cells(columns[name], targets, copies)
    return columns


def _spoil_cells(columns: Columns, rows: np.ndarray, rules: DefectRules,
                 rng: np.random.Generator) -> Columns:
    spoiled: dict[str, tuple[list[int], list[str]]] = {}
    for row in rows.tolist():
        name, value = rules.bad_cell(columns, row, rng)
        positions, values = spoiled.setdefault(name, ([], []))
        positions.append(row)
        values.append(value)
    for name, (positions, values) in spoiled.items():
        columns[name] = set_cells(columns[name], positions, values)
    return columns


def apply_row_defects(columns: Columns, plan: ChunkDefects, rules: DefectRules, provider: str,
                      rng: np.random.Generator) -> Columns:
    """Duplicates first (they copy clean rows), then bad cells, then other 시군's codes."""
    columns = _copy_rows(dict(columns), plan, rules.key_columns)
    columns = _spoil_cells(columns, plan.bad, rules, rng)
    if len(plan.other_sigungu) and rules.code_column:
        foreign = [c for c in SIGUN_CODES if c not in codes_allowed_for(provider)]
        codes = [foreign[i] for i in rng.integers(0, len(foreign), len(plan.other_sigungu))]
        code = rules.code_column
        columns[code] = set_cells(columns[code], plan.other_sigungu, codes)
    return columns


def write_missing_as_tokens(columns: Columns, rng: np.random.Generator) -> Columns:
    """Missing cells written `-` or `NULL` instead of left empty."""
    tokens = strings(["-", "NULL"])
    return {
        name: values if name.startswith(PRIVATE_PREFIX) or not values.null_count
        else pc.coalesce(values, pick(tokens, rng.integers(0, 2, len(values))))
        for name, values in columns.items()
    }


# ---------------------------------------------------------------- headers


@dataclass(frozen=True)
class HeaderLayout:
    """The header row as written, and for each header the canonical column it carries."""

    headers: tuple[str, ...]
    sources: tuple[str, ...]  # canonical column names; EXTRA_COLUMN for the unknown extra one


_UNIT = re.compile(r"\(([^()]*)\)$")


def header_variants(column: Column) -> list[str]:
    """Tolerated spellings: spaces around, a space before the unit, short names, alias + unit."""
    variants = [f" {column.header} ", f"{column.header} "]
    unit = _UNIT.search(column.header)
    if unit:
        variants.append(column.header[:unit.start()] + " " + unit.group(0))
    for alias in column.aliases:
        variants.append(alias)
        if unit and " " not in alias:
            variants.append(f"{alias} ({unit.group(1)})")
    return variants


def _varied(columns: Sequence[Column], rng: np.random.Generator) -> list[str]:
    headers = []
    for i, column in enumerate(columns):
        variants = header_variants(column)
        if i == 0:  # at least one header padded with spaces, as spreadsheets export them
            headers.append(variants[0])
        elif rng.random() < 0.6:
            headers.append(variants[rng.integers(len(variants))])
        else:
            headers.append(column.header)
    return headers


def _wrong_headers(contract: DatasetContract, count: int, rng: np.random.Generator) -> list[str]:
    """Another dataset's headers, or a spreadsheet's default column names."""
    others = [c for name, c in sorted(CONTRACTS.items()) if name != contract.name]
    if rng.random() < 0.5:
        other = others[rng.integers(len(others))]
        headers = [c.header for c in other.columns]
        return [headers[i] if i < len(headers) else f"{headers[i % len(headers)]}_{i}"
                for i in range(count)]
    return [f"Column{i + 1}" for i in range(count)]


def header_layout(contract: DatasetContract, defects: Sequence[str], rules: DefectRules,
                  rng: np.random.Generator) -> HeaderLayout:
    """Contract headers in contract order, unless a header defect asks otherwise."""
    columns = list(contract.columns)
    if "missing_headers" in defects:
        dropped = rules.removable[rng.integers(len(rules.removable))]
        columns = [c for c in columns if c.name != dropped]
    headers = [c.header for c in columns]
    sources = [c.name for c in columns]
    if "header_variants" in defects:
        headers = _varied(columns, rng)
        order = rng.permutation(len(headers))
        headers, sources = [headers[i] for i in order], [sources[i] for i in order]
        at = int(rng.integers(1, len(headers) + 1))
        headers.insert(at, EXTRA_COLUMN)
        sources.insert(at, EXTRA_COLUMN)
    if "wrong_headers" in defects:
        headers = _wrong_headers(contract, len(headers), rng)
    return HeaderLayout(tuple(headers), tuple(sources))


_REMARKS = strings(["확인 필요", "재접수", "전화 문의", "현장 확인 예정"])


def laid_out(columns: Columns, layout: HeaderLayout, rng: np.random.Generator) -> list[pa.Array]:
    """The arrays to write, in header order (the extra column gets a few remarks)."""
    arrays = [columns.get(name) for name in layout.sources]
    if EXTRA_COLUMN in layout.sources:
        rows = len(next(iter(columns.values())))
        remarks = with_nulls(pick(_REMARKS, rng.integers(0, len(_REMARKS), rows)),
                             rng.random(rows) < 0.9)
        arrays[layout.sources.index(EXTRA_COLUMN)] = remarks
    return arrays
