"""The published tables of the contract (`spec/published-tables.md`), declared as data.

Publication, open data and the data lab all read these declarations: names, column types,
bilingual comments, sources, privacy class and treatment, how the public copy is made, and what
the data lab may select, filter and group.
"""

from __future__ import annotations

from dataclasses import dataclass

from gn_pipelines.privacy.generalisation import GENERALISED, Ladder, Level, exact_ladder
from gn_pipelines.privacy.recipes import OPEN_DATA_K, PUBLISHED_K, PUBLISHED_L, SMALL_CELL_THRESHOLD
from gn_pipelines.reference.providers import CHANGWON_CODE, CHANGWON_DISTRICTS, PROVINCE_CODE

LICENCE = "공공누리 제1유형"
# Aggregates and data-lab extracts suppress any cell counting fewer people than
# SMALL_CELL_THRESHOLD (imported above: the thresholds live in the recipes).

# Privacy classes of the 개인정보 보호법 (spec: "Privacy classes"). 개인정보 never leaves the
# restricted zone, so no published table carries it. 가명정보 goes to the center's analysts and to
# reviewed data-lab extracts only; open data holds 익명정보 and 통계 only.
PSEUDONYMOUS = "가명정보"
ANONYMOUS = "익명정보"
STATISTICS = "통계"
PRIVACY_CLASSES = (PSEUDONYMOUS, ANONYMOUS, STATISTICS)
OPEN_PRIVACY_CLASSES = (ANONYMOUS, STATISTICS)
# Record-level open data is k-anonymous at a stricter k than the analysts' tables (spec: 10);
# the number lives with the other thresholds, in the recipes.
PUBLIC_K = OPEN_DATA_K


@dataclass(frozen=True)
class PublicRelease:
    """How a 가명정보 table becomes 익명정보 for the public: its keys and free text are withheld
    (`PublishedTable.open_data_withheld`) and its quasi-identifiers, as published, are generalised
    again until every class holds `k` records (local recoding, `privacy/anonymity.py`)."""

    quasi_identifiers: tuple[Ladder, ...]  # over published columns; the first listed is kept finest
    partition_by: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = ()
    k: int = PUBLIC_K
    l: int = 2


@dataclass(frozen=True)
class PublishedColumn:
    name: str
    type: str  # DuckDB type
    comment_ko: str
    comment_en: str


@dataclass(frozen=True)
class PublishedTable:
    name: str
    title_ko: str
    title_en: str
    description_ko: str
    description_en: str
    grain: str
    columns: tuple[PublishedColumn, ...]
    source_datasets: tuple[str, ...]  # collected datasets it is built from
    privacy_treatment: str
    privacy_class: str  # one of PRIVACY_CLASSES
    provider_column: str | None = None  # column whose codes name the providers of its rows
    derived_from: tuple[str, ...] = ()  # published tables it is computed from
    # Data lab: columns a request may select, filter on and group by. Record-level personal
    # keys and free text are never listed (PIPC 가명정보 처리 가이드라인: no linkage keys leave).
    selectable: tuple[str, ...] = ()
    filterable: tuple[str, ...] = ()
    groupable: tuple[str, ...] = ()
    record_level_allowed: bool = False  # may the data lab return ungrouped rows?
    # Left out of the public open-data copy: the linkage keys of 가명정보 (PIPC guideline: a
    # pseudonymised dataset goes to analysts, not to everyone; without its keys, a k-anonymous
    # and scrubbed table links no person across months, tables or drops).
    open_data_withheld: tuple[str, ...] = ()
    # A 가명정보 table reaches open data only through this (익명정보); without it, not at all.
    public_release: PublicRelease | None = None

    def __post_init__(self) -> None:
        if self.privacy_class not in PRIVACY_CLASSES:
            raise ValueError(f"{self.name}: privacy_class {self.privacy_class!r} is not one of {PRIVACY_CLASSES}")
        if self.public_release is not None and self.privacy_class != PSEUDONYMOUS:
            raise ValueError(f"{self.name}: only a {PSEUDONYMOUS} table needs a public release")

    @property
    def open_privacy_class(self) -> str | None:
        """The class of the open-data copy; None when the table is not opened to the public."""
        if self.privacy_class != PSEUDONYMOUS:
            return self.privacy_class
        return ANONYMOUS if self.public_release is not None else None

    @property
    def quasi_identifiers(self) -> tuple[str, ...]:
        """Columns a data-lab extract of this table is checked for k over (those of its public release)."""
        if self.public_release is None:
            return ()
        outputs = [out for ladder in self.public_release.quasi_identifiers for out in ladder.outputs]
        return tuple(c for c in self.column_names if c in outputs or c in self.public_release.partition_by)

    @property
    def sensitive(self) -> tuple[str, ...]:
        return self.public_release.sensitive if self.public_release is not None else ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> PublishedColumn:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")


