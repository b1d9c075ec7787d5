"""Open-data exports: Parquet and BOM CSV per published table, catalog.json and index.html."""

from __future__ import annotations

import json
import random
import re
from dataclasses import replace

import duckdb
import pandas as pd
import pytest

from gn_pipelines.publish.open_data import Attachment, export_open_data
from gn_pipelines.publish.tables import PUBLIC_K, PUBLISHED_TABLES, published_table
from gn_pipelines.publish.warehouse import publish

COMPLAINTS_MONTHLY = pd.DataFrame({
    "sigungu_code": ["48740", "48740", "48120"], "sigungu_name": ["창녕군", "창녕군", "창원시"],
    "month": ["2025-03"] * 3, "category": ["환경·위생", "복지", "도로·교통"],
    "complaints": [12, None, 40], "completed": [10, None, 33], "completion_rate": [0.83, None, 0.825],
    "median_days_to_completion": [3.0, None, 4.0], "p90_days_to_completion": [9.0, None, 12.0],
    "suppressed": [False, True, False], "suppression": [None, "primary", None]})
SCORECARD = pd.DataFrame({
    "provider_code": ["48740"], "provider_name": ["창녕군"], "dataset": ["civil_complaints"], "month": ["2025-03"],
    "files_on_time": [30], "files_late": [1], "rows_accepted": [1200], "rows_quarantined": [3],
    "files_quarantined": [0], "top_failed_checks": ["접수일시 형식, 처리상태 값"]})


@pytest.fixture
def export(tmp_path):
    db = tmp_path / "warehouse" / "published.duckdb"
    publish(db, {"civil_complaints_monthly": COMPLAINTS_MONTHLY, "provider_scorecard": SCORECARD})
    chart = tmp_path / "namji_chart.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "open").mkdir()
    (tmp_path / "open" / ".catalog.json.tmp-killed").write_text("{")  # left by a killed export
    with duckdb.connect(str(db), read_only=True):  # an analyst holds the file open meanwhile
        result = export_open_data(db, tmp_path / "open", attachments={
            "provider_scorecard": [Attachment(chart, "남지 수질 추이 그림")]})
    return db, result


def test_every_published_table_has_parquet_and_an_excel_ready_csv(export):
    db, result = export
    for table in ("civil_complaints_monthly", "provider_scorecard", "data_catalog"):
        raw = (result.open_dir / f"{table}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") and not raw[3:].startswith(b"\xef\xbb\xbf")
        header = raw[3:].decode("utf-8").splitlines()[0]
        with duckdb.connect(str(db), read_only=True) as connection:
            expected = connection.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
            columns = [r[0] for r in connection.execute(f"DESCRIBE {table}").fetchall()]
            from_parquet = connection.execute(
                f"SELECT * FROM read_parquet('{result.open_dir / (table + '.parquet')}') ORDER BY ALL").fetchall()
            csv_rows = connection.execute(
                f"SELECT count(*) FROM read_csv('{result.open_dir / (table + '.csv')}', header = true)").fetchone()[0]
        assert header.split(",") == columns
        assert from_parquet == expected and csv_rows == len(expected)
    text = (result.open_dir / "civil_complaints_monthly.csv").read_text(encoding="utf-8-sig")
    assert "창녕군,2025-03,복지,,,,,,true,primary" in text


def test_catalog_json_describes_each_dataset_with_working_links(export):
    _, result = export
    catalog = json.loads((result.open_dir / "catalog.json").read_text(encoding="utf-8"))
    assert catalog["licence"] == "공공누리 제1유형"
    entries = {d["table_name"]: d for d in catalog["datasets"]}
    assert list(entries) == ["civil_complaints_monthly", "provider_scorecard", "data_catalog"]
    monthly = entries["civil_complaints_monthly"]
    assert monthly["row_count"] == 3 and monthly["providers"] == "48120 창원시, 48740 창녕군"
    assert monthly["title_ko"] == "시군별 월별 민원 통계" and "민원인 5명 미만" in monthly["privacy_treatment"]
    assert [c["name"] for c in monthly["columns"]][:3] == ["sigungu_code", "sigungu_name", "month"]
    assert monthly["last_updated"].endswith("+09:00")
    assert {e["table_name"]: e["privacy_class"] for e in entries.values()} == {
        "civil_complaints_monthly": "통계", "provider_scorecard": "통계", "data_catalog": "익명정보"}
    for entry in entries.values():
        for link in entry["downloads"] + entry["attachments"]:
            assert (result.open_dir / link["href"]).is_file()
    assert entries["provider_scorecard"]["attachments"] == [{"title": "남지 수질 추이 그림", "href": "namji_chart.png"}]
    assert [r["table_name"] for r in result.catalog_rows] == list(entries)
    assert not list(result.open_dir.glob(".*tmp-*"))


