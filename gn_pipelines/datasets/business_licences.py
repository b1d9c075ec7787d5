"""인허가 업소 (business licences): the 지방행정 인허가 data of LOCALDATA (localdata.go.kr, one layout
for its 440 business types), delivered by 48000 for the whole province or by a 시군 for its own.

As LOCALDATA delivers it (a real one: ../shared/data/real/gyeongnam_lodging_localdata_cp949.csv):
CP949, every field quoted, an empty last column, the local government as a 7-digit 행정기관코드
(`개방자치단체코드`, 5310000 = 진주시) that the crosswalk in reference/data turns into the 시군 code,
dates as YYYYMMDD, YYYY-MM-DD and YYYYMMDDhhmmss in one file, coordinates in EPSG:5174 (some
exports carry WGS84 longitude and latitude instead: told apart by their range).

Privacy: a licence belongs to a business, but a sole proprietor's business is a person's: its
name (사업장명) often is the owner's name (홍길동민박), its phone can be the owner's mobile and its
address the owner's home. So the name, phone, addresses and 관리번호 (which looks the named record
up in LOCALDATA) are deleted, and the published record names no one itself: 익명정보 (업종, 시군,
읍면동, status, dates, floor area, the premises' coordinates). With LOCALDATA beside it, its
coordinates (or its 업종, 읍면동 and dates) find the same licence there, under its name: LOCALDATA
publishes that record whole, and nothing published here adds to it.
"""

from gn_pipelines.contracts.layouts import CodedTableLayout, CodeLookup
from gn_pipelines.contracts.model import (
    Column, ColumnType as T, DatasetContract, PrivacyClass as P, QualityRule, RuleKind, Severity,
)
from gn_pipelines.contracts.published import (
    ANONYMOUS, CHANGWON_SIGUN, STATISTICS, PortalListing, PublishedTable, described, everything_but,
    sigungu_columns, suppression_columns,
)
from gn_pipelines.contracts.recipes import (
    AREA_NAMES, GENERALISED, KEPT, PSEUDONYMISED, SMALL_CELL_THRESHOLD, Derived, Recipe, Release, dong_in_address,
    known_eup_myeon_dong, sigungu_of,
)
from gn_pipelines.datasets.model import Aggregate, Dataset

# The layout as downloaded from LOCALDATA: its own headers, the 시군 looked up from 개방자치단체코드.
LOCALDATA_EXPORT = CodedTableLayout(
    name="localdata_standard_file",
    title="LOCALDATA 지방행정 인허가 standard file",
    signature_headers=("개방서비스명", "개방자치단체코드", "관리번호", "영업상태명"),
    absent_headers=("시군구코드",),  # a file carrying it is the contract's own table (a 시군's)
    code=CodeLookup(
        target="sigungu_code", reference="admin_agency_codes_gyeongnam", code_column="sigungu_code",
        match=(("개방자치단체코드", "agency_code"),), key_from=("개방자치단체코드",), key_prefix=None,
        unknown="개방자치단체코드 outside the 행정기관코드 crosswalk (reference/data/admin_agency_codes_gyeongnam.csv)"),
)

# 영업상태명 as LOCALDATA writes it (영업상태구분코드 01-05)
STATUSES = ("영업/정상", "휴업", "폐업", "취소/말소/만료/정지/중지", "제외/삭제/전출")

