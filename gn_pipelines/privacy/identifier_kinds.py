"""The identifier kinds of free text: one registry entry per kind, like Presidio's recognizers.

An entry holds everything about its kind: the placeholder, whether one person holds it, and its
surface forms. A surface form is a Python regex (on folded text), the priority of its pass, a
cheap gate, a validator for what a regex cannot say (RRN dates, Luhn, words that are not names),
the keyword it keeps, and its RE2 form: a necessary condition in DuckDB's dialect (no lookaround,
no backreference) that every match satisfies. The scrubber (its passes, its SQL candidate
filter) and the residual scan are derived from `REGISTRY`; nothing else declares a kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from gn_pipelines.privacy import text_patterns as v
from gn_pipelines.privacy.identifiers import COMPOUND_SURNAMES, FOREIGNER_GENDER_DIGITS, birth_date_of
from gn_pipelines.privacy.text_patterns import (
    ADDRESS_NUMBER_END, BANK_ABBREVIATIONS, BUILDINGS, CLOSINGS, COUNTER, DIGIT_SEPARATORS,
    FULL_NAME, HANGUL_DIGITS, HANGUL_NUMERALS, KIN, LONG_NAME, MASKED, NA, NAME, NAME_END, NB, NOT_DONG,
    PERSONAL_FILLER, PHONE_SEP, PLATE_LETTERS, ROMAN_NAME, SEP, SPACED_FULL_NAME, SPACED_NAME,
    SURNAMES, TITLES, TITLES_GLUED,
)

Check = Callable[[re.Match, str], "str | None"]


@dataclass(frozen=True)
class SurfaceForm:
    """One way a kind is written. `pattern` holds one named group `name`; `check` settles the kind
    of a match (None: not an identifier), `kept` names a leading group that stays in the text.

    `re2` must hold on the original text wherever the pattern matches the text as earlier passes
    left it: so it reads a span no filler can be inside of, and context only where no earlier
    pass can have put a filler (a character no earlier form starts or ends with)."""

    name: str
    priority: int  # passes run in this order; each writes a filler over what it found
    pattern: str
    re2: str  # RE2 necessary condition of a match (DuckDB candidate filter, residual scan)
    gate: Callable[[str], object] | None = None  # cheap Python necessary condition
    check: Check | None = None
    kept: str | None = None
    value: str | None = None  # the group holding the value, for checks that read it
    # Looks beside what earlier passes found (their fillers): its RE2 form covers only the
    # placeholders, so the scrubber never skips it on the RE2 forms' say.
    reads_earlier_finds: bool = False


@dataclass(frozen=True)
class IdentifierKind:
    name: str
    placeholder: str
    personal: bool  # held by one person: a name beside it is likely the holder's
    forms: tuple[SurfaceForm, ...]  # empty: found only through another kind's forms (foreign_rrn)


# ---------------------------------------------------------------- context words and pieces the entries below read

YYMMDD = r"[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
_DATE_BLOCKS = r"(?:19|20)?[0-9]{2}\s*[년./-]\s*[0-9]{1,2}\s*[월./-]\s*[0-9]{1,2}\s*일?"
EMAIL_DOT = r"(?:\s?[.,]\s?|\s*[(\[][Dd][Oo][Tt][)\]]\s*|\s(?:[Dd][Oo][Tt]|닷)\s?)"
# Seven digits (or masks) with at most one separator between each: every phone, RRN, card,
# licence and account holds them; computed once per text (a shared gate).
LONG_DIGITS_RE = rf"[0-9*●xX](?:{PHONE_SEP}[0-9*●xX]){{6}}"
LONG_DIGITS = re.compile(LONG_DIGITS_RE).search
HANGUL_DIGIT_VALUE = str.maketrans("공영일이삼사오육륙칠팔구", "001234566789")
# What every Hangul-digit match holds: three digit characters, one in Hangul.
HANGUL_DIGIT_RUN = re.compile(f"[{HANGUL_DIGITS}][{HANGUL_DIGITS}0-9]{{2}}|[0-9][{HANGUL_DIGITS}][{HANGUL_DIGITS}0-9]")
RRN_KEYWORD = re.compile(r"주민|등록번호|생년|외국인")
# Right before the shorter forms (850315-1, 850315-1234 567), which 주민 alone (주민 의견) and
# document numbers (250315-1) would otherwise share.
RRN_NUMBER_KEYWORD = re.compile(r"주민\s?(?:등록)?\s?번호|등록\s?번호|주민등록")
CARD_KEYWORD = re.compile(r"카드|card|CARD|Card")
ROOMS = re.compile(r"회의실|강의실|세미나실|교육장|교육실|강당|실습실|민원실|상담실|열람실|회의장|"
                   r"연구실|교실|전시실|대기실")
NAME_LABELS = ("성명|이름|성함|민원인|신청인|작성자|제보자|신고인|신고자|청구인|보호자|대표자|예금주|"
               "수취인|피해자|고객명|환자명?|의뢰인|세대주|본인|대리인")
PROFILE = re.compile(r"\(\s?(?:[남여]|[0-9]{1,3}\s?[세살])")
CLOSING_AT_END = re.compile(rf"(?:{CLOSINGS})[.!~]{{0,3}}\s{{1,3}}\(?[가-힣]{{2,4}}\)?"
                            rf"\s{{0,3}}[.!]?\s{{0,3}}$")
MESSENGER_LABELS = "카카오톡|카톡|카카오|텔레그램|인스타그램|인스타|아이디|ID|Id|id"
_MESSENGER_LABEL = re.compile(MESSENGER_LABELS)
_SPELT_AT = re.compile(r"[(\[\s][Aa][Tt][)\]\s]").search
_BUILDING = re.compile(BUILDINGS).search
_DATED_ROAD = re.compile(r"[0-9]\.[0-9]{1,2}[가-힣]").search
_RE2_FULL_NAME = FULL_NAME  # no lookaround in it: valid RE2 as it stands
_RE2_NAME = NAME
_COMPOUND_FIRST = "".join(surname[0] for surname in COMPOUND_SURNAMES)  # 남황제선독사서


def _ho(text: str) -> bool:
    return "호" in text


def _before(text: str, start: int, width: int = 20) -> str:
    return text[max(0, start - width):start]


def _placed() -> str:
    """Placeholders of personal kinds already in the text (the record's own values go first)."""
    return r"\[(?:" + "|".join(re.escape(k.placeholder[1:-1]) for k in REGISTRY if k.personal) + r")\]"


# ---------------------------------------------------------------- validators


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _ean13_ok(digits: str) -> bool:
    body = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(digits[:12]))
    return (10 - body % 10) % 10 == int(digits[12])


