"""Runs in containers: the instance of deploy/dagster.yaml (PostgreSQL, the queue,
DockerRunLauncher) with a real `dagster-daemon`, whose landing sensor finds one drop; its run
executes in a container of an image built here from this machine's Python and installed packages
(no registry).

Opt-in (GN_TEST_CONTAINERS=1): building the 700 MB image, starting the engine and the daemon
and two runs take minutes. Skipped, with the reason, where Docker cannot start.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import time
import uuid

import duckdb
import pytest
import yaml

from gn_pipelines.instance import DAGSTER_POSTGRES_URL_ENV
from gn_pipelines.publish.postgres_warehouse import WAREHOUSE_POSTGRES_URL_ENV
from gn_pipelines.sensors import LANDING_SENSOR_NAME, SENSOR_NAME_TAG
from gn_pipelines.synth import synthesize_drops
from gn_pipelines_tests.conftest import REPO_ROOT
from gn_pipelines_tests.docker_engine import build_code_location_image, docker_engine  # noqa: F401
from gn_pipelines_tests.e2e.conftest import Platform

OPT_IN_ENV = "GN_TEST_CONTAINERS"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.environ.get(OPT_IN_ENV) != "1",
                       reason=f"opt-in: set {OPT_IN_ENV}=1 (builds a 700 MB image and runs containers: "
                              "minutes, too slow for every CI run)"),
]
RUN_TIMEOUT = 600
ROWS = 20


def instance_config(platform: Platform) -> str:
    """deploy/dagster.yaml, with what differs on a test machine: host networking (the engine has
    no bridge; PostgreSQL listens on loopback) and the data root and Dagster home bind-mounted at
    their own paths instead of the `gn-data` volume."""
    config = yaml.safe_load((REPO_ROOT / "deploy" / "dagster.yaml").read_text(encoding="utf-8"))
    launcher = config["run_launcher"]["config"]
    launcher["network"] = "host"
    launcher["container_kwargs"]["volumes"] = [
        f"{path}:{path}:rw" for path in (platform.zones.root, platform.dagster_home)]
    return yaml.safe_dump(config, sort_keys=False)


@pytest.mark.timeout(1200)
def test_one_drop_runs_in_a_container(tmp_path, postgres_server, docker_engine):  # noqa: F811
    import dagster as dg
    from dagster_docker.docker_run_launcher import DOCKER_CONTAINER_ID_TAG

    figures = {}
    tag = f"gn-pipelines-test:{uuid.uuid4().hex[:8]}"
    image = build_code_location_image(docker_engine.client, REPO_ROOT, tag, tmp_path)
    figures["image"] = f"{image.size_bytes / 1e6:.0f} MB, built in {image.build_seconds:.0f} s"
    platform = Platform.under(tmp_path)
    (platform.dagster_home / "dagster.yaml").write_text(instance_config(platform), encoding="utf-8")
    dagster_url = postgres_server.create_database("dagster").replace("postgresql://", "postgresql+psycopg2://")
    env = platform.env | {DAGSTER_POSTGRES_URL_ENV: dagster_url, "GN_IMAGE": tag,
                          "DOCKER_HOST": docker_engine.host,
                          WAREHOUSE_POSTGRES_URL_ENV: postgres_server.create_database("warehouse")}
    drops = synthesize_drops(platform.zones.landing, datasets=["civil_complaints"], providers=["48170"],
                             start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 1), rows_per_file=ROWS)
    assert len(drops) == 1
    # The daemon does everything, as deployed: its landing sensor requests the warehouse set-up
    # and the drop's run, its queue launches each through DockerRunLauncher.
    daemon = subprocess.Popen([Platform.command("dagster-daemon"), "run", "-m", "gn_pipelines.definitions"],
                              cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                              stderr=(tmp_path / "daemon.log").open("w"))
    started = time.monotonic()
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name in ("DAGSTER_HOME", DAGSTER_POSTGRES_URL_ENV, "GN_IMAGE", "DOCKER_HOST"):
                patch.setenv(name, env[name])
            with dg.DagsterInstance.get() as instance:
                runs = wait_for_landing_runs(instance, at_least=2, timeout=RUN_TIMEOUT)
                failures = {run.run_id: [entry.message for entry in instance.all_logs(run.run_id)
                                         if entry.level >= logging.ERROR][-3:]
                            for run in runs or [] if run.status != dg.DagsterRunStatus.SUCCESS}
        figures["runs"] = f"set-up and one drop run in containers in {time.monotonic() - started:.0f} s"
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
        figures["engine"] = (f"dockerd + containerd peak {docker_engine.peak_resident_bytes / 1e6:.0f} MB "
                             f"({docker_engine.storage_driver or 'the machine engine'})")
        print("container test:", "; ".join(figures.values()))
        containers = docker_engine.client.containers.list(all=True, filters={"ancestor": tag})
        exit_codes = {container.id: container.attrs["State"]["ExitCode"] for container in containers}
        if not docker_engine.started_here:  # the machine's engine: leave it as it was
            for container in containers:
                container.remove(force=True)
            docker_engine.client.images.remove(tag, force=True)
    assert docker_engine.killed_for_memory is None, docker_engine.killed_for_memory
    log = (tmp_path / "daemon.log").read_text()[-3000:]
    assert runs is not None, f"the runs did not finish within {RUN_TIMEOUT} s\n--- daemon\n{log}"
    # both runs (the warehouse set-up and the drop) ran in containers of the image, and ended well
    assert len(runs) == 2 and not failures, f"{failures}\n--- daemon\n{log}"
    assert {run.tags.get("dagster/image") for run in runs} == {tag}, log
    assert [exit_codes.get(run.tags[DOCKER_CONTAINER_ID_TAG]) for run in runs] == [0, 0], exit_codes
    # the file's rows were collected into the shared data root by the container
    with duckdb.connect(str(platform.zones.restricted_db), read_only=True) as warehouse:
        assert warehouse.execute("SELECT source_file, count(*) FROM collected_civil_complaints GROUP BY 1"
                                 ).fetchall() == [("48170/civil_complaints/2025-03-01.csv", ROWS)]


def wait_for_landing_runs(instance, *, at_least: int, timeout: float):
    """The landing sensor's runs once there are `at_least` and all have finished (None: not in time)."""
    import dagster as dg

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [record.dagster_run for record in instance.get_run_records(
            filters=dg.RunsFilter(tags={SENSOR_NAME_TAG: LANDING_SENSOR_NAME}))]
        if len(runs) >= at_least and all(run.is_finished for run in runs):
            return runs
        time.sleep(2)  # polling the instance's database, bounded by the deadline
    return None
