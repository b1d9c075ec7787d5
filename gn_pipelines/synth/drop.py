"""One drop file: clean chunks of a dataset, with the requested defects, through a sink."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from gn_pipelines.contracts import ColumnType

from gn_pipelines.datasets import get_contract
from gn_pipelines.synth.columns import Columns
from gn_pipelines.synth.defects import (
    DefectRules, apply_row_defects, header_layout, laid_out, plan_row_defects,
    write_missing_as_tokens,
)
from gn_pipelines.synth.model import SynthFile, defects_for
from gn_pipelines.synth.writer import drop_path, open_sink

CHUNK_ROWS = 25_000  # rows generated and written at a time: bounds memory at any file size
_NUMERIC = (ColumnType.INTEGER, ColumnType.DECIMAL)

ChunkSource = Callable[[Sequence[int]], Iterable[Columns]]


def chunk_sizes(rows: int) -> list[int]:
    """Near-equal chunks of at most CHUNK_ROWS rows (never a tiny tail chunk)."""
    parts = max(1, -(-rows // CHUNK_ROWS))
    return [rows // parts + (i < rows % parts) for i in range(parts)]


def write_drop(path: Path, *, dataset: str, provider: str, rows: int, chunks: ChunkSource,
               rules: DefectRules, defects: Sequence[str], rng: np.random.Generator) -> SynthFile:
    """Write `rows` rows of `dataset` to `path` (renamed as the defects ask) and count defects.

    `rng` drives the defects only, so a file with defects differs from its clean twin
    in exactly the defective rows and the file layout.
    """
    contract = get_contract(dataset)
    applied = defects_for(dataset, defects)
    sizes = chunk_sizes(rows)
    plans = plan_row_defects(sizes, applied, rng)
    layout = header_layout(contract, applied, rules, rng)
    numeric_columns = {c.name for c in contract.columns if c.type in _NUMERIC}
    numeric = [name in numeric_columns for name in layout.sources]
    target = drop_path(path, applied)
    sink = open_sink(target, layout.headers, numeric, applied)
    try:
        for columns, plan in zip(chunks(sizes), plans, strict=True):
            if "null_tokens" in applied:
                columns = write_missing_as_tokens(columns, rng)
            columns = apply_row_defects(columns, plan, rules, provider, rng)
            sink.write(laid_out(columns, layout, rng))
    finally:
        sink.close()
    return SynthFile(
        path=target, dataset=dataset, provider=provider, rows=rows,
        bad_rows=sum(len(p.bad) for p in plans),
        other_sigungu_rows=sum(len(p.other_sigungu) for p in plans),
        duplicate_rows=sum(len(p.duplicate_targets) for p in plans),
        defects=applied,
    )
