"""민원 접수 자료 (civil complaints): one row per complaint, delivered daily by each 시군.
Published as pseudonymised, k-anonymous records (their public copy at k = 10 without keys or
text), monthly statistics per 시군 and category, and monthly keyword counts."""

import hashlib
import os
import re
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from gn_pipelines.contracts.generalisation import GENERALISED, Ladder, Level, age_ladder, area_ladder, days_ladder, sex_ladder
from gn_pipelines.contracts.identifiers import FULL_NAME, rrn_birth_year_sql, rrn_sex_sql
from gn_pipelines.contracts.published import (
    PROVINCE, PSEUDONYMOUS, PUBLIC_K, STATISTICS, CHANGWON_SIGUN, K_ANONYMITY_TREATMENT, PublicRelease,
    PortalListing, PublishedTable, described, everything_but, sigungu_columns, sigungu_name_sql, suppression_columns,
    text_ladder,
)
from gn_pipelines.contracts.recipes import (
    AREA_NAMES, KEPT, PSEUDONYMISED, PUBLISHED_K, SMALL_CELL_THRESHOLD,
    Derived, Recipe, Release, dong_in_address, eup_myeon_dong_of, scrubbed, sigungu_of,
)
from gn_pipelines.contracts.model import (
    Column, ColumnType as T, DatasetContract, FileBudget, PrivacyClass as P, QualityRule, RuleKind, Severity,
)
from gn_pipelines.datasets.model import Aggregate, Dataset
from gn_pipelines.reference.providers import SIGUN_CODES
from gn_pipelines.unfinished_writes import partial_path

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

RECIPE = Recipe(
    "civil_complaints",
    per_drop=(
        Derived("complaint_key", "pseudonym('complaint', provider_code || ':' || receipt_no)",
                PSEUDONYMISED, ("receipt_no",)),
        Derived("complainant_key",
                "coalesce(pseudonym('person_rrn', resident_reg_no), pseudonym('phone', phone))",
                PSEUDONYMISED, ("resident_reg_no", "phone")),
        Derived("received_at", "received_at", KEPT, ("received_at",)),
        Derived("sigungu_code", sigungu_of("sigungu_code", dong_in_address("address"), "address"),
                KEPT, ("sigungu_code", "address")),
        Derived("eup_myeon_dong", eup_myeon_dong_of("address"), GENERALISED, ("address",)),
        Derived("birth_year", rrn_birth_year_sql("resident_reg_no"), GENERALISED, ("resident_reg_no",)),
        Derived("sex", rrn_sex_sql("resident_reg_no"), GENERALISED, ("resident_reg_no",)),
        Derived("category", "category", KEPT, ("category",)),
        Derived("status", "status", KEPT, ("status",)),
        Derived("completed_on", "completed_on", KEPT, ("completed_on",)),
        scrubbed("title", "complainant_name", "phone", "address", "resident_reg_no"),
        scrubbed("body", "complainant_name", "phone", "address", "resident_reg_no"),
    ),
    release=Release(
        # Mondrian cuts the area first: the 읍면동 is what analysts of complaints use most (a road,
        # a smell, a flood is local), then the days to completion (how long the 시군 took), then
        # the complainant's age and sex: measured in docs/privacy.md.
        quasi_identifiers=(area_ladder(changwon_districts=True),
                           days_ladder(output="days_to_completion"),
                           age_ladder(at="received_month").from_level(1), sex_ladder()),
        partition_by=("received_month",),
        keep=("complaint_key", "complainant_key", "category", "status", "title", "body"),
        person="complainant_key",  # one complainant may file many complaints: k counts complainants
        prepare_sql="""SELECT *, strftime(received_at, '%Y-%m') AS received_month,
            CAST(date_diff('day', CAST(received_at AS DATE), completed_on) AS INTEGER) AS days_to_completion
            FROM drops""",
        publish_sql=f"""SELECT complaint_key, complainant_key, received_month, a.sigungu_code,
            n.name AS sigungu_name, nullif(a.eup_myeon_dong, '*') AS district, category, status,
            CASE WHEN regexp_full_match(a.days_to_completion, '[0-9]+')
                 THEN CAST(a.days_to_completion AS INTEGER) END AS days_to_completion,
            nullif(a.days_to_completion, '*') AS days_to_completion_band, age_band, sex, title, body
            FROM anonymised a LEFT JOIN {AREA_NAMES} n ON n.code = a.sigungu_code""",
        text_columns=("title", "body", "district"),
        k=PUBLISHED_K,
        free_text=("title", "body"),
        gives_up="읍면동 first, then days to completion, then age, then sex: in a 읍면동 with few "
                 "complaints a month, sex is withheld first, then the age band widens (5 → 10 years "
                 "→ 70+ → withheld), then the days (exact → bands → withheld); the 읍면동 falls back "
                 "to its 시군구 only where it alone has fewer than k complainants.",
    ),
    record_key=("complaint_key",),  # 접수번호: a complaint sent again (now 처리완료) is one complaint
)


