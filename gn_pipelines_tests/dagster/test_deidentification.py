"""De-identification through real runs: no direct identifier leaves the restricted zone,
pseudonyms are stable and keyed, the welfare release is k-anonymous and l-diverse (checked
with pycanon), and a planted identifier stops publication."""

import datetime as dt
import json

import dagster as dg
import duckdb
import pytest
from pycanon import anonymity as pycanon

from gn_pipelines.assets.deidentification import RESIDUAL_CHECK, deidentified_asset_key
from gn_pipelines.cli import main as cli_main
from gn_pipelines.privacy.key_custody import key_in_force, key_usage_dir
from gn_pipelines.processing import process_landing
from gn_pipelines.resources import PseudonymKeyResource
from gn_pipelines.synth import synthesize_drops
from gn_pipelines_tests.dagster.conftest import isolated_platform, process_and_publish
from gn_pipelines_tests.drops import csv_bytes, drop, sample_rows

WELFARE_QI = ["reference_month", "sigungu_code", "area", "age_band", "household_size_band", "sex"]
WELFARE_SENSITIVE = ["benefit_type", "amount_band", "disability"]


def _values(parquet_glob: str, columns: list[str]) -> set[str]:
    selects = " UNION ".join(f"SELECT CAST({c} AS VARCHAR) AS v FROM read_parquet('{parquet_glob}', union_by_name = true)"
                             for c in columns)
    return {row[0] for row in duckdb.sql(selects).fetchall() if row[0]}


def _published_text(zones) -> str:
    with duckdb.connect(str(zones.published_db), read_only=True) as connection:
        tables = [r[0] for r in connection.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        return "\n".join(str(connection.execute(f"SELECT * FROM {t}").fetchall()) for t in tables)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    with isolated_platform(tmp_path_factory.mktemp("deidentified") / "data") as (zones, instance):
        synthesize_drops(zones.landing, datasets=["civil_complaints", "welfare_recipients"],
                         providers=["48120", "48740"], start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 2))
        process_and_publish(instance)
        yield zones, instance


@pytest.fixture
def synthetic_platform(synthetic):
    return synthetic[0]


def test_no_direct_identifier_survives_anywhere_downstream(synthetic_platform):
    zones = synthetic_platform
    collected = zones.restricted / "collected"
    identifiers = (_values(str(collected / "civil_complaints" / "*" / "*.parquet"),
                           ["complainant_name", "resident_reg_no", "phone", "address", "receipt_no"])
                   | _values(str(collected / "welfare_recipients" / "*" / "*.parquet"),
                             ["name", "resident_reg_no", "address", "recipient_no"]))
    assert len(identifiers) > 1000
    released = [zones.restricted / "deidentified" / f"{d}.parquet" for d in ("civil_complaints", "welfare_recipients")]
    text = "\n".join(str(duckdb.sql(f"SELECT * FROM read_parquet('{p}')").fetchall()) for p in released)
    text += _published_text(zones)
    for folder in (zones.open_data,):
        text += "\n".join(p.read_text(encoding="utf-8-sig") for p in folder.glob("*.csv"))
    # names are short and may be a substring of ordinary words: check them as whole values
    leaked = sorted(v for v in identifiers if len(v) >= 6 and v in text)
    assert not leaked, leaked[:5]


