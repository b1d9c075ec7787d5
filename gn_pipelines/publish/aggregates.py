"""The published aggregates, built from the de-identified drops and small-cell suppressed.

Aggregates read the pseudonymised drops (no direct identifiers, every record) rather than the
k-anonymised release, so counts are exact; the suppression protects them instead. Each dataset
declares its aggregates (gn_pipelines/datasets/, `Aggregate`): how the table is built and what
its suppression hides; here they are built and suppressed the same way for all.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import replace
from functools import partial

from gn_pipelines.datasets import AGGREGATES as DECLARED_AGGREGATES
from gn_pipelines.datasets.model import Aggregate
from gn_pipelines.freed_memory import give_back_freed_memory
from gn_pipelines.ingest.parquet_io import memory_limit_within
from gn_pipelines.publish.suppression import SuppressionReport, SuppressionSpec, suppress_aggregate

# DuckDB's share while an aggregate's model is loaded beside it (kiwipiepy's, 520 MB): counting a
# million complaints' keywords by person under the usual 1 GB took the process to 1.97 GB.
BESIDE_A_MODEL_MEMORY_LIMIT = "400MB"


def suppression_spec(aggregate: Aggregate) -> SuppressionSpec:
    """What the small-cell suppression of a declared aggregate hides."""
    return SuppressionSpec(aggregate.count_column, aggregate.value_columns, aggregate.dimensions,
                           complete_within=aggregate.complete_within, people_column=aggregate.people_column)


def build_aggregate(connection, aggregate: Aggregate | str, cache_dir=None, keep_people: bool = False) -> SuppressionReport:
    """A declared aggregate as table `aggregate.table.name` in `connection`, from the view
    `aggregate.source_view` of the pseudonymised drops, small cells suppressed. `cache_dir`: the
    restricted directory an aggregate that `keeps_cache` keeps between builds (None: none kept).
    `keep_people`: keep its people column (never published) for the publication gate."""
    if isinstance(aggregate, str):
        aggregate = DECLARED_AGGREGATES[aggregate]
    beside_a_model = (memory_limit_within(connection, BESIDE_A_MODEL_MEMORY_LIMIT)
                      if aggregate.prepare is not None else nullcontext())
    try:
        with beside_a_model:
            if aggregate.keeps_cache:
                aggregate.build(connection, cache_dir)
            else:
                aggregate.build(connection)
    finally:
        if aggregate.unload is not None:
            aggregate.unload()
            give_back_freed_memory()
    report = suppress_aggregate(connection, aggregate.table.name, suppression_spec(aggregate),
                                keep_people=keep_people)
    if aggregate.after_suppression is not None:
        report = replace(report, complements_after=aggregate.after_suppression(connection))
    return report


# The published aggregates: builder and suppression of each, by table name.
AGGREGATES: dict[str, tuple] = {
    name: (partial(build_aggregate, aggregate=aggregate), suppression_spec(aggregate))
    for name, aggregate in DECLARED_AGGREGATES.items()
}


def aggregate_spec(table: str) -> SuppressionSpec:
    return AGGREGATES[table][1]
