"""`dagster dev` end to end: files dropped in the landing zone are picked up by the landing
sensor in the daemon, collected by the runs it requests, and readable in the warehouse."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import duckdb
import pytest

from gn_pipelines.assets.publication import PUBLISHED_KEYS
from gn_pipelines.sensors import RUN_KEY_TAG
from gn_pipelines.settings import SETTLE_SECONDS_ENV
from gn_pipelines_tests.e2e.conftest import Platform
from gn_pipelines_tests.e2e.drops import (
    MISPLACED_REASON,
    OTHER_PROVIDER_REASON,
    complaints_48740,
    deliver,
    misplaced,
    welfare_48170_cp949,
)
from gn_pipelines_tests.seoul_times import utc_times

# The whole scenario; the sensor ticks every 15 s. Generous: beside another test worker on
# two cores, with automation runs launched too, the first files took 108 s to settle.
DEADLINE_SECONDS = 300
POLL_SECONDS = 0.5
UPLOAD_NAME = "20250302.csv"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DagsterDev:
    """`dagster dev` in its own process group, logging to a file, stopped as a whole."""

    def __init__(self, platform: Platform, log_path: Path, cwd: Path, via_gn_pipelines: bool = False,
                 deadline_seconds: float = DEADLINE_SECONDS):
        self.port = free_port()
        self.log_path = log_path
        self.started = time.monotonic()
        self.deadline = self.started + deadline_seconds
        address = ["-h", "127.0.0.1", "-p", str(self.port)]
        if via_gn_pipelines:  # the README's first command: sample drops, process, dagster dev
            command = [platform.command("gn-pipelines"), "dev", "--host", "127.0.0.1", "--port", str(self.port)]
            env = {k: v for k, v in platform.env.items() if k != SETTLE_SECONDS_ENV}
        else:
            command = [platform.command("dagster"), "dev", "-m", "gn_pipelines.definitions", *address]
            env = platform.env | {SETTLE_SECONDS_ENV: "1"}
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self, what: str, condition):
        """Poll `condition` until it returns something truthy; fail past the deadline."""
        while True:
            assert self.process.poll() is None, f"dagster dev exited ({self.process.returncode}) " \
                                                f"while waiting for {what}\n{self.log_tail()}"
            result = condition()
            if result:
                print(f"{what}: after {time.monotonic() - self.started:.1f} s")
                return result
            assert time.monotonic() < self.deadline, f"timed out waiting for {what}\n{self.log_tail()}"
            time.sleep(POLL_SECONDS)

    def serving(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/server_info", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def graphql(self, query: str) -> dict:
        """The webserver's answer to a GraphQL query (what the UI asks it)."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/graphql", method="POST",
                                         data=json.dumps({"query": query}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["data"]

    def stop(self) -> None:
        """SIGTERM to the group, then SIGKILL whatever of it is left after a grace period."""
        group = self.process.pid
        try:
            os.killpg(group, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        grace = time.monotonic() + 10
        while time.monotonic() < grace:
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        os.killpg(group, signal.SIGKILL)
        self.process.wait(timeout=10)

    def log_tail(self, characters: int = 6000) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return f"--- dagster dev log (last {characters} characters)\n{text[-characters:]}"


def settled_runs(instance, source_files: set[str]) -> dict | None:
    """The landing sensor's runs by source file once those of `source_files` (and the
    warehouse set-up) all finished; None while any is missing or unfinished."""
    runs = [record.dagster_run for record in Platform.landing_runs(instance)]
    # a run stopped by a blocking check is not a failure here; a small upload (2 good rows, 1
    # of another 시군) is such a drop
    failed = [run for run in runs if run.is_finished and not run.is_success
              and run.tags.get("gn/source_file") != f"48740/civil_complaints/{UPLOAD_NAME}"]
    assert not failed, "runs did not succeed: " + ", ".join(
        f"{run.job_name} {run.tags.get('gn/source_file', '')} {run.status.value} ({run.run_id})" for run in failed)
    by_file = {run.tags.get("gn/source_file"): run for run in runs}
    if not source_files | {None} <= set(by_file) or not all(run.is_finished for run in runs):
        return None
    return by_file


@pytest.mark.e2e
@pytest.mark.timeout(DEADLINE_SECONDS + 60)
def test_dagster_dev_collects_drops_from_the_landing_zone(platform, tmp_path):
    landing = platform.zones.landing
    # 40 good rows and one of another 시군: under the 5 % limit, so the drop goes on
    complaints, welfare, stray = complaints_48740(valid_rows=40), welfare_48170_cp949(), misplaced()
    uploading = complaints_48740(UPLOAD_NAME, valid_rows=2, first_receipt=101)
    upload_path = f"{uploading.relative}.part"

    dev = DagsterDev(platform, tmp_path / "dagster_dev.log", cwd=tmp_path)
    try:
        dev.wait("the webserver", dev.serving)
        # the unfinished upload lands first: any tick that sees the others has seen it too
        deliver(landing, upload_path, uploading.content, outgoing=platform.outgoing)
        for drop in (complaints, welfare, stray):
            deliver(landing, drop.relative, drop.content, outgoing=platform.outgoing)

        with platform.instance() as instance:
            expected = {complaints.relative, welfare.relative, stray.relative}
            by_file = dev.wait("the runs of the dropped files", lambda: settled_runs(instance, expected))
        assert by_file[None].job_name == "setup_restricted_warehouse"
        assert by_file[complaints.relative].tags["gn/provider"] == "48740"
        assert by_file[welfare.relative].tags["gn/provider"] == "48170"
        assert by_file[stray.relative].job_name == "record_landing_rejection"
        assert len(by_file) == 4, sorted(map(str, by_file))  # nothing for the upload in progress

        assert platform.row_counts(
            "collected_civil_complaints", "collected_welfare_recipients", "rejected_rows") == {
            "collected_civil_complaints": 40, "collected_welfare_recipients": 4, "rejected_rows": 1}
        with platform.restricted_warehouse() as warehouse:
            assert warehouse.execute(
                "SELECT DISTINCT provider_code, source_file FROM collected_civil_complaints").fetchall() == [
                ("48740", complaints.relative)]
            assert warehouse.execute("SELECT source_file, reason FROM rejected_rows").fetchall() == [
                (complaints.relative, OTHER_PROVIDER_REASON)]
            rejections = warehouse.execute("SELECT source_file, reason FROM drop_rejections").fetchall()
            assert len(rejections) == 1 and rejections[0][0] == stray.relative, rejections
            assert rejections[0][1].startswith(MISPLACED_REASON), rejections
        # the upload under its temporary name was seen, but neither archived nor collected
        upload_sha256 = hashlib.sha256(uploading.content).hexdigest()
        assert (landing / upload_path).is_file()
        assert not list(platform.zones.archive.rglob(f"{upload_sha256}*"))

        # the provider renames the finished upload: the next tick collects it
        os.replace(landing / upload_path, landing / uploading.relative)
        with platform.instance() as instance:
            by_file = dev.wait("the run of the renamed upload",
                               lambda: settled_runs(instance, expected | {uploading.relative}))
        # its own batch (the others of its month were loaded): keyed by the file's bytes
        renamed_run = by_file[uploading.relative]
        assert renamed_run.tags[RUN_KEY_TAG].startswith("batch:civil_complaints:"), renamed_run.tags
        assert renamed_run.tags["gn/content_sha256"] == upload_sha256, renamed_run.tags
        assert platform.row_counts("collected_civil_complaints", "rejected_rows") == {
            "collected_civil_complaints": 40 + 2, "rejected_rows": 1 + 1}
    finally:
        dev.stop()
        print(dev.log_tail())


# A remote asset in a page: a stylesheet, script or image from the network, or a CSS url(...)
REMOTE_ASSET = re.compile(r"""<(?:link|script|img)\b[^>]*\b(?:href|src)=["']https?://|url\(\s*["']?https?://""", re.I)
RELATIVE_LINK = re.compile(r"""\b(?:href|src)=["'](?!https?:|mailto:|#|data:|file:)([^"'#?]+)""", re.I)
DEFECT_NOISE = ("DagsterAssetCheckFailedError", "STEP_FAILURE", "RUN_FAILURE", "Traceback", "Stack Trace")
UI_LINE = "Dagster UI on http"
DAGSTER_ERROR = re.compile(r"ERROR(?:\x1b\[0m)? - ")  # a Dagster log line at ERROR, coloured or not


def descendants(pid: int) -> set[int]:
    """Every process under `pid` (children, grandchildren, ...), from /proc."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended while we looked
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    living = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            living.add(pid)
    return living


def html_problems(root: Path) -> list[str]:
    """Every remote asset and dead relative link in the HTML pages under `root`."""
    problems = []
    for page in root.rglob("*.html"):
        text = page.read_text(encoding="utf-8", errors="replace")
        problems += [f"{page}: remote asset {m.group(0)[:80]}" for m in REMOTE_ASSET.finditer(text)]
        problems += [f"{page}: dead link {link}" for link in RELATIVE_LINK.findall(text)
                     if not (page.parent / link).exists()]
    return problems


# The sample (18 files, 17 runs and the publication) took 3.5-5 min beside other suites on the
# 2-core machine at a load average of 15-20.
DEV_DEADLINE_SECONDS = 420


@pytest.mark.e2e
@pytest.mark.timeout(DEV_DEADLINE_SECONDS + 60)
def test_gn_pipelines_dev_serves_the_ui_with_sample_drops_collected(platform, tmp_path):
    """The README's first command, on an empty data root (default settle time): the sample is
    processed before the UI comes up, its planted defects are outcomes (no ERROR, no trace), the
    pages work offline, and SIGTERM stops every process it started."""
    dev = DagsterDev(platform, tmp_path / "gn_pipelines_dev.log", cwd=tmp_path, via_gn_pipelines=True,
                     deadline_seconds=DEV_DEADLINE_SECONDS)
    try:
        dev.wait("the webserver", dev.serving)
        console = dev.log_path.read_text(encoding="utf-8", errors="replace")
        before_ui = console.split(UI_LINE, 1)[0]
        assert UI_LINE in console, dev.log_tail()
        # the planted defects are reported as outcomes: one line each, no Dagster ERROR or trace
        assert "QUARANTINED WHOLE" in before_ui and "rejected: unknown file type '.hwp'" in before_ui
        assert not DAGSTER_ERROR.search(before_ui), before_ui
        assert not [noise for noise in DEFECT_NOISE if noise in console], dev.log_tail()
        assert "Warning:" not in console, dev.log_tail()  # e.g. `dagster dev` superseded by `dg dev`
        # no first-visit dialog asking for an e-mail address for dagster.io (the generated dagster.yaml)
        assert dev.graphql("{ shouldShowNux }") == {"shouldShowNux": False}

        landed = sorted(p for p in platform.zones.landing.rglob("*") if p.is_file())
        assert 15 <= len(landed) <= 30  # sized so that this test stays within CI's time
        with platform.restricted_warehouse() as warehouse:
            status = dict(warehouse.execute(
                "SELECT status, count(*) FROM drop_status GROUP BY 1").fetchall())
            quarantined = warehouse.execute(
                "SELECT source_file, reason FROM drop_status WHERE status = 'quarantined'").fetchall()
            collected = warehouse.execute("SELECT count(*) FROM collected_civil_complaints").fetchall()[0][0]
            null_months = warehouse.execute(
                "SELECT count(*) FROM provider_scorecard WHERE month IS NULL").fetchall()[0][0]
        assert status["collected"] >= 15 and status.get("rejected", 0) >= 2, status  # the sample's defects
        assert len(quarantined) == 1 and "limit 5%" in quarantined[0][1], quarantined
        assert sum(status.values()) == len(landed)  # every sample file was handled before the UI came up
        assert collected > 500 and null_months == 0
        with platform.instance() as instance:
            runs = [r.dagster_run for r in Platform.landing_runs(instance)]
            freshness = {key.name: record for key, record in
                         instance.event_log_storage.get_latest_asset_check_execution_by_key(_freshness_keys()).items()}
            evaluations = _check_evaluations(instance, "validated_civil_complaints", "bad_row_share")
        # every run succeeded, except those of drops stopped by a blocking check (a data outcome)
        assert runs and all(run.is_success or run.tags.get("gn/outcome") == "quarantined" for run in runs)
        # the quarantined file stopped alone: its batch went on with the month's other files
        # each check result belongs to its batch (the delivery month, a partition) and names the
        # file it stopped
        assert evaluations and all(re.fullmatch(r"\d{4}-\d{2}", e.partition or "") for e in evaluations), evaluations
        failed = [e for e in evaluations if not e.passed]
        assert len(failed) == 1 and quarantined[0][0] in failed[0].description, failed
        assert quarantined[0][0] in failed[0].metadata["failed_files"].value
        # fresh, except the planted late provider
        verdicts = {name: _evaluation(record) for name, record in freshness.items()}
        assert not verdicts["civil_complaints_providers_fresh"].passed
        assert set(verdicts["civil_complaints_providers_fresh"].metadata["late_providers"].value) == {"48250"}
        assert verdicts["welfare_recipients_providers_fresh"].passed, verdicts
        assert verdicts["water_quality_providers_fresh"].passed, verdicts
        # and everything was published before the UI came up
        with duckdb.connect(str(platform.zones.published_db), read_only=True) as published:
            tables = {r[0] for r in published.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
            complaints = published.execute("SELECT count(*) FROM civil_complaints").fetchall()[0][0]
            namji_years = published.execute(
                "SELECT count(DISTINCT year) FROM nakdong_namji_target WHERE bod_mean_mg_l IS NOT NULL").fetchall()[0][0]
        assert len(tables) == len(PUBLISHED_KEYS) + 1 and complaints > 100  # and data_catalog
        assert namji_years >= 4  # several years of 남지 against its target
        assert (platform.zones.open_data / "index.html").is_file()
        assert (platform.zones.open_data / "nakdong_namji_bod_tp.png").is_file()
        assert not html_problems(platform.zones.root), html_problems(platform.zones.root)[:10]
        # one timezone in everything people read: pages, records, registers, file names
        assert not utc_times(platform.zones.root), utc_times(platform.zones.root)[:10]

        # SIGTERM to the command alone (as a service manager sends it) ends everything it started
        started = descendants(dev.process.pid) | {dev.process.pid}
        assert len(started) >= 4, started  # dagster dev, webserver, daemon, code server(s)
        os.kill(dev.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while alive(started) and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
        assert not alive(started), f"still running 10 s after SIGTERM: {sorted(alive(started))}"
    finally:
        dev.stop()
        print(dev.log_tail())


def _freshness_keys():
    import dagster as dg

    return [dg.AssetCheckKey(dg.AssetKey("provider_scorecard"), f"{dataset}_providers_fresh")
            for dataset in ("civil_complaints", "welfare_recipients", "water_quality")]


def _evaluation(record):
    return record.event.dagster_event.event_specific_data


def _check_evaluations(instance, asset: str, check: str) -> list:
    import dagster as dg

    key = dg.AssetCheckKey(dg.AssetKey(asset), check)
    records = instance.event_log_storage.get_asset_check_execution_history(key, limit=100)
    return [_evaluation(r) for r in records if r.event and r.event.dagster_event
            and r.event.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"]
