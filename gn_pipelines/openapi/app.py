"""The web application: the keyed API at /api/{table}, the portal, /docs and /health.

FastAPI on Starlette: the team's Dagster webserver already runs on Starlette and uvicorn, and
FastAPI is the most used, actively released Python API framework; its Swagger UI page is pointed
at assets served from the `swagger-ui-bundle` package, so /docs needs no CDN.
"""

from __future__ import annotations

import json
import logging
import re
import time
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qsl, quote

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from gn_pipelines.openapi import portal
from gn_pipelines.openapi.convention import ApiError, ResultCode, render
from gn_pipelines.openapi.keys import KeyStore, now_text
from gn_pipelines.openapi.openapi_doc import openapi_document
from gn_pipelines.openapi.query import (Selection, answer_page, is_service_key, parse_page_request, result_type_of,
                                       select_rows, selection_key, service_key_of, table_filters)
from gn_pipelines.openapi.release import ReleaseReader

ACCESS_LOGGER = "gn_pipelines.openapi.access"
log = logging.getLogger("gn_pipelines.openapi")
SWAGGER_UI_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")
MEDIA_TYPES = {".parquet": "application/vnd.apache.parquet", ".csv": "text/csv; charset=utf-8",
               ".png": "image/png", ".json": "application/json"}