def _c(name: str, type_: str, ko: str, en: str) -> PublishedColumn:
    return PublishedColumn(name, type_, ko, en)


def _sigungu() -> tuple[PublishedColumn, ...]:
    return (_c("sigungu_code", "VARCHAR", "시군구코드(5자리)", "5-digit 시군구 code"),
            _c("sigungu_name", "VARCHAR", "시군명", "시군 name"))


def _suppression() -> tuple[PublishedColumn, ...]:
    return (_c("suppressed", "BOOLEAN", "비공개(셀 억제) 여부", "whether the cell's figures are suppressed"),
            _c("suppression", "VARCHAR", "억제 사유: primary(5 미만) 또는 secondary(역산 방지)",
               "why: primary (fewer than 5) or secondary (prevents recovery from totals)"))


_WATER_MEASURES: tuple[tuple[str, str, str], ...] = (
    ("water_temp_c", "수온(℃)", "water temperature (°C)"),
    ("ph", "수소이온농도(pH)", "pH"),
    ("do_mg_l", "용존산소 DO(mg/L)", "dissolved oxygen (mg/L)"),
    ("bod_mg_l", "생물화학적산소요구량 BOD(mg/L)", "biochemical oxygen demand (mg/L)"),
    ("cod_mg_l", "화학적산소요구량 COD(mg/L)", "chemical oxygen demand (mg/L)"),
    ("ss_mg_l", "부유물질 SS(mg/L)", "suspended solids (mg/L)"),
    ("tn_mg_l", "총질소 T-N(mg/L)", "total nitrogen (mg/L)"),
    ("tp_mg_l", "총인 T-P(mg/L)", "total phosphorus (mg/L)"),
    ("toc_mg_l", "총유기탄소 TOC(mg/L)", "total organic carbon (mg/L)"),
    ("total_coliform_100ml", "총대장균군(군수/100mL)", "total coliforms (per 100 mL)"),
    ("chlorophyll_a_mg_m3", "클로로필-a(mg/㎥)", "chlorophyll-a (mg/m³)"),
)
WATER_MEASURE_NAMES: tuple[str, ...] = tuple(m[0] for m in _WATER_MEASURES)


def _water_measure_columns() -> tuple[PublishedColumn, ...]:
    values = tuple(_c(n, "DOUBLE", ko, en) for n, ko, en in _WATER_MEASURES)
    flags = tuple(_c(f"{n}_below_detection", "BOOLEAN", f"{ko} 검출한계 미만 여부",
                     f"{en}: below the detection limit") for n, ko, en in _WATER_MEASURES)
    return values + flags


def _everything_but(columns: tuple[PublishedColumn, ...], *excluded: str) -> tuple[str, ...]:
    return tuple(c.name for c in columns if c.name not in excluded)


