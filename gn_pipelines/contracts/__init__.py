"""Dataset contracts: one module per dataset; add a dataset by adding its module here."""

from gn_pipelines.contracts import civil_complaints, water_quality, welfare_recipients
from gn_pipelines.contracts.model import (
    Column,
    ColumnType,
    DatasetContract,
    PrivacyClass,
    header_key,
)

CONTRACTS: dict[str, DatasetContract] = {
    module.CONTRACT.name: module.CONTRACT
    for module in (civil_complaints, welfare_recipients, water_quality)
}


def get_contract(dataset: str) -> DatasetContract:
    try:
        return CONTRACTS[dataset]
    except KeyError:
        raise KeyError(f"unknown dataset {dataset!r}; known: {', '.join(CONTRACTS)}") from None


__all__ = ["CONTRACTS", "Column", "ColumnType", "DatasetContract", "PrivacyClass",
           "get_contract", "header_key"]
