"""The restricted warehouse: one DuckDB file, written only by assets in its single-writer pool."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import dagster as dg

from gn_pipelines.ingest.parquet_io import PORTABLE_STORAGE
from gn_pipelines.resources.zones import DataZonesResource
from gn_pipelines.settings import make_private_file

# Every asset that writes warehouse/restricted.duckdb runs in this pool; the instance limits it
# to one step at a time, because DuckDB allows a single writing process per database file.
RESTRICTED_WAREHOUSE_POOL = "restricted_warehouse"


class RestrictedWarehouseResource(dg.ConfigurableResource):
    zones: DataZonesResource

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator["duckdb.DuckDBPyConnection"]:  # noqa: F821
        """Read-only: the live file. Writing: a copy swapped into place on success, so an
        analyst's open connection never blocks or fails a run (ingest/database_swap.py)."""
        path = self.zones.zones.restricted_db
        path.parent.mkdir(parents=True, exist_ok=True)
        if read_only:
            from dagster_duckdb import DuckDBResource

            resource = DuckDBResource(database=str(path), connection_config={"access_mode": "READ_ONLY"})
            with resource.get_connection() as connection:
                yield connection
            return
        from gn_pipelines.ingest.database_swap import swapped_connection

        with swapped_connection(path, dict(PORTABLE_STORAGE)) as connection:
            yield connection
        make_private_file(path)  # created under the umask: owner-only, like the restricted zone
