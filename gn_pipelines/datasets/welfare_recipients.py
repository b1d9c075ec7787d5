"""기초생활보장 수급자 현황 (welfare recipients): one row per recipient and month, delivered monthly
by each 시군. Published as pseudonymised, k-anonymous and l-diverse records (their public copy at
k = 10 without keys) and a summary per 시군, month, benefit type, age band and sex."""

from gn_pipelines.contracts.generalisation import (
    GENERALISED, Ladder, Level, age_ladder, amount_ladder, area_ladder, household_ladder, sex_ladder,
)
from gn_pipelines.contracts.identifiers import rrn_birth_year_sql, rrn_sex_sql
from gn_pipelines.contracts.published import (
    CHANGWON_SIGUN, PROVINCE, PSEUDONYMOUS, PUBLIC_K, STATISTICS, K_ANONYMITY_TREATMENT, PublicRelease, PortalListing,
    PublishedTable, described, everything_but, sigungu_columns, suppression_columns, text_ladder,
)
from gn_pipelines.contracts.recipes import (
    AREA_NAMES, KEPT, PSEUDONYMISED, PUBLISHED_K, PUBLISHED_L, SMALL_CELL_THRESHOLD,
    Derived, Recipe, Release, known_eup_myeon_dong, sigungu_of,
)
from gn_pipelines.contracts.model import (
    Column, ColumnType as T, DatasetContract, FileBudget, PrivacyClass as P, QualityRule, RuleKind, Severity,
)
from gn_pipelines.datasets.model import Aggregate, Dataset
from gn_pipelines.reference.providers import SIGUN_CODES

BENEFIT_TYPES = ("생계급여", "의료급여", "주거급여", "교육급여")

CONTRACT = DatasetContract(
    name="welfare_recipients",
    title_ko="기초생활보장 수급자 현황",
    title_en="Basic livelihood security recipients",
    period_column="reference_month",
    cadence="monthly",
    budget=FileBudget(),
    providers=frozenset(SIGUN_CODES),
    provider_code_column="sigungu_code",
    unique_within_provider=(("recipient_no", "reference_month"),),
    columns=(
        Column("기준년월", "reference_month", T.MONTH, P.NON_PERSONAL, required=True),
        Column("수급자번호", "recipient_no", T.TEXT, P.DIRECT_IDENTIFIER, required=True),
        Column("성명", "name", T.TEXT, P.DIRECT_IDENTIFIER, required=True, aliases=("수급자성명",)),
        Column("주민등록번호", "resident_reg_no", T.TEXT, P.DIRECT_IDENTIFIER, required=True,
               identifier_format="rrn", description="birth year and sex are derived, then the number is deleted"),
        Column("시군구코드", "sigungu_code", T.CODE, P.QUASI_IDENTIFIER, required=True, length=5),
        Column("읍면동", "eup_myeon_dong", T.TEXT, P.QUASI_IDENTIFIER, required=True,
               aliases=("읍면동명",)),
        Column("주소", "address", T.TEXT, P.DIRECT_IDENTIFIER, required=True),
        Column("가구원수", "household_size", T.INTEGER, P.QUASI_IDENTIFIER, required=True,
               min_value=1, max_value=20),
        Column("급여종류", "benefit_type", T.TEXT, P.SENSITIVE, required=True,
               allowed_values=BENEFIT_TYPES),
        Column("월지급액", "monthly_amount_krw", T.INTEGER, P.SENSITIVE, required=True,
               min_value=0),
        Column("장애여부", "disability", T.TEXT, P.SENSITIVE, required=True,
               allowed_values=("Y", "N")),
        Column("선정일자", "enrolled_on", T.DATE, P.QUASI_IDENTIFIER, required=True),
    ),
    rules=(
        QualityRule(
            "enrolled_by_reference_month", RuleKind.HOLDS, ("enrolled_on", "reference_month"),
            "선정일자 falls before the end of 기준년월: a recipient can not be listed before selection",
            sql="enrolled_on < CAST(reference_month || '-01' AS DATE) + INTERVAL 1 MONTH"),
        QualityRule(
            "eup_myeon_dong_known", RuleKind.HOLDS, ("sigungu_code", "eup_myeon_dong"),
            "읍면동 is an existing 법정동 of the row's 시군구 (행정동 names are reported, not rejected)",
            severity=Severity.WARN,
            sql="list_contains($known_eup_myeon_dong, sigungu_code || ' ' || eup_myeon_dong)"),
        QualityRule(
            "monthly_amount_plausible", RuleKind.BETWEEN, ("monthly_amount_krw",),
            "월지급액 up to 5,000,000원: larger amounts are usually a unit or keying error",
            severity=Severity.WARN, max_value=5_000_000),
    ),
)

