"""Batches of delivered files: one per dataset and delivery month, run together.

A batch is the unit of a Dagster run (and its partition: the month); each file in it keeps its
own outcome. Plain Python, no Dagster: the sensor, `process` and the assets share it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import asdict, dataclass

from gn_pipelines.seoul_time import SEOUL

# a period in the file name: 2025-03-01, 2025-03, 20250303_weekly, 202503, 2025.03, 2025_03
_PERIOD_IN_NAME = re.compile(r"(?<!\d)((?:19|20)\d{2})[-_.]?(0[1-9]|1[0-2])(?:[-_.]?(?:0[1-9]|[12]\d|3[01]))?(?!\d)")


@dataclass(frozen=True)
class BatchFile:
    """One delivered file of a batch, as the run config carries it."""

    relative: str  # <provider>/<dataset>/<file name>, relative to the landing root
    sha256: str
    provider_code: str

    @property
    def file_name(self) -> str:
        return self.relative.rsplit("/", 1)[-1]

    @property
    def dataset(self) -> str:
        return self.relative.split("/")[1]

    @property
    def key(self) -> str:
        """The file's identity for run keys and "already loaded": the same bytes from the same
        provider for the same dataset load once."""
        return file_key(self.sha256, self.provider_code, self.dataset)

    def as_config(self) -> dict:
        return asdict(self)


def file_key(sha256: str, provider_code: str, dataset: str) -> str:
    return f"sha256:{sha256}:{provider_code}/{dataset}"


def delivery_month(file_name: str, landed_at_ns: int | None = None) -> str:
    """The month ("YYYY-MM") a file belongs to: the period its name states (the providers name
    drops by their period), else the month it landed on the Seoul calendar."""
    match = _PERIOD_IN_NAME.search(file_name)
    if match:
        return f"{match.group(1)}-{match.group(2)}"
    moment = dt.datetime.fromtimestamp((landed_at_ns or 0) / 1e9, dt.timezone.utc) if landed_at_ns \
        else dt.datetime.now(dt.timezone.utc)
    return f"{moment.astimezone(SEOUL):%Y-%m}"


def batch_run_key(dataset: str, month: str, files: list[BatchFile]) -> str:
    """Derived from the sorted file keys: the same files make the same run key (a crashed batch
    is redone under its own key), a different set a new one."""
    digest = hashlib.sha256("\n".join(sorted(f.key for f in files)).encode()).hexdigest()[:32]
    return f"batch:{dataset}:{month}:{len(files)}:{digest}"


def files_from_config(files: list[dict]) -> list[BatchFile]:
    return [BatchFile(**f) for f in files]
