"""Collection through real Dagster runs, real DuckDB files and real encodings."""

import dagster as dg
import pytest

from gn_pipelines.assets.collection import DROP_ACCEPTED_CHECK, collected_asset_key
from gn_pipelines_tests.conftest import on_both_storages
from gn_pipelines_tests.drops import csv_bytes, drop, sample_rows, xlsx_bytes

pytestmark = on_both_storages

PROVIDER_OF = {"civil_complaints": "48740", "welfare_recipients": "48170", "water_quality": "48000"}
OVERRIDES = {"civil_complaints": {}, "welfare_recipients": {"시군구코드": "48170"}, "water_quality": {}}
FORMATS = {
    "utf8.csv": lambda rows: csv_bytes(rows, "utf-8"),
    "utf8-bom.csv": lambda rows: csv_bytes(rows, "utf-8-sig"),
    "cp949.csv": lambda rows: csv_bytes(rows, "cp949"),
    "excel.xlsx": xlsx_bytes,
}


@pytest.mark.parametrize("dataset", list(PROVIDER_OF))
def test_each_dataset_is_collected_from_every_encoding_and_xlsx(zones, process, warehouse, instance, dataset):
    provider = PROVIDER_OF[dataset]
    for index, (name, encode) in enumerate(FORMATS.items()):
        rows = sample_rows(dataset, 3 + index, **OVERRIDES[dataset])
        drop(zones.landing, f"{provider}/{dataset}/{name}", encode(rows))
    lines = process()
    assert sorted(line.split(": ", 1)[1] for line in lines if dataset in line) == sorted(
        f"{3 + i} rows accepted, 0 rows rejected; {3 + i} rows passed, 0 quarantined; failed checks: none"
        for i in range(4))
    assert warehouse(f"SELECT source_file, count(*) FROM collected_{dataset} GROUP BY 1 ORDER BY 1") == sorted(
        (f"{provider}/{dataset}/{name}", 3 + i) for i, name in enumerate(FORMATS))
    assert warehouse("SELECT DISTINCT encoding FROM drop_log WHERE dataset = ? ORDER BY 1", dataset) == [
        ("cp949",), ("utf-8-sig",), ("utf_8",), ("xlsx",)]
    # one partition (the delivery month: these names state none, so the month they landed) and
    # one run for the four files; the asset's table has a row per file
    [month] = instance.get_dynamic_partitions(f"{dataset}_months")
    assert instance.get_materialized_partitions(collected_asset_key(dataset)) == {month}
    metadata = instance.get_latest_materialization_event(collected_asset_key(dataset)).asset_materialization.metadata
    assert {f["source_file"]: f["status"] for f in metadata["files"].value} == {
        f"{provider}/{dataset}/{name}": "collected" for name in FORMATS}
    assert metadata["files_collected"].value == 4 and all(name in metadata["per_file"].value for name in FORMATS)


def test_same_bytes_dropped_twice_load_once(zones, process, warehouse):
    payload = csv_bytes(sample_rows("civil_complaints", 4))
    drop(zones.landing, "48740/civil_complaints/2025-03-01.csv", payload)
    process()
    drop(zones.landing, "48740/civil_complaints/2025-03-01.csv", payload)  # re-uploaded
    drop(zones.landing, "48740/civil_complaints/2025-03-01 (1).csv", payload)  # and copied
    lines = process()
    assert lines[0] == "1 file(s) skipped: already loaded or rejected earlier with the same bytes"
    assert not any("accepted" in line for line in lines), lines
    assert warehouse("SELECT count(*) FROM collected_civil_complaints") == [(4,)]
    # the copy is a delivery too: recorded, not loaded again
    assert warehouse("SELECT status, reason FROM drop_status WHERE source_file LIKE '%(1).csv'") == [(
        "duplicate", "the same bytes as 48740/civil_complaints/2025-03-01.csv, already delivered by this "
                     "provider: loaded once")]


def test_corrected_file_replaces_its_rows(zones, process, warehouse):
    drop(zones.landing, "48740/civil_complaints/2025-03-01.csv", csv_bytes(sample_rows("civil_complaints", 5)))
    drop(zones.landing, "48740/civil_complaints/2025-03-02.csv", csv_bytes(sample_rows("civil_complaints", 2)))
    process()
    corrected = sample_rows("civil_complaints", 3, 처리상태="처리중", 처리완료일="")
    drop(zones.landing, "48740/civil_complaints/2025-03-01.csv", csv_bytes(corrected))
    assert process()[-1].startswith("48740/civil_complaints/2025-03-01.csv: 3 rows accepted, 0 rows rejected;")
    assert warehouse("SELECT source_file, status, count(*) FROM collected_civil_complaints GROUP BY ALL ORDER BY 1") == [
        ("48740/civil_complaints/2025-03-01.csv", "처리중", 3), ("48740/civil_complaints/2025-03-02.csv", "처리완료", 2)]
    # both versions stay in the archive and the drop log
    assert warehouse("SELECT count(DISTINCT content_sha256) FROM drop_log WHERE file_name = '2025-03-01.csv'") == [(2,)]
    assert len(list(zones.archive.rglob("*.csv"))) == 3
    assert warehouse("SELECT source_file, rows_accepted FROM drop_status ORDER BY 1") == [
        ("48740/civil_complaints/2025-03-01.csv", 3), ("48740/civil_complaints/2025-03-02.csv", 2)]


def test_partial_file_is_ignored_until_complete(zones, process, warehouse):
    part = zones.landing / "48740/civil_complaints/2025-03-01.csv.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(csv_bytes(sample_rows("civil_complaints", 2)))
    assert not any("2025-03-01" in line for line in process())
    part.rename(part.with_suffix(""))
    assert process()[-1].startswith("48740/civil_complaints/2025-03-01.csv: 2 rows accepted, 0 rows rejected;")


