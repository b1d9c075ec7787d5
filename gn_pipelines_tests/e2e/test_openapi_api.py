"""The OpenAPI as a client meets it: the real `gn-pipelines serve` on a loopback port, keys from
the real `apikey` command, answers read with httpx, over a release in the platform's versioned
layout (`open` -> `releases/current/open`, swapped by one symlink)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from gn_pipelines_tests.openapi_release import (
    Server,
    command,
    issue_key,
    point_current_release,
    serve,
    server_env,
    write_open_release,
)

pytestmark = pytest.mark.e2e

TABLE = "civil_complaints_monthly"


@dataclass
class Api:
    server: Server
    root: Path
    env: dict[str, str]
    key: str
    entries: dict[str, dict]
    client: httpx.Client

    def get(self, table: str = TABLE, *, key: str | None = None, **params) -> httpx.Response:
        return self.client.get(f"/api/{table}", params={"serviceKey": self.key if key is None else key, **params})

    def json(self, table: str = TABLE, **params) -> dict:
        response = self.get(table, **params)
        assert response.status_code == 200, response.text
        return response.json()["response"]


def result_code(response: httpx.Response) -> str:
    if response.headers["content-type"].startswith("application/xml"):
        return ET.fromstring(response.content).findtext("header/resultCode")
    return response.json()["response"]["header"]["resultCode"]


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> Api:
    base = tmp_path_factory.mktemp("openapi")
    root = base / "data"
    entries = write_open_release(root / "releases" / "r1" / "open", months=6, scale=1, seed=1, release_id="r1")
    point_current_release(root, "r1")
    env = server_env(root)
    key = issue_key(env, "test client")
    with serve(root, base) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield Api(server, root, env, key, entries, client)


def test_health_reports_the_release_served(api):
    health = api.client.get("/health").json()
    assert health["status"] == "ok" and health["release"] == "r1"
    assert health["open_tables"] == ["civil_complaints_monthly", "nakdong_namji_target",
                                     "water_quality_station_grades"]


def test_pages_cover_the_table_once_in_order(api):
    total = api.entries[TABLE]["row_count"]
    seen = []
    for page_no in range(1, total // 50 + 2):
        body = api.json(pageNo=page_no, numOfRows=50)["body"]
        assert (body["pageNo"], body["numOfRows"], body["totalCount"]) == (page_no, 50, total)
        seen += [(i["sigunguCode"], i["month"], i["category"]) for i in body["items"]["item"]]
    assert len(seen) == total == len(set(seen))
    assert len(api.json(pageNo=total // 50 + 1, numOfRows=50)["body"]["items"]["item"]) == total % 50
    beyond = api.json(pageNo=99, numOfRows=50)
    assert beyond["header"] == {"resultCode": "00", "resultMsg": "NORMAL SERVICE."}
    assert beyond["body"]["items"]["item"] == [] and beyond["body"]["totalCount"] == total
    assert api.json(numOfRows=1000)["body"]["totalCount"] == total
    assert len(api.json()["body"]["items"]["item"]) == 10  # the default page


def test_filters_select_exactly_their_rows(api):
    body = api.json(sigunguCode="48740", numOfRows=1000)["body"]
    assert body["totalCount"] == 6 * 3 and {i["sigunguCode"] for i in body["items"]["item"]} == {"48740"}
    both = api.json(sigunguCode="48740", month="202503", category="환경")["body"]["items"]["item"]
    assert [(i["month"], i["category"]) for i in both] == [("2025-03", "환경")]
    assert api.json(month="2025-03", numOfRows=1000)["body"] == api.json(month="202503", numOfRows=1000)["body"]
    assert api.json(year="2025")["body"]["totalCount"] == api.entries[TABLE]["row_count"]
    assert api.json(year="2024")["body"]["totalCount"] == 0
    namji = api.json("nakdong_namji_target", year="2020")["body"]["items"]["item"]
    assert [row["year"] for row in namji] == [2020]
    station = api.json("water_quality_station_grades", stationName="남지", parameter="overall", numOfRows=100)["body"]
    assert station["totalCount"] == 20 and {i["stationName"] for i in station["items"]["item"]} == {"남지"}


def test_xml_answers_the_same_page(api):
    response = api.get(resultType="xml", sigunguCode="48170", numOfRows=5)
    assert response.headers["content-type"].startswith("application/xml")
    tree = ET.fromstring(response.content)
    assert tree.findtext("header/resultCode") == "00" and tree.findtext("header/resultMsg") == "NORMAL SERVICE."
    assert tree.findtext("body/totalCount") == "18" and tree.findtext("body/numOfRows") == "5"
    items = tree.findall("body/items/item")
    as_json = api.json(sigunguCode="48170", numOfRows=5)["body"]["items"]["item"]
    assert [i.findtext("month") for i in items] == [i["month"] for i in as_json]
    assert [i.findtext("complaints") for i in items] == [str(i["complaints"] or "") for i in as_json]
    assert result_code(api.get(_type="xml", key="not-a-key")) == "30"  # the older spelling, errors in XML too


@pytest.mark.parametrize("params", [
    {"numOfRows": "0"}, {"numOfRows": "1001"}, {"numOfRows": "ten"}, {"pageNo": "0"}, {"pageNo": "-1"},
    {"resultType": "csv"}, {"sigunguCode": "4874"}, {"sigunguCode": "48740'; DROP TABLE x"},
    {"month": "202513"}, {"year": "25"}, {"suppressed": "maybe"}, {"stationName": "남지"}, {"orderBy": "month"},
    # digits that are not ASCII: int() failed on some (a 500), others passed as a code matching nothing
    {"numOfRows": "²"}, {"pageNo": "①"}, {"numOfRows": "１０"}, {"sigunguCode": "４８７４０"}, {"year": "２０２５"},
], ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()))
def test_invalid_parameters_answer_10(api, params):
    response = api.get(**params)
    assert response.status_code == 200
    assert response.json()["response"]["header"] == {"resultCode": "10",
                                                     "resultMsg": "INVALID_REQUEST_PARAMETER_ERROR"}
    assert "body" not in response.json()["response"]


def test_a_parameter_twice_answers_10(api):
    url = f"/api/{TABLE}?serviceKey={quote(api.key, safe='')}&pageNo=1&pageNo=2"
    assert result_code(api.client.get(url)) == "10"


@pytest.mark.parametrize("table", ["civil_complaints", "welfare_summary", "welfare_recipients", "no_such_table"])
def test_tables_that_are_not_open_data_answer_12_and_no_rows(api, table):
    """civil_complaints is 가명정보 (its file is in the release directory all the same);
    welfare_summary's entry declares no privacy class; the others are not in the release."""
    for params in ({}, {"resultType": "xml"}):
        response = api.get(table, **params)
        assert result_code(response) == "12"
        assert b"item" not in response.content and "처리완료" not in response.text
    assert (api.root / "open" / "civil_complaints.parquet").is_file()
    assert api.client.get("/files/civil_complaints.csv").status_code == 404
    assert api.client.get("/datasets/civil_complaints").status_code == 404
    assert "civil_complaints" not in {e["table_name"] for e in api.client.get("/catalog.json").json()["datasets"]}


