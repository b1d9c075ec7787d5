"""`gn-pipelines serve`: the API and portal on uvicorn.

uvicorn is the ASGI server Dagster's own webserver runs on (already in the venv), maintained by
the Encode team; with uvloop and httptools it answers a 100-row page well within the target.
It drains requests in flight on SIGTERM or SIGINT before it exits (graceful shutdown).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from gn_pipelines.openapi.app import ACCESS_LOGGER

GRACEFUL_SHUTDOWN_SECONDS = 10

LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "line": {"format": "%(message)s"},
    },
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"},
        "access": {"class": "logging.StreamHandler", "formatter": "line", "stream": "ext://sys.stdout"},
    },
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "gn_pipelines.openapi": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        ACCESS_LOGGER: {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
}


def serve(data_root: Path, host: str = "127.0.0.1", port: int = 8080, *, access_log: bool = True,
          workers: int = 1) -> int:
    """Serve until SIGTERM or SIGINT; the access log (JSON lines) goes to stdout. With several
    workers (processes), each loads the release itself; the key store's counts stay exact."""
    import os

    import uvicorn

    from gn_pipelines.openapi.app import create_app
    from gn_pipelines.settings import DATA_ROOT_ENV

    config = LOG_CONFIG if access_log else {**LOG_CONFIG, "loggers": {
        **LOG_CONFIG["loggers"], ACCESS_LOGGER: {"handlers": [], "level": "WARNING", "propagate": False}}}
    options = dict(host=host, port=port, log_config=config,
                   access_log=False,  # uvicorn's own access line carries the full URL, serviceKey included
                   server_header=False, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS, lifespan="on")
    print(f"open-data portal and OpenAPI on http://{host}:{port} (data root {data_root})", file=sys.stderr,
          flush=True)
    if workers > 1:
        os.environ[DATA_ROOT_ENV] = str(data_root)  # the workers build the app from the environment
        uvicorn.run("gn_pipelines.openapi.app:app_from_env", factory=True, workers=workers, **options)
    else:
        uvicorn.Server(uvicorn.Config(create_app(data_root), **options)).run()
    logging.shutdown()
    return 0
