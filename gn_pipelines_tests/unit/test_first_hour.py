"""What a newcomer meets first: the sample dated relative to today, the SQL shell, report pages
that work offline, the chart's Korean font."""

from __future__ import annotations

import io
import os
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest

from gn_pipelines.quality.reports import offline_page
from gn_pipelines.sql_shell import connect, shell
from gn_pipelines.synth.command import LATE_PROVIDER, write_sample_drops
from gn_pipelines.water.chart import korean_font

NOW = datetime(2026, 7, 15, 10, 30, tzinfo=ZoneInfo("Asia/Seoul"))


def _files(root: Path) -> dict[str, tuple[bytes, float]]:
    return {p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_sample_ends_near_today_and_is_the_same_for_the_same_day(tmp_path):
    write_sample_drops(tmp_path / "a", now=NOW)
    write_sample_drops(tmp_path / "b", now=NOW)
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert first == second and 15 <= len(first) <= 30  # small enough for `dev` to process quickly
    assert max(mtime for _, mtime in first.values()) <= NOW.timestamp()  # nothing arrives in the future
    complaints = sorted(name for name in first if "/civil_complaints/" in name and not name.endswith(".hwp"))
    days = {date.fromisoformat(Path(name).stem) for name in complaints}
    assert max(days) == NOW.date() - timedelta(days=2) and len(days) >= 5
    # the planted late provider stopped delivering days ago; the others delivered in the last 48 h
    last_delivery = {}
    for name, (_, mtime) in first.items():
        provider = name.split("/")[0]
        if "/civil_complaints/" in name:
            last_delivery[provider] = max(last_delivery.get(provider, 0), mtime)
    late = {p for p, mtime in last_delivery.items() if NOW.timestamp() - mtime > 48 * 3600}
    assert late == {LATE_PROVIDER}
    history = next(content for name, (content, _) in first.items() if "water_quality/history_" in name)
    text = history.decode("utf-8-sig")
    assert "2020A10" in text and f"{NOW.year - 5}-01" in text and f"{NOW.year}-0" in text


def test_the_namji_series_improves_towards_its_target():
    from gn_pipelines.synth.water_quality import station_year

    def mean_bod(year):
        return station_year(1, "2020A10", year).values["bod_mg_l"].mean()

    assert mean_bod(2021) > 2.0 > mean_bod(2025)  # above the Ib limit, then within it


@pytest.fixture
def published(tmp_path) -> Path:
    path = tmp_path / "published.duckdb"
    with duckdb.connect(str(path)) as db:
        db.execute("CREATE TABLE grades (year INTEGER, grade VARCHAR)")
        db.execute("INSERT INTO grades VALUES (2024, 'Ib'), (2025, 'Ia')")
        db.execute("COMMENT ON TABLE grades IS '등급'")
    return path


def test_sql_shell_runs_statements_and_goes_on_after_an_error(published):
    out = io.StringIO()
    with connect(published) as connection:
        shell(connection, lines=["SELECT grade", "FROM grades WHERE year = 2025;", "SELECT nope;",
                                 ".tables", "SELECT count(*) AS n FROM grades;"], out=out, interactive=False)
    text = out.getvalue()
    assert "Ia" in text and "Ib" not in text.split("error:")[0]
    assert "error:" in text and "nope" in text
    assert "등급" in text  # .tables lists the tables with their comments


def test_sql_shell_is_read_only(published):
    out = io.StringIO()
    with connect(published) as connection:
        shell(connection, lines=["DELETE FROM grades;"], out=out, interactive=False)
    assert "read-only" in out.getvalue().lower()
    with duckdb.connect(str(published), read_only=True) as db:
        assert db.execute("SELECT count(*) FROM grades").fetchone() == (2,)


def test_sql_shell_shows_times_in_seoul_whatever_the_host_zone(published, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")  # a server's usual zone; DuckDB would show +00 by default
    with duckdb.connect(str(published)) as db:
        db.execute("CREATE TABLE stamps AS SELECT TIMESTAMPTZ '2026-07-15 01:30:00+00' AS last_updated")
    out = io.StringIO()
    with connect(published) as connection:
        shell(connection, lines=["SELECT last_updated FROM stamps;"], out=out, interactive=False)
    assert "2026-07-15 10:30:00+09" in out.getvalue()


def test_the_ledger_records_in_seoul_and_orders_by_instant(tmp_path):
    from gn_pipelines.datalab.ledger import LedgerEntry, append_entry, entries
    from gn_pipelines.settings import DataZones

    zones = DataZones(tmp_path).ensure()
    # an entry of an earlier version (UTC), later in time than a KST entry whose text sorts after it
    append_entry(zones, LedgerEntry("release", "earlier-version", "p", recorded_at="2026-07-15T02:00:00+00:00"))
    append_entry(zones, LedgerEntry("release", "kst", "p", recorded_at="2026-07-15T10:30:00+09:00"))
    append_entry(zones, LedgerEntry("release", "now", "p"))
    recorded = entries(zones)
    assert [e["reference"] for e in recorded] == ["kst", "earlier-version", "now"]
    assert recorded[-1]["recorded_at"].endswith("+09:00")


def test_sql_shell_says_when_nothing_is_published(tmp_path):
    with pytest.raises(FileNotFoundError, match="gn-pipelines process"):
        connect(tmp_path / "missing.duckdb")


GX_LIKE_PAGE = """<html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<link rel="shortcut icon" href="../../../../static/images/favicon.ico" type="image/x-icon"/>
<style>.navbar-brand a { background: url('https://example.org/logo.png') 0 0 no-repeat; }</style>
</head><body>
<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>
<a href="../../../../../index.html"><img src="https://example.org/logo-long.png" alt="GX"/></a>
<li><a href="../../../../../index.html">Home</a></li>
<script>$(".ge-walkthrough-modal").modal();</script>
<span>Expectation Suite:</span> <a href="../../../../../expectations/civil_complaints/48740.html" >civil_complaints.48740</a>
<p>Stay current <a href="https://greatexpectations.io/newsletter">Subscribe</a></p>
<table><tr><td>values must never be null.</td></tr></table>
</body></html>"""


def test_report_pages_need_nothing_from_the_network(tmp_path):
    page = offline_page(GX_LIKE_PAGE, "../../../index.html")
    assert "http://" not in page and "https://" not in page
    assert "<script src" not in page and "$(" not in page  # its own plain script only
    assert "<img" not in page and "favicon" not in page
    assert page.count('href="../../../index.html"') == 2  # "Home" and the logo go to the report index
    assert "civil_complaints.48740" in page and "expectations/" not in page
    assert "values must never be null." in page and "<style>" in page


def test_the_chart_has_a_korean_font_from_a_pip_package():
    assert korean_font() is not None