def test_keys_missing_unknown_or_revoked(api):
    assert result_code(api.client.get(f"/api/{TABLE}")) == "30"
    assert result_code(api.get(key="")) == "30"
    assert result_code(api.get(key=api.key[:-2] + "AA")) == "30"
    revoked = issue_key(api.env, "revoked client")
    assert result_code(api.get(key=revoked)) == "00"
    result = command("apikey", "revoke", revoked, env=api.env)
    assert result.returncode == 0, result.stderr
    assert result_code(api.get(key=revoked)) == "20"
    assert command("apikey", "revoke", "no-such-key", env=api.env).returncode == 1


def test_keys_encoded_once_twice_or_not_at_all(api):
    assert "=" in api.key  # the portal's keys end in '=', which is what clients get wrong
    once, twice = quote(api.key, safe=""), quote(quote(api.key, safe=""), safe="")
    assert twice != once and "%253D" in twice
    for sent in (once, twice, api.key.replace("+", "%2B")):  # '=' unencoded is read as data
        response = api.client.get(f"/api/{TABLE}?serviceKey={sent}&numOfRows=1")
        assert result_code(response) == "00", sent
    # many data.go.kr services spell it ServiceKey
    assert result_code(api.client.get(f"/api/{TABLE}?ServiceKey={twice}&numOfRows=1")) == "00"


def test_daily_limit_answers_22_and_usage_is_recorded(api):
    limited = issue_key(api.env, "limited client", daily_limit=3)
    codes = [result_code(api.get(key=limited, numOfRows=1)) for _ in range(5)]
    assert codes == ["00", "00", "00", "22", "22"]
    assert api.get(key=limited).json()["response"]["header"]["resultMsg"] == \
        "LIMITED_NUMBER_OF_SERVICE_REQUESTS_EXCEEDS_ERROR"
    assert result_code(api.get(key=api.key)) == "00"  # another key is not affected
    listing = command("apikey", "list", env=api.env).stdout
    line = next(line for line in listing.splitlines() if "limited client" in line)
    assert line.split()[-4:-2] == ["3", "3"], line  # daily limit 3, 3 calls today
    usage = command("apikey", "usage", env=api.env).stdout
    assert any("limited client" in line and line.split()[-2:] == ["3", "3"] for line in usage.splitlines()), usage


