"""Validate collected drops, a batch at a time: rows failing an ERROR rule go to quarantine, the
rest go on; each file of the batch is judged on its own rows.

DuckDB evaluates every rule row by row (set-based, spilling, so memory does not grow with the
drop) and splits the rows; Great Expectations validates the same rules on a frame of just the
columns they read, for the validation record and its Data Docs page. Dataset-wide rules
(uniqueness) always see the whole drop: nothing is chunked.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path

from gn_pipelines.contracts import ColumnType, DatasetContract, PrivacyClass
from gn_pipelines.contracts.model import QualityRule, RuleKind, Severity
from gn_pipelines.freed_memory import give_back_freed_memory
from gn_pipelines.ingest.collect import collected_path, mask_value, staged_name
from gn_pipelines.ingest.parquet_io import (copy_atomically, copy_file_atomically, copy_members_atomically,
                                            memory_limit_within, scratch_connection, used_parameters)
from gn_pipelines.quality import reports
from gn_pipelines.quality.rules import derived_columns, passes_sql, rules_for
from gn_pipelines.reference import codes_allowed_for
from gn_pipelines.seoul_time import now_in_seoul
from gn_pipelines.settings import DataZones

SAMPLE_SIZE = 5


@dataclass
class RuleResult:
    """How one rule fared on a drop, in the words the UI shows."""

    rule: QualityRule
    failed_rows: int  # rows failing it (SQL)
    percent: float
    gx_unexpected_count: int | None = None
    gx_success: bool | None = None
    gx_error: str | None = None
    sample: list = field(default_factory=list)  # offending values, masked where personal

    @property
    def passed(self) -> bool:
        return self.failed_rows == 0 and self.gx_error is None


@dataclass
class ValidationOutcome:
    dataset: str
    provider_code: str
    source_file: str
    rows_in: int
    rows_rejected_at_collection: int
    rows_passed: int = 0
    rows_quarantined: int = 0
    rows_with_warnings: int = 0
    rows_quarantined_for_errors: int = 0  # rows failing an ERROR rule, whole drop or not
    period_end: dt.date | None = None  # the last day the drop's rows are about
    threshold: float = 0.05
    quarantined_whole: bool = False
    reason: str | None = None
    results: list[RuleResult] = field(default_factory=list)
    validated_path: Path | None = None
    quarantine_path: Path | None = None
    report_path: Path | None = None

    @property
    def bad_share(self) -> float:
        delivered = self.rows_in + self.rows_rejected_at_collection
        bad = self.rows_quarantined_for_errors + self.rows_rejected_at_collection
        return bad / delivered if delivered else 0.0

    @property
    def failed_rules(self) -> list[str]:
        return [r.rule.name for r in self.results if not r.passed]

    def summary(self) -> str:
        if self.quarantined_whole:
            return f"quarantined whole ({self.reason})"
        failed = ", ".join(self.failed_rules) or "none"
        return f"{self.rows_passed} passed, {self.rows_quarantined} quarantined; failed checks: {failed}"


def validated_path(zones: DataZones, dataset: str, provider: str, file_name: str) -> Path:
    return zones.restricted / "validated" / dataset / provider / f"{staged_name(file_name)}.parquet"


def quarantine_path(zones: DataZones, dataset: str, provider: str, file_name: str) -> Path:
    return zones.restricted / "quarantine" / dataset / provider / f"{staged_name(file_name)}.parquet"


def rule_parameters(provider_code: str | None, today: dt.date) -> dict:
    """The values rules compare with; a batch gives each row its provider's codes instead."""
    parameters = {"today": today, "known_eup_myeon_dong": list(_known_eup_myeon_dong()),
                  **{name: list(values) for name, values in _registered_stations().items()}}
    if provider_code is not None:
        parameters["provider_codes"] = sorted(codes_allowed_for(provider_code))
    return parameters


@functools.cache
def _known_eup_myeon_dong() -> tuple[str, ...]:
    """"<시군구 code> <읍면동>" of the bundled 법정동 table, read once per process."""
    from gn_pipelines.reference.legal_dong import build_eup_myeon_dong

    dongs = build_eup_myeon_dong()
    return tuple(sorted(dongs["sigungu_code"] + " " + dongs["eup_myeon_dong"]))


