"""The datasets of the platform, one declaration module each (gn_pipelines/datasets/<name>.py,
holding `DATASET`): contract, delivery layouts, privacy recipe, published tables and aggregates.

Everything else is derived from them: the contracts collection reads, the recipes
de-identification applies, the tables publication writes, and every Dagster asset, check, job
and sensor. Adding a dataset is adding its module here (and a synth generator for samples).
"""

from __future__ import annotations

import importlib
import pkgutil

from gn_pipelines.contracts.model import DatasetContract
from gn_pipelines.contracts.published import PublishedTable
from gn_pipelines.contracts.recipes import Recipe
from gn_pipelines.datasets.model import Aggregate, Chart, Dataset, DerivedTables, IncompleteDeclaration

_NOT_DECLARATIONS = frozenset({"model"})


def _declarations() -> tuple[Dataset, ...]:
    found = []
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name in _NOT_DECLARATIONS or module.name.startswith("_"):
            continue
        declared = getattr(importlib.import_module(f"{__name__}.{module.name}"), "DATASET", None)
        if not isinstance(declared, Dataset):
            raise IncompleteDeclaration(f"gn_pipelines/datasets/{module.name}.py declares no DATASET")
        if declared.name != module.name:
            raise IncompleteDeclaration(f"gn_pipelines/datasets/{module.name}.py declares {declared.name!r}")
        found.append(declared)
    return tuple(found)


DATASETS: dict[str, Dataset] = {d.name: d for d in _declarations()}
CONTRACTS: dict[str, DatasetContract] = {name: d.contract for name, d in DATASETS.items()}
RECIPES: dict[str, Recipe] = {name: d.recipe for name, d in DATASETS.items()}
AGGREGATES: dict[str, Aggregate] = {a.table.name: a for d in DATASETS.values() for a in d.aggregates}


def get_dataset(name: str) -> Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None


def get_contract(dataset: str) -> DatasetContract:
    return get_dataset(dataset).contract


def dataset_tables() -> tuple[PublishedTable, ...]:
    """Every table the datasets publish, dataset by dataset in declaration order."""
    return tuple(t for d in DATASETS.values() for t in d.published_tables)


__all__ = ["AGGREGATES", "CONTRACTS", "DATASETS", "RECIPES", "Aggregate", "Chart", "Dataset", "DerivedTables",
           "IncompleteDeclaration", "dataset_tables", "get_contract", "get_dataset"]