def _rrn_kind(match: re.Match, text: str) -> str | None:
    value = match.group("rrn")
    digits = re.sub(r"[^0-9*●xX]", "", value)
    # A back block split in two (850315-1234 567) must hold seven digits and follow a keyword.
    if match.group("rrn_split") and (len(digits) != 13 or not RRN_NUMBER_KEYWORD.search(
            _before(text, match.start()))):
        return None
    gender = digits[6]
    if digits.isdigit():
        if birth_date_of(digits[:6], gender) is None:
            return None
        # 13-digit EAN barcodes of Korean products start 880 (GS1 Korea): skip those typed as
        # one block with a valid EAN check digit, unless the text calls it a 주민등록번호.
        if (value.isdigit() and value.startswith("880") and _ean13_ok(value)
                and not RRN_KEYWORD.search(_before(text, match.start()))):
            return None
    return "foreign_rrn" if gender in FOREIGNER_GENDER_DIGITS else "rrn"


def _rrn_short_kind(match: re.Match, text: str) -> str | None:
    """Birth date and sex digit (850315-1): a real date in that century, after a keyword."""
    gender = match.group("rrn_short_g")
    if (birth_date_of(match.group("rrn_short_date"), gender) is None
            or not RRN_NUMBER_KEYWORD.search(_before(text, match.start(), 15))):
        return None
    return "foreign_rrn" if gender in FOREIGNER_GENDER_DIGITS else "rrn"


def _rrn_part_kind(match: re.Match, text: str) -> str | None:
    """A half of an RRN after 앞자리/뒷자리: six digits must be a date, seven any G digit."""
    digits = match.group("rrn_part_no")
    if len(digits) == 6:
        if birth_date_of(digits, "1") is None and birth_date_of(digits, "3") is None:
            return None
        foreign = "외국인" in _before(text, match.start(), 40)
    else:
        foreign = digits[0] in FOREIGNER_GENDER_DIGITS
    # Without 자리 ("앞번호 850315") the text must speak of an RRN.
    if "자리" not in match.group("rrn_part_kw") and not RRN_KEYWORD.search(
            _before(text, match.start(), 40)):
        return None
    return "foreign_rrn" if foreign else "rrn"


def _card_kind(match: re.Match, text: str) -> str | None:
    digits = re.sub(r"[^0-9*]", "", match.group("card"))
    # A card number needs the Luhn check or a word saying it is a card (field notes); a masked
    # 4-4-4-4 number is a card whatever the context.
    if "*" in digits or _luhn_ok(digits):
        return "card"
    return "card" if CARD_KEYWORD.search(_before(text, match.start())) else None


def _account_kind(match: re.Match, text: str) -> str | None:
    """After a bank word: a phone, RRN or card number keeps its own kind, else an account."""
    number = match.group("account_no")
    inner = STRUCTURED.fullmatch(number)
    if inner is not None:
        return kind_of(inner, text)[0]
    return "account" if len(re.sub(r"[^0-9]", "", number)) >= 10 else None


def _phone_kind(match: re.Match, text: str) -> str:
    """A fourth block (010-1234-5678-90) makes it an account number (기업은행 평생계좌)."""
    return "account" if match.group("phone_tail") else "phone"


def _hangul_digits_kind(match: re.Match, text: str) -> str | None:
    """Digits spelt in Hangul, read one syllable for one digit (same length), must then be a
    phone, an RRN or a card number."""
    value = match.group("hangul_digits")
    if not HANGUL_DIGIT_RUN.search(value):
        return None
    # 에 read aloud between the blocks (공일공에 일일일일에 이이이이) is a hyphen
    inner = STRUCTURED.fullmatch(value.translate(HANGUL_DIGIT_VALUE).replace("에", "-"))
    return None if inner is None else kind_of(inner, text)[0]


def _spaced_digits_kind(match: re.Match, text: str) -> str | None:
    """Digits typed one by one with spaces (0 1 0 - 9 8 7 6 - 5 4 3 2): read without the
    separators, must then be a phone or an RRN (not a list: 0 1 2 3 4 5 6 7 8 9)."""
    inner = STRUCTURED.fullmatch(re.sub(r"[^0-9]", "", match.group("spaced_digits")))
    kind = None if inner is None else kind_of(inner, text)[0]
    return kind if kind in ("phone", "rrn", "foreign_rrn") else None