CONTRACT = DatasetContract(
    name="business_licences",
    title_ko="인허가 업소 현황",
    title_en="Business licences (LOCALDATA)",
    cadence="monthly",
    providers=None,  # 48000 for the province, or a 시군 for its own licences
    # rows carry the 행정기관코드, not the provider's code: the rule below checks the looked-up 시군
    provider_code_column=None,
    unique_within_provider=(("agency_code", "management_no"),),
    columns=(
        Column("개방서비스명", "service_name", T.TEXT, P.NON_PERSONAL, required=True,
               description="업종 (business type of LOCALDATA, e.g. 숙박업)"),
        Column("개방서비스ID", "service_id", T.TEXT, P.NON_PERSONAL),
        Column("개방자치단체코드", "agency_code", T.CODE, P.NON_PERSONAL, required=True, length=7,
               description="행정기관코드 of the licensing local government"),
        Column("시군구코드", "sigungu_code", T.CODE, P.QUASI_IDENTIFIER, required=True, length=5,
               description="from 개방자치단체코드 through the crosswalk when delivered by LOCALDATA"),
        Column("관리번호", "management_no", T.TEXT, P.DIRECT_IDENTIFIER, required=True,
               description="looks the named record up in LOCALDATA: pseudonymised, never published"),
        Column("인허가일자", "licensed_on", T.DATE, P.NON_PERSONAL, required=True),
        Column("인허가취소일자", "licence_cancelled_on", T.DATE, P.NON_PERSONAL),
        Column("영업상태구분코드", "status_code", T.TEXT, P.NON_PERSONAL),
        Column("영업상태명", "status", T.TEXT, P.NON_PERSONAL, required=True),
        Column("상세영업상태코드", "detailed_status_code", T.TEXT, P.NON_PERSONAL),
        Column("상세영업상태명", "detailed_status", T.TEXT, P.NON_PERSONAL),
        Column("폐업일자", "closed_on", T.DATE, P.NON_PERSONAL),
        Column("휴업시작일자", "suspended_from", T.DATE, P.NON_PERSONAL),
        Column("휴업종료일자", "suspended_until", T.DATE, P.NON_PERSONAL, may_be_future=True),
        Column("재개업일자", "reopened_on", T.DATE, P.NON_PERSONAL),
        Column("소재지전화", "phone", T.TEXT, P.DIRECT_IDENTIFIER, description="may be the owner's mobile"),
        Column("소재지면적", "floor_area_m2", T.DECIMAL, P.NON_PERSONAL, min_value=0),
        Column("소재지우편번호", "lot_postcode", T.TEXT, P.DIRECT_IDENTIFIER),
        Column("소재지전체주소", "lot_address", T.TEXT, P.DIRECT_IDENTIFIER,
               description="may be the owner's home: only its 읍면동 is kept"),
        Column("도로명전체주소", "road_address", T.TEXT, P.DIRECT_IDENTIFIER),
        Column("도로명우편번호", "road_postcode", T.TEXT, P.DIRECT_IDENTIFIER),
        Column("사업장명", "business_name", T.TEXT, P.DIRECT_IDENTIFIER,
               description="a sole proprietor's business is often named after the owner: deleted"),
        Column("최종수정시점", "last_modified_at", T.TIMESTAMP, P.NON_PERSONAL),
        Column("데이터갱신구분", "update_type", T.TEXT, P.NON_PERSONAL),
        Column("데이터갱신일자", "data_updated_on", T.DATE, P.NON_PERSONAL),
        Column("업태구분명", "business_type", T.TEXT, P.NON_PERSONAL),
        Column("좌표정보(X)", "x", T.DECIMAL, P.NON_PERSONAL, bare_header_match=False,
               description="EPSG:5174 easting as LOCALDATA delivers it (or WGS84 longitude)"),
        Column("좌표정보(Y)", "y", T.DECIMAL, P.NON_PERSONAL, bare_header_match=False,
               description="EPSG:5174 northing as LOCALDATA delivers it (or WGS84 latitude)"),
    ),
    layouts=(LOCALDATA_EXPORT,),
    keeps_extra_columns=True,  # the spec: columns beyond the common ones differ by business type
    rules=(
        QualityRule(
            "own_sigungu_or_province", RuleKind.HOLDS, ("sigungu_code",),
            "a 시군 delivers its own licences only; 48000 delivers the whole province's",
            sql="list_contains($provider_codes, sigungu_code) OR list_contains($provider_codes, '48000')"),
        QualityRule(
            "status_known", RuleKind.IN_SET, ("status",),
            "영업상태명 is one of LOCALDATA's five", severity=Severity.WARN, values=STATUSES),
        QualityRule(
            "closed_not_before_licensed", RuleKind.NOT_BEFORE, ("closed_on", "licensed_on"),
            "폐업일자 is not before 인허가일자", severity=Severity.WARN),
    ),
)

