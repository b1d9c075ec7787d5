"""De-identifying a batch together: each file's counts equal those of the file on its own."""

import duckdb

from gn_pipelines.privacy.scrubber import PLACEHOLDERS, placeholder_counts, placeholder_counts_by_file


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
