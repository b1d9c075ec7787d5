"""What a newcomer meets first: the sample dated relative to today, the SQL shell, report pages
that work offline and read in Seoul time, the chart's Korean font."""

from __future__ import annotations

import io
import json
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest

from gn_pipelines.quality.reports import offline_page
from gn_pipelines.sql_shell import connect, shell
from gn_pipelines.synth.command import LATE_PROVIDER, write_sample_drops
from gn_pipelines.water.chart import korean_font
from gn_pipelines_tests.seoul_times import UTC_TIME, utc_times

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


def test_gx_times_on_a_report_page_read_in_seoul():
    from gn_pipelines.quality.gx_suite import in_seoul_time

    # as GX 1.x writes them: page title, the Info table's run time, the batch's load time
    page = ("<li>Validations / s / civil_complaints 2026-12 / 2026-12-06T15:09:20.758516Z</li>"
            "<td>2026-12-06T15:09:20Z</td><span>20261206T150920.411121Z</span>")
    shown = in_seoul_time(page)
    assert shown.count("2026-12-07 00:09:20 KST") == 3 and not UTC_TIME.search(shown), shown


def test_a_rendered_gx_page_names_its_run_and_shows_no_utc_time(monkeypatch):
    from gn_pipelines.contracts.model import QualityRule, RuleKind
    from gn_pipelines.quality.gx_suite import render_page, validate_frame

    monkeypatch.setenv("TZ", "UTC")  # a server's usual zone
    rule = QualityRule("district_present", RuleKind.NOT_NULL, ("district",), "district must be present")
    result = validate_frame(pd.DataFrame({"district": ["창원시", None]}), (rule,), "kst_test",
                            run_name="civil_complaints 2026-12")
    before = datetime.now(ZoneInfo("Asia/Seoul")).replace(microsecond=0)
    page = render_page(result, masked_columns=set())
    assert not UTC_TIME.search(page), UTC_TIME.search(page)
    assert "civil_complaints 2026-12" in page and "__none__" not in page
    shown = {datetime.strptime(t, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo("Asia/Seoul"))
             for t in re.findall(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) KST", page)}
    assert shown and all(abs((t - before).total_seconds()) < 120 for t in shown), shown


def test_report_files_are_named_and_dated_in_seoul(tmp_path):
    from gn_pipelines.ingest.drop_log import append_record
    from gn_pipelines.seoul_time import seoul_stamp

    record = append_record(tmp_path / "log", {"dataset": "d"})
    (written,) = (tmp_path / "log").iterdir()
    assert record["recorded_at"].endswith("+09:00") and written.name.startswith(
        seoul_stamp(datetime.fromisoformat(record["recorded_at"])))
    assert seoul_stamp(datetime(2026, 12, 6, 15, 9, 20, 785360, tzinfo=timezone.utc)) == "20261207T000920-785360KST"
    assert not utc_times(tmp_path), utc_times(tmp_path)


def test_the_report_index_orders_by_instant_across_zones(tmp_path):
    from gn_pipelines.quality.reports import reports_root, write_index
    from gn_pipelines.settings import DataZones

    zones = DataZones(tmp_path)
    summary = {"dataset": "civil_complaints", "provider_code": "48740", "rows_passed": 1, "rows_quarantined": 0,
               "quarantined_whole": False, "failed_checks": []}
    # an earlier version's summary (UTC) is later in time than a KST one whose text sorts after it
    for name, at in (("utc", "2026-07-15T02:00:00+00:00"), ("kst", "2026-07-15T10:30:00+09:00")):
        target = reports_root(zones) / "civil_complaints" / "48740" / f"{name}.csv" / f"{name}.json"
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(summary | {"validated_at": at, "source_file": f"48740/{name}.csv"}))
    index = write_index(zones).read_text(encoding="utf-8")
    assert index.index("2026-07-15 11:00:00") < index.index("2026-07-15 10:30:00") < index.index("kst.csv") \
        and index.index("utc.csv") < index.index("kst.csv")


def test_the_chart_has_a_korean_font_from_a_pip_package():
    assert korean_font() is not None
