"""The landing sensor's logic: what is collected, rejected, or left for a later tick."""

import os
import time

import pytest

from gn_pipelines.ingest import planning
from gn_pipelines.ingest.archive import archive_file
from gn_pipelines.ingest.planning import plan_landing
from gn_pipelines_tests.drops import csv_bytes, drop, sample_rows

COMPLAINTS = csv_bytes(sample_rows("civil_complaints", 2))


@pytest.fixture
def counted_hashes(monkeypatch):
    """Count content reads by wrapping the real hash function (a spy, not a mock)."""
    calls = []
    real = planning.content_sha256

    def counting(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(planning, "content_sha256", counting)
    return calls


def test_complete_files_are_planned_by_content(zones):
    drop(zones.landing, "48740/civil_complaints/2025-03-01.csv", COMPLAINTS)
    plan = plan_landing(zones.landing, {}, settle_seconds=0)
    [planned] = plan.collections
    assert (planned.provider_code, planned.dataset, planned.file_name) == (
        "48740", "civil_complaints", "2025-03-01.csv")
    assert len(planned.sha256) == 64 and not plan.rejections


def test_temporary_names_and_unsettled_files_wait(zones):
    landing = zones.landing
    (landing / "48740/civil_complaints").mkdir(parents=True)
    (landing / "48740/civil_complaints/a.csv.part").write_bytes(COMPLAINTS)
    (landing / "48740/civil_complaints/b.csv.crdownload").write_bytes(COMPLAINTS)
    (landing / "48740/civil_complaints/c.csv").write_bytes(COMPLAINTS)  # just written
    plan = plan_landing(landing, {}, settle_seconds=30)
    assert not plan.collections and len(plan.waiting) == 3
    later = plan_landing(landing, plan.state, settle_seconds=30, now=time.time() + 60)
    assert [p.file_name for p in later.collections] == ["c.csv"]


def test_a_file_modified_in_the_future_says_so_and_waits_until_then(zones):
    path = drop(zones.landing, "48740/civil_complaints/a.csv", COMPLAINTS)
    three_hours_ahead = time.time() + 3 * 3600
    os.utime(path, (three_hours_ahead, three_hours_ahead))
    plan = plan_landing(zones.landing, {}, settle_seconds=5)
    [(relative, reason)] = plan.waiting
    assert relative == "48740/civil_complaints/a.csv" and not plan.collections
    assert reason.startswith("modified 3.0 h in the future by this machine's clock") and "5 s more" in reason
    assert not plan_landing(zones.landing, plan.state, settle_seconds=5, now=three_hours_ahead + 1).collections
    later = plan_landing(zones.landing, plan.state, settle_seconds=5, now=three_hours_ahead + 6)
    assert [p.file_name for p in later.collections] == ["a.csv"]


def test_nothing_new_reads_no_file_contents(zones, counted_hashes):
    drop(zones.landing, "48740/civil_complaints/a.csv", COMPLAINTS)
    first = plan_landing(zones.landing, {}, settle_seconds=0)
    assert len(counted_hashes) == 1 and set(first.recorded) == {"48740/civil_complaints/a.csv"}
    second = plan_landing(zones.landing, first.recorded, settle_seconds=0)
    assert len(counted_hashes) == 1 and second.unchanged == 1 and not second.collections
    assert not second.recorded  # nothing new to store


def test_touched_file_with_same_bytes_is_not_collected_again(zones):
    path = drop(zones.landing, "48740/civil_complaints/a.csv", COMPLAINTS)
    first = plan_landing(zones.landing, {}, settle_seconds=0)
    os.utime(path, (time.time() - 5, time.time() - 5))
    second = plan_landing(zones.landing, first.state, settle_seconds=0)
    assert not second.collections and second.hashed == 1


def test_corrected_file_is_planned_again_under_the_same_partition(zones):
    drop(zones.landing, "48740/civil_complaints/a.csv", COMPLAINTS)
    first = plan_landing(zones.landing, {}, settle_seconds=0)
    drop(zones.landing, "48740/civil_complaints/a.csv", csv_bytes(sample_rows("civil_complaints", 3)),
         mtime=time.time() - 1)
    second = plan_landing(zones.landing, first.state, settle_seconds=0)
    [again] = second.collections
    assert (again.provider_code, again.file_name) == (first.collections[0].provider_code, "a.csv")
    assert again.sha256 != first.collections[0].sha256


def test_same_bytes_under_two_names_are_planned_once(zones):
    drop(zones.landing, "48740/civil_complaints/a.csv", COMPLAINTS)
    drop(zones.landing, "48740/civil_complaints/copy-of-a.csv", COMPLAINTS)
    plan = plan_landing(zones.landing, {}, settle_seconds=0)
    assert len(plan.collections) == 1 and len(plan.duplicates) == 1


@pytest.mark.parametrize(("relative", "reason"), [
    ("99999/civil_complaints/a.csv", "unknown provider folder '99999'"),
    ("48740/parking/a.csv", "unknown dataset folder 'parking'"),
    ("48740/civil_complaints/a.pdf", "unknown file type '.pdf'"),
    ("48740/civil_complaints/README", "unknown file type '(no extension)'"),
    ("48740/a.csv", "misplaced"),
    ("48740/civil_complaints/deep/a.csv", "misplaced"),
    ("48740/civil_complaints/민원[수정].csv", "file names may not contain '[', ']'"),
    ("48000/civil_complaints/a.csv", "provider 48000 does not deliver civil_complaints"),
    ("48170/water_quality/a.csv", "provider 48170 does not deliver water_quality"),
])
def test_misplaced_and_unknown_files_are_rejections(zones, relative, reason):
    drop(zones.landing, relative, COMPLAINTS)
    plan = plan_landing(zones.landing, {}, settle_seconds=0)
    [rejection] = plan.rejections
    assert rejection.relative == relative and reason in rejection.reason
    assert not plan.collections


def test_empty_file_is_a_rejection(zones):
    drop(zones.landing, "48740/civil_complaints/a.csv", b"")
    [rejection] = plan_landing(zones.landing, {}, settle_seconds=0).rejections
    assert "empty" in rejection.reason


def test_archive_is_content_addressed_and_read_only(zones, tmp_path):
    source = tmp_path / "a.csv"
    source.write_bytes(COMPLAINTS)
    sha, archived = archive_file(source, zones.archive)
    again_sha, again = archive_file(source, zones.archive)
    assert (sha, archived) == (again_sha, again) and archived.read_bytes() == COMPLAINTS
    assert archived.name == f"{sha}.csv" and not os.stat(archived).st_mode & 0o222
    assert not list(zones.archive.glob(".incoming-*"))
