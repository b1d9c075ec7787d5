"""What a published table is (`spec/published-tables.md`), declared as data: names, column types,
bilingual comments, sources, privacy class and treatment, how the public copy is made, and what
the data lab may select, filter and group. Each dataset declares its tables with these
(gn_pipelines/datasets/); publication, open data and the data lab read the declarations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gn_pipelines.contracts.generalisation import Ladder, exact_ladder
from gn_pipelines.contracts.recipes import OPEN_DATA_K, PUBLISHED_K, PUBLISHED_L, SMALL_CELL_THRESHOLD
from gn_pipelines.reference.providers import CHANGWON_CODE, CHANGWON_DISTRICTS, PROVINCE_CODE

LICENCE = "공공누리 제1유형"

# Privacy classes of the 개인정보 보호법 (spec: "Privacy classes"). 개인정보 never leaves the
# restricted zone, so no published table carries it. 가명정보 goes to the center's analysts and to
# reviewed data-lab extracts only; open data holds 익명정보 and 통계 only.
PSEUDONYMOUS = "가명정보"
ANONYMOUS = "익명정보"
STATISTICS = "통계"
PRIVACY_CLASSES = (PSEUDONYMOUS, ANONYMOUS, STATISTICS)
OPEN_PRIVACY_CLASSES = (ANONYMOUS, STATISTICS)
# Record-level open data is k-anonymous at a stricter k than the analysts' tables (spec: 10);
# the number lives with the other thresholds, in the recipes.
PUBLIC_K = OPEN_DATA_K


@dataclass(frozen=True)
class PublicRelease:
    """How a 가명정보 table becomes 익명정보 for the public: its keys and free text are withheld
    (`PublishedTable.open_data_withheld`) and its quasi-identifiers, as published, are generalised
    again until every class holds `k` records (local recoding, `privacy/anonymity.py`)."""

    quasi_identifiers: tuple[Ladder, ...]  # over published columns; the first listed is kept finest
    partition_by: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = ()
    k: int = PUBLIC_K
    l: int = 2
    # the (withheld) key of each record's person, where one person makes several records: k
    # then counts people, not records
    person: str | None = None


@dataclass(frozen=True)
class PortalListing:
    """What data.go.kr shows on an API's page beyond the catalog (공공데이터 분류체계, 키워드)."""

    classification: str  # 분류체계: "대분류 - 중분류"
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class PublishedColumn:
    name: str
    type: str  # DuckDB type
    comment_ko: str
    comment_en: str


@dataclass(frozen=True)
class PublishedTable:
    name: str
    title_ko: str
    title_en: str
    description_ko: str
    description_en: str
    grain: str
    columns: tuple[PublishedColumn, ...]
    source_datasets: tuple[str, ...]  # collected datasets it is built from
    privacy_treatment: str
    privacy_class: str  # one of PRIVACY_CLASSES
    provider_column: str | None = None  # column whose codes name the providers of its rows
    derived_from: tuple[str, ...] = ()  # published tables it is computed from
    # Data lab: columns a request may select, filter on and group by. Record-level personal
    # keys and free text are never listed (PIPC 가명정보 처리 가이드라인: no linkage keys leave).
    selectable: tuple[str, ...] = ()
    filterable: tuple[str, ...] = ()
    groupable: tuple[str, ...] = ()
    record_level_allowed: bool = False  # may the data lab return ungrouped rows?
    # Left out of the public open-data copy: the linkage keys of 가명정보 (PIPC guideline: a
    # pseudonymised dataset goes to analysts, not to everyone; without its keys, a k-anonymous
    # and scrubbed table links no person across months, tables or drops).
    open_data_withheld: tuple[str, ...] = ()
    # A 가명정보 table reaches open data only through this (익명정보); without it, not at all.
    public_release: PublicRelease | None = None
    # Required of every table (keyword-only): the portal lists no table under a default 분류.
    portal: PortalListing = field(kw_only=True)

    def __post_init__(self) -> None:
        if self.privacy_class not in PRIVACY_CLASSES:
            raise ValueError(f"{self.name}: privacy_class {self.privacy_class!r} is not one of {PRIVACY_CLASSES}")
        if self.public_release is not None and self.privacy_class != PSEUDONYMOUS:
            raise ValueError(f"{self.name}: only a {PSEUDONYMOUS} table needs a public release")

    @property
    def open_privacy_class(self) -> str | None:
        """The class of the open-data copy; None when the table is not opened to the public."""
        if self.privacy_class != PSEUDONYMOUS:
            return self.privacy_class
        return ANONYMOUS if self.public_release is not None else None

    @property
    def quasi_identifiers(self) -> tuple[str, ...]:
        """Columns a data-lab extract of this table is checked for k over (those of its public release)."""
        if self.public_release is None:
            return ()
        outputs = [out for ladder in self.public_release.quasi_identifiers for out in ladder.outputs]
        return tuple(c for c in self.column_names if c in outputs or c in self.public_release.partition_by)

    @property
    def sensitive(self) -> tuple[str, ...]:
        return self.public_release.sensitive if self.public_release is not None else ()

    @property
    def person(self) -> str | None:
        """The column keying each record's person, where one person makes several records."""
        return self.public_release.person if self.public_release is not None else None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def open_column_names(self) -> tuple[str, ...]:
        """The columns of the table's open-data copy, in declared order."""
        return tuple(c for c in self.column_names if c not in self.open_data_withheld)

    def column(self, name: str) -> PublishedColumn:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")


