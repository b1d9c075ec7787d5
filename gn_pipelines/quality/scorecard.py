"""The provider scorecard and the freshness verdicts, from the drop and validation logs.

No personal data: only counts, file states and the names of failed checks. The SQL runs on a
connection where the restricted warehouse views `drop_log` and `validation_log` exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gn_pipelines.contracts import DatasetContract

from gn_pipelines.datasets import CONTRACTS
from gn_pipelines.quality.rules import DROP_COLLECTED_CHECK
from gn_pipelines.reference import PROVIDERS_BY_CODE
from gn_pipelines.seoul_time import seoul_text

TOP_CHECKS = 3


def scorecard_path(zones):
    """Where the provider scorecard is staged (restricted zone), for its asset and its publication."""
    return zones.restricted / "quality" / "provider_scorecard.parquet"


def _dataset_terms() -> str:
    """A VALUES list of (dataset, grace hours), from the contracts."""
    rows = ", ".join(f"('{name}', {contract.grace_hours})" for name, contract in CONTRACTS.items())
    return f"(VALUES {rows}) AS t(dataset, grace_hours)"


def _provider_names() -> str:
    rows = ", ".join(f"('{code}', '{p.name}')" for code, p in PROVIDERS_BY_CODE.items())
    return f"(VALUES {rows}) AS p(provider_code, provider_name)"


# A date or month in a file name (2025-03-08.csv, 20250308_namji.csv, 2025-03.xlsx, 202503.csv)
_NAME_DATE = r"(?:^|[^0-9])(20[0-9]{2})[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12][0-9]|3[01])(?:[^0-9]|$)"
_NAME_MONTH = r"(?:^|[^0-9])(20[0-9]{2})[-_.]?(0[1-9]|1[0-2])(?:[^0-9]|$)"


def name_period_end_sql(file_name: str) -> str:
    """The last day of the period a file's name states (its day, else its month's last day), or
    NULL: what dates a file without rows (a header-only file)."""
    day = f"regexp_extract({file_name}, '{_NAME_DATE}', ['y', 'm', 'd'])"
    month = f"regexp_extract({file_name}, '{_NAME_MONTH}', ['y', 'm'])"
    return (f"coalesce(TRY_CAST(NULLIF({day}.y, '') || '-' || {day}.m || '-' || {day}.d AS DATE), "
            f"last_day(TRY_CAST(NULLIF({month}.y, '') || '-' || {month}.m || '-01' AS DATE)))")


def scorecard_sql() -> str:
    """One row per provider × dataset × month (the month the data is about)."""
    return f"""
WITH deliveries AS (
    -- a file rejected before collection has no delivery time of its own: the time it was seen
    SELECT provider_code, dataset, source_file, content_sha256, status,
           coalesce(delivered_at, recorded_at) AS delivered_at,
           coalesce(rows_rejected, 0) AS rows_rejected, {name_period_end_sql('file_name')} AS name_period_end
    FROM drop_log WHERE status IN ('collected', 'rejected') AND dataset IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY source_file, content_sha256 ORDER BY recorded_at DESC) = 1),
validations AS (
    SELECT source_file, content_sha256, rows_passed, rows_quarantined, quarantined_whole,
           failed_checks, period_end
    FROM validation_log
    QUALIFY row_number() OVER (PARTITION BY source_file, content_sha256 ORDER BY recorded_at DESC) = 1),
files AS (
    SELECT d.*, v.rows_passed, v.rows_quarantined, v.quarantined_whole,
           -- a file refused before collection failed the check that names it in the UI
           coalesce(v.failed_checks, CASE WHEN d.status = 'rejected' THEN ['{DROP_COLLECTED_CHECK}'] END) AS failed_checks,
           -- the file's own period: its rows', else its name's; only a file stating no period at all
           -- is dated by its arrival
           coalesce(strftime(coalesce(v.period_end, d.name_period_end), '%Y-%m'),
                    strftime(timezone('Asia/Seoul', d.delivered_at), '%Y-%m')) AS month,
           CASE WHEN coalesce(v.period_end, d.name_period_end) IS NOT NULL AND d.delivered_at IS NOT NULL THEN
                timezone('Asia/Seoul', d.delivered_at) <=
                CAST(coalesce(v.period_end, d.name_period_end) + INTERVAL 1 DAY AS TIMESTAMP)
                + to_hours(CAST(t.grace_hours AS BIGINT))
           END AS on_time
    FROM deliveries d LEFT JOIN validations v USING (source_file, content_sha256)
    JOIN {_dataset_terms()} ON t.dataset = d.dataset),
