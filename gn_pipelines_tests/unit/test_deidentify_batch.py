"""De-identifying a batch together: each file's counts equal those of the file on its own."""

import datetime as dt

import duckdb
import pytest

from gn_pipelines.ingest import parquet_io
from gn_pipelines.privacy.deidentify import deidentify_drop
from gn_pipelines.privacy.deidentify_batch import BatchDrop, deidentify_batch
from gn_pipelines.privacy.scrubber import PLACEHOLDERS, placeholder_counts, placeholder_counts_by_file
from gn_pipelines_tests.unit.test_deidentify_drop import CONTRACT, SECRET, _validated


def test_placeholders_counted_per_file_in_one_query_equal_the_per_file_counts():
    kinds = list(PLACEHOLDERS.values())
    texts = {
        "48740/civil_complaints/a.csv": [f"전화 {kinds[0]} 또는 {kinds[0]}", None, f"{kinds[1]}"],
        "48120/civil_complaints/b.csv": ["없음", f"{kinds[-1]}{kinds[-1]}{kinds[0]}"],
        "48890/civil_complaints/c.csv": [None],
    }
    with duckdb.connect() as connection:
        connection.execute("CREATE TABLE t (source_file VARCHAR, title VARCHAR, body VARCHAR)")
        connection.executemany("INSERT INTO t VALUES (?, ?, ?)",
                               [(f, text, text and text[::-1]) for f, values in texts.items() for text in values])
        together = placeholder_counts_by_file(connection, "t", ["title", "body"])
        for source_file in texts:
            connection.execute(f"CREATE OR REPLACE VIEW one AS SELECT * FROM t WHERE source_file = '{source_file}'")
            assert together[source_file] == placeholder_counts(connection, "one", ["title", "body"])
    assert together["48740/civil_complaints/a.csv"][list(PLACEHOLDERS)[0]] == 2


@pytest.mark.parametrize("file_by_file", [False, True], ids=["one partitioned copy", "file by file"])
def test_each_file_of_a_batch_is_de_identified_as_it_would_be_alone(zones, monkeypatch, file_by_file):
    """The batch reads its files together and splits the result: each file gets the rows, row
    order and counts it gets on its own, whichever way the split is written (a large batch writes
    file by file)."""
    days = (dt.date(2025, 3, 4), dt.date(2025, 3, 5), dt.date(2025, 3, 6))
    sources = [_validated(zones, f"{day}.csv", day) for day in days]
    alone = [deidentify_drop(CONTRACT, source=source, target=zones.scratch / f"alone-{i}.parquet", secret=SECRET,
                             zones=zones) for i, source in enumerate(sources)]
    if file_by_file:
        monkeypatch.setattr(parquet_io, "PARTITIONED_COPY_MAX_ROWS", 0)
    drops = [BatchDrop(f"48740/civil_complaints/{day}.csv", source, zones.scratch / f"batch-{i}.parquet")
             for i, (day, source) in enumerate(zip(days, sources))]
    together = deidentify_batch(CONTRACT, drops, secret=SECRET, zones=zones)
    read = "SELECT * FROM read_parquet(?)"
    with duckdb.connect() as connection:
        for drop, one in zip(drops, alone):
            outcome = together[drop.source_file]
            assert (outcome.rows, outcome.replaced_in_text, outcome.key_id) == (one.rows, one.replaced_in_text, one.key_id)
            assert one.rows > 500 and sum(one.replaced_in_text.values()) > 0
            assert (connection.execute(read, [str(outcome.target)]).fetchall()
                    == connection.execute(read, [str(one.target)]).fetchall())
