"""Free text generalised with its row: no place, age or date finer than the row's own columns.

The scrubber (`scrubber.py`) removes identifiers; this pass removes quasi-identifiers the
structured columns generalised away, so k and l hold for what is published, text included
(issue 11, item 2). It runs in DuckDB (RE2, set-based) on the released table, once the row's
published area and age band are known:

| in the text                                   | becomes                                   |
|-----------------------------------------------|-------------------------------------------|
| a 시군 or 창원 구 finer than the row's 시군 code  | `[시군]`, `[구]`                            |
| a 읍면동 other than the row's published one     | `[읍면동]`                                 |
| a 리 (법정리)                                  | `[리]`                                     |
| an apartment complex, villa, officetel        | `[아파트]`                                 |
| a named building, a 동·호 unit                 | `[건물]`                                   |
| an exact age (72세, 72살)                      | the row's band (`[70-79세]`) when every age in the text falls in it, else `[나이]` |
| an age in words or a birth year (일흔두 살, 칠십이 세, 1953년생) | `[나이]`                        |
| an exact date (2025년 3월 14일, 2025.03.14, 25.03.14, 3/14) | its month (2025년 3월, 2025-03, 25.03, 3월) |

Names come from the reference 법정동코드 table (`gn_pipelines/reference/`). Two-syllable names
(서면, 이동, 동면 …) are also ordinary words, so they are replaced only beside a 시군/구 name or a
word that makes them a place (주민, 일대, 마을, 행정복지센터 …).
"""

from __future__ import annotations

from functools import lru_cache

from gn_pipelines.privacy.generalisation import quote
from gn_pipelines.privacy.text_patterns import any_of
from gn_pipelines.reference.providers import CHANGWON_CODE, PROVINCE_CODE

PLACEHOLDERS = {"sigun": "[시군]", "gu": "[구]", "eup_myeon_dong": "[읍면동]", "ri": "[리]", "apartment": "[아파트]",
                "building": "[건물]", "age": "[나이]"}
KINDS = (*PLACEHOLDERS, "age_band", "date")

_HANGUL = "가-힣"
_BEFORE = f"(^|[^{_HANGUL}0-9])"  # RE2 has no look-behind: the boundary is captured and put back
_PLACE_WORDS = "주민|일대|마을|지역|행정복지센터|주민센터|사무소|에 사는|에서 사는|에 살고"
_AGE = r"(^|[^0-9.,])([0-9]{1,3})\s?(?:세|살)"
_GENERATION = "세대"  # 3세대 is a generation, not an age: hidden from the age pattern
_APARTMENT = f"{_BEFORE}[{_HANGUL}A-Za-z0-9]+(?:아파트|APT|빌라|맨션|오피스텔|하이츠|빌리지|타운하우스)"
_BUILDING = f"{_BEFORE}(?:[{_HANGUL}A-Za-z0-9]+(?:빌딩|타워|상가|프라자|플라자)|[0-9]{{1,4}}동\\s?[0-9]{{1,5}}호)"
_FULL_DATE = r"([0-9]{4})\s?년\s?([0-9]{1,2})\s?월\s?[0-9]{1,2}\s?일"
_NUMERIC_DATE = r"(^|[^0-9])((?:19|20)[0-9]{2})[-./]\s?([0-9]{1,2})[-./]\s?[0-9]{1,2}([^0-9]|$)"
_MONTH_DAY = r"(^|[^0-9])([0-9]{1,2})\s?월\s?[0-9]{1,2}\s?일"
_DAY = "(?:0?[1-9]|[12][0-9]|3[01])"
_MONTH = "(0?[1-9]|1[0-2])"
_SHORT_DATE = rf"(^|[^0-9.])([0-9]{{2}})\.\s?{_MONTH}\.\s?{_DAY}([^0-9]|$)"  # 25.03.03
_SLASH_DATE = rf"(^|[^0-9/.]){_MONTH}/{_DAY}([^0-9/]|$)"  # 3/3 (a fraction 1/2 reads as a date too)
# ages not written in digits: a birth year (1953년생, 53년생), native numerals (일흔두 살),
# Sino-Korean ones (칠십이 세; 이십세기 is a century)
_BIRTH_YEAR = r"(^|[^0-9])(?:19|20)?[0-9]{2}\s?년\s?생"
_NATIVE_AGE = (f"(^|[^{_HANGUL}])(?:스물|서른|마흔|쉰|예순|일흔|여든|아흔)\\s?"
               "(?:한|두|세|네|다섯|여섯|일곱|여덟|아홉)?\\s?살")
