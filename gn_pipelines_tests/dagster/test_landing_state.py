"""The landing state is shared through the instance's database: what the daemon's sensor planned,
`gn-pipelines process` on any machine finds there, without reading unchanged files again."""

import dagster as dg

from gn_pipelines.definitions import defs
from gn_pipelines.ingest import planning
from gn_pipelines.ingest.landing_state import LandingStateStore
from gn_pipelines.sensors import LANDING_SENSOR_NAME
from gn_pipelines_tests.conftest import on_both_storages
from gn_pipelines_tests.drops import csv_bytes, drop, sample_rows

pytestmark = on_both_storages

DELIVERY = "48740/civil_complaints/2025-03-01.csv"


def tick(instance, cursor=None) -> dg.SensorResult:
    sensor = defs.resolve_sensor_def(LANDING_SENSOR_NAME)
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources=defs.resources) as context:
        return sensor(context)


def test_a_file_planned_but_never_run_is_done_by_process_without_reading_it_again(
        zones, instance, process, monkeypatch):
    drop(zones.landing, DELIVERY, csv_bytes(sample_rows("civil_complaints", 3)))
    # the daemon's sensor planned it (recorded in the instance's database); its run never ran
    planned = tick(instance)
    assert DELIVERY in [r.tags.get("gn/source_file") for r in planned.run_requests]
    assert not LandingStateStore.of_instance(instance).known([DELIVERY])[DELIVERY].done
    reads = []
    monkeypatch.setattr(planning, "content_sha256", lambda path: reads.append(path) or "unexpected")
    lines = process()
    assert any(line.startswith(f"{DELIVERY}: 3 rows accepted") for line in lines), lines
    assert reads == [] and LandingStateStore.of_instance(instance).known([DELIVERY])[DELIVERY].done
    # another machine sharing the instance finds it finished: nothing planned, nothing read
    with dg.DagsterInstance.get() as elsewhere:
        assert [r.job_name for r in tick(elsewhere).run_requests] == ["setup_restricted_warehouse"]
    assert not any(DELIVERY in line for line in process()) and reads == []
