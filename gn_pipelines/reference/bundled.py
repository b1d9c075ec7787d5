"""Reference tables shipped with the package (gn_pipelines/reference/data/<table>.csv)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def bundled_reference_file(table: str) -> Path:
    """The bundled CSV of a reference table; its provenance is in data/PROVENANCE.md."""
    path = Path(str(resources.files("gn_pipelines.reference") / "data" / f"{table}.csv"))
    if not path.is_file():
        raise KeyError(f"no bundled reference table {table!r} ({path})")
    return path
