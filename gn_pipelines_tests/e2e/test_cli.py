"""The commands a data engineer types: `dagster definitions validate`, importing the code
location, and `gn-pipelines process` on a landing zone of hand-made drops."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from gn_pipelines.assets.publication import PUBLISHED_KEYS
from gn_pipelines.sensors import RUN_KEY_TAG
from gn_pipelines.settings import PSEUDONYM_KEY_ENV
from gn_pipelines_tests.e2e.conftest import Platform
from gn_pipelines_tests.e2e.drops import (
    MISPLACED_REASON,
    OTHER_PROVIDER_REASON,
    SampleDrop,
    complaints_48740,
    deliver,
    misplaced,
    welfare_48170_cp949,
)

pytestmark = pytest.mark.e2e

COMMAND_TIMEOUT = 120


def run(platform: Platform, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=platform.env, cwd=cwd, capture_output=True, text=True,
                          timeout=COMMAND_TIMEOUT)


def explain(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr[-4000:]}"


def test_definitions_validate(platform, tmp_path):
    result = run(platform, platform.command("dagster"), "definitions", "validate",
                 "-m", "gn_pipelines.definitions", cwd=tmp_path)
    assert result.returncode == 0, explain(result)


# What keeps the code location loading in about a second: none of these is imported at load
# (bench/bench_load.py measures the seconds; a test of wall-clock time would only be flaky).
IMPORTED_ONLY_BY_STEPS = ("great_expectations", "pandas", "pyarrow", "numpy", "faker", "matplotlib",
                          "openpyxl", "python_calamine", "charset_normalizer")


def test_code_location_imports_no_heavy_library(platform, tmp_path):
    probe = ("import sys, gn_pipelines.definitions; "
             f"print(','.join(m for m in {IMPORTED_ONLY_BY_STEPS!r} if m in sys.modules))")
    result = run(platform, sys.executable, "-c", probe, cwd=tmp_path)
    assert result.returncode == 0, explain(result)
    assert result.stdout.strip() == "", f"imported at load: {result.stdout.strip()}"


def test_process_exit_status_and_output_survive_the_quick_exit(tmp_path):
    """`gn-pipelines process` ends without the interpreter's teardown (cli.console): its status
    is still its outcome's, and everything it printed reaches a pipe."""
    platform = Platform.under(tmp_path)
    usage = run(platform, platform.command("gn-pipelines"), "process", "--no-such-option", cwd=tmp_path)
    assert usage.returncode == 2 and "usage:" in usage.stderr, explain(usage)

    drop = welfare_48170_cp949()
    deliver(platform.zones.landing, drop.relative, drop.content, outgoing=platform.outgoing)
    without_key = dict(platform.env)
    del without_key[PSEUDONYM_KEY_ENV]  # collection runs; de-identification refuses: a failed run
    failed = subprocess.run([platform.command("gn-pipelines"), "process"], env=without_key, cwd=tmp_path,
                            capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    assert failed.returncode == 1, explain(failed)
    assert f"{drop.relative}: " in failed.stdout and failed.stdout.splitlines()[-1].endswith("1 failed"), \
        explain(failed)


@dataclass(frozen=True)
class Processed:
    platform: Platform
    drops: dict[str, SampleDrop]  # by landing path
    temporary: str  # a landing path still under its upload name
    first: subprocess.CompletedProcess
    second: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> Processed:
    """`gn-pipelines process`, twice, over two providers' drops, a misplaced file and an upload
    still under its temporary name."""
    root = tmp_path_factory.mktemp("process")
    platform = Platform.under(root)
    drops = [complaints_48740(), welfare_48170_cp949(), misplaced()]
    for drop in drops:
        deliver(platform.zones.landing, drop.relative, drop.content, outgoing=platform.outgoing)
    uploading = complaints_48740("20250302.csv.part", first_receipt=101)
    deliver(platform.zones.landing, uploading.relative, uploading.content, outgoing=platform.outgoing)
    process = (platform.command("gn-pipelines"), "process")
    first = run(platform, *process, cwd=root)
    second = run(platform, *process, cwd=root)
    return Processed(platform, {d.relative: d for d in drops}, uploading.relative, first, second)


def test_process_prints_one_line_per_file(processed):
    result = processed.first
    assert result.returncode == 0, explain(result)
    lines = result.stdout.splitlines()
    complaints, welfare, stray = processed.drops.values()
    expected = {
        # one row of four is another provider's: 25 % bad, so the drop is quarantined whole
        complaints.relative: f"{complaints.relative}: 3 rows accepted, 1 rows rejected "
                             "(other_provider_code:sigungu_code ×1); QUARANTINED WHOLE (25.0% of the "
                             "delivered rows are bad (limit 5%)",
        welfare.relative: f"{welfare.relative}: 4 rows accepted, 0 rows rejected; 4 rows passed, "
                          "0 quarantined; failed checks: none",
        stray.relative: f"{stray.relative}: rejected: {MISPLACED_REASON}",
    }
    for relative, line in expected.items():
        printed = [printed for printed in lines if printed.startswith(f"{relative}: ")]
        assert len(printed) == 1, explain(result)
        assert printed[0].startswith(line), explain(result)
    assert not any(processed.temporary in line for line in lines), explain(result)
    # the quarantined drop is an outcome: its line links its report, and nothing is logged as an error
    quarantined = next(line for line in lines if line.startswith(f"{complaints.relative}: "))
    assert "; report: file://" in quarantined and quarantined.endswith(".html"), explain(result)
    assert "ERROR" not in result.stderr and "DagsterAssetCheckFailedError" not in result.stderr, explain(result)
    # the publication: one per declared table, whatever datasets exist
    assert lines[-2].startswith(f"publish_all: {len(PUBLISHED_KEYS)} tables and data_catalog published"), explain(result)
    # the set-up run, a batch run per dataset and month (one file each here), the stray file's
    # rejection and the publication; the quarantined drop's run is a data verdict: reported, not
    # counted as a failure
    assert lines[-1] == "3 file(s) in 5 run(s), 0 failed, 1 stopped by a blocking check", explain(result)
    with duckdb.connect(str(processed.platform.zones.published_db), read_only=True) as published:
        tables = {r[0] for r in published.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        recipients = published.execute("SELECT count(*) FROM welfare_recipients").fetchall()[0][0]
    # every declared table and the catalog; four recipients can not make a class of five
    assert len(tables) == len(PUBLISHED_KEYS) + 1 and recipients == 0

    counts = processed.platform.row_counts(
        "collected_civil_complaints", "collected_welfare_recipients", "rejected_rows", "drop_rejections")
    assert counts == {"collected_civil_complaints": 3, "collected_welfare_recipients": 4,
                      "rejected_rows": 1, "drop_rejections": 1}
    with processed.platform.restricted_warehouse() as warehouse:
        assert warehouse.execute("SELECT source_file, reason FROM rejected_rows").fetchall() == [
            (complaints.relative, OTHER_PROVIDER_REASON)]


def test_second_process_loads_nothing_again(processed):
    result = processed.second
    assert result.returncode == 0, explain(result)
    lines = result.stdout.splitlines()
    assert "already loaded" in result.stdout, explain(result)
    assert not any("rows accepted" in line or ": rejected: " in line for line in lines), explain(result)
    assert lines[-1] == "0 file(s) in 0 run(s), 0 failed", explain(result)
    counts = processed.platform.row_counts("collected_civil_complaints", "collected_welfare_recipients",
                                           "rejected_rows")
    assert counts == {"collected_civil_complaints": 3, "collected_welfare_recipients": 4,
                      "rejected_rows": 1}


def test_process_records_runs_in_the_dagster_instance(processed):
    assert processed.first.returncode == 0, explain(processed.first)
    with processed.platform.instance() as instance:
        records = Platform.landing_runs(instance)
    runs = [record.dagster_run for record in records]
    by_file = {run.tags.get("gn/source_file"): run for run in runs}
    complaints = next(relative for relative in processed.drops if "civil_complaints" in relative)
    # every run succeeded but the quarantined drop's, stopped by its blocking check
    assert all(run.is_success for relative, run in by_file.items() if relative != complaints)
    assert by_file[complaints].tags["gn/outcome"] == "quarantined"
    # one run per file here (each dataset × month has one file), plus the warehouse set-up (no
    # source file); none for the second call
    assert len(runs) == 4 and set(by_file) == {None, *processed.drops}, sorted(map(str, by_file))
    assert by_file[None].job_name == "setup_restricted_warehouse"
    for relative, drop in processed.drops.items():
        sha256 = hashlib.sha256(drop.content).hexdigest()
        run = by_file[relative]
        if relative.startswith("99999/"):
            assert run.job_name == "record_landing_rejection"
            assert run.tags[RUN_KEY_TAG] == f"rejected:{relative}:{sha256}"
            assert "gn/provider" not in run.tags
        else:
            # a batch of one file: keyed by its content and provider folder, partitioned by month
            from gn_pipelines.ingest.batch import BatchFile, batch_run_key

            dataset, month = relative.split("/")[1], run.tags["gn/month"]
            assert run.tags[RUN_KEY_TAG] == batch_run_key(dataset, month, [BatchFile(relative, sha256, drop.provider_code)])
            assert run.tags["gn/provider"] == drop.provider_code and run.tags["dagster/partition"] == month


def test_extract_command_refuses_and_grants_with_an_audit_trail(processed, tmp_path):
    platform = processed.platform
    cli = platform.command("gn-pipelines")

    def submit(name: str, text: str) -> subprocess.CompletedProcess:
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        return run(platform, cli, "extract", str(path), cwd=tmp_path)

    who = "requester: 연구자\norganisation: 경남연구원\n"
    result = submit("refused", who + "purpose: test\ntable: welfare_recipients\n"
                    "columns: [recipient_key]\ngroup_by: [recipient_key]\nrequest_id: cli-refused\n")
    assert result.returncode == 2 and result.stdout.startswith("cli-refused: refused (recipient_key may not"), \
        explain(result)
    result = submit("granted", who + "purpose: 자료 목록\ntable: data_catalog\n"
                    "columns: [licence]\ngroup_by: [licence]\nrequest_id: cli-granted\n")
    assert result.returncode == 0 and result.stdout.startswith("cli-granted: granted\n"), explain(result)
    # an analyst's shell has no pseudonymisation key, and an extract needs none: no warning about it
    path = tmp_path / "keyless.yaml"
    path.write_text(who + "purpose: 키 없이\ntable: data_catalog\ngroup_by: [licence]\nrequest_id: cli-keyless\n",
                    encoding="utf-8")
    keyless = {k: v for k, v in platform.env.items() if not k.startswith("GN_PSEUDONYM_KEY")}
    result = subprocess.run((cli, "extract", str(path)), env=keyless, cwd=tmp_path, capture_output=True, text=True,
                            timeout=COMMAND_TIMEOUT)
    assert result.returncode == 0 and "GN_PSEUDONYM_KEY" not in result.stderr, explain(result)
    folder = platform.zones.datalab / "cli-granted"
    assert (folder / "extract.csv").is_file() and (folder / "privacy_note.md").is_file()
    # issue 10 item 9: no requester is a refusal with its reason, audited, not a traceback
    result = submit("anonymous", "purpose: 무기명\ntable: data_catalog\ngroup_by: [licence]\nrequest_id: cli-anon\n")
    assert result.returncode == 2 and result.stdout == (
        "cli-anon: refused (missing required field(s): requester, organisation)\n"), explain(result)
    assert "Traceback" not in result.stderr, explain(result)
    result = submit("typo", who.replace("organisation", "organization") + "purpose: 오타\ntable: data_catalog\n"
                    "group_by: [licence]\nrequest_id: cli-typo\n")
    assert result.returncode == 2 and result.stdout == "cli-typo: refused (unknown field(s): organization)\n", \
        explain(result)
    with duckdb.connect(str(platform.zones.datalab / "audit.duckdb"), read_only=True) as audit:
        decisions = dict(audit.execute("SELECT request_id, decision FROM extract_requests").fetchall())
    assert decisions == {"cli-refused": "refused", "cli-granted": "granted", "cli-keyless": "granted",
                         "cli-anon": "refused", "cli-typo": "refused"}


def test_datalab_review_list_destroy_and_ledger_commands(processed, tmp_path):
    platform = processed.platform
    cli = platform.command("gn-pipelines")
    request = tmp_path / "rows.yaml"
    request.write_text("requester: 연구자\norganisation: 경남연구원\npurpose: 수급자 분포\n"
                       "table: welfare_recipients\ncolumns: [reference_month, benefit_type]\n"
                       "period_days: 10\nrequest_id: cli-rows\n", encoding="utf-8")
    result = run(platform, cli, "extract", str(request), cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == "cli-rows: pending review\n", explain(result)
    review = (cli, "datalab", "review", "cli-rows", "--approve", "--note", "목적 적합")
    result = run(platform, *review[:4], "--reviewer", "연구자", *review[4:], cwd=tmp_path)
    assert result.returncode == 3 and "reviewed by someone else" in result.stderr, explain(result)
    assert not (platform.zones.datalab / "cli-rows").exists()
    result = run(platform, *review[:4], "--reviewer", "이심사", *review[4:], cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("cli-rows: granted\n"), explain(result)
    assert (platform.zones.datalab / "cli-rows" / "extract.csv").is_file()
    listed = run(platform, cli, "datalab", "list", cwd=tmp_path)
    row = next(line.split("\t") for line in listed.stdout.splitlines() if line.startswith("cli-rows\t"))
    assert row[1:6] == ["granted", "연구자", "경남연구원", "welfare_recipients", "가명정보"], explain(listed)
    expires_on = row[6]
    result = run(platform, cli, "datalab", "destroy-expired", "--now", expires_on, cwd=tmp_path)
    assert result.returncode == 0 and f"cli-rows: destroyed (period ended {expires_on}" in result.stdout, \
        explain(result)
    assert not (platform.zones.datalab / "cli-rows").exists()
    ledger = tmp_path / "ledger.csv"
    result = run(platform, cli, "datalab", "ledger", "--csv", str(ledger), cwd=tmp_path)
    assert result.returncode == 0, explain(result)
    records = [line for line in ledger.read_text(encoding="utf-8-sig").splitlines() if ",extract,cli-rows," in line]
    assert len(records) == 1 and "이심사,적정" in records[0] and records[0].endswith(f"{expires_on},{expires_on}")