class AccessLog:
    """ASGI middleware: one JSON line per request, with the key's id and never the key itself."""

    def __init__(self, app):
        self.app = app
        self.logger = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = {"code": 500}

        async def send_and_note(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        scope.setdefault("state", {})
        try:
            await self.app(scope, receive, send_and_note)
        finally:
            state = scope["state"]
            self.logger.info(json.dumps({
                "time": now_text(), "client": (scope.get("client") or ("", 0))[0],
                "method": scope["method"], "path": scope["path"], "query": _query_without_key(scope),
                "status": status["code"], "result_code": state.get("result_code"), "key_id": state.get("key_id"),
                "release": state.get("release"), "detail": state.get("detail"),
                "ms": round((time.perf_counter() - started) * 1000, 2)}, ensure_ascii=False))


# A value logged under another name could still be a key (service_key=…, a key pasted into the
# wrong parameter): withheld when its name mentions a key or it looks like one (long, base64).
_KEY_LIKE_NAME = re.compile(r"key", re.IGNORECASE)
_KEY_LIKE_VALUE = re.compile(r"[A-Za-z0-9+/=_%-]{24,}")


def _query_without_key(scope) -> str:
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    return "&".join(f"{name}={'(withheld)' if _KEY_LIKE_NAME.search(name) or _KEY_LIKE_VALUE.fullmatch(value) else quote(value, safe='')}"
                    for name, value in pairs if not is_service_key(name))


def create_app(data_root: Path) -> FastAPI:
    """The application over `<data_root>/open` with keys in `<data_root>/api/keys.sqlite`."""
    import swagger_ui_bundle

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.keys = KeyStore.under(data_root)
        app.state.releases = ReleaseReader(data_root / "open")
        log.info("serving the open release under %s", data_root / "open")
        yield
        log.info("stopped: every request in flight was answered")

    app = FastAPI(title="경상남도 공공데이터 OpenAPI", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.add_middleware(AccessLog)

    @app.exception_handler(FileNotFoundError)
    async def no_release(request: Request, error: FileNotFoundError) -> HTMLResponse:
        # before the first publication there is no open/ to serve: say so instead of a trace
        return HTMLResponse("<!DOCTYPE html><html lang=\"ko\"><meta charset=\"utf-8\"><title>준비 중</title>"
                            "<p>아직 공개된 배포판이 없습니다. 공개 후 다시 방문해 주세요.</p></html>", status_code=503)
    # only what /docs loads: the package's own index.html and initializer point at petstore.swagger.io
    swagger_files = {name: Path(swagger_ui_bundle.swagger_ui_path) / name for name in SWAGGER_UI_FILES}

    @app.get("/static/swagger-ui/{name}")
    def swagger_ui_file(name: str) -> Response:
        if name not in swagger_files:
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        return FileResponse(swagger_files[name])

    @app.get("/api/{table}")
    async def api(table: str, request: Request) -> Response:
        # async: a page of a selection already in memory is answered on the event loop (the key
        # checks are single SQLite statements); loading a release or a new selection goes to a thread
        items = request.query_params.multi_items()
        result_type = result_type_of(dict(items))
        state, status = request.state, 200
        try:
            key = app.state.keys.authenticate(service_key_of(items))
            state.key_id = key.key_id
            release = app.state.releases.loaded() or await run_in_threadpool(app.state.releases.current)
            state.release = release.release_id
            if not release.is_open(table):
                raise ApiError(ResultCode.NO_OPENAPI_SERVICE, f"{table} is not an open-data service")
            page_request = parse_page_request(items, table_filters(release.columns[table]))
            app.state.keys.count_call(key)
            selection = release.cached_selection(selection_key(table, page_request)) or \
                await run_in_threadpool(select_rows, release, table, page_request)
            # a page of a held selection is sliced here; a larger one's page is a DuckDB query
            body, media_type = (answer_page(selection, page_request) if isinstance(selection, Selection)
                                else await run_in_threadpool(answer_page, selection, page_request))
            state.result_code = ResultCode.NORMAL.code
        except ApiError as error:
            body, media_type = render(None, result_type, error.result)
            state.result_code, state.detail = error.result.code, error.detail
        except FileNotFoundError:  # before the first publication: nothing to serve yet, not a fault
            body, media_type = render(None, result_type, ResultCode.NO_DATA)
            state.result_code, state.detail, status = ResultCode.NO_DATA.code, "no open release yet", 503
        except Exception:  # the client gets 99; the log gets the trace (never the key)
            log.exception("unexpected error answering /api/%s", table)
            body, media_type = render(None, result_type, ResultCode.UNKNOWN)
            state.result_code, status = ResultCode.UNKNOWN.code, 500
        return Response(body, status_code=status, media_type=media_type)

    @app.get("/health")
    def health(request: Request) -> JSONResponse:
        try:
            release = app.state.releases.current()
        except FileNotFoundError as missing:
            return JSONResponse({"status": "no release", "detail": str(missing)}, status_code=503)
        except Exception as error:  # an unreadable release: unhealthy, say why
            log.exception("the open release cannot be read")
            return JSONResponse({"status": "error", "detail": f"{type(error).__name__}: {error}"}, status_code=503)
        request.state.release = release.release_id
        return JSONResponse({"status": "ok", "release": release.release_id, "directory": str(release.directory),
                             "generated_at": release.catalog.get("generated_at"),
                             "open_tables": sorted(release.open_tables)})

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        release = app.state.releases.current()
        request.state.release = release.release_id
        return HTMLResponse(portal.index_page(release, app.state.keys.first_served(release.open_tables)))

    @app.get("/datasets/{table}", response_class=HTMLResponse)
    def dataset(table: str, request: Request) -> HTMLResponse:
        release = app.state.releases.current()
        request.state.release = release.release_id
        if not release.is_open(table):
            return HTMLResponse("<!DOCTYPE html><p>개방되지 않은 데이터입니다.</p>", status_code=404)
        registered = app.state.keys.first_served(release.open_tables).get(table)
        return HTMLResponse(portal.dataset_page(release, table, registered, str(request.base_url)))

    @app.api_route("/files/{name}", methods=["GET", "HEAD"])  # HEAD: curl -I, wget --spider
    def download(name: str, request: Request) -> Response:
        release = app.state.releases.current()
        request.state.release = release.release_id
        path = release.file_path(name)
        if path is None:
            return JSONResponse({"detail": "no such open-data file"}, status_code=404)
        return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix, "application/octet-stream"),
                            filename=path.name)

    @app.get("/catalog.json")
    def catalog(request: Request) -> Response:
        release = app.state.releases.current()
        request.state.release = release.release_id
        return Response(portal.catalog_json_bytes(release), media_type="application/json; charset=utf-8")

    @app.get("/openapi.json")
    def openapi(request: Request) -> JSONResponse:
        release = app.state.releases.current()
        request.state.release = release.release_id
        return JSONResponse(openapi_document(release))

    @app.get("/docs", response_class=HTMLResponse)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="경상남도 공공데이터 OpenAPI 문서",
            swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/swagger-ui/favicon-32x32.png",
            # no validator badge: it would call validator.swagger.io
            swagger_ui_parameters={"validatorUrl": None})

    return app


def app_from_env() -> FastAPI:
    """The application over `GN_DATA_ROOT` (uvicorn's factory when it runs several workers)."""
    from gn_pipelines.settings import DataZones

    return create_app(DataZones.from_env().root)