_COMPLAINT_COLUMNS = (
    described("complaint_key", "VARCHAR", "민원 가명키(HMAC-SHA-256)", "pseudonymous complaint key (HMAC-SHA-256)"),
    described("complainant_key", "VARCHAR", "민원인 가명키(HMAC-SHA-256)", "pseudonymous complainant key (HMAC-SHA-256)"),
    described("received_month", "VARCHAR", "접수월(YYYY-MM)", "month received (YYYY-MM)"),
    *sigungu_columns(changwon_districts=True),
    described("district", "VARCHAR", "읍면동 또는 상위 지역", "읍면동 or a coarser area"),
    described("category", "VARCHAR", "민원분야", "complaint category"),
    described("status", "VARCHAR", "처리상태", "status"),
    described("days_to_completion", "INTEGER", "처리 소요일수(정확한 값이 공개될 때)",
       "days from receipt to completion (where exact days are published)"),
    described("days_to_completion_band", "VARCHAR", "처리 소요일수 구간(예: 05, 04-07, 08-30, 31+)",
       "days to completion, exact (05) or as a band (04-07, 31+) as far as k allows"),
    described("age_band", "VARCHAR", "민원인 연령대", "complainant's age band"),
    described("sex", "VARCHAR", "민원인 성별", "complainant's sex"),
    described("title", "VARCHAR", "민원제목(개인정보 제거)", "title, scrubbed of personal data"),
    described("body", "VARCHAR", "민원내용(개인정보 제거)", "body, scrubbed of personal data"),
)
_COMPLAINT_DIMENSIONS = ("received_month", "sigungu_code", "sigungu_name", "district", "category",
                         "status", "days_to_completion", "days_to_completion_band", "age_band", "sex")

_COMPLAINTS_MONTHLY_COLUMNS = (
    *sigungu_columns(),
    described("month", "VARCHAR", "접수월(YYYY-MM)", "month received (YYYY-MM)"),
    described("category", "VARCHAR", "민원분야", "complaint category"),
    described("complaints", "BIGINT", "민원 건수", "complaints received"),
    described("completed", "BIGINT", f"처리완료 건수(처리완료 또는 미완료 민원인이 {SMALL_CELL_THRESHOLD}명 미만이면 비공개)",
              f"complaints completed (withheld where fewer than {SMALL_CELL_THRESHOLD} people's complaints are "
              "completed, or open)"),
    described("completion_rate", "DOUBLE", "처리완료율(0–1, 처리완료 건수와 같이 비공개)",
              "completion rate (0–1; withheld with the completed count)"),
    described("median_days_to_completion", "DOUBLE",
              f"처리 소요일수 중앙값(처리완료 민원인이 {SMALL_CELL_THRESHOLD}명 미만이면 비공개)",
              f"median days to completion (withheld where fewer than {SMALL_CELL_THRESHOLD} people's complaints "
              "are completed)"),
    described("p90_days_to_completion", "DOUBLE",
              f"처리 소요일수 90백분위(처리완료 민원인이 {SMALL_CELL_THRESHOLD}명 미만이면 비공개)",
              f"90th percentile of days to completion (withheld where fewer than {SMALL_CELL_THRESHOLD} people's "
              "complaints are completed)"),
    *suppression_columns(),
)

_COMPLAINT_KEYWORDS_COLUMNS = (
    *sigungu_columns(),
    described("month", "VARCHAR", "접수월(YYYY-MM)", "month received (YYYY-MM)"),
    described("keyword", "VARCHAR", "핵심어(일반명사, 형태소 분석)", "keyword (common noun, morphological analysis)"),
    described("complaints", "BIGINT", "핵심어가 나온 민원 건수", "complaints whose title or body names the keyword"),
    *suppression_columns(),
)

