"""A full disk ends `process` with one line a person can act on, not a page of traceback (the
unattended red team filled a tmpfs: Dagster's SQLite said "database or disk is full" in a
traceback). Real errors: SQLite over its page limit through SQLAlchemy, and /dev/full."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gn_pipelines.cli import disk_full


def test_sqlite_full_through_sqlalchemy_and_the_os_enospc_are_a_full_disk(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'small.db'}")
    with pytest.raises(sa.exc.OperationalError) as full, engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE t (v TEXT)"))
        connection.execute(sa.text("PRAGMA max_page_count = 3"))
        connection.execute(sa.text("INSERT INTO t SELECT hex(randomblob(4000)) FROM (SELECT 1 UNION SELECT 2)"))
    assert disk_full(full.value)
    try:
        raise RuntimeError("the step failed") from full.value  # as Dagster wraps a step's error
    except RuntimeError as wrapped:
        assert disk_full(wrapped)

    with pytest.raises(OSError) as no_space, open("/dev/full", "w") as device:
        device.write("x")
        device.flush()
    assert disk_full(no_space.value)

    assert not disk_full(ValueError("not a disk problem"))
    assert not disk_full(sa.exc.OperationalError("SELECT", {}, Exception("database is locked")))
