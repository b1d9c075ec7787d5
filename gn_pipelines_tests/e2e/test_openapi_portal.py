"""The open-data portal in headless Chromium (Debian's package, over the DevTools protocol), and
the server over a release produced by the real platform (`synth` + `process`)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from gn_pipelines_tests.chromium import CHROMIUM, chromium
from gn_pipelines_tests.e2e.conftest import Platform
from gn_pipelines_tests.openapi_release import issue_key, point_current_release, serve, server_env, write_open_release

pytestmark = pytest.mark.e2e

OPEN_TABLES = ("civil_complaints_monthly", "nakdong_namji_target", "water_quality_station_grades")


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    base = tmp_path_factory.mktemp("portal")
    root = base / "data"
    write_open_release(root / "releases" / "r1" / "open", months=6, first_year=2006, last_year=2025, release_id="r1")
    point_current_release(root, "r1")
    with serve(root, base) as server:
        yield server, base


def _only_local(requests: list[str], base_url: str) -> list[str]:
    """Requests that would leave the machine: anything but this server and inline data."""
    return [url for url in requests if not (url.startswith(base_url + "/") or url == base_url
                                            or url.startswith("data:") or url == "about:blank")]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is installed by .ci/run")
def test_portal_renders_tables_and_charts_offline_in_chromium(portal):
    server, base = portal
    with chromium(base / "chromium-profile") as browser:
        visit, page = browser.visit(f"{server.base_url}/",
                                    "document.readyState === 'complete' && document.querySelectorAll('svg.chart').length >= 4")
        assert f"{server.base_url}/" in visit.requests  # the recording works
        assert not _only_local(visit.requests, server.base_url), visit.requests
        assert not visit.failed, visit.failed
        listed = page.evaluate("[...document.querySelectorAll('table.datasets code')].map(e => e.textContent)")
        assert listed == list(OPEN_TABLES)
        assert page.evaluate("document.body.innerText.includes('civil_complaints ')") is False
        # 남지 BOD and T-P: one point per year held (2006-2025) and the Ib target line
        assert page.evaluate("document.querySelectorAll('svg.namji-bod circle.point').length") == 20
        assert page.evaluate("document.querySelectorAll('svg.namji-tp circle.point').length") == 20
        assert page.evaluate("document.querySelectorAll('svg.namji-bod line.target').length") == 1
        # grades: 5 stations × the last 10 years; complaints: 18 시군 × 6 months
        assert page.evaluate("document.querySelectorAll('svg.station-grades rect.cell').length") == 5 * 10
        assert page.evaluate("document.querySelectorAll('svg.complaints rect.cell').length") == 18 * 6
        # charts are drawn, not just present in the markup
        assert page.evaluate("document.querySelector('svg.namji-bod').getBoundingClientRect().width") > 100

        visit, page = browser.visit(f"{server.base_url}/datasets/nakdong_namji_target",
                                    "document.readyState === 'complete'")
        assert not _only_local(visit.requests, server.base_url), visit.requests
        text = page.evaluate("document.body.innerText")
        for field in ("분류체계", "제공기관", "관리부서", "키워드", "등록일", "수정일", "트래픽", "이용허락범위",
                      "개인정보 구분", "공공누리 유형", "통계", "공공누리 제1유형"):
            assert field in text, field
        assert page.evaluate("document.querySelectorAll('table.preview-table tr').length") == 11
        sample = page.evaluate("document.querySelector('pre.sample-call').textContent")
        assert sample.startswith(f"{server.base_url}/api/nakdong_namji_target?serviceKey=")
        links = page.evaluate("[...document.querySelectorAll('a')].map(a => a.href)")
        assert not _only_local(links, server.base_url), links
        for href in (link for link in links if "/files/" in link):
            assert httpx.get(href, timeout=30).status_code == 200, href

        visit, page = browser.visit(f"{server.base_url}/docs",
                                    "document.querySelectorAll('.opblock').length >= 3", timeout=90)
        assert f"{server.base_url}/static/swagger-ui/swagger-ui-bundle.js" in visit.requests
        assert f"{server.base_url}/openapi.json" in visit.requests
        assert not _only_local(visit.requests, server.base_url), visit.requests
        paths = page.evaluate("[...document.querySelectorAll('.opblock-summary-path')].map(e => e.innerText)")
        assert {p.replace("\u200b", "") for p in paths} == {f"/api/{t}" for t in OPEN_TABLES}


def test_downloads_are_the_release_files(portal):
    server, base = portal
    open_dir = base / "data" / "open"
    for name in ("civil_complaints_monthly.parquet", "civil_complaints_monthly.csv"):
        response = httpx.get(f"{server.base_url}/files/{name}", timeout=30)
        assert response.status_code == 200 and response.content == (open_dir / name).read_bytes()
        head = httpx.head(f"{server.base_url}/files/{name}", timeout=30)  # curl -I, wget --spider
        assert head.status_code == 200 and int(head.headers["content-length"]) == (open_dir / name).stat().st_size
    assert httpx.get(f"{server.base_url}/files/civil_complaints_monthly.csv").content.startswith(b"\xef\xbb\xbf")
    for forbidden in ("civil_complaints.parquet", "catalog.json", "..%2Fcatalog.json", "welfare_summary.csv"):
        assert httpx.get(f"{server.base_url}/files/{forbidden}", timeout=30).status_code == 404, forbidden


# --- a release made by the real platform

@pytest.fixture(scope="module")
def platform_release(tmp_path_factory) -> Platform:
    """`gn-pipelines synth` (two days of 창녕's complaints and its 남지 water samples) and `process`."""
    platform = Platform.under(tmp_path_factory.mktemp("platform"))
    gn = platform.command("gn-pipelines")
    for args in (["synth", "--datasets", "civil_complaints", "water_quality", "--providers", "48740",
                  "--start", "2025-03-03", "--end", "2025-03-04", "--seed", "15"], ["process"]):
        result = subprocess.run([gn, *args], env=platform.env, capture_output=True, text=True, timeout=900,
                                cwd=platform.zones.root)
        assert result.returncode == 0, f"{args[0]}: {result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return platform


def test_serves_a_release_of_the_real_platform(platform_release, tmp_path):
    root = platform_release.zones.root
    resolved = (root / "open").resolve()
    catalog = json.loads((resolved / "catalog.json").read_text(encoding="utf-8"))
    entries = {e["table_name"]: e for e in catalog["datasets"]}
    key = issue_key(server_env(root), "platform test")
    with serve(root, tmp_path) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        health = client.get("/health").json()
        assert health["release"] == resolved.parent.name and health["directory"] == str(resolved)
        for table, entry in entries.items():
            answer = client.get(f"/api/{table}", params={"serviceKey": key, "numOfRows": 1000}).json()["response"]
            if entry.get("privacy_class") in ("익명정보", "통계"):
                assert answer["header"]["resultCode"] == "00", table
                assert answer["body"]["totalCount"] == entry["row_count"], table
                fields = {name for item in answer["body"]["items"]["item"] for name in item}
                assert not fields & {"complaintKey", "complainantKey", "recipientKey", "title", "body"}, table
            else:
                assert answer == {"header": {"resultCode": "12", "resultMsg": "NO_OPENAPI_SERVICE_ERROR"}}, table
        assert client.get("/").status_code == 200


def test_real_exported_files_through_the_api_and_charts(platform_release, tmp_path):
    """The real export's Parquet files and catalog served from a plain `open/` directory (a copy),
    its complaints entry re-declared 가명정보 as an export without a public release would be."""
    source = (platform_release.zones.root / "open").resolve()
    root = tmp_path / "data"
    shutil.copytree(source, root / "open")
    catalog = json.loads((root / "open" / "catalog.json").read_text(encoding="utf-8"))
    for entry in catalog["datasets"]:
        if entry["table_name"] == "civil_complaints":
            entry["privacy_class"] = "가명정보"
        assert entry["privacy_class"] in ("익명정보", "통계", "가명정보")
    (root / "open" / "catalog.json").write_text(json.dumps(catalog, ensure_ascii=False), encoding="utf-8")
    entries = {e["table_name"]: e for e in catalog["datasets"]}
    key = issue_key(server_env(root), "platform test")
    with serve(root, tmp_path) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        for table in ("civil_complaints_monthly", "water_quality_measurements", "nakdong_namji_target"):
            body = client.get(f"/api/{table}", params={"serviceKey": key, "numOfRows": 1000}).json()["response"]["body"]
            assert body["totalCount"] == entries[table]["row_count"] > 0, table
        rows = client.get("/api/civil_complaints_monthly", params={
            "serviceKey": key, "sigunguCode": "48740", "month": "202503", "numOfRows": 1000}).json()["response"]["body"]
        assert rows["totalCount"] > 0 and {i["sigunguCode"] for i in rows["items"]["item"]} == {"48740"}
        namji = client.get("/api/nakdong_namji_target", params={"serviceKey": key, "year": "2025"}).json()
        assert namji["response"]["body"]["items"]["item"][0]["year"] == 2025
        assert client.get("/api/civil_complaints", params={"serviceKey": key}).json()["response"]["header"][
            "resultCode"] == "12"
        index = client.get("/").text
        assert 'class="chart namji-bod"' in index and 'class="chart complaints"' in index
