"""k-anonymity and l-diversity on a synthetic welfare roll, checked independently with pycanon."""

from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pycanon import anonymity as pycanon

from gn_pipelines.privacy.anonymity import (
    AnonymityError, anonymise, class_stats,
)
from gn_pipelines.privacy.generalisation import (
    MASK, age_ladder, amount_ladder, area_ladder, household_ladder, month_ladder, sex_ladder,
)
from gn_pipelines.privacy.pseudonyms import register_pseudonym_function
from gn_pipelines.synth.welfare_recipients import (
    MONTHLY_RECIPIENTS, WelfareMonth, listed_in, welfare_chunks, welfare_roll,
)

SECRET = b"anonymity-test-secret-5c1d0e"
MONTHS = (date(2025, 1, 1), date(2025, 2, 1))
QI_COLUMNS = ["reference_month", "sigungu_code", "eup_myeon_dong", "age_band",
              "household_size_band", "sex"]
SENSITIVE = ["benefit_type", "amount_band", "disability"]
SMALL_COUNTIES = ("48720", "48890")  # 의령군, 합천군
CHANGWON = "48120"

# Birth year and sex from the 주민등록번호 (the scrubber's helper will provide this in the asset).
PREPARE = """
CREATE TABLE welfare AS SELECT
  row_number() OVER () AS row_id,
  replace(reference_month, '-', '') AS reference_month,
  pseudonym('person_rrn', resident_reg_no) AS person_key,
  sigungu_code, eup_myeon_dong, CAST(household_size AS INTEGER) AS household_size,
  benefit_type, CAST(monthly_amount_krw AS BIGINT) AS monthly_amount_krw, disability,
  CASE WHEN substr(resident_reg_no, 8, 1) IN ('1', '2', '5', '6') THEN 1900 ELSE 2000 END
    + CAST(substr(resident_reg_no, 1, 2) AS INTEGER) AS birth_year,
  CASE WHEN substr(resident_reg_no, 8, 1) IN ('1', '3', '5', '7') THEN 'M' ELSE 'F' END AS sex
FROM raw
"""


def _welfare_roll_table(seed: int = 7) -> pa.Table:
    tables = []
    for month in MONTHS:
        for provider, rows in MONTHLY_RECIPIENTS.items():
            listed = len(listed_in(welfare_roll(seed, provider, rows), month, rows))
            for columns in welfare_chunks(WelfareMonth(provider, month, seed, rows), [listed], False):
                tables.append(pa.table(columns))
    return pa.concat_tables(tables)


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    register_pseudonym_function(connection, SECRET)
    connection.register("raw", _welfare_roll_table())
    connection.execute(PREPARE)
    connection.unregister("raw")
    return connection


def _welfare_qis():
    return [area_ladder(), age_ladder(at="reference_month").from_level(1), household_ladder(),
            sex_ladder()]


def _anonymise_welfare(con, target, k=5, l=2):
    return anonymise(con, "welfare", target, quasi_identifiers=_welfare_qis(),
                     sensitive=["benefit_type", amount_ladder().until_level(0), "disability"],
                     k=k, l=l, partition_by=["reference_month"], keep=["row_id", "person_key"])


@pytest.fixture(scope="module")
def k5(con):
    return _anonymise_welfare(con, "welfare_k5")


@pytest.fixture(scope="module")
def k10(con):
    return _anonymise_welfare(con, "welfare_k10", k=10)


def _frame(con, table):
    return con.execute(f"SELECT * FROM {table}").df()


def test_pycanon_confirms_k_and_l_on_the_output(con, k5):
    frame = _frame(con, "welfare_k5")
    assert pycanon.k_anonymity(frame, QI_COLUMNS) >= 5
    assert pycanon.l_diversity(frame, QI_COLUMNS, SENSITIVE) >= 2
    for column in SENSITIVE:
        assert pycanon.l_diversity(frame, QI_COLUMNS, [column]) == k5.l_reached[column]
    assert pycanon.k_anonymity(frame, QI_COLUMNS) == k5.k_reached


def test_the_raw_table_was_not_anonymous_to_begin_with(con):
    frame = con.execute("SELECT reference_month, sigungu_code, eup_myeon_dong, birth_year, "
                        "household_size, sex FROM welfare").df()
    assert pycanon.k_anonymity(frame, list(frame.columns)) == 1


