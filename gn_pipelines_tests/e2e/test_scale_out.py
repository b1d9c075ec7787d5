"""Scaling out, end to end on a real PostgreSQL instance: `process --submit` hands its runs to the
queue and a real `dagster-daemon` launches them, while a second `process` on another "host" (a
second process sharing the data root and the instance) runs at the same time; no file is loaded
twice, and every file is loaded. And two hosts that planned different files of one month (a file
landed in between) claim per file: each file is loaded by exactly one of them."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from gn_pipelines.ingest.drop_log import drop_log_dir
from gn_pipelines.instance import DAGSTER_POSTGRES_URL_ENV, postgres_dagster_yaml
from gn_pipelines.quality.validation_log import validation_log_dir
from gn_pipelines.sensors import LANDING_SENSOR_NAME, RUN_KEY_TAG, SENSOR_NAME_TAG
from gn_pipelines.synth import synthesize_drops
from gn_pipelines_tests.conftest import REPO_ROOT
from gn_pipelines_tests.e2e.conftest import Platform
from gn_pipelines_tests.e2e.planning_host import PLANNED

pytestmark = pytest.mark.e2e
COMMAND_TIMEOUT = 600
SKIPPED = re.compile(r"^(?P<file>\S+): skipped: run [0-9a-f]{8} (holds it \(\w+\)|already loaded it)$")


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
    # ones planning runs: this test is about the run-id claims of one batch (the sensor's runs,
    # with random ids, are covered by the per-file claims: dagster/test_claims.py).
    for path in platform.zones.landing.rglob("*.csv"):
        os.utime(path)
    # Dagster's tables made first: three processes opening a new database at once race to create
    # them, and the daemon (Dagster's own code) does not survive losing that race; the platform's
    # commands open the instance again (dagster/test_instance_creation_race.py).
    with platform.instance():
        pass
    daemon = subprocess.Popen([Platform.command("dagster-daemon"), "run", "-m", "gn_pipelines.definitions"],
                              cwd=tmp_path, env=env | {"GN_SETTLE_SECONDS": "86400"},
                              stdout=subprocess.DEVNULL, stderr=(tmp_path / "daemon.log").open("w"))
    try:
        hosts = []
        for i, extra in enumerate((["--submit"], [])):
            with stderr_file(tmp_path, f"host{i}") as stderr:
                hosts.append(subprocess.Popen([Platform.command("gn-pipelines"), "process", *extra], cwd=tmp_path,
                                              env=env, stdout=subprocess.PIPE, stderr=stderr, text=True))
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
    # one run per key while a run of it is going; a host that comes after the batch's run finished
    # starts another attempt, whose first step finds every file loaded (per-file claims)
    assert [per_key[key] for key in sorted(per_key) if not key.startswith("batch:")] == [1], per_key
    assert {run.status for run in runs} == {dg.DagsterRunStatus.SUCCESS}
    landed = sorted(drop.path.relative_to(platform.zones.landing).as_posix() for drop in drops)
    assert records_per_file(drop_log_dir(platform.zones.restricted)) == dict.fromkeys(landed, 1)  # nobody loaded a file twice
    reported = "\n".join(outputs)
    for relative in landed:  # every file reported, by the host that ran its batch
        assert reported.count(f"{relative}: ") >= 1, reported
    summary = re.compile(r"[0-4] file\(s\) in [1-3] run\(s\), 0 failed(, [1-5] left to another process)?")
    for output in outputs:  # each host's summary counts the files and runs it handled
        assert len([line for line in output.splitlines() if summary.fullmatch(line)]) == 1, output


def landed_in_order(platform: Platform) -> list[str]:
    """Three complaint files of one provider and one month (one batch), written aside: the test
    moves them into the landing zone when it wants them to arrive."""
    drops = synthesize_drops(platform.outgoing, datasets=["civil_complaints"], providers=["48170"],
                             start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 3), rows_per_file=20)
    return sorted(d.path.relative_to(platform.outgoing).as_posix() for d in drops)


def land(platform: Platform, relative: str) -> None:
    target = platform.zones.landing / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(platform.outgoing / relative, target)


def stderr_file(tmp_path: Path, name: str):
    """Where a command's standard error goes: never into the standard output the test parses.
    Dagster copies a run's captured stderr (its warnings) out through a `tail` process it kills as
    the run ends; killed mid-copy, it leaves half a line, and merged, the command's next line is
    glued to it. A CI run failed with the first file's line unmatched and the next one whole."""
    return (tmp_path / f"{name}.stderr").open("w")


