"""The zero-row seed files keep every stage's glob readable: their schema must be exactly what the
stage writes for a real drop (real DuckDB, real collection and de-identification)."""

import datetime as dt

import duckdb
import pytest

from gn_pipelines.datasets import get_contract
from gn_pipelines.ingest.collect import collect_drop, write_empty_collected
from gn_pipelines.privacy.deidentify import (
    _seed_pseudonymised, deidentify_drop, pseudonymised_path, write_empty_pseudonymised,
)
from gn_pipelines.restricted_views import seed_path, seed_staging
from gn_pipelines_tests.drops import csv_bytes, sample_rows

COLLECTED_AT = dt.datetime(2025, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
PROVIDER_OF = {"civil_complaints": "48740", "welfare_recipients": "48170", "water_quality": "48000",
               "business_licences": "48170"}


def schema(path) -> tuple[list, list]:
    """Columns with their DuckDB types, and the Parquet types. Not REQUIRED/OPTIONAL: DuckDB
    derives it from the plan's statistics (a zero-row file says OPTIONAL), readers see no difference."""
    with duckdb.connect() as connection:
        parameters = {"path": str(path)}
        return (connection.execute("DESCRIBE SELECT * FROM read_parquet($path)", parameters).fetchall(),
                connection.execute("SELECT name, type, type_length, num_children, converted_type, scale, precision, "
                                   "field_id, logical_type FROM parquet_schema($path)", parameters).fetchall())


def collected_drop(zones, dataset):
    """A real drop of `dataset` with accepted rows and one rejected row (a field too many)."""
    provider = PROVIDER_OF[dataset]
    rows = sample_rows(dataset, 3, 시군구코드=provider) if dataset != "water_quality" else sample_rows(dataset, 3)
    payload = csv_bytes(rows) + (",".join(rows[0].values()) + ",extra\r\n").encode()
    path = zones.scratch / f"{dataset}.csv"
    path.write_bytes(payload)
    outcome = collect_drop(path, contract=get_contract(dataset), provider_code=provider,
                           source_file=f"{provider}/{dataset}/{path.name}", content_sha256="0" * 64,
                           zones=zones, collected_at=COLLECTED_AT)
    assert (outcome.rows_accepted, outcome.rows_rejected) == (3, 1), outcome
    return outcome


@pytest.mark.parametrize("dataset", list(PROVIDER_OF))
def test_staging_seeds_have_the_schema_collection_writes(zones, dataset):
    seed_staging(zones)
    outcome = collected_drop(zones, dataset)
    assert schema(seed_path(zones, "collected", dataset)) == schema(outcome.collected_path)
    assert schema(seed_path(zones, "validated", dataset)) == schema(outcome.collected_path)
    assert schema(seed_path(zones, "rejected_rows", dataset)) == schema(outcome.rejected_rows_path)
    assert schema(seed_path(zones, "collected", dataset)) == schema(
        write_empty_collected(get_contract(dataset), zones.scratch / "alone.parquet"))


@pytest.mark.parametrize("dataset", ["civil_complaints", "welfare_recipients"])
def test_the_pseudonymised_seed_taken_from_a_drop_equals_one_pseudonymised_empty(zones, dataset):
    contract = get_contract(dataset)
    outcome = collected_drop(zones, dataset)
    drop = pseudonymised_path(zones, dataset, PROVIDER_OF[dataset], "drop.csv")
    deidentify_drop(contract, source=outcome.collected_path, target=drop, secret=b"k" * 32, zones=zones)
    _seed_pseudonymised(contract, zones)  # from the drop
    empty = write_empty_pseudonymised(contract, write_empty_collected(contract, zones.scratch / "empty.parquet"),
                                      zones.scratch / "pseudonymised-empty.parquet", zones)
    seed = zones.restricted / "pseudonymised" / dataset / "_schema" / "empty.parquet"
    assert schema(seed) == schema(empty) == schema(drop)
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{seed}')").fetchall() == [(0,)]