def test_index_page_lists_the_datasets_in_korean_without_external_assets(export):
    _, result = export
    page = (result.open_dir / "index.html").read_text(encoding="utf-8")
    assert '<html lang="ko">' in page and "공공누리 제1유형" in page
    for table in ("civil_complaints_monthly", "provider_scorecard", "data_catalog"):
        assert f'href="{table}.csv"' in page and f'href="{table}.parquet"' in page
    assert "시군별 월별 민원 통계" in page and 'href="catalog.json"' in page
    assert page.count('<strong class="privacy-class">통계</strong>') == 2
    assert page.count('<strong class="privacy-class">익명정보</strong>') == 1
    assert not re.search(r"(src|href)=\"(https?:)?//", page) and "<script" not in page


def complaints(rows: int = 600, seed: int = 11) -> pd.DataFrame:
    """A 가명정보 complaints table as published: keys, quasi-identifiers, free text."""
    rng = random.Random(seed)
    pick = lambda *values: [rng.choice(values) for _ in range(rows)]  # noqa: E731
    return pd.DataFrame({
        "complaint_key": [f"{rng.getrandbits(256):064x}" for _ in range(rows)],
        "complainant_key": [f"{rng.getrandbits(256):064x}" for _ in range(rows)],
        "received_month": pick("2025-02", "2025-03"), "sigungu_code": pick("48740", "48720", "48121"),
        "sigungu_name": "x", "district": pick("남지읍", "창녕읍", None, "부곡면"),
        "category": pick("환경·위생", "복지", "도로·교통"), "status": pick("처리완료", "처리중"),
        "days_to_completion": (days := [rng.choice([None, rng.randint(0, 20)]) for _ in range(rows)]),
        "days_to_completion_band": [None if d is None else f"{d:02d}" for d in days],
        "age_band": pick("30-34", "35-39", "70-74", "85+"), "sex": pick("남", "여"),
        "title": [f"민원 제목 {i}" for i in range(rows)], "body": [f"저는 [읍면동]에 사는 주민 {i}입니다" for i in range(rows)]}
    )


QUASI_IDENTIFIERS = ["received_month", "sigungu_code", "district", "days_to_completion",
                     "days_to_completion_band", "age_band", "sex"]


@pytest.fixture
def opened_records(tmp_path):
    welfare_columns = published_table("welfare_recipients").column_names
    rng = random.Random(3)
    welfare = pd.DataFrame([dict.fromkeys(welfare_columns, "x") | {
        "recipient_key": f"{rng.getrandbits(256):064x}", "sigungu_code": "48740", "sigungu_name": "창녕군",
        "reference_month": "2025-03", "area": rng.choice(["남지읍", "창녕읍"]), "area_level": "읍면동",
        "age_band": rng.choice(["30-39", "40-49"]), "benefit_type": rng.choice(["생계", "의료"]),
        "amount_band": rng.choice(["0000-0300k", "0300-0600k"]), "disability": rng.choice(["Y", "N"])}
        for _ in range(60)])
    db = tmp_path / "published.duckdb"
    frame = complaints()
    publish(db, {"civil_complaints": frame, "welfare_recipients": welfare,
                 "civil_complaints_monthly": COMPLAINTS_MONTHLY})
    return frame, export_open_data(db, tmp_path / "open")


