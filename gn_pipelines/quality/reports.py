"""Validation reports under the data root: one GX Data Docs page per validation (a batch of
files, with a table of each file's results), never overwritten, a summary per file, and an index
of the newest of them kept in the folder (so history survives runs and processes, unlike an
ephemeral GX context's own site)."""

from __future__ import annotations

import datetime as dt
import heapq
import html
import json
import os
import re
from pathlib import Path

from gn_pipelines.file_lock import exclusive_lock
from gn_pipelines.ingest.collect import staged_name
from gn_pipelines.quality.rules import BAD_ROW_SHARE_CHECK, PARSEABLE_CHECK
from gn_pipelines.seoul_time import in_seoul, now_in_seoul, seoul_iso, seoul_stamp
from gn_pipelines.settings import DataZones
from gn_pipelines.unfinished_writes import write_text_atomically


def reports_root(zones: DataZones) -> Path:
    return zones.restricted / "quality" / "reports"


def write_batch_report(zones: DataZones, batch, gx_result, masked_columns: set[str]) -> Path:
    """Render the batch's one page (GX's results for the batch, after a table of each file's own
    results), record a summary per file beside it for the index, refresh the index."""
    from gn_pipelines.quality.gx_suite import render_page

    stamp = now_in_seoul()
    # named on Seoul's clock like every time people read (20261206T110920-785360KST.html)
    page_name = seoul_stamp(stamp)
    folder = reports_root(zones) / batch.dataset / BATCH_FOLDER / staged_name(batch.label or "batch")
    page = folder / f"{page_name}.html"
    index_href = os.path.relpath(reports_root(zones) / "index.html", page.parent)
    rendered = offline_page(render_page(gx_result, masked_columns), Path(index_href).as_posix())
    write_text_atomically(page, _with_file_table(rendered, batch))
    summaries = []
    for outcome in batch.files:
        summary = (reports_root(zones) / outcome.dataset / outcome.provider_code
                   / staged_name(Path(outcome.source_file).name) / f"{page_name}.json")
        summaries.append({
            "validated_at": seoul_iso(stamp), "dataset": outcome.dataset,
            "provider_code": outcome.provider_code, "source_file": outcome.source_file,
            "rows_passed": outcome.rows_passed, "rows_quarantined": outcome.rows_quarantined,
            "quarantined_whole": outcome.quarantined_whole, "failed_checks": failed_checks(outcome),
            "page": page.relative_to(reports_root(zones)).as_posix(), "batch": batch.label,
        })
        write_text_atomically(summary, json.dumps(summaries[-1], ensure_ascii=False))
    write_text_atomically(page.with_suffix(".json"), json.dumps(
        {"validated_at": seoul_iso(stamp), "dataset": batch.dataset, "batch": batch.label, "files": summaries},
        ensure_ascii=False))
    write_index(zones, added=summaries)
    return page


BATCH_FOLDER = "_batches"


def _with_file_table(page: str, batch) -> str:
    """The batch's page opens with one row per file: GX's figures below are for the whole batch."""
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in (
            o.source_file, o.rows_in, o.rows_passed, o.rows_quarantined,
            "전체 격리 quarantined whole" if o.quarantined_whole else "통과 passed",
            ", ".join(failed_checks(o)) or "—", o.reason or "")) + "</tr>"
        for o in batch.files)
    table = (f'<div class="container-fluid"><h3>파일별 결과 · Results per file ({html.escape(batch.dataset)} '
             f'{html.escape(batch.label)}, {len(batch.files)} files)</h3><table class="table"><tr><th>file</th>'
             "<th>rows</th><th>passed</th><th>quarantined</th><th>verdict</th><th>failed checks</th>"
             f"<th>reason</th></tr>{rows}</table><p>The expectations below ran once over every file of "
             "the batch together.</p></div>")
    opening = re.search(r"<body[^>]*>", page)
    return page[:opening.end()] + table + page[opening.end():] if opening else table + page


def failed_checks(outcome) -> list[str]:
    """Every check of the validation that failed, as the asset checks (and the CLI) name them."""
    failed = set(outcome.failed_rules)
    if outcome.quarantined_whole:
        failed.add(BAD_ROW_SHARE_CHECK)
    if outcome.rows_rejected_at_collection:
        failed.add(PARSEABLE_CHECK)
    return sorted(failed)


