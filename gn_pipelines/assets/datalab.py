"""The data lab: the ops of the jobs (jobs.py) that run an extract request (Launchpad or
`gn-pipelines extract request.yaml`) and destroy, nightly, the extracts whose period has ended.
Requests are not assets: each is a one-off, audited whether granted, held for review or
refused, and reads only the published warehouse."""

from typing import Any

import dagster as dg

from gn_pipelines.resources import DataZonesResource

DATALAB_JOB = "datalab_extract"
DESTROY_JOB = "datalab_destroy_expired"


class ExtractFilterConfig(dg.Config):
    column: str | None = None
    operator: str | None = None  # =, !=, <, <=, >, >=, in, between
    value: Any = None


class ExtractRequestConfig(dg.Config):
    """Every field optional here: a request missing one is refused and audited by the op, with its
    reason, instead of failing as a config error that nobody audits (issue 10, item 9)."""

    requester: str | None = None
    organisation: str | None = None
    purpose: str | None = None
    table: str | None = None
    tables: list[str] = []  # or one table in a list
    columns: list[str] = []
    filters: list[ExtractFilterConfig] = []
    group_by: list[str] = []
    period_days: int | None = None
    request_id: str | None = None


@dg.op(description="Check the request against the published table's allow-list and the risk checks "
                   "(k, l, small cells, differencing), then extract with small-cell suppression, or hold "
                   "rows of 가명정보 for an adequacy review, or refuse; every outcome is audited.")
def extract_for_datalab(context: dg.OpExecutionContext, config: ExtractRequestConfig,
                        zones: DataZonesResource) -> dg.Output:
    from gn_pipelines.datalab.extract import run_extract
    from gn_pipelines.datalab.request import parse_request

    request = parse_request(config.model_dump(exclude_none=True))
    outcome = run_extract(request, zones.zones)
    metadata = {"request_id": outcome.request_id, "status": outcome.status, "granted": outcome.granted,
                "line": outcome.line, "requester": config.requester or "", "table": config.table or ""}
    if outcome.evidence:
        metadata["risk_checks"] = dg.MetadataValue.json(outcome.evidence)
    if outcome.granted:
        metadata |= {"rows": outcome.rows, "suppressed_cells": outcome.suppressed_cells,
                     "expires_on": str(outcome.expires_on), "folder": dg.MetadataValue.path(str(outcome.directory))}
        context.log.info(f"extract {outcome.request_id} granted: {outcome.rows} rows in {outcome.directory}")
    elif outcome.reason:
        metadata["refusal_reason"] = outcome.reason
        context.log.warning(f"extract {outcome.request_id} refused: {outcome.reason}")
    else:
        context.log.info(f"extract {outcome.request_id} pending review: `gn-pipelines datalab review "
                         f"{outcome.request_id} --reviewer NAME --approve|--reject --note TEXT`")
    return dg.Output(outcome.granted, metadata=metadata)


@dg.op(description="Overwrite and delete every extract whose use period has ended; record each "
                   "destruction in the audit trail and, for 가명정보, in the processing ledger.")
def destroy_expired_extracts(context: dg.OpExecutionContext, zones: DataZonesResource) -> dg.Output:
    from gn_pipelines.datalab.lifecycle import destroy_expired

    destroyed = destroy_expired(zones.zones)
    for item in destroyed:
        context.log.info(f"destroyed {item.request_id} (period ended {item.expires_on}): {item.files} file(s)")
    return dg.Output(len(destroyed), metadata={"destroyed": [d.request_id for d in destroyed]})