def start_host(platform: Platform, env: dict, go: Path, name: str) -> tuple[subprocess.Popen, list[str]]:
    """A host that plans now and returns once it said what it planned (it then waits for `go`)."""
    with stderr_file(platform.dagster_home.parent, name) as stderr:
        host = subprocess.Popen([sys.executable, "-m", "gn_pipelines_tests.e2e.planning_host", str(go)],
                                cwd=REPO_ROOT, env=env | {"PYTHONPATH": str(REPO_ROOT)}, text=True,
                                stdout=subprocess.PIPE, stderr=stderr)
    lines = []
    for line in host.stdout:  # ends when the host printed its plan, or exited
        lines.append(line.rstrip("\n"))
        if lines[-1] == PLANNED:
            return host, lines
    host.wait(timeout=60)
    stderr = (platform.dagster_home.parent / f"{name}.stderr").read_text(encoding="utf-8")
    pytest.fail("the host exited before planning:\n" + "\n".join(lines) + "\n" + stderr)


def shown(outputs: list[list[str]]) -> str:
    """The hosts' lines in full (a list in an assertion message is cut short)."""
    return "\n".join(f"host {'AB'[i]}:\n" + "\n".join(lines) for i, lines in enumerate(outputs))


def records_per_file(directory: Path) -> Counter:
    """Source files of a record log (its `_schema.json` is no record)."""
    return Counter(json.loads(p.read_text(encoding="utf-8"))["source_file"] for p in directory.glob("*.json")
                   if not p.name.startswith("_"))


@pytest.mark.timeout(COMMAND_TIMEOUT + 120)
@pytest.mark.parametrize("storage", ["sqlite", "postgres"])
def test_two_hosts_planning_different_files_of_one_month_load_each_file_once(tmp_path, storage, request):
    platform = Platform.under(tmp_path)
    env = platform.env
    if storage == "postgres":
        url = request.getfixturevalue("postgres_server").create_database("dagster")
        (platform.dagster_home / "dagster.yaml").write_text(postgres_dagster_yaml(url), encoding="utf-8")
        env |= {DAGSTER_POSTGRES_URL_ENV: url}
    a, b, c = landed_in_order(platform)
    land(platform, a)
    land(platform, b)
    go = tmp_path / "go"
    host_a, plan_a = start_host(platform, env, go, "host_a")
    land(platform, c)  # c lands between the two hosts' plans: the same month, another file set
    host_b, plan_b = start_host(platform, env, go, "host_b")
    assert f"planned: {a} {b}" in plan_a and f"planned: {a} {b} {c}" in plan_b, (plan_a, plan_b)
    go.touch()  # both execute at once: each batch run claims its files in its first step
    outputs = [plan + host.communicate(timeout=COMMAND_TIMEOUT)[0].splitlines()
               for host, plan in ((host_a, plan_a), (host_b, plan_b))]
    for host, output in zip((host_a, host_b), outputs):
        assert host.returncode == 0, "\n".join(output)

    # every file handled exactly once: one drop-log and one validation-log record each
    assert records_per_file(drop_log_dir(platform.zones.restricted)) == {a: 1, b: 1, c: 1}
    assert records_per_file(validation_log_dir(platform.zones)) == {a: 1, b: 1, c: 1}
    # each file is loaded by one host; the other host's report names the run that has it
    skipped = [{m["file"] for line in output if (m := SKIPPED.match(line))} for output in outputs]
    loaded = [{line.split(": ", 1)[0] for line in output if re.match(r"^\S+: \d+ rows accepted", line)}
              for output in outputs]
    assert loaded[0] | loaded[1] == {a, b, c} and not loaded[0] & loaded[1], shown(outputs)
    assert [skipped[0], skipped[1]] == [{a, b} - loaded[0], {a, b} - loaded[1]], shown(outputs)
    assert c in loaded[1]