_COMPLAINT_COLUMNS = (
    _c("complaint_key", "VARCHAR", "민원 가명키(HMAC-SHA-256)", "pseudonymous complaint key (HMAC-SHA-256)"),
    _c("complainant_key", "VARCHAR", "민원인 가명키(HMAC-SHA-256)", "pseudonymous complainant key (HMAC-SHA-256)"),
    _c("received_month", "VARCHAR", "접수월(YYYY-MM)", "month received (YYYY-MM)"),
    *_sigungu(),
    _c("district", "VARCHAR", "읍면동 또는 상위 지역", "읍면동 or a coarser area"),
    _c("category", "VARCHAR", "민원분야", "complaint category"),
    _c("status", "VARCHAR", "처리상태", "status"),
    _c("days_to_completion", "INTEGER", "처리 소요일수(정확한 값이 공개될 때)",
       "days from receipt to completion (where exact days are published)"),
    _c("days_to_completion_band", "VARCHAR", "처리 소요일수 구간(예: 05, 04-07, 08-30, 31+)",
       "days to completion, exact (05) or as a band (04-07, 31+) as far as k allows"),
    _c("age_band", "VARCHAR", "민원인 연령대", "complainant's age band"),
    _c("sex", "VARCHAR", "민원인 성별", "complainant's sex"),
    _c("title", "VARCHAR", "민원제목(개인정보 제거)", "title, scrubbed of personal data"),
    _c("body", "VARCHAR", "민원내용(개인정보 제거)", "body, scrubbed of personal data"),
)
_COMPLAINT_DIMENSIONS = ("received_month", "sigungu_code", "sigungu_name", "district", "category",
                         "status", "days_to_completion", "days_to_completion_band", "age_band", "sex")

_COMPLAINTS_MONTHLY_COLUMNS = (
    *_sigungu(),
    _c("month", "VARCHAR", "접수월(YYYY-MM)", "month received (YYYY-MM)"),
    _c("category", "VARCHAR", "민원분야", "complaint category"),
    _c("complaints", "BIGINT", "민원 건수", "complaints received"),
    _c("completed", "BIGINT", "처리완료 건수", "complaints completed"),
    _c("completion_rate", "DOUBLE", "처리완료율(0–1)", "completion rate (0–1)"),
    _c("median_days_to_completion", "DOUBLE", "처리 소요일수 중앙값", "median days to completion"),
    _c("p90_days_to_completion", "DOUBLE", "처리 소요일수 90백분위", "90th percentile of days to completion"),
    *_suppression(),
)

_COMPLAINT_KEYWORDS_COLUMNS = (
    *_sigungu(),
    _c("month", "VARCHAR", "접수월(YYYY-MM)", "month received (YYYY-MM)"),
    _c("keyword", "VARCHAR", "핵심어(일반명사, 형태소 분석)", "keyword (common noun, morphological analysis)"),
    _c("complaints", "BIGINT", "핵심어가 나온 민원 건수", "complaints whose title or body names the keyword"),
    *_suppression(),
)

_WELFARE_COLUMNS = (
    _c("recipient_key", "VARCHAR", "수급자 가명키(HMAC-SHA-256)", "pseudonymous recipient key (HMAC-SHA-256)"),
    _c("reference_month", "VARCHAR", "기준년월(YYYY-MM)", "reference month (YYYY-MM)"),
    *_sigungu(),
    _c("area", "VARCHAR", "지역(읍면동, 시군구 또는 도)", "area (읍면동, 시군구 or 도)"),
    _c("area_level", "VARCHAR", "지역 수준: 읍면동/시군구/도", "area level: 읍면동/시군구/도"),
    _c("age_band", "VARCHAR", "연령대", "age band"),
    _c("sex", "VARCHAR", "성별", "sex"),
    _c("household_size_band", "VARCHAR", "가구원수 구간", "household size band"),
    _c("benefit_type", "VARCHAR", "급여종류", "benefit type"),
    _c("amount_band", "VARCHAR", "월지급액 구간", "monthly amount band"),
    _c("disability", "VARCHAR", "장애여부", "disability"),
)

