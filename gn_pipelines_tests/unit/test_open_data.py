"""Open-data exports: Parquet and BOM CSV per published table, catalog.json and index.html."""

from __future__ import annotations

import json
import re

import duckdb
import pandas as pd
import pytest

from gn_pipelines.publish.open_data import Attachment, export_open_data
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
    assert monthly["title_ko"] == "시군별 월별 민원 통계" and "5건 미만" in monthly["privacy_treatment"]
    assert [c["name"] for c in monthly["columns"]][:3] == ["sigungu_code", "sigungu_name", "month"]
    assert monthly["last_updated"].endswith("+09:00")
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
    assert not re.search(r"(src|href)=\"(https?:)?//", page) and "<script" not in page


def test_the_public_copy_of_pseudonymised_records_has_no_linkage_keys(tmp_path):
    from gn_pipelines.publish.tables import published_table

    columns = published_table("welfare_recipients").column_names
    rows = pd.DataFrame([dict.fromkeys(columns, "x") | {"recipient_key": "a1b2c3d4e5f6", "sigungu_code": "48740"}])
    db = tmp_path / "published.duckdb"
    publish(db, {"welfare_recipients": rows})
    result = export_open_data(db, tmp_path / "open")
    with duckdb.connect() as connection:
        exported = [r[0] for r in connection.execute(
            f"DESCRIBE SELECT * FROM read_parquet('{result.open_dir / 'welfare_recipients.parquet'}')").fetchall()]
    assert exported == [c for c in columns if c != "recipient_key"]  # the analysts' table keeps it
    assert "a1b2c3d4e5f6" not in (result.open_dir / "welfare_recipients.csv").read_text(encoding="utf-8-sig")
    entry = next(e for e in result.catalog if e["table_name"] == "welfare_recipients")
    assert entry["withheld_columns"] == ["recipient_key"]
    assert "recipient_key" not in [c["name"] for c in entry["columns"]]
    assert "<code>recipient_key</code>" in (result.open_dir / "index.html").read_text(encoding="utf-8")