def test_pseudonyms_are_stable_across_drops_and_datasets_and_one_key_per_data_root(zones, process, instance,
                                                                                  monkeypatch):
    rrn = "850315-1234567"
    drop(zones.landing, "48740/civil_complaints/2025-03-01.csv",
         csv_bytes(sample_rows("civil_complaints", 3, 주민등록번호=rrn)))
    drop(zones.landing, "48740/civil_complaints/2025-03-02.csv",
         csv_bytes(sample_rows("civil_complaints", 2, 주민등록번호=rrn.replace("-", ""))))
    drop(zones.landing, "48740/welfare_recipients/2025-03.csv",
         csv_bytes(sample_rows("welfare_recipients", 2, 시군구코드="48740", 읍면동="남지읍", 주민등록번호=rrn)))
    process()
    pseudonymised = zones.restricted / "pseudonymised"
    complainant = _values(str(pseudonymised / "civil_complaints" / "*" / "*.parquet"), ["complainant_key"])
    recipient = _values(str(pseudonymised / "welfare_recipients" / "*" / "*.parquet"), ["recipient_key"])
    assert len(complainant) == 1 and complainant == recipient  # one person, one key, everywhere
    # another key on the same data root is refused, naming both key ids and the way out
    old_id = key_in_force(zones).key_id
    monkeypatch.setenv("GN_PSEUDONYM_KEY", "another-key-entirely-7d2e-0a1b2c3d4e5f")
    drop(zones.landing, "48740/civil_complaints/2025-03-03.csv",
         csv_bytes(sample_rows("civil_complaints", 2, 주민등록번호=rrn)))
    lines = []
    outcomes = process_landing(instance, echo=lines.append, publish=False)
    [refused] = [o for o in outcomes if not o.success]
    new_id = PseudonymKeyResource().key_id()
    assert old_id in refused.line and new_id in refused.line and "gn-pipelines rekey" in refused.line, refused.line
    assert not (pseudonymised / "civil_complaints" / "48740" / "2025-03-03.csv.parquet").exists()
    # `gn-pipelines rekey` re-pseudonymises everything with the new key, and publishes one release
    assert cli_main(["rekey"]) == 0
    assert key_in_force(zones).key_id == new_id
    process()  # the refused drop now goes through with the key in force
    rekeyed = _values(str(pseudonymised / "civil_complaints" / "*" / "*.parquet"), ["complainant_key"])
    assert len(rekeyed) == 1 and rekeyed.isdisjoint(complainant)  # one person, one new key
    assert {json.loads(p.read_text())["key_id"] for p in pseudonymised.glob("*/*/*.privacy.json")} == {new_id}
    uses = [json.loads(p.read_text()) for p in key_usage_dir(zones).glob("[0-9]*.json")]  # not the view's seed
    assert {u["key_id"] for u in uses} == {old_id, new_id} and all(u["run_id"] and u["stage"] for u in uses)


def test_welfare_release_is_k_anonymous_and_l_diverse_checked_independently(synthetic):
    zones, instance = synthetic
    with duckdb.connect(str(zones.published_db), read_only=True) as connection:
        frame = connection.execute("SELECT * FROM welfare_recipients").df()
    assert len(frame) > 1000
    assert pycanon.k_anonymity(frame, WELFARE_QI) >= 5
    assert pycanon.l_diversity(frame, WELFARE_QI, WELFARE_SENSITIVE) >= 2
    assert (frame["area_level"] == "읍면동").any()  # the area reaches 읍면동 where k allows
    metadata = instance.get_latest_materialization_event(
        deidentified_asset_key("welfare_recipients")).asset_materialization.metadata
    assert metadata["k_reached"].value >= 5 and "records_suppressed" in metadata
    report = metadata["privacy_report"].value
    assert report["anonymity"]["records_in"] == len(frame) + report["anonymity"]["records_suppressed"]
    assert set(report["deleted_columns"]) >= {"name", "resident_reg_no", "address", "recipient_no"}


