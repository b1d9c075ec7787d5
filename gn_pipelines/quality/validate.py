"""Validate one collected drop: rows failing an ERROR rule go to quarantine, the rest go on.

DuckDB evaluates every rule row by row (set-based, spilling, so memory does not grow with the
drop) and splits the rows; Great Expectations validates the same rules on a frame of just the
columns they read, for the validation record and its Data Docs page. Dataset-wide rules
(uniqueness) always see the whole drop: nothing is chunked.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from gn_pipelines.contracts import ColumnType, DatasetContract, PrivacyClass
from gn_pipelines.contracts.model import QualityRule, RuleKind, Severity
from gn_pipelines.ingest.collect import collected_path, mask_value, staged_name
from gn_pipelines.ingest.parquet_io import copy_atomically, used_parameters, work_connection
from gn_pipelines.quality import reports
from gn_pipelines.quality.rules import derived_columns, passes_sql, rules_for
from gn_pipelines.reference import codes_allowed_for
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


def rule_parameters(provider_code: str, today: dt.date) -> dict:
    from gn_pipelines.reference.legal_dong import build_eup_myeon_dong

    dongs = build_eup_myeon_dong()
    return {
        "today": today,
        "provider_codes": sorted(codes_allowed_for(provider_code)),
        "known_eup_myeon_dong": sorted(dongs["sigungu_code"] + " " + dongs["eup_myeon_dong"]),
    }


def validate_drop(contract: DatasetContract, *, provider_code: str, file_name: str,
                  zones: DataZones, rows_rejected_at_collection: int = 0,
                  today: dt.date | None = None, run_id: str = "") -> ValidationOutcome:
    """Validate the collected rows of one drop and stage its validated and quarantined rows."""
    rules = rules_for(contract)
    source = collected_path(zones, contract.name, provider_code, file_name)
    outcome = ValidationOutcome(contract.name, provider_code, f"{provider_code}/{contract.name}/{file_name}",
                                rows_in=0, rows_rejected_at_collection=rows_rejected_at_collection,
                                threshold=contract.quarantine_threshold)
    # "not in the future" is judged on the calendar of the people who deliver (the host may be UTC)
    parameters = rule_parameters(provider_code, today or dt.datetime.now(ZoneInfo("Asia/Seoul")).date())
    zones.scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=zones.scratch, prefix="validate-") as work:
        connection = work_connection(Path(work))
        try:
            _check_rows(connection, source, rules, parameters)
            _count(connection, rules, outcome)
            outcome.period_end = _period_end(connection, contract)
            _split(connection, contract, rules, zones, outcome, file_name, run_id)
            frame = _gx_frame(connection, rules)
            _samples(connection, contract, rules, outcome)
        finally:
            connection.close()
    gx_result = _validate_with_gx(frame, rules, contract, outcome)
    del frame
    outcome.report_path = reports.write_report(zones, outcome, gx_result, _masked_columns(contract))
    return outcome


def _check_rows(connection, source: Path, rules: tuple[QualityRule, ...], parameters: dict) -> None:
    """One pass over the drop: its columns, the derived ones, and one verdict per rule."""
    derived = "".join(f", {sql} AS {name}" for name, sql in derived_columns(rules).items())
    verdicts = ", ".join(f"{passes_sql(rule)} AS __pass_{i}" for i, rule in enumerate(rules))
    query = (f"CREATE TABLE checked AS SELECT *, {verdicts} FROM "
             f"(SELECT *{derived} FROM read_parquet($source))")
    connection.execute(query, used_parameters(query, parameters | {"source": str(source)}))


def _failed_list(rules: tuple[QualityRule, ...], severity: Severity) -> str:
    cases = [f"CASE WHEN NOT __pass_{i} THEN '{rule.name}' END"
             for i, rule in enumerate(rules) if rule.severity == severity]
    if not cases:
        return "CAST([] AS VARCHAR[])"
    return f"[name FOR name IN [{', '.join(cases)}] IF name IS NOT NULL]"


def _count(connection, rules: tuple[QualityRule, ...], outcome: ValidationOutcome) -> None:
    failing = ", ".join(f"count(*) FILTER (WHERE NOT __pass_{i})" for i in range(len(rules)))
    errors, warnings = _failed_list(rules, Severity.ERROR), _failed_list(rules, Severity.WARN)
    connection.execute(f"""CREATE TABLE verdicts AS SELECT source_row_number,
        {errors} AS failed_checks, {warnings} AS warnings FROM checked""")
    counts = connection.execute(f"SELECT count(*), {failing} FROM checked").fetchall()[0]
    outcome.rows_in = counts[0]
    outcome.results = [RuleResult(rule, failed_rows=n, percent=100.0 * n / counts[0] if counts[0] else 0.0)
                       for rule, n in zip(rules, counts[1:])]
    bad, warned = connection.execute(
        "SELECT count(*) FILTER (WHERE len(failed_checks) > 0), count(*) FILTER (WHERE len(warnings) > 0) "
        "FROM verdicts").fetchall()[0]
    outcome.rows_quarantined_for_errors, outcome.rows_with_warnings = bad, warned
    if outcome.bad_share > outcome.threshold:
        outcome.quarantined_whole = True
        outcome.reason = (f"{outcome.bad_share:.1%} of the delivered rows are bad (limit "
                          f"{outcome.threshold:.0%}): {bad} failed ERROR checks, "
                          f"{outcome.rows_rejected_at_collection} could not be read")


def _period_end(connection, contract: DatasetContract) -> dt.date | None:
    """The last day of the period the drop covers (for on-time / late in the scorecard)."""
    column = contract.period_column
    if column is None:
        return None
    kind = contract.column(column).type
    day = f"last_day(CAST({column} || '-01' AS DATE))" if kind == ColumnType.MONTH else f"CAST({column} AS DATE)"
    return connection.execute(f"SELECT max({day}) FROM checked").fetchall()[0][0]


_QUARANTINE_SQL = """SELECT c.* EXCLUDE ({internal}), v.failed_checks, v.warnings,
    CASE WHEN len(v.failed_checks) > 0 THEN 'failed: ' || array_to_string(v.failed_checks, ', ')
         ELSE 'passed its checks, but the drop was quarantined whole' END AS quarantine_reason,
    $whole AS whole_drop_quarantined, $drop_reason AS drop_reason, $run_id AS run_id,
    CAST(now() AS TIMESTAMPTZ) AS quarantined_at
    FROM checked c JOIN verdicts v USING (source_row_number)
    WHERE $whole OR len(v.failed_checks) > 0 ORDER BY source_row_number"""


def _split(connection, contract: DatasetContract, rules: tuple[QualityRule, ...], zones: DataZones,
           outcome: ValidationOutcome, file_name: str, run_id: str) -> None:
    """Stage passing rows as validated (unless the drop is quarantined whole) and bad rows in
    quarantine. A drop quarantined whole leaves an earlier validated version in place."""
    internal = ", ".join(_internal_columns(rules))
    parameters = {"whole": outcome.quarantined_whole, "drop_reason": outcome.reason, "run_id": run_id}
    outcome.quarantine_path = quarantine_path(zones, contract.name, outcome.provider_code, file_name)
    copy_atomically(connection, _QUARANTINE_SQL.format(internal=internal), parameters, outcome.quarantine_path)
    outcome.rows_quarantined = connection.execute(
        "SELECT count(*) FROM verdicts WHERE $whole OR len(failed_checks) > 0",
        {"whole": outcome.quarantined_whole}).fetchall()[0][0]
    outcome.rows_passed = 0 if outcome.quarantined_whole else outcome.rows_in - outcome.rows_quarantined
    if outcome.quarantined_whole:
        return
    outcome.validated_path = validated_path(zones, contract.name, outcome.provider_code, file_name)
    copy_atomically(connection, f"""SELECT c.* EXCLUDE ({internal}) FROM checked c
        JOIN verdicts v USING (source_row_number) WHERE len(v.failed_checks) = 0
        ORDER BY source_row_number""", {}, outcome.validated_path)


def _internal_columns(rules: tuple[QualityRule, ...]) -> list[str]:
    """The verdict and derived columns, which stay out of the staged files."""
    return [f"__pass_{i}" for i in range(len(rules))] + list(derived_columns(rules))


def _gx_frame(connection, rules: tuple[QualityRule, ...]):
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
    table = connection.sql(f"SELECT {', '.join(selected)} FROM checked").to_arrow_table()
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
             outcome: ValidationOutcome) -> None:
    """A few offending values per failed rule, masked when the column is personal."""
    masked = _masked_columns(contract)
    for i, result in enumerate(outcome.results):
        if not result.failed_rows:
            continue
        columns = list(result.rule.columns)
        rows = connection.execute(
            f"SELECT source_row_number, {', '.join(columns)} FROM checked WHERE NOT __pass_{i} "
            f"ORDER BY source_row_number LIMIT {SAMPLE_SIZE}").fetchall()
        result.sample = [
            {"row": row[0], **{c: (mask_value(v) if c in masked else _plain(v)) for c, v in zip(columns, row[1:])}}
            for row in rows]


def _plain(value):
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


def _masked_columns(contract: DatasetContract) -> set[str]:
    return {c.name for c in contract.columns
            if c.privacy in (PrivacyClass.DIRECT_IDENTIFIER, PrivacyClass.FREE_TEXT)}


def _validate_with_gx(frame, rules: tuple[QualityRule, ...], contract: DatasetContract,
                      outcome: ValidationOutcome):
    from gn_pipelines.quality.gx_suite import validate_frame

    suite_name = f"{contract.name}.{outcome.provider_code}"
    result, by_rule = validate_frame(frame, rules, suite_name)
    for rule_result in outcome.results:
        gx = by_rule.get(rule_result.rule.name)
        if gx is not None:
            rule_result.gx_unexpected_count = gx.unexpected_count
            rule_result.gx_success = gx.success
            rule_result.gx_error = gx.error
    return result


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