_SINO_AGE = f"(^|[^{_HANGUL}])[이삼사오육칠팔구]?십[일이삼사오육칠팔구]?\\s?(?:세|살)([^기대]|$)"


_DATE_PATTERNS = (_NUMERIC_DATE, _MONTH_DAY, _SHORT_DATE, _SLASH_DATE)  # counted before and after


@lru_cache(maxsize=1)
def place_patterns() -> dict[str, str]:
    """RE2 patterns of the reference 읍면동 and 리 names (longest first: RE2 takes the first)."""
    from gn_pipelines.reference.legal_dong import build_eup_myeon_dong, build_ri, sigungu_names

    dongs = set(build_eup_myeon_dong()["eup_myeon_dong"])
    ris = set(build_ri()["ri"])
    sigun, gu = sigungu_names()
    areas = (*sigun, *gu)

    def alternation(names) -> str:
        return "|".join(sorted(names, key=lambda n: (-len(n), n)))

    long_dongs = alternation(n for n in dongs if len(n) > 2)
    short_dongs = alternation(n for n in dongs if len(n) == 2)
    return {
        "eup_myeon_dong": f"{_BEFORE}(?:{long_dongs})",
        "eup_myeon_dong_short": (f"((?:{alternation(areas)})\\s?)(?:{short_dongs})"
                                 f"|{_BEFORE}(?:{short_dongs})(\\s?(?:{_PLACE_WORDS}))"),
        "sigun": f"{_BEFORE}(?:{alternation(sigun)})",
        "gu": f"{_BEFORE}(?:{alternation(gu)})",
        "ri": f"{_BEFORE}(?:{alternation(n for n in ris if len(n) > 2)})",
        # a two-syllable 리 (사리, 유리, 관리 …) only right after a replaced 읍면동
        "ri_short": f"(\\[읍면동\\]\\s?)(?:{alternation(n for n in ris if len(n) == 2)})",
    }


def _in_band(age: str, band: str) -> str:
    """SQL: the integer text `age` falls in the published band label (`30-39`, `70+`)."""
    value = f"CAST({age} AS INTEGER)"
    return (f"CASE WHEN {band} IS NULL OR {band} = '*' THEN false "
            f"WHEN {band} LIKE '%+' THEN {value} >= CAST(rtrim({band}, '+') AS INTEGER) "
            f"ELSE {value} BETWEEN CAST(split_part({band}, '-', 1) AS INTEGER) "
            f"AND CAST(split_part({band}, '-', 2) AS INTEGER) END")


def _pattern_steps(sigungu: str) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(pattern, rewrite, condition besides the match) of the steps that replace RE2 matches:
    those while the row's own 읍면동 is hidden, and those after."""
    patterns = place_patterns()
    while_hidden = [
        (patterns["eup_myeon_dong"], "'\\1[읍면동]'", "true"),
        (patterns["eup_myeon_dong_short"], "'\\1\\2[읍면동]\\3'", "true"),
        (patterns["ri"], "'\\1[리]'", "true"),
        (patterns["ri_short"], "'\\1[리]'", "true"),
        (_APARTMENT, "'\\1[아파트]'", "true"),
        (_BUILDING, "'\\1[건물]'", "true"),
    ]
    # a 구 is finer than 창원시 or the province, a 시군 finer than the province
    after = [
        (patterns["gu"], "'\\1[구]'", f"{sigungu} IN ('{CHANGWON_CODE}', '{PROVINCE_CODE}')"),
        (patterns["sigun"], "'\\1[시군]'", f"{sigungu} = '{PROVINCE_CODE}'"),
        (_FULL_DATE, "'\\1년 \\2월'", "true"),
        (_NUMERIC_DATE, "'\\1\\2-\\3\\4'", "true"),
        (_MONTH_DAY, "'\\1\\2월'", "true"),
        (_SHORT_DATE, "'\\1\\2.\\3\\4'", "true"),
        (_SLASH_DATE, "'\\1\\2월\\3'", "true"),
        (_BIRTH_YEAR, f"'\\1{PLACEHOLDERS['age']}'", "true"),
        (_NATIVE_AGE, f"'\\1{PLACEHOLDERS['age']}'", "true"),
        (_SINO_AGE, f"'\\1{PLACEHOLDERS['age']}\\2'", "true"),
    ]
    return while_hidden, after


