"""Key rotation: re-pseudonymise every drop with a new key, so the next release uses it alone.

Every drop is re-derived from its validated rows into a staging folder first; only when all are
done are they moved into place and the new key id recorded as the one in force. Until then the
registry says a rekey is under way, and de-identification refuses to run: a release never mixes
two keys. An interrupted rekey is finished by running it again with the same new key.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from gn_pipelines.datasets import CONTRACTS
from gn_pipelines.privacy.key_custody import (
    KeyCustodyError,
    KeyInForce,
    key_in_force,
    log_key_use,
    write_key_in_force,
)
from gn_pipelines.seoul_time import now_in_seoul, seoul_iso
from gn_pipelines.settings import DataZones


@dataclass(frozen=True)
class RekeyOutcome:
    old_key_id: str | None
    new_key_id: str
    drops: int

    def describe(self) -> str:
        if self.old_key_id == self.new_key_id:
            return f"key {self.new_key_id} is already the key in force: nothing to re-pseudonymise"
        return (f"re-pseudonymised {self.drops} drop(s) from key {self.old_key_id or 'none'} to key "
                f"{self.new_key_id}; it is now the key in force")


def _pseudonymised_drops(zones: DataZones) -> list[tuple[str, Path, Path]]:
    """(dataset, validated source, pseudonymised target) of every drop de-identified so far."""
    drops = []
    for dataset in CONTRACTS:
        folder = zones.restricted / "pseudonymised" / dataset
        for target in sorted(folder.glob("*/*.parquet")):
            if target.parent.name.startswith("_"):
                continue  # the zero-row schema seeds
            source = zones.restricted / "validated" / dataset / target.parent.name / target.name
            if source.exists():
                drops.append((dataset, source, target))
    return drops


def rekey(zones: DataZones, secret: bytes, *, run_id: str | None = None) -> RekeyOutcome:
    """Re-pseudonymise every de-identified drop with `secret` and make its key the one in force."""
    from gn_pipelines.privacy.deidentify import deidentify_drop
    from gn_pipelines.privacy.pseudonyms import key_id

    new_id = key_id(secret)
    current = key_in_force(zones)
    if current and current.key_id == new_id and not current.rekey_to:
        return RekeyOutcome(new_id, new_id, 0)
    if current and current.rekey_to and current.rekey_to != new_id:
        raise KeyCustodyError(f"a rekey to key {current.rekey_to} was interrupted: finish it with that key first")
    old_id = current.key_id if current else None
    started = seoul_iso(now_in_seoul())
    write_key_in_force(zones, KeyInForce(old_id or new_id, started, run_id, rekey_to=new_id))
    log_key_use(zones, key_id=new_id, run_id=run_id, stage=f"rekey from {old_id or 'none'}")
    staging = zones.restricted / "rekey_staging"
    shutil.rmtree(staging, ignore_errors=True)
    moves = []
    for dataset, source, target in _pseudonymised_drops(zones):
        staged = staging / dataset / target.parent.name / target.name
        outcome = deidentify_drop(CONTRACTS[dataset], source=source, target=staged, secret=secret, zones=zones)
        if outcome.target is None:
            raise KeyCustodyError(f"{target.parent.name}/{target.name} failed its residual scan while rekeying; "
                                  "the old key stays in force")
        moves.append((staged, target))
    for staged, target in moves:  # all derived: now swap them in, sidecar first
        os.replace(staged.with_suffix(".privacy.json"), target.with_suffix(".privacy.json"))
        os.replace(staged, target)
    shutil.rmtree(staging, ignore_errors=True)
    write_key_in_force(zones, KeyInForce(new_id, seoul_iso(now_in_seoul()), run_id))
    return RekeyOutcome(old_id, new_id, len(moves))
