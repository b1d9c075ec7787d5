"""민원 접수 자료: one row per complaint, delivered daily by each 시군."""

from gn_pipelines.contracts.model import (
    Column, ColumnType as T, DatasetContract, FileBudget, PrivacyClass as P, QualityRule, RuleKind, Severity,
)
from gn_pipelines.reference.providers import SIGUN_CODES

COMPLAINT_CATEGORIES = (
    "도로·교통", "환경·위생", "복지", "건축·주택", "세무·재정",
    "상하수도", "안전·재난", "문화·관광", "농림·수산", "기타",
)
COMPLAINT_STATUSES = ("접수", "처리중", "처리완료", "반려", "취하")

CONTRACT = DatasetContract(
    name="civil_complaints",
    title_ko="민원 접수 자료",
    title_en="Civil complaints received",
    period_column="received_at",
    cadence="daily",
    budget=FileBudget(),  # 1 MiB lines: a complaint body is a few KB
    providers=frozenset(SIGUN_CODES),
    provider_code_column="sigungu_code",
    unique_within_provider=(("receipt_no",),),
    columns=(
        Column("접수번호", "receipt_no", T.TEXT, P.DIRECT_IDENTIFIER, required=True,
               description="unique within a provider; pseudonymised before publication"),
        Column("접수일시", "received_at", T.TIMESTAMP, P.QUASI_IDENTIFIER, required=True),
        Column("시군구코드", "sigungu_code", T.CODE, P.QUASI_IDENTIFIER, required=True, length=5,
               description="provider code, or a 창원시 district code"),
        Column("민원인성명", "complainant_name", T.TEXT, P.DIRECT_IDENTIFIER, required=True,
               aliases=("성명", "민원인")),
        Column("주민등록번호", "resident_reg_no", T.TEXT, P.DIRECT_IDENTIFIER, identifier_format="rrn",
               description="birth year and sex are derived, then the number is deleted"),
        Column("휴대전화번호", "phone", T.TEXT, P.DIRECT_IDENTIFIER, aliases=("전화번호", "연락처"),
               identifier_format="phone"),
        Column("주소", "address", T.TEXT, P.DIRECT_IDENTIFIER, required=True,
               description="generalised to 읍면동, then deleted"),
        Column("민원분야", "category", T.TEXT, P.NON_PERSONAL, required=True,
               allowed_values=COMPLAINT_CATEGORIES),
        Column("민원제목", "title", T.TEXT, P.FREE_TEXT, required=True),
        Column("민원내용", "body", T.TEXT, P.FREE_TEXT, required=True),
        Column("처리부서", "department", T.TEXT, P.NON_PERSONAL),
        Column("처리상태", "status", T.TEXT, P.NON_PERSONAL, required=True,
               allowed_values=COMPLAINT_STATUSES),
        Column("처리완료일", "completed_on", T.DATE, P.QUASI_IDENTIFIER,
               description="not before the receipt date; required when 처리완료"),
    ),
    rules=(
        QualityRule(
            "completed_not_before_received", RuleKind.NOT_BEFORE, ("completed_on", "received_on"),
            "처리완료일 is not before the day the complaint was received",
            derived=(("received_on", "CAST(received_at AS DATE)"),)),
        QualityRule(
            "completed_on_present_when_done", RuleKind.REQUIRED_WHEN, ("completed_on",),
            "처리완료일 is given when 처리상태 is 처리완료", when=("status", "처리완료")),
        QualityRule(
            "completed_on_only_when_closed", RuleKind.HOLDS, ("completed_on", "status"),
            "a 처리완료일 on a complaint still 접수 or 처리중 suggests a stale status",
            severity=Severity.WARN,
            sql="completed_on IS NULL OR status NOT IN ('접수', '처리중')"),
    ),
)