@functools.cache
def _registered_stations() -> dict[str, tuple[str, ...]]:
    """The station registry's codes, and "<code> <name without spaces>" of each, read once per process."""
    from gn_pipelines.reference.water_stations import water_stations

    stations = water_stations()
    return {"registered_station_codes": tuple(sorted(stations["station_code"])),
            "registered_stations": tuple(sorted(stations["station_code"] + " "
                                                + stations["station_name"].str.replace(" ", "")))}


@dataclass(frozen=True)
class BatchMember:
    """A collected file of a batch, as validation needs it."""

    provider_code: str
    file_name: str
    rows_rejected_at_collection: int = 0
    content_sha256: str | None = None


@dataclass
class BatchValidation:
    """One validation of a batch: each file's own outcome, the batch-wide counts per rule
    (with Great Expectations' figures) and the one Data Docs page."""

    dataset: str
    label: str  # e.g. the month
    files: list[ValidationOutcome]
    results: list[RuleResult] = field(default_factory=list)
    report_path: Path | None = None

    @property
    def stopped(self) -> list[ValidationOutcome]:
        return [f for f in self.files if f.quarantined_whole]


def validate_drop(contract: DatasetContract, *, provider_code: str, file_name: str,
                  zones: DataZones, rows_rejected_at_collection: int = 0,
                  today: dt.date | None = None, run_id: str = "") -> ValidationOutcome:
    """Validate the collected rows of one drop and stage its validated and quarantined rows."""
    batch = validate_batch(contract, [BatchMember(provider_code, file_name, rows_rejected_at_collection)],
                           zones=zones, today=today, run_id=run_id, label=file_name)
    return batch.files[0]


def validate_batch(contract: DatasetContract, members: list[BatchMember], *, zones: DataZones,
                   today: dt.date | None = None, run_id: str = "", label: str = "") -> BatchValidation:
    """Validate the collected rows of several drops of one dataset together, set-based: one DuckDB
    pass, one Great Expectations validation, one Data Docs page; each file is judged on its own
    rows (its bad-row share, its uniqueness, its provider's codes)."""
    rules = rules_for(contract)
    outcomes = [ValidationOutcome(contract.name, m.provider_code, f"{m.provider_code}/{contract.name}/{m.file_name}",
                                  rows_in=0, rows_rejected_at_collection=m.rows_rejected_at_collection,
                                  threshold=contract.quarantine_threshold) for m in members]
    batch = BatchValidation(contract.name, label, outcomes)
    sources = [collected_path(zones, contract.name, m.provider_code, m.file_name) for m in members]
    # "not in the future" is judged on the calendar of the people who deliver (the host may be UTC)
    parameters = rule_parameters(None, today or now_in_seoul().date())
    read = [_identity(source) for source in sources]  # the collected files as the checks read them
    with scratch_connection(zones.scratch, prefix="validate-") as connection:
        _check_rows(connection, sources, outcomes, rules, parameters)
        _count(connection, rules, batch)
        _period_end(connection, contract, batch)
        _split(connection, contract, rules, zones, outcomes, [m.file_name for m in members], sources, read, run_id)
        _samples(connection, contract, rules, batch)
        gx_result = _validate_with_gx(connection, rules, contract, batch)
    batch.report_path = reports.write_batch_report(zones, batch, gx_result, _masked_columns(contract))
    for outcome in outcomes:
        outcome.report_path = batch.report_path
    if sum(outcome.rows_in for outcome in outcomes) >= GIVE_BACK_FROM_ROWS:
        give_back_freed_memory()  # the frames', before the next stage's processes start beside this one
    return batch


FILE_COLUMN = "__file"  # the batch member a row belongs to (its landing path)


def _batch_rule_sql(rule: QualityRule) -> str:
    """The rule's SQL over a batch: uniqueness within each file, the provider's codes per row."""
    if rule.kind == RuleKind.UNIQUE:
        present = " AND ".join(f"{c} IS NOT NULL" for c in rule.columns)
        return (f"(NOT ({present}) OR count(*) OVER (PARTITION BY {FILE_COLUMN}, {', '.join(rule.columns)}) = 1)")
    return passes_sql(rule).replace("$provider_codes", "__provider_codes")


