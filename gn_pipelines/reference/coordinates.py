"""Coordinate reference systems: delivered coordinates turned into another system in DuckDB.

pyproj (the Python binding of PROJ, the reference implementation of the EPSG transformations)
does the work, vectorised over Arrow arrays; it is imported only when a drop has coordinates.
Its EPSG:5174 (Korean 1985 / Modified Central Belt) carries the datum shift to WGS84, which a
hand-written Bessel-to-GRS80 formula would get wrong by hundreds of metres.
"""

from __future__ import annotations

import threading

# the SQL functions registered (x and y of the transformed point): (x, y, source CRS, target CRS)
REPROJECT_FUNCTIONS = ("reproject_x", "reproject_y")


_LOCK = threading.Lock()  # a PROJ transformer is not thread-safe (pyproj's docs)
_TRANSFORMERS: dict[tuple[str, str], object] = {}


def _transformer(source: str, target: str):
    from pyproj import Transformer

    if (source, target) not in _TRANSFORMERS:
        # always_xy: x is the easting or the longitude, whatever the CRS's own axis order
        _TRANSFORMERS[source, target] = Transformer.from_crs(source, target, always_xy=True)
    return _TRANSFORMERS[source, target]


def reproject(xs, ys, source: str, target: str):
    """Arrays of x and y in `source` → (x, y) arrays in `target` (NaN where the input is missing)."""
    import numpy as np

    x = np.asarray(xs, dtype="float64")
    y = np.asarray(ys, dtype="float64")
    with _LOCK:
        return _transformer(source, target).transform(x, y)


def register_reprojection(connection) -> None:
    """`reproject_x(x, y, source, target)` and `reproject_y(...)` as DuckDB functions.

    Sets the connection to one thread: PROJ called from DuckDB's worker threads crashed the
    process (a segmentation fault building a CRS in a thread Python did not start, 1 run in 3
    here); with one thread DuckDB runs the functions on the calling thread.
    """
    import numpy as np
    import pyarrow as pa

    connection.execute("SET threads = 1")

    def one_axis(axis: int):
        def function(x, y, source, target):
            xs = x.to_numpy(zero_copy_only=False).astype("float64")
            ys = y.to_numpy(zero_copy_only=False).astype("float64")
            out = np.full(len(xs), np.nan)
            pairs = {(s, t) for s, t in zip(source.to_pylist(), target.to_pylist()) if s and t}
            sources = np.array(source.to_pylist(), dtype=object)
            targets = np.array(target.to_pylist(), dtype=object)
            for s, t in pairs:
                rows = (sources == s) & (targets == t)
                out[rows] = reproject(xs[rows], ys[rows], s, t)[axis]
            return pa.array(out, mask=np.isnan(out))
        return function

    for axis, name in enumerate(REPROJECT_FUNCTIONS):
        connection.create_function(name, one_axis(axis), ["DOUBLE", "DOUBLE", "VARCHAR", "VARCHAR"], "DOUBLE",
                                   type="arrow", null_handling="special")
