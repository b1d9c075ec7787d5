"""The published tables of the contract (`spec/published-tables.md`): those each dataset declares
(gn_pipelines/datasets/) and the platform's own (the provider scorecard and the data catalog).

Publication, open data and the data lab read these declarations: names, column types,
bilingual comments, sources, privacy class and treatment, how the public copy is made, and what
the data lab may select, filter and group. The types live in gn_pipelines/contracts/published.py.
"""

from __future__ import annotations

from gn_pipelines.contracts.published import (  # noqa: F401 (the declarations' API, used across publish/ and datalab/)
    ANONYMOUS, LICENCE, OPEN_PRIVACY_CLASSES, PRIVACY_CLASSES, PSEUDONYMOUS, PUBLIC_K, STATISTICS,
    PortalListing, PublicRelease, PublishedColumn, PublishedTable, described, everything_but,
)
from gn_pipelines.contracts.recipes import SMALL_CELL_THRESHOLD  # noqa: F401
from gn_pipelines.datasets import CONTRACTS, dataset_tables

_SCORECARD_COLUMNS = (
    described("provider_code", "VARCHAR", "제출 기관 코드", "provider code"),
    described("provider_name", "VARCHAR", "제출 기관명", "provider name"),
    described("dataset", "VARCHAR", "자료 종류", "dataset"),
    described("month", "VARCHAR", "월(YYYY-MM)", "month (YYYY-MM)"),
    described("files_on_time", "INTEGER", "기한 내 제출 파일 수", "files delivered on time"),
    described("files_late", "INTEGER", "지연 제출 파일 수", "files delivered late"),
    described("rows_accepted", "BIGINT", "적재된 행 수", "rows accepted"),
    described("rows_quarantined", "BIGINT", "격리된 행 수", "rows quarantined"),
    described("files_quarantined", "INTEGER", "격리된 파일 수", "files quarantined"),
    described("top_failed_checks", "VARCHAR", "가장 많이 실패한 검사", "most frequent failed checks"),
)

_CATALOG_COLUMNS = (
    described("table_name", "VARCHAR", "테이블 이름", "table name"),
    described("title_ko", "VARCHAR", "제목(한국어)", "title (Korean)"),
    described("title_en", "VARCHAR", "제목(영어)", "title (English)"),
    described("description", "VARCHAR", "설명", "description"),
    described("columns", "VARCHAR", "컬럼 정의(JSON)", "column definitions (JSON text)"),
    described("row_count", "BIGINT", "행 수", "row count"),
    described("last_updated", "TIMESTAMPTZ", "최종 갱신 시각", "last updated"),
    described("providers", "VARCHAR", "원천 제공 기관", "source providers"),
    described("licence", "VARCHAR", "이용허락(공공누리 제1유형)", "licence (KOGL type 1)"),
    described("privacy_treatment", "VARCHAR", "개인정보 처리 내용", "privacy treatment"),
    described("privacy_class", "VARCHAR", "개인정보 보호법상 분류(가명정보/익명정보/통계)",
       "class under the Personal Information Protection Act (가명정보/익명정보/통계)"),
    described("open_privacy_class", "VARCHAR", "공개 데이터(open/) 분류(익명정보/통계, 미공개는 비어 있음)",
       "class of the open-data copy (익명정보/통계; empty when not opened)"),
)


CATALOG_TABLE = "data_catalog"

PROVIDER_SCORECARD = PublishedTable(
        "provider_scorecard", "제출 기관별 자료 품질 현황", "Provider scorecard",
        "기관 × 자료 × 월별 기한 내·지연 제출 파일 수, 적재·격리 행 수, 가장 많이 실패한 검사.",
        "Files on time and late, rows accepted and quarantined, and the most frequent failed checks "
        "per provider, dataset and month.",
        "provider × dataset × month", _SCORECARD_COLUMNS,
        tuple(CONTRACTS),
        "개인정보 없음(제출 현황과 검사 결과의 건수만 포함).",
        STATISTICS, provider_column="provider_code",
        selectable=everything_but(_SCORECARD_COLUMNS), filterable=everything_but(_SCORECARD_COLUMNS),
        groupable=("provider_code", "provider_name", "dataset", "month"),
        record_level_allowed=True,
        portal=PortalListing("일반공공행정 - 정보화", ("자료품질", "제출현황", "시군")))

DATA_CATALOG = PublishedTable(
        "data_catalog", "데이터 목록", "Data catalog",
        "공개 테이블별 제목, 설명, 컬럼, 행 수, 최종 갱신, 원천 기관, 이용허락, 개인정보 처리 내용.",
        "Title, description, columns, rows, last update, providers, licence and privacy treatment of each published table.",
        "one published table", _CATALOG_COLUMNS, (),
        "개인정보 없음(메타데이터).",
        ANONYMOUS, selectable=everything_but(_CATALOG_COLUMNS), filterable=("table_name", "licence", "privacy_class"),
        groupable=("licence", "privacy_class"), record_level_allowed=True,
        portal=PortalListing("일반공공행정 - 정보화", ("데이터목록", "메타데이터")))

PUBLISHED_TABLES: tuple[PublishedTable, ...] = (*dataset_tables(), PROVIDER_SCORECARD, DATA_CATALOG)
OPEN_DATA_TABLES: tuple[PublishedTable, ...] = tuple(t for t in PUBLISHED_TABLES if t.open_privacy_class)
PUBLISHED_TABLES_BY_NAME: dict[str, PublishedTable] = {t.name: t for t in PUBLISHED_TABLES}

def published_table(name: str) -> PublishedTable:
    """The declaration of one published table; KeyError naming the known tables otherwise."""
    try:
        return PUBLISHED_TABLES_BY_NAME[name]
    except KeyError:
        known = ", ".join(PUBLISHED_TABLES_BY_NAME)
        raise KeyError(f"{name!r} is not a published table (known: {known})") from None