def _public_area_of_complaints() -> Ladder:
    """(시군구, 읍면동) as published → (시군구, *) → 창원 구 → 창원시 → 경상남도: over published columns."""
    outputs = ("sigungu_code", "sigungu_name", "district")
    return Ladder("area", outputs, (
        Level("읍면동", GENERALISED, ("sigungu_code", "sigungu_name", "coalesce(district, '*')")),
        Level("시군구", GENERALISED, ("sigungu_code", "sigungu_name", "'*'")),
        Level("시군", GENERALISED, (CHANGWON_SIGUN, sigungu_name_sql(CHANGWON_SIGUN), "'*'")),
        Level("도 (경상남도)", GENERALISED, (*PROVINCE, "'*'")),
    ))


CIVIL_COMPLAINTS = PublishedTable(
        "civil_complaints", "민원 접수 현황(가명정보)", "Civil complaints (pseudonymised)",
        "시군별 민원 접수 건: 접수월, 지역, 분야, 처리상태, 처리 소요일수, 민원인 연령대·성별, 개인정보를 제거한 제목과 내용.",
        "One row per complaint: month, area, category, status, days to completion, complainant's "
        "age band and sex, and title and body scrubbed of personal data.",
        "one complaint", _COMPLAINT_COLUMNS, ("civil_complaints",),
        "가명처리(HMAC-SHA-256 키), 성명·주민등록번호·전화번호·주소 삭제, 접수일시→월, 나이→연령대, "
        f"주소→읍면동 이상, 자유기재 항목의 개인정보 마스킹; {K_ANONYMITY_TREATMENT}. 공개본(익명정보): 가명키와 제목·내용·민원분야 삭제"
        f"(분야별 건수는 시군별 월별 민원 통계로), 준식별자 재범주화로 k-익명성(k ≥ {PUBLIC_K}).",
        PSEUDONYMOUS, provider_column="sigungu_code",
        selectable=_COMPLAINT_DIMENSIONS, filterable=_COMPLAINT_DIMENSIONS,
        groupable=_COMPLAINT_DIMENSIONS,
        # the category too: counted by 시군 × month × category, the open rows would give back the
        # cells civil_complaints_monthly suppresses (the categories are published there)
        open_data_withheld=("complaint_key", "complainant_key", "title", "body", "category"),
        public_release=PublicRelease(
            quasi_identifiers=(_public_area_of_complaints(), text_ladder("age_band"),
                               text_ladder("sex"), text_ladder("days_to_completion_band"),
                               text_ladder("days_to_completion")),
            partition_by=("received_month",), person="complainant_key"),
        portal=PortalListing("일반공공행정 - 일반행정", ("민원", "시군", "처리기간", "익명정보")))

CIVIL_COMPLAINTS_MONTHLY = PublishedTable(
        "civil_complaints_monthly", "시군별 월별 민원 통계", "Civil complaints by 시군, month and category",
        "시군 × 월 × 민원분야별 접수 건수, 처리완료 건수와 비율, 처리 소요일수 중앙값과 90백분위.",
        "Counts, completion rate, median and p90 days to completion per 시군, month and category.",
        "시군 × month × category", _COMPLAINTS_MONTHLY_COLUMNS, ("civil_complaints",),
        f"총계처리; 민원인 {SMALL_CELL_THRESHOLD}명 미만 셀 억제와 합계로부터의 역산을 막는 2차 억제.",
        STATISTICS, provider_column="sigungu_code", derived_from=("civil_complaints",),
        selectable=everything_but(_COMPLAINTS_MONTHLY_COLUMNS),
        filterable=("sigungu_code", "sigungu_name", "month", "category", "suppressed"),
        groupable=("sigungu_code", "sigungu_name", "month", "category", "suppressed"),
        record_level_allowed=True,
        portal=PortalListing("일반공공행정 - 일반행정", ("민원", "시군", "월별", "처리기간", "처리율")))

CIVIL_COMPLAINT_KEYWORDS_MONTHLY = PublishedTable(
        "civil_complaint_keywords_monthly", "시군별 월별 민원 핵심어 통계", "Civil complaint keywords by 시군 and month",
        "시군 × 월 × 핵심어별 민원 건수: 제목과 내용에서 형태소 분석(kiwipiepy)으로 뽑은 일반명사, "
        "그 달 도 전체에서 자주 나온 핵심어만.",
        "Complaints per 시군, month and keyword: common nouns of the title and body (kiwipiepy "
        "morphological analysis), among the month's most frequent keywords province-wide.",
        "시군 × month × keyword", _COMPLAINT_KEYWORDS_COLUMNS, ("civil_complaints",),
        f"총계처리(민원 원문은 공개하지 않고 일반명사 빈도만 공개, 고유명사 제외); 민원인 {SMALL_CELL_THRESHOLD}명 미만 셀 억제와 2차 억제.",
        STATISTICS, provider_column="sigungu_code", derived_from=("civil_complaints",),
        selectable=everything_but(_COMPLAINT_KEYWORDS_COLUMNS),
        filterable=("sigungu_code", "sigungu_name", "month", "keyword", "suppressed"),
        groupable=("sigungu_code", "sigungu_name", "month", "keyword", "suppressed"),
        record_level_allowed=True,
        portal=PortalListing("일반공공행정 - 일반행정", ("민원", "키워드", "시군", "월별")))


