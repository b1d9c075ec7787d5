"""Adding a dataset is one declarative contract: three real public files collected with contracts
written here, through the same collection code (CP949, quoting, trailing columns, odd blanks)."""

import csv
import datetime as dt

import duckdb

from gn_pipelines.contracts import Column, ColumnType as T, DatasetContract, PrivacyClass as P
from gn_pipelines.ingest.collect import collect_drop
from gn_pipelines.reference.providers import CHANGWON_DISTRICTS, PROVIDERS, SIGUN_CODES, provider_of_sigungu

LODGING = DatasetContract(
    name="lodging_licences", title_ko="숙박업 인허가", title_en="Lodging licences", cadence="monthly",
    columns=(
        Column("개방자치단체코드", "office_code", T.CODE, P.NON_PERSONAL, required=True, length=7),
        Column("관리번호", "licence_no", T.TEXT, P.NON_PERSONAL, required=True),
        Column("인허가일자", "licensed_on", T.DATE, P.NON_PERSONAL, required=True),
        Column("영업상태명", "status", T.TEXT, P.NON_PERSONAL, required=True),
        Column("최종수정시점", "modified_at", T.TIMESTAMP, P.NON_PERSONAL),
        Column("데이터갱신일자", "refreshed_on", T.DATE, P.NON_PERSONAL),
        Column("좌표정보(X)", "longitude", T.DECIMAL, P.NON_PERSONAL),
    ),
)
PARKS = DatasetContract(
    name="parks", title_ko="공원 현황", title_en="Parks", cadence="yearly",
    columns=(
        Column("시군명", "sigun_name", T.TEXT, P.NON_PERSONAL, required=True),
        Column("소공원_면적", "small_park_area_m2", T.INTEGER, P.NON_PERSONAL),
        Column("묘지공원_개소", "cemetery_parks", T.INTEGER, P.NON_PERSONAL),
    ),
)


def collect_real(zones, real_data, file_name, contract):
    return collect_drop(real_data / file_name, contract=contract, provider_code="48000",
                        source_file=f"48000/{contract.name}/{file_name}", content_sha256="0" * 64,
                        zones=zones, collected_at=dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc))


def test_real_localdata_lodging_file(zones, real_data):
    outcome = collect_real(zones, real_data, "gyeongnam_lodging_localdata_cp949.csv", LODGING)
    assert (outcome.encoding, outcome.rows_read, outcome.rows_rejected) == ("cp949", 3467, 0)
    assert "소재지전체주소" in outcome.unknown_columns and "" not in outcome.unknown_columns
    rows = duckdb.sql(f"""SELECT count(*) FILTER (WHERE status = '폐업'), min(licensed_on),
        count(*) FILTER (WHERE longitude IS NULL), count(DISTINCT office_code),
        count(*) FILTER (WHERE modified_at IS NULL OR refreshed_on IS NULL)
        FROM read_parquet('{outcome.collected_path}')""").fetchall()
    assert rows[0][0] == 627 and rows[0][1] < dt.date(2000, 1, 1)
    assert rows[0][2] == 310 and rows[0][3] == 18  # blank coordinates; 18 시군 offices
    assert rows[0][4] == 0  # YYYYMMDDhhmmss and YYYY-MM-DD in one file, both parsed


def test_real_parks_file_with_trailing_spaces_in_headers_and_blank_cells(zones, real_data):
    outcome = collect_real(zones, real_data, "gyeongnam_parks_by_sigun_20240731_cp949.csv", PARKS)
    assert (outcome.rows_read, outcome.rows_accepted) == (18, 18)
    rows = dict(duckdb.sql(f"SELECT sigun_name, cemetery_parks FROM read_parquet('{outcome.collected_path}')")
                .fetchall())
    assert rows["창원시"] == 3 and rows["진주시"] is None  # written as two spaces: missing, not 0


LIVING_POPULATION = DatasetContract(
    name="living_population", title_ko="분기별 생활인구 현황", title_en="Quarterly living population",
    cadence="quarterly",
    columns=(
        Column("연도", "year", T.INTEGER, P.NON_PERSONAL, required=True),
        Column("시도군", "area_name", T.TEXT, P.NON_PERSONAL, required=True),
        Column("분기", "quarter", T.TEXT, P.NON_PERSONAL, required=True),
        Column("주중/말", "day_type", T.TEXT, P.NON_PERSONAL, required=True),
        Column("시간대", "time_slot", T.TEXT, P.NON_PERSONAL, required=True),
        Column("성별", "sex", T.TEXT, P.NON_PERSONAL, required=True),
        Column("인구수", "population", T.INTEGER, P.NON_PERSONAL, required=True),
    ),
)


def test_real_living_population_file_whose_changwon_comes_as_its_five_districts(zones, real_data):
    """CP949, LF, every field quoted, a `/` in a header; 창원시 only as its five 구 (22 areas):
    they roll up to the 18 시군 through the reference's names, without double counting."""
    outcome = collect_real(zones, real_data, "gyeongnam_quarterly_living_population_cp949.csv", LIVING_POPULATION)
    assert (outcome.encoding, outcome.rows_read, outcome.rows_accepted) == ("cp949", 1408, 1408)
    assert outcome.unknown_columns == []
    sigungu_of_name = {p.name: p.code for p in PROVIDERS if p.kind != "province"}
    sigungu_of_name |= {f"창원시 {district}": code for code, district in CHANGWON_DISTRICTS.items()}
    connection = duckdb.connect()
    connection.execute("CREATE TABLE mapping (area_name VARCHAR, sigungu_code VARCHAR)")
    connection.executemany("INSERT INTO mapping VALUES (?, ?)", list(sigungu_of_name.items()))
    connection.execute(f"CREATE VIEW collected AS SELECT * FROM read_parquet('{outcome.collected_path}')")
    areas, unmapped, slots, smallest = connection.execute("""SELECT count(DISTINCT area_name),
            count(*) FILTER (WHERE sigungu_code IS NULL), count(DISTINCT (quarter, day_type, time_slot)),
            min(population)
        FROM collected LEFT JOIN mapping USING (area_name)""").fetchone()
    assert (areas, unmapped, slots) == (22, 0, 4 * 2 * 4)
    by_sigun = dict(connection.execute("""SELECT sigungu_code, sum(population)
        FROM collected JOIN mapping USING (area_name) GROUP BY ALL""").fetchall())
    rolled_up: dict[str, int] = {}
    for code, population in by_sigun.items():
        rolled_up[provider_of_sigungu(code)] = rolled_up.get(provider_of_sigungu(code), 0) + population
    assert set(rolled_up) == set(SIGUN_CODES)  # 22 areas, 18 시군
    assert "48120" not in by_sigun and set(CHANGWON_DISTRICTS) <= set(by_sigun)  # no 창원시 total to count twice
    with open(real_data / "gyeongnam_quarterly_living_population_cp949.csv", encoding="cp949", newline="") as raw:
        delivered = [int(row["인구수"]) for row in csv.DictReader(raw)]
    assert sum(rolled_up.values()) == sum(delivered) and smallest == min(delivered)  # every count whole