def test_report_accounts_for_every_record_and_suppression_is_small(con, k5):
    total = con.execute("SELECT count(*) FROM welfare").fetchall()[0][0]
    assert k5.records_in == total
    assert k5.records_out + k5.records_suppressed == total
    assert k5.records_out == con.execute("SELECT count(*) FROM welfare_k5").fetchall()[0][0]
    assert k5.suppression_rate <= 0.02
    assert sum(k5.class_sizes.values()) == k5.equivalence_classes
    assert "1-4" not in k5.class_sizes
    assert k5.k_required == 5 and k5.l_required == 2
    assert set(k5.techniques) == {"reference_month", "sigungu_code", "eup_myeon_dong", "age_band",
                                  "household_size_band", "sex", *SENSITIVE}
    assert k5.techniques["amount_band"] == ["데이터 범주화"]
    assert k5.techniques["reference_month"] == k5.techniques["disability"] == ["원본 유지"]
    import json
    json.dumps(k5.to_dict(), ensure_ascii=False)  # plain values only


def test_the_output_is_deterministic(con, k5):
    again = _anonymise_welfare(con, "welfare_again")
    assert again == k5
    differ = con.execute("SELECT count(*) FROM (SELECT * FROM welfare_k5 EXCEPT ALL "
                         "SELECT * FROM welfare_again)").fetchall()[0][0]
    assert differ == 0


def test_our_own_check_agrees(con, k5):
    k, l_reached = class_stats(con, "welfare_k5", QI_COLUMNS, SENSITIVE)
    assert (k, l_reached) == (k5.k_reached, k5.l_reached)


def test_months_stay_exact_and_each_month_is_anonymous_on_its_own(con):
    before = con.execute("SELECT reference_month, count(*) FROM welfare GROUP BY 1 ORDER BY 1").fetchall()
    after = con.execute("SELECT reference_month, count(*) FROM welfare_k5 GROUP BY 1 ORDER BY 1").fetchall()
    assert [m for m, _ in after] == [m for m, _ in before] == ["202501", "202502"]
    for month, _ in after:
        frame = con.execute("SELECT * FROM welfare_k5 WHERE reference_month = ?", [month]).df()
        assert pycanon.k_anonymity(frame, QI_COLUMNS[1:]) >= 5


def _area_levels(con, table):
    """Share of each original 시군's records published at 읍면동 level."""
    return dict(con.execute(f"""
        SELECT w.sigungu_code, avg(CASE WHEN o.eup_myeon_dong <> '*' THEN 1 ELSE 0 END)
        FROM {table} o JOIN welfare w USING (row_id) GROUP BY 1""").fetchall())


def test_each_sigun_keeps_its_eup_myeon_dong_where_k_allows_and_its_sigun_elsewhere(con, k5):
    kept = _area_levels(con, "welfare_k5")
    assert all(share > 0 for share in kept.values())
    assert kept[CHANGWON] < 1  # 창원's 203 읍면동 are many and small: some fall back to the 시군구
    assert all(county in kept for county in SMALL_COUNTIES)
    # local recoding: some records keep their 읍면동, the others their 시군구; no 시군 is lost
    levels = k5.levels["area"]
    assert levels["읍면동"] > 0 and levels["시군구"] > 0 and "도 (경상남도)" not in levels
    assert sum(levels.values()) == k5.records_out


def test_a_bigger_k_generalises_or_suppresses_more(con, k5, k10):
    frame = _frame(con, "welfare_k10")
    assert pycanon.k_anonymity(frame, QI_COLUMNS) >= 10
    assert pycanon.l_diversity(frame, QI_COLUMNS, SENSITIVE) >= 2
    assert k10.equivalence_classes < k5.equivalence_classes
    coarse = lambda r: r.levels["area"].get("도 (경상남도)", 0) + r.records_suppressed  # noqa: E731
    assert coarse(k10) >= coarse(k5)
    assert k10.levels["area"].get("읍면동", 0) <= k5.levels["area"].get("읍면동", 0)