RECIPE = Recipe(
    "welfare_recipients",
    per_drop=(
        Derived("recipient_key", "pseudonym('person_rrn', resident_reg_no)", PSEUDONYMISED,
                ("resident_reg_no",)),
        Derived("reference_month", "reference_month", KEPT, ("reference_month",)),
        Derived("sigungu_code", sigungu_of("sigungu_code", "eup_myeon_dong"), KEPT,
                ("sigungu_code", "eup_myeon_dong")),
        Derived("eup_myeon_dong",
                known_eup_myeon_dong("eup_myeon_dong", sigungu_of("sigungu_code", "eup_myeon_dong")),
                GENERALISED, ("eup_myeon_dong",)),
        Derived("birth_year", rrn_birth_year_sql("resident_reg_no"), GENERALISED, ("resident_reg_no",)),
        Derived("sex", rrn_sex_sql("resident_reg_no"), GENERALISED, ("resident_reg_no",)),
        Derived("household_size", "household_size", GENERALISED, ("household_size",)),
        Derived("benefit_type", "benefit_type", KEPT, ("benefit_type",)),
        Derived("monthly_amount_krw", "monthly_amount_krw", GENERALISED, ("monthly_amount_krw",)),
        Derived("disability", "disability", KEPT, ("disability",)),
    ),
    release=Release(
        quasi_identifiers=(area_ladder(changwon_districts=True),
                           age_ladder(at="reference_month").from_level(1),
                           household_ladder(), sex_ladder()),
        sensitive=("benefit_type", amount_ladder().until_level(0), "disability"),
        k=PUBLISHED_K, l=PUBLISHED_L,
        gives_up="읍면동 first: in a small 읍면동 the age band widens, then household size, then "
                 "sex, before the 읍면동 falls back to its 시군구.",
        partition_by=("reference_month",),
        keep=("recipient_key",),
        person="recipient_key",  # a recipient delivered twice in a month (two 시군) is one person
        publish_sql=f"""SELECT recipient_key, reference_month, a.sigungu_code, n.name AS sigungu_name,
            CASE WHEN a.eup_myeon_dong <> '*' THEN a.eup_myeon_dong ELSE n.name END AS area,
            CASE WHEN a.eup_myeon_dong <> '*' THEN '읍면동' WHEN a.sigungu_code = '48000' THEN '도'
                 ELSE '시군구' END AS area_level,
            age_band, sex, household_size_band, benefit_type, amount_band, disability
            FROM anonymised a LEFT JOIN {AREA_NAMES} n ON n.code = a.sigungu_code""",
        text_columns=("area",),
    ),
    record_key=("recipient_key", "reference_month"),  # a month's snapshot corrected under a new name
)


_WELFARE_COLUMNS = (
    described("recipient_key", "VARCHAR", "수급자 가명키(HMAC-SHA-256)", "pseudonymous recipient key (HMAC-SHA-256)"),
    described("reference_month", "VARCHAR", "기준년월(YYYY-MM)", "reference month (YYYY-MM)"),
    *sigungu_columns(changwon_districts=True),
    described("area", "VARCHAR", "지역(읍면동, 시군구 또는 도)", "area (읍면동, 시군구 or 도)"),
    described("area_level", "VARCHAR", "지역 수준: 읍면동/시군구/도", "area level: 읍면동/시군구/도"),
    described("age_band", "VARCHAR", "연령대", "age band"),
    described("sex", "VARCHAR", "성별", "sex"),
    described("household_size_band", "VARCHAR", "가구원수 구간", "household size band"),
    described("benefit_type", "VARCHAR", "급여종류", "benefit type"),
    described("amount_band", "VARCHAR", "월지급액 구간", "monthly amount band"),
    described("disability", "VARCHAR", "장애여부", "disability"),
)

_WELFARE_SUMMARY_COLUMNS = (
    *sigungu_columns(),
    described("reference_month", "VARCHAR", "기준년월(YYYY-MM)", "reference month (YYYY-MM)"),
    described("benefit_type", "VARCHAR", "급여종류", "benefit type"),
    described("age_band", "VARCHAR", "연령대", "age band"),
    described("sex", "VARCHAR", "성별", "sex"),
    described("recipients", "BIGINT", "수급자 수", "recipients"),
    described("amount_total_krw", "BIGINT", "월지급액 합계(원)", "total monthly amount (KRW)"),
    *suppression_columns(),
)

