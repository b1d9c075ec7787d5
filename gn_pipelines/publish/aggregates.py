"""The published aggregates, built from the de-identified drops and small-cell suppressed.

Aggregates read the pseudonymised drops (no direct identifiers, every record) rather than the
k-anonymised release, so counts are exact; the suppression protects them instead.
"""

from __future__ import annotations

from gn_pipelines.privacy.generalisation import age_ladder
from gn_pipelines.publish.suppression import (
    CIVIL_COMPLAINTS_MONTHLY,
    WELFARE_SUMMARY,
    SuppressionReport,
    suppress_aggregate,
)
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
