"""Free-text scrubbing of complaint titles and bodies: typed placeholders for personal data.

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

from gn_pipelines.privacy import text_patterns as p
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


_CHECKS = {"rrn": _rrn_kind, "card": _card_kind, "account": _account_kind, "phone": _phone_kind,
           "rrn_part": _rrn_part_kind, "hangul_digits": _hangul_digits_kind,
           **{group: _name_kind for group in p.NAME_GROUPS},
           "name_title": _name_in_context_kind, "name_kin": _name_in_context_kind}


def _kind_of(match: re.Match, text: str) -> tuple[str | None, int, int]:
    """The kind of a match and the span to replace (a kept leading keyword excluded)."""
    group = match.lastgroup
    check = _CHECKS.get(group)
    kind = check(match, text) if check else p.KIND_OF_GROUP[group]
    keep = p.KEPT_PREFIX.get(group)
    start = match.end(keep) if keep else match.start()
    return kind, start, match.end(group)


# ---------------------------------------------------------------- the public API


_FILLER = "§"  # stands in for a found span, same length, so later passes see no identifier there


def _findings(folded: str) -> list[Finding]:
    """Identifiers of a folded text, pass by pass; spans never overlap."""
    findings = []
    for _, gate, regex in p.PASSES:
        if gate is not None and not gate(folded):
            continue
        for match in regex.finditer(folded):
            kind, start, end = _kind_of(match, folded)
            if kind is not None:
                findings.append(Finding(kind, start, end))
                folded = folded[:start] + _FILLER * (end - start) + folded[end:]
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


def _replace_own_phone(text: str, phone: str | None, found: Counter) -> str:
    """The record's own phone in any spacing; the regex runs only if its last 4 digits occur."""
    digits = re.sub(r"[^0-9]", "", phone or "")
    if len(digits) < 7 or digits[-4:] not in _NOT_DIGIT.sub("", text):
        return text
    spaced = r"[\s.\-()]{0,3}".join(digits)
    text, count = re.subn(f"(?<![0-9]){spaced}(?![0-9])", PLACEHOLDERS["phone"], text)
    found["phone"] += count
    return text


def scrub_text(text: str | None, *, own_name: str | None = None, own_phone: str | None = None,
               own_address: str | None = None) -> ScrubResult:
    """Replace personal data in `text` by typed placeholders; also the record's own values."""
    if not text:
        return ScrubResult(text or "", {})
    found: Counter = Counter()
    folded = fold_text(text)
    # The record's own address first, whole, before its parts are replaced piecemeal.
    folded = _replace_own(folded, fold_text(own_address) if own_address else None, "address", found)
    folded = _replace_own_phone(folded, own_phone, found)
    folded = _replace_own(folded, own_name, "name", found)

    scrubbed = _apply(folded, _findings(folded), found)
    return ScrubResult(scrubbed, dict(found))


# ---------------------------------------------------------------- DuckDB entry points

SCRUB_FUNCTION = "scrub"


def _scrub_batch(texts: pa.Array, names: pa.Array, phones: pa.Array,
                 addresses: pa.Array) -> pa.Array:
    rows = zip(texts.to_pylist(), names.to_pylist(), phones.to_pylist(), addresses.to_pylist())
    return pa.array([None if text is None else
                     scrub_text(text, own_name=name, own_phone=phone, own_address=address).text
                     for text, name, phone, address in rows], pa.string())


def register_scrubber(connection: duckdb.DuckDBPyConnection, name: str = SCRUB_FUNCTION) -> None:
    """Create the vectorised UDF `scrub(text, own_name, own_phone, own_address) -> VARCHAR`.

    It streams batch by batch (arrow), so `CREATE TABLE … AS SELECT scrub(body, …)` over a
    million rows never holds the table in Python; NULL text stays NULL, NULL own values are ignored.
    """
    varchar = duckdb.sqltype("VARCHAR")
    connection.create_function(name, _scrub_batch, [varchar] * 4, varchar, type="arrow",
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
