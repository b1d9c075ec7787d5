"""Columns as Arrow string arrays: sampled from pools and joined in C++, never cell by cell."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Columns = dict[str, pa.Array]  # canonical column name → string array, one chunk of a drop

NULL = pa.scalar(None, pa.string())


def strings(values: Sequence[str | None]) -> pa.Array:
    return pa.array(values, type=pa.string())


def pick(pool: pa.Array, index: np.ndarray) -> pa.Array:
    """The pool's values at `index` (a numpy integer array)."""
    return pool.take(pa.array(index, type=pa.int64()))


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise string concatenation of arrays and literal strings."""
    return pc.binary_join_element_wise(*parts, "")


def repeat(value: str, n: int) -> pa.Array:
    return pick(strings([value]), np.zeros(n, dtype=np.int64))


def zero_padded(numbers: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(numbers, type=pa.int64()), pa.string()), width, "0")


def digit_pool(width: int) -> pa.Array:
    """Every zero-padded number of `width` digits, e.g. '0000'..'9999' for width 4."""
    return zero_padded(np.arange(10**width), width)


def with_nulls(values: pa.Array, missing: np.ndarray) -> pa.Array:
    """`values` with a null wherever `missing` is true."""
    return pc.if_else(pa.array(missing, type=pa.bool_()), NULL, values)


def set_cells(values: pa.Array, positions: Sequence[int], replacements: Sequence[str | None]
              ) -> pa.Array:
    """`values` with the cells at `positions` replaced (positions may come in any order)."""
    if len(positions) == 0:
        return values
    order = np.argsort(positions, kind="stable")
    mask = np.zeros(len(values), dtype=bool)
    mask[np.asarray(positions)] = True
    return pc.replace_with_mask(values, pa.array(mask), strings([replacements[i] for i in order]))


def formatted(values: np.ndarray, spec: str) -> pa.Array:
    """Numbers formatted with a Python format spec (for the small numeric drops)."""
    return strings([format(v, spec) for v in values.tolist()])
