"""The province's registry of water-quality stations (codes, names, 대권역), bundled as CSV."""

from __future__ import annotations

import pandas as pd

from gn_pipelines.reference.bundled import bundled_reference_file

WATER_STATIONS = "water_stations"


def water_stations() -> pd.DataFrame:
    """One row per registered station: station_code, station_name, basin, sigungu_code."""
    return pd.read_csv(bundled_reference_file(WATER_STATIONS), dtype=str, keep_default_na=False)