def _letter_o_phone_kind(match: re.Match, text: str) -> str | None:
    """A mobile number with the letter O typed for zero (O1O-1111-2222): at least one O."""
    return "phone" if re.search("[Oo]", match.group("phone_letter_o")) else None


def _hangul_road_kind(match: re.Match, text: str) -> str | None:
    """A building number in Hangul numerals after a road (범어로 일이삼사): three digits or more
    read one by one, or a number with place values (천이백삼십사); not a phrase (으로 이삼일)."""
    road, number = match.group("address_road_hangul_road"), match.group("address_road_hangul_no")
    if road.endswith("으로") or number in _NOT_BUILDING_NUMBERS:
        return None
    if not re.search("[십백천]", number) and len(re.sub(r"[^가-힣]", "", number)) < 3:
        return None
    return "address"


def _messenger_id_kind(match: re.Match, text: str) -> str | None:
    """An ID after a messenger or 아이디 label: a letter in it, and a digit, '.', '_' or six
    characters or more (not a word: ID card, 카톡 ok)."""
    value = match.group("messenger_id_v")
    if not re.search("[A-Za-z]", value):
        return None
    return "messenger_id" if re.search(r"[0-9._]", value) or len(value) >= 6 else None


def _room_kind(match: re.Match, text: str) -> str | None:
    """A unit number, unless a room of a public building is named beside it (501호 회의실)."""
    around = text[max(0, match.start() - 6):match.end() + 6]
    return None if ROOMS.search(around) else "address"


def _name_kind(match: re.Match, text: str) -> str | None:
    return None if match.group(FORMS[match.lastgroup].value) in v.NOT_NAMES else "name"


def _name_in_context_kind(match: re.Match, text: str) -> str | None:
    """A full name before a title or after a kin word: also not a department or an adnominal."""
    name = match.group(FORMS[match.lastgroup].value)
    return None if name in v.NOT_NAMES or name[-1] in v.NOT_NAME_ENDINGS else "name"


def _name_beside_kind(places: frozenset[str]) -> Check:
    """A full name found by its place (a signature, brackets, beside an identifier): also not a
    kin word (어머니(75세)) nor a place (상남동; beside an identifier only the larger areas)."""
    def check(match: re.Match, text: str) -> str | None:
        name = match.group(FORMS[match.lastgroup].value)
        if name in v.KIN_WORDS or name[-1] in places:
            return None
        return _name_in_context_kind(match, text)
    return check


def _beside_an_identifier(text: str) -> bool:
    """A bracket next to an identifier found by an earlier pass (its filler), a placeholder, or
    sex and age: never shared, since it looks for what earlier passes wrote."""
    return "(" in text and (PERSONAL_FILLER in text or "[" in text or PROFILE.search(text) is not None)


def _closing_at_end(text: str) -> bool:
    """Every closing ends in 니다, 세요 or 시오, at most 20 characters before the end."""
    tail = text[-24:]
    return (("니다" in tail or "세요" in tail or "시오" in tail)
            and CLOSING_AT_END.search(text, max(0, len(text) - 40)) is not None)


# ---------------------------------------------------------------- the registry

# A building number may be written with a thousands comma (천왕봉로 1,234).
_ROAD_NUMBER = (rf"(?:\s?[0-9]{{1,4}}번?(?:가|길))?\s?{NB}(?:[0-9],[0-9]{{3}}|[0-9]{{1,4}})(?:-[0-9]{{1,4}})?"
                rf"{ADDRESS_NUMBER_END}")
# Words of numerals that are not building numbers (일일이 one by one, 이삼일 two or three days).
_NOT_BUILDING_NUMBERS = frozenset("일일이 이삼일 삼사일 사오일 오륙일 육칠일 칠팔일 팔구일 일이일".split())
# A token for the placeholders of the personal kinds (홍길동([전화번호])), known once REGISTRY is:
# FORMS holds every pattern with it filled in.
_PERSONAL_PLACEHOLDERS = "<personal placeholders>"