def generalising_step_groups(text: str, *, sigungu: str, district: str | None,
                             age_band: str | None) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(condition, new value) SQL pairs rewriting the text column `text` of a released row, in
    order (see the module's table), in two groups: the places, with the row's own 읍면동 hidden
    and put back, then the 구 and 시군, dates and ages (each group has its gate, see
    `_generalised_sql`). Each step touches only the rows its condition selects (an RE2 match
    without submatches is a fast DFA scan); most texts have no 리, building or age.

    `sigungu`, `district`, `age_band`: the row's published columns (SQL expressions); `district`
    or `age_band` None when the table publishes none: then every 읍면동 or age is replaced.
    """
    t = quote(text)

    def replacing(steps: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
        return [(f"{when} AND regexp_matches({t}, '{pattern}')", f"regexp_replace({t}, '{pattern}', {rewrite}, 'g')")
                for pattern, rewrite, when in steps]

    while_hidden, after = _pattern_steps(sigungu)
    steps = []
    if district is not None:  # the row's own published 읍면동 may stay: hidden from the patterns
        steps.append((f"{district} IS NOT NULL AND contains({t}, {district})", f"replace({t}, {district}, chr(1))"))
    steps += replacing(while_hidden)
    if district is not None:
        steps.append((f"contains({t}, chr(1))", f"replace({t}, chr(1), {district})"))
    later = replacing(after)
    band = age_band if age_band is not None else "NULL"
    hidden = f"replace({t}, '{_GENERATION}', chr(2))"
    ages = f"regexp_extract_all({hidden}, '{_AGE}', 2)"
    all_in_band = f"list_bool_and(list_transform({ages}, lambda a: {_in_band('a', band)}))"
    shown = f"CASE WHEN {all_in_band} THEN '[' || {band} || '세]' ELSE '{PLACEHOLDERS['age']}' END"
    later.append((f"regexp_matches({hidden}, '{_AGE}')",
                  f"replace(regexp_replace({hidden}, '{_AGE}', '\\1' || {shown}, 'g'), chr(2), '{_GENERATION}')"))
    return steps, later


def hidden_steps_may_change(text: str, *, district: str | None) -> str:
    """SQL: false only for a text no step of the first group of `generalising_step_groups` (the
    places, the row's own 읍면동 hidden) changes, so that those steps can be skipped for it (one
    RE2 scan instead of eight).

    Exact, by induction over the steps. When it is false: the row's own 읍면동 is not in the text
    and the text holds no chr(1), so hiding and restoring do nothing; and every RE2 step's
    pattern is an alternative here, so none matches the unchanged text. A new step in the group
    must keep this true.
    """
    t = quote(text)
    while_hidden, _ = _pattern_steps("NULL")  # their patterns only: the conditions are not read here
    patterns = any_of(pattern for pattern, _, _ in while_hidden)
    own_district = f"({district} IS NOT NULL AND contains({t}, {district})) OR " if district is not None else ""
    return f"({own_district}contains({t}, chr(1)) OR regexp_matches({t}, '{patterns}'))"


def later_steps_may_change(text: str) -> str:
    """SQL: false only for a text no step of the second group (구 and 시군, dates, ages) changes;
    read on the text the first group left (a place replaced can make a boundary before a 시군
    name that was not one: 수도동창원시 → [읍면동]창원시).

    Exact as `hidden_steps_may_change`: every RE2 step's pattern is an alternative here, and the
    age step's text (세대 hidden as chr(2)) matches `_AGE` only where the text does (chr(2)
    stands for 대, which is not a digit, '.' or ',').
    """
    _, after = _pattern_steps("NULL")
    return f"regexp_matches({quote(text)}, '{any_of([*(pattern for pattern, _, _ in after), _AGE])}')"


def _placeholder_counts_sql(marked: str, dated: str) -> dict[str, str]:
    """SQL per kind: placeholders and bands in the text (`marked`: the text if it holds a '['),
    and exact dates left in it (`dated`: the text if a date pattern matches it)."""
    def matches(text: str, pattern: str) -> str:
        return f"len(regexp_extract_all({text}, '{pattern}'))"

    counts = {kind: f"(length({marked}) - length(replace({marked}, '{ph}', ''))) // {len(ph)}"
              for kind, ph in PLACEHOLDERS.items()}
    counts["age_band"] = matches(marked, r"\[[0-9]{2}(?:-[0-9]{2}|\+)세\]")
    counts["date"] = " + ".join(matches(dated, p) for p in _DATE_PATTERNS)  # a full date holds a 월 일
    return counts


def _counts(connection, table: str, columns: list[str]) -> dict[str, int]:
    # Each text is searched only by the patterns it can hold: every placeholder and band starts
    # with '[', and a text with a date matches either date pattern (the counts run before and
    # after over every text: at 1M rows a third of the release's time when every text was
    # searched for every kind; one DFA scan for both patterns costs less than extracting them).
    dates = any_of(_DATE_PATTERNS)
    gated, sums = [], []
    for i, column in enumerate(columns):
        text = f"coalesce({quote(column)}, '')"
        gated += [f"CASE WHEN contains({text}, '[') THEN {text} ELSE '' END AS marked_{i}",
                  f"CASE WHEN regexp_matches({text}, '{dates}') THEN {text} ELSE '' END AS dated_{i}"]
        sums += [f"sum({sql})" for sql in _placeholder_counts_sql(f"marked_{i}", f"dated_{i}").values()]
    row = connection.execute(f"SELECT {', '.join(sums)} FROM (SELECT {', '.join(gated)} FROM {table})").fetchall()[0]
    counts = dict.fromkeys(KINDS, 0)
    for i, value in enumerate(row):
        counts[KINDS[i % len(KINDS)]] += int(value or 0)
    return counts


def generalise_text_columns(connection, table: str, columns: list[str], *, sigungu: str,
                            district: str | None, age_band: str | None) -> dict[str, int]:
    """Rewrite `columns` of `table` (replaced by its generalised copy); returns the replacements
    made, per kind.

    One `CREATE TABLE … AS SELECT` through every step, not an `UPDATE` per step: an update keeps
    its undo data in memory, which cannot spill, and ran out of DuckDB's 1 GB at 10M rows."""
    if not columns:
        return {}
    before = _counts(connection, table, columns)
    where = {"sigungu": quote(sigungu), "district": quote(district) if district else None,
             "age_band": quote(age_band) if age_band else None}
    generalised = f"{table}_text_generalised"
    connection.execute(f"CREATE OR REPLACE TABLE {generalised} AS {_generalised_sql(table, columns, where)}")
    connection.execute(f"DROP TABLE {table}")
    connection.execute(f"ALTER TABLE {generalised} RENAME TO {table}")
    after = _counts(connection, table, columns)
    changes = {kind: after[kind] - before[kind] for kind in KINDS}
    changes["date"] = before["date"] - after["date"]
    return {kind: n for kind, n in changes.items() if n}


