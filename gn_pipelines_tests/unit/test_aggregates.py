"""The published aggregates from pseudonymised records: their grain (시군, not 창원's 구)."""

import duckdb

from gn_pipelines.publish.aggregates import build_aggregate

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
        SELECT {list(CHANGWON_DISTRICTS)}[i % 5 + 1] AS sigungu_code, 'c' || i AS complainant_key,
               TIMESTAMP '2025-03-02 10:00' AS received_at, '복지' AS category, '처리완료' AS status,
               DATE '2025-03-04' AS completed_on
        FROM range(6) t(i)""")
    build_aggregate(connection, "welfare_summary")
    build_aggregate(connection, "civil_complaints_monthly")
    # six people over five 구 are one publishable 창원시 cell, not five suppressed ones
    assert connection.execute("SELECT sigungu_code, recipients, amount_total_krw, suppressed "
                              "FROM welfare_summary").fetchall() == [("48120", 6, 3_000_000, False)]
    assert connection.execute("SELECT sigungu_code, complaints, suppressed "
                              "FROM civil_complaints_monthly").fetchall() == [("48120", 6, False)]


def complaints_of(connection, complainants: list[str | None]) -> None:
    """One 복지 complaint of 48740 in March 2025 per entry, by that complainant key (None: none)."""
    keys = ", ".join("NULL" if k is None else f"'{k}'" for k in complainants)
    connection.execute(f"""
        CREATE OR REPLACE VIEW complaint_drops AS
        SELECT '48740' AS sigungu_code, unnest([{keys}]::VARCHAR[]) AS complainant_key,
               TIMESTAMP '2025-03-02 10:00' AS received_at, '복지' AS category, '처리완료' AS status,
               DATE '2025-03-04' AS completed_on""")


def test_a_cell_counts_people_not_complaints():
    """Twelve complaints of one complainant are one person: the cell is suppressed (spec: "fewer
    than 5 people"), and the count of people is not published."""
    connection = duckdb.connect()
    complaints_of(connection, ["same person"] * 12)
    report = build_aggregate(connection, "civil_complaints_monthly")
    assert connection.execute("SELECT complaints, completed, suppressed, suppression "
                              "FROM civil_complaints_monthly").fetchall() == [(None, None, True, "primary")]
    assert report.primary == 1
    assert "people" not in [c[0] for c in connection.execute("DESCRIBE civil_complaints_monthly").fetchall()]
    # five people, whatever their complaints: published
    complaints_of(connection, ["a", "a", "a", "b", "c", "d", "e"])
    build_aggregate(connection, "civil_complaints_monthly")
    assert connection.execute("SELECT complaints, suppressed FROM civil_complaints_monthly").fetchall() == [(7, False)]
    # complaints without a key (no RRN, no phone) count as one person together: 3 known + 1
    complaints_of(connection, ["a", "b", "c", None, None, None])
    build_aggregate(connection, "civil_complaints_monthly")
    assert connection.execute("SELECT complaints, suppressed FROM civil_complaints_monthly").fetchall() == [(None, True)]
    complaints_of(connection, ["a", "b", "c", "d", None, None])
    build_aggregate(connection, "civil_complaints_monthly")
    assert connection.execute("SELECT complaints, suppressed FROM civil_complaints_monthly").fetchall() == [(6, False)]


def test_completed_counts_and_days_of_fewer_than_5_people_are_withheld_in_a_published_cell():
    """A cell of 12 complainants is published; within it the completed ones are a smaller group."""
    connection = duckdb.connect()

    def cell(completed: int, of: int = 12):
        connection.execute(f"""
            CREATE OR REPLACE VIEW complaint_drops AS
            SELECT '48740' AS sigungu_code, 'p' || i AS complainant_key, TIMESTAMP '2025-03-02 10:00' AS received_at,
                   '복지' AS category, CASE WHEN i < {completed} THEN '처리완료' ELSE '처리중' END AS status,
                   CASE WHEN i < {completed} THEN DATE '2025-03-02' + CAST(i AS INTEGER) END AS completed_on
            FROM range({of}) t(i)""")
        build_aggregate(connection, "civil_complaints_monthly")
        return connection.execute("SELECT complaints, completed, completion_rate, median_days_to_completion, "
                                  "p90_days_to_completion, suppressed FROM civil_complaints_monthly").fetchone()

    # two people's complaints completed: their count, rate and (one person's) days are withheld
    assert cell(2) == (12, None, None, None, None, False)
    # ten completed, two open: the count would give the two open away; the days of ten are published
    complaints, completed, rate, median, p90, suppressed = cell(10)
    assert (complaints, completed, rate, suppressed) == (12, None, None, False) and median == 4.5 and p90 is not None
    # six and six: everything is published; none completed: a zero says nothing of anyone
    assert cell(6)[:3] == (12, 6, 0.5) and cell(6)[3] == 2.5
    assert cell(0)[:3] == (12, 0, 0.0) and cell(12)[:3] == (12, 12, 1.0)


def test_a_lone_withheld_completed_count_takes_the_smallest_other_of_its_sigun_and_month_with_it():
    """The open complaints copy gives a 시군 × month's completed complaints: with one cell's
    `completed` withheld, that total minus the other cells' would give it back."""
    connection = duckdb.connect()
    complements = []  # values withheld with a lone one, as the asset's suppression figures say

    def month_of(cells: dict[str, tuple[int, int]]) -> dict:
        """category → (people, of whom completed): one complaint each, 48740, March 2025."""
        rows = [(category, i < done) for category, (people, done) in cells.items() for i in range(people)]
        connection.execute("CREATE OR REPLACE TABLE complaint_rows (category VARCHAR, done BOOLEAN)")
        connection.executemany("INSERT INTO complaint_rows VALUES (?, ?)", rows)
        connection.execute("""
            CREATE OR REPLACE VIEW complaint_drops AS
            SELECT '48740' AS sigungu_code, category || row_number() OVER () AS complainant_key,
                   TIMESTAMP '2025-03-02 10:00' AS received_at, category,
                   CASE WHEN done THEN '처리완료' ELSE '처리중' END AS status,
                   CASE WHEN done THEN DATE '2025-03-05' END AS completed_on FROM complaint_rows""")
        complements.append(build_aggregate(connection, "civil_complaints_monthly").complements_after)
        return {c: (n, done, rate) for c, n, done, rate in connection.execute(
            "SELECT category, complaints, completed, completion_rate FROM civil_complaints_monthly").fetchall()}

    # 환경's 2 completed (of 8) are withheld; the month's total would give them back: 복지's 10, the
    # smaller of the others, is withheld with them; 교통's 25 is published
    assert month_of({"환경": (8, 2), "복지": (20, 10), "교통": (30, 25)}) == {
        "환경": (8, None, None), "복지": (20, None, None), "교통": (30, 25, 0.8333)}
    # two withheld already: nothing more
    assert month_of({"환경": (8, 2), "복지": (20, 18), "교통": (30, 25)}) == {
        "환경": (8, None, None), "복지": (20, None, None), "교통": (30, 25, 0.8333)}
    # none withheld: everything published
    assert month_of({"복지": (20, 10), "교통": (30, 25)}) == {"복지": (20, 10, 0.5), "교통": (30, 25, 0.8333)}
    assert complements == [1, 0, 0]


def test_the_welfare_cube_is_completed_within_the_delivered_months_only():
    connection = duckdb.connect()
    # 48740 delivered March (two benefit types, one of them only for the over-80s), 48720 April
    connection.execute("""
        CREATE VIEW welfare_drops AS
        SELECT 'k' || i AS recipient_key, CASE WHEN i < 40 THEN '2025-03' ELSE '2025-04' END AS reference_month,
               CASE WHEN i < 40 THEN '48740' ELSE '48720' END AS sigungu_code,
               CASE WHEN i < 30 THEN '생계급여' ELSE '의료급여' END AS benefit_type,
               CASE WHEN i < 20 OR i >= 30 THEN 1940 ELSE 1970 END AS birth_year, 'F' AS sex,
               500000 AS monthly_amount_krw
        FROM range(50) t(i)""")
    report = build_aggregate(connection, "welfare_summary")
    cells = connection.execute("SELECT sigungu_code, reference_month, benefit_type, age_band, recipients, suppressed "
                               "FROM welfare_summary ORDER BY ALL").fetchall()
    assert {(c[0], c[1]) for c in cells} == {("48740", "2025-03"), ("48720", "2025-04")}  # no made-up months
    assert len(cells) == 2 * 2 * 2  # each delivered 시군-month × 2 benefit types × 2 age bands
    empty = [c for c in cells if (c[0], c[2], c[3]) == ("48740", "의료급여", "50-59")]
    assert empty == [("48740", "2025-03", "의료급여", "50-59", None, True)] and report.empty_cells == 4
    assert report.determined_by_margins == 0
