"""A drop de-identified in several processes is the same file as in one (row order included)."""

import datetime as dt

import duckdb

from gn_pipelines.datasets import get_contract
from gn_pipelines.ingest.collect import collect_drop
from gn_pipelines.privacy import deidentify
from gn_pipelines.quality.validate import validate_drop, validated_path
from gn_pipelines.synth.civil_complaints import write_civil_complaints_drop

CONTRACT = get_contract("civil_complaints")
SECRET = b"test-only-secret-for-parallel-derivation"


def _validated(zones, file_name="2025-03-04.csv"):
    path = zones.scratch / file_name
    write_civil_complaints_drop(path, provider="48740", day=dt.date(2025, 3, 4), rows=600, seed=11)
    collected = collect_drop(path, contract=CONTRACT, provider_code="48740",
                             source_file=f"48740/civil_complaints/{file_name}", content_sha256="0" * 64,
                             zones=zones, collected_at=dt.datetime(2025, 3, 5, tzinfo=dt.timezone.utc))
    validate_drop(CONTRACT, provider_code="48740", file_name=file_name, zones=zones,
                  rows_rejected_at_collection=collected.rows_rejected, today=dt.date(2025, 6, 30))
    return validated_path(zones, "civil_complaints", "48740", file_name)


def test_parallel_derivation_writes_the_same_rows_in_the_same_order(zones, monkeypatch):
    source = _validated(zones)
    one = deidentify.deidentify_drop(CONTRACT, source=source, target=zones.scratch / "one.parquet",
                                     secret=SECRET, zones=zones)
    monkeypatch.setattr(deidentify, "PARALLEL_FROM_ROWS", 1)
    monkeypatch.setattr(deidentify, "DERIVE_PROCESSES", 2)  # spawned processes, as on a large drop
    two = deidentify.deidentify_drop(CONTRACT, source=source, target=zones.scratch / "two.parquet",
                                     secret=SECRET, zones=zones)
    assert one.rows == two.rows > 500 and one.key_id == two.key_id
    assert one.replaced_in_text == two.replaced_in_text and sum(one.replaced_in_text.values()) > 0
    read = "SELECT * FROM read_parquet(?)"
    with duckdb.connect() as connection:
        assert (connection.execute(read, [str(one.target)]).fetchall()
                == connection.execute(read, [str(two.target)]).fetchall())
