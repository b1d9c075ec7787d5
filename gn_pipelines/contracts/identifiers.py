"""Korean identifier rules (주민등록번호, 외국인등록번호, phone numbers), in Python and as DuckDB SQL.

The quality stage validates columns with the SQL forms over whole tables; the scrubber and the
de-identification stage use the same rules, so a value valid in one place is valid in the other.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

# G (the 7th digit) → century of birth. 1/2, 3/4, 9/0 for citizens; 5/6, 7/8 for foreigners
# (외국인등록번호, same layout). 주민등록법 시행규칙 별표; numbers issued since 2020-10-05 have
# random digits after G, so no check digit is ever required.
CENTURY_BY_GENDER_DIGIT = {
    "1": 1900, "2": 1900, "5": 1900, "6": 1900,
    "3": 2000, "4": 2000, "7": 2000, "8": 2000,
    "9": 1800, "0": 1800,
}
FOREIGNER_GENDER_DIGITS = frozenset("5678")

# Korean names: the common surnames (one syllable), and a full name's shape: a compound surname and
# one or two syllables, or a surname and two (the scrubber writes its name patterns with these; the
# keyword statistic leaves out unknown words of this shape).
SURNAMES = ("김이박최정강조윤장임한오서신권황안송류유전홍고문양손배백허남심노하곽성차주우구민진"
            "나지엄채원천방공현함변염여추도소석선설마길연위표명기반라왕금옥육인맹제모탁국어은편용예"
            "경봉사부가복태목형피두감음빈동온호범좌팽승간상갈시단견당화창")
COMPOUND_SURNAMES = ("남궁", "황보", "제갈", "선우", "독고", "사공", "서문")
COMPOUND_SURNAME = "|".join(COMPOUND_SURNAMES)  # as a regular-expression alternation
FULL_NAME = rf"(?:(?:{COMPOUND_SURNAME})[가-힣]{{1,2}}|[{SURNAMES}][가-힣]{{2}})"

RRN_FORMAT_REGEX = r"[0-9]{6}-?[0-9]{7}"
# 010 numbers have a 4-digit middle block starting 2–9; the old 011/016–019 had 3 or 4 digits.
MOBILE_FORMAT_REGEX = r"(?:010-?[2-9][0-9]{3}|01[16789]-?[0-9]{3,4})-?[0-9]{4}"
# Area codes 02, 031–033, 041–044, 051–055 (경남 055), 061–064; 070 internet, 0502–0508 virtual.
# 15xx/16xx/18xx are business numbers, not a person's: deliberately not phones.
LANDLINE_FORMAT_REGEX = (
    r"(?:02|03[1-3]|04[1-4]|05[1-5]|06[1-4]|070|050[2-8])-?[2-9][0-9]{2,3}-?[0-9]{4}"
)
PHONE_FORMAT_REGEX = f"(?:{MOBILE_FORMAT_REGEX})|(?:{LANDLINE_FORMAT_REGEX})"

_RRN = re.compile(RRN_FORMAT_REGEX)
_MOBILE = re.compile(MOBILE_FORMAT_REGEX)
_LANDLINE = re.compile(LANDLINE_FORMAT_REGEX)


def normalise_text(text: str) -> str:
    """NFKC: full-width digits and letters (９, Ａ), full-width hyphen (－) become ASCII."""
    return unicodedata.normalize("NFKC", text)


def birth_date_of(yymmdd: str, gender_digit: str) -> date | None:
    """The birth date encoded by YYMMDD and G, or None if it is not a real date."""
    century = CENTURY_BY_GENDER_DIGIT.get(gender_digit)
    if century is None or len(yymmdd) != 6 or not yymmdd.isdigit():
        return None
    try:
        return date(century + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6]))
    except ValueError:
        return None


def is_valid_rrn(value: str | None) -> bool:
    """YYMMDD-GNNNNNN (hyphen optional) whose date part is a real date in G's century."""
    if value is None or not _RRN.fullmatch(value):
        return False
    digits = value.replace("-", "")
    return birth_date_of(digits[:6], digits[6]) is not None


def is_foreigner_no(value: str | None) -> bool:
    """A valid 외국인등록번호: same layout as the 주민등록번호, G in 5–8."""
    return is_valid_rrn(value) and value.replace("-", "")[6] in FOREIGNER_GENDER_DIGITS


def is_valid_mobile(value: str | None) -> bool:
    """010-XXXX-XXXX (or 011, 016–019 with a 3–4 digit middle block), hyphens optional."""
    return value is not None and _MOBILE.fullmatch(value) is not None


def is_valid_landline(value: str | None) -> bool:
    """A landline, 070 or 050x number with its area code, hyphens optional."""
    return value is not None and _LANDLINE.fullmatch(value) is not None


# ---------------------------------------------------------------- the same rules in DuckDB SQL


def _rrn_digits_sql(column_sql: str) -> str:
    return f"replace({column_sql}, '-', '')"


def _rrn_century_sql(column_sql: str) -> str:
    digits = _rrn_digits_sql(column_sql)
    cases = " ".join(f"WHEN '{g}' THEN {c}" for g, c in CENTURY_BY_GENDER_DIGIT.items())
    return f"(CASE substr({digits}, 7, 1) {cases} END)"


def rrn_birth_year_sql(column_sql: str) -> str:
    """INTEGER birth year of an RRN column (century from G); NULL if not an RRN layout."""
    digits = _rrn_digits_sql(column_sql)
    return (f"(CASE WHEN regexp_full_match({column_sql}, '{RRN_FORMAT_REGEX}') THEN "
            f"CAST({_rrn_century_sql(column_sql)} + CAST(substr({digits}, 1, 2) AS INTEGER) "
            f"AS INTEGER) END)")


def rrn_is_valid_sql(column_sql: str) -> str:
    """Boolean SQL: the column is YYMMDD-GNNNNNN (hyphen optional) with a real date part."""
    digits = _rrn_digits_sql(column_sql)
    year = rrn_birth_year_sql(column_sql)
    return (f"(regexp_full_match({column_sql}, '{RRN_FORMAT_REGEX}') AND coalesce("
            f"try_strptime(lpad(CAST({year} AS VARCHAR), 4, '0') || substr({digits}, 3, 4), "
            f"'%Y%m%d') IS NOT NULL, false))")


def rrn_sex_sql(column_sql: str) -> str:
    """'M' for an odd G, 'F' for an even one (citizens and foreigners); NULL if not an RRN."""
    digits = _rrn_digits_sql(column_sql)
    return (f"(CASE WHEN regexp_full_match({column_sql}, '{RRN_FORMAT_REGEX}') THEN "
            f"CASE WHEN CAST(substr({digits}, 7, 1) AS INTEGER) % 2 = 1 THEN 'M' ELSE 'F' END END)")


def rrn_sex(value: str) -> str | None:
    """Python twin of rrn_sex_sql."""
    if not _RRN.fullmatch(value):
        return None
    return "M" if int(value.replace("-", "")[6]) % 2 == 1 else "F"


def rrn_birth_year(value: str) -> int | None:
    """Python twin of rrn_birth_year_sql."""
    if not _RRN.fullmatch(value):
        return None
    digits = value.replace("-", "")
    return CENTURY_BY_GENDER_DIGIT[digits[6]] + int(digits[:2])