REGISTRY: tuple[IdentifierKind, ...] = (
    IdentifierKind("name", "[이름]", False, (
        SurfaceForm(
            "name_label", 230, kept="name_label_kw", value="name_v1", check=_name_kind,
            pattern=rf"(?P<name_label_kw>(?:{NAME_LABELS})\s*(?:은|는|이|:|-|\()?\s*)"
                    rf"(?P<name_v1>{NAME}{NAME_END}|{SPACED_NAME}|{LONG_NAME}|{ROMAN_NAME})",
            re2=rf"(?:{NAME_LABELS})\s*(?:은|는|이|:|-|\()?\s*[{SURNAMES}{_COMPOUND_FIRST}A-Z]"),
        # The official in charge: 담당: 이수진, 담당자(이수진), 담당자는 이수진입니다.
        SurfaceForm(
            "name_role", 240, kept="name_role_kw", value="name_v6", check=_name_in_context_kind,
            gate=lambda t: "담당" in t,
            pattern=rf"(?P<name_role_kw>(?<![가-힣])(?:담당자?|담당 공무원|담당 주무관)(?:\s?[:(]\s?|(?:은|는)\s))"
                    rf"(?P<name_v6>{FULL_NAME})(?=\)|입니다|이고|이며|이에요|예요|이라고|라고"
                    rf"|\s?(?:씨|님|{TITLES})|\s*[,./\n]|\s*$)",
            re2="담당"),
        SurfaceForm(
            "name_self", 250, kept="name_self_kw", value="name_v2", check=_name_kind,
            pattern=rf"(?P<name_self_kw>(?:저는|저|제 이름은|제 이름|본인은|사는|살고 있는|거주하는)\s+)"
                    rf"(?P<name_v2>{NAME})(?=입니다|이라고|라고|이고|이며|예요|이에요|인데|\s?씨|\s?님)",
            re2=rf"(?:저는?|제 이름은?|본인은|사는|살고 있는|거주하는)\s+{_RE2_NAME}"),
        SurfaceForm(
            "name_kin", 260, kept="name_kin_kw", value="name_v5", check=_name_in_context_kind,
            gate=re.compile(KIN).search,
            pattern=rf"(?P<name_kin_kw>(?<![가-힣])(?:{KIN})(?:은|는|:)?\s+)(?P<name_v5>{FULL_NAME})"
                    rf"(?=이[가는를의]?(?![가-힣])|[은는가의을를과와](?![가-힣])|에게|\s?씨|\s?님|[(,)]|\s명의|$)",
            re2=rf"(?:{KIN})(?:은|는|:)?\s+{_RE2_FULL_NAME}(?:이|[은는가의을를과와(,)\s씨님]|에게|$)"),
        SurfaceForm(
            "name_title", 270, value="name_v4", check=_name_in_context_kind,
            gate=re.compile(TITLES).search,
            pattern=rf"(?<![가-힣])(?P<name_v4>{FULL_NAME})(?=\s(?:{TITLES})|{TITLES_GLUED})",
            re2=rf"{_RE2_FULL_NAME}(?:\s(?:{TITLES})|{TITLES_GLUED})"),
        SurfaceForm(
            "name_hon", 280, value="name_v3", check=_name_kind,
            gate=lambda t: "씨" in t or "님" in t,
            pattern=rf"(?<![가-힣])(?P<name_v3>{NAME}|{SPACED_FULL_NAME})(?=\s?(?:씨|님))",
            re2=rf"(?:{_RE2_NAME}|[{SURNAMES}]\s[가-힣]\s[가-힣])\s?(?:씨|님)"),
        # Signatures: 김민지 드림, 김철수 올림 after a sentence (not 관련 안내문 드림); a full name
        # (or one in brackets) ending the text after thanks: 감사합니다. 김철수. A bare (김철수) at
        # the end is not taken: (신여권), (공유지) read the same.
        SurfaceForm(
            "name_sign", 290, kept="name_sign_kw", value="name_v7",
            check=_name_beside_kind(v.PLACE_ENDINGS), gate=lambda t: "드림" in t or "올림" in t,
            pattern=rf"(?P<name_sign_kw>(?:^|\n|[.!?~]|[다요]\s)\s*)(?P<name_v7>{FULL_NAME})"
                    rf"(?=\s?(?:드림|올림)\s*(?:[.!]|$))",
            re2=rf"{_RE2_FULL_NAME}\s?(?:드림|올림)"),
        SurfaceForm(
            "name_closing", 300, kept="name_closing_kw", value="name_v8",
            check=_name_beside_kind(v.PLACE_ENDINGS), gate=_closing_at_end,
            pattern=rf"(?P<name_closing_kw>(?:{CLOSINGS})[.!~]{{0,3}}\s{{1,3}}\(?)"
                    rf"(?P<name_v8>{FULL_NAME})(?=\)?\s{{0,3}}[.!]?\s{{0,3}}$)",
            re2=rf"(?:{CLOSINGS})[.!~]{{0,3}}\s{{1,3}}\(?{_RE2_FULL_NAME}\)?\s*[.!]?\s*$"),
        # Beside an identifier already found, or sex and age: 홍길동(010-…), 농협 352-… (홍길동),
        # 김영수(남, 65세). A filler only follows another form's match (that form's RE2 form holds).
        SurfaceForm(
            "name_by_id", 310, value="name_v10", reads_earlier_finds=True, check=_name_beside_kind(v.AREA_ENDINGS),
            gate=_beside_an_identifier,
            pattern=rf"(?<![가-힣])(?P<name_v10>{FULL_NAME})(?=\s?\(\s?(?:{PERSONAL_FILLER}|{_PERSONAL_PLACEHOLDERS}"
                    rf"|[남여](?:성|자)?\s?[,/·)]|[0-9]{{1,3}}\s?(?:세|살)))",
            re2=rf"{_RE2_FULL_NAME}\s?\(\s?(?:\[|[남여]|[0-9])"),
        SurfaceForm(
            "name_after_id", 320, kept="name_after_id_kw", value="name_v11", reads_earlier_finds=True,
            check=_name_beside_kind(v.AREA_ENDINGS), gate=_beside_an_identifier,
            pattern=rf"(?P<name_after_id_kw>(?:{PERSONAL_FILLER}|{_PERSONAL_PLACEHOLDERS})\s?\()"
                    rf"(?P<name_v11>{FULL_NAME})(?=\))",
            re2=rf"\]\s?\({_RE2_FULL_NAME}\)"),
    )),
    IdentifierKind("rrn", "[주민등록번호]", True, (
        # The back block may be split once (850315-1234 567): checked by _rrn_kind (13 digits, a
        # keyword before).
        SurfaceForm(
            "rrn", 40, check=_rrn_kind, gate=LONG_DIGITS,
            pattern=rf"{NB}{YYMMDD}{SEP}(?:[0-9]{{7}}|[0-9]{MASKED}{{6}}|[*●xX]{{7}}"
                    rf"|(?P<rrn_split>[0-9]{{3,4}}[ -][0-9]{{3,4}})){NA}",
            re2=rf"{YYMMDD}{SEP}(?:[0-9]{{7}}|[0-9]{MASKED}{{6}}|[*●xX]{{7}}|[0-9]{{3,4}}[ -][0-9]{{3,4}})"),
        # The date and the sex digit alone (주민번호 850315-1): after a keyword.
        SurfaceForm(
            "rrn_short", 50, check=_rrn_short_kind,
            gate=lambda t: ("번호" in t or "주민등록" in t) and LONG_DIGITS(t),
            pattern=rf"{NB}(?P<rrn_short_date>{YYMMDD})\s?[{DIGIT_SEPARATORS}]\s?(?P<rrn_short_g>[0-9])"
                    rf"(?![0-9*●xX]|\s?[{DIGIT_SEPARATORS}]\s?[0-9])",
            re2=rf"{YYMMDD}\s?[{DIGIT_SEPARATORS}]\s?[0-9]"),
        # 주민번호 앞자리 850315 뒷자리 1234567: each half after its word.
        SurfaceForm(
            "rrn_part", 100, kept="rrn_part_kw", check=_rrn_part_kind,
            gate=lambda t: "자리" in t or "번호" in t,
            pattern=rf"(?P<rrn_part_kw>(?:앞|뒷|뒤)\s?(?:[67]\s?)?(?:자리|번호)(?:는|은|가|이)?\s*:?\s*)"
                    rf"{NB}(?P<rrn_part_no>[0-9]{{6,7}}){NA}",
            re2=r"(?:앞|뒷|뒤)\s?(?:[67]\s?)?(?:자리|번호)"),
    )),
    IdentifierKind("foreign_rrn", "[외국인등록번호]", True, ()),  # the rrn forms tell it by G (5–8)
    IdentifierKind("phone", "[전화번호]", True, (
        # Country code written +82, (+82), 0082, or a bare 82 before a separator (82-10-1234-5678).
        SurfaceForm(
            "phone", 70, check=_phone_kind, gate=LONG_DIGITS,
            pattern=rf"{NB}(?:(?:\(\+82\)|\+82|0082|82(?=\s?[{DIGIT_SEPARATORS}]|\s)){SEP}(?:\(0\))?{SEP}0?"
                    rf"|\((?=0[0-9]{{1,2}}\))0|0)"
                    rf"(?:1[016789]|2|3[1-3]|4[1-4]|5[1-5]|6[1-4]|70|50[2-8])(?:\)\s?|{PHONE_SEP})"
                    rf"{MASKED}{{3,4}}{PHONE_SEP}{MASKED}{{4}}(?P<phone_tail>-[0-9]{{2,3}})?{NA}",
            re2=rf"(?:(?:\(\+82\)|\+82|0082|82){SEP}(?:\(0\))?{SEP}0?|\(0|0)"
                rf"(?:1[016789]|2|3[1-3]|4[1-4]|5[1-5]|6[1-4]|70|50[2-8])(?:\)\s?|{PHONE_SEP})"
                rf"{MASKED}{{3,4}}{PHONE_SEP}{MASKED}{{4}}"),
        SurfaceForm(
            "phone_local", 90, kept="phone_kw", gate=LONG_DIGITS,
            pattern=rf"(?P<phone_kw>(?:전화|연락처|연락|번호|핸드폰|휴대폰|폰|[Tt]el|TEL|☎)[^0-9\n]{{0,8}}?)"
                    rf"{NB}(?!1[5-8][0-9]{{2}})[2-9][0-9]{{2,3}}-[0-9]{{4}}{NA}(?!\s?[-.]\s?[0-9])",
            re2=r"[2-9][0-9]{2,3}-[0-9]{4}"),
        # 공일공-1234-5678, 팔오공삼일오 일이삼사오육칠: read as digits, then as a phone or RRN.
        SurfaceForm(
            "hangul_digits", 110, check=_hangul_digits_kind, gate=HANGUL_DIGIT_RUN.search,
            pattern=rf"(?<![가-힣0-9])[0-9{HANGUL_DIGITS}]{{2,7}}(?:(?:{SEP}|\s?에\s)[0-9{HANGUL_DIGITS}]{{3,8}}){{1,3}}"
                    rf"(?![0-9])",
            re2=rf"[0-9{HANGUL_DIGITS}]{{2,7}}(?:{SEP}|\s?에\s)[0-9{HANGUL_DIGITS}]{{3,8}}"),
        # Typed digit by digit (0 1 0 - 9 8 7 6 - 5 4 3 2, 5 2 0 7 1 4 - 2 3 4 5 6 7 9): a space,
        # hyphen or dot between every two digits, the whole run (not a part of a longer one).
        SurfaceForm(
            "spaced_digits", 35, check=_spaced_digits_kind, gate=LONG_DIGITS,
            pattern=rf"{NB}(?<![0-9]\s)(?<![0-9][-.])(?<![0-9]\s[-.])(?<![0-9][-.]\s)(?<![0-9]\s[-.]\s)"
                    rf"[0-9](?:(?:\s|\s?[-.]\s?)[0-9]){{9,12}}(?!\s?[-.]?\s?[0-9])",
            re2=r"[0-9](?:\s|\s?[-.]\s?)[0-9](?:\s|\s?[-.]\s?)[0-9](?:\s|\s?[-.]\s?)[0-9]"),
        # The letter O for a zero in a mobile number (O1O-1111-2222).
        SurfaceForm(
            "phone_letter_o", 75, check=_letter_o_phone_kind, gate=lambda t: "O" in t or "o" in t,
            pattern=rf"(?<![A-Za-z0-9])[0Oo]1[0Oo16789]{PHONE_SEP}[0-9Oo]{{3,4}}{PHONE_SEP}[0-9Oo]{{4}}"
                    rf"(?![0-9A-Za-z])",
            re2=rf"[0Oo]1[0Oo16789]{PHONE_SEP}[0-9Oo]{{3,4}}{PHONE_SEP}[0-9Oo]{{4}}"),
    )),
    IdentifierKind("email", "[이메일]", True, (
        SurfaceForm(
            "email", 10, gate=lambda t: "@" in t,
            # starts only where a run of address characters starts: from every position inside a
            # long run the search would scan to its end again (a 200,000-letter word took minutes)
            # a domain may be Korean (hong@한국.kr, hong@회사.한국): IDN
            pattern=r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9가-힣\-]+(?:\.[A-Za-z0-9가-힣\-]+)*"
                    r"\.(?:[A-Za-z]{2,}|한국)",
            re2="@"),
        # Written to dodge spam filters: spaces around @, (at), [at], " at ", 골뱅이; a space after
        # a dot, a comma for a dot, (dot), " dot ", 닷 (hong 골뱅이 naver 닷컴).
        SurfaceForm(
            "email_spelt", 20,
            gate=lambda t: "@" in t or "골뱅이" in t or (("t" in t or "T" in t) and _SPELT_AT(t)),
            pattern=r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*[A-Za-z0-9]"
                    r"(?:\s?@\s?|\s*[(\[][Aa][Tt][)\]]\s*|\s골뱅이\s|\s[Aa][Tt]\s)"
                    rf"[A-Za-z0-9\-]+(?:{EMAIL_DOT}[A-Za-z0-9\-]+)*{EMAIL_DOT}"
                    r"(?:[A-Za-z]{2,}(?![A-Za-z])|컴|넷|케이알)",
            re2=r"@|[(\[][Aa][Tt][)\]]|\s골뱅이\s|\s[Aa][Tt]\s"),
    )),
    IdentifierKind("card", "[카드번호]", True, (
        SurfaceForm(
            "card", 30, check=_card_kind, gate=LONG_DIGITS,
            pattern=rf"{NB}(?:[0-9]{{4}}(?P<card_sep>[-_ ]?)[0-9*]{{4}}(?P=card_sep)[0-9*]{{4}}(?P=card_sep)[0-9]{{4}}"
                    rf"|[0-9]{{4}}[- ]?[0-9]{{6}}[- ]?[0-9]{{5}}){NA}",
            re2=r"[0-9]{4}[-_ ]?[0-9*]{4}[-_ ]?[0-9*]{4}[-_ ]?[0-9]{4}|[0-9]{4}[- ]?[0-9]{6}[- ]?[0-9]{5}"),
    )),
    IdentifierKind("account", "[계좌번호]", True, (
        SurfaceForm(
            "account", 80, kept="account_kw", check=_account_kind, gate=LONG_DIGITS,
            pattern=rf"(?P<account_kw>(?:계좌|통장|입금|송금|환불|환급|예금주|은행|농협|국민|신한|우리|하나|"
                    rf"기업|새마을금고|우체국|카카오뱅크|케이뱅크|토스|수협|신협|축협|SC제일|씨티|증권|"
                    rf"{BANK_ABBREVIATIONS})[^0-9\n]{{0,15}}?)"
                    rf"{NB}(?P<account_no>[0-9](?:[0-9-]|\s(?=[0-9])){{8,24}}){NA}",
            re2=r"[0-9](?:[0-9-]|\s){8}"),
    )),
    IdentifierKind("passport", "[여권번호]", True, (
        SurfaceForm(
            "passport", 120,
            pattern=r"(?<![A-Za-z0-9])[MSRODmsrod](?:[0-9]{8}|[0-9]{3}[A-Za-z][0-9]{4})(?![0-9A-Za-z])",
            re2=r"[MSRODmsrod](?:[0-9]{8}|[0-9]{3}[A-Za-z][0-9]{4})"),
    )),
    IdentifierKind("driver_licence", "[운전면허번호]", True, (
        SurfaceForm(
            "driver_licence", 60, gate=LONG_DIGITS,
            pattern=rf"{NB}(?:(?:1[1-9]|2[0-6]|28){SEP}[0-9]{{2}}{SEP}[0-9]{{6}}{SEP}[0-9]{{2}}"
                    rf"|[0-9]{{2}}-[0-9]{{6}}-[0-9]{{2}}){NA}",
            re2=rf"(?:1[1-9]|2[0-6]|28){SEP}[0-9]{{2}}{SEP}[0-9]{{6}}{SEP}[0-9]{{2}}|[0-9]{{2}}-[0-9]{{6}}-[0-9]{{2}}"),
    )),
    IdentifierKind("plate", "[차량번호]", False, (
        SurfaceForm(
            "plate", 130,
            pattern=rf"(?<![0-9제])[0-9]{{2,3}}(?:\s?-\s?|\s)?[{PLATE_LETTERS}](?:\s?-\s?|\s)?[0-9]{{4}}"
                    rf"(?![0-9]|\s?[만천억원])",
            re2=rf"[0-9]{{2,3}}(?:\s?-\s?|\s)?[{PLATE_LETTERS}](?:\s?-\s?|\s)?[0-9]{{4}}"),
    )),
    IdentifierKind("address", "[주소]", False, (
        SurfaceForm(
            "address_unit", 150, gate=_ho,
            # the building's name starts where a word starts: from every letter of a long word
            # the search scanned to its end again (200,000 letters and a 호: minutes)
            pattern=rf"(?:(?<![가-힣A-Za-z0-9])[가-힣A-Za-z0-9]+(?:{BUILDINGS})\s*)?"
                    rf"{NB}[0-9]{{1,4}}\s*동\s*[0-9]{{1,5}}\s*호(?![0-9선])",
            re2=r"[0-9]\s*동\s*[0-9]{1,5}\s*호"),
        # 101동 1203 without 호: a building number of two digits or more, then three or four.
        SurfaceForm(
            "address_unit_bare", 160, gate=re.compile(r"[0-9]\s*동\s*[0-9]{3}").search,
            pattern=rf"{NB}[0-9]{{2,4}}\s*동\s*[0-9]{{3,4}}{ADDRESS_NUMBER_END}",
            re2=r"[0-9]\s*동\s*[0-9]{3}"),
        SurfaceForm(
            "address_unit_dash", 170, gate=_ho,
            pattern=rf"(?<![0-9제])[0-9]{{3,4}}-[0-9]{{3,4}}\s*호(?![0-9선])",
            re2=r"[0-9]-[0-9]{3,4}\s*호(?:[^선]|$)"),
        # 302호, B01호 (basement); not a room of a public building (501호 회의실).
        SurfaceForm(
            "address_room", 180, gate=_ho, check=_room_kind,
            pattern=rf"(?:(?<![0-9제-])[0-9]{{3,5}}|(?<![0-9A-Za-z제-])[Bb]\s?[0-9]{{1,4}})"
                    rf"\s*호(?![0-9선기])",
            re2=r"[0-9]\s*호(?:[^선기]|$)"),
        # An apartment's building (한신아파트 109동) or its 동-호 written with a hyphen (109-1101).
        SurfaceForm(
            "address_building", 190,
            gate=lambda t: ("동" in t or "-" in t) and _BUILDING(t),
            pattern=rf"(?:(?<![가-힣A-Za-z0-9])[가-힣A-Za-z0-9]*(?:{BUILDINGS})\s*)"
                    rf"{NB}(?:[0-9]{{1,4}}\s*동(?=$|[^0-9가-힣]|에|의|앞|옆|뒤|쪽|주민|입구|은|는)"
                    rf"|[0-9]{{2,4}}-[0-9]{{3,4}}(?![0-9]|\s?[-.]\s?[0-9]|{COUNTER}))",
            re2=rf"(?:{BUILDINGS})\s*[0-9]"),
        SurfaceForm(
            "address_lot", 200, gate=lambda t: "번지" in t,
            pattern=rf"{NB}(?:산\s?)?[0-9]{{1,5}}(?:-[0-9]{{1,4}})?\s*번지",
            re2=r"[0-9]\s*번지"),
        SurfaceForm(
            "address_road", 210,
            pattern=rf"(?<![가-힣0-9])[가-힣][가-힣0-9]{{0,15}}?(?:로|길){_ROAD_NUMBER}",
            re2=r"(?:로|길)\s?[0-9]"),
        # Road names that start with a date (3.15대로 123): a pass of their own, for the plain
        # road pattern keeps its first-character scan.
        SurfaceForm(
            "address_road_dated", 215,
            gate=lambda t: "." in t and _DATED_ROAD(t),
            pattern=rf"(?<![0-9.])[0-9]{{1,2}}\.[0-9]{{1,2}}[가-힣][가-힣0-9]{{0,15}}?(?:로|길){_ROAD_NUMBER}",
            re2=r"[0-9]\.[0-9]{1,2}[가-힣][가-힣0-9]{0,15}(?:로|길)\s?[0-9]"),
        # A building number in Hangul numerals, after the 읍면동 (or 시군구) the road is in: 물금읍
        # 범어로 일이삼사. The area stays, the road and its number go.
        SurfaceForm(
            "address_road_hangul", 217, kept="address_road_hangul_kw", check=_hangul_road_kind,
            gate=lambda t: "로" in t or "길" in t,
            pattern=rf"(?P<address_road_hangul_kw>(?<![가-힣])[가-힣]{{1,8}}(?:시|군|구|읍|면|동)\s)"
                    rf"(?P<address_road_hangul_road>[가-힣][가-힣0-9]{{0,15}}?(?:로|길))\s?"
                    rf"(?P<address_road_hangul_no>[{HANGUL_NUMERALS}]{{2,8}}(?:\s?-\s?[{HANGUL_NUMERALS}]{{1,5}})?)"
                    rf"(?=$|[^가-힣]|에|의|이고|이며|입니다|인데|앞|옆|뒤|번지)",
            re2=rf"(?:시|군|구|읍|면|동)\s[가-힣][가-힣0-9]{{0,15}}(?:로|길)\s?[{HANGUL_NUMERALS}]{{2}}"),
        SurfaceForm(
            "address_ri", 220,
            pattern=rf"(?<![가-힣0-9])(?!(?:거|우|관|처|수|요|소|머|자|유|경|무|정|논|원|권|조|의|진|마|심|물|"
                    rf"세|주|대|다|보|도|기)리)[가-힣]{{1,5}}리\s(?:산\s?)?{NB}[0-9]{{1,4}}(?:-[0-9]{{1,4}})?"
                    rf"{ADDRESS_NUMBER_END}",
            re2=r"리\s(?:산\s?)?[0-9]"),
        # A lot number after a 동 (상남동 55-2, 사림동 산 1-1): the 동 stays, the number goes. A
        # hyphen is required (상남동 55 could be a count), and not a zone (중앙동 3-4 구역).
        SurfaceForm(
            "address_dong", 225, kept="address_dong_kw",
            gate=re.compile(r"동\s?(?:산\s?)?[0-9]{1,4}-[0-9]").search,
            pattern=rf"(?P<address_dong_kw>(?<![가-힣0-9])(?!(?:{NOT_DONG})동)[가-힣]{{1,5}}동\s?)"
                    rf"(?P<address_dong_no>(?:산\s?)?{NB}[0-9]{{1,4}}-[0-9]{{1,4}}){ADDRESS_NUMBER_END}"
                    r"(?!\s?(?:구역|구간|블록|지구|단지|공구|차))",
            re2=r"동\s?(?:산\s?)?[0-9]{1,4}-[0-9]"),
    )),
    IdentifierKind("birth_date", "[생년월일]", True, (
        SurfaceForm(
            "birth_kw", 140, kept="birth_prefix",
            pattern=rf"(?P<birth_prefix>(?:생년월일|생일|출생일?|DOB)\s*(?:은|는|이|:)?\s*)"
                    rf"{NB}(?:{_DATE_BLOCKS}|(?:19|20)?[0-9]{{6}}|[0-9]{{1,2}}\s*월\s*[0-9]{{1,2}}\s*일)"
                    rf"(?![0-9]|\s?[-.]\s?[0-9])",
            re2=r"(?:생년월일|생일|출생일?|DOB)\s*(?:은|는|이|:)?\s*[0-9]"),
        SurfaceForm(
            "birth_suffix", 145, gate=lambda t: "생" in t or "태어" in t,
            pattern=rf"{NB}(?:{_DATE_BLOCKS}|(?:19|20)?{YYMMDD})"
                    r"(?=\s?(?:생(?![산활각기선수명태])|출생|에 태어|태생))",
            re2=r"[0-9]\s*일?\s?(?:생|출생|에 태어|태생)"),
        # Spelt in Hangul numerals: 일구오이년 칠월 십사일생.
        SurfaceForm(
            "birth_hangul", 147, gate=lambda t: "년" in t and ("생" in t or "태어" in t),
            pattern=rf"(?<![가-힣])[{HANGUL_NUMERALS}]{{2,6}}\s?년\s?[{HANGUL_NUMERALS}]{{1,3}}\s?월\s?"
                    rf"[{HANGUL_NUMERALS}]{{1,3}}\s?일(?=\s?(?:생(?![산활각기선수명태])|출생|에 태어|태생))",
            re2=rf"[{HANGUL_NUMERALS}]\s?년\s?[{HANGUL_NUMERALS}]{{1,3}}\s?월\s?[{HANGUL_NUMERALS}]{{1,3}}\s?일\s?"
                r"(?:생|출생|에 태어|태생)"),
    )),
    # 카톡 아이디 malsoon1952, 인스타 hello_world, ID: kim.ms: the account a person is reached at.
    IdentifierKind("messenger_id", "[아이디]", True, (
        SurfaceForm(
            "messenger_id", 125, kept="messenger_id_kw", value="messenger_id_v", check=_messenger_id_kind,
            gate=_MESSENGER_LABEL.search,
            pattern=rf"(?P<messenger_id_kw>(?<![가-힣A-Za-z])(?:{MESSENGER_LABELS})(?:\s?(?:아이디|ID|id))?"
                    rf"\s?(?:는|은|:|=)?\s?)"
                    rf"(?P<messenger_id_v>[A-Za-z0-9][A-Za-z0-9._\-]{{2,29}})(?![A-Za-z0-9._\-@])",
            re2=rf"(?:{MESSENGER_LABELS})(?:\s?(?:아이디|ID|id))?\s?(?:는|은|:|=)?\s?[A-Za-z0-9]"),
    )),
)