def test_key_store_holds_hashes_only_and_is_private(api):
    database = api.root / "api" / "keys.sqlite"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert stat.S_IMODE(database.parent.stat().st_mode) == 0o700
    for path in database.parent.iterdir():
        assert api.key.encode() not in path.read_bytes(), path
    with sqlite3.connect(database) as connection:
        owners = {owner for (owner,) in connection.execute("SELECT owner FROM api_keys")}
    assert "test client" in owners


def test_access_log_names_key_ids_never_keys(api):
    api.get(numOfRows=1)
    log = api.server.log.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(line["path"] == f"/api/{TABLE}" and line["result_code"] == "00" and line["key_id"] for line in lines)
    for form in (api.key, quote(api.key, safe=""), quote(quote(api.key, safe=""), safe="")):
        assert form not in log
    assert not any("servicekey" in line["query"].lower() for line in lines)


def test_a_key_under_another_name_is_not_logged(api):
    """A key sent as `service_key` (or pasted into a filter) is refused, and its value withheld
    from the log line all the same."""
    assert result_code(api.client.get(f"/api/{TABLE}", params={"service_key": api.key})) == "30"
    assert result_code(api.get(category=api.key)) == "00"
    log = api.server.log.read_text(encoding="utf-8")
    for form in (api.key, quote(api.key, safe="")):
        assert form not in log
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(line["query"] == "service_key=(withheld)" for line in lines)


def test_openapi_document_lists_every_open_table(api):
    document = api.client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {f"/api/{t}" for t in
                                      ("civil_complaints_monthly", "nakdong_namji_target", "water_quality_station_grades")}
    parameters = {p["name"] for p in document["paths"][f"/api/{TABLE}"]["get"]["parameters"]}
    assert {"pageNo", "numOfRows", "resultType", "sigunguCode", "month", "year", "category"} <= parameters


def test_only_the_swagger_ui_files_docs_loads_are_served(api):
    """The package's own index.html and initializer (which load petstore.swagger.io) are not."""
    assert "/static/swagger-ui/swagger-ui-bundle.js" in api.client.get("/docs").text
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"):
        assert api.client.get(f"/static/swagger-ui/{name}").status_code == 200, name
    for name in ("index.html", "swagger-initializer.js", "oauth2-redirect.html", "..%2F__init__.py"):
        assert api.client.get(f"/static/swagger-ui/{name}").status_code == 404, name


def test_release_swapped_while_requests_run(api):
    """Requests keep being answered while `releases/current` is swapped back and forth; every
    answer is wholly one release's, and new requests see the new release."""
    second = write_open_release(api.root / "releases" / "r2" / "open", months=7, scale=10, seed=1,
                                release_id="r2")
    # one 시군's rows: 6 months × 3 categories in r1, 7 × 3 in r2
    releases_by_total = {18: "r1", 21: "r2"}
    assert second[TABLE]["row_count"] == 18 * 21
    answers, errors, stop = [], [], threading.Event()

    def hammer():
        with httpx.Client(base_url=api.server.base_url, timeout=30) as client:
            while not stop.is_set():
                try:
                    body = client.get(f"/api/{TABLE}", params={"serviceKey": api.key, "numOfRows": 100,
                                                               "sigunguCode": "48740"}).json()["response"]
                    answers.append(body)
                except Exception as error:  # noqa: BLE001 - every failure is reported below
                    errors.append(repr(error))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for release in ("r2", "r1", "r2", "r1", "r2"):
            point_current_release(api.root, release)
            _wait_for_release(api, release)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors and len(answers) > 10
    for answer in answers:
        assert answer["header"]["resultCode"] == "00"
        release = releases_by_total[answer["body"]["totalCount"]]
        counts = [i["complaints"] for i in answer["body"]["items"]["item"] if i["complaints"] is not None]
        # release r2 multiplies every count by 10: one answer never mixes the two
        assert all(c % 10 == 0 for c in counts) == (release == "r2"), answer
    assert api.client.get("/health").json()["release"] == "r2"
    point_current_release(api.root, "r1")
    _wait_for_release(api, "r1")


