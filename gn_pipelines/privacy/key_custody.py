"""Custody of the pseudonymisation key (추가정보, PIPC 가명정보 처리 가이드라인: kept apart).

The key comes from a file only its owner can read (`GN_PSEUDONYM_KEY_FILE`) or from the
environment (`GN_PSEUDONYM_KEY`), never from the repository. It must be at least 32 bytes,
except in a `gn-pipelines dev` session. One key per data root: the key id in force is recorded
with the first de-identification (`restricted/key_in_force.json`); a run with another key is
refused, naming both ids and the way out (`gn-pipelines rekey`). Every use is appended to
`restricted/key_usage/` (run id, stage, key id): never the key.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from gn_pipelines.settings import PSEUDONYM_KEY_ENV, DataZones

PSEUDONYM_KEY_FILE_ENV = "GN_PSEUDONYM_KEY_FILE"
DEV_SESSION_ENV = "GN_DEV_SESSION"  # set by `gn-pipelines dev` only: a short key is tolerated
MINIMUM_KEY_BYTES = 32  # 256 bits, the HMAC-SHA-256 block's security level
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


class KeyCustodyError(RuntimeError):
    """The key is missing, unsafe, or not the one in force for this data root."""


@dataclass(frozen=True)
class KeyInForce:
    key_id: str
    recorded_at: str
    run_id: str | None
    rekey_to: str | None = None  # a rekey started and not finished


def load_secret(environ: dict[str, str] | None = None) -> bytes:
    """The secret from GN_PSEUDONYM_KEY_FILE (owner-only, outside the repository) or GN_PSEUDONYM_KEY."""
    environ = os.environ if environ is None else environ
    if key_file := environ.get(PSEUDONYM_KEY_FILE_ENV):
        secret = _read_key_file(Path(key_file).expanduser())
        source = f"{PSEUDONYM_KEY_FILE_ENV} ({key_file})"
    elif value := environ.get(PSEUDONYM_KEY_ENV):
        secret, source = value.encode("utf-8"), PSEUDONYM_KEY_ENV
    else:
        raise KeyCustodyError(
            f"neither {PSEUDONYM_KEY_FILE_ENV} nor {PSEUDONYM_KEY_ENV} is set: refusing to pseudonymise without "
            f"a secret (e.g. `openssl rand -hex 32 > ~/.gn_key && chmod 600 ~/.gn_key`, then "
            f"`export {PSEUDONYM_KEY_FILE_ENV}=~/.gn_key`)")
    if len(secret) < MINIMUM_KEY_BYTES and not environ.get(DEV_SESSION_ENV):
        raise KeyCustodyError(
            f"the key from {source} is {len(secret)} bytes: keys must be at least {MINIMUM_KEY_BYTES} bytes "
            "(e.g. `openssl rand -hex 32`); only a `gn-pipelines dev` session accepts a shorter one")
    return secret


def _read_key_file(path: Path) -> bytes:
    resolved = path.resolve()
    if resolved == REPOSITORY_ROOT or REPOSITORY_ROOT in resolved.parents:
        raise KeyCustodyError(f"the key file {path} is inside the repository ({REPOSITORY_ROOT}): "
                              "keep the key apart from the code, outside the repository")
    try:
        status = resolved.stat()
    except FileNotFoundError:
        raise KeyCustodyError(f"the key file {path} does not exist") from None
    if status.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyCustodyError(f"the key file {path} is readable by others (mode {stat.S_IMODE(status.st_mode):o}): "
                              f"refusing it; run `chmod 600 {path}`")
    if status.st_uid != os.geteuid():
        raise KeyCustodyError(f"the key file {path} belongs to another user: refusing it")
    secret = resolved.read_bytes().rstrip(b"\r\n")
    if not secret:
        raise KeyCustodyError(f"the key file {path} is empty")
    return secret


def key_registry_path(zones: DataZones) -> Path:
    return zones.restricted / "key_in_force.json"


def key_usage_dir(zones: DataZones) -> Path:
    return zones.restricted / "key_usage"


def key_in_force(zones: DataZones) -> KeyInForce | None:
    path = key_registry_path(zones)
    if not path.exists():
        return None
    return KeyInForce(**json.loads(path.read_text(encoding="utf-8")))


def write_key_in_force(zones: DataZones, record: KeyInForce, *, first: bool = False) -> bool:
    """Write `record` whole (owner-only). `first`: only if no key is recorded yet, as one atomic
    step (a hard link fails on an existing name), so processes starting on a fresh data root at
    once agree on one key; False when another recorded its key first."""
    from gn_pipelines.unfinished_writes import write_text_atomically

    # on disk before the run de-identifies with it: a power cut must not forget which key is in force
    return write_text_atomically(key_registry_path(zones), json.dumps(record.__dict__), durable=True,
                                 owner_only=True, only_if_absent=first)


def require_key_in_force(zones: DataZones, key_id: str, *, run_id: str | None) -> KeyInForce:
    """Record `key_id` as the data root's key if none is; refuse any other key (one person, one pseudonym)."""
    from gn_pipelines.seoul_time import now_in_seoul, seoul_iso

    current = key_in_force(zones)
    if current is None:
        first = KeyInForce(key_id, seoul_iso(now_in_seoul()), run_id)
        if write_key_in_force(zones, first, first=True):
            return first
        current = key_in_force(zones)  # another process recorded its key meanwhile: judged below
    if current.rekey_to:
        raise KeyCustodyError(
            f"a rekey from key {current.key_id} to key {current.rekey_to} was interrupted: run "
            f"`gn-pipelines rekey` again with key {current.rekey_to} to finish it before de-identifying")
    if current.key_id != key_id:
        raise KeyCustodyError(
            f"this run's key {key_id} is not the key in force for this data root, {current.key_id} (recorded "
            f"{current.recorded_at}): refusing to de-identify, which would give the same people two "
            f"pseudonyms. Use key {current.key_id}, or re-pseudonymise everything with key {key_id} in one "
            "release: `gn-pipelines rekey` (docs/operations.md, key rotation)")
    return current


def log_key_use(zones: DataZones, *, key_id: str, run_id: str | None, stage: str) -> dict:
    """Append one use of the key (never the key itself) to the restricted key-usage log."""
    from gn_pipelines.ingest.drop_log import append_record

    return append_record(key_usage_dir(zones), {"run_id": run_id, "stage": stage, "key_id": key_id,
                                                "pid": os.getpid()})


def secret_for_use(zones: DataZones, *, run_id: str | None, stage: str,
                   environ: dict[str, str] | None = None) -> bytes:
    """The secret, once it is safe, the data root's key, and its use logged."""
    from gn_pipelines.privacy.pseudonyms import key_id

    secret = load_secret(environ)
    identifier = key_id(secret)
    require_key_in_force(zones, identifier, run_id=run_id)
    log_key_use(zones, key_id=identifier, run_id=run_id, stage=stage)
    return secret