# LOCALDATA's coordinates are EPSG:5174 (Korean 1985 / Modified Central Belt, metres); some exports
# (the sample above) carry WGS84 degrees instead, which no 경남 EPSG:5174 value can be mistaken for.
_DELIVERED_IN = ("CASE WHEN x BETWEEN 124 AND 132 AND y BETWEEN 33 AND 39 THEN 'EPSG:4326' "
                 "WHEN x IS NOT NULL AND y IS NOT NULL THEN 'EPSG:5174' END")


def _coordinate(axis: str, crs: str) -> str:
    """`axis` (x or y) of the row's location in `crs`, from whichever system it was delivered in."""
    other = "EPSG:4326" if crs == "EPSG:5174" else "EPSG:5174"
    return (f"CASE ({_DELIVERED_IN}) WHEN '{crs}' THEN {axis} "
            f"WHEN '{other}' THEN reproject_{axis}(x, y, '{other}', '{crs}') END")


_ADDRESS = "coalesce(lot_address, road_address)"
_SIGUNGU = sigungu_of("sigungu_code", dong_in_address(_ADDRESS), _ADDRESS)
_KEPT = ("agency_code", "service_name", "service_id", "business_type", "status_code", "status",
         "detailed_status_code", "detailed_status", "licensed_on", "licence_cancelled_on", "closed_on",
         "suspended_from", "suspended_until", "reopened_on", "floor_area_m2", "last_modified_at",
         "update_type", "data_updated_on")

RECIPE = Recipe(
    "business_licences",
    per_drop=(
        # links the deliveries of one licence (the latest is published), and nothing else
        Derived("licence_key", "pseudonym('record', 'business_licences:' || agency_code || ':' || management_no)",
                PSEUDONYMISED, ("agency_code", "management_no")),
        Derived("sigungu_code", _SIGUNGU, KEPT, ("sigungu_code", "lot_address", "road_address")),
        Derived("eup_myeon_dong", known_eup_myeon_dong(dong_in_address(_ADDRESS), _SIGUNGU), GENERALISED,
                ("lot_address", "road_address")),
        *(Derived(name, name, KEPT, (name,)) for name in _KEPT),
        Derived("x_epsg5174", _coordinate("x", "EPSG:5174"), KEPT, ("x", "y")),
        Derived("y_epsg5174", _coordinate("y", "EPSG:5174"), KEPT, ("x", "y")),
        Derived("longitude", _coordinate("x", "EPSG:4326"), KEPT, ("x", "y")),
        Derived("latitude", _coordinate("y", "EPSG:4326"), KEPT, ("x", "y")),
        Derived("coordinates_delivered_in", _DELIVERED_IN, KEPT, ("x", "y")),
    ),
    release=Release(
        # every delivery of a licence is a snapshot of it: the latest one is the licence
        prepare_sql="""SELECT * FROM drops QUALIFY row_number() OVER (PARTITION BY licence_key
            ORDER BY last_modified_at DESC NULLS LAST, data_updated_on DESC NULLS LAST, collected_at DESC,
                     source_row_number DESC) = 1""",
        publish_sql=f"""SELECT a.sigungu_code, n.name AS sigungu_name, eup_myeon_dong, agency_code,
            service_name, service_id, business_type, status_code, status, detailed_status_code,
            detailed_status, licensed_on, licence_cancelled_on, closed_on, suspended_from, suspended_until,
            reopened_on, floor_area_m2, x_epsg5174, y_epsg5174, longitude, latitude, coordinates_delivered_in,
            last_modified_at, update_type, data_updated_on
            FROM anonymised a LEFT JOIN {AREA_NAMES} n ON n.code = a.sigungu_code
            ORDER BY a.sigungu_code, service_name, licensed_on, agency_code""",
        text_columns=("sigungu_name", "eup_myeon_dong", "service_name", "business_type", "status",
                      "detailed_status"),
    ),
)

