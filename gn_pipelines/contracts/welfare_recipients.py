"""기초생활보장 수급자 현황: one row per recipient and month, delivered monthly by each 시군."""

from gn_pipelines.contracts.model import (
    Column, ColumnType as T, DatasetContract, FileBudget, PrivacyClass as P, QualityRule, RuleKind, Severity,
)
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