def _wait_for_release(api: Api, release: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while api.client.get("/health").json()["release"] != release:
        assert time.monotonic() < deadline, f"the server still serves another release than {release}"
        time.sleep(0.05)


def test_a_broken_release_answers_99_and_the_server_stops_gracefully(tmp_path):
    root = tmp_path / "data"
    write_open_release(root / "open")
    (root / "open" / "catalog.json").write_text("{ not json", encoding="utf-8")
    env = server_env(root)
    key = issue_key(env, "client")
    with serve(root, tmp_path) as server:
        response = httpx.get(f"{server.base_url}/api/{TABLE}", params={"serviceKey": key}, timeout=30)
        assert response.status_code == 500
        assert response.json()["response"]["header"] == {"resultCode": "99", "resultMsg": "UNKNOWN_ERROR"}
        server.stop()
    errors = (tmp_path / "serve.stderr").read_text(encoding="utf-8")
    assert "stopped: every request in flight was answered" in errors
    assert key not in errors


def test_before_the_first_publication_the_api_answers_no_data(tmp_path):
    """No open release yet: 03 NODATA_ERROR with 503 (the pages answer 503 too), not a 500 and a trace."""
    root = tmp_path / "data"
    root.mkdir()
    env = server_env(root)
    key = issue_key(env, "client")
    with serve(root, tmp_path) as server:
        response = httpx.get(f"{server.base_url}/api/{TABLE}", params={"serviceKey": key}, timeout=30)
        assert response.status_code == 503
        assert response.json()["response"]["header"] == {"resultCode": "03", "resultMsg": "NODATA_ERROR"}
        server.stop()
    assert "Traceback" not in (tmp_path / "serve.stderr").read_text(encoding="utf-8")


def test_sigterm_lets_a_download_in_flight_finish(tmp_path):
    """Graceful shutdown: a download started before SIGTERM is sent whole, then the server exits."""
    root = tmp_path / "data"
    write_open_release(root / "open")
    big = root / "open" / "namji_archive.bin"
    big.write_bytes(os.urandom(1 << 20) * 24)  # 24 MiB: far more than the socket buffers hold
    catalog_path = root / "open" / "catalog.json"
    catalog = json.loads(catalog_path.read_text(encoding="utf-8"))
    entry = next(e for e in catalog["datasets"] if e["table_name"] == "nakdong_namji_target")
    entry["attachments"].append({"title": "archive", "href": big.name})
    catalog_path.write_text(json.dumps(catalog, ensure_ascii=False), encoding="utf-8")
    with serve(root, tmp_path) as server:
        with httpx.stream("GET", f"{server.base_url}/files/{big.name}", timeout=60) as response:
            assert response.status_code == 200
            chunks = response.iter_bytes()
            received = len(next(chunks))
            server.process.send_signal(signal.SIGTERM)
            received += sum(len(chunk) for chunk in chunks)
        assert received == big.stat().st_size == int(response.headers["content-length"])
        server.process.wait(timeout=30)
    assert "stopped: every request in flight was answered" in (tmp_path / "serve.stderr").read_text(encoding="utf-8")


def test_a_selection_too_large_to_hold_is_paged_from_duckdb(api, monkeypatch):
    """Above SELECTION_ROWS_KEPT rows a selection is counted and each page read with LIMIT and
    OFFSET, never held: the same pages and totals as a held one, and nothing cached."""
    from gn_pipelines.openapi import query
    from gn_pipelines.openapi.query import PageRequest, PagedSelection, Selection, query_page, select_rows
    from gn_pipelines.openapi.release import ReleaseReader

    release = ReleaseReader(api.root / "open").current()
    request = PageRequest(3, 7, "json", ())
    held = select_rows(release, TABLE, request)
    assert isinstance(held, Selection) and held.total > 30
    expected = [query_page(release, TABLE, PageRequest(page, 7, "json", ())) for page in (1, 3, 99)]
    fresh = ReleaseReader(api.root / "open").current()
    monkeypatch.setattr(query, "SELECTION_ROWS_KEPT", 10)
    paged = select_rows(fresh, TABLE, request)
    assert isinstance(paged, PagedSelection) and paged.total == held.total
    assert [query_page(fresh, TABLE, PageRequest(page, 7, "json", ())) for page in (1, 3, 99)] == expected
    assert fresh.cached_selection(query.selection_key(TABLE, request)) is None


def test_the_selections_kept_are_bounded_by_their_rows(api, monkeypatch):
    from gn_pipelines.openapi import release as release_module
    from gn_pipelines.openapi.query import parse_page_request, select_rows, selection_key, table_filters
    from gn_pipelines.openapi.release import ReleaseReader

    release = ReleaseReader(api.root / "open").current()
    filters = table_filters(release.columns[TABLE])
    requests = [parse_page_request([("sigunguCode", code)], filters) for code in ("48740", "48720", "48890")]
    sizes = [select_rows(release, TABLE, r).total for r in requests[:1]]
    monkeypatch.setattr(release_module, "SELECTION_ROWS_CACHED", sizes[0] * 2)
    for request in requests:
        select_rows(release, TABLE, request)
    kept = [release.cached_selection(selection_key(TABLE, r)) is not None for r in requests]
    assert kept == [False, True, True]  # the least recently used went first, to stay within the rows