# The distinct complainants of a group of complaints (one person may complain many times), counted
# on the keys' hashes (8 bytes, not 64 characters: the distinct counts of a million complaints'
# keywords held them all). A missing key (no RRN, no phone) hashes to one value: those complaints
# count as one person, the cautious reading of "fewer than 5 people"; two keys sharing a hash would
# count as one person too: fewer, never more.
PEOPLE_SQL = "count(DISTINCT hash(complainant_key))"

# Within a published cell, the completed complaints are a smaller group: `completed` (and the
# rate, which gives it back) is withheld where fewer than 5 people's complaints were completed, or
# fewer than 5 people's are still open (complaints − completed would give those); the median and
# p90 days where fewer than 5 people's were completed (one person's days would be published).
_COMPLETED = "status = '처리완료'"
COMPLAINTS_MONTHLY_SQL = f"""
CREATE OR REPLACE TABLE civil_complaints_monthly AS
WITH cells AS (
    SELECT {CHANGWON_SIGUN} AS sigungu_code, strftime(received_at, '%Y-%m') AS month, category,
           count(*) AS complaints,
           count(*) FILTER (WHERE {_COMPLETED}) AS completed,
           median(date_diff('day', CAST(received_at AS DATE), completed_on)) AS median_days,
           quantile_cont(date_diff('day', CAST(received_at AS DATE), completed_on), 0.9) AS p90_days,
           {PEOPLE_SQL} AS people,
           {PEOPLE_SQL} FILTER (WHERE {_COMPLETED}) AS completed_people,
           {PEOPLE_SQL} FILTER (WHERE NOT {_COMPLETED} OR status IS NULL) AS open_people
    FROM complaint_drops GROUP BY ALL),
withheld AS (
    SELECT *, completed > 0 AND completed_people < {SMALL_CELL_THRESHOLD} AS few_completed,
           complaints > completed AND open_people < {SMALL_CELL_THRESHOLD} AS few_open
    FROM cells)
SELECT sigungu_code, month, category, complaints,
       CASE WHEN NOT (few_completed OR few_open) THEN completed END AS completed,
       CASE WHEN NOT (few_completed OR few_open) THEN round(completed / complaints, 4) END AS completion_rate,
       CASE WHEN NOT few_completed THEN median_days END AS median_days_to_completion,
       CASE WHEN NOT few_completed THEN p90_days END AS p90_days_to_completion,
       people
FROM withheld"""


def _build_monthly(connection) -> None:
    connection.execute(COMPLAINTS_MONTHLY_SQL)


# The open complaints copy gives each 시군 × month's completed complaints (its rows' status; the
# category is withheld there). Where one published cell of a 시군 × month withholds `completed`,
# that total minus the others would give it back: the smallest other `completed` of the 시군 ×
# month is withheld with it. Cells suppressed whole are not counted on to hide it (cautious).
_LONE_WITHHELD_COMPLETED_SQL = """
UPDATE civil_complaints_monthly AS m SET completed = NULL, completion_rate = NULL
FROM (
    SELECT sigungu_code, month, category FROM (
        SELECT sigungu_code, month, category, complaints, completed,
               count(*) FILTER (WHERE completed IS NULL AND complaints > 0) OVER cells AS withheld,
               row_number() OVER (cells ORDER BY completed IS NULL OR NOT complaints > 0, completed, category) AS pick
        FROM civil_complaints_monthly WINDOW cells AS (PARTITION BY sigungu_code, month))
    WHERE withheld = 1 AND pick = 1 AND completed IS NOT NULL AND complaints > 0) AS complement
WHERE m.sigungu_code = complement.sigungu_code AND m.month = complement.month AND m.category = complement.category"""


def _withhold_with_the_lone_withheld_completed(connection) -> int:
    return connection.execute(_LONE_WITHHELD_COMPLETED_SQL).fetchone()[0]


