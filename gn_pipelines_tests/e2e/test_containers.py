"""Runs in containers: the instance of deploy/dagster.yaml (PostgreSQL, the queue,
DockerRunLauncher) with a real `dagster-daemon`, and one drop whose run executes in a container
of an image built here from this machine's Python and installed packages (no registry).

Opt-in (GN_TEST_CONTAINERS=1): building the 700 MB image, starting the engine and the daemon
and two runs take minutes. Skipped, with the reason, where Docker cannot start.
"""

from __future__ import annotations

import datetime as dt
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
SUBMIT_TIMEOUT = 600
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

    from gn_pipelines.processing import process_landing

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
    # The daemon's own landing sensor is kept quiet (the file is touched now and nothing settles
    # for a day there): the runs below are the ones handed to the queue.
    for path in platform.zones.landing.rglob("*.csv"):
        os.utime(path)
    daemon = subprocess.Popen([Platform.command("dagster-daemon"), "run", "-m", "gn_pipelines.definitions"],
                              cwd=tmp_path, env=env | {"GN_SETTLE_SECONDS": "86400"},
                              stdout=subprocess.DEVNULL, stderr=(tmp_path / "daemon.log").open("w"))
    lines: list[str] = []
    started = time.monotonic()
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name in ("DAGSTER_HOME", DAGSTER_POSTGRES_URL_ENV, "GN_IMAGE", "DOCKER_HOST", "GN_DATA_ROOT",
                         "GN_SETTLE_SECONDS", "GN_PSEUDONYM_KEY"):
                patch.setenv(name, env[name])
            patch.setenv("GN_SUBMIT_TIMEOUT_SECONDS", str(SUBMIT_TIMEOUT))
            with dg.DagsterInstance.get() as instance:
                outcomes = process_landing(instance, publish=False, submit=True, echo=lines.append)
                runs = [record.dagster_run for record in instance.get_run_records(
                    filters=dg.RunsFilter(tags={SENSOR_NAME_TAG: LANDING_SENSOR_NAME}))]
        figures["runs"] = f"set-up and one drop submitted and finished in {time.monotonic() - started:.0f} s"
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
    log = "\n".join(lines) + "\n--- daemon\n" + (tmp_path / "daemon.log").read_text()[-3000:]
    assert all(outcome.success for outcome in outcomes), log
    assert "handed to QueuedRunCoordinator / DockerRunLauncher" in lines[0], log
    assert lines[-1] == (f"48170/civil_complaints/2025-03-01.csv: {ROWS} rows accepted, 0 rows rejected; "
                         f"{ROWS} rows passed, 0 quarantined; failed checks: none"), log
    # both runs (the warehouse set-up and the drop) ran in containers of the image, and ended well
    assert len(runs) == 2 and {run.status for run in runs} == {dg.DagsterRunStatus.SUCCESS}, log
    assert {run.tags.get("dagster/image") for run in runs} == {tag}, log
    assert exit_codes == {run.tags[DOCKER_CONTAINER_ID_TAG]: 0 for run in runs}, exit_codes
    # the file's rows were collected into the shared data root by the container
    with duckdb.connect(str(platform.zones.restricted_db), read_only=True) as warehouse:
        assert warehouse.execute("SELECT source_file, count(*) FROM collected_civil_complaints GROUP BY 1"
                                 ).fetchall() == [("48170/civil_complaints/2025-03-01.csv", ROWS)]
