"""A real PostgreSQL server for the tests: its own data directory and free port, stopped at the end.

Started with the cluster tools on PATH (or /usr/lib/postgresql/<version>/bin). `initdb` refuses
to run as root, so under root the server runs as the `postgres` user. Without the tools the
Postgres variants are skipped, except in CI (CI=true), where a missing server is a failure.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

ADMIN_USER = "postgres"


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int

    def url(self, database: str = "postgres", user: str = ADMIN_USER) -> str:
        return f"postgresql://{user}@{self.host}:{self.port}/{database}"

    def create_database(self, prefix: str = "gn") -> str:
        """A fresh database (one per test keeps the tests independent); returns its URL."""
        import psycopg2

        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        connection = psycopg2.connect(self.url())
        connection.autocommit = True
        try:
            connection.cursor().execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return self.url(name)


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["su", ADMIN_USER, "-s", "/bin/sh", "-c", " ".join(f"'{part}'" for part in command)]


def unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL not available: {reason}")


def start_server(directory: Path) -> tuple[PostgresServer, callable]:
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if not (initdb and pg_ctl):
        unavailable("initdb and pg_ctl are not on PATH nor in /usr/lib/postgresql/*/bin")
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam(ADMIN_USER)
        except KeyError:
            unavailable("running as root and there is no `postgres` user to run the server")
        os.chown(directory, account.pw_uid, account.pw_gid)
    data = directory / "data"
    port = _free_port()
    subprocess.run(_as_server_user([initdb, "-D", str(data), "-U", ADMIN_USER, "--auth=trust",
                                    "-E", "UTF8", "--locale=C.UTF-8"]),
                   check=True, capture_output=True)
    options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {directory} -c fsync=off "
               "-c max_connections=200")
    log = directory / "server.log"
    subprocess.run(_as_server_user([pg_ctl, "-D", str(data), "-o", options, "-l", str(log),
                                    "-w", "-t", "60", "start"]), check=True, capture_output=True)

    def stop() -> None:
        subprocess.run(_as_server_user([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]),
                       capture_output=True)

    return PostgresServer("127.0.0.1", port), stop


@pytest.fixture(scope="session")
def postgres_server():
    """One server per test process (per xdist worker), in a temporary directory."""
    directory = Path(tempfile.mkdtemp(prefix="gn-postgres-"))
    try:
        server, stop = start_server(directory)
    except subprocess.CalledProcessError as error:
        shutil.rmtree(directory, ignore_errors=True)
        unavailable(f"the server did not start: {error.stderr.decode(errors='replace')[-500:]}")
    try:
        yield server
    finally:
        stop()
        shutil.rmtree(directory, ignore_errors=True)
