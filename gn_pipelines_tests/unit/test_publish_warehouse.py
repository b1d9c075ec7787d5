"""Atomic publication into published.duckdb: contract columns, comments, catalog, failures, readers."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import duckdb
import pandas as pd
import pytest

from gn_pipelines.publish.tables import PUBLISHED_TABLES, published_table
from gn_pipelines.publish.warehouse import PublicationError, publish

GRADES = "water_quality_station_grades"
NAMJI = "nakdong_namji_target"


def grades(version: int, rows: int = 3) -> pd.DataFrame:
    return pd.DataFrame({
        "station_code": [f"2020A{i:02d}" for i in range(rows)], "station_name": ["남지"] * rows,
        "year": [2024] * rows, "parameter": ["bod"] * rows, "annual_mean": [float(version)] * rows,
        "samples": [12] * rows, "below_detection_samples": [0] * rows, "grade": ["Ib"] * rows,
        "enough_samples": [True] * rows, "note": [None] * rows})


def namji(version: int) -> str:
    return (f"SELECT 2024 AS year, {version}.5 AS bod_mean_mg_l, 'Ib' AS bod_grade, 0.035 AS tp_mean_mg_l, "
            "'Ib' AS tp_grade, 'Ib' AS overall_grade, 'Ib' AS target_grade, 0.0 AS bod_gap_to_target_mg_l, "
            "0.0 AS tp_gap_to_target_mg_l, true AS meets_target, 12 AS samples")


def read(db, sql: str):
    with duckdb.connect(str(db), read_only=True) as connection:
        return connection.execute(sql).fetchall()


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "warehouse" / "published.duckdb"
    publish(path, {GRADES: grades(1), NAMJI: namji(1)})
    return path


def test_tables_have_declared_types_comments_and_catalog(db):
    table = published_table(GRADES)
    types = read(db, f"SELECT column_name, data_type, comment FROM duckdb_columns() WHERE table_name = '{GRADES}'")
    assert [(n, t) for n, t, _ in types] == [(c.name, c.type) for c in table.columns]
    assert all(" | " in comment and comment.split(" | ")[0] for _, _, comment in types)
    (comment,) = read(db, f"SELECT comment FROM duckdb_tables() WHERE table_name = '{GRADES}'")[0]
    assert comment.startswith("[통계] 측정소별 연간 수질 등급") and "Annual water quality grades" in comment
    catalog = dict(read(db, "SELECT table_name, row_count FROM data_catalog"))
    assert catalog == {GRADES: 3, NAMJI: 1, "data_catalog": 3}
    assert read(db, "SELECT DISTINCT licence FROM data_catalog") == [("공공누리 제1유형",)]


def storage_version(path) -> int:
    """The storage format number in a DuckDB file's main header (magic 'DUCK' at byte 8)."""
    header = path.read_bytes()[:20]
    assert header[8:12] == b"DUCK"
    return int.from_bytes(header[12:20], "little")


def test_the_file_opens_in_duckdb_1x_as_well(db):
    # 64 is the format of DuckDB 0.10 to 1.1, which every later release reads (1.5.6, the
    # current CLI, reads 64 to 68); DuckDB 2 writes 69 by default
    assert storage_version(db) == 64
    publish(db, {GRADES: grades(2)})  # a new version, swapped in: the same format
    assert storage_version(db) == 64


def test_catalog_names_the_providers_of_a_table_not_its_generalised_areas(tmp_path):
    columns = published_table("welfare_recipients").column_names
    rows = [dict.fromkeys(columns, "x") | {"sigungu_code": code} for code in ("48121", "48000", "48740")]
    path = tmp_path / "published.duckdb"
    publish(path, {"welfare_recipients": pd.DataFrame(rows)})
    (providers,) = read(path, "SELECT providers FROM data_catalog WHERE table_name = 'welfare_recipients'")[0]
    # 창원's 구 is 창원시's row; 48000 is a row generalised to the province, not a provider
    assert providers == "48120 창원시, 48740 창녕군"


def test_unknown_table_or_columns_are_refused_and_previous_is_kept(db):
    with pytest.raises(PublicationError, match="not a published table"):
        publish(db, {"complaints_raw": "SELECT 1 AS x"})
    with pytest.raises(PublicationError, match=r"missing \['note'\].*unexpected \['comment'\]"):
        publish(db, {GRADES: grades(2).rename(columns={"note": "comment"})})
    assert read(db, f"SELECT DISTINCT annual_mean FROM {GRADES}") == [(1.0,)]


def test_failure_on_the_second_table_leaves_the_previous_version(db):
    before = read(db, f"SELECT * FROM {GRADES} ORDER BY ALL") + read(db, f"SELECT * FROM {NAMJI}")
    # Columns match, so the failure happens while building, after the first table was written.
    bad_namji = namji(2).replace("2024 AS year", "'twenty' AS year")
    with pytest.raises(PublicationError, match=f"{NAMJI}: building the table failed"):
        publish(db, {GRADES: grades(2), NAMJI: bad_namji})
    assert read(db, f"SELECT * FROM {GRADES} ORDER BY ALL") + read(db, f"SELECT * FROM {NAMJI}") == before
    assert sorted(p.name for p in db.parent.iterdir()) == ["published.duckdb", "published.duckdb.publish.lock"]


def test_other_tables_carry_over_with_their_last_update(db):
    (first,) = read(db, f"SELECT last_updated FROM data_catalog WHERE table_name = '{GRADES}'")[0]
    result = publish(db, {NAMJI: namji(2)})
    assert result.carried_over == (GRADES,)
    assert read(db, f"SELECT DISTINCT annual_mean FROM {GRADES}") == [(1.0,)]
    assert read(db, f"SELECT bod_mean_mg_l FROM {NAMJI}") == [(2.5,)]
    updated = dict(read(db, "SELECT table_name, last_updated FROM data_catalog"))
    assert updated[GRADES] == first < updated[NAMJI]


