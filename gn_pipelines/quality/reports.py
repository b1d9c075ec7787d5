"""Validation reports under the data root: one GX Data Docs page per validation, never
overwritten, and an index of all of them rebuilt from the folder (so history survives runs
and processes, unlike an ephemeral GX context's own site)."""

from __future__ import annotations

import datetime as dt
import html
import json
import os
from pathlib import Path

from gn_pipelines.ingest.collect import staged_name
from gn_pipelines.settings import DataZones


def reports_root(zones: DataZones) -> Path:
    return zones.restricted / "quality" / "reports"


def write_report(zones: DataZones, outcome, gx_result, masked_columns: set[str]) -> Path:
    """Render this validation's page and refresh the index; returns the page's path."""
    from gn_pipelines.quality.gx_suite import render_page

    folder = reports_root(zones) / outcome.dataset / outcome.provider_code / staged_name(
        Path(outcome.source_file).name)
    stamp = dt.datetime.now(dt.timezone.utc)
    page = folder / f"{stamp:%Y%m%dT%H%M%S%f}.html"
    _write_atomically(page, render_page(gx_result, masked_columns))
    _write_atomically(page.with_suffix(".json"), json.dumps({
        "validated_at": stamp.isoformat(), "dataset": outcome.dataset,
        "provider_code": outcome.provider_code, "source_file": outcome.source_file,
        "rows_passed": outcome.rows_passed, "rows_quarantined": outcome.rows_quarantined,
        "quarantined_whole": outcome.quarantined_whole, "failed_checks": outcome.failed_rules,
    }, ensure_ascii=False))
    write_index(zones)
    return page


def write_index(zones: DataZones) -> Path:
    """`reports/index.html`: every validation so far, newest first, with links to its page."""
    root = reports_root(zones)
    entries = []
    for summary in root.glob("*/*/*/*.json"):
        try:
            entries.append((json.loads(summary.read_text(encoding="utf-8")), summary.with_suffix(".html")))
        except (OSError, json.JSONDecodeError):
            continue  # a page being written by another run right now
    entries.sort(key=lambda e: e[0]["validated_at"], reverse=True)
    rows = "\n".join(_index_row(entry, page.relative_to(root).as_posix()) for entry, page in entries)
    index = root / "index.html"
    _write_atomically(index, _INDEX.format(count=len(entries), rows=rows))
    return index


def _index_row(entry: dict, link: str) -> str:
    verdict = "전체 격리 quarantined whole" if entry["quarantined_whole"] else "통과 passed"
    failed = ", ".join(entry["failed_checks"]) or "—"
    cells = (entry["validated_at"][:19].replace("T", " "), entry["dataset"], entry["provider_code"],
             entry["source_file"], verdict, str(entry["rows_passed"]), str(entry["rows_quarantined"]), failed)
    tds = "".join(f"<td>{html.escape(c)}</td>" for c in cells)
    return f'<tr>{tds}<td><a href="{html.escape(link)}">report</a></td></tr>'


def _write_atomically(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, target)


_INDEX = """<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><title>검증 보고서 · Validation reports</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;font-size:14px}}th{{background:#eee}}</style></head>
<body><h1>검증 보고서 · Validation reports</h1><p>{count} validations, newest first.</p>
<table><tr><th>validated (UTC)</th><th>dataset</th><th>provider</th><th>file</th><th>verdict</th>
<th>rows passed</th><th>rows quarantined</th><th>failed checks</th><th></th></tr>
{rows}
</table></body></html>
"""
