"""How a dataset is de-identified, column by column, in the PIPC guideline's terms: the types a
dataset's declaration (gn_pipelines/datasets/) states its recipe with, and the thresholds.

A recipe has two steps. `per_drop`: run on each validated drop as it arrives — keyed
pseudonyms (가명처리), values derived from identifiers then deleted (데이터 삭제), free text
scrubbed (데이터 마스킹). `release`: run over all drops — generalisation and suppression until
k-anonymous and l-diverse (데이터 범주화), shaped as the published table. Columns of the contract
not named here are deleted: a new direct identifier can never slip through by omission.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gn_pipelines.contracts.generalisation import GENERALISED, KEPT, MASKED  # noqa: F401 (the techniques' names)
from gn_pipelines.reference.providers import CHANGWON_CODE, CHANGWON_DISTRICTS

PSEUDONYMISED = "가명처리"

# The thresholds, in this one place (PIPC 가명정보 처리 가이드라인: k = 5 is the customary example;
# open record-level files go to everyone, so they take a stricter k).
PUBLISHED_K = 5  # the published warehouse (가명정보) and data-lab extracts
PUBLISHED_L = 2
OPEN_DATA_K = 10  # record-level open data (익명정보)
# Aggregates and data-lab extracts suppress any cell counting fewer people than this.
SMALL_CELL_THRESHOLD = 5


class RecipeError(ValueError):
    """A recipe that declares a check with nothing to check (it could never fail)."""


# 읍면동 named in a free-form address: the first word ending in 읍, 면, 동 or 가 (before the road
# name or lot number); checked against the reference 읍면동 of the row's 시군구 before use.
_EUP_MYEON_DONG_IN_ADDRESS = r"(?:^|\s)([가-힣0-9·]+(?:읍|면|동|가))(?:\s|$)"
_EUP_MYEON_DONG_IN_BRACKETS = r"\(([가-힣0-9·]+(?:동|가))(?:,[^)]*)?\)\s*$"


@dataclass(frozen=True)
class Derived:
    name: str
    sql: str  # over the validated drop's columns; may call pseudonym() and scrub()
    technique: str
    from_columns: tuple[str, ...]


@dataclass(frozen=True)
class Release:
    """The all-drops step: k-anonymity over quasi-identifiers, l-diversity over sensitive ones.

    `quasi_identifiers` in priority order: the first is kept finest (see privacy/anonymity.py).
    `k` is required with quasi-identifiers and refused without; `l` likewise with `sensitive`;
    `text_columns` (scanned for residual identifiers) must name something: a check with nothing
    to check would always pass, so it is an error when the recipe is built (at load).
    """

    quasi_identifiers: tuple = ()
    sensitive: tuple = ()
    partition_by: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()
    prepare_sql: str = "SELECT * FROM drops"  # shapes the union of drops before anonymising
    publish_sql: str = "SELECT * FROM anonymised"  # shapes the result as the published table
    text_columns: tuple[str, ...] = ()  # scanned for residual identifiers
    k: int | None = None
    l: int | None = None
    # free text generalised with its row, and the published columns it is generalised to
    free_text: tuple[str, ...] = ()
    text_sigungu: str = "sigungu_code"
    text_district: str | None = "district"
    text_age_band: str | None = "age_band"
    gives_up: str = ""  # what the priority order costs, in words, for the privacy report
    # the kept pseudonymous key of each record's person, where one person makes several records:
    # k then counts people (privacy/anonymity.py)
    person: str | None = None

    def __post_init__(self):
        if self.quasi_identifiers and not (self.k and self.k >= 2):
            raise RecipeError("quasi-identifiers need k ≥ 2 (k = 1 is no anonymity)")
        if self.k is not None and not self.quasi_identifiers:
            raise RecipeError(f"k = {self.k} with no quasi-identifier: the k check could not fail")
        if self.sensitive and not (self.l and self.l >= 2):
            raise RecipeError("sensitive attributes need l ≥ 2")
        if self.l is not None and not self.sensitive:
            raise RecipeError(f"l = {self.l} with no sensitive attribute: the l check could not fail")
        if not self.text_columns:
            raise RecipeError("a release names the text columns its residual scan reads")
        if set(self.free_text) - set(self.text_columns):
            raise RecipeError("free text generalised with its row must also be scanned")

    @property
    def checks(self) -> tuple[str, ...]:
        """The checks this release can fail: the residual scan always, k and l when declared."""
        return ("residual",) + (("k",) if self.k else ()) + (("l",) if self.l else ())


@dataclass(frozen=True)
class Recipe:
    dataset: str
    per_drop: tuple[Derived, ...]
    release: Release = field(default_factory=Release)
    # the pseudonymised columns naming one record among a provider's deliveries (the contract's
    # unique key): delivered again, the newest delivery is the record (privacy/current_records.py)
    record_key: tuple[str, ...] = ()

    @property
    def techniques(self) -> dict[str, str]:
        return {d.name: f"{d.technique} ({', '.join(d.from_columns)})" for d in self.per_drop}


def known_eup_myeon_dong(value: str, sigungu: str = "sigungu_code") -> str:
    """`value` if the reference knows it as a 읍면동 of the row's 시군구, else NULL (the area then
    falls to the 시군구): a provider's 리, apartment or lot number never passes as a 읍면동."""
    return f"CASE WHEN list_contains($known_eup_myeon_dong, {sigungu} || ' ' || {value}) THEN {value} END"


def sigungu_of(code: str, dong: str, address: str | None = None) -> str:
    """The row's 시군구 code; 창원 rows delivered under 48120 get their 구: the one the address
    names, else the one holding that 읍면동 name (when only one does). The reference lists
    창원's 읍면동 only under the 구 codes, so under 48120 none was ever recognised."""
    by_name = ""
    if address is not None:
        whens = " ".join(f"WHEN '{name}' THEN '{district}'" for district, name in CHANGWON_DISTRICTS.items())
        names = "|".join(CHANGWON_DISTRICTS.values())
        by_name = f"CASE regexp_extract({address}, '({names})', 1) {whens} END, "
    by_dong = f"map_extract(MAP($changwon_dong_names, $changwon_dong_districts), {dong})[1]"
    return (f"CASE WHEN {code} = '{CHANGWON_CODE}' THEN coalesce({by_name}{by_dong}, {code}) "
            f"ELSE {code} END")


def dong_in_address(address: str) -> str:
    """A road-name address names its 동 in the closing brackets (참고항목: "중평32길 49 (중평동)"),
    where a unit (111동) may come first: the brackets are read first, then the first word."""
    bracketed = f"nullif(regexp_extract({address}, '{_EUP_MYEON_DONG_IN_BRACKETS}', 1), '')"
    return f"coalesce({bracketed}, regexp_extract({address}, '{_EUP_MYEON_DONG_IN_ADDRESS}', 1))"


def eup_myeon_dong_of(address: str) -> str:
    dong = dong_in_address(address)
    return known_eup_myeon_dong(dong, sigungu_of("sigungu_code", dong, address))


def scrubbed(column: str, name: str, phone: str | None, address: str, rrn: str | None) -> Derived:
    """`column` scrubbed, the record's own name, phone, address and 주민등록번호 included."""
    own_phone, own_rrn = phone or "NULL", rrn or "NULL"
    return Derived(column, f"scrub({column}, {name}, {own_phone}, {address}, {own_rrn})", MASKED,
                   tuple(c for c in (column, name, phone, address, rrn) if c))


AREA_NAMES = "providers"  # a relation (code, name) of 시군 and 창원 구, bound by the engine