def test_every_area_that_meets_k_and_l_keeps_its_eup_myeon_dong(con, k5):
    """Mondrian cuts the area first: a 읍면동 with ≥ k records and ≥ l values of each sensitive
    column in a month publishes them at 읍면동, except at most one per 시군구 (kept with the
    remainder when that alone would fail)."""
    diverse = " AND ".join(f"count(DISTINCT {c}) >= 2" for c in ("benefit_type", "disability"))
    missed = con.execute(f"""
        WITH amounts AS (SELECT *, monthly_amount_krw // 300000 AS band FROM welfare),
        eligible AS (SELECT reference_month, sigungu_code, eup_myeon_dong FROM amounts
                     GROUP BY ALL HAVING count(*) >= 5 AND {diverse} AND count(DISTINCT band) >= 2)
        SELECT e.reference_month, e.sigungu_code, count(*) FROM eligible e
        WHERE NOT EXISTS (SELECT 1 FROM welfare_k5 o WHERE o.reference_month = e.reference_month
                          AND o.sigungu_code = e.sigungu_code AND o.eup_myeon_dong = e.eup_myeon_dong)
        GROUP BY ALL""").fetchall()
    eligible = con.execute("""SELECT count(*) FROM (SELECT 1 FROM welfare GROUP BY reference_month,
        sigungu_code, eup_myeon_dong HAVING count(*) >= 5)""").fetchall()[0][0]
    assert eligible > 100
    assert all(n == 1 for _, _, n in missed)
    assert k5.generalised_share["eup_myeon_dong"] < 0.5
    assert k5.priority == ["area", "age", "household size", "sex"]


def test_a_larger_l_counts_distinct_values(con):
    report = anonymise(con, "welfare", "welfare_l3", quasi_identifiers=_welfare_qis(),
                       sensitive=["benefit_type", amount_ladder().until_level(0)], l=3,
                       partition_by=["reference_month"])
    frame = _frame(con, "welfare_l3")
    assert pycanon.l_diversity(frame, QI_COLUMNS, ["benefit_type", "amount_band"]) >= 3
    assert min(report.l_reached.values()) >= 3


def test_no_secret_and_no_raw_value_survives(con):
    values = con.execute("SELECT * FROM welfare_k5").fetchall()
    texts = {str(v) for row in values for v in row}
    assert not any(SECRET.decode() in t or SECRET.hex() in t for t in texts)
    columns = [c[0] for c in con.execute("DESCRIBE welfare_k5").fetchall()]
    assert "birth_year" not in columns and "household_size" not in columns
    assert "monthly_amount_krw" not in columns
    exact_years = con.execute("SELECT count(*) FROM welfare_k5 WHERE age_band SIMILAR TO '[0-9]{4}'").fetchall()[0][0]
    assert exact_years == 0


def test_pseudonymous_keys_pass_through_and_link_months(con):
    linked = con.execute("""
        SELECT count(*) FROM (SELECT person_key FROM welfare_k5 GROUP BY 1
                              HAVING count(DISTINCT reference_month) = 2)""").fetchall()[0][0]
    assert linked > 1000


