"""Great Expectations: the suite of a dataset, its validation on one drop, and the rendered page.

Imported only inside the validation step (GX costs seconds to import). The frame handed to GX
holds only the columns the rules read, as Arrow-backed pandas columns, and GX's whole-frame
hashing is switched off: together that keeps a 1M-row drop within the stage's time and memory.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
import re
from dataclasses import dataclass

import pandas as pd

from gn_pipelines.contracts.model import QualityRule, RuleKind
from gn_pipelines.ingest.collect import mask_value
from gn_pipelines.seoul_time import seoul_text

RULE_META_KEY = "gn_rule"
SAMPLE_SIZE = 5


@dataclass
class ExpectationOutcome:
    rule: str
    success: bool
    unexpected_count: int | None
    unexpected_percent: float | None
    sample: list  # partial unexpected values, masked later where personal
    error: str | None  # a metric that raised: not a data problem


def _quiet_gx() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    for name in ("great_expectations", "great_expectations.core", "great_expectations.data_context"):
        logging.getLogger(name).setLevel(logging.ERROR)


def expectation_for(rule: QualityRule):
    """The GX 1.x expectation that states `rule` (HOLDS rules read their SQL verdict column)."""
    import great_expectations.expectations as gxe

    meta = {RULE_META_KEY: rule.name, "severity": rule.severity.value, "notes": rule.description}
    first = rule.columns[0]
    if rule.kind == RuleKind.NOT_NULL:
        return gxe.ExpectColumnValuesToNotBeNull(column=first, meta=meta)
    if rule.kind == RuleKind.IN_SET:
        return gxe.ExpectColumnValuesToBeInSet(column=first, value_set=list(rule.values), meta=meta)
    if rule.kind == RuleKind.BETWEEN:
        return gxe.ExpectColumnValuesToBeBetween(column=first, min_value=rule.min_value,
                                                 max_value=rule.max_value, meta=meta)
    if rule.kind == RuleKind.MATCHES:
        # GX's pandas engine searches; anchoring makes it a full match like the SQL side
        return gxe.ExpectColumnValuesToMatchRegex(column=first, regex=f"^(?:{rule.pattern})$", meta=meta)
    if rule.kind == RuleKind.UNIQUE:
        if len(rule.columns) == 1:
            return gxe.ExpectColumnValuesToBeUnique(column=first, meta=meta)
        return gxe.ExpectCompoundColumnsToBeUnique(column_list=list(rule.columns), meta=meta)
    if rule.kind == RuleKind.NOT_BEFORE:
        later, earlier = rule.columns
        return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=later, column_B=earlier, or_equal=True,
            ignore_row_if="either_value_is_missing", meta=meta)
    if rule.kind == RuleKind.REQUIRED_WHEN:
        column, value = rule.when
        # a Condition object: string row conditions are deprecated since GX Core 1.9 (removed in 2.0)
        from great_expectations.expectations.row_conditions import Column as GxColumn

        return gxe.ExpectColumnValuesToNotBeNull(column=first, row_condition=GxColumn(column) == value, meta=meta)
    if rule.kind == RuleKind.HOLDS:
        return gxe.ExpectColumnValuesToBeInSet(column=rule.name, value_set=[True], meta=meta)
    raise ValueError(f"no expectation for {rule.kind}")


def frame_columns(rules: tuple[QualityRule, ...]) -> list[str]:
    """The columns GX reads: the rules' own, plus one verdict column per HOLDS rule."""
    names: list[str] = []
    for rule in rules:
        wanted = [rule.name] if rule.kind == RuleKind.HOLDS else list(rule.columns)
        if rule.kind == RuleKind.REQUIRED_WHEN:
            wanted.append(rule.when[0])
        names.extend(n for n in wanted if n not in names)
    return names


_CONTEXT = None  # one ephemeral GX context per process: building it costs most of a small validation
_RUNS = itertools.count()


def _context():
    global _CONTEXT
    if _CONTEXT is None:
        import great_expectations as gx
        from great_expectations.execution_engine import pandas_execution_engine

        # GX would hash the whole frame to name the batch: seconds at 1M rows, for nothing here.
        pandas_execution_engine.HASH_THRESHOLD = 0
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = gx.data_context.types.base.ProgressBarsConfig(globally=False)
        context.data_sources.add_pandas("drop")
        _CONTEXT = context
    return _CONTEXT


_VALIDATIONS: dict[tuple, object] = {}  # (suite name, rules) → validation definition, per process


def validate_frame(frame: pd.DataFrame, rules: tuple[QualityRule, ...], suite_name: str,
                   run_name: str | None = None):
    """Run the suite on `frame`; returns (GX validation result, outcomes by rule name). The cached
    context keeps one suite, asset and validation definition per dataset's rules for the process
    (building them cost as much as validating a small batch: each added expectation re-serialised
    the suite); each call hands its own frame as the batch.
    `run_name` is the page's "Run Name" (GX shows "__none__" without one)."""
    _quiet_gx()
    from great_expectations.core.run_identifier import RunIdentifier

    validation = _validation_definition(rules, suite_name)
    # run_time stays UTC, GX's own: its pages print any run_time with a literal "Z"
    # (render_page shows it in Seoul); given, so that GX never parses run_name as a time
    run_id = RunIdentifier(run_name=run_name, run_time=dt.datetime.now(dt.timezone.utc))
    try:
        return validation.run(batch_parameters={"dataframe": frame}, run_id=run_id,
                              result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE})
    finally:
        _unload_batches(validation)


def _unload_batches(validation) -> None:
    """GX's execution engine (cached with the validation definition) keeps the frame it validated
    loaded until the next validation: at 1M rows, ~0.5 GB that `process` held while
    de-identification's two processes ran beside it, the 1M chain's peak."""
    batches = validation.data.data_asset.datasource.get_execution_engine().batch_manager
    batches.batch_data_cache.clear()
    batches.reset_batch_cache()