# Complaint text reaches the public only as statistics (spec "Privacy classes"), as 국민권익위
# publishes 민원 keyword trends: the common nouns (NNG) of each complaint, counted once per
# complaint. Proper nouns (NNP: names, places) are left out; so are the scrubber's placeholders.
KEYWORDS_PER_MONTH = 30  # the month's most frequent keywords province-wide
# Words of the complaint form itself, in nearly every complaint (measured on a synthetic week of
# 3 시군: 부탁, 요청, 신고, 회신, 검토, 조치 topped every 시군): they say nothing about the topic.
GENERIC_COMPLAINT_WORDS = frozenset({
    "민원", "부탁", "요청", "신고", "회신", "검토", "조치", "처리", "확인", "문의", "답변", "해결", "관련",
    "내용", "제목", "사항", "경우", "생각", "이름", "주민"})
_PLACEHOLDER = re.compile(r"\[[^\]]{1,20}\]")
_BATCH = 2_000  # distinct sentences per kiwipiepy call

# The month's vocabulary needs each keyword's complainants, which are counted (distinct (…, person)
# rows, plain GROUP BYs that spill) only for the month's `$candidates` most frequent keywords with
# enough complaints: at a million complaints, grouping every keyword by person took 4 s and 1 GB.
# Exact whenever each month finds its 30 among them; `_build_keywords_monthly` checks, and counts
# every keyword when a month does not. The (…, person) rows go into a temporary table, which DuckDB
# writes out under its memory limit: as a CTE read twice, ten million complaints (82M keyword rows)
# ran out of the 400 MB kept beside the model.
KEYWORD_PEOPLE_SQL = """
CREATE OR REPLACE TEMP TABLE keyword_people AS
WITH candidates AS (
    SELECT month, keyword FROM complaint_keywords GROUP BY month, keyword HAVING count(*) >= $threshold
    QUALIFY row_number() OVER (PARTITION BY month ORDER BY count(*) DESC, keyword) <= $candidates)
SELECT k.sigungu_code, k.month, k.keyword, hash(k.complainant_key) AS person, count(*) AS complaints
FROM complaint_keywords k SEMI JOIN candidates c ON k.month = c.month AND k.keyword = c.keyword
GROUP BY ALL"""
KEYWORDS_SQL = """
CREATE OR REPLACE TABLE civil_complaint_keywords_monthly AS
WITH vocabulary AS (
    SELECT month, keyword FROM keyword_people GROUP BY month, keyword HAVING count(DISTINCT person) >= $threshold
    QUALIFY row_number() OVER (PARTITION BY month ORDER BY sum(complaints) DESC, keyword) <= $per_month)
SELECT sigungu_code, month, keyword, CAST(sum(complaints) AS BIGINT) AS complaints, count(*) AS people
FROM keyword_people JOIN vocabulary USING (month, keyword) GROUP BY ALL"""


def count_keywords(connection, candidates: int) -> None:
    """`civil_complaint_keywords_monthly` from the view `complaint_keywords`, each month's vocabulary
    chosen among its `candidates` most frequent keywords."""
    try:
        connection.execute(KEYWORD_PEOPLE_SQL, {"threshold": SMALL_CELL_THRESHOLD, "candidates": candidates})
        connection.execute(KEYWORDS_SQL, {"threshold": SMALL_CELL_THRESHOLD, "per_month": KEYWORDS_PER_MONTH})
    finally:
        connection.execute("DROP TABLE IF EXISTS keyword_people")


KEYWORD_CANDIDATES = 200  # per month: the vocabulary's 30 among them unless many are one person's
# months whose vocabulary may lie beyond the candidates: short of 30, with more keywords left
_SHORT_MONTHS_SQL = """
SELECT count(*) FROM (
    SELECT month, count(*) AS eligible FROM (
        SELECT month, keyword FROM complaint_keywords GROUP BY ALL HAVING count(*) >= $threshold)
    GROUP BY month) e
LEFT JOIN (SELECT month, count(DISTINCT keyword) AS chosen FROM civil_complaint_keywords_monthly GROUP BY month) v
USING (month)
WHERE coalesce(v.chosen, 0) < $per_month AND e.eligible > $candidates"""


# kiwipiepy's threads: two cost the same CPU time as one and give the same nouns (measured, see
# docs/keywords.md), so with a second core idle (a publication after ingestion) the sentences take
# about half the time; on a machine busy with other work they were neither faster nor slower.
KIWI_THREADS = 2


