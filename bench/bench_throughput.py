"""Benchmark: the platform's throughput against the DuckDB floor, side by side, in one run.

  chain  a one-million-row complaint drop through `gn-pipelines process` (collect, validate,
         de-identify, release, publish, open-data export) on a fresh data root and DAGSTER_HOME;
         wall time and peak RSS of the whole process tree (sampled from /proc), and of its
         largest process (getrusage)
  floor  the same file, the same work in plain DuckDB SQL (one child process): typed load,
         the quality rules, keyed hashes, month/age/sex/읍면동 derivation, RE2 regexp_replace of
         title and body for 8 identifier kinds plus the record's own name, k-anonymity class
         sizes, the monthly aggregate; the ratio chain / floor (target ≤ 4×)
  week   a week of deliveries from every provider (`synth --start 2025-03-01 --end 2025-03-07`)
         through `process --workers 2`, publication included: files/s (target ≥ 10)
  large  (--large, off by default) chain and floor again at ten times --rows, to show time
         growing linearly and memory bounded (10M rows at the default --rows)

Everything is driven through the `gn-pipelines` command (synth, process), so the script works
whatever the pipeline's internals become. Each part runs in a fresh temporary directory.

Usage: .venv/bin/python bench/bench_throughput.py [--rows 1000000] [--days 7] [--skip chain floor week]
                                                  [--timeout SECONDS] [--large]
Quick check: --rows 100000 --days 1 (a minute or two on two cores).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PROVIDER, DAY = "48120", "2025-03-04"  # 창원시: its 구 codes appear in the rows
WEEK = ("2025-03-01", "2025-03-07")


def week_end(days: int) -> str:
    return f"2025-03-{days:02d}"  # the days of the week from its first, 2025-03-01
BENCH_KEY = "bench-throughput-key-not-secret-0123456789abcdef"
PAGE_MIB = os.sysconf("SC_PAGE_SIZE") / 2**20


# ---------------------------------------------------------------- measuring a process tree


def _children_by_parent() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def _tree_rss_mib(root: int, exclude_root: bool) -> float:
    """Resident memory of `root`'s descendants (and of `root` itself unless excluded)."""
    tree = _children_by_parent()
    pending, pages = (list(tree.get(root, ())) if exclude_root else [root]), 0
    while pending:
        pid = pending.pop()
        pending.extend(tree.get(pid, ()))
        try:
            with open(f"/proc/{pid}/statm", "rb") as statm:
                pages += int(statm.read().split()[1])
        except OSError:
            pass
    return pages * PAGE_MIB


@dataclass
class Measured:
    seconds: float
    tree_peak_mib: float  # sum over the process tree, sampled every 0.2 s
    largest_mib: float  # the largest single process in the tree (the kernel's ru_maxrss)
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False


# Runs the command and reports the largest RSS among it and its descendants (Linux folds a
# waited-for child's own children into its ru_maxrss).
WRAPPER = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


def measured(command: list[str], env: dict[str, str] | None = None, timeout: float | None = None) -> Measured:
    """Run `command`, sampling the RSS of its process tree every 0.2 s; stopped after `timeout` s."""
    peak, stop = [0.0], threading.Event()
    with tempfile.NamedTemporaryFile("r", suffix=".maxrss") as report:
        started = time.perf_counter()
        wrapper = subprocess.Popen([sys.executable, "-c", WRAPPER, report.name, *command], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   start_new_session=True)  # its own group: stopped whole if we are

        def sample() -> None:
            while not stop.wait(0.2):
                peak[0] = max(peak[0], _tree_rss_mib(wrapper.pid, exclude_root=True))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        timed_out = False
        try:
            stdout, stderr = wrapper.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _stop_group(wrapper)
            stdout, stderr = wrapper.communicate()
        except BaseException:  # Ctrl-C, SIGTERM: leave no run behind
            _stop_group(wrapper)
            raise
        seconds = timeout if timed_out else time.perf_counter() - started  # not the time it took to stop
        stop.set()
        sampler.join()
        largest = report.read().strip()
    return Measured(seconds, peak[0], int(largest) / 1024 if largest else float("nan"), wrapper.returncode,
                    stdout, stderr, timed_out)