def _check_rows(connection, sources: list[Path], outcomes: list[ValidationOutcome],
                rules: tuple[QualityRule, ...], parameters: dict) -> None:
    """One pass over the batch: its columns, the derived ones, and one verdict per rule. Each row
    is judged as a row of the file (and provider folder) it was staged for, whatever it says."""
    connection.execute(f"CREATE TABLE members (path VARCHAR, {FILE_COLUMN} VARCHAR, codes VARCHAR[])")
    connection.executemany("INSERT INTO members VALUES (?, ?, ?)", [
        (str(source), o.source_file, sorted(codes_allowed_for(o.provider_code)))
        for source, o in zip(sources, outcomes)])
    derived = "".join(f", {sql} AS {name}" for name, sql in derived_columns(rules).items())
    verdicts = ", ".join(f"{_batch_rule_sql(rule)} AS __pass_{i}" for i, rule in enumerate(rules))
    query = (f"CREATE TABLE checked AS SELECT *, {verdicts} FROM "
             f"(SELECT d.* EXCLUDE (filename){derived}, m.codes AS __provider_codes, m.{FILE_COLUMN} "
             f"FROM read_parquet($sources, filename = true) d JOIN members m ON m.path = d.filename)")
    connection.execute(query, used_parameters(query, parameters | {"sources": [str(s) for s in sources]}))


def _failed_list(rules: tuple[QualityRule, ...], severity: Severity) -> str:
    cases = [f"CASE WHEN NOT __pass_{i} THEN '{rule.name}' END"
             for i, rule in enumerate(rules) if rule.severity == severity]
    if not cases:
        return "CAST([] AS VARCHAR[])"
    return f"[name FOR name IN [{', '.join(cases)}] IF name IS NOT NULL]"


def _count(connection, rules: tuple[QualityRule, ...], batch: BatchValidation) -> None:
    failing = ", ".join(f"count(*) FILTER (WHERE NOT __pass_{i})" for i in range(len(rules)))
    errors, warnings = _failed_list(rules, Severity.ERROR), _failed_list(rules, Severity.WARN)
    connection.execute(f"""CREATE TABLE verdicts AS SELECT {FILE_COLUMN}, source_row_number,
        {errors} AS failed_checks, {warnings} AS warnings FROM checked""")
    counts = {row[0]: row[1:] for row in connection.execute(
        f"SELECT {FILE_COLUMN}, count(*), {failing} FROM checked GROUP BY ALL").fetchall()}
    flagged = {row[0]: row[1:] for row in connection.execute(
        f"SELECT {FILE_COLUMN}, count(*) FILTER (WHERE len(failed_checks) > 0), "
        "count(*) FILTER (WHERE len(warnings) > 0) FROM verdicts GROUP BY ALL").fetchall()}
    total_rows = sum(c[0] for c in counts.values())
    totals = [sum(c[1 + i] for c in counts.values()) for i in range(len(rules))]
    batch.results = [RuleResult(rule, failed_rows=n, percent=100.0 * n / total_rows if total_rows else 0.0)
                     for rule, n in zip(rules, totals)]
    for outcome in batch.files:
        rows, *failed = counts.get(outcome.source_file, (0, *[0] * len(rules)))
        outcome.rows_in = rows
        outcome.results = [RuleResult(rule, failed_rows=n, percent=100.0 * n / rows if rows else 0.0)
                           for rule, n in zip(rules, failed)]
        bad, warned = flagged.get(outcome.source_file, (0, 0))
        outcome.rows_quarantined_for_errors, outcome.rows_with_warnings = bad, warned
        if outcome.bad_share > outcome.threshold:
            outcome.quarantined_whole = True
            outcome.reason = (f"{outcome.bad_share:.1%} of the delivered rows are bad (limit "
                              f"{outcome.threshold:.0%}): {bad} failed ERROR checks, "
                              f"{outcome.rows_rejected_at_collection} could not be read")


