"""A record delivered again replaces its earlier delivery for the readers of all drops
(privacy/current_records.py): the release and the aggregates count each complaint once."""

from __future__ import annotations

import datetime as dt

import duckdb

from gn_pipelines.datasets import get_contract
from gn_pipelines.privacy import deidentify
from gn_pipelines.privacy.current_records import create_current_records_view
from gn_pipelines.publish.builds import input_files, table_builds
from gn_pipelines_tests.unit.test_incremental_release import _pseudonymise

UTC = dt.timezone.utc


def _drop(folder, name: str, collected: dt.datetime, rows: list[tuple[str, str | None, str]]) -> None:
    """A pseudonymised drop's lineage and a key: (provider, key, status) per row."""
    with duckdb.connect() as connection:
        connection.execute("""CREATE TABLE t (provider_code VARCHAR, complaint_key VARCHAR, status VARCHAR,
            source_file VARCHAR, source_row_number BIGINT, collected_at TIMESTAMPTZ)""")
        connection.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
                               [(*row, f"{row[0]}/civil_complaints/{name}", n + 2, collected)
                                for n, row in enumerate(rows)])
        connection.execute(f"COPY t TO '{folder / (name + '.parquet')}' (FORMAT parquet)")


def _current(folder) -> tuple[int, list[tuple]]:
    with duckdb.connect() as connection:
        left_out = create_current_records_view(connection, "drops", str(folder / "*.parquet"), ("complaint_key",))
        return left_out, connection.execute(
            "SELECT provider_code, complaint_key, status, source_file FROM drops").fetchall()


def test_the_newest_delivery_of_a_record_stands_and_keyless_records_all_stand(tmp_path):
    march_3, march_4 = dt.datetime(2025, 3, 3, tzinfo=UTC), dt.datetime(2025, 3, 4, tzinfo=UTC)
    _drop(tmp_path, "2025-03-03", march_3, [("48170", "a", "접수"), ("48170", "b", "접수"), ("48170", None, "접수"),
                                            ("48120", "a", "접수")])
    assert _current(tmp_path) == (0, [  # nothing delivered twice: the drops as they are, in order
        ("48170", "a", "접수", "48170/civil_complaints/2025-03-03"), ("48170", "b", "접수", "48170/civil_complaints/2025-03-03"),
        ("48170", None, "접수", "48170/civil_complaints/2025-03-03"), ("48120", "a", "접수", "48120/civil_complaints/2025-03-03")])

    # 'a' of 48170 again, completed, and another keyless record; collected in the same batch as a
    # corrected file whose name sorts after it
    _drop(tmp_path, "2025-03-04", march_4, [("48170", "a", "처리완료"), ("48170", None, "반려")])
    _drop(tmp_path, "2025-03-04_수정", march_4, [("48170", "b", "처리중")])
    left_out, rows = _current(tmp_path)
    assert left_out == 2
    assert sorted((p, k or "", s) for p, k, s, _ in rows) == sorted([
        ("48170", "a", "처리완료"), ("48170", "b", "처리중"), ("48170", "", "접수"), ("48170", "", "반려"),
        ("48120", "a", "접수")])  # another provider's 'a' is another record
    assert [r[3] for r in rows] == sorted(r[3] for r in rows)  # in the order of their files

    # a later batch wins over a name that sorts later
    _drop(tmp_path, "2025-03-01_late", dt.datetime(2025, 3, 5, tzinfo=UTC), [("48170", "a", "반려")])
    assert ("48170", "a", "반려") in [r[:3] for r in _current(tmp_path)[1]]


def _monthly_complaints(zones) -> int:
    (build,) = [b for b in table_builds() if b.name == "civil_complaints_monthly"]
    source, _ = input_files(build, zones)
    frame = build.build(source, zones.scratch, scratch=zones.scratch).sources["civil_complaints_monthly"]
    return int(frame["complaints"].fillna(0).sum()), int(frame["suppressed"].sum())


def test_a_complaint_delivered_again_is_released_and_counted_once(zones):
    _pseudonymise(zones, "2025-03-04.csv")
    first = deidentify.release(get_contract("civil_complaints"), zones=zones)
    counted = _monthly_complaints(zones)
    _pseudonymise(zones, "2025-03-04_again.csv")  # the same 600 접수번호 in another file
    again = deidentify.release(get_contract("civil_complaints"), zones=zones)
    assert not again.reused and again.rows == first.rows
    assert again.anonymity["records_in"] == first.anonymity["records_in"] == 600
    assert (first.superseded, again.superseded) == (0, 600)
    assert again.report()["records_superseded_by_later_deliveries"] == 600
    assert deidentify.release(get_contract("civil_complaints"), zones=zones).superseded == 600  # reused, still told
    assert _monthly_complaints(zones) == counted and counted[0] > 500