def wait_for_queued_batches(platform: Platform, count: int, timeout: float = 300) -> None:
    """Bounded polling of the instance until `count` batch runs wait in the queue."""
    import time

    import dagster as dg

    deadline = time.monotonic() + timeout
    with platform.instance() as instance:
        while True:
            queued = instance.get_run_records(filters=dg.RunsFilter(
                statuses=[dg.DagsterRunStatus.QUEUED], tags={SENSOR_NAME_TAG: LANDING_SENSOR_NAME}))
            if sum("gn/batch" in r.dagster_run.tags for r in queued) >= count:
                return
            assert time.monotonic() < deadline, f"fewer than {count} batch run(s) queued after {timeout:.0f} s"
            time.sleep(0.2)


@pytest.mark.timeout(2 * COMMAND_TIMEOUT)
def test_two_hosts_submitting_different_files_of_one_month_to_the_queue_load_each_file_once(tmp_path, postgres_server):
    platform = Platform.under(tmp_path)
    url = postgres_server.create_database("dagster")
    (platform.dagster_home / "dagster.yaml").write_text(postgres_dagster_yaml(url), encoding="utf-8")
    env = platform.env | {DAGSTER_POSTGRES_URL_ENV: url}
    a, b, c = landed_in_order(platform)
    go = tmp_path / "go"
    go.touch()
    host, _ = start_host(platform, env, go, "setup")  # nothing landed yet: only the warehouse set-up runs
    assert host.communicate(timeout=COMMAND_TIMEOUT)[0] == "" and host.returncode == 0
    land(platform, a)
    land(platform, b)

    def submit(name: str) -> subprocess.Popen:
        with stderr_file(tmp_path, name) as stderr:
            return subprocess.Popen([Platform.command("gn-pipelines"), "process", "--submit"], cwd=tmp_path,
                                    env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)

    # no daemon yet: the runs wait in the queue, so host B plans while host A's batch is unloaded
    host_a = submit("host_a")
    wait_for_queued_batches(platform, 1)
    land(platform, c)
    host_b = submit("host_b")
    wait_for_queued_batches(platform, 2)
    daemon = subprocess.Popen([Platform.command("dagster-daemon"), "run", "-m", "gn_pipelines.definitions"],
                              cwd=tmp_path, env=env | {"GN_SETTLE_SECONDS": "86400"},  # its sensor stays quiet
                              stdout=subprocess.DEVNULL, stderr=(tmp_path / "daemon.log").open("w"))
    try:
        outputs = [h.communicate(timeout=COMMAND_TIMEOUT)[0].splitlines() for h in (host_a, host_b)]
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
    for h, output in zip((host_a, host_b), outputs):
        assert h.returncode == 0, "\n".join(output)
    assert records_per_file(drop_log_dir(platform.zones.restricted)) == {a: 1, b: 1, c: 1}
    assert records_per_file(validation_log_dir(platform.zones)) == {a: 1, b: 1, c: 1}
    # one batch at a time per dataset: A's ran first and loaded a and b; B's claimed only c
    assert f"{a}: skipped" not in "\n".join(outputs[0]) and any(line.startswith(f"{c}: 20 rows accepted")
                                                                for line in outputs[1]), shown(outputs)
    assert {m["file"] for line in outputs[1] if (m := SKIPPED.match(line))} == {a, b}, shown(outputs)
    assert any(line.endswith("already loaded it") for line in outputs[1]), shown(outputs)
