"""Declarative automation, evaluated as the daemon's automation sensor does: a new drop
refreshes its own dataset's chain, the scorecard and the exports, and nothing else."""

import dagster as dg

from gn_pipelines.assets.deidentification import deidentified_asset_key
from gn_pipelines.assets.publication import published_key
from gn_pipelines.assets.scorecard import SCORECARD_KEY
from gn_pipelines_tests.drops import csv_bytes, drop, sample_rows

OPEN_DATA = dg.AssetKey(["open", "open_data_export"])


def _requested(defs, instance, cursor=None) -> tuple[set[dg.AssetKey], object]:
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    return {r.key for r in result.results if r.true_subset.size}, result.cursor


def test_a_new_drop_refreshes_its_own_chain_only(zones, process, instance):
    from gn_pipelines.definitions import defs

    nothing_yet, cursor = _requested(defs, instance)
    assert nothing_yet == set()
    drop(zones.landing, "48740/civil_complaints/2025-03-01.csv", csv_bytes(sample_rows("civil_complaints", 30)))
    process()  # collected, validated and pseudonymised; nothing published

    requested, cursor = _requested(defs, instance, cursor)
    assert requested == {
        deidentified_asset_key("civil_complaints"), published_key("civil_complaints"),
        published_key("civil_complaints_monthly"), published_key("civil_complaint_keywords_monthly"),
        SCORECARD_KEY, published_key("provider_scorecard"),
        OPEN_DATA}
    # handled: the next tick asks for nothing until another drop arrives
    assert _requested(defs, instance, cursor)[0] == set()