check_counts AS (
    SELECT provider_code, dataset, month, failed_check, count(*) AS files
    FROM (SELECT provider_code, dataset, month, unnest(failed_checks) AS failed_check FROM files)
    GROUP BY ALL),
top_checks AS (
    SELECT provider_code, dataset, month,
           array_to_string(list_slice(list(failed_check || ' ×' || files ORDER BY files DESC, failed_check),
                                      1, {TOP_CHECKS}), ', ') AS top_failed_checks
    FROM check_counts GROUP BY ALL)
SELECT f.provider_code, p.provider_name, f.dataset, f.month,
       -- a file stating no period (a LOCALDATA snapshot) has no deadline to miss
       CAST(count(*) FILTER (WHERE on_time IS DISTINCT FROM false) AS INTEGER) AS files_on_time,
       CAST(count(*) FILTER (WHERE NOT on_time) AS INTEGER) AS files_late,
       CAST(coalesce(sum(rows_passed), 0) AS BIGINT) AS rows_accepted,
       CAST(coalesce(sum(rows_quarantined), 0) + sum(rows_rejected) AS BIGINT) AS rows_quarantined,
       CAST(count(*) FILTER (WHERE quarantined_whole OR status = 'rejected') AS INTEGER) AS files_quarantined,
       any_value(c.top_failed_checks) AS top_failed_checks
FROM files f
JOIN {_provider_names()} ON p.provider_code = f.provider_code
LEFT JOIN top_checks c ON c.provider_code = f.provider_code AND c.dataset = f.dataset AND c.month = f.month
GROUP BY f.provider_code, p.provider_name, f.dataset, f.month
ORDER BY f.dataset, f.provider_code, f.month"""


@dataclass(frozen=True)
class Freshness:
    dataset: str
    late: dict[str, str]  # provider code → when it last delivered
    checked_at: dt.datetime
    interval_hours: float
    not_yet_delivering: tuple[str, ...] = ()  # providers of the contract with no delivery so far

    @property
    def passed(self) -> bool:
        return not self.late

    def describe(self) -> str:
        waiting = (f"; not delivering yet: {', '.join(PROVIDERS_BY_CODE[c].name for c in self.not_yet_delivering)}"
                   if self.not_yet_delivering else "")
        if self.passed:
            return f"every delivering provider delivered {self.dataset} within {self.interval_hours:g} h" + waiting
        names = ", ".join(f"{code} {PROVIDERS_BY_CODE[code].name} (last: {last})"
                          for code, last in sorted(self.late.items()))
        return f"late for {self.dataset} (nothing for {self.interval_hours:g} h): {names}" + waiting


def last_deliveries(connection) -> dict[str, dict[str, dt.datetime]]:
    """When each provider last delivered each dataset (dataset → provider code → time): one read
    of the drop log for every freshness verdict."""
    last: dict[str, dict[str, dt.datetime]] = {}
    for dataset, provider, delivered in connection.execute(
            "SELECT dataset, provider_code, max(coalesce(delivered_at, recorded_at)) FROM drop_log "
            "WHERE dataset IS NOT NULL AND status IN ('collected', 'rejected') GROUP BY 1, 2").fetchall():
        last.setdefault(dataset, {})[provider] = delivered
    return last


def freshness(contract: DatasetContract, last: dict[str, dt.datetime], now: dt.datetime) -> Freshness:
    """Which providers of a dataset have not delivered within its interval, as of `now`, given
    when each last delivered it (`last`: provider code → time).

    A provider is expected once it has delivered the dataset: the 시군 join the platform one by
    one, and one that never delivered is listed as not delivering yet, not as late (else a new
    platform, or a dataset two 시군 deliver so far, would be red for everyone else)."""
    deadline = now - dt.timedelta(hours=contract.interval_hours)
    allowed = sorted(contract.providers or PROVIDERS_BY_CODE)
    late = {}
    for code in allowed:
        delivered = last.get(code)
        if delivered is not None and delivered < deadline:
            late[code] = seoul_text(delivered, seconds=False)
    waiting = tuple(code for code in allowed if code not in last)
    return Freshness(contract.name, late, now, contract.interval_hours, waiting)


def provider_freshness(connection, contract: DatasetContract, now: dt.datetime) -> Freshness:
    """`freshness` of one dataset, read from the drop log on `connection`."""
    return freshness(contract, last_deliveries(connection).get(contract.name, {}), now)