# Data Docs load Bootstrap, jQuery, Vega and Font Awesome from CDNs, a logo from S3, and link to a
# site home and suite pages this platform does not build: offline (a government network) the page
# rendered unstyled with dead links. The page is static HTML: drop the remote assets and scripts,
# style it with a few inline rules, point "Home" at the report index.
_REMOTE_LINK = re.compile(r"<link\b[^>]*\bhref=[\"']https?://[^>]*>\s*", re.I)
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>\s*", re.I | re.S)
_IMAGE = re.compile(r"<img\b[^>]*>", re.I | re.S)
_FAVICON = re.compile(r"<link\b[^>]*rel=[\"']shortcut icon[\"'][^>]*>\s*", re.I)
_SITE_LINK = re.compile(r'href="(?:\.\./)+index\.html"')
_SUITE_LINK = re.compile(r'<a href="[^"]*expectations/[^"]*\.html"\s*>(.*?)</a>', re.S)
_EXTERNAL_PARAGRAPH = re.compile(r"<p>[^<]*<a href=\"https?://[^\"]*\">[^<]*</a>\s*</p>", re.S)
_REMOTE_CSS_URL = re.compile(r"url\(['\"]?https?://[^)]*\)", re.I)
_WALKTHROUGH_BUTTON = re.compile(r"<button\b[^>]*onclick=[^>]*>.*?</button>", re.I | re.S)
OFFLINE_STYLE = """<style>
body{font-family:"Noto Sans KR","Malgun Gothic",system-ui,sans-serif;font-size:14px;margin:0;color:#212529}
nav.navbar{display:flex;align-items:center;padding:8px 24px;border-bottom:1px solid #dee2e6;height:auto!important}
.breadcrumb{display:flex;list-style:none;margin:0;padding:0;gap:.5em}.breadcrumb-item+.breadcrumb-item::before{content:"/ "}
.container-fluid{padding:16px 32px}.row{display:flex;flex-wrap:wrap}.col-lg-2{flex:0 0 16%;max-width:16%}
.col-lg-10{flex:0 0 84%;max-width:84%}.col-12{width:100%}.px-0{padding:0 8px}
.card{border:1px solid #dee2e6;border-radius:4px;margin-bottom:16px}.card-header{background:#f7f7f9;padding:8px 12px}
.card-body{padding:8px 12px}.table{border-collapse:collapse;width:100%;margin:8px 0}
.table td,.table th{border:1px solid #dee2e6;padding:4px 8px;vertical-align:top;text-align:left}
.text-success{color:#198754}.text-danger{color:#dc3545}.text-muted{color:#6c757d}.badge{padding:2px 6px;border-radius:4px;background:#eee}
.collapse:not(.show),.d-none,.modal{display:none}.sticky{position:sticky;top:8px}a{color:#0d6efd}
.fas.fa-check-circle::before{content:"✔";color:#198754}.fas.fa-times::before{content:"✘";color:#dc3545}
</style>
<script>
/* the page's "Failed Only" filter and "Show more info" toggles, without jQuery or Bootstrap */
function gnShowSucceeded(show) {
  const display = show ? "" : "none";
  document.querySelectorAll(".hide-succeeded-validation-target-child").forEach(e => e.parentElement.style.display = display);
  document.querySelectorAll(".hide-succeeded-validation-target").forEach(e => e.style.display = display);
  document.querySelectorAll(".hide-succeeded-validations-column-section-target-child")
    .forEach(e => e.parentElement.parentElement.style.display = display);
}
function showAllValidations() { gnShowSucceeded(true); }
function hideSucceededValidations() { gnShowSucceeded(false); }
document.addEventListener("click", event => {
  const toggle = event.target.closest('a[data-toggle="collapse"]');
  const target = toggle && document.getElementById(toggle.getAttribute("href").slice(1));
  if (target) { event.preventDefault(); target.classList.toggle("show"); }
});
</script>"""


def offline_page(page: str, index_href: str) -> str:
    """A Data Docs page that needs nothing from the network and links only to what exists (its
    own scripts, which need jQuery, are replaced by a few lines of plain JavaScript)."""
    page = _REMOTE_LINK.sub("", page)
    page = _FAVICON.sub("", page)
    page = _SCRIPT.sub("", page)
    page = _WALKTHROUGH_BUTTON.sub("", page)
    page = _IMAGE.sub("검증 보고서 · Validation report", page)
    page = _EXTERNAL_PARAGRAPH.sub("", page)
    page = _REMOTE_CSS_URL.sub("none", page)
    page = _SITE_LINK.sub(f'href="{index_href}"', page)
    page = _SUITE_LINK.sub(r"\1", page)
    return page.replace("</head>", OFFLINE_STYLE + "</head>", 1)


