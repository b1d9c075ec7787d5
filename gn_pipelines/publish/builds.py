"""How the published tables are built: what each group of tables reads and the function that
builds it. The publication (assets/publication.py) iterates over `table_builds()` and knows no
dataset by name.

Three kinds of input: a dataset's k-anonymous release (`RELEASED`, the de-identified file),
every pseudonymised drop of a dataset (`DROPS`: aggregates count every record and are
suppressed instead), and the provider scorecard (`SCORECARD`, no personal data).

The entries below stand in for the per-dataset declarations (`gn_pipelines/datasets/`, owned
by the datasets work): a dataset declares its builds there, and `table_builds()` gathers them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

RELEASED = "released"
DROPS = "drops"
SCORECARD = "scorecard"
Reads = Literal["released", "drops", "scorecard"]


@dataclass
class Built:
    """What a build produced: per table the rows to publish (a Parquet path or a frame), the count
    column of each aggregate (the gate checks it for small cells), reports and files beside it."""

    sources: dict[str, Any]
    count_columns: dict[str, str] = field(default_factory=dict)
    reports: dict[str, Any] = field(default_factory=dict)  # table → SuppressionReport
    charts: dict[str, Path] = field(default_factory=dict)  # table → a chart written for it


# build(input, charts_dir): `input` is the Parquet file (RELEASED, SCORECARD) or glob (DROPS)
Build = Callable[[Path, Path], Built]


@dataclass(frozen=True)
class TableBuild:
    name: str  # the asset is publish_<name>
    tables: tuple[str, ...]
    reads: Reads
    dataset: str | None  # the dataset read (None for SCORECARD)
    build: Build
    description: str
    charts: tuple[tuple[str, str, str], ...] = ()  # (table, file name in charts/, title) published beside it
    suppressed: bool = False  # aggregates: the gate checks their cells against the small-cell threshold


def _record_level(table: str) -> Build:
    def build(source: Path, charts_dir: Path) -> Built:
        return Built({table: str(source)})

    return build


def _with_sigungu_name(frame):
    """Add `sigungu_name` from the reference providers (and 창원's districts)."""
    from gn_pipelines.reference import CHANGWON_CODE, CHANGWON_DISTRICTS, PROVIDERS_BY_CODE

    names = {code: p.name for code, p in PROVIDERS_BY_CODE.items()}
    names |= {code: f"{names[CHANGWON_CODE]} {name}" for code, name in CHANGWON_DISTRICTS.items()}
    frame.insert(1, "sigungu_name", frame["sigungu_code"].map(names))
    return frame


def _aggregate(table: str, view: str) -> Build:
    """An aggregate of `publish/aggregates.py` over every drop, read as the view its SQL names."""
    def build(drops: Path, charts_dir: Path) -> Built:
        import duckdb

        from gn_pipelines.ingest.casting import sql_text
        from gn_pipelines.publish.aggregates import AGGREGATES

        builder, spec = AGGREGATES[table]
        with duckdb.connect() as connection:
            connection.execute(f"CREATE VIEW {view} AS SELECT * FROM "
                               f"read_parquet({sql_text(str(drops))}, union_by_name = true)")
            report = builder(connection)
            frame = _with_sigungu_name(connection.execute(f"SELECT * FROM {table}").df())
        return Built({table: frame}, {table: spec.count_column}, {table: report})

    return build


WATER_TABLES = ("water_quality_measurements", "water_quality_station_grades", "nakdong_namji_target")
NAMJI_CHART = "nakdong_namji_bod_tp.png"


def _water(source: Path, charts_dir: Path) -> Built:
    import duckdb

    from gn_pipelines.water.chart import render_namji_chart
    from gn_pipelines.water.grading import build_water_tables, monthly_namji_series

    with duckdb.connect() as connection:
        build_water_tables(connection, str(source))
        frames = {t: connection.execute(f"SELECT * FROM {t}").df() for t in WATER_TABLES}
        chart = render_namji_chart(monthly_namji_series(connection), charts_dir / NAMJI_CHART)
    return Built(frames, charts={"nakdong_namji_target": chart})


def _records(table: str, dataset: str) -> TableBuild:
    return TableBuild(table, (table,), RELEASED, dataset, _record_level(table),
                      f"Published `{table}`: the de-identified, k-anonymous records.")


def _counts(table: str, dataset: str, view: str) -> TableBuild:
    return TableBuild(table, (table,), DROPS, dataset, _aggregate(table, view),
                      f"Published `{table}`: counts from every de-identified record, small cells "
                      "suppressed, plus secondary suppression so they cannot be recovered from totals.",
                      suppressed=True)


TABLE_BUILDS: tuple[TableBuild, ...] = (
    _records("civil_complaints", "civil_complaints"),
    _records("welfare_recipients", "welfare_recipients"),
    _counts("civil_complaints_monthly", "civil_complaints", "complaint_drops"),
    _counts("civil_complaint_keywords_monthly", "civil_complaints", "complaint_drops"),
    _counts("welfare_summary", "welfare_recipients", "welfare_drops"),
    TableBuild("water_quality", WATER_TABLES, RELEASED, "water_quality", _water,
               "Published water tables: 하천 생활환경기준 grades on annual means (see docs/architecture.md).",
               charts=(("nakdong_namji_target", NAMJI_CHART, "남지 월별 BOD·T-P와 수질등급 기준"),)),
    TableBuild("provider_scorecard", ("provider_scorecard",), SCORECARD, None,
               _record_level("provider_scorecard"), "Published `provider_scorecard` (no personal data)."),
)


def table_builds() -> tuple[TableBuild, ...]:
    """Every build of published tables (the catalog is built by the publication itself)."""
    return TABLE_BUILDS