def _stop_group(wrapper: subprocess.Popen) -> None:
    """SIGTERM to the command's whole process group, then wait (bounded) until all of it ended."""
    os.killpg(wrapper.pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.killpg(wrapper.pid, 0)
        except ProcessLookupError:
            return
        wrapper.poll()
        time.sleep(0.2)


def cli() -> str:
    return str(Path(sys.executable).with_name("gn-pipelines"))


def fresh_env(root: Path) -> dict[str, str]:
    return dict(os.environ, GN_DATA_ROOT=str(root / "data"), DAGSTER_HOME=str(root / "dagster_home"),
                GN_SETTLE_SECONDS="0", GN_PSEUDONYM_KEY=BENCH_KEY)


def must(result: Measured | subprocess.CompletedProcess, what: str) -> None:
    if result.returncode:
        sys.exit(f"{what} failed (exit {result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")


def warn_if_failed(result: Measured, what: str) -> None:
    """A failed run is reported with the figures (its time is still what it took), not fatal."""
    if result.timed_out:
        print(f"  WARNING: {what} stopped after {result.seconds:.0f} s (--timeout): its figures are lower bounds",
              file=sys.stderr, flush=True)
    elif result.returncode:
        print(f"  WARNING: {what} exited {result.returncode}:\n{result.stdout[-1500:]}\n{result.stderr[-2500:]}",
              file=sys.stderr, flush=True)


def synth_drops(landing: Path, rows: int, files: int = 1) -> list[Path]:
    """`rows` complaint rows from 창원시 through `gn-pipelines synth`: one drop on DAY, or `files`
    daily drops of one month from its first day (10M rows are ten 1M-row files: one file of
    10M is over the dataset's file budget, 512 MiB and 5M rows, and refused unparsed)."""
    start, end = (DAY, DAY) if files == 1 else ("2025-03-01", f"2025-03-{files:02d}")
    run = subprocess.run([cli(), "synth", "--landing", str(landing), "--datasets", "civil_complaints",
                          "--providers", PROVIDER, "--start", start, "--end", end, "--rows", str(rows // files)],
                         capture_output=True, text=True)
    must(run, "synth")
    drops = sorted(p for p in landing.rglob("*") if p.is_file())
    if len(drops) != files:
        sys.exit(f"synth wrote {len(drops)} files, expected {files}: {drops}")
    return drops


# ---------------------------------------------------------------- where a run's time went

STEP_TIMES = """
import collections, json
import dagster as dg
with dg.DagsterInstance.get() as instance:
    seconds = collections.Counter()
    for run in instance.get_runs():
        for step in instance.get_run_step_stats(run.run_id):
            if step.start_time and step.end_time:
                seconds[step.step_key] += step.end_time - step.start_time
print(json.dumps(seconds.most_common()))
"""


def step_times(env: dict[str, str]) -> list[tuple[str, float]]:
    """Seconds per Dagster step over every run of the instance (Dagster's own step stats)."""
    run = subprocess.run([sys.executable, "-c", STEP_TIMES], env=env, capture_output=True, text=True)
    return [tuple(pair) for pair in json.loads(run.stdout)] if run.returncode == 0 else []


# ---------------------------------------------------------------- the chain


def chain(rows: int, work: Path, timeout: float | None, files: int) -> tuple[Measured, list[tuple[str, float]], str]:
    env = fresh_env(work)
    started = time.perf_counter()
    drops = synth_drops(work / "data" / "landing", rows, files)
    print(f"  [{rows:,} rows] synthesised in {time.perf_counter() - started:.1f} s "
          f"({sum(d.stat().st_size for d in drops) / 2**20:,.0f} MiB in {files} file(s))", flush=True)
    copies = work / "floor_input"  # the floor reads the same bytes; copies, for the platform
    copies.mkdir()                  # refuses a drop with a second (hard) link
    for drop in drops:
        shutil.copyfile(drop, copies / drop.name)
    result = measured([cli(), "process"], env, timeout)
    warn_if_failed(result, "gn-pipelines process")
    return result, step_times(env), str(copies / "*.csv")


# ---------------------------------------------------------------- the DuckDB floor

# The same work in plain SQL. Headers are the spec's (municipal-drops.md); formats as collection
# accepts them. The patterns are RE2 (DuckDB's regexp engine), one regexp_replace per kind.
FLOOR = r"""
import json, sys, time
import duckdb
drop, output, secret = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()  # in memory, spilling to disk past the 1 GB the pipeline's stages also get
con.execute(f"SET temp_directory = '{output}.tmp'")
con.execute("SET memory_limit = '1GB'")
con.execute("SET preserve_insertion_order = false")
con.execute("SET enable_progress_bar = false")  # past 2 s a query draws one on stdout, before the JSON
seconds = {}

def step(name, sql):
    started = time.perf_counter()
    con.execute(sql)
    seconds[name] = round(time.perf_counter() - started, 2)

TS = "['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M', '%Y.%m.%d %H:%M:%S', '%Y.%m.%d %H:%M', '%Y/%m/%d %H:%M:%S', '%Y/%m/%d %H:%M', '%Y%m%d%H%M%S', '%Y%m%d%H%M', '%Y-%m-%dT%H:%M:%S']"
DT = "['%Y-%m-%d', '%Y.%m.%d', '%Y/%m/%d', '%Y%m%d']"
step("typed load", f'''
CREATE TABLE typed AS
SELECT trim("접수번호") AS receipt_no, try_strptime(trim("접수일시"), {TS}) AS received_at,
       "접수일시" AS received_at_raw, trim("시군구코드") AS sigungu_code, trim("민원인성명") AS complainant_name,
       trim("주민등록번호") AS resident_reg_no, trim("휴대전화번호") AS phone, trim("주소") AS address,
       trim("민원분야") AS category, "민원제목" AS title, "민원내용" AS body, trim("처리부서") AS department,
       trim("처리상태") AS status, CAST(try_strptime(trim("처리완료일"), {DT}) AS DATE) AS completed_on,
       "처리완료일" AS completed_on_raw
FROM read_csv('{drop}', header = true, all_varchar = true, nullstr = '')''')

RRN_OK = ("regexp_full_match(resident_reg_no, '[0-9]{6}-?[0-9]{7}') AND try_strptime("
          "CAST(CASE substr(replace(resident_reg_no, '-', ''), 7, 1) WHEN '1' THEN 19 WHEN '2' THEN 19 WHEN '5' THEN 19 "
          "WHEN '6' THEN 19 WHEN '3' THEN 20 WHEN '4' THEN 20 WHEN '7' THEN 20 WHEN '8' THEN 20 ELSE 18 END AS VARCHAR)"
          " || substr(replace(resident_reg_no, '-', ''), 1, 6), '%Y%m%d') IS NOT NULL")
PHONE = ("(?:010-?[2-9][0-9]{3}|01[16789]-?[0-9]{3,4})-?[0-9]{4}|"
         "(?:02|03[1-3]|04[1-4]|05[1-5]|06[1-4]|070|050[2-8])-?[2-9][0-9]{2,3}-?[0-9]{4}")
RULES = {
    "parseable": "(received_at IS NOT NULL OR received_at_raw IS NULL) AND (completed_on IS NOT NULL OR completed_on_raw IS NULL)",
    "receipt_no_not_null": "receipt_no IS NOT NULL", "received_at_not_null": "received_at IS NOT NULL",
    "sigungu_code_not_null": "sigungu_code IS NOT NULL", "complainant_name_not_null": "complainant_name IS NOT NULL",
    "address_not_null": "address IS NOT NULL", "category_not_null": "category IS NOT NULL",
    "title_not_null": "title IS NOT NULL", "body_not_null": "body IS NOT NULL", "status_not_null": "status IS NOT NULL",
    "category_allowed": "category IS NULL OR category IN ('도로·교통', '환경·위생', '복지', '건축·주택', '세무·재정', '상하수도', '안전·재난', '문화·관광', '농림·수산', '기타')",
    "status_allowed": "status IS NULL OR status IN ('접수', '처리중', '처리완료', '반려', '취하')",
    "sigungu_format": "sigungu_code IS NULL OR regexp_full_match(sigungu_code, '[0-9]{5}')",
    "received_not_future": "coalesce(CAST(received_at AS DATE) <= current_date, true)",
    "completed_not_future": "coalesce(completed_on <= current_date, true)",
    "rrn_valid": f"resident_reg_no IS NULL OR coalesce({RRN_OK}, false)",
    "phone_format": f"phone IS NULL OR regexp_full_match(phone, '{PHONE}')",
    "receipt_no_unique": "receipt_no IS NULL OR count(*) OVER (PARTITION BY receipt_no) = 1",
    "belongs_to_provider": "coalesce(list_contains(['48120', '48121', '48123', '48125', '48127', '48129'], sigungu_code), true)",
    "completed_not_before_received": "completed_on IS NULL OR received_at IS NULL OR completed_on >= CAST(received_at AS DATE)",
    "completed_on_when_done": "status IS DISTINCT FROM '처리완료' OR completed_on IS NOT NULL",
}
WARN = {"phone_format"}
verdicts = ", ".join(f"({sql}) AS \"{name}\"" for name, sql in RULES.items())
step("quality rules", f"CREATE TABLE verdicts AS SELECT *, {verdicts} FROM typed")
failing = con.execute("SELECT " + ", ".join(f"count(*) FILTER (NOT \"{n}\")" for n in RULES) + " FROM verdicts").fetchone()
blocking = " AND ".join(f'"{n}"' for n in RULES if n not in WARN)

# 8 identifier kinds, then the record's own name; each kind its own placeholder.
SURNAME_FREE = "가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주바사아자배하허호"
KINDS = [
    ("이메일", r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"),
    ("카드번호", r"[0-9]{4}[- ]?[0-9*]{4}[- ]?[0-9*]{4}[- ]?[0-9]{4}"),
    ("주민등록번호", r"[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])\s?-?\s?[1-8][0-9*●]{6}"),
    ("운전면허번호", r"(?:1[1-9]|2[0-6]|28)-?[0-9]{2}-?[0-9]{6}-?[0-9]{2}"),
    ("전화번호", r"(?:\+82[ -]?|0)(?:1[016789]|2|[3-6][1-5]|70)[ .)\-]?[0-9]{3,4}[ .\-]?[0-9]{4}"),
    ("계좌번호", r"[0-9]{3,6}-[0-9]{2,6}-[0-9]{2,7}(?:-[0-9]{1,3})?"),
    ("여권번호", r"[MSRODmsrod][0-9]{8}|[MSROD][0-9]{3}[A-Z][0-9]{4}"),
    ("차량번호", "[0-9]{2,3}\\s?[" + SURNAME_FREE + "]\\s?[0-9]{4}"),
]

ANY_KIND = "|".join(pattern for _, pattern in KINDS)

def scrubbed(column):
    # One RE2 pass says whether any kind occurs (most texts hold none); only those get the
    # per-kind passes that write each kind's placeholder.
    sql = column
    for placeholder, pattern in KINDS:
        sql = f"regexp_replace({sql}, '{pattern}', '[{placeholder}]', 'g')"
    sql = f"CASE WHEN regexp_matches({column}, '{ANY_KIND}') THEN {sql} ELSE {column} END"
    return f"CASE WHEN complainant_name IS NULL THEN {sql} ELSE replace({sql}, complainant_name, '[이름]') END"

def keyed(domain, value):
    return f"left(sha256('{secret}' || chr(31) || '{domain}' || chr(31) || {value}), 32)"

BIRTH_YEAR = ("CASE WHEN regexp_full_match(resident_reg_no, '[0-9]{6}-?[0-9]{7}') THEN "
              "CAST(substr(resident_reg_no, 1, 2) AS INTEGER) + CASE substr(replace(resident_reg_no, '-', ''), 7, 1) "
              "WHEN '1' THEN 1900 WHEN '2' THEN 1900 WHEN '5' THEN 1900 WHEN '6' THEN 1900 WHEN '3' THEN 2000 "
              "WHEN '4' THEN 2000 WHEN '7' THEN 2000 WHEN '8' THEN 2000 ELSE 1800 END END")
SEX = ("CASE WHEN regexp_full_match(resident_reg_no, '[0-9]{6}-?[0-9]{7}') THEN CASE WHEN "
       "CAST(substr(replace(resident_reg_no, '-', ''), 7, 1) AS INTEGER) % 2 = 1 THEN 'M' ELSE 'F' END END")
DONG = (r"coalesce(nullif(regexp_extract(address, '\(([가-힣0-9·]+(?:동|가))(?:,[^)]*)?\)\s*$', 1), ''), "
        r"nullif(regexp_extract(address, '(?:^|\s)([가-힣0-9·]+(?:읍|면|동|가))(?:\s|$)', 1), ''))")
step("pseudonymise and scrub", f'''
CREATE TABLE deidentified AS
SELECT {keyed('complaint', "'48120:' || receipt_no")} AS complaint_key,
       coalesce({keyed('person_rrn', "regexp_replace(resident_reg_no, '[^0-9]', '', 'g')")},
                {keyed('phone', "regexp_replace(phone, '[^0-9]', '', 'g')")}) AS complainant_key,
       strftime(received_at, '%Y-%m') AS received_month, sigungu_code, {DONG} AS eup_myeon_dong,
       year(received_at) - ({BIRTH_YEAR}) AS age, {SEX} AS sex, category, status,
       CAST(date_diff('day', CAST(received_at AS DATE), completed_on) AS INTEGER) AS days_to_completion,
       {scrubbed('title')} AS title, {scrubbed('body')} AS body
FROM verdicts WHERE {blocking}''')

# k-anonymity: class sizes at the finest level, then one step coarser (읍면동 → 시군구, 10-year
# age bands) for the rows whose class is under k; rows still under k are suppressed.
step("k-anonymity class sizes", '''
CREATE TABLE released AS
WITH fine AS (
    SELECT *, CAST(age // 5 * 5 AS INTEGER) AS age_band,
           count(*) OVER (PARTITION BY received_month, sigungu_code, eup_myeon_dong, age // 5, sex) AS class_size
    FROM deidentified),
coarse AS (
    SELECT * REPLACE (CASE WHEN class_size < 5 THEN NULL ELSE eup_myeon_dong END AS eup_myeon_dong,
                      CASE WHEN class_size < 5 THEN CAST(age // 10 * 10 AS INTEGER) ELSE age_band END AS age_band)
    FROM fine),
sized AS (
    SELECT *, count(*) OVER (PARTITION BY received_month, sigungu_code, eup_myeon_dong, age_band, sex) AS final_size
    FROM coarse)
SELECT * EXCLUDE (age, class_size, final_size) FROM sized WHERE final_size >= 5''')
step("write released Parquet", f"COPY released TO '{output}.released.parquet' (FORMAT parquet, COMPRESSION zstd)")
step("monthly aggregate", f'''
ATTACH '{output}.published.duckdb' AS published;
CREATE TABLE published.civil_complaints_monthly AS
SELECT sigungu_code, received_month AS month, category, count(*) AS complaints,
       count(*) FILTER (status = '처리완료') AS completed,
       round(count(*) FILTER (status = '처리완료') / count(*), 3) AS completion_rate,
       median(days_to_completion) AS median_days, quantile_cont(days_to_completion, 0.9) AS p90_days,
       count(*) < 5 AS suppressed
FROM deidentified GROUP BY ALL''')
counts = con.execute("SELECT (SELECT count(*) FROM typed), (SELECT count(*) FROM deidentified), "
                     "(SELECT count(*) FROM released), (SELECT count(*) FROM published.civil_complaints_monthly), "
                     "(SELECT count(*) FILTER (regexp_matches(title, '\\[[가-힣]+\\]')) "
                     "+ count(*) FILTER (regexp_matches(body, '\\[[가-힣]+\\]')) FROM deidentified)").fetchone()
print(json.dumps({"seconds": seconds, "rows": counts[0], "passed": counts[1], "released": counts[2],
                  "aggregate_cells": counts[3], "texts_scrubbed": counts[4], "failing": dict(zip(RULES, failing))}))
"""


def floor(drops: str, work: Path) -> tuple[Measured, dict]:
    """The floor over `drops` (a path or a glob of the chain's copies)."""
    result = measured([sys.executable, "-c", FLOOR, drops, str(work / "floor"), BENCH_KEY])
    must(result, "the DuckDB floor")
    last = result.stdout.strip().splitlines()[-1]
    return result, json.loads(last[last.index("{"):])


# ---------------------------------------------------------------- a week from every provider


def week(work: Path, days: int, timeout: float | None) -> tuple[int, Measured, Measured]:
    env = fresh_env(work)
    synth = measured([cli(), "synth", "--start", WEEK[0], "--end", week_end(days)], env)
    must(synth, "synth (week)")
    files = sum(1 for p in (work / "data" / "landing").rglob("*") if p.is_file())
    result = measured([cli(), "process", "--workers", "2"], env, timeout)
    warn_if_failed(result, "gn-pipelines process --workers 2")
    return files, synth, result


# ---------------------------------------------------------------- report


def python_loop_seconds(steps: int = 10_000_000) -> float:
    """One core's speed at plain Python (the best of three): figures from two machines compare
    only together with it (the week's files/s, unlike the ratio, is not relative to a floor)."""
    best = float("inf")
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for step in range(steps):
            total += step
        best = min(best, time.perf_counter() - started)
    return best


def machine() -> str:
    load = os.getloadavg()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parent).stdout.strip() or "?"
    return (f"{time.strftime('%Y-%m-%d %H:%M %Z')}, commit {commit}, {os.cpu_count()} CPUs, "
            f"{platform.python_version()}, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, "
            f"a 10M-step Python loop {python_loop_seconds():.2f} s")


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1] if text.strip() else ""


def mib(value: float) -> str:
    return "—" if value != value else f"{value:,.0f} MiB"  # nan: not measured


def one_size(rows: int, skip: set[str], timeout: float | None, files: int = 1) -> dict:
    figures: dict = {"rows": rows, "files": files}
    with tempfile.TemporaryDirectory(prefix=f"bench-throughput-{rows}-", ignore_cleanup_errors=True) as tmp:
        work = Path(tmp)
        if "chain" not in skip:
            ran, steps, drop = chain(rows, work, timeout, files)
            figures["chain"] = ran
            figures["steps"] = steps
            drop_lines = [line for line in ran.stdout.splitlines() if f"{PROVIDER}/civil_complaints/" in line]
            figures["drop_line"] = drop_lines[-1] if drop_lines else ""
            if len(drop_lines) != files or not all("rows accepted" in line for line in drop_lines):
                print(f"  WARNING: the drop was not accepted: {figures['drop_line'] or ran.stdout[-1000:]}",
                      file=sys.stderr, flush=True)
            print(f"  [{rows:,} rows] chain: {ran.seconds:.1f} s (exit {ran.returncode}); {last_line(ran.stdout)}",
                  flush=True)
        else:
            drop = str(synth_drops(work / "landing", rows, files)[0].parent / "*.csv")
        if "floor" not in skip:
            figures["floor"], figures["floor_detail"] = floor(drop, work)
            print(f"  [{rows:,} rows] floor: {figures['floor'].seconds:.1f} s", flush=True)
    return figures


def print_size(figures: dict) -> None:
    rows = figures["rows"]
    where = f"{PROVIDER}, {DAY}" if figures["files"] == 1 else f"{PROVIDER}, {figures['files']} daily files of 2025-03"
    print(f"\n{rows:,}-row complaint drop ({where})")
    print(f"  {'':34} {'wall':>9} {'rows/s':>10} {'peak (tree)':>13} {'largest process':>16}")
    for label, key in (("chain: gn-pipelines process", "chain"), ("floor: plain DuckDB SQL", "floor")):
        if key in figures:
            m = figures[key]
            print(f"  {label:34} {m.seconds:8.1f}s {rows / m.seconds:10,.0f} {mib(m.tree_peak_mib):>13} "
                  f"{mib(m.largest_mib):>16}" + ("  STOPPED (--timeout): unfinished" if m.timed_out else
                                                 f"  FAILED (exit {m.returncode})" if m.returncode else ""))
    if figures.get("drop_line"):
        print(f"  process said: {figures['drop_line'][:300]}")
    if "chain" in figures and "accepted" not in figures.get("drop_line", ""):
        print(f"  {'ratio chain / floor':34}     none: the chain did not process the drop (see the line above)")
    elif "chain" in figures and "floor" in figures:
        print(f"  {'ratio chain / floor':34} {figures['chain'].seconds / figures['floor'].seconds:8.1f}×"
              + (" or more" if figures["chain"].timed_out else "")
              + (" of a chain that FAILED: not a result" if figures["chain"].returncode else "")
              + "   (target ≤ 4×; peak target < 2 GB)")
    if figures.get("floor_detail"):
        detail = figures["floor_detail"]
        stages = ", ".join(f"{k} {v:.1f}" for k, v in detail["seconds"].items())
        print(f"  floor stages (s): {stages}")
        print(f"  floor: {detail['passed']:,} of {detail['rows']:,} rows pass the rules, {detail['released']:,} "
              f"released at k = 5, {detail['aggregate_cells']:,} aggregate cells, "
              f"{detail['texts_scrubbed']:,} texts with a placeholder")
    if figures.get("steps"):
        print("  chain steps (s, Dagster step stats summed over runs): "
              + ", ".join(f"{key} {seconds:.1f}" for key, seconds in figures["steps"][:12]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the big complaint drop")
    parser.add_argument("--skip", nargs="*", default=[], choices=["chain", "floor", "week"])
    parser.add_argument("--days", type=int, default=7, choices=range(1, 8), metavar="1..7",
                        help="days of the week of deliveries (fewer for a quick check)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="stop a `process` after this many seconds and report what it did by then")
    parser.add_argument("--large", action="store_true",
                        help="also run chain and floor at 10 × --rows (10M rows by default: many minutes)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind, so the children are stopped too
    skip = set(args.skip)
    print(f"bench_throughput: {machine()}", flush=True)

    sizes = [one_size(args.rows, skip, args.timeout)] if skip != {"chain", "floor"} else []
    if args.large and skip != {"chain", "floor"}:
        sizes.append(one_size(10 * args.rows, skip, args.timeout and 10 * args.timeout, files=10))
    week_figures = None
    if "week" not in skip:
        with tempfile.TemporaryDirectory(prefix="bench-throughput-week-", ignore_cleanup_errors=True) as tmp:
            week_figures = week(Path(tmp), args.days, args.timeout)
        print(f"  week: {week_figures[2].seconds:.1f} s", flush=True)

    for figures in sizes:
        print_size(figures)
    if len(sizes) == 2 and all("chain" in s for s in sizes):
        small, large = sizes
        growth = large["chain"].seconds / small["chain"].seconds
        print(f"\ngrowth ×{large['rows'] // small['rows']} rows: chain time ×{growth:.1f}, "
              f"peak tree {mib(small['chain'].tree_peak_mib)} → {mib(large['chain'].tree_peak_mib)}"
              + (f"; floor time ×{large['floor'].seconds / small['floor'].seconds:.1f}" if "floor" in large else "")
              + ("; a chain FAILED: not a result" if small["chain"].returncode or large["chain"].returncode else ""))
    if week_figures:
        files, synth, ran = week_figures
        summary = last_line(ran.stdout)
        # each file ends in one line "<provider>/<dataset>/<file>: …" (accepted, quarantined, rejected)
        done = sum(1 for line in ran.stdout.splitlines() if re.match(r"\d{5}/[a-z_]+/[^:]+: ", line))
        print(f"\nweek of deliveries, every provider ({WEEK[0]} … {week_end(args.days)}): {files} files "
              f"(synth {synth.seconds:.1f} s, not counted)")
        print(f"  process --workers 2: {ran.seconds:.1f} s = {files / ran.seconds:.2f} files/s (target ≥ 10)"
              + (f" STOPPED (--timeout) with {done} files done = {done / ran.seconds:.2f} files/s, publication not reached"
                 if ran.timed_out else "") + ", "
              f"peak tree {mib(ran.tree_peak_mib)}, largest process {mib(ran.largest_mib)}; {summary}"
              + (f" (exit {ran.returncode})" if ran.returncode else ""))
    print(f"\nfinished: {machine()}")


if __name__ == "__main__":
    main()