def outcomes_by_rule(result) -> dict[str, ExpectationOutcome]:
    """What each rule's expectation found, by rule name."""
    return {outcome.rule: outcome for outcome in map(_outcome, result.results)}


# The counts of a column map expectation's SUMMARY result, and its percentages (GX's own
# definitions: `unexpected_percent` is of the non-missing values).
_SUMMED = ("element_count", "missing_count", "unexpected_count")


def merged_validation(results: list):
    """One validation result for a batch validated in parts (`validate_frame` per part): each
    expectation succeeds when it did in every part; counts are summed, percentages recomputed,
    samples taken from the parts in order. The first part's result carries the merge."""
    merged = results[0]
    for i, expectation_result in enumerate(merged.results):
        parts = [result.results[i] for result in results]
        expectation_result.success = all(part.success for part in parts)
        raised = next((part.exception_info for part in parts if (part.exception_info or {}).get("raised_exception")),
                      None)
        if raised is not None:
            expectation_result.exception_info = raised
        totals = expectation_result.result
        if not totals or len(parts) == 1:
            continue
        for key in _SUMMED:
            if key in totals:
                totals[key] = sum(int((part.result or {}).get(key) or 0) for part in parts)
        elements, missing = totals.get("element_count", 0), totals.get("missing_count", 0)
        unexpected = totals.get("unexpected_count", 0)
        present = elements - missing
        percents = {"missing_percent": 100.0 * missing / elements if elements else None,
                    "unexpected_percent": 100.0 * unexpected / present if present else None,
                    "unexpected_percent_total": 100.0 * unexpected / elements if elements else None,
                    "unexpected_percent_nonmissing": 100.0 * unexpected / present if present else None}
        totals.update({key: value for key, value in percents.items() if key in totals})
        for key in ("partial_unexpected_list", "partial_unexpected_counts"):
            if key in totals:
                totals[key] = [v for part in parts for v in (part.result or {}).get(key) or []][:SAMPLE_SIZE]
    successes = sum(1 for r in merged.results if r.success)
    merged.success = successes == len(merged.results)
    merged.statistics.update({"successful_expectations": successes,
                              "unsuccessful_expectations": len(merged.results) - successes,
                              "success_percent": 100.0 * successes / len(merged.results) if merged.results else None})
    return merged


def _validation_definition(rules: tuple[QualityRule, ...], suite_name: str):
    import great_expectations as gx

    key = (suite_name, repr(rules))
    if key not in _VALIDATIONS:
        context = _context()
        name = f"{suite_name}.{os.getpid()}.{next(_RUNS)}"  # unique: the context lives as long as the process
        batch_definition = context.data_sources.get("drop").add_dataframe_asset(name) \
            .add_batch_definition_whole_dataframe("whole batch")
        # the suite with all its expectations at once: one write to the context's store
        suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=[expectation_for(r) for r in rules]))
        _VALIDATIONS[key] = context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch_definition, suite=suite))
    return _VALIDATIONS[key]


def _outcome(expectation_result) -> ExpectationOutcome:
    result = expectation_result.result or {}
    exception = expectation_result.exception_info or {}
    raised = exception.get("raised_exception") if isinstance(exception, dict) else None
    count = result.get("unexpected_count")
    percent = result.get("unexpected_percent")
    return ExpectationOutcome(
        rule=expectation_result.expectation_config.meta[RULE_META_KEY],
        success=bool(expectation_result.success),
        unexpected_count=None if count is None else int(count),
        unexpected_percent=None if percent is None else float(percent),
        sample=[_plain(v) for v in result.get("partial_unexpected_list") or []][:SAMPLE_SIZE],
        error=str(exception.get("exception_message")) if raised else None,
    )


def _plain(value):
    """numpy scalars and timestamps become JSON-able Python values."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


def render_page(result, masked_columns: set[str]) -> str:
    """The Data Docs page of one validation, with personal values masked first."""
    _quiet_gx()
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    for expectation_result in result.results:
        kwargs = expectation_result.expectation_config.kwargs
        columns = {kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B"),
                   *(kwargs.get("column_list") or [])}
        if columns & masked_columns and expectation_result.result:
            _mask_result(expectation_result.result)
    document = ValidationResultsPageRenderer().render(result)
    return in_seoul_time(DefaultJinjaPageView().render(document))


# GX renders its times in UTC with a literal "Z", whatever their zone: the run time as
# 2026-12-06T02:09:20(.758516)Z (page title, Info table), the load time as 20261206T020920.411121Z
# (batch markers); no setting changes that, so the rendered page is rewritten in Seoul time.
_GX_UTC_TIME = re.compile(
    r"\b(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):?(\d{2}):?(\d{2})(?:\.(\d{1,6}))?Z\b")


def in_seoul_time(page: str) -> str:
    """Every UTC time GX wrote on `page`, as `2026-12-06 11:09:20 KST`."""
    def seoul(match: re.Match) -> str:
        *fields, fraction = match.groups()
        instant = dt.datetime(*map(int, fields), int((fraction or "0").ljust(6, "0")), tzinfo=dt.timezone.utc)
        return seoul_text(instant)

    return _GX_UTC_TIME.sub(seoul, page)


def _mask_result(result: dict) -> None:
    if result.get("partial_unexpected_list"):
        result["partial_unexpected_list"] = [mask_value(v) for v in result["partial_unexpected_list"]]
    if result.get("partial_unexpected_counts"):
        result["partial_unexpected_counts"] = [
            {"value": mask_value(item.get("value")), "count": item.get("count")}
            for item in result["partial_unexpected_counts"]]
