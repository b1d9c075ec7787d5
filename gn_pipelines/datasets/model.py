"""What declaring a dataset means: its contract (with its delivery layouts), its privacy recipe
and what is published from it. Every stage reads these declarations; an incomplete one is refused
when it is made, so a dataset never fails half-way through a drop for a part nobody declared."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gn_pipelines.contracts.model import DatasetContract, PrivacyClass
from gn_pipelines.contracts.published import PSEUDONYMOUS, PublishedTable
from gn_pipelines.contracts.recipes import KEPT, Recipe


class IncompleteDeclaration(ValueError):
    """A dataset declaration lacks a part, or its parts do not fit together."""


@dataclass(frozen=True)
class Aggregate:
    """A published aggregate: counts over every pseudonymised drop of the dataset (exact, not
    k-anonymised), with cells under the small-cell threshold suppressed (primary and secondary)."""

    table: PublishedTable
    # creates the table `table.name` in a DuckDB connection from the view `source_view`
    build: Callable[..., None]
    count_column: str  # the count the small-cell rule applies to
    value_columns: tuple[str, ...]  # values hidden with a suppressed count
    dimensions: tuple[str, ...]
    complete_within: tuple[str, ...] | None = None  # see publish/suppression.py
    source_view: str = "drops"  # the view of the pseudonymised drops `build` reads
    # build(connection, cache_dir): a restricted-zone directory of its own, kept between
    # publications for what it derives from each drop once (never published)
    keeps_cache: bool = False
    # loads what `build` needs before it can start (a language model): a cache warm-up calls it
    # while the batches still run (gn_pipelines/build_cache_warmup.py)
    prepare: Callable[[], object] | None = None
    # drops what `prepare` loaded once `build` is done: kiwipiepy's model (520 MB) otherwise stays
    # beside the publication's next steps (at 10M complaints the open-data export's process reached 2 GB)
    unload: Callable[[], object] | None = None
    # the column `build` writes with each cell's distinct people, where one person can make several
    # records: the small-cell rule reads it (fewer than 5 people), it is not published
    people_column: str | None = None
    # (connection) → values it withheld: hides, once the cells are suppressed, a value withheld on a
    # rule of its own that a margin published elsewhere would give back (a 시군 × month's total in
    # an open copy)
    after_suppression: Callable[..., int] | None = None
    # (dimension, column) where a record table names a dimension otherwise (month ← received_month):
    # what the declaration check counts the open copy of the records by
    record_columns: tuple[tuple[str, str], ...] = ()

    def record_column(self, dimension: str) -> str:
        return dict(self.record_columns).get(dimension, dimension)


@dataclass(frozen=True)
class Chart:
    """A picture published beside a table (in the release's charts/ and open data)."""

    table: str
    file_name: str
    title: str
    # (connection holding the derived tables, target path) → the path written
    render: Callable[..., object]
    # loads what `render` needs before it can start (a drawing library): `process` calls it while
    # its workers run the batches, off the publication's path
    prepare: Callable[[], object] | None = None


@dataclass(frozen=True)
class DerivedTables:
    """Published tables computed together from the de-identified release (e.g. annual grades)."""

    tables: tuple[PublishedTable, ...]
    # (connection, path of the release's Parquet file) → creates every table of `tables`
    build: Callable[..., None]
    description: str = ""
    charts: tuple[Chart, ...] = ()


@dataclass(frozen=True)
class Dataset:
    """One dataset, declared once: everything collection, validation, de-identification,
    publication and open data need to know about it."""

    contract: DatasetContract
    recipe: Recipe
    # the de-identified release, published as is (one row per record)
    record_tables: tuple[PublishedTable, ...] = ()
    derived: DerivedTables | None = None
    aggregates: tuple[Aggregate, ...] = ()

    def __post_init__(self) -> None:
        for problem in declaration_problems(self):
            raise IncompleteDeclaration(f"{self.contract.name}: {problem}")

    @property
    def name(self) -> str:
        return self.contract.name

    @property
    def published_tables(self) -> tuple[PublishedTable, ...]:
        derived = self.derived.tables if self.derived else ()
        return (*self.record_tables, *derived, *(a.table for a in self.aggregates))


def declaration_problems(dataset: Dataset) -> list[str]:
    """Everything missing or inconsistent in a declaration (empty when it is whole)."""
    contract, recipe = dataset.contract, dataset.recipe
    problems = []
    if recipe is None or not recipe.per_drop:
        problems.append("no privacy recipe (every column would be deleted, nothing published)")
        return problems
    if recipe.dataset != contract.name:
        problems.append(f"the recipe is declared for {recipe.dataset!r}")
    if not dataset.published_tables:
        problems.append("publishes no table: declare record tables, derived tables or aggregates")
    columns = {c.name for c in contract.columns}
    derived_inputs = columns | {f"{c.name}_{suffix}" for c in contract.columns if c.below_detection
                                for suffix in ("below_detection", "detection_limit")}
    for derivation in recipe.per_drop:
        unknown = set(derivation.from_columns) - derived_inputs
        if unknown:
            problems.append(f"recipe column {derivation.name} reads {', '.join(sorted(unknown))}, not in the contract")
    names = [d.name for d in recipe.per_drop]
    if len(names) != len(set(names)):
        problems.append("the recipe derives a column twice")
    identifiers = {c.name for c in contract.columns_of(PrivacyClass.DIRECT_IDENTIFIER)}
    kept = {d.name for d in recipe.per_drop if d.technique == KEPT and d.name in identifiers}
    if kept:
        problems.append(f"direct identifier(s) kept as delivered: {', '.join(sorted(kept))}")
    for table in dataset.published_tables:
        if contract.name not in table.source_datasets:
            problems.append(f"table {table.name} does not name {contract.name} among its sources")
    derived_names = {t.name for t in dataset.derived.tables} if dataset.derived else set()
    for chart in dataset.derived.charts if dataset.derived else ():
        if chart.table not in derived_names:
            problems.append(f"chart {chart.file_name} is beside {chart.table}, not a derived table")
    for aggregate in dataset.aggregates:
        table_columns = set(aggregate.table.column_names)
        used = {aggregate.count_column, *aggregate.value_columns, *aggregate.dimensions}
        if used - table_columns:
            problems.append(f"aggregate {aggregate.table.name} suppresses unknown column(s) "
                            f"{', '.join(sorted(used - table_columns))}")
    for table in dataset.record_tables:
        if table.privacy_class == PSEUDONYMOUS and not recipe.release.quasi_identifiers:
            problems.append(f"{table.name} is {PSEUDONYMOUS} but its recipe anonymises nothing")
    problems += _open_copies_counting_back_cells(dataset)
    return problems


def _open_copies_counting_back_cells(dataset: Dataset) -> list[str]:
    """An aggregate suppresses cells of fewer than 5 people; an open copy of the same records
    holding every one of its dimensions would give those cells back to anyone counting its rows
    (k-anonymity over the quasi-identifiers does not stop it: a category is none). So each open
    copy of people's records withholds at least one dimension of each aggregate of its dataset,
    whose counts over it are then the aggregate's margins, which its suppression assumes known.
    (A register published whole, such as LOCALDATA's licences, has no open copy of its own.)"""
    problems = []
    for table in dataset.record_tables:
        if table.public_release is None:
            continue
        opened = set(table.open_column_names)
        for aggregate in dataset.aggregates:
            counted = [aggregate.record_column(d) for d in aggregate.dimensions]
            if set(counted) <= opened:
                problems.append(
                    f"the open copy of {table.name} holds every dimension of {aggregate.table.name} "
                    f"({', '.join(counted)}): counting its rows gives back the cells {aggregate.table.name} "
                    "suppresses; withhold one of them (open_data_withheld)")
    return problems