def test_record_level_open_data_is_anonymous_k10_without_keys_or_text(opened_records):
    frame, result = opened_records
    opened = pd.read_parquet(result.open_dir / "civil_complaints.parquet")
    # the category is withheld too: counted with it, the rows would give back suppressed monthly cells
    assert list(opened.columns) == [c for c in frame.columns if c not in
                                    ("complaint_key", "complainant_key", "title", "body", "category")]
    sizes = opened.groupby(QUASI_IDENTIFIERS, dropna=False).size()
    assert sizes.min() >= PUBLIC_K == 10
    entry = next(e for e in result.catalog if e["table_name"] == "civil_complaints")
    risk = entry["disclosure_risk"]
    assert entry["privacy_class"] == "익명정보" and entry["source_privacy_class"] == "가명정보"
    assert "가명정보" not in entry["title_ko"] and entry["title_ko"] == "민원 접수 현황(익명정보)"
    assert risk["k_reached"] == sizes.min() and risk["records_out"] == len(opened)
    assert risk["records_in"] == len(frame) == len(opened) + risk["records_suppressed"]
    assert risk["max_reidentification_risk"] == round(1 / sizes.min(), 4)
    assert risk["average_reidentification_risk"] == round(len(sizes) / len(opened), 4)
    assert set(opened.sigungu_code.dropna()) <= {"48740", "48720", "48121", "48120", "48000"}
    welfare = pd.read_parquet(result.open_dir / "welfare_recipients.parquet")
    assert "recipient_key" not in welfare.columns and "sex" not in welfare.columns
    assert welfare.groupby(["reference_month", "sigungu_code", "area", "age_band", "household_size_band"],
                           dropna=False).size().min() >= 10
    welfare_risk = next(e for e in result.catalog if e["table_name"] == "welfare_recipients")["disclosure_risk"]
    assert "sex" in welfare_risk["withheld_columns"] and "sex" not in welfare_risk["quasi_identifiers"]
    page = (result.open_dir / "index.html").read_text(encoding="utf-8")
    assert "<code>recipient_key</code>" in page and "최대 재식별 위험" in page


def test_a_rare_category_of_a_few_complainants_cannot_be_counted_from_the_open_copy(tmp_path):
    """Three complainants of a rare category in one 군 and month: civil_complaints_monthly
    suppresses that cell. The open copy kept them in classes of ten (the category is no
    quasi-identifier), so counting its rows by 시군 × month × category gave the 3 back."""
    frame = complaints(rows=900, seed=5)
    rare = frame[(frame.sigungu_code == "48740") & (frame.received_month == "2025-03")].head(3).index
    frame.loc[rare, "category"] = "문화·관광"
    publish(tmp_path / "published.duckdb", {"civil_complaints": frame, "civil_complaints_monthly": COMPLAINTS_MONTHLY})
    export_open_data(tmp_path / "published.duckdb", tmp_path / "open")
    opened = pd.read_parquet(tmp_path / "open" / "civil_complaints.parquet")
    assert len(opened) == len(frame)  # every complaint is there, in classes of ten
    assert "문화·관광" not in opened.astype(str).to_csv(index=False)
    assert "문화·관광" not in (tmp_path / "open" / "civil_complaints.csv").read_text(encoding="utf-8-sig")


def test_a_quasi_identifier_withheld_in_part_is_refused(tmp_path):
    """Withholding `district` alone would publish the area ladder's 시군 without its generalisation."""
    from gn_pipelines.publish.open_data import _public_release

    table = published_table("civil_complaints")
    publish(tmp_path / "published.duckdb", {"civil_complaints": complaints(rows=60)})
    with duckdb.connect() as connection:
        connection.execute(f"ATTACH '{tmp_path / 'published.duckdb'}' AS published (READ_ONLY)")
        with pytest.raises(ValueError, match="area withheld in part only"):
            _public_release(connection, replace(table, open_data_withheld=(*table.open_data_withheld, "district")))


