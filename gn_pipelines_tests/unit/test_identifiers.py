"""Korean identifier rules: Python validators and their DuckDB SQL twins agree."""

from __future__ import annotations

import duckdb
import pytest

from gn_pipelines.privacy.identifiers import (
    MOBILE_FORMAT_REGEX, PHONE_FORMAT_REGEX, is_foreigner_no, is_valid_landline, is_valid_mobile,
    is_valid_rrn, normalise_text, rrn_birth_year, rrn_birth_year_sql, rrn_is_valid_sql, rrn_sex,
    rrn_sex_sql,
)

RRNS = {
    "960101-1234567": True, "9601011234567": True, "000229-3123456": True,  # 2000 is leap
    "000229-1123456": False,  # 1900 is not
    "850230-1234567": False, "851301-1234567": False, "991231-5123456": True,
    "010101-9000000": True, "010101-0000000": True,
    "210301-4000001": True,  # issued after 2020-10: random tail, no checksum required
    "960101-123456": False, "96010-11234567": False, "abcdef-1234567": False,
}
MOBILES = {"010-2345-6789": True, "01023456789": True, "010-1234-5678": False, "011-234-5678": True,
           "010-0234-5678": False, "012-1234-5678": False, "1588-1234": False}
LANDLINES = {"055-234-5678": True, "02-234-5678": True, "0552345678": True, "070-2345-6789": True,
             "0505-234-5678": True, "02-123-4567": False, "056-234-5678": False, "1588-1234": False}


@pytest.fixture(scope="module")
def con():
    return duckdb.connect()


@pytest.mark.parametrize("value,valid", RRNS.items())
def test_rrn_python_and_sql_agree(con, value, valid):
    assert is_valid_rrn(value) is valid
    row = con.execute(f"SELECT {rrn_is_valid_sql('v')}, {rrn_birth_year_sql('v')}, "
                      f"{rrn_sex_sql('v')} FROM (SELECT ?::VARCHAR AS v)", [value]).fetchall()[0]
    assert row == (valid, rrn_birth_year(value), rrn_sex(value))


def test_century_and_sex_from_the_gender_digit():
    assert (rrn_birth_year("960101-1234567"), rrn_sex("960101-1234567")) == (1996, "M")
    assert (rrn_birth_year("050505-4234567"), rrn_sex("050505-4234567")) == (2005, "F")
    assert (rrn_birth_year("990101-9234567"), rrn_sex("990101-0234567")) == (1899, "F")
    assert (rrn_birth_year("900215-6123456"), rrn_sex("900215-6123456")) == (1990, "F")
    assert is_foreigner_no("900215-5123456") and not is_foreigner_no("900215-1123456")


@pytest.mark.parametrize("value,valid", MOBILES.items())
def test_mobile_python_and_sql_agree(con, value, valid):
    assert is_valid_mobile(value) is valid
    sql = con.execute("SELECT regexp_full_match(?, ?)", [value, MOBILE_FORMAT_REGEX]).fetchall()
    assert sql[0][0] is valid


@pytest.mark.parametrize("value,valid", {**MOBILES, **LANDLINES}.items())
def test_phone_regex_is_mobile_or_landline(con, value, valid):
    assert (is_valid_mobile(value) or is_valid_landline(value)) is valid
    sql = con.execute("SELECT regexp_full_match(?, ?)", [value, PHONE_FORMAT_REGEX]).fetchall()
    assert sql[0][0] is valid


def test_sql_over_a_column_with_nulls(con):
    rows = con.execute(f"SELECT count(*) FILTER (WHERE {rrn_is_valid_sql('v')}) FROM "
                       "(VALUES ('960101-1234567'), (NULL), ('850230-1234567')) t(v)").fetchall()
    assert rows == [(1,)]


def test_normalise_text_folds_full_width():
    assert normalise_text("９６０１０１－１２３４５６７") == "960101-1234567"
