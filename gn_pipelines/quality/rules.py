"""The quality rules of a dataset: derived from its contract's columns, plus its own rules.

Each rule is stated once (a `QualityRule`) and rendered twice: to a SQL predicate that DuckDB
evaluates row by row for the quarantine, and to a Great Expectations expectation for the
validation report (`gx_suite.py`). A test keeps the two in agreement.
"""

from __future__ import annotations

from gn_pipelines.contracts.model import (
    ColumnType,
    DatasetContract,
    QualityRule,
    RuleKind,
    Severity,
)
from gn_pipelines.privacy.identifiers import PHONE_FORMAT_REGEX, rrn_is_valid_sql

PARSEABLE_CHECK = "values_parseable"  # rows collection could not type (kept in rejected rows)
BAD_ROW_SHARE_CHECK = "bad_row_share"  # the drop-level decision: go on, or quarantine whole
DROP_COLLECTED_CHECK = "drop_collected"  # the file was accepted by collection at all


def rules_for(contract: DatasetContract) -> tuple[QualityRule, ...]:
    """Every rule of a dataset: from the column declarations first, then the contract's own."""
    rules: list[QualityRule] = []
    for column in contract.columns:
        rules.extend(_column_rules(column))
    for key in contract.unique_within_provider:
        rules.append(QualityRule(
            f"{'_'.join(key)}_unique", RuleKind.UNIQUE, key,
            f"{' + '.join(key)} is unique within the provider's drop"))
    if contract.provider_code_column:
        column = contract.provider_code_column
        rules.append(QualityRule(
            f"{column}_belongs_to_provider", RuleKind.HOLDS, (column,),
            "the row's 시군구 code is the delivering provider's own (창원 may use its 구 codes)",
            sql=f"list_contains($provider_codes, {column})"))
    rules.extend(contract.rules)
    _refuse_duplicate_names(contract.name, rules)
    return tuple(rules)


def _column_rules(column) -> list[QualityRule]:
    name, rules = column.name, []
    if column.required:
        rules.append(QualityRule(f"{name}_not_null", RuleKind.NOT_NULL, (name,),
                                 f"{column.header} ({name}) is required"))
    if column.allowed_values:
        rules.append(QualityRule(f"{name}_allowed_value", RuleKind.IN_SET, (name,),
                                 f"{column.header} is one of: {', '.join(column.allowed_values)}",
                                 values=column.allowed_values))
    if column.min_value is not None or column.max_value is not None:
        rules.append(QualityRule(f"{name}_in_range", RuleKind.BETWEEN, (name,),
                                 f"{column.header} within {_range_text(column)}",
                                 severity=column.range_severity,
                                 min_value=column.min_value, max_value=column.max_value))
    if column.type == ColumnType.CODE and column.length:
        rules.append(QualityRule(f"{name}_format", RuleKind.MATCHES, (name,),
                                 f"{column.header} is {column.length} digits",
                                 pattern=f"[0-9]{{{column.length}}}"))
    if column.type in (ColumnType.DATE, ColumnType.TIMESTAMP) and not column.may_be_future:
        rules.append(QualityRule(f"{name}_not_in_future", RuleKind.HOLDS, (name,),
                                 f"{column.header} is not in the future",
                                 sql=f"CAST({name} AS DATE) <= $today"))
    if column.type == ColumnType.MONTH:
        rules.append(QualityRule(f"{name}_not_in_future", RuleKind.HOLDS, (name,),
                                 f"{column.header} is not a future month",
                                 sql=f"{name} <= strftime($today, '%Y-%m')"))
    if column.identifier_format == "rrn":
        rules.append(QualityRule(f"{name}_valid", RuleKind.HOLDS, (name,),
                                 f"{column.header} is YYMMDD-GNNNNNN with a real birth date "
                                 "(no checksum: numbers issued since 2020-10 have none)",
                                 sql=f"{name} IS NULL OR {rrn_is_valid_sql(name)}"))
    if column.identifier_format == "phone":
        rules.append(QualityRule(f"{name}_format", RuleKind.MATCHES, (name,),
                                 f"{column.header} is a Korean mobile or landline number",
                                 severity=Severity.WARN, pattern=PHONE_FORMAT_REGEX))
    return rules


def _range_text(column) -> str:
    low = "−∞" if column.min_value is None else f"{column.min_value:g}"
    high = "∞" if column.max_value is None else f"{column.max_value:g}"
    return f"[{low}, {high}]"


def _refuse_duplicate_names(dataset: str, rules: list[QualityRule]) -> None:
    names = [rule.name for rule in rules]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"{dataset}: quality rule names must be unique, repeated: {duplicates}")


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def passes_sql(rule: QualityRule) -> str:
    """A SQL boolean that is TRUE when the row passes; a missing value passes every rule but
    NOT_NULL and REQUIRED_WHEN, as in Great Expectations."""
    first = rule.columns[0]
    if rule.kind == RuleKind.NOT_NULL:
        return f"{first} IS NOT NULL"
    if rule.kind == RuleKind.IN_SET:
        return f"({first} IS NULL OR {first} IN ({', '.join(_literal(v) for v in rule.values)}))"
    if rule.kind == RuleKind.BETWEEN:
        bounds = []
        if rule.min_value is not None:
            bounds.append(f"{first} >= {rule.min_value!r}")
        if rule.max_value is not None:
            bounds.append(f"{first} <= {rule.max_value!r}")
        return f"({first} IS NULL OR ({' AND '.join(bounds)}))"
    if rule.kind == RuleKind.MATCHES:
        return f"({first} IS NULL OR regexp_full_match({first}, {_literal(rule.pattern)}))"
    if rule.kind == RuleKind.UNIQUE:
        present = " AND ".join(f"{c} IS NOT NULL" for c in rule.columns)
        return (f"(NOT ({present}) OR count(*) OVER (PARTITION BY {', '.join(rule.columns)}) = 1)")
    if rule.kind == RuleKind.NOT_BEFORE:
        later, earlier = rule.columns
        return f"({later} IS NULL OR {earlier} IS NULL OR {later} >= {earlier})"
    if rule.kind == RuleKind.REQUIRED_WHEN:
        column, value = rule.when
        return f"({column} IS DISTINCT FROM {_literal(value)} OR {first} IS NOT NULL)"
    if rule.kind == RuleKind.HOLDS:
        return f"coalesce({rule.sql}, true)"
    raise ValueError(f"unknown rule kind {rule.kind}")


def derived_columns(rules: tuple[QualityRule, ...]) -> dict[str, str]:
    """Columns some rules compare on (e.g. the receipt day of a timestamp), by name."""
    return {name: sql for rule in rules for name, sql in rule.derived}
