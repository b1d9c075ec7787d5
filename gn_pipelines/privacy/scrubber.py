"""Free-text scrubbing of complaint titles and bodies: typed placeholders for personal data.

Everything about a kind comes from its entry in `identifier_kinds.REGISTRY`. In Python, one regex
pass per surface form, in priority order, each skipped when a cheap gate says it cannot match; a
validator per candidate settles what a regex cannot (RRN dates, Luhn, names). In DuckDB
(`register_scrubber`, `scrub_sql`), RE2 reads the whole column first and only candidate rows reach
those passes. Digit patterns use `(?<![0-9])…(?![0-9])`, never `\\b`: Python treats Hangul as word
characters (field notes, "Korean identifiers").
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from gn_pipelines.contracts.generalisation import quote
from gn_pipelines.privacy.identifier_kinds import (
    FORMS, ORDERED_FORMS, PERSONAL_KINDS, PLACEHOLDERS, SHARED_GATES, kind_of,
)
from gn_pipelines.privacy.identifiers import COMPOUND_SURNAMES
from gn_pipelines.privacy.text_patterns import FILLER, KIN_WORDS, NOT_NAMES, PERSONAL_FILLER, any_of

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


# ---------------------------------------------------------------- the public API


# Each form is its own pass, in priority order: one alternation of all of them is 3–4× slower in
# Python `re` (it defeats the engine's first-character scan). A pass runs only if its cheap gate
# finds what every match needs; gates shared by several passes are computed once per text (they
# depend on nothing an earlier pass replaces with its filler).
PASSES = tuple((form.gate, re.compile(f"(?P<{form.name}>{form.pattern})"), form.gate in SHARED_GATES)
               for form in ORDERED_FORMS)
# The distinct RE2 forms; DuckDB tells the Python passes which of them a text holds (a bit each):
# a pass whose RE2 form is absent cannot match. Those that read earlier finds always run.
RE2_FORMS = tuple(dict.fromkeys(form.re2 for form in ORDERED_FORMS))
ALL_PASSES = -1
_PASS_BITS = tuple(ALL_PASSES if form.reads_earlier_finds else 1 << RE2_FORMS.index(form.re2)
                   for form in ORDERED_FORMS)


@lru_cache(maxsize=4096)
def _passes_for(re2_found: int) -> tuple:
    return tuple(p for p, bit in zip(PASSES, _PASS_BITS) if re2_found & bit)


def _findings(folded: str, re2_found: int = ALL_PASSES) -> list[Finding]:
    """Identifiers of a folded text, pass by pass; spans never overlap. A found span is written
    over with a filler of its length (personal kinds with their own, see text_patterns.FILLER).
    `re2_found`: bits of the RE2 forms the text holds (see RE2_FORMS); passes without one are
    skipped."""
    findings, shared = [], {}
    for gate, regex, shared_gate in _passes_for(re2_found):
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
            kind, start, end = kind_of(match, folded)
            if kind is not None:
                findings.append(Finding(kind, start, end))
                filler = PERSONAL_FILLER if kind in PERSONAL_KINDS else FILLER
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


# After the given name written alone (말순 이라고, 말순씨): what follows a name, not a word.
_GIVEN_NAME_END = (r"(?=\s?(?:씨|님|이라고|라고|입니다|이에요|예요|이가|이는|이를|이랑|이한테|이에게|에게)"
                   r"|\s*[.,!?)]|\s*$)")


@lru_cache(maxsize=1024)
def _own_name_pattern(name: str) -> re.Pattern | None:
    """The record's own Hangul name with a space after its surname (배 말순, 황보 석진), and its
    two-syllable given name alone as a word before what follows a name (말순 이라고); None for
    a name too short or a given name that is a common word (하나, 주민)."""
    if not re.fullmatch("[가-힣]{3,4}", name):
        return None
    surname = name[:2] if len(name) == 4 and name.startswith(COMPOUND_SURNAMES) else name[:1]
    given = name[len(surname):]
    forms = [rf"{surname}\s+{given}"]
    if len(given) == 2 and given not in NOT_NAMES and given not in KIN_WORDS:
        forms.append(rf"(?<![가-힣]){given}{_GIVEN_NAME_END}")
    return re.compile("|".join(forms))


def _replace_own_name(text: str, name: str | None, found: Counter) -> str:
    """The record's own name as written (anywhere), then spaced or its given name alone. Only
    where its last two syllables occur (what scrub_sql routes to Python on)."""
    text = _replace_own(text, name, "name", found)
    if not name or len(name) < 3 or name[-2:] not in text:
        return text
    pattern = _own_name_pattern(name)
    if pattern is None:
        return text
    text, count = pattern.subn(PLACEHOLDERS["name"], text)
    if count:
        found["name"] += count
    return text


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


# The passes that find a whole phone or RRN, however typed.
_NUMBER_PASSES = tuple(re.compile(f"(?P<{name}>{FORMS[name].pattern})")
                       for name in ("spaced_digits", "rrn", "phone"))


def _other_numbers(text: str, targets: list[tuple[str, str]]) -> bytearray:
    """Where phones and RRNs that are not the record's own stand (520714-2345679 beside the own
    520714-2345678), a 1 a character: the passes replace them whole, not the own half they
    share."""
    own = {value for value, _ in targets}
    covered = bytearray(len(text))
    for regex in _NUMBER_PASSES:
        for match in regex.finditer(text):
            if (kind_of(match, text)[0] in ("phone", "rrn", "foreign_rrn")
                    and _NOT_DIGIT.sub("", match.group()) not in own):
                covered[match.start():match.end()] = b"\x01" * (match.end() - match.start())
    return covered


def _own_spans(text: str, targets: list[tuple[str, str]]) -> list[tuple[int, int, str]]:
    """Spans of the targets in the text's digit runs, each between non-digits (not inside a
    longer number) and not inside someone else's phone or RRN, never overlapping. Digits typed
    one by one (0 1 2 3 4 5 6 7 8 9) are one number: a single space between two lone digits ends
    nothing."""
    spans, others = [], _other_numbers(text, targets)
    for run in _DIGIT_RUN.finditer(text):
        positions = [i for i in range(run.start(), run.end()) if "0" <= text[i] <= "9"]
        digits = "".join(text[i] for i in positions)
        last = len(positions) - 1
        lone = [(i == 0 or positions[i] - positions[i - 1] > 1)
                and (i == last or positions[i + 1] - positions[i] > 1) for i in range(len(positions))]

        def ends(i: int) -> bool:  # a number may end between digits i - 1 and i
            gap = positions[i] - positions[i - 1]
            return gap > 1 and not (gap == 2 and text[positions[i] - 1] == " " and lone[i - 1] and lone[i])
        taken = [False] * len(digits)
        for value, kind in targets:
            at = digits.find(value)
            while at != -1:
                end = at + len(value)
                if ((at == 0 or ends(at)) and (end == len(digits) or ends(end))
                        and not any(taken[at:end])
                        and not any(others[positions[at]:positions[end - 1] + 1])):
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
               own_address: str | None = None, own_rrn: str | None = None,
               re2_found: int = ALL_PASSES) -> ScrubResult:
    """Replace personal data in `text` by typed placeholders; also the record's own values.

    `re2_found` (from DuckDB, see scrub_sql) holds the RE2 forms found in the text once its own
    address and name are replaced, a text RE2 reads as Python does (nothing to fold); the Python
    passes without one are skipped. The placeholders of the record's own numbers, written here
    after DuckDB read the text, start no match of a skipped pass: brackets end every form but
    those that read earlier finds (never skipped), and the digit cores of the forms with a gap
    (an account, a local phone) lie outside them."""
    if not text:
        return ScrubResult(text or "", {})
    found: Counter = Counter()
    folded = fold_text(text) if re2_found == ALL_PASSES else text
    # The record's own address first, whole, before its parts are replaced piecemeal.
    folded = _replace_own(folded, fold_text(own_address) if own_address else None, "address", found)
    folded = _replace_own_numbers(folded, own_phone, own_rrn, found)
    folded = _replace_own_name(folded, own_name, found)

    scrubbed = _apply(folded, _findings(folded, re2_found), found)
    return ScrubResult(scrubbed, dict(found))


# ---------------------------------------------------------------- DuckDB entry points

SCRUB_FUNCTION = "scrub"
# Characters Python `re` reads differently from RE2: those fold_text changes, the white space
# Python's \s matches beyond RE2's [\t\n\f\r ], and the passes' own fillers. A text holding one
# goes to the Python passes whole.
NOT_RE2_SAFE = ("[\x0b\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
                "\u2010-\u2015\u2212\ufe63\uff01-\uff5e" + FILLER + PERSONAL_FILLER + "]")
# What some form of some kind needs, in RE2: derived from the registry (each form's RE2 form). A
# text that fails it holds no identifier, so neither the scrubber nor the residual scan reads it
# in Python.
CANDIDATE_RE2 = any_of((NOT_RE2_SAFE, *RE2_FORMS))


def _scrub_batch(texts: pa.Array, names: pa.Array, phones: pa.Array, addresses: pa.Array,
                 rrns: pa.Array, re2_found: pa.Array) -> pa.Array:
    rows = zip(texts.to_pylist(), names.to_pylist(), phones.to_pylist(), addresses.to_pylist(),
               rrns.to_pylist(), re2_found.to_pylist())
    return pa.array([None if text is None else
                     scrub_text(text, own_name=name, own_phone=phone, own_address=address,
                                own_rrn=rrn, re2_found=ALL_PASSES if found is None else found).text
                     for text, name, phone, address, rrn, found in rows], pa.string())


# Forms tested together before one by one: a text holds a few forms of the forty, and one RE2
# scan for an alternation costs about one for a form (the bits of 100k candidate complaints in
# 1.3 s instead of 2.4 on one thread).
_FORMS_PER_GROUP = 8


def re2_found_sql(text: str) -> str:
    """BIGINT SQL: the bits of the RE2 forms `text` holds (ALL_PASSES when RE2 and Python `re`
    could read it differently)."""
    numbered = list(enumerate(RE2_FORMS))
    groups = []
    for start in range(0, len(numbered), _FORMS_PER_GROUP):
        group = numbered[start:start + _FORMS_PER_GROUP]
        bits = " + ".join(f"(CASE WHEN regexp_matches({text}, {_literal(form)}) THEN {1 << i} ELSE 0 END)"
                          for i, form in group)
        any_form = any_of(form for _, form in group)
        groups.append(f"(CASE WHEN regexp_matches({text}, {_literal(any_form)}) THEN {bits} ELSE 0 END)")
    return (f"(CASE WHEN regexp_matches({text}, {_literal(NOT_RE2_SAFE)}) THEN {ALL_PASSES} "
            f"ELSE CAST({' + '.join(groups)} AS BIGINT) END)")


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def scrub_sql(text: str, own_name: str, own_phone: str, own_address: str, own_rrn: str,
              python_function: str) -> str:
    """SQL for scrub_text over whole columns (arguments are SQL expressions).

    Set-based in DuckDB (RE2, all threads): a row goes to the Python passes (`python_function`,
    scrub_text itself, which settles candidates with the registry's validators) only if some
    form's RE2 form occurs in it, or it holds the record's own name or address, or digits of its
    own phone or RRN, or characters RE2 reads differently; with the bits of the RE2 forms found,
    so that only those passes run. Every other row is already what scrub_text would return.
    """
    # Typed, so that a bare NULL (a record without the value) binds as the UDF's did.
    text, own_name, own_phone, own_address, own_rrn = (
        f"CAST({value} AS VARCHAR)" for value in (text, own_name, own_phone, own_address, own_rrn))
    value_in_text = [f"(length({value}) >= 2 AND contains({text}, {value}))"
                     for value in (own_address, own_name)]
    # the own name spaced or its given name alone (scrub_text looks for them only then)
    value_in_text.append(f"(length({own_name}) >= 3 AND contains({text}, right({own_name}, 2)))")
    own_in_text = " OR ".join(value_in_text)
    phone_digits = f"regexp_replace(coalesce({own_phone}, ''), '[^0-9]+', '', 'g')"
    rrn_digits = f"regexp_replace(coalesce({own_rrn}, ''), '[^0-9]+', '', 'g')"
    text_digits = f"regexp_replace({text}, '[^0-9]+', '', 'g')"
    # scrub_text looks for its own numbers only where these parts of their digits occur.
    own_numbers = (f"({own_phone} IS NOT NULL OR {own_rrn} IS NOT NULL) AND regexp_matches({text}, "
                   f"'[0-9](?:[^0-9]*[0-9]){{3}}') AND "
                   f"((length({phone_digits}) >= 7 AND contains({text_digits}, right({phone_digits}, 4)))"
                   f" OR (length({rrn_digits}) = 13 AND (contains({text_digits}, left({rrn_digits}, 6))"
                   f" OR contains({text_digits}, right({rrn_digits}, 4)))))")
    # Own values RE2 and Python could read differently: the Python passes redo them, all of them.
    unsafe_own = " OR ".join(f"coalesce(regexp_matches({value}, {_literal(NOT_RE2_SAFE)}), false)"
                             for value in (own_address, own_name))
    # The RE2 forms are read on the text as it came: replacing the own name and address by
    # their placeholders adds no match but the label word inside the name placeholder.
    label = 1 << RE2_FORMS.index(FORMS["name_label"].re2)
    re2_found = (f"CASE WHEN {unsafe_own} THEN {ALL_PASSES} ELSE ({re2_found_sql(text)} | "
                 f"CASE WHEN {own_in_text} THEN {label} ELSE 0 END) END")
    python = f"{python_function}({text}, {own_name}, {own_phone}, {own_address}, {own_rrn}, {re2_found})"
    # CASE hands each branch only its rows: the digits are read only where nothing else matched.
    return (f"(CASE WHEN {text} IS NULL THEN NULL "
            f"WHEN regexp_matches({text}, {_literal(CANDIDATE_RE2)}) OR {own_in_text} OR {unsafe_own} "
            f"THEN {python} WHEN {own_numbers} THEN {python} ELSE {text} END)")


def register_scrubber(connection: duckdb.DuckDBPyConnection, name: str = SCRUB_FUNCTION) -> None:
    """Create the SQL macro `scrub(text, own_name, own_phone, own_address, own_rrn) -> VARCHAR`
    (see scrub_sql) and the arrow UDF `<name>_python` it hands candidate rows to.

    It streams batch by batch, so `CREATE TABLE … AS SELECT scrub(body, …)` over a million rows
    never holds the table in Python; NULL text stays NULL, NULL own values are ignored.
    """
    varchar = duckdb.sqltype("VARCHAR")
    python_function = f"{name}_python"
    connection.create_function(python_function, _scrub_batch, [varchar] * 5 + [duckdb.sqltype("BIGINT")],
                               varchar, type="arrow",
                               null_handling="special", side_effects=False)
    arguments = ("text", "own_name", "own_phone", "own_address", "own_rrn")
    connection.execute(f"CREATE OR REPLACE TEMP MACRO {name}({', '.join(arguments)}) AS "
                       f"{scrub_sql(*arguments, python_function=python_function)}")


def _placeholder_sums(columns: list[str]) -> tuple[str, dict[str, str]]:
    """SQL sums of the placeholders of each kind in each column, and their parameters."""
    assert all(placeholder.startswith("[") for placeholder in PLACEHOLDERS.values())
    # every placeholder starts with '[': a text without one is counted without the replaces
    sums = ", ".join(
        f"sum(CASE WHEN contains({quote(c)}, '[') THEN (length({quote(c)}) - length(replace({quote(c)}, "
        f"$p{k}, ''))) // {len(placeholder)} ELSE 0 END)"
        for c in columns for k, placeholder in enumerate(PLACEHOLDERS.values()))
    return sums, {f"p{k}": v for k, v in enumerate(PLACEHOLDERS.values())}


def _per_kind(sums: list) -> dict[str, int]:
    counts = dict.fromkeys(KINDS, 0)
    for i, value in enumerate(sums):
        counts[KINDS[i % len(KINDS)]] += int(value or 0)
    return counts


def placeholder_counts(connection: duckdb.DuckDBPyConnection, table: str,
                       columns: list[str]) -> dict[str, int]:
    """Placeholders per kind in text columns; scrubbed minus source = identifiers replaced."""
    sums, parameters = _placeholder_sums(columns)
    return _per_kind(connection.execute(f"SELECT {sums} FROM {table}", parameters).fetchall()[0])


def placeholder_counts_by_file(connection: duckdb.DuckDBPyConnection, table: str,
                               columns: list[str]) -> dict[str, dict[str, int]]:
    """`placeholder_counts` for every `source_file` of `table`, in one query."""
    sums, parameters = _placeholder_sums(columns)
    return {source_file: _per_kind(values) for source_file, *values in connection.execute(
        f"SELECT source_file, {sums} FROM {table} GROUP BY source_file", parameters).fetchall()}


_SCANNED_PER_BATCH = 10_000  # distinct candidate values held in Python at a time


def count_residual_identifiers(connection: duckdb.DuckDBPyConnection, table: str,
                               columns: list[str]) -> dict[str, int]:
    """Identifiers surviving in text columns (placeholders are not identifiers), per kind.

    RE2 in DuckDB (parallel) keeps only rows where some form's RE2 form occurs; the scrubber's
    own passes (those whose RE2 form occurs) then read those few rows, so the scan and the
    scrubber agree by construction: both are derived from the registry.
    """
    counts = dict.fromkeys(KINDS, 0)
    if not columns:
        return counts
    # every column in one query (the patterns are compiled once per query, not per column),
    # streamed; each distinct value is scanned once and counted as often as it occurs (codes and
    # bands repeat on every row: a week's complaints hold ~95 distinct candidates in ~8,600)
    texts = ", ".join(f"CAST({quote(c)} AS VARCHAR) AS {quote(c)}" for c in columns)
    # execute and fetchmany, not a relation's arrow reader: as streamed, and ~10 ms less per table
    candidates = connection.execute(
        f"SELECT candidate, occurrences, {re2_found_sql('candidate')} FROM ("
        f"SELECT candidate, count(*) AS occurrences FROM (UNPIVOT (SELECT {texts} FROM {table}) "
        f"ON {', '.join(quote(c) for c in columns)} INTO NAME text_column VALUE candidate) "
        f"WHERE regexp_matches(candidate, $pattern) GROUP BY candidate)", {"pattern": CANDIDATE_RE2})
    while batch := candidates.fetchmany(_SCANNED_PER_BATCH):
        for text, occurrences, re2_found in batch:
            for finding in _findings(fold_text(text), re2_found):
                counts[finding.kind] += occurrences
    return counts
