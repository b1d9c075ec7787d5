"""One declaration per dataset: every dataset is whole (contract, recipe, published tables), an
incomplete one is refused, and everything downstream is derived from the declarations, so the
fourth dataset's module is the only code outside synth/ that knows it."""

import dataclasses
from pathlib import Path

import pytest

from gn_pipelines.contracts.recipes import Derived, KEPT, Recipe
from gn_pipelines.datasets import AGGREGATES, CONTRACTS, DATASETS, RECIPES, dataset_tables
from gn_pipelines.datasets.model import Dataset, IncompleteDeclaration, declaration_problems
from gn_pipelines.publish.tables import PUBLISHED_TABLES_BY_NAME

PACKAGE = Path(__file__).resolve().parents[2] / "gn_pipelines"
BUSINESS = DATASETS["business_licences"]


def test_the_four_datasets_are_declared_whole():
    assert sorted(DATASETS) == ["business_licences", "civil_complaints", "water_quality", "welfare_recipients"]
    for dataset in DATASETS.values():
        assert declaration_problems(dataset) == []
        assert CONTRACTS[dataset.name] is dataset.contract and RECIPES[dataset.name] is dataset.recipe
        assert dataset.published_tables


def test_every_declared_table_is_published_and_every_aggregate_built():
    for table in dataset_tables():
        assert PUBLISHED_TABLES_BY_NAME[table.name] is table
    assert set(AGGREGATES) == {"civil_complaints_monthly", "civil_complaint_keywords_monthly", "welfare_summary",
                               "business_licences_yearly"}


def test_a_declaration_without_a_recipe_or_tables_is_refused():
    with pytest.raises(IncompleteDeclaration, match="no privacy recipe"):
        Dataset(BUSINESS.contract, Recipe("business_licences", per_drop=(), release=BUSINESS.recipe.release),
                record_tables=BUSINESS.record_tables)
    with pytest.raises(IncompleteDeclaration, match="publishes no table"):
        Dataset(BUSINESS.contract, BUSINESS.recipe)
    with pytest.raises(IncompleteDeclaration, match="recipe is declared for 'water_quality'"):
        Dataset(BUSINESS.contract, DATASETS["water_quality"].recipe, record_tables=BUSINESS.record_tables)


def test_a_recipe_reading_a_column_the_contract_lacks_or_keeping_an_identifier_is_refused():
    typo = dataclasses.replace(BUSINESS.recipe, per_drop=(
        *BUSINESS.recipe.per_drop, Derived("floor", "floor_aera", KEPT, ("floor_aera",))))
    with pytest.raises(IncompleteDeclaration, match="reads floor_aera"):
        Dataset(BUSINESS.contract, typo, record_tables=BUSINESS.record_tables)
    leak = dataclasses.replace(BUSINESS.recipe, per_drop=(
        *BUSINESS.recipe.per_drop, Derived("business_name", "business_name", KEPT, ("business_name",))))
    with pytest.raises(IncompleteDeclaration, match="direct identifier"):
        Dataset(BUSINESS.contract, leak, record_tables=BUSINESS.record_tables)


def test_a_table_must_name_its_dataset_and_an_aggregate_its_own_columns():
    stranger = dataclasses.replace(BUSINESS.record_tables[0], source_datasets=("civil_complaints",))
    with pytest.raises(IncompleteDeclaration, match="does not name business_licences"):
        Dataset(BUSINESS.contract, BUSINESS.recipe, record_tables=(stranger,))
    (yearly,) = BUSINESS.aggregates
    with pytest.raises(IncompleteDeclaration, match="unknown column"):
        Dataset(BUSINESS.contract, BUSINESS.recipe, aggregates=(dataclasses.replace(yearly, count_column="shops"),))


def test_an_open_copy_of_records_holding_every_dimension_of_an_aggregate_is_refused():
    """Counted by 시군 × month × category, an open complaints copy with the category would give
    back the cells civil_complaints_monthly suppresses: each copy withholds one dimension."""
    for name, dimension in (("civil_complaints", "category"), ("welfare_recipients", "sex")):
        dataset = DATASETS[name]
        (records,) = dataset.record_tables
        assert dimension in records.open_data_withheld
        holding = dataclasses.replace(records, open_data_withheld=tuple(
            c for c in records.open_data_withheld if c != dimension))
        with pytest.raises(IncompleteDeclaration, match=f"open copy of {name} holds every dimension"):
            dataclasses.replace(dataset, record_tables=(holding,))
    # the month of the complaint statistics is the records' received_month
    monthly = next(a for a in DATASETS["civil_complaints"].aggregates if a.table.name == "civil_complaints_monthly")
    assert [monthly.record_column(d) for d in monthly.dimensions] == ["sigungu_code", "received_month", "category"]
    # a register opened whole (LOCALDATA's licences) has no open copy of its own to check
    assert BUSINESS.record_tables[0].public_release is None and declaration_problems(BUSINESS) == []


def test_only_the_declaration_knows_the_fourth_dataset():
    """Outside synth/ and its reference table, no module names business_licences or its columns."""
    markers = ("business_licences", "개방자치단체코드", "licence_key", "admin_agency_codes")
    knowing = sorted(str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                     if any(marker in path.read_text(encoding="utf-8") for marker in markers))
    assert knowing == ["datasets/business_licences.py", "synth/business_licences.py", "synth/command.py",
                       "synth/drops.py"]


def test_adding_a_dataset_is_adding_its_module():
    """The registry finds declarations by module: none is listed anywhere else."""
    registry = (PACKAGE / "datasets" / "__init__.py").read_text(encoding="utf-8")
    assert not any(name in registry for name in DATASETS)