def _period_end(connection, contract: DatasetContract, batch: BatchValidation) -> None:
    """The last day of the period each drop covers (for on-time / late in the scorecard)."""
    column = contract.period_column
    if column is None:
        return
    kind = contract.column(column).type
    day = f"last_day(CAST({column} || '-01' AS DATE))" if kind == ColumnType.MONTH else f"CAST({column} AS DATE)"
    ends = dict(connection.execute(f"SELECT {FILE_COLUMN}, max({day}) FROM checked GROUP BY ALL").fetchall())
    for outcome in batch.files:
        outcome.period_end = ends.get(outcome.source_file)


# The staged files read the verdicts from `checked` itself (as `verdicts` was made), not by a join
# of the file's rows with them; each file's own row of `split_members` says if it goes whole.
_QUARANTINE_SQL = """SELECT c.* EXCLUDE ({internal}, __member, __whole, __drop_reason),
    CASE WHEN len(c.failed_checks) > 0 THEN 'failed: ' || array_to_string(c.failed_checks, ', ')
         ELSE 'passed its checks, but the drop was quarantined whole' END AS quarantine_reason,
    c.__whole AS whole_drop_quarantined, c.__drop_reason AS drop_reason, $run_id AS run_id,
    CAST(now() AS TIMESTAMPTZ) AS quarantined_at, c.__member
    FROM (SELECT k.*, s.__member, s.__whole, s.__drop_reason, {errors} AS failed_checks, {warnings} AS warnings
          FROM checked k JOIN split_members s USING (__file)
          WHERE s.__whole OR NOT {passing}) c"""


def _passes_errors(rules: tuple[QualityRule, ...]) -> str:
    """SQL: the row fails no ERROR rule (a NULL verdict is no failure, as in `_failed_list`)."""
    tests = [f"__pass_{i} IS NOT false" for i, rule in enumerate(rules) if rule.severity == Severity.ERROR]
    return "(" + (" AND ".join(tests) or "true") + ")"


def _split(connection, contract: DatasetContract, rules: tuple[QualityRule, ...], zones: DataZones,
           outcomes: list[ValidationOutcome], file_names: list[str], sources: list[Path], read: list[tuple],
           run_id: str) -> None:
    """Stage each file's passing rows as validated (unless it is quarantined whole) and its bad
    rows in quarantine, every file of the batch in one statement each. A drop quarantined whole
    leaves an earlier validated version in place. A file with no bad row is validated as it was
    collected: the same columns, rows and order, so its collected file is copied rather than
    written again (at 1M rows a few seconds of validation's time), if it is still the file the
    checks read (`read`: each of `sources`' identity when the checks read it)."""
    internal = ", ".join(_internal_columns(rules))
    connection.execute(f"CREATE TABLE split_members ({FILE_COLUMN} VARCHAR, __member INTEGER, "
                       "__kept INTEGER, __whole BOOLEAN, __drop_reason VARCHAR)")
    connection.executemany("INSERT INTO split_members VALUES (?, ?, NULL, ?, ?)", [
        (o.source_file, i, o.quarantined_whole, o.reason) for i, o in enumerate(outcomes)])
    rows = sum(o.rows_in for o in outcomes)
    for outcome, file_name in zip(outcomes, file_names):
        outcome.quarantine_path = quarantine_path(zones, contract.name, outcome.provider_code, file_name)
    copy_members_atomically(connection, _QUARANTINE_SQL.format(
        internal=internal, errors=_failed_list(rules, Severity.ERROR), warnings=_failed_list(rules, Severity.WARN),
        passing=_passes_errors(rules)), {"run_id": run_id}, [o.quarantine_path for o in outcomes],
        order_by="source_row_number", rows=rows)
    quarantined = dict(connection.execute(
        f"SELECT {FILE_COLUMN}, count(*) FROM verdicts JOIN split_members USING ({FILE_COLUMN}) "
        "WHERE __whole OR len(failed_checks) > 0 GROUP BY ALL").fetchall())
    for outcome in outcomes:
        outcome.rows_quarantined = quarantined.get(outcome.source_file, 0)
        outcome.rows_passed = 0 if outcome.quarantined_whole else outcome.rows_in - outcome.rows_quarantined
    kept = [i for i, outcome in enumerate(outcomes) if not outcome.quarantined_whole]
    for i in kept:
        outcomes[i].validated_path = validated_path(zones, contract.name, outcomes[i].provider_code, file_names[i])
    as_collected = {i for i in kept if outcomes[i].rows_quarantined == 0 and _identity(sources[i]) == read[i]}
    for i in sorted(as_collected):
        copy_file_atomically(sources[i], outcomes[i].validated_path)
    rewritten = [i for i in kept if i not in as_collected]
    if rewritten:
        # a rewritten file's place among the files written (`__kept`)
        connection.executemany("UPDATE split_members SET __kept = ? WHERE __member = ?",
                               [(k, i) for k, i in enumerate(rewritten)])
        copy_members_atomically(connection, f"""SELECT c.* EXCLUDE ({internal}), s.__kept AS __member
            FROM checked c JOIN split_members s USING ({FILE_COLUMN})
            WHERE s.__kept IS NOT NULL AND {_passes_errors(rules)}""", {},
            [outcomes[i].validated_path for i in rewritten], order_by="source_row_number",
            rows=sum(outcomes[i].rows_in for i in rewritten))


