"""What a newcomer meets first: the sample dated relative to today, the SQL shell, report pages
that work offline and read in Seoul time, the chart's Korean font."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import select
import signal
import subprocess
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest

from gn_pipelines.quality.reports import offline_page
from gn_pipelines.sql_shell import connect, run_statement, shell
from gn_pipelines.synth.command import LATE_PROVIDER, write_sample_drops
from gn_pipelines.water.chart import korean_font
from gn_pipelines_tests.conftest import installed_command
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


def sql_command(*args: str) -> list[str]:
    return [installed_command("gn-pipelines"), "sql", *args]


def default_ctrl_c() -> None:
    """In the child: Ctrl-C as at a terminal. A test run started in the background (CI) ignores
    SIGINT, and a Python started with it ignored keeps ignoring it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt_once_running(process) -> None:
    """SIGINT once the process has spent two seconds of CPU: the statement is running then
    (waiting at a prompt costs nothing; starting the command about 0.25 s), whatever the
    machine's speed. Bounded."""
    def cpu_seconds() -> float:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    started, deadline = cpu_seconds(), time.monotonic() + 60
    while cpu_seconds() - started < 2.0:
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)


LONG_STATEMENT = "SELECT count(*) FROM range(1000000000000) t(a) WHERE a % 7 = 3"  # hours


def _move_to_data_root(published: Path, root: Path) -> dict[str, str]:
    """The warehouse where `gn-pipelines sql` looks for it; the environment naming that root."""
    (root / "warehouse").mkdir(parents=True)
    published.rename(root / "warehouse" / "published.duckdb")
    return dict(os.environ, GN_DATA_ROOT=str(root))


class Terminal:
    """`gn-pipelines sql` at a terminal (a pseudo-terminal: the shell is interactive there)."""

    def __init__(self, env: dict[str, str]):
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(sql_command(), stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                                        env=env | {"TERM": "dumb"}, preexec_fn=default_ctrl_c)
        os.close(slave)
        self.seen = b""

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def read_until(self, text: str, timeout: float = 60) -> str:
        """What the shell printed up to `text` (bounded: fails after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while text.encode() not in self.seen:
            assert time.monotonic() < deadline, f"no {text!r} in {self.seen.decode(errors='replace')!r}"
            if select.select([self.master], [], [], 0.1)[0]:
                try:
                    self.seen += os.read(self.master, 65536)
                except OSError:  # the shell ended: its side of the terminal is closed
                    pytest.fail(f"the shell ended (exit {self.process.wait(timeout=30)}) before {text!r}: "
                                f"{self.seen.decode(errors='replace')!r}")
        shown, _, self.seen = self.seen.partition(text.encode())
        return shown.decode(errors="replace")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        os.close(self.master)


def test_ctrl_c_cancels_a_running_statement_and_the_shell_goes_on(tmp_path, published):
    """An analyst's Ctrl-C stops the query, not the shell (it printed a traceback and left)."""
    terminal = Terminal(_move_to_data_root(published, tmp_path / "data"))
    try:
        terminal.read_until("gn-sql> ")
        terminal.type(LONG_STATEMENT + ";")
        interrupt_once_running(terminal.process)
        shown = terminal.read_until("gn-sql> ")
        assert "cancelled" in shown and "Traceback" not in shown, shown
        terminal.type("SELECT grade FROM grades WHERE year = 2025;")
        assert "Ia" in terminal.read_until("gn-sql> ")
        terminal.type(".quit")
        assert terminal.process.wait(timeout=30) == 0
    finally:
        terminal.close()


@pytest.mark.parametrize("given", ["with -c", "on standard input"])
def test_ctrl_c_ends_a_statement_given_to_the_command_with_130(tmp_path, published, given):
    env = _move_to_data_root(published, tmp_path / "data")
    args, script = (["-c", LONG_STATEMENT], "") if given == "with -c" else ([], f"{LONG_STATEMENT};\nSELECT 42;\n")
    (tmp_path / "script.sql").write_text(script)
    with (tmp_path / "script.sql").open() as stdin:
        process = subprocess.Popen(sql_command(*args), stdin=stdin, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env=env, preexec_fn=default_ctrl_c)
    try:
        interrupt_once_running(process)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130 and "cancelled" in out + err and "Traceback" not in err, (out, err)
    assert "42" not in out  # the script stopped at the cancelled statement


class InterruptsCounted:
    """A DuckDB connection whose `interrupt()` calls are counted on their way to DuckDB."""

    def __init__(self, connection):
        self.connection, self.interrupts, self.changed = connection, 0, threading.Condition()

    def sql(self, query: str):
        return self.connection.sql(query)

    def interrupt(self) -> None:
        with self.changed:
            self.interrupts += 1
            self.changed.notify_all()
        self.connection.interrupt()

    def wait_for(self, interrupts: int, timeout: float = 30) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.interrupts >= interrupts, timeout)


def test_a_second_ctrl_c_while_a_statement_stops_waits_until_it_has_stopped():
    """The prompt comes back only once the cancelled statement has ended: before, a second Ctrl-C
    returned at once, and the next statement shared the connection with the running one."""
    statement_ran, let_it_return, statement_returned = threading.Event(), threading.Event(), threading.Event()

    def slow_to_stop(value: int) -> int:  # DuckDB cannot stop a statement inside this call
        statement_ran.set()
        let_it_return.wait(60)
        statement_returned.set()
        return value

    connection = duckdb.connect()
    connection.create_function("slow_to_stop", slow_to_stop, ["BIGINT"], "BIGINT")
    counted = InterruptsCounted(connection)

    def press_ctrl_c_twice() -> None:
        try:
            assert statement_ran.wait(60)
            os.kill(os.getpid(), signal.SIGINT)
            assert counted.wait_for(1)
            os.kill(os.getpid(), signal.SIGINT)
            counted.wait_for(2)  # the shell interrupts again (bounded: before the fix it never did)
        finally:
            let_it_return.set()

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # CI runs with SIGINT ignored
    presser = threading.Thread(target=press_ctrl_c_twice)
    presser.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_statement(counted, "SELECT sum(slow_to_stop(a)) FROM range(3) t(a)", io.StringIO())
        assert statement_returned.is_set(), "back at the prompt while the statement still ran"
        assert counted.interrupts >= 2
    finally:
        let_it_return.set()
        presser.join(timeout=60)
        signal.signal(signal.SIGINT, previous)
    assert connection.sql("SELECT 42").fetchall() == [(42,)]  # the connection serves the next statement


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
