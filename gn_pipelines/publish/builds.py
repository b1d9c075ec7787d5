"""How the published tables are built: what each group of tables reads and the function that
builds it. The publication (assets/publication.py) iterates over `table_builds()` and knows no
dataset by name.

Three kinds of input: a dataset's k-anonymous release (`RELEASED`, the de-identified file),
every pseudonymised drop of a dataset (`DROPS`: aggregates count every record and are
suppressed instead), and the provider scorecard (`SCORECARD`, no personal data).

Each dataset declares what is published from it (`gn_pipelines/datasets/<name>.py`: record
tables, derived tables with their charts, aggregates); `table_builds()` turns the declarations
into builds, plus the platform's own scorecard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Literal

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
    # aggregates counting people apart from records: the column the gate checks too and drops
    people_columns: dict[str, str] = field(default_factory=dict)


# build(input, charts_dir, cache_dir=None, scratch=None): `input` is the Parquet file (RELEASED,
# SCORECARD) or glob (DROPS); `cache_dir` a restricted directory of the build's own, kept between
# publications; `scratch` where DuckDB spills beyond its memory limit (the data root's scratch zone)
Build = Callable[..., Built]


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
    prepare: Callable[[], object] | None = None  # loads what `build` needs (a model) ahead of it


def _record_level(table: str) -> Build:
    def build(source: Path, charts_dir: Path, cache_dir: Path | None = None, scratch: Path | None = None) -> Built:
        return Built({table: str(source)})

    return build


def _with_sigungu_name(frame):
    """Add `sigungu_name` from the reference providers (and 창원's districts)."""
    from gn_pipelines.reference import CHANGWON_CODE, CHANGWON_DISTRICTS, PROVIDERS_BY_CODE

    names = {code: p.name for code, p in PROVIDERS_BY_CODE.items()}
    names |= {code: f"{names[CHANGWON_CODE]} {name}" for code, name in CHANGWON_DISTRICTS.items()}
    frame.insert(1, "sigungu_name", frame["sigungu_code"].map(names))
    return frame


def _aggregate(aggregate, record_key: tuple[str, ...]) -> Build:
    """A declared aggregate over every drop (each record in its newest delivery), read as the view
    its build names, small cells suppressed."""
    def build(drops: Path, charts_dir: Path, cache_dir: Path | None = None, scratch: Path | None = None) -> Built:
        from gn_pipelines.privacy.current_records import create_current_records_view
        from gn_pipelines.ingest.parquet_io import scratch_connection
        from gn_pipelines.publish.aggregates import build_aggregate

        table = aggregate.table.name
        with scratch_connection(scratch) as connection:
            create_current_records_view(connection, aggregate.source_view, str(drops), record_key)
            report = build_aggregate(connection, aggregate, cache_dir, keep_people=True)
            frame = _with_sigungu_name(connection.execute(f"SELECT * FROM {table}").df())
        people = {table: aggregate.people_column} if aggregate.people_column else {}
        return Built({table: frame}, {table: aggregate.count_column}, {table: report}, people_columns=people)

    return build


def _derived(derived) -> Build:
    """Tables computed together from a dataset's release, and the charts drawn beside them."""
    def build(source: Path, charts_dir: Path, cache_dir: Path | None = None, scratch: Path | None = None) -> Built:
        from gn_pipelines.ingest.parquet_io import scratch_connection

        with scratch_connection(scratch) as connection:
            derived.build(connection, str(source))
            frames = {t.name: connection.execute(f"SELECT * FROM {t.name}").df() for t in derived.tables}
            charts = {c.table: c.render(connection, charts_dir / c.file_name) for c in derived.charts}
        return Built(frames, charts=charts)

    return build


def _builds_of(dataset) -> tuple[TableBuild, ...]:
    records = tuple(TableBuild(t.name, (t.name,), RELEASED, dataset.name, _record_level(t.name),
                               f"Published `{t.name}`: the de-identified records.") for t in dataset.record_tables)
    derived = () if dataset.derived is None else (TableBuild(
        dataset.name, tuple(t.name for t in dataset.derived.tables), RELEASED, dataset.name,
        _derived(dataset.derived), dataset.derived.description or f"Published tables derived from {dataset.name}.",
        charts=tuple((c.table, c.file_name, c.title) for c in dataset.derived.charts)),)
    counts = tuple(TableBuild(a.table.name, (a.table.name,), DROPS, dataset.name, _aggregate(a, dataset.recipe.record_key),
                              f"Published `{a.table.name}`: counts from every de-identified record, small cells "
                              "suppressed, plus secondary suppression so they cannot be recovered from totals.",
                              suppressed=True, prepare=a.prepare) for a in dataset.aggregates)
    return records + derived + counts


SCORECARD_BUILD = TableBuild("provider_scorecard", ("provider_scorecard",), SCORECARD, None,
                             _record_level("provider_scorecard"), "Published `provider_scorecard` (no personal data).")


def input_files(build: TableBuild, zones) -> tuple[Path, list[Path]]:
    """The path the build reads (file or glob) and the files behind it (fingerprinted)."""
    from gn_pipelines.privacy.deidentify import deidentified_path, pseudonymised_files, pseudonymised_glob

    if build.reads == DROPS:
        return pseudonymised_glob(zones, build.dataset), pseudonymised_files(zones, build.dataset)
    from gn_pipelines.quality.scorecard import scorecard_path

    path = deidentified_path(zones, build.dataset) if build.reads == RELEASED else scorecard_path(zones)
    return path, [path] if path.exists() else []


def table_fingerprints(build: TableBuild, files: list[Path], root: Path) -> dict[str, str]:
    """Per table of the build: the fingerprint of its inputs, declaration and code."""
    from gn_pipelines.fingerprints import inputs_fingerprint
    from gn_pipelines.publish.tables import published_table

    return {table: inputs_fingerprint(files, relative_to=root, declaration=repr(published_table(table)))
            for table in build.tables}


def table_builds() -> tuple[TableBuild, ...]:
    """Every build of published tables (the catalog is built by the publication itself)."""
    from gn_pipelines.datasets import DATASETS

    return (*(build for dataset in DATASETS.values() for build in _builds_of(dataset)), SCORECARD_BUILD)


def prepare_charts(datasets: Iterable[str]) -> None:
    """Load what the charts of these datasets' releases need before they can be drawn (a drawing
    library), ahead of the publication: `process` calls it while its workers run the batches."""
    from gn_pipelines.datasets import DATASETS

    for name in sorted(datasets):
        derived = DATASETS[name].derived if name in DATASETS else None
        for chart in derived.charts if derived is not None else ():
            if chart.prepare is not None:
                chart.prepare()