def _complaints(rows: int = 6000, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    counties = np.array(["48121", "48123", "48170", "48250", "48720", "48890"])
    sizes = np.array([0.3, 0.25, 0.2, 0.2, 0.03, 0.02])
    county = rng.choice(counties, rows, p=sizes)
    dong = np.char.add("동", rng.integers(0, 12, rows).astype(str))
    days = rng.integers(0, 365, rows)
    return pd.DataFrame({
        "receipt_no": [f"R{i:06d}" for i in range(rows)],
        "received_at": pd.Timestamp("2025-01-01") + pd.to_timedelta(days, unit="D"),
        "sigungu_code": county, "eup_myeon_dong": dong,
        "birth_year": rng.integers(1935, 2006, rows), "sex": rng.choice(["M", "F"], rows),
        "category": rng.choice(["도로·교통", "복지", "환경·위생"], rows),
    })


def test_complaints_without_sensitive_columns_need_only_k(con):
    con.register("complaints_raw", _complaints())
    con.execute("CREATE OR REPLACE TABLE complaints AS SELECT * FROM complaints_raw")
    qis = [month_ladder("received_at", "received_month"), area_ladder(changwon_districts=True),
           age_ladder(at="received_at").from_level(1), sex_ladder()]
    report = anonymise(con, "complaints", "complaints_out", quasi_identifiers=qis, k=5,
                       keep=["receipt_no", "category"])
    frame = _frame(con, "complaints_out")
    qi = ["received_month", "sigungu_code", "eup_myeon_dong", "age_band", "sex"]
    assert pycanon.k_anonymity(frame, qi) >= 5 == report.k_required
    assert report.l_reached == {} and report.l_required == 1
    assert report.records_out + report.records_suppressed == 6000
    assert set(frame["sigungu_code"]) <= {"48121", "48123", "48120", "48170", "48250", "48720", "48890", "48000"}


def test_too_much_suppression_fails_loudly_and_writes_nothing(con):
    con.execute("CREATE OR REPLACE TABLE tiny AS SELECT * FROM welfare LIMIT 4")
    with pytest.raises(AnonymityError, match="4 of 4 records"):
        anonymise(con, "tiny", "tiny_out", quasi_identifiers=["sex"], k=5)
    assert not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'tiny_out'").fetchall()[0][0]
    report = anonymise(con, "tiny", "tiny_out", quasi_identifiers=["sex"], k=5, max_suppression=1.0)
    assert report.records_out == 0 and report.records_suppressed == 4 and report.k_reached == 0


def test_k_one_publishes_the_finest_levels():
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('F', 3), ('M', 9)) v(sex, household_size)")
    report = anonymise(con, "t", "o", quasi_identifiers=[sex_ladder(), household_ladder()], k=1)
    assert con.execute("SELECT sex, household_size_band FROM o ORDER BY 1").fetchall() == [("F", "3"), ("M", "5+")]
    assert report.levels == {"sex": {"kept": 2}, "household size": {"1–4, 5+": 2}}


def test_quasi_identifiers_are_required_and_names_checked():
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 'F' AS sex, 3 AS household_size")
    with pytest.raises(ValueError, match="at least one quasi-identifier"):
        anonymise(con, "t", "o", quasi_identifiers=[])
    with pytest.raises(ValueError, match="plain table name"):
        anonymise(con, "t; DROP TABLE t", "o", quasi_identifiers=[sex_ladder()])
    assert MASK == "*"


def test_interleaved_cuts_are_validated_and_end_at_the_finest_levels():
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('F', 3), ('M', 9)) v(sex, household_size)")
    ladders = [sex_ladder(), household_ladder()]
    report = anonymise(con, "t", "o", quasi_identifiers=ladders, k=1,
                       cuts=[("household size", "1, 2, 3+"), ("sex", "kept")])
    assert report.levels == {"sex": {"kept": 2}, "household size": {"1–4, 5+": 2}}
    with pytest.raises(ValueError, match="unknown ladder"):
        anonymise(con, "t", "o", quasi_identifiers=ladders, cuts=[("age", "kept")])
    with pytest.raises(ValueError, match="has no level"):
        anonymise(con, "t", "o", quasi_identifiers=ladders, cuts=[("sex", "5-year band")])


def test_records_keep_their_order_and_count_through_cells_with_missing_values():
    """The rounds run on cells (records equal in every column the engine reads); each record is
    joined back to its cell: NULL levels must still find their cell, in the source's order."""
    con = duckdb.connect()
    rng = np.random.default_rng(11)
    n = 3_000
    con.register("raw", pa.table({
        "row_id": np.arange(n),
        "reference_month": rng.choice(["202501", "202502"], n),
        "sigungu_code": rng.choice(["48170", "48720", "48890"], n),
        "eup_myeon_dong": pd.array(rng.choice(["가동", "나동", "다면", None], n, p=[.5, .3, .15, .05]), dtype="string"),
        "birth_year": pd.array(np.where(rng.random(n) < 0.05, None, rng.integers(1940, 2000, n)), dtype="Int64"),
        "sex": rng.choice(["M", "F"], n),
        "benefit_type": rng.choice(["생계", "의료", None], n),
    }))
    con.execute("CREATE TABLE records AS SELECT * FROM raw ORDER BY row_id DESC")  # not in row_id order
    report = anonymise(con, "records", "released", quasi_identifiers=[
        area_ladder(), age_ladder(at="reference_month").from_level(1), sex_ladder()],
        sensitive=["benefit_type"], k=5, l=2, partition_by=["reference_month"], keep=["row_id"],
        max_suppression=1.0)
    kept = [r[0] for r in con.execute("SELECT row_id FROM released").fetchall()]
    assert kept == sorted(kept, reverse=True)  # the source's order, every record at most once
    assert len(kept) == report.records_out == n - report.records_suppressed
    assert con.execute("SELECT count(*) FROM released WHERE eup_myeon_dong IS NULL").fetchall()[0][0] == 0
    k, l = class_stats(con, "released", ["reference_month", "sigungu_code", "eup_myeon_dong", "age_band", "sex"],
                       ["benefit_type"])
    assert k >= 5 and l["benefit_type"] >= 2


