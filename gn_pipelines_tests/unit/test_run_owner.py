"""Owner tags of in-process runs: a live owner, a dead one, a reused pid, another host."""

import subprocess
import sys

from gn_pipelines.process_identity import this_process
from gn_pipelines.run_recovery import OWNER_TAG, owner_alive, owner_tag, owner_tags, run_owner


def test_this_process_is_alive_and_a_finished_one_is_not():
    assert owner_alive(owner_tags()) is True
    host, _, started = this_process()
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    assert owner_alive(owner_tag(host, int(finished.stdout), started)) is False


def test_a_reused_pid_is_not_the_owner_and_another_host_is_not_judged():
    host, pid, _ = this_process()
    assert owner_alive(owner_tag(host, pid, "1")) is False
    assert owner_alive(owner_tag("another-host", pid, "")) is None


def test_the_owner_is_one_tag_and_runs_of_earlier_versions_keep_theirs():
    host, pid, started = this_process()
    assert owner_tags() == {OWNER_TAG: f"{pid}@{host} started {started}"}
    assert run_owner(owner_tags()) == (host, pid, started)
    legacy = {"gn/owner_host": host, "gn/owner_pid": str(pid), "gn/owner_started": started}
    assert run_owner(legacy) == (host, pid, started) and owner_alive(legacy) is True
    assert run_owner({"gn/trigger": "gn-pipelines process"}) is None and run_owner({OWNER_TAG: "x"}) is None


def test_a_run_of_an_earlier_version_whose_owner_died_is_recovered():
    """Runs written before the owner was one tag still name a dead owner: marked failed."""
    import dagster as dg

    from gn_pipelines.run_recovery import RECOVERED_TAG, recover_dead_runs

    host, _, started = this_process()
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    legacy = {"gn/owner_host": host, "gn/owner_pid": finished.stdout.strip(), "gn/owner_started": started}
    with dg.DagsterInstance.ephemeral() as instance:
        for run_id, tags in (("legacy-dead", legacy), ("alive", owner_tags())):
            instance.add_run(dg.DagsterRun(job_name="ingest", run_id=run_id, tags=tags,
                                           status=dg.DagsterRunStatus.STARTED))
        assert [r.run_id for r in recover_dead_runs(instance)] == ["legacy-dead"]
        assert instance.get_run_by_id("legacy-dead").status == dg.DagsterRunStatus.FAILURE
        assert RECOVERED_TAG in instance.get_run_by_id("legacy-dead").tags
        assert instance.get_run_by_id("alive").status == dg.DagsterRunStatus.STARTED