# The index lists the newest validations only: one row per validated file would make it tens of
# MB after years, rewritten by every batch. Every validation stays in the `validation_log` view.
INDEX_LIMIT = 2_000
# The index's rows (the newest INDEX_LIMIT summaries) and the count of all validations, kept beside
# it: a batch adds its files' summaries to it instead of listing every summary ever written (one
# folder per delivered file: 17 s a batch at 75,000 files)
INDEX_STATE = "index.json"
_INDEX_STATE_VERSION = 1


def write_index(zones: DataZones, limit: int = INDEX_LIMIT, added: list[dict] | None = None) -> Path:
    """`reports/index.html`: the newest `limit` validations, newest first, with links to their pages.
    `added`: the summaries a batch has just written, added to the kept rows; None, or no usable
    kept rows (the first batch, an earlier version's folder): rebuilt from every summary."""
    root = reports_root(zones)
    root.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(root / ".index.lock", what="the validation reports' index"):
        kept = _kept_index(root, limit) if added is not None else None
        if kept is None:
            total, entries = _summaries_in_folders(root, limit)
        else:
            listed = {(e["page"], e["source_file"]) for e in kept["entries"]}
            new = [e for e in added if (e["page"], e["source_file"]) not in listed]
            total, entries = kept["total"] + len(new), kept["entries"] + new
        # by instant: summaries of earlier versions carry UTC offsets, newer ones KST
        entries.sort(key=lambda e: dt.datetime.fromisoformat(e["validated_at"]), reverse=True)
        entries = entries[:limit]
        write_text_atomically(root / INDEX_STATE, json.dumps(
            {"version": _INDEX_STATE_VERSION, "limit": limit, "total": total, "entries": entries},
            ensure_ascii=False))
        rows = "\n".join(_index_row(entry, entry["page"]) for entry in entries)
        index = root / "index.html"
        shown = f"{len(entries):,} validations, newest first."
        if total > len(entries):
            shown += (f" {total - len(entries):,} older ones are not listed: their pages stay in their folders, and"
                      " every validation is in the restricted warehouse's <code>validation_log</code> view.")
        write_text_atomically(index, _INDEX.format(shown=shown, rows=rows))
    return index


def _kept_index(root: Path, limit: int) -> dict | None:
    try:
        kept = json.loads((root / INDEX_STATE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    usable = kept.get("version") == _INDEX_STATE_VERSION and kept.get("limit") == limit
    return kept if usable else None


def _summaries_in_folders(root: Path, limit: int) -> tuple[int, list[dict]]:
    """How many file summaries there are, and the newest `limit` of them (their "page" set)."""
    summaries = [s for s in root.glob("*/*/*/*.json")
                 if s.parent.parent.name != BATCH_FOLDER]  # a batch's own summary: its files have theirs
    entries = []
    # the newest by name (a Seoul time stamp; summaries of earlier versions were named in UTC)
    for summary in heapq.nlargest(limit, summaries, key=lambda s: s.name):
        try:
            entry = json.loads(summary.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue  # a page being written by another run right now
        entries.append(entry | {"page": entry.get("page") or summary.with_suffix(".html").relative_to(root).as_posix()})
    return len(summaries), entries


def _index_row(entry: dict, link: str) -> str:
    verdict = "전체 격리 quarantined whole" if entry["quarantined_whole"] else "통과 passed"
    failed = ", ".join(entry["failed_checks"]) or "—"
    validated_at = in_seoul(dt.datetime.fromisoformat(entry["validated_at"]))  # the column says KST
    cells = (f"{validated_at:%Y-%m-%d %H:%M:%S}", entry["dataset"], entry["provider_code"],
             entry["source_file"], verdict, str(entry["rows_passed"]), str(entry["rows_quarantined"]), failed)
    tds = "".join(f"<td>{html.escape(c)}</td>" for c in cells)
    return f'<tr>{tds}<td><a href="{html.escape(link)}">report</a></td></tr>'


_INDEX = """<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><title>검증 보고서 · Validation reports</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;font-size:14px}}th{{background:#eee}}</style></head>
<body><h1>검증 보고서 · Validation reports</h1><p>{shown}</p>
<table><tr><th>validated (KST)</th><th>dataset</th><th>provider</th><th>file</th><th>verdict</th>
<th>rows passed</th><th>rows quarantined</th><th>failed checks</th><th></th></tr>
{rows}
</table></body></html>
"""
