"""The fourth dataset on the real LOCALDATA file (../shared/data/real/gyeongnam_lodging_localdata_cp949.csv,
3,467 숙박업 rows of all 경남): read in its own layout, every row in its 시군 through the
행정기관코드 crosswalk, validated, de-identified (no name, phone, address or 관리번호 left),
coordinates in EPSG:5174 and WGS84, and the yearly openings and closures small-cell suppressed."""

import datetime as dt

import duckdb
import pytest

from gn_pipelines.datasets import get_contract
from gn_pipelines.ingest.collect import collect_drop
from gn_pipelines.privacy import deidentify
from gn_pipelines.publish.aggregates import build_aggregate
from gn_pipelines.quality.validate import validate_drop, validated_path

CONTRACT = get_contract("business_licences")
FILE = "gyeongnam_lodging_localdata_cp949.csv"
SECRET = b"test-only-secret-for-business-licences-0123"
SIGUN_ROWS = {"48170": 248, "48220": 267, "48240": 201, "48250": 300, "48270": 128, "48310": 319,
              "48330": 194, "48720": 26, "48730": 54, "48740": 82, "48820": 127, "48840": 160,
              "48850": 85, "48860": 77, "48870": 56, "48880": 78, "48890": 87}  # 창원 (5670000): 978


def _collected(zones, real_data, provider="48000"):
    return collect_drop(real_data / FILE, contract=CONTRACT, provider_code=provider,
                        source_file=f"{provider}/business_licences/{FILE}", content_sha256="0" * 64,
                        zones=zones, collected_at=dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc))


@pytest.fixture
def pseudonymised(zones, real_data):
    collected = _collected(zones, real_data)
    validation = validate_drop(CONTRACT, provider_code="48000", file_name=FILE, zones=zones,
                               rows_rejected_at_collection=collected.rows_rejected, today=dt.date(2025, 3, 1))
    assert (validation.rows_passed, validation.rows_quarantined) == (3467, 0)
    target = deidentify.pseudonymised_path(zones, "business_licences", "48000", FILE)
    outcome = deidentify.deidentify_drop(CONTRACT, source=validated_path(zones, "business_licences", "48000", FILE),
                                         target=target, secret=SECRET, zones=zones)
    assert outcome.target == target and not outcome.residual
    return target


def test_the_localdata_file_is_read_in_its_layout_every_row_in_its_sigun(zones, real_data):
    outcome = _collected(zones, real_data)
    assert (outcome.layout, outcome.encoding, outcome.rows_read, outcome.rows_rejected) == (
        "localdata_standard_file", "cp949", 3467, 0)
    assert outcome.warnings == []  # every 개방자치단체코드 is in the crosswalk
    assert "위생업태명" in outcome.unknown_columns and "" not in outcome.unknown_columns
    by_sigun = dict(duckdb.sql(f"SELECT sigungu_code, count(*) FROM read_parquet('{outcome.collected_path}') "
                               "GROUP BY 1").fetchall())
    assert by_sigun == {**SIGUN_ROWS, "48120": 978}
    dates = duckdb.sql(f"""SELECT count(*) FILTER (WHERE licensed_on IS NULL OR last_modified_at IS NULL
                                                  OR data_updated_on IS NULL),
        count(closed_on), min(licensed_on), max(last_modified_at)
        FROM read_parquet('{outcome.collected_path}')""").fetchall()[0]
    assert dates[0] == 0 and dates[1] == 627  # YYYYMMDD, YYYYMMDDhhmmss and YYYY-MM-DD all parsed
    assert dates[2] == dt.date(1960, 1, 27)