def _generalised_sql(table: str, columns: list[str], where: dict[str, str | None], *, gated: bool = True) -> str:
    """SELECT of `table` with each of `columns` through every step. Each group of steps
    (`generalising_step_groups`) is skipped for a text its gate does not let through: about half
    the texts name a place, far fewer a date or an age, so most texts that go through the places
    skip the dozen scans of the second group (`gated=False`: the oracle of the gates' test, every
    text through every step)."""
    gates, relation = [], table
    for i, column in enumerate(columns):
        groups = generalising_step_groups(column, **where)
        tests = (hidden_steps_may_change(column, district=where["district"]), later_steps_may_change(column))
        for g, (steps, test) in enumerate(zip(groups, tests)):
            gate = None
            if gated:
                gate = f"_text_gate_{i}_{g}"
                gates.append(gate)
                relation = f"(SELECT *, {test} AS {gate} FROM {relation})"
            relation = _through(relation, column, steps, gate)
    return f"SELECT * EXCLUDE ({', '.join(gates)}) FROM {relation}" if gates else f"SELECT * FROM {relation}"


def _through(relation: str, column: str, steps: list[tuple[str, str]], gate: str | None) -> str:
    """`relation` with `column` rewritten by each step in turn, only where `gate` holds."""
    name = quote(column)
    for condition, value in steps:
        condition = f"{gate} AND {condition}" if gate else condition
        relation = f"(SELECT * REPLACE (CASE WHEN {condition} THEN {value} ELSE {name} END AS {name}) FROM {relation})"
    return relation
