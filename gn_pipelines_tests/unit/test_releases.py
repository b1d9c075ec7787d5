"""Releases (publish/releases.py): built whole, swapped at once, finished or rolled back after a
crash, kept and rolled back by an operator, and an earlier data root migrated."""

from __future__ import annotations

import json

import duckdb
import pytest

from gn_pipelines.publish import releases
from gn_pipelines.publish.releases import (
    ReleaseError,
    complete_release,
    current_release,
    draft_release,
    list_releases,
    recover_releases,
    rollback,
)


def _build(root, run_id: str, value: int, states: dict | None = None):
    """One release with a table `t` holding `value`, written by run `run_id`."""
    states = states if states is not None else {}
    states[run_id] = "active"
    draft = draft_release(root, run_id, lambda r: states.get(r, "succeeded"))
    with duckdb.connect(str(draft.published_db)) as connection:
        connection.execute(f"CREATE TABLE t AS SELECT {value} AS v")
    (draft.open_dir).mkdir(exist_ok=True)
    (draft.open_dir / "t.csv").write_text(f"v\n{value}\n")
    states[run_id] = "succeeded"
    return draft


def _read(root) -> int:
    with duckdb.connect(str(root / "warehouse" / "published.duckdb"), read_only=True) as connection:
        return connection.execute("SELECT v FROM t").fetchone()[0]


def test_a_release_becomes_current_in_one_swap_and_the_analyst_paths_follow(tmp_path):
    first = complete_release(tmp_path, _build(tmp_path, "run-1", 1))
    assert _read(tmp_path) == 1
    assert (tmp_path / "open" / "t.csv").read_text() == "v\n1\n"
    assert (tmp_path / "warehouse" / "published.duckdb").is_symlink() and (tmp_path / "open").is_symlink()
    draft = _build(tmp_path, "run-2", 2)
    assert _read(tmp_path) == 1  # a draft is invisible until it is complete
    second = complete_release(tmp_path, draft)
    assert _read(tmp_path) == 2
    assert current_release(tmp_path).id == second.id != first.id
    assert second.manifest["tables"] == {"t": 1} and second.manifest["base"] == first.id


def test_folders_that_are_not_releases_and_a_release_from_the_future_stop_nothing(tmp_path, monkeypatch):
    """lost+found (releases/ as a mount point) or an operator's backup sorted after every id, and
    a release made on a host whose clock ran ahead: the next id was awaited for ever at full CPU."""
    monkeypatch.setenv(releases.KEEP_RELEASES_ENV, "1")
    first = complete_release(tmp_path, _build(tmp_path, "run-1", 1))
    for foreign in ("lost+found", "backup"):
        (tmp_path / "releases" / foreign).mkdir()
    ahead = tmp_path / "releases" / "20991231T235959-999990"  # a clock far ahead made this one
    ahead.mkdir()
    assert [r.id for r in list_releases(tmp_path)] == [first.id, ahead.name]
    assert releases.new_release_id(tmp_path) == "20991231T235959-999991"
    ahead.rmdir()
    second = complete_release(tmp_path, _build(tmp_path, "run-2", 2))  # bounded: it used to spin here
    assert second.id > first.id and _read(tmp_path) == 2
    # pruning keeps one release and never touches what is not a release
    assert [r.id for r in list_releases(tmp_path)] == [second.id]
    assert (tmp_path / "releases" / "lost+found").is_dir() and (tmp_path / "releases" / "backup").is_dir()


def test_the_last_releases_are_kept_and_an_operator_rolls_back(tmp_path, monkeypatch):
    monkeypatch.setenv(releases.KEEP_RELEASES_ENV, "2")
    ids = [complete_release(tmp_path, _build(tmp_path, f"run-{v}", v)).id for v in (1, 2, 3)]
    assert [r.id for r in list_releases(tmp_path)] == ids[1:]
    assert rollback(tmp_path) == (ids[2], ids[1])
    assert _read(tmp_path) == 2
    assert rollback(tmp_path, ids[2]) == (ids[1], ids[2])
    assert _read(tmp_path) == 3
    with pytest.raises(ReleaseError, match="no complete release"):
        rollback(tmp_path, ids[0])


def test_a_draft_of_a_failed_run_is_rolled_back_and_a_complete_one_finished(tmp_path):
    complete_release(tmp_path, _build(tmp_path, "run-1", 1))
    states = {}
    interrupted = _build(tmp_path, "run-2", 2, states)
    states["run-2"] = "failed"  # killed after writing a table, before the export
    said = recover_releases(tmp_path, lambda r: states.get(r, "succeeded"))
    assert len(said) == 1 and "rolled back" in said[0], said
    assert not interrupted.path.exists() and _read(tmp_path) == 1

    # killed between the manifest and the swap: the next command finishes the swap
    ready = _build(tmp_path, "run-3", 3)
    (ready.path / releases.MANIFEST).write_text(json.dumps({"id": ready.id, "tables": {"t": 1}}))
    said = recover_releases(tmp_path, lambda r: "failed")
    assert len(said) == 1 and "finished" in said[0], said
    assert _read(tmp_path) == 3 and current_release(tmp_path).id == ready.id


def test_a_draft_or_link_killed_half_made_leaves_nothing_that_stays(tmp_path, monkeypatch):
    complete_release(tmp_path, _build(tmp_path, "run-1", 1))

    def killed(path, value):  # the process dies as the marker is being written
        raise SystemExit("killed")

    with monkeypatch.context() as patched:
        patched.setattr(releases, "_write_json", killed)
        with pytest.raises(SystemExit):
            draft_release(tmp_path, "run-2", lambda r: "active")
    assert [r.id for r in list_releases(tmp_path) if not r.complete] == []
    # and a folder an earlier version made in place before it was killed there, and an analyst
    # path's new link killed before it replaced the old one
    (releases.releases_dir(tmp_path) / "20990101T000000-000000").mkdir()
    (tmp_path / ".open.link-0123abcd").symlink_to("releases/current/open")
    assert recover_releases(tmp_path, lambda r: "succeeded") == []
    assert [r.complete for r in list_releases(tmp_path)] == [True]
    assert [p.name for p in releases.releases_dir(tmp_path).iterdir() if p.name.startswith(".new-")] == []
    assert not (tmp_path / ".open.link-0123abcd").is_symlink()
    complete_release(tmp_path, _build(tmp_path, "run-3", 3))
    assert _read(tmp_path) == 3


def test_a_draft_of_a_run_still_going_is_left_alone(tmp_path):
    draft = _build(tmp_path, "run-1", 1, {"run-1": "active"})
    assert recover_releases(tmp_path, lambda r: "active") == []
    assert draft.path.exists()


def test_an_earlier_data_root_becomes_the_first_release(tmp_path):
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    with duckdb.connect(str(warehouse / "published.duckdb")) as connection:
        connection.execute("CREATE TABLE t AS SELECT 7 AS v")
    (tmp_path / "open").mkdir()
    (tmp_path / "open" / "t.csv").write_text("v\n7\n")
    said = recover_releases(tmp_path, lambda r: "succeeded")
    assert len(said) == 1 and "moved into this first release" in said[0]
    assert _read(tmp_path) == 7 and (tmp_path / "open" / "t.csv").read_text() == "v\n7\n"
    assert current_release(tmp_path).manifest["tables"] == {"t": 1}
