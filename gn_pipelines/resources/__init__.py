"""Dagster resources: one module per external thing (zones on disk, the warehouse, the key)."""

from gn_pipelines.resources.pseudonym_key import PseudonymKeyResource, warn_if_pseudonym_key_missing
from gn_pipelines.resources.warehouse import RESTRICTED_WAREHOUSE_POOL, RestrictedWarehouseResource
from gn_pipelines.resources.zones import DataZonesResource

__all__ = ["DataZonesResource", "PseudonymKeyResource", "RESTRICTED_WAREHOUSE_POOL",
           "RestrictedWarehouseResource", "warn_if_pseudonym_key_missing"]
