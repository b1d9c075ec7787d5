"""The fourth dataset through real Dagster runs, as `gn-pipelines process` drives them: the real
LOCALDATA file (3,467 숙박업 licences of all 경남) dropped by 48000 is collected, validated,
de-identified, published with every row in its 시군, and exported to open data with its yearly
statistics; a synthetic LOCALDATA snapshot of one 시군 goes the same way."""

import datetime as dt
import json
import shutil

import duckdb

from gn_pipelines.synth import synthesize_drops

FILE = "gyeongnam_lodging_localdata_cp949.csv"


def _published(zones, sql: str):
    with duckdb.connect(str(zones.published_db), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_the_real_localdata_file_is_published_every_row_in_its_sigun_and_opened(zones, process, real_data):
    landed = zones.landing / "48000" / "business_licences" / "숙박업_202207.csv"
    landed.parent.mkdir(parents=True)
    shutil.copyfile(real_data / FILE, landed)
    (synthetic,) = synthesize_drops(zones.landing, datasets=["business_licences"], providers=["48330"],
                                    start=dt.date(2025, 10, 1), end=dt.date(2025, 10, 31))
    lines = process(publish=True)
    assert any("숙박업_202207.csv" in line and "3467" in line for line in lines), lines

    rows = _published(zones, """SELECT count(*), count(*) FILTER (WHERE sigungu_code IS NULL OR sigungu_name IS NULL),
        count(DISTINCT CASE WHEN sigungu_code LIKE '4812_' THEN '48120' ELSE sigungu_code END),
        count(*) FILTER (WHERE service_name = '숙박업'), count(*) FILTER (WHERE status = '폐업')
        FROM business_licences""")[0]
    assert rows[0] == 3467 + synthetic.rows and rows[4] >= 627
    assert rows[1] == 0 and rows[2] == 18  # every row in its 시군, all 18 시군 present
    columns = {c for (c,) in _published(zones, "SELECT column_name FROM duckdb_columns() WHERE table_name = 'business_licences'")}
    assert not {"business_name", "phone", "lot_address", "road_address", "management_no", "licence_key"} & columns
    yearly = _published(zones, """SELECT count(*) FILTER (WHERE NOT suppressed AND licences < 5),
        count(*) FILTER (WHERE NOT suppressed), sum(closures) FILTER (WHERE NOT suppressed)
        FROM business_licences_yearly""")[0]
    assert yearly[0] == 0 and yearly[1] > 0 and yearly[2] > 0
    comment = _published(zones, "SELECT comment FROM duckdb_tables() WHERE table_name = 'business_licences'")[0][0]
    assert "익명정보" in comment

    catalog = {e["table_name"]: e for e in json.loads((zones.open_data / "catalog.json").read_text(encoding="utf-8"))["datasets"]}
    assert catalog["business_licences"]["privacy_class"] == "익명정보"
    assert catalog["business_licences_yearly"]["privacy_class"] == "통계"
    opened = duckdb.sql(f"SELECT count(*), count(DISTINCT sigungu_code) FROM "
                        f"read_parquet('{zones.open_data / 'business_licences.parquet'}')").fetchall()[0]
    assert opened[0] == rows[0] and opened[1] >= 18