def _complaints_by(people: list[tuple[str | None, str, str]]) -> duckdb.DuckDBPyConnection:
    """A connection holding `c`: one complaint per (complainant key, 읍면동, sex), one month, one 시군."""
    con = duckdb.connect()
    con.register("raw", pa.table({
        "complainant_key": pa.array([p for p, _, _ in people], pa.string()),
        "sigungu_code": ["48740"] * len(people), "eup_myeon_dong": [d for _, d, _ in people],
        "sex": [s for _, _, s in people], "received_month": ["2025-03"] * len(people)}))
    con.execute("CREATE TABLE c AS SELECT * FROM raw")
    return con


def _by_people(con, k: int = 10) -> tuple:
    report = anonymise(con, "c", "out", quasi_identifiers=[area_ladder(), sex_ladder()], k=k,
                       partition_by=["received_month"], keep=["complainant_key"], person="complainant_key",
                       max_suppression=1.0)
    return report, con.execute("SELECT complainant_key, eup_myeon_dong, sex FROM out ORDER BY ALL").fetchall()


def test_a_class_of_one_persons_twelve_complaints_is_not_k_anonymous():
    """Twelve complaints of one woman of 영산면 made a class of twelve records: k = 10 by records,
    yet every record is hers. Counting people, her 읍면동 and sex are generalised away, with the
    others, until the class holds ten people."""
    people = [("her", "영산면", "F")] * 12 + [(f"p{i}", "남지읍", "MF"[i % 2]) for i in range(20)]
    report, rows = _by_people(_complaints_by(people))
    assert report.k_counted == "people" and report.k_reached >= 10
    hers = {(district, sex) for key, district, sex in rows if key == "her"}
    assert len(hers) == 1 and hers != {("영산면", "F")}
    (district, sex), = hers
    assert len({key for key, d, s in rows if (d, s) == (district, sex)}) >= 10
    assert class_stats(con := _complaints_by(people), "c", ["eup_myeon_dong", "sex"], person="complainant_key")[0] == 1
    con.close()
    # by records, the same data keeps her class as it is: what the change is about
    by_records = anonymise(_complaints_by(people), "c", "out", quasi_identifiers=[area_ladder(), sex_ladder()],
                           k=10, partition_by=["received_month"], keep=["complainant_key"], max_suppression=1.0)
    assert by_records.k_counted == "records"


def test_people_in_several_cells_are_counted_once_and_the_report_measures_people():
    """Five people each with complaints in two 읍면동: ten records per 읍면동 but five people; a
    class needs k = 10 people, so the 읍면동 are merged (or the rows suppressed), never kept."""
    people = [(f"p{i}", district, "F") for i in range(5) for district in ("영산면", "남지읍") for _ in range(2)]
    people += [(f"q{i}", "부곡면", "F") for i in range(10)]
    report, rows = _by_people(_complaints_by(people))
    assert report.k_reached >= 10 or report.records_out == 0
    kept = {district for key, district, _ in rows if key.startswith("p")}
    assert not kept & {"영산면", "남지읍"}
    assert report.records_out + report.records_suppressed == len(people)


def test_complaints_without_a_key_count_as_one_person():
    people = [(None, "영산면", "F")] * 12 + [(f"p{i}", "영산면", "F") for i in range(8)]
    report, _ = _by_people(_complaints_by(people))
    assert report.k_reached == 9 or report.records_out == 0  # 8 known + the unknown: fewer than 10
    report, _ = _by_people(_complaints_by(people), k=9)
    assert report.k_reached == 9 and report.records_suppressed == 0


def test_the_person_column_must_be_kept():
    with pytest.raises(ValueError, match="must be kept"):
        anonymise(_complaints_by([("a", "영산면", "F")]), "c", "out", quasi_identifiers=[sex_ladder()], k=2,
                  person="complainant_key")
