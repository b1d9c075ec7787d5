"""Decide, from a scan of the landing zone, which files to collect, reject or wait for.

This is the drop sensor's logic without Dagster: the sensor and `gn-pipelines process` both
call it (through `landing_state.plan_with_state`, which keeps what is known in the instance's
database). Only files that are new or changed since they were last planned are hashed.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from gn_pipelines.ingest.landing import (
    LandedFile,
    address_of,
    content_sha256,
    is_settled,
    is_temporary,
    scan_landing,
)


class KnownFile(NamedTuple):
    """What a plan learnt of a complete file: its stat fingerprint and its content digest (a
    named tuple: the state of 100k files is read on a full reconcile)."""

    size: int
    mtime_ns: int
    sha256: str  # for a refused link: a digest of its description, its target is never read
    done: bool = False  # its run finished for good (succeeded, or its data was stopped by a check)

    @property
    def fingerprint(self) -> tuple[int, int]:
        return (self.size, self.mtime_ns)


# relative path -> what is known of the file
LandingState = dict[str, KnownFile]
# sha256 digests -> (relative path, sha256) of recorded files holding those bytes
SameBytesLookup = Callable[[set[str]], Iterable[tuple[str, str]]]


NOT_READABLE = "not readable by the platform's user (permission denied): make it readable and it is collected"


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
    state: LandingState = field(default_factory=dict)  # every file this plan looked at, after it
    recorded: LandingState = field(default_factory=dict)  # what this plan learnt: to be stored


def plan_landing(landing_root: Path, previous: Mapping[str, KnownFile], settle_seconds: float,
                 now: float | None = None, hasher: Callable[[Path], str] | None = None) -> LandingPlan:
    """Plan one pass over the whole landing zone, given what earlier passes learnt."""
    return plan_files(scan_landing(landing_root), previous, settle_seconds, now=now, hasher=hasher)


def unsettled_reason(landed: LandedFile, settle_seconds: float, now: float) -> str:
    """Why an unsettled file waits. A time ahead of this machine's clock (a provider's clock, or
    a time copied with the file) is named as such, so nobody waits for "less than 0 s ago"."""
    ahead = landed.mtime_ns / 1e9 - now
    if ahead > 1:
        more = f", and {settle_seconds:g} s more" if settle_seconds else ""
        return (f"modified {_duration(ahead)} in the future by this machine's clock (the sender's clock "
                f"or a copied time): it waits until then{more}")
    return f"changed less than {settle_seconds:g} s ago"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def plan_files(listed: Iterable[LandedFile], previous: Mapping[str, KnownFile], settle_seconds: float, *,
               now: float | None = None, hasher: Callable[[Path], str] | None = None,
               replan: Collection[str] = (), same_bytes: SameBytesLookup | None = None) -> LandingPlan:
    """Plan the listed files. `previous` holds what is known of (at least) those files; `replan`
    names known files to plan again without re-reading them (their runs did not finish);
    `same_bytes` finds recorded files outside `listed` that hold given bytes (duplicates)."""
    now = time.time() if now is None else now
    hasher = hasher or content_sha256
    replan = _with_their_copies(set(replan), previous)
    plan = LandingPlan()
    candidates: list[tuple[int, str, int, str]] = []  # (mtime, relative, size, sha256): to plan
    for landed in listed:
        known = previous.get(landed.relative)
        if known and known.mtime_ns == landed.mtime_ns and known.size == landed.size:
            plan.state[landed.relative] = known
            if landed.relative not in replan:
                plan.unchanged += 1
            elif landed.refusal:
                _plan_refusal(plan, landed)
            else:
                candidates.append((landed.mtime_ns, landed.relative, landed.size, known.sha256))
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
            plan.waiting.append((landed.relative, unsettled_reason(landed, settle_seconds, now)))
            continue
        try:
            sha256 = hasher(landed.path)
        except FileNotFoundError:
            plan.waiting.append((landed.relative, "removed while it was read"))
            continue
        except PermissionError:  # another user's file (mode 600): every run asks again, none stops
            plan.waiting.append((landed.relative, NOT_READABLE))
            continue
        plan.hashed += 1
        if known and known.sha256 == sha256:  # touched or re-copied: the same bytes
            plan.state[landed.relative] = plan.recorded[landed.relative] = KnownFile(
                landed.size, landed.mtime_ns, sha256, known.done)
            plan.unchanged += 1
            continue
        plan.state[landed.relative] = plan.recorded[landed.relative] = KnownFile(
            landed.size, landed.mtime_ns, sha256)
        candidates.append((landed.mtime_ns, landed.relative, landed.size, sha256))
    # bytes a provider already delivered for a dataset under another name (earlier or in this pass)
    fresh = {candidate[1] for candidate in candidates}
    digests = {candidate[3] for candidate in candidates}
    earlier = [(relative, entry.sha256) for relative, entry in plan.state.items() if entry.sha256 in digests]
    if same_bytes and candidates:
        earlier += same_bytes(digests)
    delivered: dict[tuple[str, str], str] = {}
    for relative, sha256 in sorted(earlier):
        if relative not in fresh:
            delivered.setdefault((delivery_folder(relative), sha256), relative)
    for _, relative, size, sha256 in sorted(candidates):  # the earliest name is the delivery
        _plan_file(plan, relative, size, sha256, delivered)
    return plan


def _with_their_copies(replan: set[str], previous: Mapping[str, KnownFile]) -> set[str]:
    """A file planned again takes the files of its folder with the same bytes along: the earliest
    name must be the delivery again, not a copy recorded while the first run had not finished."""
    if not replan:
        return replan
    wanted = {(delivery_folder(relative), previous[relative].sha256) for relative in replan if relative in previous}
    return replan | {relative for relative, entry in previous.items()
                     if (delivery_folder(relative), entry.sha256) in wanted}


def delivery_folder(relative: str) -> str:
    """`<provider>/<dataset>` of a landing path: where the same bytes are the same delivery."""
    return relative.rsplit("/", 1)[0]


def _plan_refusal(plan: LandingPlan, landed) -> None:
    # the run key must change when the link changes, without reading what it points to
    marker = hashlib.sha256(f"{landed.relative}\0{landed.refusal}\0{landed.mtime_ns}".encode()).hexdigest()
    plan.state[landed.relative] = plan.recorded[landed.relative] = KnownFile(landed.size, landed.mtime_ns, marker)
    plan.rejections.append(PlannedRejection(landed.relative, landed.refusal, marker, archive=False))


def _plan_file(plan: LandingPlan, relative: str, size: int, sha256: str,
               delivered: dict[tuple[str, str], str]) -> None:
    address = address_of(relative)
    problem = address.problem or ("the file is empty (0 bytes)" if size == 0 else None)
    if problem:
        plan.rejections.append(PlannedRejection(relative, problem, sha256))
        return
    same_as = delivered.setdefault((delivery_folder(relative), sha256), relative)
    if same_as != relative:
        # recorded (the provider did deliver it), but its rows are loaded once
        plan.duplicates.append((relative, same_as))
        plan.rejections.append(PlannedRejection(
            relative, f"the same bytes as {same_as}, already delivered by this provider: loaded once",
            sha256, status="duplicate"))
        return
    plan.collections.append(
        PlannedCollection(relative, address.provider_code, address.dataset, address.file_name, sha256))
