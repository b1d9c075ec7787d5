"""Dataset contracts: what a provider delivers and how each column is treated (model.py), the other
layouts a dataset arrives in (layouts.py), its privacy recipe (recipes.py) and what is published
from it (published.py). Each dataset's contract is declared with the rest of it in
gn_pipelines/datasets/<name>.py; gn_pipelines.datasets.CONTRACTS lists them."""

from gn_pipelines.contracts.model import (
    Column,
    ColumnType,
    DatasetContract,
    PrivacyClass,
    header_key,
)

__all__ = ["Column", "ColumnType", "DatasetContract", "PrivacyClass", "header_key"]
