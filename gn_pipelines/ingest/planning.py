"""Decide, from a scan of the landing zone, which files to collect, reject or wait for.

This is the drop sensor's logic without Dagster: the sensor and `gn-pipelines process` both
call `plan_landing`. Only files that are new or changed since the last plan are hashed.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from gn_pipelines.ingest.landing import (
    address_of,
    content_sha256,
    is_settled,
    is_temporary,
    scan_landing,
)

# relative path -> [size, mtime_ns, sha256] of every complete file already planned
LandingState = dict[str, list]


@dataclass(frozen=True)
class PlannedCollection:
    relative: str
    provider_code: str
    dataset: str
    file_name: str
    sha256: str


@dataclass(frozen=True)
class PlannedRejection:
    relative: str
    reason: str
    sha256: str  # for a refused link: a digest of its description, its target is never read
    archive: bool = True  # False for links and directories: nothing is read or copied
    status: str = "rejected"  # or "duplicate": the same bytes as another file of the provider


@dataclass
class LandingPlan:
    collections: list[PlannedCollection] = field(default_factory=list)
    rejections: list[PlannedRejection] = field(default_factory=list)
    waiting: list[tuple[str, str]] = field(default_factory=list)  # (relative path, why)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (relative path, same as), also recorded
    unchanged: int = 0
    hashed: int = 0
    state: LandingState = field(default_factory=dict)


def plan_landing(landing_root: Path, previous: LandingState, settle_seconds: float,
                 now: float | None = None,
                 hasher: Callable[[Path], str] | None = None) -> LandingPlan:
    """Plan one pass over the landing zone, given the state the previous pass left."""
    now = time.time() if now is None else now
    hasher = hasher or content_sha256
    plan = LandingPlan()
    candidates: list[tuple[int, str, int, str]] = []  # (mtime, relative, size, sha256): new or changed
    for landed in scan_landing(landing_root):
        known = previous.get(landed.relative)
        if known and tuple(known[:2]) == landed.fingerprint:
            plan.state[landed.relative] = known
            plan.unchanged += 1
            continue
        if known:  # changed: keep what we knew until the new version is complete
            plan.state[landed.relative] = known
        if landed.refusal:
            _plan_refusal(plan, landed)
            continue
        if is_temporary(landed.relative):
            plan.waiting.append((landed.relative, "temporary name: the upload is not finished"))
            continue
        if not is_settled(landed, settle_seconds, now):
            plan.waiting.append((landed.relative, f"changed less than {settle_seconds:g} s ago"))
            continue
        try:
            sha256 = hasher(landed.path)
        except FileNotFoundError:
            continue
        plan.hashed += 1
        plan.state[landed.relative] = [landed.size, landed.mtime_ns, sha256]
        if known and known[2] == sha256:  # touched or re-copied: the same bytes
            plan.unchanged += 1
            continue
        candidates.append((landed.mtime_ns, landed.relative, landed.size, sha256))
    # bytes a provider already delivered for a dataset under another name (earlier or in this pass)
    fresh = {candidate[1] for candidate in candidates}
    delivered = {(_folder(relative), entry[2]): relative for relative, entry in sorted(plan.state.items())
                 if relative not in fresh and len(entry) > 2}
    for _, relative, size, sha256 in sorted(candidates):  # the earliest name is the delivery
        _plan_file(plan, relative, size, sha256, delivered)
    return plan


def _folder(relative: str) -> str:
    return relative.rsplit("/", 1)[0]


def _plan_refusal(plan: LandingPlan, landed) -> None:
    # the run key must change when the link changes, without reading what it points to
    marker = hashlib.sha256(f"{landed.relative}\0{landed.refusal}\0{landed.mtime_ns}".encode()).hexdigest()
    plan.state[landed.relative] = [landed.size, landed.mtime_ns, marker]
    plan.rejections.append(PlannedRejection(landed.relative, landed.refusal, marker, archive=False))


def _plan_file(plan: LandingPlan, relative: str, size: int, sha256: str,
               delivered: dict[tuple[str, str], str]) -> None:
    address = address_of(relative)
    problem = address.problem or ("the file is empty (0 bytes)" if size == 0 else None)
    if problem:
        plan.rejections.append(PlannedRejection(relative, problem, sha256))
        return
    same_as = delivered.setdefault((_folder(relative), sha256), relative)
    if same_as != relative:
        # recorded (the provider did deliver it), but its rows are loaded once
        plan.duplicates.append((relative, same_as))
        plan.rejections.append(PlannedRejection(
            relative, f"the same bytes as {same_as}, already delivered by this provider: loaded once",
            sha256, status="duplicate"))
        return
    plan.collections.append(
        PlannedCollection(relative, address.provider_code, address.dataset, address.file_name, sha256))


def dump_state(state: LandingState, **extra) -> str:
    return json.dumps({"version": 1, "files": state, **extra}, ensure_ascii=False, separators=(",", ":"))


def load_state(cursor: str | None) -> tuple[LandingState, dict]:
    """The files of a cursor and its other entries; an unreadable cursor starts afresh."""
    if not cursor:
        return {}, {}
    try:
        payload = json.loads(cursor)
    except json.JSONDecodeError:
        return {}, {}
    files = payload.pop("files", {})
    payload.pop("version", None)
    return files, payload