def described(name: str, type_: str, ko: str, en: str) -> PublishedColumn:
    return PublishedColumn(name, type_, ko, en)


def sigungu_columns(*, changwon_districts: bool = False) -> tuple[PublishedColumn, ...]:
    """`changwon_districts`: a record-level table, whose 창원 rows carry a 구 code (delivered, or
    found from the address) unless the release coarsened them: the description says how to find
    all of 창원시, which a filter on 48120 alone would miss."""
    if not changwon_districts:
        return (described("sigungu_code", "VARCHAR", "시군구코드(5자리)", "5-digit 시군구 code"),
                described("sigungu_name", "VARCHAR", "시군명", "시군 name"))
    return (described("sigungu_code", "VARCHAR",
                      "시군구코드(5자리; 창원시는 구 코드 48121–48129일 수 있음, 창원시 전체는 LIKE '4812_')",
                      "5-digit 시군구 code (창원시 rows may carry a district code 48121–48129; all of 창원시: "
                      "LIKE '4812_')"),
            described("sigungu_name", "VARCHAR", "시군명(창원시는 구 이름까지)", "시군 name (창원시 with its district)"))


def suppression_columns() -> tuple[PublishedColumn, ...]:
    return (described("suppressed", "BOOLEAN", "비공개(셀 억제) 여부", "whether the cell's figures are suppressed"),
            described("suppression", "VARCHAR", f"억제 사유: primary({SMALL_CELL_THRESHOLD} 미만) 또는 secondary(역산 방지)",
               f"why: primary (fewer than {SMALL_CELL_THRESHOLD}) or secondary (prevents recovery from totals)"))


def everything_but(columns: tuple[PublishedColumn, ...], *excluded: str) -> tuple[str, ...]:
    return tuple(c.name for c in columns if c.name not in excluded)


def sigungu_name_sql(code: str) -> str:
    """The 시군 (or 창원 구, or 도) name of a code expression, from the reference constants."""
    from gn_pipelines.reference.providers import PROVIDERS

    names = {p.code: p.name for p in PROVIDERS}
    names |= {code_: f"{names[CHANGWON_CODE]} {name}" for code_, name in CHANGWON_DISTRICTS.items()}
    cases = " ".join(f"WHEN '{c}' THEN '{n}'" for c, n in sorted(names.items()))  # constants, not data
    return f"CASE {code} {cases} END"


CHANGWON_SIGUN = ("CASE WHEN sigungu_code IN ({}) THEN '{}' ELSE sigungu_code END"
                   .format(", ".join(f"'{c}'" for c in CHANGWON_DISTRICTS), CHANGWON_CODE))
PROVINCE = (f"'{PROVINCE_CODE}'", sigungu_name_sql(f"'{PROVINCE_CODE}'"))


def text_ladder(column: str) -> Ladder:
    """A published value as text → `*` (withheld)."""
    return exact_ladder(column)


K_ANONYMITY_TREATMENT = (f"준식별자 범주화로 k-익명성(k ≥ {PUBLISHED_K})과 민감속성 l-다양성(l ≥ {PUBLISHED_L}) 확보, "
                         "미달 레코드 삭제")