def _identity(path: Path) -> tuple[int, int, int]:
    """Which file `path` is: every stage replaces a file by renaming a new one into place."""
    stat = path.stat()
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _internal_columns(rules: tuple[QualityRule, ...]) -> list[str]:
    """The verdict and derived columns, which stay out of the staged files."""
    return [f"__pass_{i}" for i in range(len(rules))] + list(derived_columns(rules)) + ["__provider_codes", FILE_COLUMN]


# Great Expectations validates pandas frames in memory: a batch goes to it in parts of whole
# files (uniqueness holds within a file) of about this many rows, so its memory is bounded by
# the part (or by one file, itself bounded by the dataset's file budget), not by the batch.
GX_PART_ROWS = 1_000_000
GX_DUCKDB_MEMORY_LIMIT = "256MB"  # DuckDB's share beside a part's frame
# A smaller batch's frames leave a few MiB in glibc's arenas, and the full garbage collection
# of a process holding Great Expectations costs 0.25-0.3 s of CPU (a week: four batches, 1.1 s)
GIVE_BACK_FROM_ROWS = 100_000


def gx_parts(rows_per_file: list[tuple[str, int]], part_rows: int = GX_PART_ROWS) -> list[list[str]]:
    """Files grouped in delivery order into parts of at most `part_rows` rows (a bigger file alone)."""
    parts: list[list[str]] = []
    rows_in_part = 0
    for source_file, rows in rows_per_file:
        if not parts or rows_in_part + rows > part_rows:
            parts.append([])
            rows_in_part = 0
        parts[-1].append(source_file)
        rows_in_part += rows
    return parts


def _gx_frame(connection, rules: tuple[QualityRule, ...], files: list[str]):
    from gn_pipelines.quality.gx_suite import frame_columns

    # A column only NOT_NULL rules read reaches GX as "present or NULL": the long texts
    # (title, body, address) then cost GX nothing but their nulls.
    only_null_checked = _only_null_checked(rules)
    selected = []
    for name in frame_columns(rules):
        holds = next((i for i, r in enumerate(rules) if r.name == name and r.kind == RuleKind.HOLDS), None)
        if holds is not None:
            selected.append(f"__pass_{holds} AS {name}")
        elif name in only_null_checked:
            selected.append(f"({name} IS NOT NULL OR NULL) AS {name}")
        else:
            selected.append(name)
    table = connection.sql(f"SELECT {', '.join(selected)} FROM checked WHERE list_contains($files, {FILE_COLUMN})",
                           params={"files": files}).to_arrow_table()
    import pandas as pd

    # Arrow-backed columns: a third of the memory of Python objects, and faster string kernels
    return table.to_pandas(types_mapper=_arrow_strings(pd), date_as_object=False, self_destruct=True)


def _only_null_checked(rules: tuple[QualityRule, ...]) -> set[str]:
    read_otherwise = {c for r in rules if r.kind not in (RuleKind.NOT_NULL, RuleKind.HOLDS) for c in r.columns}
    read_otherwise |= {r.when[0] for r in rules if r.when}
    return {r.columns[0] for r in rules if r.kind == RuleKind.NOT_NULL} - read_otherwise


def _arrow_strings(pd):
    import pyarrow as pa

    mapping = {pa.string(): pd.StringDtype("pyarrow"), pa.large_string(): pd.StringDtype("pyarrow")}
    return mapping.get


