"""The landing state in a database table and the sensor's compact cursor (a real SQLite file)."""

import json
import os
import time

import pytest
import sqlalchemy as sa

from gn_pipelines.ingest import planning
from gn_pipelines.ingest.landing_state import LandingStateStore, dump_cursor, load_cursor, plan_with_state
from gn_pipelines.ingest.planning import KnownFile
from gn_pipelines_tests.drops import csv_bytes, drop, sample_rows

COMPLAINTS = csv_bytes(sample_rows("civil_complaints", 2))
OLD = time.time() - 400 * 86400  # as `cp -p` or `rsync -t` keep it: older than anything landed


@pytest.fixture
def store(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'instance.db'}")
    yield LandingStateStore(engine.begin)
    engine.dispose()


@pytest.fixture
def hashes(monkeypatch):
    """Count content reads by wrapping the real hash function (a spy, not a mock)."""
    calls = []
    real = planning.content_sha256
    monkeypatch.setattr(planning, "content_sha256", lambda path: calls.append(path) or real(path))
    return calls


def tick(zones, store, cursor=None, **options):
    """One sensor pass; returns the plan and the cursor text the sensor would store."""
    plan, scan, extra = plan_with_state(zones.landing, store, cursor, options.pop("settle_seconds", 0), **options)
    return plan, dump_cursor(scan, **extra)


def planned(plan) -> list[str]:
    return sorted([c.relative for c in plan.collections] + [r.relative for r in plan.rejections])


def test_a_quiet_tick_reads_no_contents_and_asks_the_table_about_nothing(zones, store, hashes, monkeypatch):
    for day in range(1, 4):
        drop(zones.landing, f"48740/civil_complaints/2025-03-0{day}.csv", COMPLAINTS + bytes([day]))
    first, cursor = tick(zones, store)
    assert len(first.collections) == 3 and len(hashes) == 3
    asked = []
    monkeypatch.setattr(store, "known", lambda relatives: asked.extend(relatives) or {})
    monkeypatch.setattr(store, "everything", lambda: pytest.fail("a quiet tick reads the whole table"))
    second, again = tick(zones, store, cursor)
    assert (second.collections, second.unchanged, asked, len(hashes)) == ([], 3, [], 3)
    assert again == cursor and len(cursor) < 300


def test_new_file_above_the_mark_is_looked_up_and_planned(zones, store, hashes):
    drop(zones.landing, "48740/civil_complaints/a.csv", COMPLAINTS, mtime=time.time() - 10)
    _, cursor = tick(zones, store)
    drop(zones.landing, "48740/civil_complaints/b.csv", COMPLAINTS + b"\n", mtime=time.time() - 5)
    plan, _ = tick(zones, store, cursor)
    assert planned(plan) == ["48740/civil_complaints/b.csv"] and len(hashes) == 2
    assert set(store.everything()) == {"48740/civil_complaints/a.csv", "48740/civil_complaints/b.csv"}


def test_file_copied_with_an_old_mtime_is_not_missed(zones, store):
    drop(zones.landing, "48740/civil_complaints/a.csv", COMPLAINTS)
    _, cursor = tick(zones, store)
    drop(zones.landing, "48740/civil_complaints/restored.csv", COMPLAINTS + b"\n", mtime=OLD)
    plan, _ = tick(zones, store, cursor)
    assert planned(plan) == ["48740/civil_complaints/restored.csv"]


def test_a_copy_of_an_earlier_delivery_is_a_duplicate_on_the_quick_path(zones, store, monkeypatch):
    drop(zones.landing, "48740/civil_complaints/a.csv", COMPLAINTS, mtime=time.time() - 10)
    _, cursor = tick(zones, store)
    drop(zones.landing, "48740/civil_complaints/copy of a.csv", COMPLAINTS, mtime=time.time() - 5)
    monkeypatch.setattr(store, "everything", lambda: pytest.fail("the quick path reads the whole table"))
    plan, _ = tick(zones, store, cursor)
    assert plan.duplicates == [("48740/civil_complaints/copy of a.csv", "48740/civil_complaints/a.csv")]
    assert not plan.collections


def test_removed_file_is_forgotten_and_planned_again_if_it_returns(zones, store):
    path = drop(zones.landing, "48740/civil_complaints/a.csv", COMPLAINTS)
    kept = drop(zones.landing, "48740/civil_complaints/b.csv", COMPLAINTS + b"\n")
    _, cursor = tick(zones, store)
    stat = path.stat()
    path.unlink()
    plan, cursor = tick(zones, store, cursor)
    assert not planned(plan) and set(store.everything()) == {"48740/civil_complaints/b.csv"}
    drop(zones.landing, "48740/civil_complaints/a.csv", COMPLAINTS, mtime=stat.st_mtime)
    plan, _ = tick(zones, store, cursor)
    assert planned(plan) == ["48740/civil_complaints/a.csv"] and kept.exists()