def _public_area_of_welfare() -> Ladder:
    """(시군구, area as published) → (시군구, its name) → 경상남도: over published columns."""
    outputs = ("sigungu_code", "sigungu_name", "area", "area_level")
    return Ladder("area", outputs, (
        Level("as published", GENERALISED, ("sigungu_code", "sigungu_name", "area", "area_level")),
        Level("시군구", GENERALISED, ("sigungu_code", "sigungu_name", "sigungu_name",
                                    "CASE WHEN area_level = '도' THEN '도' ELSE '시군구' END")),
        Level("도 (경상남도)", GENERALISED, (*PROVINCE, PROVINCE[1], "'도'")),
    ))


WELFARE_RECIPIENTS = PublishedTable(
        "welfare_recipients", "복지 수급자 현황(가명정보)", "Welfare recipients (pseudonymised)",
        "수급자-월 단위 자료: 지역, 연령대, 성별, 가구원수 구간, 급여종류, 지급액 구간, 장애여부.",
        "One row per recipient and month: area, age band, sex, household size band, benefit type, "
        "amount band and disability.",
        "one recipient-month", _WELFARE_COLUMNS, ("welfare_recipients",),
        "가명처리(HMAC-SHA-256 키), 성명·주민등록번호·주소 삭제, 지역(읍면동→시군구→도)·연령·가구원수·지급액 범주화; "
        f"{K_ANONYMITY_TREATMENT}. 공개본(익명정보): 가명키·성별 삭제(성별 수급자 수는 복지 수급자 통계로), "
        f"준식별자 재범주화로 k-익명성(k ≥ {PUBLIC_K}).",
        PSEUDONYMOUS, provider_column="sigungu_code",
        selectable=everything_but(_WELFARE_COLUMNS, "recipient_key"),
        filterable=everything_but(_WELFARE_COLUMNS, "recipient_key"),
        groupable=everything_but(_WELFARE_COLUMNS, "recipient_key"),
        # sex too: counted by 시군 × month × benefit × age band × sex, the open rows would give back
        # the cells welfare_summary suppresses (the least of its dimensions to lose: it is there)
        open_data_withheld=("recipient_key", "sex"),
        public_release=PublicRelease(
            quasi_identifiers=(_public_area_of_welfare(), text_ladder("age_band"),
                               text_ladder("sex"), text_ladder("household_size_band")),
            partition_by=("reference_month",),
            sensitive=("benefit_type", "amount_band", "disability"), person="recipient_key"),
        portal=PortalListing("사회복지 - 기초생활보장", ("복지", "수급자", "익명정보")))

WELFARE_SUMMARY = PublishedTable(
        "welfare_summary", "복지 수급자 통계", "Welfare recipients summary",
        "시군 × 월 × 급여종류 × 연령대 × 성별 수급자 수와 지급액 합계.",
        "Recipients and amount totals per 시군, month, benefit type, age band and sex.",
        "시군 × month × benefit type × age band × sex", _WELFARE_SUMMARY_COLUMNS, ("welfare_recipients",),
        f"총계처리; {SMALL_CELL_THRESHOLD}명 미만 셀 억제와 합계로부터의 역산을 막는 2차 억제.",
        STATISTICS, provider_column="sigungu_code", derived_from=("welfare_recipients",),
        selectable=everything_but(_WELFARE_SUMMARY_COLUMNS),
        filterable=("sigungu_code", "sigungu_name", "reference_month", "benefit_type", "age_band", "sex", "suppressed"),
        groupable=("sigungu_code", "sigungu_name", "reference_month", "benefit_type", "age_band", "sex", "suppressed"),
        record_level_allowed=True,
        portal=PortalListing("사회복지 - 기초생활보장", ("복지", "수급자", "급여", "시군", "월별")))


# 10-year age bands (80+): the summary's cells stay large enough to need little suppression
_AGE_BAND = age_ladder(at="reference_month").levels[2].sql[0]

WELFARE_SUMMARY_SQL = f"""
CREATE OR REPLACE TABLE welfare_summary AS
SELECT {CHANGWON_SIGUN} AS sigungu_code, reference_month, benefit_type, {_AGE_BAND} AS age_band, coalesce(sex, '*') AS sex,
       count(DISTINCT recipient_key) AS recipients, sum(monthly_amount_krw) AS amount_total_krw
FROM welfare_drops GROUP BY ALL"""


def _build_summary(connection) -> None:
    connection.execute(WELFARE_SUMMARY_SQL)


DATASET = Dataset(
    CONTRACT, RECIPE,
    record_tables=(WELFARE_RECIPIENTS,),
    aggregates=(
        Aggregate(WELFARE_SUMMARY, _build_summary, "recipients", ("amount_total_krw",),
                  ("sigungu_code", "reference_month", "benefit_type", "age_band", "sex"),
                  complete_within=("sigungu_code", "reference_month"), source_view="welfare_drops"),
    ),
)