_LICENCE_COLUMNS = (
    *sigungu_columns(changwon_districts=True),
    described("eup_myeon_dong", "VARCHAR", "읍면동(소재지 주소에서, 확인된 경우)", "읍면동 of the premises (where the address names a known one)"),
    described("agency_code", "VARCHAR", "개방자치단체코드(행정기관코드 7자리)", "7-digit 행정기관코드 of the licensing office"),
    described("service_name", "VARCHAR", "업종(개방서비스명)", "business category (LOCALDATA service)"),
    described("service_id", "VARCHAR", "개방서비스ID", "LOCALDATA service id"),
    described("business_type", "VARCHAR", "업태구분명", "type of business"),
    described("status_code", "VARCHAR", "영업상태구분코드", "business status code"),
    described("status", "VARCHAR", "영업상태명(영업/정상, 휴업, 폐업 …)", "business status (open, suspended, closed …)"),
    described("detailed_status_code", "VARCHAR", "상세영업상태코드", "detailed status code"),
    described("detailed_status", "VARCHAR", "상세영업상태명", "detailed status"),
    described("licensed_on", "DATE", "인허가일자", "date licensed"),
    described("licence_cancelled_on", "DATE", "인허가취소일자", "date the licence was cancelled"),
    described("closed_on", "DATE", "폐업일자", "date closed"),
    described("suspended_from", "DATE", "휴업시작일자", "suspended from"),
    described("suspended_until", "DATE", "휴업종료일자", "suspended until"),
    described("reopened_on", "DATE", "재개업일자", "date reopened"),
    described("floor_area_m2", "DOUBLE", "소재지면적(㎡)", "floor area (m²)"),
    described("x_epsg5174", "DOUBLE", "X 좌표(EPSG:5174, m)", "easting, EPSG:5174 (Korean 1985 Modified Central Belt, m)"),
    described("y_epsg5174", "DOUBLE", "Y 좌표(EPSG:5174, m)", "northing, EPSG:5174 (m)"),
    described("longitude", "DOUBLE", "경도(WGS84)", "longitude (WGS84)"),
    described("latitude", "DOUBLE", "위도(WGS84)", "latitude (WGS84)"),
    described("coordinates_delivered_in", "VARCHAR", "제공된 좌표계(EPSG:5174 또는 EPSG:4326)",
              "the system the coordinates were delivered in (EPSG:5174 or EPSG:4326)"),
    described("last_modified_at", "TIMESTAMP", "최종수정시점", "last modified (LOCALDATA)"),
    described("update_type", "VARCHAR", "데이터갱신구분(I/U/D)", "update type (insert, update, delete)"),
    described("data_updated_on", "DATE", "데이터갱신일자", "date the record was refreshed"),
)
_LICENCE_DIMENSIONS = ("sigungu_code", "sigungu_name", "eup_myeon_dong", "service_name", "business_type", "status",
                       "detailed_status")

