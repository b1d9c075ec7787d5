"""The published aggregates, built from the de-identified drops and small-cell suppressed.

Aggregates read the pseudonymised drops (no direct identifiers, every record) rather than the
k-anonymised release, so counts are exact; the suppression protects them instead.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable

from gn_pipelines.privacy.generalisation import age_ladder
from gn_pipelines.publish.suppression import (
    CIVIL_COMPLAINT_KEYWORDS_MONTHLY,
    CIVIL_COMPLAINTS_MONTHLY,
    WELFARE_SUMMARY,
    SuppressionReport,
    SuppressionSpec,
    suppress_aggregate,
)
from gn_pipelines.publish.tables import SMALL_CELL_THRESHOLD
from gn_pipelines.reference import CHANGWON_CODE, CHANGWON_DISTRICTS

_SIGUN = ("CASE WHEN sigungu_code IN ({districts}) THEN '{changwon}' ELSE sigungu_code END"
          .format(districts=", ".join(f"'{c}'" for c in CHANGWON_DISTRICTS), changwon=CHANGWON_CODE))

COMPLAINTS_MONTHLY_SQL = f"""
CREATE OR REPLACE TABLE civil_complaints_monthly AS
SELECT {_SIGUN} AS sigungu_code, strftime(received_at, '%Y-%m') AS month, category,
       count(*) AS complaints,
       count(*) FILTER (WHERE status = '처리완료') AS completed,
       round(count(*) FILTER (WHERE status = '처리완료') / count(*), 4) AS completion_rate,
       median(date_diff('day', CAST(received_at AS DATE), completed_on)) AS median_days_to_completion,
       quantile_cont(date_diff('day', CAST(received_at AS DATE), completed_on), 0.9) AS p90_days_to_completion
FROM complaint_drops GROUP BY ALL"""

# 10-year age bands (80+): the summary's cells stay large enough to need little suppression
_AGE_BAND = age_ladder(at="reference_month").levels[2].sql[0]

WELFARE_SUMMARY_SQL = f"""
CREATE OR REPLACE TABLE welfare_summary AS
SELECT {_SIGUN} AS sigungu_code, reference_month, benefit_type, {_AGE_BAND} AS age_band, coalesce(sex, '*') AS sex,
       count(DISTINCT recipient_key) AS recipients, sum(monthly_amount_krw) AS amount_total_krw
FROM welfare_drops GROUP BY ALL"""


def build_complaints_monthly(connection) -> SuppressionReport:
    """`civil_complaints_monthly` in `connection` from the view `complaint_drops`."""
    connection.execute(COMPLAINTS_MONTHLY_SQL)
    return suppress_aggregate(connection, "civil_complaints_monthly", CIVIL_COMPLAINTS_MONTHLY)


def build_welfare_summary(connection) -> SuppressionReport:
    """`welfare_summary` in `connection` from the view `welfare_drops`."""
    connection.execute(WELFARE_SUMMARY_SQL)
    return suppress_aggregate(connection, "welfare_summary", WELFARE_SUMMARY)


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
_BATCH = 2_000

COMPLAINT_TEXTS_SQL = f"""
SELECT {_SIGUN} AS sigungu_code, strftime(received_at, '%Y-%m') AS month,
       concat_ws(' ', title, body) AS text
FROM complaint_drops WHERE received_at IS NOT NULL"""

KEYWORDS_SQL = """
CREATE OR REPLACE TABLE civil_complaint_keywords_monthly AS
WITH counts AS (
    SELECT sigungu_code, month, keyword, count(*) AS complaints FROM complaint_keywords GROUP BY ALL),
vocabulary AS (
    SELECT month, keyword FROM counts GROUP BY month, keyword HAVING sum(complaints) >= $threshold
    QUALIFY row_number() OVER (PARTITION BY month ORDER BY sum(complaints) DESC, keyword) <= $per_month)
SELECT c.* FROM counts c JOIN vocabulary v USING (month, keyword)"""


@lru_cache(maxsize=1)
def _kiwi():
    from kiwipiepy import Kiwi  # loads its bundled model (about 1 s): only when text is counted

    return Kiwi()


def complaint_nouns(texts: Iterable[str]) -> list[list[str]]:
    """The distinct common nouns (two syllables or more) of each text, in order of appearance."""
    cleaned = [_PLACEHOLDER.sub(" ", text or "") for text in texts]
    nouns = []
    for tokens in _kiwi().tokenize(cleaned):
        seen = dict.fromkeys(t.form for t in tokens
                             if t.tag == "NNG" and len(t.form) >= 2 and t.form not in GENERIC_COMPLAINT_WORDS)
        nouns.append(list(seen))
    return nouns


def build_complaint_keywords_monthly(connection) -> SuppressionReport:
    """`civil_complaint_keywords_monthly` in `connection` from the view `complaint_drops`."""
    import pyarrow as pa

    cursor = connection.execute(COMPLAINT_TEXTS_SQL)
    codes, months, keywords = [], [], []
    while batch := cursor.fetchmany(_BATCH):
        for (code, month, _), nouns in zip(batch, complaint_nouns(row[2] for row in batch)):
            codes += [code] * len(nouns)
            months += [month] * len(nouns)
            keywords += nouns
    found = pa.table({"sigungu_code": pa.array(codes, pa.string()), "month": pa.array(months, pa.string()),
                      "keyword": pa.array(keywords, pa.string())})
    connection.register("complaint_keywords", found)
    try:
        connection.execute(KEYWORDS_SQL, {"threshold": SMALL_CELL_THRESHOLD, "per_month": KEYWORDS_PER_MONTH})
    finally:
        connection.unregister("complaint_keywords")
    return suppress_aggregate(connection, "civil_complaint_keywords_monthly", CIVIL_COMPLAINT_KEYWORDS_MONTHLY)


# The published aggregates: builder and suppression of each, by table name.
AGGREGATES: dict[str, tuple] = {
    "civil_complaints_monthly": (build_complaints_monthly, CIVIL_COMPLAINTS_MONTHLY),
    "civil_complaint_keywords_monthly": (build_complaint_keywords_monthly, CIVIL_COMPLAINT_KEYWORDS_MONTHLY),
    "welfare_summary": (build_welfare_summary, WELFARE_SUMMARY),
}


def aggregate_spec(table: str) -> SuppressionSpec:
    return AGGREGATES[table][1]