@lru_cache(maxsize=1)
def _kiwi():
    """The analyser, its model wholly loaded (about 3.5 s of CPU): only when text is counted."""
    from kiwipiepy import Kiwi

    kiwi = Kiwi(num_workers=min(KIWI_THREADS, len(os.sched_getaffinity(0))))
    # Kiwi initialises lazily: its first analysis loads the rest (2 s of the 3.5), and kiwipiepy's
    # docs advise an empty one for that. Here, so that a warm-up's `prepare` loads it all.
    kiwi.tokenize("")
    return kiwi


# A word kiwipiepy does not know, read as a common noun, shaped like a Korean full name (a surname
# and two syllables): a person's name (박민준 in "윗집 사는 박민준 때문에" is NNG, out of vocabulary),
# never a keyword. Known words are kept (박물관, 정류장); unknown compounds other than names too
# (비산먼지, road names).
_UNKNOWN_NAME = re.compile(FULL_NAME)


def _keyword(token) -> bool:
    return (token.tag == "NNG" and len(token.form) >= 2 and token.form not in GENERIC_COMPLAINT_WORDS
            and not (token.oov and _UNKNOWN_NAME.fullmatch(token.form)))


def complaint_nouns(texts: Iterable[str]) -> list[list[str]]:
    """The distinct common nouns (two syllables or more) of each text, in order of appearance,
    without unknown words shaped like a person's name."""
    cleaned = [_PLACEHOLDER.sub(" ", text or "") for text in texts]
    return [list(dict.fromkeys(t.form for t in tokens if _keyword(t))) for tokens in _kiwi().tokenize(cleaned)]


# The nouns of each complaint file are tokenised once per (source_file, content_sha256) and kept
# in the restricted zone (free-text derived: never published); each publication tokenises only
# the files not seen before and counts in SQL over the cache joined to the current drops, so a
# corrected file (new bytes) or one no longer delivered drops out of the counts.
#
# The unit given to kiwipiepy is the sentence, not the complaint: a complaint's nouns are the
# union of its sentences' nouns, and each distinct sentence of the new files is tokenised once.
# Stock sentences repeat far more than whole texts (1M synthetic complaints: 69k distinct texts,
# 23k distinct sentences, 8x fewer characters) and the nouns were the same for every complaint
# measured (docs/keywords.md). Whitespace-separated words (어절) would repeat more still, but
# out of context kiwipiepy reads them differently (the same noun sets for 55% of complaints).
# A file's nouns depend on its scrubbed text, not only on the delivered bytes: re-de-identification
# (a scrubber that now replaces more) changes the text under the same digest, so the text is keyed too.
_FILES_SQL = """SELECT source_file, content_sha256, bit_xor(hash(source_row_number, title, body)) AS text_digest
FROM complaint_drops WHERE received_at IS NOT NULL GROUP BY source_file, content_sha256"""
# A sentence ends at . ! or ? followed by white space (the title runs into the body's first one, as
# it did in the whole text); the scrubber's placeholders are blanked first, as complaint_nouns does.
# Distinct texts are cut, not rows (the regular expressions are most of the SQL's cost).
_SENTENCE_BREAK = r"([.!?])\s+"
_SENTENCES_OF_NEW_TEXTS_SQL = f"""
SELECT text, sentence
FROM (SELECT text, unnest(string_split(regexp_replace(regexp_replace(text, '{_PLACEHOLDER.pattern}', ' ', 'g'),
                                                      '{_SENTENCE_BREAK}', '\\1' || chr(31), 'g'), chr(31))) AS sentence
      FROM (SELECT DISTINCT concat_ws(' ', d.title, d.body) AS text
            FROM complaint_drops d JOIN uncached_files f USING (source_file, content_sha256)
            WHERE d.received_at IS NOT NULL))
WHERE trim(sentence) <> ''"""
_DISTINCT_SENTENCES_SQL = f"SELECT DISTINCT sentence FROM ({_SENTENCES_OF_NEW_TEXTS_SQL})"
# One row per complaint with nouns, its nouns as a list (five times fewer rows to write, join and
# read back than one row per noun); ordered by file only: each file is written whole before the next.
_NOUNS_OF_NEW_FILES_SQL = f"""
WITH text_nouns AS (
    SELECT s.text, list(DISTINCT n.keyword ORDER BY n.keyword) AS keywords
    FROM ({_SENTENCES_OF_NEW_TEXTS_SQL}) s JOIN read_parquet($sentence_nouns) n USING (sentence)
    GROUP BY s.text)
SELECT f.file_index, d.source_row_number, t.keywords
FROM complaint_drops d JOIN uncached_files f USING (source_file, content_sha256)
JOIN text_nouns t ON concat_ws(' ', d.title, d.body) = t.text
WHERE d.received_at IS NOT NULL
ORDER BY f.file_index"""
_KEYWORDS_OF_DROPS_SQL = """
CREATE OR REPLACE TEMP VIEW complaint_keywords AS
SELECT {sigun} AS sigungu_code, strftime(d.received_at, '%Y-%m') AS month, d.complainant_key,
       unnest(n.keywords) AS keyword
FROM complaint_drops d JOIN {nouns} n USING (source_file, content_sha256, source_row_number)
WHERE d.received_at IS NOT NULL"""
_NOUN_ROWS_PER_BATCH = 100_000  # (file, row, nouns) rows streamed into the cache files at a time