def test_waiting_files_are_remembered_until_they_settle(zones, store):
    drop(zones.landing, "48740/civil_complaints/a.csv", COMPLAINTS, mtime=OLD)
    part = drop(zones.landing, "48740/civil_complaints/b.csv.part", b"half", mtime=OLD)
    (zones.landing / "48740/civil_complaints/c.csv").write_bytes(COMPLAINTS + b"\n")  # just written
    first, cursor = tick(zones, store, settle_seconds=30)
    assert planned(first) == ["48740/civil_complaints/a.csv"]
    assert json.loads(cursor)["scan"]["waiting"] == ["48740/civil_complaints/b.csv.part", "48740/civil_complaints/c.csv"]
    part.rename(part.with_name("b.csv"))  # renamed: the same old mtime, below the mark
    later, _ = tick(zones, store, cursor, settle_seconds=30, now=time.time() + 60)
    assert planned(later) == ["48740/civil_complaints/b.csv", "48740/civil_complaints/c.csv"]


def test_too_many_waiting_names_make_the_next_tick_reconcile_in_full(zones, store):
    for number in range(60):
        drop(zones.landing, f"48740/civil_complaints/upload-{number:03d}-of-a-long-name.csv.part", b"x")
    _, cursor = tick(zones, store)
    assert len(cursor) < 200 and json.loads(cursor)["scan"] is None
    plan, _ = tick(zones, store, cursor)
    assert len(plan.waiting) == 60 and not planned(plan)


def test_without_a_cursor_unfinished_files_are_planned_again_unread(zones, store, hashes):
    """`gn-pipelines process` plans without a cursor: what did not finish is done again, and
    nothing is hashed twice."""
    drop(zones.landing, "48740/civil_complaints/a.csv", COMPLAINTS)
    drop(zones.landing, "48740/civil_complaints/b.csv", COMPLAINTS + b"\n")
    first, _ = tick(zones, store)
    second, _ = tick(zones, store)
    assert planned(second) == planned(first) and len(hashes) == 2
    store.mark_done(["48740/civil_complaints/a.csv"])
    third, _ = tick(zones, store)
    assert planned(third) == ["48740/civil_complaints/b.csv"] and len(hashes) == 2


def test_a_copy_planned_again_does_not_steal_the_delivery(zones, store):
    """The first name's run failed, its copy was recorded as a duplicate: planned again, the
    earliest name is still the delivery and the copy still the duplicate."""
    drop(zones.landing, "48740/civil_complaints/a.csv", COMPLAINTS, mtime=OLD)
    drop(zones.landing, "48740/civil_complaints/copy.csv", COMPLAINTS, mtime=OLD + 60)
    first, _ = tick(zones, store)
    store.mark_done(["48740/civil_complaints/copy.csv"])  # its duplicate record succeeded
    again, _ = tick(zones, store)
    assert [c.relative for c in again.collections] == ["48740/civil_complaints/a.csv"]
    assert again.duplicates == first.duplicates == [("48740/civil_complaints/copy.csv", "48740/civil_complaints/a.csv")]


def test_a_version_1_cursor_is_adopted_without_reading_files_again(zones, store, hashes):
    path = drop(zones.landing, "48740/civil_complaints/a.csv", COMPLAINTS)
    stat = path.stat()
    old_cursor = json.dumps({"version": 1, "warehouse": "v", "files": {
        "48740/civil_complaints/a.csv": [stat.st_size, stat.st_mtime_ns, "f" * 64]}})
    plan, cursor = tick(zones, store, old_cursor)
    assert (planned(plan), len(hashes)) == ([], 0)
    assert store.known(["48740/civil_complaints/a.csv"])["48740/civil_complaints/a.csv"].sha256 == "f" * 64
    assert json.loads(cursor)["warehouse"] == "v" and "files" not in cursor


def test_unreadable_cursor_starts_afresh():
    assert load_cursor("not json") == (None, {}, {})
    assert load_cursor(None) == (None, {}, {})


def test_lookups_and_writes_pass_the_sqlite_variable_limit(store):
    """SQLite binds at most 32,766 variables per statement: every query is chunked."""
    state = {f"48740/civil_complaints/{number:06d}.csv": KnownFile(1, number, f"{number:064x}")
             for number in range(40_000)}
    store.record(state)
    assert store.known(state) == state
    assert len(store.holding({entry.sha256 for entry in state.values()})) == 40_000
    store.mark_done(state)
    assert all(entry.done for entry in store.everything().values())
    store.forget(state)
    assert store.everything() == {}


def test_scanning_skips_hidden_entries_and_refuses_links(zones, store):
    drop(zones.landing, "48740/civil_complaints/a.csv", COMPLAINTS)
    (zones.landing / "48740/civil_complaints/.a.csv.swp").write_bytes(b"editor")
    os.symlink(zones.landing / "48740/civil_complaints/a.csv", zones.landing / "48740/civil_complaints/link.csv")
    plan, _ = tick(zones, store)
    [refused] = [r for r in plan.rejections if not r.archive]
    assert refused.relative == "48740/civil_complaints/link.csv" and "symbolic link" in refused.reason
    assert [c.relative for c in plan.collections] == ["48740/civil_complaints/a.csv"]