def test_open_data_holds_only_anonymous_information_and_statistics(opened_records):
    """Scan every file in open/: no pseudonymous key, no free text, every entry 익명정보 or 통계."""
    frame, result = opened_records
    catalog = json.loads((result.open_dir / "catalog.json").read_text(encoding="utf-8"))
    assert {d["privacy_class"] for d in catalog["datasets"]} <= {"익명정보", "통계"}
    listed = {d["href"] for e in catalog["datasets"] for d in e["downloads"] + e["attachments"]}
    secrets = set(frame.complaint_key) | set(frame.complainant_key) | set(frame.title) | set(frame.body)
    for path in result.open_dir.iterdir():
        assert path.name in listed | {"catalog.json", "index.html"}, path
        text = path.read_text(encoding="utf-8-sig") if path.suffix != ".parquet" else None
        if path.suffix == ".parquet":
            table = pd.read_parquet(path)
            assert not [c for c in table.columns if c.endswith("_key") or c in ("title", "body")], path
            text = table.to_csv(index=False)
        assert not re.search(r"\b[0-9a-f]{64}\b", text), path  # no HMAC pseudonym anywhere
        assert not [s for s in secrets if s in text], path


def test_every_table_declares_a_class_and_only_anonymous_ones_open():
    for table in PUBLISHED_TABLES:
        assert table.privacy_class in ("가명정보", "익명정보", "통계"), table.name
        assert table.open_privacy_class in ("익명정보", "통계", None), table.name
        if table.privacy_class == "가명정보":
            assert table.public_release is not None and table.public_release.k >= 10
            text = [c.name for c in table.columns if c.name in ("title", "body") or c.name.endswith("_key")]
            assert set(text) <= set(table.open_data_withheld), table.name
    with pytest.raises(ValueError, match="privacy_class"):
        replace(published_table("civil_complaints"), privacy_class="개인정보")


def test_table_comments_state_the_privacy_class(opened_records, tmp_path):
    with duckdb.connect(str(tmp_path / "published.duckdb"), read_only=True) as connection:
        comments = dict(connection.execute("SELECT table_name, comment FROM duckdb_tables()").fetchall())
        catalog = dict(connection.execute("SELECT table_name, privacy_class FROM data_catalog").fetchall())
    assert comments["civil_complaints"].startswith("[가명정보] 민원 접수 현황")
    assert comments["civil_complaints_monthly"].startswith("[통계] ")
    assert catalog == {"civil_complaints": "가명정보", "civil_complaints_monthly": "통계",
                       "welfare_recipients": "가명정보", "data_catalog": "익명정보"}


def test_the_open_data_catalog_describes_the_open_copies_only(opened_records, tmp_path, monkeypatch):
    """The open `data_catalog` said "민원 접수 현황(가명정보)" with complaint_key, complainant_key,
    title and body, where catalog.json and the portal describe the open copy; a table kept from
    the public (here welfare made 가명정보 without a public release) had its row there too."""
    _, result = opened_records
    opened = pd.read_parquet(result.open_dir / "data_catalog.parquet").set_index("table_name")
    entries = {e["table_name"]: e for e in json.loads((result.open_dir / "catalog.json").read_text())["datasets"]}
    assert list(opened.index) == list(entries)
    complaints_row = opened.loc["civil_complaints"]
    assert complaints_row["title_ko"] == entries["civil_complaints"]["title_ko"] == "민원 접수 현황(익명정보)"
    assert complaints_row["privacy_class"] == "익명정보"
    assert [c["name"] for c in json.loads(complaints_row["columns"])] == [c["name"] for c in entries["civil_complaints"]["columns"]]
    assert not {"complaint_key", "complainant_key", "title", "body"} & {c["name"] for c in json.loads(complaints_row["columns"])}
    import gn_pipelines.publish.open_data as open_data  # welfare_recipients no longer opened
    monkeypatch.setattr(open_data, "OPEN_DATA_TABLES",
                        [t for t in open_data.OPEN_DATA_TABLES if t.name != "welfare_recipients"])
    again = export_open_data(tmp_path / "published.duckdb", tmp_path / "open2")
    assert "welfare_recipients" not in set(pd.read_parquet(again.open_dir / "data_catalog.parquet")["table_name"])