@lru_cache(maxsize=1)
def _nouns_schema():
    import pyarrow as pa

    return pa.schema([("source_file", pa.string()), ("content_sha256", pa.string()),
                      ("source_row_number", pa.int64()), ("keywords", pa.list_(pa.string()))])


def _noun_rule() -> str:
    """What the cached nouns depend on besides the text: a new rule or model starts a new cache."""
    from importlib.metadata import version

    rule = (f"kiwipiepy {version('kiwipiepy')}; NNG >= 2; not unknown {_UNKNOWN_NAME.pattern}; "
            f"{_PLACEHOLDER.pattern}; {sorted(GENERIC_COMPLAINT_WORDS)}; "
            f"per sentence: {_SENTENCE_BREAK}; a list per complaint")
    return hashlib.sha256(rule.encode()).hexdigest()[:16]


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _noun_file_name(source_file: str, content_sha256: str, text_digest: int) -> str:
    return hashlib.sha256(f"{source_file}\0{content_sha256}\0{text_digest}".encode()).hexdigest() + ".parquet"


class _NounFile:
    """One file's nouns, streamed beside `target` batch by batch and renamed when complete: memory
    stays one batch whatever the drop's size, and a killed run leaves no cache file."""

    def __init__(self, target: Path) -> None:
        import pyarrow.parquet as pq  # pyarrow, not ingest's DuckDB helper: declarations sit below ingest

        self.target = target
        self.partial = partial_path(target)
        self.writer = pq.ParquetWriter(self.partial, _nouns_schema(), compression="zstd")

    def write(self, batch) -> None:
        self.writer.write_batch(batch)

    def complete(self) -> None:
        self.writer.close()
        os.replace(self.partial, self.target)