def test_rows_of_another_sigungu_are_rejected_row_by_row(zones, process, warehouse):
    rows = sample_rows("civil_complaints", 6)
    rows[2]["시군구코드"] = "48170"
    rows[4]["시군구코드"] = "48121"  # a 창원 district: not 창녕's
    drop(zones.landing, "48740/civil_complaints/a.csv", csv_bytes(rows))
    process()
    assert warehouse("SELECT count(*) FROM collected_civil_complaints") == [(4,)]
    assert warehouse("SELECT source_row_number, reason_codes FROM rejected_rows ORDER BY 1") == [
        (4, ["other_provider_code:sigungu_code"]), (6, ["other_provider_code:sigungu_code"])]


REJECTIONS = [
    ("99999/civil_complaints/a.csv", "valid", "unknown provider folder"),
    ("48740/parking/a.csv", "valid", "unknown dataset folder"),
    ("48740/civil_complaints/a.txt", "valid", "unknown file type"),
    ("48740/civil_complaints/empty.csv", "empty", "empty"),
    ("48740/civil_complaints/binary.csv", "undecodable", "neither valid UTF-8 nor CP949"),
    ("48740/civil_complaints/headers.csv", "no_headers", "required headers missing"),
]
PAYLOADS = {
    "valid": csv_bytes(sample_rows("civil_complaints", 1)),
    "empty": b"",
    "undecodable": bytes(range(0x80, 0x100)) * 8,
    "no_headers": "이름,전화\r\n홍길동,010-0000-0000\r\n".encode("cp949"),
}


def test_every_rejection_case_is_recorded_with_its_reason(zones, process, warehouse, instance):
    for relative, payload, _ in REJECTIONS:
        drop(zones.landing, relative, PAYLOADS[payload])
    lines = process()
    for relative, _, reason in REJECTIONS:
        assert any(line.startswith(relative) and "rejected" in line and reason in line for line in lines), lines
    recorded = dict(warehouse("SELECT source_file, reason FROM drop_rejections"))
    assert set(recorded) == {relative for relative, _, _ in REJECTIONS}
    for relative, _, reason in REJECTIONS:
        assert reason in recorded[relative]
    # every rejected file is kept in the archive and in the landing zone
    # content-addressed: the three "valid" payloads share a copy per extension (.csv, .txt)
    assert len(list(zones.archive.rglob("*.*"))) == 5
    assert all((zones.landing / relative).exists() for relative, _, _ in REJECTIONS)
    assert warehouse("SELECT count(*) FROM collected_civil_complaints") == [(0,)]
    # content-level rejections fail the blocking check on their partition, naming each file
    check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(collected_asset_key("civil_complaints"), DROP_ACCEPTED_CHECK)])
    evaluation = next(iter(check.values())).event.dagster_event.event_specific_data
    assert evaluation.passed is False and evaluation.metadata["rejected"].value == 2
    for relative in ("48740/civil_complaints/binary.csv", "48740/civil_complaints/headers.csv"):
        assert relative in evaluation.metadata["rejected_files"].value
    assert "required headers missing" in evaluation.metadata["rejected_files"].value


def test_real_nier_export_dropped_as_water_quality(zones, process, warehouse, instance, real_data):
    # The 물환경정보시스템 export as downloaded (two header rows, months × parameters) is collected:
    # 2 stations × 3 months, stations outside the province's registry keyed by name and reported.
    payload = (real_data / "nier_wq_download_hangang_tributaries_2025_cp949.csv").read_bytes()
    relative = "48000/water_quality/도시의_수질현황_20250906112341.csv"
    drop(zones.landing, relative, payload)
    [line] = [line for line in process() if line.startswith(relative)]
    assert line.startswith(f"{relative}: 6 rows accepted, 0 rows rejected; 6 rows passed, 0 quarantined"), line
    assert "; warnings: 2 station(s) outside the province's station registry" in line
    [(status, encoding)] = warehouse("SELECT status, encoding FROM drop_log WHERE dataset = 'water_quality'")
    assert (status, encoding) == ("collected", "cp949")
    collected = warehouse("SELECT station_name, basin, strftime(measured_on, '%Y-%m-%d'), bod_mg_l, tp_mg_l, "
                          "total_coliform_100ml, station_code LIKE 'NM-%' FROM validated_water_quality "
                          "WHERE source_file = ? ORDER BY ALL", relative)
    assert collected[:3] == [("공촌천", "한강", "2025-03-15", 2.5, 0.097, 13000.0, True),
                             ("공촌천", "한강", "2025-04-15", 2.6, 0.196, 2200.0, True),
                             ("공촌천", "한강", "2025-05-15", 3.2, 0.128, 1700.0, True)]
    assert [row[0] for row in collected[3:]] == ["장수천1"] * 3
    assert warehouse("SELECT count(*) FROM quarantine_water_quality WHERE source_file = ?", relative) == [(0,)]
    event = instance.get_latest_materialization_event(collected_asset_key("water_quality"))
    metadata = event.asset_materialization.metadata
    [file] = metadata["files"].value
    assert file["layout"] == "nier_table_export"
    warnings = metadata["warnings"].value
    assert f"{relative}: 2 station(s) outside the province's station registry" in warnings
    assert "한강/한강서해/한강서해/공촌천 → NM-" in warnings and "장수천1 → NM-" in warnings
    assert "전기전도도 EC (μS/cm)" in file["unknown_columns"]
