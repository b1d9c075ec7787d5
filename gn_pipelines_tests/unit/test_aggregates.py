"""The published aggregates from pseudonymised records: their grain (시군, not 창원's 구)."""

import duckdb

from gn_pipelines.publish.aggregates import build_complaints_monthly, build_welfare_summary

CHANGWON_DISTRICTS = ("48121", "48123", "48125", "48127", "48129")


def test_changwon_districts_roll_up_to_one_sigun_in_both_aggregates():
    connection = duckdb.connect()
    connection.execute(f"""
        CREATE VIEW welfare_drops AS
        SELECT 'k' || i AS recipient_key, '2025-03' AS reference_month,
               {list(CHANGWON_DISTRICTS)}[i % 5 + 1] AS sigungu_code, '생계급여' AS benefit_type,
               1950 AS birth_year, 'F' AS sex, 500000 AS monthly_amount_krw
        FROM range(6) t(i)""")
    connection.execute(f"""
        CREATE VIEW complaint_drops AS
        SELECT {list(CHANGWON_DISTRICTS)}[i % 5 + 1] AS sigungu_code,
               TIMESTAMP '2025-03-02 10:00' AS received_at, '복지' AS category, '처리완료' AS status,
               DATE '2025-03-04' AS completed_on
        FROM range(6) t(i)""")
    build_welfare_summary(connection)
    build_complaints_monthly(connection)
    # six people over five 구 are one publishable 창원시 cell, not five suppressed ones
    assert connection.execute("SELECT sigungu_code, recipients, amount_total_krw, suppressed "
                              "FROM welfare_summary").fetchall() == [("48120", 6, 3_000_000, False)]
    assert connection.execute("SELECT sigungu_code, complaints, suppressed "
                              "FROM civil_complaints_monthly").fetchall() == [("48120", 6, False)]