def _samples(connection, contract: DatasetContract, rules: tuple[QualityRule, ...],
             batch: BatchValidation) -> None:
    """A few offending values per failed rule and file, masked when the column is personal."""
    masked = _masked_columns(contract)
    for i, result in enumerate(batch.results):
        if not result.failed_rows:
            continue
        columns = list(result.rule.columns)
        rows = connection.execute(
            f"SELECT {FILE_COLUMN}, source_row_number, {', '.join(columns)} FROM "
            f"(SELECT *, row_number() OVER (PARTITION BY {FILE_COLUMN} ORDER BY source_row_number) AS __nth "
            f"FROM checked WHERE NOT __pass_{i}) WHERE __nth <= {SAMPLE_SIZE} "
            f"ORDER BY ALL").fetchall()
        for source_file, row_number, *values in rows:
            sample = {"row": row_number, **{c: (mask_value(v) if c in masked else _plain(v))
                                            for c, v in zip(columns, values)}}
            if len(result.sample) < SAMPLE_SIZE:
                result.sample.append({"file": source_file, **sample})
            for outcome in batch.files:
                if outcome.source_file == source_file:
                    outcome.results[i].sample.append(sample)


def _plain(value):
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


def _masked_columns(contract: DatasetContract) -> set[str]:
    return {c.name for c in contract.columns
            if c.privacy in (PrivacyClass.DIRECT_IDENTIFIER, PrivacyClass.FREE_TEXT)}


def _validate_with_gx(connection, rules: tuple[QualityRule, ...], contract: DatasetContract,
                      batch: BatchValidation):
    """One Great Expectations validation of the batch (one result, one page), run part by part."""
    from gn_pipelines.quality.gx_suite import merged_validation, outcomes_by_rule, validate_frame

    per_file = _per_file_rules(rules)
    results = []
    # the batch's rows DuckDB holds are spilled while pandas holds a part's frame
    with memory_limit_within(connection, GX_DUCKDB_MEMORY_LIMIT):
        for files in gx_parts([(outcome.source_file, outcome.rows_in) for outcome in batch.files]):
            frame = _gx_frame(connection, per_file, files)
            results.append(validate_frame(frame, per_file, contract.name,
                                          run_name=f"{contract.name} {batch.label}".strip()))
            del frame
    result = merged_validation(results)
    by_rule = outcomes_by_rule(result)
    for i, rule_result in enumerate(batch.results):
        gx = by_rule.get(rule_result.rule.name)
        if gx is None:
            continue
        rule_result.gx_unexpected_count, rule_result.gx_success, rule_result.gx_error = \
            gx.unexpected_count, gx.success, gx.error
        for outcome in batch.files:  # GX counts the batch; a rule it could not evaluate fails everywhere
            outcome.results[i].gx_error = gx.error
            if len(batch.files) == 1:
                outcome.results[i].gx_unexpected_count, outcome.results[i].gx_success = \
                    gx.unexpected_count, gx.success
    return result


def _per_file_rules(rules: tuple[QualityRule, ...]) -> tuple[QualityRule, ...]:
    """Uniqueness holds within each file: GX checks it over (source_file, key)."""
    import dataclasses

    return tuple(dataclasses.replace(r, columns=(FILE_COLUMN, *r.columns)) if r.kind == RuleKind.UNIQUE else r
                 for r in rules)


def write_empty_quarantine(collected_seed: Path, target: Path) -> Path:
    """A zero-row Parquet file with the quarantine schema (so views over the folder always work)."""
    import duckdb

    connection = duckdb.connect()
    try:
        copy_atomically(connection, """SELECT *, CAST([] AS VARCHAR[]) AS failed_checks,
            CAST([] AS VARCHAR[]) AS warnings, CAST(NULL AS VARCHAR) AS quarantine_reason,
            false AS whole_drop_quarantined, CAST(NULL AS VARCHAR) AS drop_reason,
            CAST(NULL AS VARCHAR) AS run_id, CAST(NULL AS TIMESTAMPTZ) AS quarantined_at
            FROM read_parquet($seed) LIMIT 0""", {"seed": str(collected_seed)}, target)
    finally:
        connection.close()
    return target