def _tokenise_sentences(connection, target: Path, tokenise) -> None:
    """(sentence, keyword) of every distinct sentence of the new files, into the Parquet `target`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("sentence", pa.string()), ("keyword", pa.string())])
    result = connection.execute(_DISTINCT_SENTENCES_SQL)  # DuckDB holds the distinct sentences, Python one batch
    with pq.ParquetWriter(target, schema) as sentence_nouns:
        while batch := [sentence for (sentence,) in result.fetchmany(_BATCH)]:
            pairs = [(sentence, noun) for sentence, nouns in zip(batch, tokenise(batch)) for noun in nouns]
            sentence_nouns.write_batch(pa.record_batch([pa.array([s for s, _ in pairs], pa.string()),
                                                        pa.array([n for _, n in pairs], pa.string())], schema=schema))


def _tokenise_files(connection, files: list[tuple[str, str, int]], cache: Path, tokenise) -> None:
    """Nouns of every row of `files` ((source_file, content_sha256, text_digest)), one cache file per file."""
    import numpy as np
    import pyarrow as pa

    reader = connection.cursor()  # its own results, closed whatever happens: `connection` stays usable
    reader.register("uncached_files", pa.table({"file_index": pa.array(range(len(files)), pa.int64()),
                                                "source_file": [f for f, _, _ in files],
                                                "content_sha256": [s for _, s, _ in files]}))
    sentence_nouns = partial_path(cache / "sentences.parquet")  # free text: restricted, like the cache
    try:
        _tokenise_sentences(reader, sentence_nouns, tokenise)
        nouns = reader.sql(_NOUNS_OF_NEW_FILES_SQL.replace("$sentence_nouns", _sql_literal(str(sentence_nouns))))
        written, noun_file = set(), None
        for batch in nouns.to_arrow_reader(_NOUN_ROWS_PER_BATCH):
            file_index = batch.column(0).to_numpy()
            starts = [0, *(np.flatnonzero(np.diff(file_index)) + 1)]
            for start, end in zip(starts, [*starts[1:], len(batch)]):
                index = int(file_index[start])
                if index not in written:
                    if noun_file is not None:
                        noun_file.complete()  # rows come ordered by file: the previous one is whole
                    written.add(index)
                    noun_file = _NounFile(cache / _noun_file_name(*files[index]))
                rows = batch.slice(start, end - start)
                noun_file.write(pa.record_batch(
                    [pa.array([files[index][0]] * len(rows), pa.string()),
                     pa.array([files[index][1]] * len(rows), pa.string()),
                     rows.column(1), rows.column(2)], schema=_nouns_schema()))
        if noun_file is not None:
            noun_file.complete()
        for index in set(range(len(files))) - written:  # no noun in any row: cached as such
            _NounFile(cache / _noun_file_name(*files[index])).complete()
    finally:
        reader.close()
        sentence_nouns.unlink(missing_ok=True)


def _build_keywords_monthly(connection, cache_dir: Path | None = None, *, tokenise=None) -> None:
    """`civil_complaint_keywords_monthly` in `connection` from the view `complaint_drops` (with its
    lineage columns). `cache_dir`: a restricted directory kept between builds for the nouns of
    each complaint file (None: a throw-away one, every text tokenised). `tokenise`: sentences → nouns."""
    if cache_dir is None:
        with tempfile.TemporaryDirectory(prefix="complaint-nouns-") as scratch:
            return _build_keywords_monthly(connection, Path(scratch), tokenise=tokenise)
    from gn_pipelines.settings import make_private_directory

    cache = make_private_directory(Path(cache_dir) / f"nouns-{_noun_rule()}")
    for other in Path(cache_dir).glob("nouns-*"):
        if other != cache:
            shutil.rmtree(other)  # made under another rule: never read again
    current = {_noun_file_name(*key): key for key in connection.execute(_FILES_SQL).fetchall()}
    kept = set()
    for path in cache.iterdir():
        if path.suffix == ".parquet" and path.name in current:
            kept.add(path.name)
        else:
            path.unlink()  # a file replaced or withdrawn, or half a file of a killed run
    missing = [key for name, key in current.items() if name not in kept]
    if missing:
        _tokenise_files(connection, missing, cache, tokenise or complaint_nouns)
    nouns = (f"read_parquet({_sql_literal(str(cache / '*.parquet'))})" if current else
             "(SELECT ''::VARCHAR AS source_file, '' AS content_sha256, 0::BIGINT AS source_row_number, "
             "[]::VARCHAR[] AS keywords WHERE false)")
    connection.execute(_KEYWORDS_OF_DROPS_SQL.format(sigun=CHANGWON_SIGUN, nouns=nouns))
    try:
        count_keywords(connection, KEYWORD_CANDIDATES)
        if connection.execute(_SHORT_MONTHS_SQL, {"threshold": SMALL_CELL_THRESHOLD, "per_month": KEYWORDS_PER_MONTH,
                                                  "candidates": KEYWORD_CANDIDATES}).fetchone()[0]:
            count_keywords(connection, 2**62)  # every keyword
    finally:
        connection.execute("DROP VIEW complaint_keywords")


DATASET = Dataset(
    CONTRACT, RECIPE,
    record_tables=(CIVIL_COMPLAINTS,),
    aggregates=(
        Aggregate(CIVIL_COMPLAINTS_MONTHLY, _build_monthly, "complaints",
                  ("completed", "completion_rate", "median_days_to_completion", "p90_days_to_completion"),
                  ("sigungu_code", "month", "category"), complete_within=("sigungu_code", "month"),
                  source_view="complaint_drops", people_column="people",
                  after_suppression=_withhold_with_the_lone_withheld_completed,
                  record_columns=(("month", "received_month"),)),
        # Each month's keywords crossed with every 시군: an absent row would say "0", a suppressed one hides it.
        Aggregate(CIVIL_COMPLAINT_KEYWORDS_MONTHLY, _build_keywords_monthly, "complaints", (),
                  ("sigungu_code", "month", "keyword"), complete_within=("month", "keyword"),
                  source_view="complaint_drops", keeps_cache=True, prepare=_kiwi, unload=_kiwi.cache_clear,
                  people_column="people",
                  record_columns=(("month", "received_month"),)),
    ),
)
