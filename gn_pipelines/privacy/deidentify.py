"""The de-identification engine: a recipe applied to one drop, then to all drops for release.

Both steps run in DuckDB (pseudonyms and the scrubber are vectorised UDFs), write Parquet next
to the target and rename it into place only after the residual-identifier scan came back
clean, so a file with a surviving identifier never reaches the de-identified zone.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from gn_pipelines.contracts import DatasetContract, PrivacyClass
from gn_pipelines.ingest.collect import LINEAGE_COLUMNS, staged_name
from gn_pipelines.ingest.casting import sql_text
from gn_pipelines.privacy.current_records import create_current_records_view
from gn_pipelines.ingest.parquet_io import (
    copy_atomically,
    one_thread,
    scratch_connection,
    used_parameters,
    work_connection,
)
from gn_pipelines.privacy.anonymity import anonymise
from gn_pipelines.privacy.pseudonyms import keyed_parameters, keyed_sql, register_pseudonym_function
from gn_pipelines.privacy.recipes import RECIPES, Recipe
from gn_pipelines.privacy.scrubber import (
    count_residual_identifiers,
    placeholder_counts,
    register_scrubber,
)
from gn_pipelines.privacy.text_generalisation import generalise_text_columns
from gn_pipelines.reference import CHANGWON_DISTRICTS, PROVIDERS_BY_CODE
from gn_pipelines.reference.coordinates import REPROJECT_FUNCTIONS, register_reprojection
from gn_pipelines.settings import DataZones
from gn_pipelines.unfinished_writes import work_directory, write_text_atomically

MEMORY_LIMIT_MB = 1000  # the stage's DuckDB budget, shared by its processes; it spills beyond (< 2 GB peak)
MEMORY_LIMIT = f"{MEMORY_LIMIT_MB}MB"
# The scrubber's Python passes (on the candidate rows DuckDB's RE2 filter picks) hold one core
# whatever DuckDB's threads: a large drop is derived in this many processes, each on a consecutive
# run of rows, then put together in row order. Below PARALLEL_FROM_ROWS a process would cost more to start
# (about 2 s) than it saves.
DERIVE_PROCESSES = min(2, os.cpu_count() or 1)
PARALLEL_FROM_ROWS = 100_000


@dataclass
class DropDeidentification:
    rows: int
    replaced_in_text: dict[str, int]  # identifiers found and replaced in free text, per kind
    residual: dict[str, int]
    key_id: str
    target: Path | None = None


@dataclass
class Release:
    dataset: str
    rows: int
    key_id: str | None
    anonymity: dict | None
    techniques: dict[str, str]
    replaced_in_text: dict[str, int]
    residual: dict[str, int]
    target: Path | None = None
    deleted_columns: list[str] = field(default_factory=list)
    text_generalised: dict[str, int] = field(default_factory=dict)
    reused: bool = False  # the drops, recipe and code were those of the release already written
    superseded: int = 0  # earlier deliveries of records delivered again (privacy/current_records.py)

    def report(self) -> dict:
        """The privacy report of this release: plain JSON, never the key itself."""
        return {"dataset": self.dataset, "rows_released": self.rows, "key_id": self.key_id,
                "techniques": self.techniques, "deleted_columns": self.deleted_columns,
                "anonymity": self.anonymity,
                "information_loss": (self.anonymity or {}).get("information_loss"),
                "identifiers_replaced_in_text": self.replaced_in_text,
                "quasi_identifiers_generalised_in_text": self.text_generalised,
                "residual_identifiers": self.residual,
                "records_superseded_by_later_deliveries": self.superseded}


def pseudonymised_path(zones: DataZones, dataset: str, provider: str, file_name: str) -> Path:
    return zones.restricted / "pseudonymised" / dataset / provider / f"{staged_name(file_name)}.parquet"


def pseudonymised_glob(zones: DataZones, dataset: str) -> Path:
    return zones.restricted / "pseudonymised" / dataset / "*" / "*.parquet"


def pseudonymised_files(zones: DataZones, dataset: str) -> list[Path]:
    """The files `pseudonymised_glob` matches (the seed among them), sorted."""
    glob = pseudonymised_glob(zones, dataset)
    return sorted(Path(glob.anchor).glob(str(glob.relative_to(glob.anchor))))


def deidentified_path(zones: DataZones, dataset: str) -> Path:
    return zones.restricted / "deidentified" / f"{dataset}.parquet"


def _text_columns(contract: DatasetContract) -> list[str]:
    return [c.name for c in contract.columns_of(PrivacyClass.FREE_TEXT)]


def deleted_columns(contract: DatasetContract, recipe: Recipe) -> list[str]:
    """Contract columns that do not survive under their own name (데이터 삭제)."""
    derived = {d.name for d in recipe.per_drop}
    return [c.name for c in contract.columns if c.name not in derived]


def _reference_parameters() -> dict:
    from gn_pipelines.reference.legal_dong import build_eup_myeon_dong, changwon_dong_districts

    dongs = build_eup_myeon_dong()
    names, districts = changwon_dong_districts()
    return {"known_eup_myeon_dong": sorted(dongs["sigungu_code"] + " " + dongs["eup_myeon_dong"]),
            "changwon_dong_names": names, "changwon_dong_districts": districts}


def deidentify_drop(contract: DatasetContract, *, source: Path, target: Path, secret: bytes,
                    zones: DataZones) -> DropDeidentification:
    """Pseudonymise, derive and scrub one validated drop into `target` (restricted zone)."""
    text_columns = _text_columns(contract)
    with work_directory(zones.scratch, prefix="deidentify-") as work:
        staged = Path(work) / "deidentified.parquet"
        key_id = _derive(contract.name, source, staged, secret, Path(work))
        connection = work_connection(Path(work), MEMORY_LIMIT)
        try:
            connection.execute(f"CREATE VIEW source AS SELECT * FROM read_parquet({sql_text(str(source))})")
            connection.execute(f"CREATE VIEW scrubbed AS SELECT * FROM read_parquet({sql_text(str(staged))})")
            rows = connection.execute("SELECT count(*) FROM scrubbed").fetchall()[0][0]
            replaced = _replaced(connection, text_columns)
            residual = _nonzero(count_residual_identifiers(connection, "scrubbed", text_columns)) if text_columns else {}
        finally:
            connection.close()
        outcome = DropDeidentification(rows, replaced, residual, key_id)
        if residual:
            return outcome  # the file stays out of the de-identified zone
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)
        target.with_suffix(".privacy.json").write_text(json.dumps(
            {"rows": rows, "replaced_in_text": replaced, "key_id": key_id}), encoding="utf-8")
        outcome.target = target
        return outcome


def _derive(dataset: str, source: Path, staged: Path, secret: bytes, work: Path) -> str:
    """The recipe's per-drop columns of `source` into `staged`, in one process or several."""
    import duckdb

    with duckdb.connect() as counter:  # Parquet metadata only
        rows = counter.execute(f"SELECT count(*) FROM read_parquet({sql_text(str(source))})").fetchall()[0][0]
    processes = DERIVE_PROCESSES if rows >= PARALLEL_FROM_ROWS else 1
    if processes == 1:
        return derive_part(dataset, str(source), str(staged), secret, str(work), 0, rows, MEMORY_LIMIT)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    parts = [work / f"part-{i}.parquet" for i in range(processes)]
    memory = f"{MEMORY_LIMIT_MB // (processes + 1)}MB"  # the parts, then their merge
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
        key_ids = set(pool.map(derive_part, *zip(*[
            (dataset, str(source), str(part), secret, str(work), rows * i // processes,
             rows * (i + 1) // processes, memory) for i, part in enumerate(parts)])))
    connection = work_connection(work, memory)
    try:  # the parts are consecutive runs of the source's rows: read in turn, they keep its order
        files = ", ".join(sql_text(str(part)) for part in parts)
        copy_atomically(connection, f"SELECT * FROM read_parquet([{files}])", {}, staged)
    finally:
        connection.close()
    (key_id,) = key_ids
    return key_id


def derive_part(dataset: str, source: str, target: str, secret: bytes, work: str, first_row: int,
                end_row: int, memory_limit: str) -> str:
    """Rows `first_row` ≤ n < `end_row` of `source` (by position) through the recipe's per-drop
    columns, written to `target` in their order; returns the key id. Top-level, so a spawned
    process can run it."""
    recipe = RECIPES[dataset]
    spill = Path(work) / f"derive-{first_row}"
    spill.mkdir(parents=True, exist_ok=True)  # DuckDB creates only the last folder of its spill path
    connection = work_connection(spill, memory_limit)
    try:
        key_id = register_pseudonym_function(connection, secret)
        register_scrubber(connection)
        columns = [f"{d.sql} AS {d.name}" for d in recipe.per_drop]
        if any(function in column for column in columns for function in REPROJECT_FUNCTIONS):
            register_reprojection(connection)
        columns += [c for c in LINEAGE_COLUMNS if c not in {d.name for d in recipe.per_drop}]
        # A consecutive run of rows: row groups outside it are not read, and the parts, read in
        # turn, are the source's order (each process sorts its own part, not the parent the whole
        # drop). Sorted: a recipe's lookups (list_contains over a reference list) plan as joins,
        # which do not keep row order.
        where = (f" WHERE file_row_number >= {int(first_row)} AND file_row_number < {int(end_row)}"
                 " ORDER BY file_row_number")
        # pseudonyms set-based in SQL, the key's pads bound as parameters (pseudonyms.py says why it stays secret)
        query = keyed_sql(f"SELECT {', '.join(columns)} FROM read_parquet({sql_text(source)}, file_row_number = true){where}")
        copy_atomically(connection, query, _reference_parameters() | keyed_parameters(secret), Path(target))
    finally:
        connection.close()
    return key_id


def _replaced(connection, text_columns: list[str]) -> dict[str, int]:
    if not text_columns:
        return {}
    after = placeholder_counts(connection, "scrubbed", text_columns)
    before = placeholder_counts(connection, "source", text_columns)
    return _nonzero({kind: after.get(kind, 0) - before.get(kind, 0) for kind in after})


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {kind: int(n) for kind, n in counts.items() if n}


def write_empty_pseudonymised(contract: DatasetContract, collected_seed: Path, target: Path,
                              zones: DataZones) -> Path:
    """A zero-row file with the per-drop output schema (the release's glob always matches)."""
    outcome = deidentify_drop(contract, source=collected_seed, target=target,
                              secret=b"schema seed: no rows are hashed", zones=zones)
    target.with_suffix(".privacy.json").unlink(missing_ok=True)
    return outcome.target


def _seed_pseudonymised(contract: DatasetContract, zones: DataZones) -> None:
    from gn_pipelines.ingest.collect import write_empty_collected

    seed = zones.restricted / "pseudonymised" / contract.name / "_schema" / "empty.parquet"
    if seed.exists():
        return
    drops = pseudonymised_files(zones, contract.name)
    if drops:  # the newest drop, pseudonymised by this code, has the schema: its columns, no rows
        import duckdb

        try:
            newest = max(drops, key=lambda drop: drop.stat().st_mtime)
            with scratch_connection(zones.scratch, prefix="seed-") as connection:
                copy_atomically(connection, "SELECT * FROM read_parquet($drop) LIMIT 0", {"drop": str(newest)}, seed)
            return
        except (OSError, duckdb.IOException):  # replaced or removed meanwhile
            pass
    # none: pseudonymise an empty collected file (~0.3 s: reference tables, keyed functions, scrubber)
    with work_directory(zones.scratch, prefix="seed-") as work:
        collected = write_empty_collected(contract, Path(work) / "collected.parquet")
        write_empty_pseudonymised(contract, collected, seed, zones)


def ensure_pseudonymised_seed(dataset: str, zones: DataZones) -> None:
    """The seed among a dataset's drops, written if missing as the release writes it: a cache
    warm-up fingerprinting the drops beside the release sees the files the release leaves."""
    from gn_pipelines.datasets import CONTRACTS

    _seed_pseudonymised(CONTRACTS[dataset], zones)


def _area_names(connection) -> None:
    rows = [(code, p.name) for code, p in PROVIDERS_BY_CODE.items()]
    changwon = PROVIDERS_BY_CODE["48120"].name
    rows += [(code, f"{changwon} {name}") for code, name in CHANGWON_DISTRICTS.items()]
    connection.execute("CREATE OR REPLACE TABLE providers (code VARCHAR, name VARCHAR)")
    connection.executemany("INSERT INTO providers VALUES (?, ?)", rows)


@dataclass
class ReleasedTable:
    """What `anonymise_release` wrote and the figures of its privacy report."""

    rows: int
    anonymity: dict | None  # AnonymityReport.to_dict(), None for a dataset without quasi-identifiers
    text_generalised: dict[str, int]  # quasi-identifiers generalised in free text, per kind


def anonymise_release(connection, dataset: str | Recipe, *, source: str = "drops",
                      target: str = "released", k: int | None = None, l: int | None = None,
                      max_suppression: float = 1.0) -> ReleasedTable:
    """A recipe's release step on the relation `source` (the union of pseudonymised drops):
    generalised until k-anonymous and l-diverse (default: the recipe's k and l), shaped as the
    published table, its free text generalised with its row, written as table `target`.

    Plain DuckDB, no zone: e.g. a stricter k for a record-level open file (recipes.OPEN_DATA_K).
    A small release suppresses much; the report says so rather than refusing (max_suppression).
    """
    recipe = RECIPES[dataset] if isinstance(dataset, str) else dataset
    settings = recipe.release
    if source != "drops":  # the recipe's SQL reads `drops`
        connection.execute(f"CREATE OR REPLACE TEMP VIEW drops AS SELECT * FROM {source}")
    connection.execute(f"CREATE OR REPLACE TABLE prepared AS {settings.prepare_sql}")
    _area_names(connection)
    anonymity = None
    if settings.quasi_identifiers:
        report = anonymise(
            connection, "prepared", "anonymised", quasi_identifiers=list(settings.quasi_identifiers),
            sensitive=list(settings.sensitive), k=k or settings.k, l=l or settings.l or 1,
            partition_by=list(settings.partition_by), keep=list(settings.keep),
            max_suppression=max_suppression, person=settings.person)
        anonymity = {**report.to_dict(), "gives_up": settings.gives_up}
    else:
        connection.execute("CREATE OR REPLACE TABLE anonymised AS SELECT * FROM prepared")
    query = settings.publish_sql
    # on one thread: its join keeps the anonymised rows' order (the source's), so a release of the
    # same drops is the same file row for row (on two threads the join interleaves them)
    with one_thread(connection):
        connection.execute(f"CREATE OR REPLACE TABLE {target} AS {query}", used_parameters(query, {}))
    text = generalise_text_columns(
        connection, target, list(settings.free_text), sigungu=settings.text_sigungu,
        district=settings.text_district, age_band=settings.text_age_band)
    rows = connection.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]
    return ReleasedTable(rows, anonymity, text)


def release(contract: DatasetContract, *, zones: DataZones, k: int | None = None,
            l: int | None = None) -> Release:
    """All drops of a dataset, generalised until k-anonymous and l-diverse, shaped for
    publication and scanned; written to the de-identified zone only when the scan is clean."""
    recipe = RECIPES[contract.name]
    settings = recipe.release
    target = deidentified_path(zones, contract.name)
    _seed_pseudonymised(contract, zones)
    fingerprint = _release_fingerprint(zones, contract.name, k, l)
    reused = _unchanged_release(zones, contract, target, fingerprint)
    if reused is not None:
        return reused
    with scratch_connection(zones.scratch, MEMORY_LIMIT, prefix="release-") as connection:
        superseded = create_current_records_view(connection, "drops", str(pseudonymised_glob(zones, contract.name)),
                                                 recipe.record_key)
        released = anonymise_release(connection, recipe, k=k, l=l)
        scanned = list(settings.text_columns)
        residual = _nonzero(count_residual_identifiers(connection, "released", scanned))
        key_id, replaced = _drops_key_and_replacements(zones, contract.name)
        result = Release(contract.name, released.rows, key_id,
                         released.anonymity, recipe.techniques, replaced,
                         residual, deleted_columns=deleted_columns(contract, recipe),
                         text_generalised=released.text_generalised, superseded=superseded)
        if not residual:
            target.with_suffix(".release.json").unlink(missing_ok=True)  # stale until rewritten
            copy_atomically(connection, "SELECT * FROM released", {}, target)
            result.target = target
            _write_release_record(target, fingerprint, result)
        return result


def _release_fingerprint(zones: DataZones, dataset: str, k: int | None, l: int | None) -> str:
    """What a release is made of: every pseudonymised drop (content), the recipe and engine code
    (`gn_pipelines/fingerprints.py`) and the k and l asked for."""
    from gn_pipelines.fingerprints import inputs_fingerprint

    return inputs_fingerprint(pseudonymised_files(zones, dataset), relative_to=zones.root,
                              declaration=json.dumps({"k": k, "l": l}))


def _write_release_record(target: Path, fingerprint: str, result: Release) -> None:
    record = {"fingerprint": fingerprint, "rows": result.rows, "anonymity": result.anonymity,
              "residual": result.residual, "text_generalised": result.text_generalised,
              "superseded": result.superseded}
    write_text_atomically(target.with_suffix(".release.json"), json.dumps(record, ensure_ascii=False))


def _unchanged_release(zones: DataZones, contract: DatasetContract, target: Path,
                       fingerprint: str) -> Release | None:
    """The release already written from the same drops, recipe and code, if there is one: the
    k-anonymous release is global, so only a change to some drop makes it differ
    (docs/publication.md says what else was measured for reuse)."""
    record_path = target.with_suffix(".release.json")
    if not target.exists() or not record_path.exists():
        return None
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except ValueError:  # a record cut short by a crash: rebuild
        return None
    if record.get("fingerprint") != fingerprint:
        return None
    recipe = RECIPES[contract.name]
    key_id, replaced = _drops_key_and_replacements(zones, contract.name)
    return Release(contract.name, record["rows"], key_id, record["anonymity"],
                   recipe.techniques, replaced, record["residual"],
                   target=target, deleted_columns=deleted_columns(contract, recipe),
                   text_generalised=record["text_generalised"], reused=True,
                   superseded=record.get("superseded", 0))


def _sidecars(zones: DataZones, dataset: str) -> list[dict]:
    folder = zones.restricted / "pseudonymised" / dataset
    records = []
    for sidecar in folder.glob("*/*.privacy.json"):
        if sidecar.with_suffix("").with_suffix(".parquet").exists():
            records.append(json.loads(sidecar.read_text(encoding="utf-8")))
    return records


def _drops_key_and_replacements(zones: DataZones, dataset: str) -> tuple[str | None, dict[str, int]]:
    """`release_key_id` and the identifiers replaced in the drops' texts, by kind, from one read
    of the drops' sidecars (one per delivered file: tens of thousands after years)."""
    sidecars = _sidecars(zones, dataset)
    totals: dict[str, int] = {}
    for record in sidecars:
        for kind, n in record["replaced_in_text"].items():
            totals[kind] = totals.get(kind, 0) + n
    return _one_key_id(sidecars), totals


def release_key_id(zones: DataZones, dataset: str) -> str | None:
    """The key id every current drop of a dataset was pseudonymised with (recorded in the
    processing ledger); 'mixed' if the key changed."""
    return _one_key_id(_sidecars(zones, dataset))


def _one_key_id(sidecars: list[dict]) -> str | None:
    ids = {record["key_id"] for record in sidecars}
    return ids.pop() if len(ids) == 1 else ("mixed: re-run the drops with one key" if ids else None)