def test_views_made_by_connection_setup_do_not_leak_into_the_published_file(db, tmp_path):
    parquet = tmp_path / "grades.parquet"
    duckdb.from_df(grades(3)).write_parquet(str(parquet))

    def setup(connection):
        connection.execute(f"CREATE VIEW restricted_grades AS SELECT * FROM read_parquet('{parquet}')")

    publish(db, {GRADES: "SELECT * FROM restricted_grades"}, connection_setup=setup)
    assert read(db, "SELECT count(*) FROM duckdb_views() WHERE NOT internal") == [(0,)]
    assert read(db, f"SELECT DISTINCT annual_mean FROM {GRADES}") == [(3.0,)]


def test_a_reader_in_another_process_keeps_its_snapshot_while_publishing(db):
    reader = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys
        connection = duckdb.connect({str(db)!r}, read_only=True)
        for line in sys.stdin:
            print(connection.execute("SELECT sum(annual_mean), count(*) FROM {GRADES}").fetchone(), flush=True)
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        reader.stdin.write("go\n"); reader.stdin.flush()
        assert reader.stdout.readline().strip() == "(3.0, 3)"
        publish(db, {GRADES: grades(2, rows=5)})  # the reader's lock does not block the publisher
        reader.stdin.write("go\n"); reader.stdin.flush()
        assert reader.stdout.readline().strip() == "(3.0, 3)"  # still its consistent old snapshot
    finally:
        reader.stdin.close(); reader.wait(timeout=30); reader.stdout.close()
    assert read(db, f"SELECT sum(annual_mean), count(*) FROM {GRADES}") == [(10.0, 5)]


def test_a_reader_thread_never_sees_a_half_written_version(db):
    seen, stop = set(), threading.Event()
    held = duckdb.connect(str(db), read_only=True)

    def keep_reading():
        while not stop.is_set():
            seen.add(held.cursor().execute(f"SELECT sum(annual_mean), count(*) FROM {GRADES}").fetchone())

    thread = threading.Thread(target=keep_reading)
    thread.start()
    try:
        for version in range(2, 6):
            publish(db, {GRADES: grades(version, rows=version)})
    finally:
        stop.set(); thread.join(); held.close()
    assert seen == {(3.0, 3)}
    assert read(db, f"SELECT sum(annual_mean), count(*) FROM {GRADES}") == [(25.0, 5)]


def test_a_killed_publication_leaves_the_previous_file_and_its_temp_file_is_cleaned(db):
    killed = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from gn_pipelines.publish.warehouse import publish
        def die(connection):
            connection.execute("CREATE TABLE half AS SELECT range AS x FROM range(100000)")
            connection.execute("CHECKPOINT")
            os.kill(os.getpid(), signal.SIGKILL)
        publish(Path({str(db)!r}), {{"{NAMJI}": "SELECT 1"}}, connection_setup=die)
        """)], capture_output=True, text=True, timeout=60)
    assert killed.returncode == -9, killed.stderr
    assert any(".tmp-" in p.name for p in db.parent.iterdir())
    assert read(db, f"SELECT bod_mean_mg_l FROM {NAMJI}") == [(1.5,)]
    publish(db, {NAMJI: namji(4)})
    assert not any(".tmp-" in p.name for p in db.parent.iterdir())
    assert read(db, f"SELECT bod_mean_mg_l FROM {NAMJI}") == [(4.5,)]


def test_declarations_never_let_the_data_lab_touch_keys_or_free_text():
    forbidden = {"complaint_key", "complainant_key", "recipient_key", "title", "body"}
    for table in PUBLISHED_TABLES:
        allowed = set(table.selectable) | set(table.filterable) | set(table.groupable)
        assert allowed <= set(table.column_names) and not allowed & forbidden, table.name
    assert not published_table("civil_complaints").record_level_allowed
    assert not published_table("welfare_recipients").record_level_allowed


def test_in_place_publication_equals_a_whole_new_file(tmp_path):
    """A release being built is changed in place: same tables, comments and catalog as the
    copying path, and the catalog keeps the carried tables' times."""
    copied, in_place = tmp_path / "copied.duckdb", tmp_path / "in_place.duckdb"
    namji_time = "SELECT last_updated FROM data_catalog WHERE table_name = 'nakdong_namji_target'"
    for db in (copied, in_place):
        publish(db, {NAMJI: namji(1)})
    first_published = read(in_place, namji_time)
    publish(copied, {GRADES: grades(2, rows=2)})
    publish(in_place, {GRADES: grades(2, rows=2)}, in_place=True)
    queries = [f"SELECT * FROM {NAMJI} ORDER BY ALL", f"SELECT * FROM {GRADES} ORDER BY ALL",
               "SELECT table_name, row_count, privacy_class FROM data_catalog ORDER BY ALL",
               "SELECT table_name, comment FROM duckdb_tables() ORDER BY ALL",
               "SELECT table_name, column_name, comment FROM duckdb_columns() ORDER BY ALL"]
    for query in queries:
        assert read(in_place, query) == read(copied, query), query
    assert read(in_place, namji_time) == first_published  # carried, not updated
    with pytest.raises(PublicationError):  # refused like the copying path; the file is unchanged
        publish(in_place, {GRADES: "SELECT 1 AS wrong"}, in_place=True)
    assert read(in_place, queries[1]) == read(copied, queries[1])