# ---------------------------------------------------------------- what is derived from it


PLACEHOLDERS = {kind.name: kind.placeholder for kind in REGISTRY}
PERSONAL_KINDS = frozenset(kind.name for kind in REGISTRY if kind.personal)
PLACED = _placed()
FORMS: dict[str, SurfaceForm] = {}
KIND_OF_FORM: dict[str, str] = {}
for _kind in REGISTRY:
    for _form in _kind.forms:
        _form = replace(_form, pattern=_form.pattern.replace(_PERSONAL_PLACEHOLDERS, PLACED))
        FORMS[_form.name] = _form
        KIND_OF_FORM[_form.name] = _kind.name
ORDERED_FORMS = tuple(sorted(FORMS.values(), key=lambda f: f.priority))
SHARED_GATES = frozenset({LONG_DIGITS, _ho})  # gates of several forms: the scrubber runs them once
# The structured kinds alone, to re-read a number found after an account keyword or spelt in Hangul.
STRUCTURED = re.compile("|".join(f"(?P<{name}>{FORMS[name].pattern})"
                                 for name in ("card", "rrn", "driver_licence", "phone")))


def kind_of(match: re.Match, text: str) -> tuple[str | None, int, int]:
    """The kind of a match of a form (None: not an identifier) and the span to replace (a kept
    leading keyword excluded)."""
    form = FORMS[match.lastgroup]
    kind = form.check(match, text) if form.check else KIND_OF_FORM[form.name]
    start = match.end(form.kept) if form.kept else match.start()
    return kind, start, match.end(form.name)

