"""Scaling out, end to end on a real PostgreSQL instance: `process --submit` hands its runs to the
queue and a real `dagster-daemon` launches them, while a second `process` on another "host" (a
second process sharing the data root and the instance) runs at the same time; no file is loaded
twice, and every file is loaded."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from collections import Counter

import pytest

from gn_pipelines.instance import DAGSTER_POSTGRES_URL_ENV, postgres_dagster_yaml
from gn_pipelines.sensors import LANDING_SENSOR_NAME, RUN_KEY_TAG, SENSOR_NAME_TAG
from gn_pipelines.synth import synthesize_drops
from gn_pipelines_tests.e2e.conftest import Platform

pytestmark = pytest.mark.e2e
COMMAND_TIMEOUT = 600


@pytest.mark.timeout(COMMAND_TIMEOUT + 120)
def test_two_hosts_submitting_and_processing_never_load_a_file_twice(tmp_path, postgres_server):
    platform = Platform.under(tmp_path)
    url = postgres_server.create_database("dagster")
    (platform.dagster_home / "dagster.yaml").write_text(postgres_dagster_yaml(url), encoding="utf-8")
    env = platform.env | {DAGSTER_POSTGRES_URL_ENV: url}
    drops = synthesize_drops(platform.zones.landing, datasets=["civil_complaints"],
                             providers=["48170", "48250"], start=dt.date(2025, 3, 1),
                             end=dt.date(2025, 3, 2), rows_per_file=20)
    assert len(drops) == 4
    # The daemon launches the queued runs; its own landing sensor is kept quiet (the files are
    # touched now and nothing settles for a day there) so that the two commands are the only
    # ones planning runs: the sensor's own runs get random ids, outside the claims.
    for path in platform.zones.landing.rglob("*.csv"):
        os.utime(path)
    daemon = subprocess.Popen([Platform.command("dagster-daemon"), "run", "-m", "gn_pipelines.definitions"],
                              cwd=tmp_path, env=env | {"GN_SETTLE_SECONDS": "86400"},
                              stdout=subprocess.DEVNULL, stderr=(tmp_path / "daemon.log").open("w"))
    try:
        hosts = [subprocess.Popen([Platform.command("gn-pipelines"), "process", *extra], cwd=tmp_path, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for extra in (["--submit"], [])]
        outputs = [host.communicate(timeout=COMMAND_TIMEOUT)[0] for host in hosts]
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
    for host, output in zip(hosts, outputs):
        assert host.returncode == 0, output
    assert "waiting up to" in outputs[0] and "handed to QueuedRunCoordinator" in outputs[0]

    import dagster as dg

    with pytest.MonkeyPatch.context() as patch:
        for name in ("DAGSTER_HOME", DAGSTER_POSTGRES_URL_ENV):
            patch.setenv(name, env[name])
        with dg.DagsterInstance.get() as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            runs = [r.dagster_run for r in instance.get_run_records(
                filters=dg.RunsFilter(tags={SENSOR_NAME_TAG: LANDING_SENSOR_NAME}))]
    per_key = Counter(run.tags[RUN_KEY_TAG] for run in runs)
    assert len(per_key) == 1 + 1  # one batch (the four files: one dataset, one month) and the warehouse set-up
    assert set(per_key.values()) == {1}, per_key  # nobody loaded a file twice
    assert {run.status for run in runs} == {dg.DagsterRunStatus.SUCCESS}
    reported = "\n".join(outputs)
    for drop in drops:  # every file reported, by the host that ran its batch
        relative = drop.path.relative_to(platform.zones.landing).as_posix()
        assert reported.count(f"{relative}: ") >= 1, reported
