"""Fingerprints (fingerprints.py): each drop is hashed once per process, for every table that
reads it, even with years of drops."""

from __future__ import annotations

from gn_pipelines import fingerprints
from gn_pipelines.fingerprints import inputs_fingerprint


def test_more_drops_than_the_old_cache_held_are_hashed_once_per_process(tmp_path):
    drops = []
    for i in range(5_000):  # more than the 4,096 entries that missed every time at ~25,000 drops
        path = tmp_path / f"{i:05d}.parquet"
        path.write_bytes(f"drop {i}".encode())
        drops.append(path)
    first = inputs_fingerprint(drops, relative_to=tmp_path, declaration="one table")
    misses = fingerprints._digest_of.cache_info().misses
    second = inputs_fingerprint(drops, relative_to=tmp_path, declaration="another table")
    assert fingerprints._digest_of.cache_info().misses == misses  # no drop read again
    assert first != second  # the declarations differ
    drops[0].write_bytes(b"corrected")  # new bytes: hashed again, a new fingerprint
    assert inputs_fingerprint(drops, relative_to=tmp_path, declaration="one table") != first