def test_complaint_release_is_k_anonymous_over_every_contract_quasi_identifier(synthetic):
    zones, instance = synthetic
    with duckdb.connect(str(zones.published_db), read_only=True) as connection:
        frame = connection.execute("SELECT * FROM civil_complaints").df()
    assert len(frame) > 200
    # 접수일시 → month, 시군구코드 and 주소 → area, 주민등록번호 → age and sex, 처리완료일 → days
    quasi = ["received_month", "sigungu_code", "district", "age_band", "sex", "days_to_completion",
             "days_to_completion_band"]
    # pandas drops NULL keys from groups: a NULL is a value here (not completed, no 읍면동)
    assert pycanon.k_anonymity(frame[quasi].astype(object).fillna("NULL"), quasi) >= 5
    report = instance.get_latest_materialization_event(deidentified_asset_key(
        "civil_complaints")).asset_materialization.metadata["privacy_report"].value
    levels = report["anonymity"]["levels"]  # counted from the published values
    assert sum(levels["days to completion"].values()) == len(frame)
    assert set(levels["days to completion"]) <= {"exact days", "days bands", "coarse days bands", "masked"}
    assert levels["area"].get("읍면동", 0) == frame["district"].notna().sum() > 0
    # 창원 rows delivered under 48120 find their 구 and 읍면동 from the address
    assert (frame["sigungu_code"] != "48120").mean() > 0.9
    assert report["information_loss"]["average_class_size"] >= 5
    assert set(report["information_loss"]["generalised_share"]) == {
        "sigungu_code", "eup_myeon_dong", "age_band", "sex", "days_to_completion"}
    # the free text is generalised with its row and the report counts it
    assert report["quasi_identifiers_generalised_in_text"].get("eup_myeon_dong", 0) > 0
    assert report["anonymity"]["k_required"] == 5 and report["anonymity"]["gives_up"]


def test_an_area_finer_than_eup_myeon_dong_falls_to_the_sigungu(zones, process):
    rows = sample_rows("welfare_recipients", 12, 시군구코드="48740", 읍면동="남지읍 신전리")  # a 리
    for i, row in enumerate(rows):  # varied enough to pass k and l as one class
        row["급여종류"] = ("생계급여", "의료급여")[i % 2]
        row["장애여부"] = "YN"[i % 2]
        row["월지급액"] = ("713,102", "212,000")[i % 2]
    rows[0]["읍면동"] = "남지주공아파트"
    drop(zones.landing, "48740/welfare_recipients/2025-03.csv", csv_bytes(rows))
    process(publish=True)
    pseudonymised = _values(str(zones.restricted / "pseudonymised" / "welfare_recipients" / "*" / "*.parquet"),
                            ["eup_myeon_dong"])
    assert pseudonymised == set()  # neither is a 읍면동 of 창녕군 in the reference
    with duckdb.connect(str(zones.published_db), read_only=True) as connection:
        areas = connection.execute("SELECT DISTINCT area, area_level FROM welfare_recipients").fetchall()
    assert areas == [("창녕군", "시군구")]


def test_a_planted_identifier_fails_the_residual_scan_and_blocks_publication(zones, process, instance):
    rows = sample_rows("water_quality", 12)
    drop(zones.landing, "48000/water_quality/20250331_weekly.csv", csv_bytes(rows))
    process(publish=True)
    with duckdb.connect(str(zones.published_db), read_only=True) as connection:
        before = connection.execute("SELECT * FROM water_quality_measurements ORDER BY ALL").fetchall()
    assert before
    # a provider types a contact number into the station name (water has no personal columns,
    # so nothing scrubs it: only the residual scan stands between it and the public); of a
    # station outside the registry, whose names are not checked against it
    for row in rows:
        row["측정소코드"], row["측정소명"] = "2099A01", "임시지점 담당 010-2345-6789"
    drop(zones.landing, "48000/water_quality/20250331_weekly.csv", csv_bytes(rows))
    from gn_pipelines.processing import process_landing

    printed = []
    process_landing(instance, echo=printed.append, publish=True)
    assert any("publish_all: FAILED" in line and RESIDUAL_CHECK in line for line in printed), printed
    check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(deidentified_asset_key("water_quality"), RESIDUAL_CHECK)])
    evaluation = next(iter(check.values())).event.dagster_event.event_specific_data
    assert not evaluation.passed and evaluation.metadata["residual_identifiers"].value == {"phone": 12}
    with duckdb.connect(str(zones.published_db), read_only=True) as connection:
        after = connection.execute("SELECT * FROM water_quality_measurements ORDER BY ALL").fetchall()
    assert after == before  # the published zone is as it was
    assert "010-2345-6789" not in _published_text(zones)
