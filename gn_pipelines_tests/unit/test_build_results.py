"""A build's result kept for the publication's step (publish/build_results.py): given back only
for the same fingerprints, exactly as built, one per build."""

import duckdb
import pandas as pd
import pyarrow as pa

from gn_pipelines.publish.build_results import keep_result, kept_result
from gn_pipelines.publish.builds import Built
from gn_pipelines.publish.suppression import suppress_small_cells

TABLE = "counts_monthly"


def _built() -> Built:
    connection = duckdb.connect()
    connection.execute(f"""CREATE TABLE {TABLE} AS SELECT * FROM (VALUES
        ('48120', '2025-03', 7), ('48120', '2025-04', 2), ('48170', '2025-03', 9),
        ('48170', '2025-04', 12)) AS t(sigungu_code, month, complaints)""")
    report = suppress_small_cells(connection, TABLE, count_column="complaints", value_columns=(),
                                  dimensions=("sigungu_code", "month"))
    frame = connection.execute(f"SELECT * FROM {TABLE}").df()
    frame.insert(1, "sigungu_name", frame["sigungu_code"].map({"48120": "창원시", "48170": "진주시"}))
    return Built({TABLE: frame}, {TABLE: "complaints"}, {TABLE: report})


def test_a_kept_result_comes_back_as_built_for_the_same_fingerprints_only(tmp_path):
    built = _built()
    assert built.reports[TABLE].suppressed > 0  # a real suppression report, margin groups and all
    assert keep_result(tmp_path, {TABLE: "a" * 64}, built)
    kept = kept_result(tmp_path, {TABLE: "a" * 64})
    pd.testing.assert_frame_equal(kept.sources[TABLE], built.sources[TABLE], check_exact=True)
    assert kept.count_columns == built.count_columns and kept.reports == built.reports
    assert kept_result(tmp_path, {TABLE: "b" * 64}) is None  # other inputs or code


def test_one_result_per_build_and_only_what_comes_back_exactly(tmp_path):
    built = _built()
    assert keep_result(tmp_path, {TABLE: "a" * 64}, built)
    assert keep_result(tmp_path, {TABLE: "b" * 64}, built)
    assert kept_result(tmp_path, {TABLE: "a" * 64}) is None  # replaced by the newer inputs' result
    assert len(list((tmp_path / "results").iterdir())) == 1
    # a table not held as a frame (a released file read as is) is not kept
    assert not keep_result(tmp_path, {TABLE: "c" * 64}, Built({TABLE: pa.table({"n": [1]})}))
    assert kept_result(tmp_path, {TABLE: "c" * 64}) is None
