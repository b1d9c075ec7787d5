"""Collect a batch of delivered files of one dataset: each archived first, all parsed in one
limited child process (a crash is that file's rejection), each logged in the drop log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from gn_pipelines.contracts import DatasetContract
from gn_pipelines.ingest.batch import BatchFile
from gn_pipelines.ingest.planning import NOT_READABLE
from gn_pipelines.seoul_time import seoul_iso
from gn_pipelines.settings import DataZones


# A file gone from the landing zone between planning and its batch's archiving (a sync tool
# replacing it): not an error of the batch, and no delivery to record: nothing was read.
VANISHED = ("no longer in the landing zone when its batch came to archive it: nothing was read "
            "or recorded; it is collected when it is delivered again")


@dataclass
class CollectedFile:
    file: BatchFile
    outcome: object  # collect.DropOutcome
    archive_path: str | None  # relative to the data root; None: not archived
    # gone (VANISHED) or unreadable (planning.NOT_READABLE) when its batch came to archive it: not
    # this run's, its claim is given back
    vanished: bool = False


@dataclass(frozen=True)
class ClaimedBatch:
    files: list[BatchFile]  # the files this run holds: the only ones it loads
    held_elsewhere: dict[str, str]  # relative path → why another run has it ("run 1a2b3c4d holds it")


def claim_batch(claims, files: list[BatchFile], run_id: str, *, lineage: Collection[str] = ()) -> ClaimedBatch:
    """The claim step, first in every batch run (whoever launched it): claim the files in one
    statement; those another live run holds, or one already loaded, are left out (an outcome,
    not an error). A file held by a run this one re-executes (`lineage`: its parent, that run's
    parent…) is this run's too: it redoes that batch. `claims`: a landing_state.LandingClaims."""
    claim = claims.claim(run_id, [(f.relative, f.sha256) for f in files])
    held = set(claim.held)
    elsewhere = {relative: holder for relative, holder in claim.elsewhere.items() if holder.run_id not in lineage}
    return ClaimedBatch([f for f in files if (f.relative, f.sha256) in held
                         or (f.relative in claim.elsewhere and f.relative not in elsewhere)],
                        {relative: holder.why() for relative, holder in sorted(elsewhere.items())})


def collect_batch(contract: DatasetContract, files: list[BatchFile], *, zones: DataZones, run_id: str,
                  partition_key: str | None = None) -> list[CollectedFile]:
    """Archive, parse and stage every file; one drop-log record per file. Outcomes in file order."""
    from gn_pipelines.ingest.archive import RefusedLandedFile, archive_landed
    from gn_pipelines.ingest.collect import DropOutcome
    from gn_pipelines.ingest.contained import ContainedFile, collect_contained_batch
    from gn_pipelines.ingest.drop_log import record_drop
    from gn_pipelines.ingest.landing import landed_path

    collected_at = dt.datetime.now(dt.timezone.utc)
    results: list[CollectedFile] = []
    to_parse: list[tuple[int, ContainedFile]] = []
    delivered: dict[str, str | None] = {}
    sizes: dict[str, int | None] = {}
    for file in files:
        delivered[file.relative] = landed_at(landed_path(zones.landing, file.relative))
        try:
            sha256, archived = archive_landed(zones.landing, zones.archive, file.relative)
        except RefusedLandedFile as refusal:  # became a link since the scan: never followed
            outcome = DropOutcome(contract.name, file.provider_code, file.relative, "", "rejected", reason=str(refusal))
            results.append(CollectedFile(file, outcome, None))
            sizes[file.relative] = None
            continue
        except (FileNotFoundError, PermissionError) as gone:  # removed, or made unreadable, since planned
            reason = VANISHED if isinstance(gone, FileNotFoundError) else NOT_READABLE
            outcome = DropOutcome(contract.name, file.provider_code, file.relative, "", "rejected", reason=reason)
            results.append(CollectedFile(file, outcome, None, vanished=True))
            continue
        results.append(CollectedFile(file, None, archived.relative_to(zones.root).as_posix()))
        sizes[file.relative] = archived.stat().st_size
        to_parse.append((len(results) - 1, ContainedFile(archived, file.provider_code, file.relative, sha256)))
    if to_parse:
        outcomes = collect_contained_batch([c for _, c in to_parse], contract=contract, zones=zones,
                                           collected_at=collected_at)
        for (index, _), outcome in zip(to_parse, outcomes):
            results[index].outcome = outcome
    for result in results:
        outcome = result.outcome
        if result.vanished:
            continue
        record_drop(zones.restricted, dataset=contract.name, provider_code=result.file.provider_code,
                    source_file=result.file.relative, file_name=result.file.file_name, partition_key=partition_key,
                    content_sha256=outcome.content_sha256 or None, size_bytes=sizes[result.file.relative],
                    archive_path=result.archive_path, status=outcome.status,
                    reason=outcome.reason, file_format=outcome.file_format, encoding=outcome.encoding,
                    rows_read=outcome.rows_read, rows_accepted=outcome.rows_accepted,
                    rows_rejected=outcome.rows_rejected, unknown_columns=outcome.unknown_columns,
                    run_id=run_id, delivered_at=delivered[result.file.relative])
    return results


def landed_at(path: Path) -> str | None:
    """When the file arrived in the landing zone (its modification time), for on-time checks."""
    try:
        return seoul_iso(dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc))
    except FileNotFoundError:
        return None
