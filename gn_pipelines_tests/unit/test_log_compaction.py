"""The event logs' past months folded into one Parquet file each: the views read the same records
before and after, a late record or a fold killed before removing its JSON files is merged once,
and a fold never removes records from under the platform's readers."""

import json
import uuid
from datetime import date, datetime

import duckdb
import pytest

from gn_pipelines.ingest.drop_log import DROP_LOG_FIELDS, drop_log_dir
from gn_pipelines.ingest.log_compaction import months_to_fold
from gn_pipelines.restricted_views import create_log_views, fold_event_logs
from gn_pipelines.seoul_time import SEOUL, seoul_iso, seoul_stamp

TODAY = date(2026, 12, 6)


def record(zones, when: datetime, source_file: str) -> dict:
    """A drop-log record as `append_record` writes it, at `when` (Seoul)."""
    fields = {name: None for name in DROP_LOG_FIELDS} | {
        "event_id": uuid.uuid4().hex, "recorded_at": seoul_iso(when), "dataset": "civil_complaints",
        "provider_code": "48740", "source_file": source_file, "status": "collected", "rows_accepted": 3,
        "unknown_columns": []}
    folder = drop_log_dir(zones.restricted)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{seoul_stamp(when)}_{fields['event_id'][:12]}.json").write_text(json.dumps(fields), encoding="utf-8")
    return fields


def drop_log_rows(zones) -> list[tuple]:
    with duckdb.connect() as connection:
        create_log_views(connection, zones)
        return connection.execute("SELECT * FROM drop_log ORDER BY event_id").fetchall()


def json_months(zones) -> list[str]:
    return sorted({p.name[:6] for p in drop_log_dir(zones.restricted).glob("[0-9]*.json")})


def test_past_months_fold_into_one_parquet_each_and_the_views_read_the_same_records(zones):
    for day, count in ((datetime(2026, 9, 30, 23, 59), 3), (datetime(2026, 10, 1, 0, 0), 2),
                       (datetime(2026, 11, 15, 9), 2), (datetime(2026, 12, 1, 0, 0, 1), 1)):
        for number in range(count):
            record(zones, day.replace(tzinfo=SEOUL, second=number), f"48740/civil_complaints/{day:%m%d}-{number}.csv")
    before = drop_log_rows(zones)
    assert len(before) == 8

    written = fold_event_logs(zones, TODAY)

    assert [p.name for p in written] == ["2026-09.parquet", "2026-10.parquet"]
    assert json_months(zones) == ["202611", "202612"]  # this and last month stay JSON files
    assert drop_log_rows(zones) == before
    assert fold_event_logs(zones, TODAY) == []  # nothing more to fold


def test_a_late_record_and_a_fold_killed_before_removing_its_records_are_merged_once(zones):
    september = [record(zones, datetime(2026, 9, 2, 10, n, tzinfo=SEOUL), f"48740/civil_complaints/{n}.csv")
                 for n in range(3)]
    folder = drop_log_dir(zones.restricted)
    kept = {p.name: p.read_bytes() for p in folder.glob("2026*.json")}
    fold_event_logs(zones, TODAY)
    # killed after renaming its Parquet into place, before removing the JSON files: they are back
    for name, content in kept.items():
        (folder / name).write_bytes(content)
    late = record(zones, datetime(2026, 9, 30, 23, 59, 59, tzinfo=SEOUL), "48740/civil_complaints/late.csv")

    assert sorted(r[0] for r in drop_log_rows(zones)) == sorted(r["event_id"] for r in [*september, late])

    assert [p.name for p in fold_event_logs(zones, TODAY)] == ["2026-09.parquet"]
    assert json_months(zones) == []
    with duckdb.connect() as connection:
        folded = connection.execute("SELECT event_id FROM read_parquet(?) ORDER BY recorded_at",
                                    [str(folder / "2026-09.parquet")]).fetchall()
    assert [e for (e,) in folded] == [r["event_id"] for r in [*september, late]]


def test_in_january_december_stays_json(tmp_path):
    for name in ("20261130T235959-000000KST_a.json", "20261201T000000-000000KST_b.json",
                 "20270115T120000-000000KST_c.json", "_schema.json", "2026-10.parquet"):
        (tmp_path / name).touch()
    assert months_to_fold(tmp_path, date(2027, 1, 15)) == ["202611"]
    assert months_to_fold(tmp_path, date(2027, 2, 1)) == ["202611", "202612"]


def test_a_fold_held_by_another_process_is_left_to_it(zones):
    from gn_pipelines.file_lock import exclusive_lock
    from gn_pipelines.ingest.log_compaction import FOLD_LOCK

    record(zones, datetime(2026, 9, 2, 10, tzinfo=SEOUL), "48740/civil_complaints/a.csv")
    folder = drop_log_dir(zones.restricted)
    with exclusive_lock(folder / FOLD_LOCK):  # e.g. a stuck publication on another machine
        assert fold_event_logs(zones, TODAY) == []  # returned at once: not waiting for the holder
        assert json_months(zones) == ["202609"]
    assert [p.name for p in fold_event_logs(zones, TODAY)] == ["2026-09.parquet"]



def test_a_fold_leaves_a_log_being_read_to_the_next_fold(zones):
    """A reader holds the fold lock shared (a fold would otherwise remove JSON files it listed:
    in a stress run, 31 of 247 reads failed with DuckDB's `Cannot open file … No such file`)."""
    from gn_pipelines.restricted_views import reading_event_logs

    record(zones, datetime(2026, 9, 2, 10, tzinfo=SEOUL), "48740/civil_complaints/a.csv")
    before = drop_log_rows(zones)
    with reading_event_logs(zones, "drop_log", "validation_log"):  # e.g. the hourly freshness check
        assert fold_event_logs(zones, TODAY) == []  # returned at once: a fold never waits for readers
        assert json_months(zones) == ["202609"] and drop_log_rows(zones) == before
    assert [p.name for p in fold_event_logs(zones, TODAY)] == ["2026-09.parquet"]
    assert drop_log_rows(zones) == before


@pytest.mark.parametrize("given", ["with -c", "on standard input"])
def test_an_analysts_statement_in_the_restricted_shell_holds_the_logs_against_a_fold(zones, monkeypatch, capsys, given):
    """`gn-pipelines sql --restricted`: a fold attempted while a statement runs (here by the
    statement itself) leaves the month to the next fold instead of removing files it listed."""
    import io

    from gn_pipelines import cli, sql_shell

    record(zones, datetime(2026, 9, 2, 10, tzinfo=SEOUL), "48740/civil_complaints/a.csv")
    with duckdb.connect(str(zones.restricted_db)) as connection:
        create_log_views(connection, zones)
    opened = sql_shell.connect

    def connect_with_a_fold(database):
        connection = opened(database)
        connection.create_function("fold_now", lambda: len(fold_event_logs(zones, TODAY)), [], "BIGINT",
                                   side_effects=True)
        return connection

    monkeypatch.setattr(sql_shell, "connect", connect_with_a_fold)
    statement = "SELECT fold_now() AS folded, count(*) AS records FROM drop_log"
    if given == "with -c":
        assert cli.main(["sql", "--restricted", "-c", statement]) == 0
    else:
        monkeypatch.setattr("sys.stdin", io.StringIO(statement + ";\n"))
        assert cli.main(["sql", "--restricted"]) == 0
    printed = capsys.readouterr().out
    assert "│      0 │       1 │" in printed, printed  # no fold while the statement read the log
    assert json_months(zones) == ["202609"]
    assert [p.name for p in fold_event_logs(zones, TODAY)] == ["2026-09.parquet"]  # the next fold does it