_WELFARE_SUMMARY_COLUMNS = (
    *_sigungu(),
    _c("reference_month", "VARCHAR", "기준년월(YYYY-MM)", "reference month (YYYY-MM)"),
    _c("benefit_type", "VARCHAR", "급여종류", "benefit type"),
    _c("age_band", "VARCHAR", "연령대", "age band"),
    _c("sex", "VARCHAR", "성별", "sex"),
    _c("recipients", "BIGINT", "수급자 수", "recipients"),
    _c("amount_total_krw", "BIGINT", "월지급액 합계(원)", "total monthly amount (KRW)"),
    *_suppression(),
)

_STATION = (_c("station_code", "VARCHAR", "측정소 코드(물환경정보시스템)", "station code (NIER)"),
            _c("station_name", "VARCHAR", "측정소명", "station name"))

_MEASUREMENT_COLUMNS = (
    *_STATION,
    _c("basin", "VARCHAR", "수계", "river basin"),
    _c("provider_code", "VARCHAR", "제출 기관 코드", "code of the delivering provider"),
    _c("measured_on", "DATE", "측정일", "date measured"),
    *_water_measure_columns(),
)

_GRADE_COLUMNS = (
    *_STATION,
    _c("year", "INTEGER", "연도", "year"),
    _c("parameter", "VARCHAR", "항목", "parameter"),
    _c("annual_mean", "DOUBLE", "연평균(산술평균)", "annual arithmetic mean"),
    _c("samples", "INTEGER", "측정 횟수", "samples"),
    _c("below_detection_samples", "INTEGER", "검출한계 미만 측정 횟수", "samples below detection"),
    _c("grade", "VARCHAR", "하천 생활환경기준 등급(Ia–VI)", "grade by the river living-environment standard (Ia–VI)"),
    _c("enough_samples", "BOOLEAN", "등급 판정에 충분한 측정 횟수 여부", "whether the year has enough samples to grade"),
    _c("note", "VARCHAR", "비고", "note"),
)

_NAMJI_COLUMNS = (
    _c("year", "INTEGER", "연도", "year"),
    _c("bod_mean_mg_l", "DOUBLE", "BOD 연평균(mg/L)", "annual mean BOD (mg/L)"),
    _c("bod_grade", "VARCHAR", "BOD 등급", "BOD grade"),
    _c("tp_mean_mg_l", "DOUBLE", "T-P 연평균(mg/L)", "annual mean T-P (mg/L)"),
    _c("tp_grade", "VARCHAR", "T-P 등급", "T-P grade"),
    _c("overall_grade", "VARCHAR", "종합 등급(BOD와 T-P 중 나쁜 등급)", "overall grade (worse of BOD and T-P)"),
    _c("target_grade", "VARCHAR", "목표 등급", "target grade"),
    _c("bod_gap_to_target_mg_l", "DOUBLE", "BOD 목표 대비 초과분(mg/L)", "BOD above the target threshold (mg/L)"),
    _c("tp_gap_to_target_mg_l", "DOUBLE", "T-P 목표 대비 초과분(mg/L)", "T-P above the target threshold (mg/L)"),
    _c("meets_target", "BOOLEAN", "목표 달성 여부", "whether the target is met"),
    _c("samples", "INTEGER", "측정 횟수", "samples"),
)