BUSINESS_LICENCES = PublishedTable(
    "business_licences", "인허가 업소 현황", "Business licences",
    "지방행정 인허가(LOCALDATA) 업소별 업종, 시군·읍면동, 영업상태, 인허가·폐업 등 일자, 면적, 좌표(EPSG:5174와 WGS84). "
    "사업장명·전화·주소·관리번호는 삭제.",
    "One row per licence (LOCALDATA): business category, 시군 and 읍면동, status, licence and closure "
    "dates, floor area, coordinates (EPSG:5174 and WGS84); business name, phone, addresses and licence "
    "number deleted.",
    "one licence", _LICENCE_COLUMNS, ("business_licences",),
    "사업장명(개인사업자의 성명일 수 있음)·소재지전화·주소·우편번호 삭제, 관리번호 가명처리 후 비공개(중복 제거에만 사용), "
    "주소→읍면동; 업소(사업장)의 위치와 인허가 사항만 남아 개인을 알아볼 수 없음(익명정보).",
    ANONYMOUS, provider_column="sigungu_code",
    selectable=everything_but(_LICENCE_COLUMNS), filterable=everything_but(_LICENCE_COLUMNS),
    groupable=_LICENCE_DIMENSIONS, record_level_allowed=True,
        portal=PortalListing("산업·통상·중소기업 - 산업·중소기업", ("인허가", "영업", "업종", "사업장", "익명정보")),
)

_YEARLY_COLUMNS = (
    *sigungu_columns(),
    described("service_name", "VARCHAR", "업종(개방서비스명)", "business category (LOCALDATA service)"),
    described("status", "VARCHAR", "현재 영업상태명", "current business status"),
    described("year", "INTEGER", "연도", "year"),
    described("licences", "BIGINT", "그 해 인허가 또는 폐업한 업소 수", "licences opened or closed in the year"),
    described("openings", "BIGINT", "인허가(개업) 수", "licences granted (openings)"),
    described("closures", "BIGINT", "폐업 수", "closures"),
    *suppression_columns(),
)

BUSINESS_LICENCES_YEARLY = PublishedTable(
    "business_licences_yearly", "시군별 업종별 연도별 인허가·폐업 통계", "Business openings and closures by 시군, category and year",
    "시군 × 업종 × (현재) 영업상태 × 연도별 인허가(개업) 수와 폐업 수.",
    "Openings (licences granted) and closures per 시군, business category, current status and year.",
    "시군 × 업종 × 영업상태 × year", _YEARLY_COLUMNS, ("business_licences",),
    f"총계처리; {SMALL_CELL_THRESHOLD}곳 미만 셀 억제와 합계로부터의 역산을 막는 2차 억제.",
    STATISTICS, provider_column="sigungu_code", derived_from=("business_licences",),
    selectable=everything_but(_YEARLY_COLUMNS),
    filterable=("sigungu_code", "sigungu_name", "service_name", "status", "year", "suppressed"),
    groupable=("sigungu_code", "sigungu_name", "service_name", "status", "year", "suppressed"),
    record_level_allowed=True,
        portal=PortalListing("산업·통상·중소기업 - 산업·중소기업", ("인허가", "개업", "폐업", "업종", "시군", "연도별")),
)


YEARLY_SQL = f"""
CREATE OR REPLACE TABLE business_licences_yearly AS
WITH latest AS ({RECIPE.release.prepare_sql}),
events AS (
    SELECT licence_key, {CHANGWON_SIGUN} AS sigungu_code, service_name, status, year(licensed_on) AS year,
           1 AS opening, 0 AS closure
    FROM latest WHERE licensed_on IS NOT NULL
    UNION ALL
    SELECT licence_key, {CHANGWON_SIGUN}, service_name, status, year(closed_on), 0, 1
    FROM latest WHERE closed_on IS NOT NULL)
SELECT sigungu_code, service_name, status, CAST(year AS INTEGER) AS year,
       count(DISTINCT licence_key) AS licences, CAST(sum(opening) AS BIGINT) AS openings,
       CAST(sum(closure) AS BIGINT) AS closures
FROM events GROUP BY ALL"""


def _build_yearly(connection) -> None:
    connection.execute(YEARLY_SQL)


DATASET = Dataset(
    CONTRACT, RECIPE,
    record_tables=(BUSINESS_LICENCES,),
    aggregates=(
        Aggregate(BUSINESS_LICENCES_YEARLY, _build_yearly, "licences", ("openings", "closures"),
                  ("sigungu_code", "service_name", "status", "year"), complete_within=("sigungu_code", "year")),
    ),
)
