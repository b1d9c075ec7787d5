"""The data root and its zones, as a Dagster resource configured from the environment."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from gn_pipelines.settings import DataZones, data_root_from_env, settle_seconds_from_env


class DataZonesResource(dg.ConfigurableResource):
    """Every zone under one data root (`GN_DATA_ROOT`, default `./data`)."""

    data_root: str | None = None  # None: read GN_DATA_ROOT when a run or tick starts
    settle_seconds: float | None = None  # None: read GN_SETTLE_SECONDS (default 5 s)

    @property
    def zones(self) -> DataZones:
        root = Path(self.data_root).expanduser().resolve() if self.data_root else data_root_from_env()
        return DataZones(root)

    @property
    def settle(self) -> float:
        return settle_seconds_from_env() if self.settle_seconds is None else self.settle_seconds