_SCORECARD_COLUMNS = (
    _c("provider_code", "VARCHAR", "제출 기관 코드", "provider code"),
    _c("provider_name", "VARCHAR", "제출 기관명", "provider name"),
    _c("dataset", "VARCHAR", "자료 종류", "dataset"),
    _c("month", "VARCHAR", "월(YYYY-MM)", "month (YYYY-MM)"),
    _c("files_on_time", "INTEGER", "기한 내 제출 파일 수", "files delivered on time"),
    _c("files_late", "INTEGER", "지연 제출 파일 수", "files delivered late"),
    _c("rows_accepted", "BIGINT", "적재된 행 수", "rows accepted"),
    _c("rows_quarantined", "BIGINT", "격리된 행 수", "rows quarantined"),
    _c("files_quarantined", "INTEGER", "격리된 파일 수", "files quarantined"),
    _c("top_failed_checks", "VARCHAR", "가장 많이 실패한 검사", "most frequent failed checks"),
)

_CATALOG_COLUMNS = (
    _c("table_name", "VARCHAR", "테이블 이름", "table name"),
    _c("title_ko", "VARCHAR", "제목(한국어)", "title (Korean)"),
    _c("title_en", "VARCHAR", "제목(영어)", "title (English)"),
    _c("description", "VARCHAR", "설명", "description"),
    _c("columns", "VARCHAR", "컬럼 정의(JSON)", "column definitions (JSON text)"),
    _c("row_count", "BIGINT", "행 수", "row count"),
    _c("last_updated", "TIMESTAMPTZ", "최종 갱신 시각", "last updated"),
    _c("providers", "VARCHAR", "원천 제공 기관", "source providers"),
    _c("licence", "VARCHAR", "이용허락(공공누리 제1유형)", "licence (KOGL type 1)"),
    _c("privacy_treatment", "VARCHAR", "개인정보 처리 내용", "privacy treatment"),
    _c("privacy_class", "VARCHAR", "개인정보 보호법상 분류(가명정보/익명정보/통계)",
       "class under the Personal Information Protection Act (가명정보/익명정보/통계)"),
    _c("open_privacy_class", "VARCHAR", "공개 데이터(open/) 분류(익명정보/통계, 미공개는 비어 있음)",
       "class of the open-data copy (익명정보/통계; empty when not opened)"),
)

def _sigungu_name_sql(code: str) -> str:
    """The 시군 (or 창원 구, or 도) name of a code expression, from the reference constants."""
    from gn_pipelines.reference.providers import PROVIDERS

    names = {p.code: p.name for p in PROVIDERS}
    names |= {code_: f"{names[CHANGWON_CODE]} {name}" for code_, name in CHANGWON_DISTRICTS.items()}
    cases = " ".join(f"WHEN '{c}' THEN '{n}'" for c, n in sorted(names.items()))  # constants, not data
    return f"CASE {code} {cases} END"


_CHANGWON_SIGUN = ("CASE WHEN sigungu_code IN ({}) THEN '{}' ELSE sigungu_code END"
                   .format(", ".join(f"'{c}'" for c in CHANGWON_DISTRICTS), CHANGWON_CODE))
_PROVINCE = (f"'{PROVINCE_CODE}'", _sigungu_name_sql(f"'{PROVINCE_CODE}'"))


def _public_area_of_complaints() -> Ladder:
    """(시군구, 읍면동) as published → (시군구, *) → 창원 구 → 창원시 → 경상남도: over published columns."""
    outputs = ("sigungu_code", "sigungu_name", "district")
    return Ladder("area", outputs, (
        Level("읍면동", GENERALISED, ("sigungu_code", "sigungu_name", "coalesce(district, '*')")),
        Level("시군구", GENERALISED, ("sigungu_code", "sigungu_name", "'*'")),
        Level("시군", GENERALISED, (_CHANGWON_SIGUN, _sigungu_name_sql(_CHANGWON_SIGUN), "'*'")),
        Level("도 (경상남도)", GENERALISED, (*_PROVINCE, "'*'")),
    ))


