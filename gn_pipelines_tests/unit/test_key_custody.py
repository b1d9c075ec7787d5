"""Key custody: an owner-only key file or the environment, never the repository; 32 bytes at
least outside `dev`; one key per data root; every use logged without the key."""

import json
import multiprocessing
import os

import duckdb
import pytest

from gn_pipelines.privacy.key_custody import (
    REPOSITORY_ROOT,
    KeyCustodyError,
    key_in_force,
    key_usage_dir,
    load_secret,
    secret_for_use,
)
from gn_pipelines.privacy.pseudonyms import key_id
from gn_pipelines.restricted_views import create_restricted_views
from gn_pipelines.settings import DataZones

KEY = "k" * 24 + "-0123456789abcdef"  # 41 bytes
OTHER = "o" * 24 + "-fedcba9876543210"


def key_file(tmp_path, content: str, mode: int):
    path = tmp_path / "gn.key"
    path.write_text(content + "\n")
    os.chmod(path, mode)
    return str(path)


def test_an_owner_only_key_file_is_read_and_preferred_to_the_environment(tmp_path):
    environ = {"GN_PSEUDONYM_KEY_FILE": key_file(tmp_path, KEY, 0o600), "GN_PSEUDONYM_KEY": OTHER}
    assert load_secret(environ) == KEY.encode()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_a_key_file_others_can_read_is_refused(tmp_path, mode):
    with pytest.raises(KeyCustodyError, match=f"readable by others \\(mode {mode:o}\\).*chmod 600"):
        load_secret({"GN_PSEUDONYM_KEY_FILE": key_file(tmp_path, KEY, mode)})


def test_a_key_file_in_the_repository_is_refused():
    inside = REPOSITORY_ROOT / "gn_pipelines_tests" / ".gn-test.key"
    inside.write_text(KEY)
    os.chmod(inside, 0o600)
    try:
        with pytest.raises(KeyCustodyError, match="inside the repository"):
            load_secret({"GN_PSEUDONYM_KEY_FILE": str(inside)})
    finally:
        inside.unlink()


def test_short_keys_are_refused_outside_a_dev_session():
    with pytest.raises(KeyCustodyError, match="is 9 bytes: keys must be at least 32 bytes"):
        load_secret({"GN_PSEUDONYM_KEY": "short-key"})
    assert load_secret({"GN_PSEUDONYM_KEY": "short-key", "GN_DEV_SESSION": "1"}) == b"short-key"
    with pytest.raises(KeyCustodyError, match="neither GN_PSEUDONYM_KEY_FILE nor GN_PSEUDONYM_KEY is set"):
        load_secret({})


def test_one_key_per_data_root_and_every_use_logged_without_the_key(zones):
    secret_for_use(zones, run_id="run-1", stage="pseudonymise civil_complaints 48740/a.csv",
                   environ={"GN_PSEUDONYM_KEY": KEY})
    assert key_in_force(zones).key_id == key_id(KEY.encode())
    with pytest.raises(KeyCustodyError) as refused:
        secret_for_use(zones, run_id="run-2", stage="pseudonymise civil_complaints 48740/b.csv",
                       environ={"GN_PSEUDONYM_KEY": OTHER})
    message = str(refused.value)
    assert key_id(KEY.encode()) in message and key_id(OTHER.encode()) in message
    assert "refusing to de-identify" in message and "`gn-pipelines rekey`" in message
    records = [json.loads(p.read_text()) for p in sorted(key_usage_dir(zones).glob("*.json"))]
    assert [(r["run_id"], r["stage"], r["key_id"]) for r in records] == [
        ("run-1", "pseudonymise civil_complaints 48740/a.csv", key_id(KEY.encode()))]
    logged = b"".join(p.read_bytes() for p in zones.restricted.rglob("*") if p.is_file())
    assert KEY.encode() not in logged and OTHER.encode() not in logged
    with duckdb.connect() as connection:  # an auditor's view in the restricted warehouse
        assert "key_usage" in create_restricted_views(connection, zones)
        assert connection.execute("SELECT run_id, stage, key_id, pid FROM key_usage").fetchall() == [
            ("run-1", "pseudonymise civil_complaints 48740/a.csv", key_id(KEY.encode()), os.getpid())]


def _first_use(zones, barrier, key: str, outcomes) -> None:
    """One process's first de-identification on a fresh data root, all of them at once."""
    barrier.wait(timeout=60)
    try:
        secret_for_use(zones, run_id=f"run-{os.getpid()}", stage="pseudonymise", environ={"GN_PSEUDONYM_KEY": key})
        outcomes.put((key, "used"))
    except KeyCustodyError:
        outcomes.put((key, "refused"))
    except Exception as error:  # e.g. another writer's half record read, or its partial file taken
        outcomes.put((key, repr(error)))


def test_processes_recording_the_first_key_at_once_agree_on_one(zones):
    context = multiprocessing.get_context("fork")
    keys = [KEY, OTHER] * 4
    for attempt in range(5):  # a fresh data root each time: the race is at the first record
        fresh = DataZones(zones.root / f"fresh-{attempt}").ensure()
        barrier, outcomes = context.Barrier(len(keys)), context.Queue()
        racers = [context.Process(target=_first_use, args=(fresh, barrier, key, outcomes)) for key in keys]
        for racer in racers:
            racer.start()
        results = sorted(outcomes.get(timeout=60) for _ in racers)
        for racer in racers:
            racer.join(60)
        in_force = key_in_force(fresh)  # a whole record, never two writers' bytes mixed
        winner = KEY if in_force.key_id == key_id(KEY.encode()) else OTHER
        assert results == sorted((key, "used" if key == winner else "refused") for key in keys), (attempt, results)
