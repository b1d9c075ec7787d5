"""LEGACY (benchmark only, see __init__): free-text scrubbing of complaint titles and bodies: typed placeholders for personal data.

One regex pass per surface form, in priority order, each skipped when a cheap gate says it cannot
match; a small Python check per candidate settles what a regex cannot (RRN dates, Luhn, names).
Digit patterns use `(?<![0-9])…(?![0-9])`, never `\\b`: Python treats Hangul as word characters
(field notes, "Korean identifiers").
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from legacy_scrubber import text_patterns as p
from gn_pipelines.privacy.identifiers import FOREIGNER_GENDER_DIGITS, birth_date_of

PLACEHOLDERS = {
    "name": "[이름]", "rrn": "[주민등록번호]", "foreign_rrn": "[외국인등록번호]",
    "phone": "[전화번호]", "email": "[이메일]", "card": "[카드번호]", "account": "[계좌번호]",
    "passport": "[여권번호]", "driver_licence": "[운전면허번호]", "plate": "[차량번호]",
    "address": "[주소]", "birth_date": "[생년월일]",
}
KINDS = tuple(PLACEHOLDERS)

# Full-width ASCII, the ideographic space and dash variants, folded one character for one
# character (unlike NFKC), so spans found in the folded text are spans of the original.
_FOLD = str.maketrans(
    {**{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}, "\u3000": " ",
     **{d: "-" for d in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63"}})


def fold_text(text: str) -> str:
    """Full-width digits/letters/hyphens to ASCII, length-preserving (spans stay valid)."""
    return text.translate(_FOLD)


@dataclass(frozen=True)
class Finding:
    """One identifier found in a text: its kind and [start, end) span."""

    kind: str
    start: int
    end: int


@dataclass
class ScrubResult:
    """A scrubbed text and how many identifiers of each kind were replaced."""

    text: str
    found: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------- deciding what a match is


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _ean13_ok(digits: str) -> bool:
    body = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(digits[:12]))
    return (10 - body % 10) % 10 == int(digits[12])


def _before(text: str, start: int, width: int = 20) -> str:
    return text[max(0, start - width):start]


def _rrn_kind(match: re.Match, text: str) -> str | None:
    value = match.group("rrn")
    digits = re.sub(r"[^0-9*●xX]", "", value)
    # A back block split in two (850315-1234 567) must hold seven digits and follow a keyword.
    if match.group("rrn_split") and (len(digits) != 13 or not p.RRN_NUMBER_KEYWORD.search(
            _before(text, match.start()))):
        return None
    gender = digits[6]
    if digits.isdigit():
        if birth_date_of(digits[:6], gender) is None:
            return None
        # 13-digit EAN barcodes of Korean products start 880 (GS1 Korea): skip those typed as
        # one block with a valid EAN check digit, unless the text calls it a 주민등록번호.
        if (value.isdigit() and value.startswith("880") and _ean13_ok(value)
                and not p.RRN_KEYWORD.search(_before(text, match.start()))):
            return None
    return "foreign_rrn" if gender in FOREIGNER_GENDER_DIGITS else "rrn"


def _rrn_short_kind(match: re.Match, text: str) -> str | None:
    """Birth date and sex digit (850315-1): a real date in that century, after a keyword."""
    gender = match.group("rrn_short_g")
    if (birth_date_of(match.group("rrn_short_date"), gender) is None
            or not p.RRN_NUMBER_KEYWORD.search(_before(text, match.start(), 15))):
        return None
    return "foreign_rrn" if gender in FOREIGNER_GENDER_DIGITS else "rrn"


def _room_kind(match: re.Match, text: str) -> str | None:
    """A unit number, unless a room of a public building is named beside it (501호 회의실)."""
    around = text[max(0, match.start() - 6):match.end() + 6]
    return None if p.ROOMS.search(around) else "address"


def _card_kind(match: re.Match, text: str) -> str | None:
    digits = re.sub(r"[^0-9*]", "", match.group("card"))
    # A card number needs the Luhn check or a word saying it is a card (field notes); a masked
    # 4-4-4-4 number is a card whatever the context.
    if "*" in digits or _luhn_ok(digits):
        return "card"
    return "card" if p.CARD_KEYWORD.search(_before(text, match.start())) else None


def _account_kind(match: re.Match, text: str) -> str | None:
    """After a bank word: a phone, RRN or card number keeps its own kind, else an account."""
    number = match.group("account_no")
    inner = p.STRUCTURED.fullmatch(number)
    if inner is not None:
        return _kind_of(inner, text)[0]
    return "account" if len(re.sub(r"[^0-9]", "", number)) >= 10 else None


def _phone_kind(match: re.Match, text: str) -> str:
    """A fourth block (010-1234-5678-90) makes it an account number (기업은행 평생계좌)."""
    return "account" if match.group("phone_tail") else "phone"


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
    if "자리" not in match.group("rrn_part_kw") and not p.RRN_KEYWORD.search(
            _before(text, match.start(), 40)):
        return None
    return "foreign_rrn" if foreign else "rrn"


def _hangul_digits_kind(match: re.Match, text: str) -> str | None:
    """Digits spelt in Hangul, read one syllable for one digit (same length), must then be a
    phone, an RRN or a card number."""
    value = match.group("hangul_digits")
    if not p.HANGUL_DIGIT_RUN.search(value):
        return None
    inner = p.STRUCTURED.fullmatch(value.translate(p.HANGUL_DIGIT_VALUE))
    return None if inner is None else _kind_of(inner, text)[0]


def _name_kind(match: re.Match, text: str) -> str | None:
    return None if match.group(p.NAME_GROUPS[match.lastgroup]) in p.NOT_NAMES else "name"


def _name_in_context_kind(match: re.Match, text: str) -> str | None:
    """A full name before a title or after a kin word: also not a department or an adnominal."""
    name = match.group(p.NAME_GROUPS[match.lastgroup])
    return None if name in p.NOT_NAMES or name[-1] in p.NOT_NAME_ENDINGS else "name"


_BESIDE_AN_IDENTIFIER = frozenset({"name_by_id", "name_after_id"})


def _name_beside_kind(match: re.Match, text: str) -> str | None:
    """A full name found by its place (a signature, brackets, beside an identifier): also not a
    kin word (어머니(75세)) nor a place (상남동)."""
    name = match.group(p.NAME_GROUPS[match.lastgroup])
    places = p.AREA_ENDINGS if match.lastgroup in _BESIDE_AN_IDENTIFIER else p.PLACE_ENDINGS
    if name in p.KIN_WORDS or name[-1] in places:
        return None
    return _name_in_context_kind(match, text)


_CHECKS = {"rrn": _rrn_kind, "card": _card_kind, "account": _account_kind, "phone": _phone_kind,
           "rrn_part": _rrn_part_kind, "hangul_digits": _hangul_digits_kind,
           **{group: _name_kind for group in p.NAME_GROUPS},
           "name_title": _name_in_context_kind, "name_kin": _name_in_context_kind,
           "name_role": _name_in_context_kind,
           **{group: _name_beside_kind for group in ("name_sign", "name_closing", "name_by_id",
                                                     "name_after_id")},
           "rrn_short": _rrn_short_kind, "address_room": _room_kind}


def _kind_of(match: re.Match, text: str) -> tuple[str | None, int, int]:
    """The kind of a match and the span to replace (a kept leading keyword excluded)."""
    group = match.lastgroup
    check = _CHECKS.get(group)
    kind = check(match, text) if check else p.KIND_OF_GROUP[group]
    keep = p.KEPT_PREFIX.get(group)
    start = match.end(keep) if keep else match.start()
    return kind, start, match.end(group)


# ---------------------------------------------------------------- the public API


def _findings(folded: str) -> list[Finding]:
    """Identifiers of a folded text, pass by pass; spans never overlap. A found span is written
    over with a filler of its length (personal kinds with their own, see text_patterns.FILLER)."""
    findings, shared = [], {}
    for _, gate, regex, shared_gate in p.PASSES:
        if gate is not None:
            if shared_gate:
                passes = shared.get(gate)
                if passes is None:
                    passes = shared[gate] = bool(gate(folded))
            else:
                passes = gate(folded)
            if not passes:
                continue
        for match in regex.finditer(folded):
            kind, start, end = _kind_of(match, folded)
            if kind is not None:
                findings.append(Finding(kind, start, end))
                filler = p.PERSONAL_FILLER if kind in p.PERSONAL_KINDS else p.FILLER
                folded = folded[:start] + filler * (end - start) + folded[end:]
    return sorted(findings, key=lambda f: f.start)


def find_identifiers(text: str) -> list[Finding]:
    """Every identifier in `text` (spans of the original text, full-width forms included)."""
    return _findings(fold_text(text))


def _apply(folded: str, findings: list[Finding], found: Counter) -> str:
    parts, last = [], 0
    for finding in findings:
        parts += [folded[last:finding.start], PLACEHOLDERS[finding.kind]]
        last = finding.end
        found[finding.kind] += 1
    parts.append(folded[last:])
    return "".join(parts)


def _replace_own(text: str, value: str | None, kind: str, found: Counter) -> str:
    if not value or len(value) < 2 or value not in text:
        return text
    found[kind] += text.count(value)
    return text.replace(value, PLACEHOLDERS[kind])


_NOT_DIGIT = re.compile(r"[^0-9]")
# Digits with short runs of neither digits nor letters between them (spaces, dots, hyphens,
# underscores, slashes, brackets, '=', the jamo ㅡ): where the record's own numbers are looked for
# (010_3333_4444, 900202 / 2234562). One static pattern: a regex per record costs its compilation.
_DIGIT_RUN = re.compile(r"[0-9](?:[^0-9A-Za-z가-힣]{0,3}[0-9])*")
_COUNTRY_CODE_BEFORE = re.compile(r"\(?\+?$")


def _own_targets(phone_digits: str, rrn_digits: str) -> list[tuple[str, str]]:
    """(digits, kind) to look for, longest first: the whole RRN, its date with the sex digit, each
    half; the phone, also after the country code (+82 10 …, 0082 (0)10 …)."""
    targets = []
    if len(rrn_digits) == 13:
        targets += [(rrn_digits, "rrn"), (rrn_digits[:7], "rrn"), (rrn_digits[6:], "rrn"),
                    (rrn_digits[:6], "rrn")]
    if len(phone_digits) >= 7:
        national = phone_digits[1:] if phone_digits.startswith("0") else phone_digits
        targets += [(phone_digits, "phone")] + [(prefix + national, "phone")
                                                 for prefix in ("82", "820", "0082", "00820")]
    return sorted(targets, key=lambda t: -len(t[0]))


def _own_spans(text: str, targets: list[tuple[str, str]]) -> list[tuple[int, int, str]]:
    """Spans of the targets in the text's digit runs, each between non-digits (not inside a
    longer number), never overlapping."""
    spans = []
    for run in _DIGIT_RUN.finditer(text):
        positions = [i for i in range(run.start(), run.end()) if "0" <= text[i] <= "9"]
        digits = "".join(text[i] for i in positions)
        taken = [False] * len(digits)
        for value, kind in targets:
            at = digits.find(value)
            while at != -1:
                end = at + len(value)
                if ((at == 0 or positions[at] - positions[at - 1] > 1)
                        and (end == len(digits) or positions[end] - positions[end - 1] > 1)
                        and not any(taken[at:end])):
                    taken[at:end] = [True] * (end - at)
                    start, stop = positions[at], positions[end - 1] + 1
                    if kind == "phone" and value.startswith(("82", "0082")):
                        start -= len(_COUNTRY_CODE_BEFORE.search(text, 0, start).group())
                    elif kind == "phone" and text[start - 1:start] == "(" and ")" in text[start:stop]:
                        start -= 1  # (010)3333-4444: the bracket of the area code goes too
                    spans.append((start, stop, kind))
                at = digits.find(value, at + 1)
    return sorted(spans)


def _replace_own_numbers(text: str, phone: str | None, rrn: str | None, found: Counter) -> str:
    """The record's own RRN and phone with any separators; looked for only if a telling part of
    their digits (the last four, or the RRN's date) occurs among the text's digits."""
    phone_digits = _NOT_DIGIT.sub("", phone) if phone else ""
    rrn_digits = _NOT_DIGIT.sub("", rrn) if rrn else ""
    if len(phone_digits) < 7 and len(rrn_digits) != 13:
        return text
    text_digits = _NOT_DIGIT.sub("", text)
    if not ((len(phone_digits) >= 7 and phone_digits[-4:] in text_digits)
            or (len(rrn_digits) == 13 and (rrn_digits[:6] in text_digits
                                           or rrn_digits[-4:] in text_digits))):
        return text
    parts, last = [], 0
    for start, end, kind in _own_spans(text, _own_targets(phone_digits, rrn_digits)):
        parts += [text[last:start], PLACEHOLDERS[kind]]
        found[kind] += 1
        last = end
    return "".join(parts) + text[last:]


def scrub_text(text: str | None, *, own_name: str | None = None, own_phone: str | None = None,
               own_address: str | None = None, own_rrn: str | None = None) -> ScrubResult:
    """Replace personal data in `text` by typed placeholders; also the record's own values."""
    if not text:
        return ScrubResult(text or "", {})
    found: Counter = Counter()
    folded = fold_text(text)
    # The record's own address first, whole, before its parts are replaced piecemeal.
    folded = _replace_own(folded, fold_text(own_address) if own_address else None, "address", found)
    folded = _replace_own_numbers(folded, own_phone, own_rrn, found)
    folded = _replace_own(folded, own_name, "name", found)

    scrubbed = _apply(folded, _findings(folded), found)
    return ScrubResult(scrubbed, dict(found))


# ---------------------------------------------------------------- DuckDB entry points

SCRUB_FUNCTION = "scrub"


def _scrub_batch(texts: pa.Array, names: pa.Array, phones: pa.Array, addresses: pa.Array,
                 rrns: pa.Array) -> pa.Array:
    rows = zip(texts.to_pylist(), names.to_pylist(), phones.to_pylist(), addresses.to_pylist(),
               rrns.to_pylist())
    return pa.array([None if text is None else
                     scrub_text(text, own_name=name, own_phone=phone, own_address=address,
                                own_rrn=rrn).text
                     for text, name, phone, address, rrn in rows], pa.string())


def register_scrubber(connection: duckdb.DuckDBPyConnection, name: str = SCRUB_FUNCTION) -> None:
    """Create the vectorised UDF `scrub(text, own_name, own_phone, own_address, own_rrn) -> VARCHAR`.

    It streams batch by batch (arrow), so `CREATE TABLE … AS SELECT scrub(body, …)` over a
    million rows never holds the table in Python; NULL text stays NULL, NULL own values are ignored.
    """
    varchar = duckdb.sqltype("VARCHAR")
    connection.create_function(name, _scrub_batch, [varchar] * 5, varchar, type="arrow",
                               null_handling="special", side_effects=False)


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def placeholder_counts(connection: duckdb.DuckDBPyConnection, table: str,
                       columns: list[str]) -> dict[str, int]:
    """Placeholders per kind in text columns; scrubbed minus source = identifiers replaced."""
    sums = ", ".join(
        f"sum((length(coalesce({_quoted(c)}, '')) - length(replace(coalesce({_quoted(c)}, ''), "
        f"$p{k}, ''))) // {len(placeholder)})"
        for c in columns for k, placeholder in enumerate(PLACEHOLDERS.values()))
    row = connection.execute(f"SELECT {sums} FROM {table}",
                             {f"p{k}": v for k, v in enumerate(PLACEHOLDERS.values())}).fetchall()[0]
    counts = dict.fromkeys(KINDS, 0)
    for i, value in enumerate(row):
        counts[KINDS[i % len(KINDS)]] += int(value or 0)
    return counts


def count_residual_identifiers(connection: duckdb.DuckDBPyConnection, table: str,
                               columns: list[str]) -> dict[str, int]:
    """Identifiers surviving in text columns (placeholders are not identifiers), per kind.

    RE2 in DuckDB (parallel) keeps only rows where some pass could match; the scrubber's own
    detector then reads those few rows, so the scan and the scrubber agree by construction.
    """
    counts = dict.fromkeys(KINDS, 0)
    for column in columns:
        candidates = connection.sql(
            f"SELECT {_quoted(column)} FROM {table} "
            f"WHERE regexp_matches({_quoted(column)}, $pattern)",
            params={"pattern": p.CANDIDATE_RE2}).to_arrow_reader(65_536)
        for batch in candidates:
            for text in batch.column(0).to_pylist():
                for finding in find_identifiers(text):
                    counts[finding.kind] += 1
    return counts
