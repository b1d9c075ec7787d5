"""Open releases in the platform's export format, for the OpenAPI tests and benchmark.

`write_open_release` writes Parquet, BOM CSV and catalog.json exactly as
`publish.open_data.export_open_data` does (same writers, same entry fields), from seeded rows, in
a fraction of the time a whole platform run takes. `serve` starts the real server.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
import httpx

from gn_pipelines.ingest.casting import sql_text
from gn_pipelines.publish.open_data import catalog_json, write_csv_with_bom
from gn_pipelines.publish.tables import LICENCE, published_table
from gn_pipelines.reference.providers import PROVIDERS_BY_CODE, SIGUN_CODES
from gn_pipelines_tests.conftest import installed_command

STATIONS = (("2020A10", "남지"), ("2020A32", "창녕함안보"), ("2020A60", "삼랑진"), ("2022A10", "물금"),
            ("2014A70", "합천창녕보"))
CATEGORIES = ("교통", "환경", "복지")
GRADES = ("Ia", "Ib", "II", "III", "IV", "V", "VI")


def _complaints_monthly(months: int, scale: int, rng: random.Random) -> list[tuple]:
    rows = []
    for code in SIGUN_CODES:
        for month in range(1, months + 1):
            for category in CATEGORIES:
                complaints = rng.randint(0, 60) * scale + scale
                suppressed = complaints < 5
                rows.append((code, PROVIDERS_BY_CODE[code].name, f"2025-{month:02d}", category,
                             None if suppressed else complaints, None if suppressed else complaints // 2,
                             None if suppressed else 0.5, 3.0, 9.0, suppressed, "primary" if suppressed else None))
    return rows


def _namji(first_year: int, last_year: int, rng: random.Random) -> list[tuple]:
    rows = []
    for year in range(first_year, last_year + 1):
        bod, tp = round(rng.uniform(1.2, 3.4), 1), round(rng.uniform(0.02, 0.12), 3)
        rows.append((year, bod, "Ib" if bod <= 2 else "II", tp, "II" if tp > 0.04 else "Ib", "II", "Ib",
                     max(0.0, bod - 2), max(0.0, tp - 0.04), bod <= 2 and tp <= 0.04, 12))
    return rows


def _grades(first_year: int, last_year: int, rng: random.Random) -> list[tuple]:
    rows = []
    for code, name in STATIONS:
        for year in range(first_year, last_year + 1):
            for parameter in ("bod_mg_l", "tp_mg_l", "overall"):
                mean = None if parameter == "overall" else round(rng.uniform(0.5, 5), 2)
                rows.append((code, name, year, parameter, mean, 12, 0, rng.choice(GRADES[:5]), True, None))
    return rows


def _complaints_records(rng: random.Random) -> list[dict]:
    return [{"received_month": f"2025-0{1 + i % 6}", "sigungu_code": SIGUN_CODES[i % 18],
             "sigungu_name": PROVIDERS_BY_CODE[SIGUN_CODES[i % 18]].name, "category": CATEGORIES[i % 3],
             "status": "처리완료", "days_to_completion": i % 9, "age_band": "40-44", "sex": "F"}
            for i in range(40)]


TABLES = {
    "civil_complaints_monthly": "통계",
    "nakdong_namji_target": "통계",
    "water_quality_station_grades": "통계",
    "civil_complaints": "가명정보",  # a pseudonymised table in the release directory: never served
    "welfare_summary": None,  # an entry written before privacy classes existed: not open
}


def write_open_release(open_dir: Path, *, months: int = 6, scale: int = 1, seed: int = 15,
                       first_year: int = 2006, last_year: int = 2025, release_id: str | None = None) -> dict:
    """Write an open release into `open_dir`; returns its catalog entries by table name.
    `scale` multiplies every complaint count, so two releases differ in every row."""
    rng = random.Random(seed)
    open_dir.mkdir(parents=True, exist_ok=True)
    rows = {"civil_complaints_monthly": _complaints_monthly(months, scale, rng),
            "nakdong_namji_target": _namji(first_year, last_year, rng),
            "water_quality_station_grades": _grades(first_year, last_year, rng),
            "civil_complaints": _complaints_records(rng),
            "welfare_summary": []}
    entries = []
    connection = duckdb.connect()
    try:
        for name, privacy_class in TABLES.items():
            table = published_table(name)
            columns = [c for c in table.columns if c.name not in table.open_data_withheld]
            connection.execute(f'CREATE TABLE "{name}" ({", ".join(f"{c.name} {c.type}" for c in columns)})')
            if rows[name] and isinstance(rows[name][0], dict):
                rows[name] = [tuple(row.get(c.name) for c in columns) for row in rows[name]]
            if rows[name]:
                connection.executemany(f'INSERT INTO "{name}" VALUES ({", ".join("?" * len(columns))})', rows[name])
            source = f'SELECT * FROM "{name}"'
            parquet, csv = open_dir / f"{name}.parquet", open_dir / f"{name}.csv"
            connection.execute(f"COPY ({source}) TO {sql_text(str(parquet))} (FORMAT parquet, COMPRESSION zstd)")
            write_csv_with_bom(connection, source, csv)
            entry = {
                "table_name": name, "title_ko": table.title_ko, "title_en": table.title_en,
                "description_ko": table.description_ko, "description_en": table.description_en,
                "grain": table.grain,
                "columns": [{"name": c.name, "type": c.type, "comment_ko": c.comment_ko, "comment_en": c.comment_en}
                            for c in columns],
                "withheld_columns": list(table.open_data_withheld), "row_count": len(rows[name]),
                "last_updated": "2026-03-01T02:00:00+09:00", "providers": "48740 창녕군", "licence": LICENCE,
                "privacy_treatment": table.privacy_treatment,
                "downloads": [{"format": p.suffix.lstrip("."), "href": p.name, "bytes": p.stat().st_size}
                              for p in (parquet, csv)],
                "attachments": []}
            if privacy_class:
                entry["privacy_class"] = privacy_class
            entries.append(entry)
    finally:
        connection.close()
    text = catalog_json(entries, f"2026-03-01T02:00:{seed % 60:02d}+09:00")
    if release_id:
        import json
        catalog = json.loads(text)
        catalog["release_id"] = release_id
        text = json.dumps(catalog, ensure_ascii=False, indent=2)
    temp = open_dir / ".catalog.json.tmp"
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, open_dir / "catalog.json")  # last, as the exporter does
    return {e["table_name"]: e for e in entries}


def point_current_release(root: Path, release_id: str) -> None:
    """Make `releases/<id>` current by one atomic symlink swap; `open` resolves through it."""
    releases = root / "releases"
    link = releases / f".current-{release_id}"
    link.unlink(missing_ok=True)
    link.symlink_to(release_id)
    os.replace(link, releases / "current")
    if not (root / "open").is_symlink():
        (root / "open").symlink_to(Path("releases") / "current" / "open")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def command(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([installed_command("gn-pipelines"), *args], env=env, capture_output=True, text=True,
                          timeout=120)


def issue_key(env: dict[str, str], owner: str, daily_limit: int | None = None) -> str:
    """A key issued by the real command: its last line of output."""
    extra = ("--daily-limit", str(daily_limit)) if daily_limit else ()
    result = command("apikey", "issue", "--owner", owner, *extra, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


class Server:
    def __init__(self, process: subprocess.Popen, base_url: str, log: Path):
        self.process, self.base_url, self.log = process, base_url, log

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, as a service manager stops it; the exit code of a graceful shutdown."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


@contextmanager
def serve(data_root: Path, workdir: Path, *, extra_env: dict[str, str] | None = None,
          ready_within: float = 60, workers: int = 1) -> Iterator[Server]:
    """`gn-pipelines serve` on a free loopback port, ready when /health answers (bounded poll)."""
    port = free_port()
    env = server_env(data_root) | (extra_env or {})
    stdout, stderr = workdir / "serve.stdout", workdir / "serve.stderr"
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        process = subprocess.Popen([installed_command("gn-pipelines"), "serve", "--host", "127.0.0.1",
                                    "--port", str(port), "--workers", str(workers)], env=env, stdout=out, stderr=err, cwd=workdir)
    server = Server(process, f"http://127.0.0.1:{port}", stdout)
    try:
        deadline = time.monotonic() + ready_within
        while True:
            assert process.poll() is None, f"serve exited {process.returncode}: {stderr.read_text()[-3000:]}"
            try:
                if httpx.get(f"{server.base_url}/health", timeout=2).status_code in (200, 503):
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"serve not ready in {ready_within} s: {stderr.read_text()[-3000:]}"
            time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def server_env(data_root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GN_PSEUDONYM_KEY",)}
    return env | {"GN_DATA_ROOT": str(data_root), "PYTHONUNBUFFERED": "1"}