def _public_area_of_welfare() -> Ladder:
    """(시군구, area as published) → (시군구, its name) → 경상남도: over published columns."""
    outputs = ("sigungu_code", "sigungu_name", "area", "area_level")
    return Ladder("area", outputs, (
        Level("as published", GENERALISED, ("sigungu_code", "sigungu_name", "area", "area_level")),
        Level("시군구", GENERALISED, ("sigungu_code", "sigungu_name", "sigungu_name",
                                    "CASE WHEN area_level = '도' THEN '도' ELSE '시군구' END")),
        Level("도 (경상남도)", GENERALISED, (*_PROVINCE, _PROVINCE[1], "'도'")),
    ))


def _text_ladder(column: str) -> Ladder:
    """A published value as text → `*` (withheld)."""
    return exact_ladder(column)


_K_ANON = f"준식별자 범주화로 k-익명성(k ≥ {PUBLISHED_K})과 민감속성 l-다양성(l ≥ {PUBLISHED_L}) 확보, 미달 레코드 삭제"

PUBLISHED_TABLES: tuple[PublishedTable, ...] = (
    PublishedTable(
        "civil_complaints", "민원 접수 현황(가명정보)", "Civil complaints (pseudonymised)",
        "시군별 민원 접수 건: 접수월, 지역, 분야, 처리상태, 처리 소요일수, 민원인 연령대·성별, 개인정보를 제거한 제목과 내용.",
        "One row per complaint: month, area, category, status, days to completion, complainant's "
        "age band and sex, and title and body scrubbed of personal data.",
        "one complaint", _COMPLAINT_COLUMNS, ("civil_complaints",),
        "가명처리(HMAC-SHA-256 키), 성명·주민등록번호·전화번호·주소 삭제, 접수일시→월, 나이→연령대, "
        f"주소→읍면동 이상, 자유기재 항목의 개인정보 마스킹; {_K_ANON}. 공개본(익명정보): 가명키와 제목·내용 삭제, "
        f"준식별자 재범주화로 k-익명성(k ≥ {PUBLIC_K}).",
        PSEUDONYMOUS, provider_column="sigungu_code",
        selectable=_COMPLAINT_DIMENSIONS, filterable=_COMPLAINT_DIMENSIONS,
        groupable=_COMPLAINT_DIMENSIONS,
        open_data_withheld=("complaint_key", "complainant_key", "title", "body"),
        public_release=PublicRelease(
            quasi_identifiers=(_public_area_of_complaints(), _text_ladder("age_band"),
                               _text_ladder("sex"), _text_ladder("days_to_completion_band"),
                               _text_ladder("days_to_completion")),
            partition_by=("received_month",))),
    PublishedTable(
        "civil_complaints_monthly", "시군별 월별 민원 통계", "Civil complaints by 시군, month and category",
        "시군 × 월 × 민원분야별 접수 건수, 처리완료 건수와 비율, 처리 소요일수 중앙값과 90백분위.",
        "Counts, completion rate, median and p90 days to completion per 시군, month and category.",
        "시군 × month × category", _COMPLAINTS_MONTHLY_COLUMNS, ("civil_complaints",),
        "총계처리; 5건 미만 셀 억제와 합계로부터의 역산을 막는 2차 억제.",
        STATISTICS, provider_column="sigungu_code", derived_from=("civil_complaints",),
        selectable=_everything_but(_COMPLAINTS_MONTHLY_COLUMNS),
        filterable=("sigungu_code", "sigungu_name", "month", "category", "suppressed"),
        groupable=("sigungu_code", "sigungu_name", "month", "category", "suppressed"),
        record_level_allowed=True),
    PublishedTable(
        "civil_complaint_keywords_monthly", "시군별 월별 민원 핵심어 통계", "Civil complaint keywords by 시군 and month",
        "시군 × 월 × 핵심어별 민원 건수: 제목과 내용에서 형태소 분석(kiwipiepy)으로 뽑은 일반명사, "
        "그 달 도 전체에서 자주 나온 핵심어만.",
        "Complaints per 시군, month and keyword: common nouns of the title and body (kiwipiepy "
        "morphological analysis), among the month's most frequent keywords province-wide.",
        "시군 × month × keyword", _COMPLAINT_KEYWORDS_COLUMNS, ("civil_complaints",),
        "총계처리(민원 원문은 공개하지 않고 일반명사 빈도만 공개, 고유명사 제외); 5건 미만 셀 억제와 2차 억제.",
        STATISTICS, provider_column="sigungu_code", derived_from=("civil_complaints",),
        selectable=_everything_but(_COMPLAINT_KEYWORDS_COLUMNS),
        filterable=("sigungu_code", "sigungu_name", "month", "keyword", "suppressed"),
        groupable=("sigungu_code", "sigungu_name", "month", "keyword", "suppressed"),
        record_level_allowed=True),
    PublishedTable(
        "welfare_recipients", "복지 수급자 현황(가명정보)", "Welfare recipients (pseudonymised)",
        "수급자-월 단위 자료: 지역, 연령대, 성별, 가구원수 구간, 급여종류, 지급액 구간, 장애여부.",
        "One row per recipient and month: area, age band, sex, household size band, benefit type, "
        "amount band and disability.",
        "one recipient-month", _WELFARE_COLUMNS, ("welfare_recipients",),
        "가명처리(HMAC-SHA-256 키), 성명·주민등록번호·주소 삭제, 지역(읍면동→시군구→도)·연령·가구원수·지급액 범주화; "
        f"{_K_ANON}. 공개본(익명정보): 가명키 삭제, 준식별자 재범주화로 k-익명성(k ≥ {PUBLIC_K}).",
        PSEUDONYMOUS, provider_column="sigungu_code",
        selectable=_everything_but(_WELFARE_COLUMNS, "recipient_key"),
        filterable=_everything_but(_WELFARE_COLUMNS, "recipient_key"),
        groupable=_everything_but(_WELFARE_COLUMNS, "recipient_key"), open_data_withheld=("recipient_key",),
        public_release=PublicRelease(
            quasi_identifiers=(_public_area_of_welfare(), _text_ladder("age_band"),
                               _text_ladder("sex"), _text_ladder("household_size_band")),
            partition_by=("reference_month",),
            sensitive=("benefit_type", "amount_band", "disability"))),
    PublishedTable(
        "welfare_summary", "복지 수급자 통계", "Welfare recipients summary",
        "시군 × 월 × 급여종류 × 연령대 × 성별 수급자 수와 지급액 합계.",
        "Recipients and amount totals per 시군, month, benefit type, age band and sex.",
        "시군 × month × benefit type × age band × sex", _WELFARE_SUMMARY_COLUMNS, ("welfare_recipients",),
        "총계처리; 5명 미만 셀 억제와 합계로부터의 역산을 막는 2차 억제.",
        STATISTICS, provider_column="sigungu_code", derived_from=("welfare_recipients",),
        selectable=_everything_but(_WELFARE_SUMMARY_COLUMNS),
        filterable=("sigungu_code", "sigungu_name", "reference_month", "benefit_type", "age_band", "sex", "suppressed"),
        groupable=("sigungu_code", "sigungu_name", "reference_month", "benefit_type", "age_band", "sex", "suppressed"),
        record_level_allowed=True),
    PublishedTable(
        "water_quality_measurements", "하천 수질 측정값", "River water quality measurements",
        "측정소 × 측정일별 수질 항목 값(표준 단위)과 검출한계 미만 표시.",
        "Cleaned values per station and date in canonical units, with below-detection flags.",
        "one station × date", _MEASUREMENT_COLUMNS, ("water_quality",),
        "개인정보 없음(환경 측정 자료).",
        ANONYMOUS, provider_column="provider_code",
        selectable=_everything_but(_MEASUREMENT_COLUMNS), filterable=_everything_but(_MEASUREMENT_COLUMNS),
        groupable=("station_code", "station_name", "basin", "provider_code", "measured_on"),
        record_level_allowed=True),
    PublishedTable(
        "water_quality_station_grades", "측정소별 연간 수질 등급", "Annual water quality grades per station",
        "측정소 × 연도 × 항목별 연평균과 하천 생활환경기준(환경정책기본법 시행령 별표1) 등급.",
        "Annual mean, samples and grade by the river living-environment standard per station, year and parameter.",
        "one station × year × parameter", _GRADE_COLUMNS, ("water_quality",),
        "개인정보 없음(환경 측정 자료).",
        STATISTICS, derived_from=("water_quality_measurements",),
        selectable=_everything_but(_GRADE_COLUMNS), filterable=_everything_but(_GRADE_COLUMNS),
        groupable=("station_code", "station_name", "year", "parameter", "grade", "enough_samples"),
        record_level_allowed=True),
    PublishedTable(
        "nakdong_namji_target", "낙동강 남지 수질 목표 달성 현황", "Nakdong at 남지: progress to the target grade",
        "남지(2020A10) 연도별 BOD·T-P 연평균, 등급, 목표 등급(Ib) 및 목표 대비 차이.",
        "남지 (2020A10) annual BOD and T-P means, grades, the target grade (Ib) and the gap to it.",
        "one year", _NAMJI_COLUMNS, ("water_quality",),
        "개인정보 없음(환경 측정 자료).",
        STATISTICS, derived_from=("water_quality_measurements",),
        selectable=_everything_but(_NAMJI_COLUMNS), filterable=_everything_but(_NAMJI_COLUMNS),
        groupable=("year", "bod_grade", "tp_grade", "overall_grade", "meets_target"),
        record_level_allowed=True),
    PublishedTable(
        "provider_scorecard", "제출 기관별 자료 품질 현황", "Provider scorecard",
        "기관 × 자료 × 월별 기한 내·지연 제출 파일 수, 적재·격리 행 수, 가장 많이 실패한 검사.",
        "Files on time and late, rows accepted and quarantined, and the most frequent failed checks "
        "per provider, dataset and month.",
        "provider × dataset × month", _SCORECARD_COLUMNS,
        ("civil_complaints", "welfare_recipients", "water_quality"),
        "개인정보 없음(제출 현황과 검사 결과의 건수만 포함).",
        STATISTICS, provider_column="provider_code",
        selectable=_everything_but(_SCORECARD_COLUMNS), filterable=_everything_but(_SCORECARD_COLUMNS),
        groupable=("provider_code", "provider_name", "dataset", "month"),
        record_level_allowed=True),
    PublishedTable(
        "data_catalog", "데이터 목록", "Data catalog",
        "공개 테이블별 제목, 설명, 컬럼, 행 수, 최종 갱신, 원천 기관, 이용허락, 개인정보 처리 내용.",
        "Title, description, columns, rows, last update, providers, licence and privacy treatment of each published table.",
        "one published table", _CATALOG_COLUMNS, (),
        "개인정보 없음(메타데이터).",
        ANONYMOUS, selectable=_everything_but(_CATALOG_COLUMNS), filterable=("table_name", "licence", "privacy_class"),
        groupable=("licence", "privacy_class"), record_level_allowed=True),
)

OPEN_DATA_TABLES: tuple[PublishedTable, ...] = tuple(t for t in PUBLISHED_TABLES if t.open_privacy_class)
PUBLISHED_TABLES_BY_NAME: dict[str, PublishedTable] = {t.name: t for t in PUBLISHED_TABLES}
CATALOG_TABLE = "data_catalog"


def published_table(name: str) -> PublishedTable:
    """The declaration of one published table; KeyError naming the known tables otherwise."""
    try:
        return PUBLISHED_TABLES_BY_NAME[name]
    except KeyError:
        known = ", ".join(PUBLISHED_TABLES_BY_NAME)
        raise KeyError(f"{name!r} is not a published table (known: {known})") from None