def test_the_columns_of_the_business_type_are_kept_as_delivered(zones, real_data):
    """The spec: columns beyond the common ones differ by business type, keep them. 숙박업's 23
    (위생업태명, 한실수, 양실수 …) stay with their row in `extra_columns`, restricted, never published."""
    import csv
    import io
    import json

    outcome = _collected(zones, real_data)
    with io.StringIO((real_data / FILE).read_bytes().decode("cp949"), newline="") as text:
        delivered = list(csv.DictReader(text))
    kept = duckdb.sql(f"SELECT source_row_number, extra_columns FROM read_parquet('{outcome.collected_path}') "
                      "ORDER BY source_row_number").fetchall()
    assert len(kept) == len(delivered)
    first = json.loads(kept[0][1])
    assert set(first) == set(outcome.unknown_columns) and "위생업태명" in first and "한실수" in first
    for (_, extra), row in zip(kept, delivered):
        assert json.loads(extra) == {k: (row[k].strip() or None) for k in first}
    pseudonymised = deidentify.pseudonymised_path(zones, "business_licences", "48000", FILE)
    validate_drop(CONTRACT, provider_code="48000", file_name=FILE, zones=zones, today=dt.date(2025, 3, 1))
    deidentify.deidentify_drop(CONTRACT, source=validated_path(zones, "business_licences", "48000", FILE),
                               target=pseudonymised, secret=SECRET, zones=zones)
    columns = [c for (c, *_) in duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{pseudonymised}')").fetchall()]
    assert "extra_columns" not in columns  # collected as delivered, never carried past the restricted zone


def test_a_sigun_delivers_its_own_licences_only(zones, real_data):
    _collected(zones, real_data, provider="48170")
    validation = validate_drop(CONTRACT, provider_code="48170", file_name=FILE, zones=zones,
                               today=dt.date(2025, 3, 1))
    assert validation.rows_passed == 0 and validation.rows_quarantined == 3467
    assert validation.quarantined_whole  # 93 % of the rows are other 시군's


def test_an_agency_code_outside_the_crosswalk_is_named_and_its_row_rejected(zones, real_data):
    text = (real_data / FILE).read_bytes().decode("cp949").replace('"5310000","5310000-214-2019-00001"',
                                                                   '"5999999","5310000-214-2019-00001"', 1)
    drop = zones.scratch / "one_unknown.csv"
    drop.write_bytes(text.encode("cp949"))
    outcome = collect_drop(drop, contract=CONTRACT, provider_code="48000", source_file="48000/business_licences/one_unknown.csv",
                           content_sha256="0" * 64, zones=zones, collected_at=dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc))
    assert outcome.rows_read == 3467
    assert any("5999999 (1 rows)" in w for w in outcome.warnings)
    validation = validate_drop(CONTRACT, provider_code="48000", file_name="one_unknown.csv", zones=zones,
                               rows_rejected_at_collection=outcome.rows_rejected, today=dt.date(2025, 3, 1))
    assert validation.rows_quarantined == 1 and not validation.quarantined_whole


def test_the_release_names_no_one_and_keeps_the_coordinates_in_both_systems(zones, pseudonymised):
    released = deidentify.release(CONTRACT, zones=zones)
    assert released.rows == 3467 and not released.residual and released.target is not None
    assert {"business_name", "phone", "lot_address", "road_address", "management_no"} <= set(released.deleted_columns)
    connection = duckdb.connect()
    columns = [c for (c,) in connection.execute(
        f"SELECT name FROM parquet_schema('{released.target}')").fetchall()]
    assert not {"business_name", "phone", "lot_address", "road_address", "management_no", "licence_key"} & set(columns)
    row = connection.execute(f"""SELECT count(*) FILTER (WHERE sigungu_code IS NULL OR sigungu_name IS NULL),
        count(*) FILTER (WHERE longitude IS NULL), count(*) FILTER (WHERE x_epsg5174 IS NULL),
        count(*) FILTER (WHERE coordinates_delivered_in = 'EPSG:4326'), count(eup_myeon_dong),
        count(DISTINCT CASE WHEN sigungu_code LIKE '4812_' THEN sigungu_code END)
        FROM read_parquet('{released.target}')""").fetchone()
    assert row[0] == 0 and row[1] == row[2] == 310 and row[3] == 3467 - 310
    assert row[4] > 3000 and row[5] == 5  # 창원's rows reach their 구 from the address
    # 골든튤립호텔남강 (진주시 동성동, 128.0865 E 35.1917 N as delivered) in EPSG:5174, through PROJ
    x, y, dong = connection.execute(
        f"""SELECT x_epsg5174, y_epsg5174, eup_myeon_dong FROM read_parquet('{released.target}')
            WHERE abs(longitude - 128.086542748487) < 1e-9""").fetchone()
    assert (round(x), round(y), dong) == (298886, 188590, "동성동")


def test_the_yearly_aggregate_counts_openings_and_closures_and_hides_small_cells(zones, pseudonymised):
    connection = duckdb.connect()
    connection.execute(f"CREATE VIEW drops AS SELECT * FROM read_parquet('{pseudonymised}')")
    report = build_aggregate(connection, "business_licences_yearly")
    totals = connection.execute("""SELECT sum(openings), sum(closures), count(*) FILTER (WHERE suppressed),
        count(*) FILTER (WHERE NOT suppressed AND licences < 5) FROM business_licences_yearly""").fetchone()
    everything = connection.execute(f"""SELECT count(*), count(closed_on) FROM read_parquet('{pseudonymised}')""").fetchone()
    assert report.primary > 0 and totals[2] >= report.primary and totals[3] == 0
    published_openings = connection.execute(
        "SELECT sum(openings) FROM business_licences_yearly WHERE NOT suppressed").fetchone()[0]
    assert published_openings <= everything[0]
    assert connection.execute("""SELECT openings, closures FROM business_licences_yearly
        WHERE sigungu_code = '48120' AND status = '폐업' AND NOT suppressed ORDER BY licences DESC LIMIT 1""").fetchone()


