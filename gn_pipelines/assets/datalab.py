"""The data lab: the op of a job (jobs.py) whose run config is an extract request (Launchpad or `gn-pipelines
extract request.yaml`). Requests are not assets: each is a one-off, audited whether granted or
refused, and reads only the published warehouse."""

from typing import Any

import dagster as dg

from gn_pipelines.resources import DataZonesResource

DATALAB_JOB = "datalab_extract"


class ExtractFilterConfig(dg.Config):
    column: str
    operator: str  # =, !=, <, <=, >, >=, in, between
    value: Any


class ExtractRequestConfig(dg.Config):
    requester: str
    purpose: str
    table: str
    columns: list[str] = []
    filters: list[ExtractFilterConfig] = []
    group_by: list[str] = []
    request_id: str | None = None


@dg.op(description="Check the request against the published table's allow-list, extract with "
                   "small-cell suppression, write it and a privacy note, and audit the request.")
def extract_for_datalab(context: dg.OpExecutionContext, config: ExtractRequestConfig,
                        zones: DataZonesResource) -> dg.Output:
    from gn_pipelines.datalab.extract import run_extract
    from gn_pipelines.datalab.request import parse_request

    request = parse_request(config.model_dump(exclude_none=True))
    outcome = run_extract(request, zones.zones)
    metadata = {"request_id": outcome.request_id, "granted": outcome.granted,
                "requester": config.requester, "table": config.table}
    if outcome.granted:
        metadata |= {"rows": outcome.rows, "suppressed_cells": outcome.suppressed_cells,
                     "folder": dg.MetadataValue.path(str(outcome.directory))}
        context.log.info(f"extract {outcome.request_id} granted: {outcome.rows} rows in {outcome.directory}")
    else:
        metadata["refusal_reason"] = outcome.reason
        context.log.warning(f"extract {outcome.request_id} refused: {outcome.reason}")
    return dg.Output(outcome.granted, metadata=metadata)
