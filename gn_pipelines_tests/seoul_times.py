"""Issue 16: every time people read is in Asia/Seoul. What a data root shows in UTC: times in its
pages and records, and time stamps in the names of its files."""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

SEOUL = ZoneInfo("Asia/Seoul")
# Written by the platform for people (pages, catalogs, logs and registers, open data)
READABLE_SUFFIXES = {".html", ".json", ".csv", ".txt", ".md"}
# Not the platform's own writing: what providers delivered (and its archived copies), Dagster's
# storage, caches and scratch files
NOT_OURS = {"landing", "archive", "dagster_home", "scratch", "build_cache", "collected"}
UTC_TIME = re.compile(
    r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z(?![A-Za-z0-9])|\+00(?::?00)?(?![0-9]))"  # 02:09:20Z, 02:09+00:00
    r"|\d{8}T\d{6}(?:\.\d+)?Z(?![A-Za-z0-9])"  # 20261206T020920.411121Z
    r"|\bUTC\b")
NAME_STAMP = re.compile(r"(\d{8}T\d{6})")
# a name's stamp read on Seoul's clock is within this of the file's own time; a UTC one is 9 h off
NAME_TOLERANCE_SECONDS = 3600


def utc_times(root: Path) -> list[str]:
    """Each UTC time under `root` people could read, as "path: what"; empty when all is Seoul."""
    found = []
    for folder, directories, files in os.walk(root):
        directories[:] = [d for d in directories if d not in NOT_OURS]
        for name in [*directories, *files]:
            path = Path(folder) / name
            if not path.is_symlink() and (problem := _utc_name(path)):
                found.append(f"{path}: {problem}")
        for name in files:
            path = Path(folder) / name
            if path.suffix in READABLE_SUFFIXES and not path.is_symlink():
                text = path.read_text(encoding="utf-8", errors="replace")
                found += [f"{path}: {text[max(0, m.start() - 40):m.end() + 10]!r}" for m in UTC_TIME.finditer(text)]
    return found


def _utc_name(path: Path) -> str | None:
    match = NAME_STAMP.search(path.name)
    if not match:
        return None
    named = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=SEOUL)
    drift = abs(named.timestamp() - path.stat().st_mtime)
    return f"named {match.group(1)}, {drift / 3600:.1f} h from its time in Seoul" \
        if drift > NAME_TOLERANCE_SECONDS else None
