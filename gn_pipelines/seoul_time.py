"""How a time is shown to people: in Asia/Seoul (settings.DISPLAY_TIME_ZONE), whatever the host's
zone (servers usually run in UTC).

Instants stay aware datetimes; these functions only decide how one reads: ISO text with its
+09:00 offset (records, JSON), "YYYY-MM-DD HH:MM:SS KST" (pages and console), and a sortable
stamp for the names of files people browse.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from gn_pipelines.settings import DISPLAY_TIME_ZONE

SEOUL = ZoneInfo(DISPLAY_TIME_ZONE)


def now_in_seoul() -> datetime:
    return datetime.now(SEOUL)


def today_in_seoul() -> date:
    return now_in_seoul().date()


def in_seoul(instant: datetime) -> datetime:
    """`instant` on Seoul's clock; a naive one is taken as UTC (as GX and Dagster hand them out)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=timezone.utc)
    return instant.astimezone(SEOUL)


def seoul_iso(instant: datetime, timespec: str = "auto") -> str:
    """ISO 8601 with the +09:00 offset: `2026-12-06T11:09:20+09:00`."""
    return in_seoul(instant).isoformat(timespec=timespec)


def seoul_text(instant: datetime, *, seconds: bool = True) -> str:
    """For prose and tables: `2026-12-06 11:09:20 KST`."""
    return f"{in_seoul(instant):%Y-%m-%d %H:%M{':%S' if seconds else ''}} KST"


def seoul_stamp(instant: datetime) -> str:
    """For file names: `20261206T110920-785360KST`, the release ids' form with its zone said.
    Sorts in time order (Seoul keeps no daylight saving time), unique to the microsecond, and
    needs no escaping in a file:// link (a "+0900" would read "%2B0900" there)."""
    return f"{in_seoul(instant):%Y%m%dT%H%M%S-%f}KST"