def test_every_date_format_localdata_uses_is_read(zones, real_data):
    """The sample's three (YYYYMMDD, YYYYMMDDhhmmss, YYYY-MM-DD) and the full downloads' two more
    (YYYY-MM-DD hh:mm:ss, and a database timestamp with fractions), in date and timestamp columns
    alike (the spec: 인허가일자, 폐업일자 and the rest come as any of the three)."""
    header, first = (real_data / FILE).read_bytes().decode("cp949").splitlines()[:2]
    variant = (first.replace('"20190222"', '"2019-02-22"').replace('"20210607162452"', '"2021-06-07 16:24:52"')
               .replace('"2021-06-09"', '"2021-06-09 02:40:00.0"'))
    with_time = first.replace('"20190222"', '"20190222093000"').replace('"2021-06-09"', '"20210609024000"')
    drop = zones.scratch / "formats.csv"
    drop.write_bytes(f"{header}\n{first}\n{variant.replace('00001', '00002', 1)}\n"
                     f"{with_time.replace('00001', '00003', 1)}\n".encode("cp949"))
    outcome = collect_drop(drop, contract=CONTRACT, provider_code="48000", source_file="48000/business_licences/formats.csv",
                           content_sha256="0" * 64, zones=zones, collected_at=dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc))
    assert (outcome.rows_read, outcome.rows_rejected) == (3, 0)
    rows = duckdb.sql(f"""SELECT DISTINCT licensed_on, last_modified_at, data_updated_on
                          FROM read_parquet('{outcome.collected_path}')""").fetchall()
    assert rows == [(dt.date(2019, 2, 22), dt.datetime(2021, 6, 7, 16, 24, 52), dt.date(2021, 6, 9))]


def test_the_synthetic_localdata_snapshot_reads_like_the_real_one(zones):
    from gn_pipelines.synth import synthesize_drops

    (file,) = synthesize_drops(zones.landing, datasets=["business_licences"], providers=["48000"],
                               start=dt.date(2025, 10, 1), end=dt.date(2025, 10, 31))
    outcome = collect_drop(file.path, contract=CONTRACT, provider_code="48000",
                           source_file=f"48000/business_licences/{file.path.name}", content_sha256="0" * 64,
                           zones=zones, collected_at=dt.datetime(2025, 11, 1, tzinfo=dt.timezone.utc))
    assert (outcome.layout, outcome.encoding, outcome.rows_read, outcome.rows_rejected) == (
        "localdata_standard_file", "cp949", file.rows, 0)
    counts = duckdb.sql(f"""SELECT count(DISTINCT sigungu_code), count(DISTINCT status),
        count(*) FILTER (WHERE x > 1000), count(*) FILTER (WHERE business_name SIMILAR TO '[김이박최정강조윤장임].*')
        FROM read_parquet('{outcome.collected_path}')""").fetchall()[0]
    assert counts[0] == 18 and counts[1] == 3 and counts[2] > 0.8 * file.rows and counts[3] > 0


def test_a_quote_not_doubled_inside_a_field_names_the_records_it_swallowed(zones, real_data):
    """`"골든"튤립호텔남강"`: the reader closes the field lines later, and licence 2 vanished inside
    licence 1's rejected row under a reason that named neither (red team repro_07)."""
    from gn_pipelines.ingest.collect import RUN_ON_QUOTE

    broken = (real_data / FILE).read_bytes().decode("cp949").replace('"골든튤립호텔남강"', '"골든"튤립호텔남강"', 1)
    (zones.scratch / FILE).write_bytes(broken.encode("cp949"))
    outcome = collect_drop(zones.scratch / FILE, contract=CONTRACT, provider_code="48000",
                           source_file=f"48000/business_licences/{FILE}", content_sha256="0" * 64,
                           zones=zones, collected_at=dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc))
    assert (outcome.rows_accepted, outcome.rows_rejected) == (3465, 1)  # of 3,467 licences
    assert outcome.rejections_by_reason.get("unpaired_quote") == 1, outcome.rejections_by_reason
    (reason, raw), = duckdb.sql(f"SELECT reason, raw_values FROM read_parquet('{outcome.rejected_rows_path}')").fetchall()
    assert RUN_ON_QUOTE in reason and "5310000-201-2019-00002" in raw  # the swallowed licence is in the row
    # a well-formed field holding a line break is no such row
    assert "unpaired_quote" not in _collected(zones, real_data).rejections_by_reason
