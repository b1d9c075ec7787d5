"""API keys and their daily usage, in a small SQLite database under the data root.

A key is shown once, when issued; only its SHA-256 is stored (the key is 47 random bytes, so a
plain hash cannot be reversed by enumeration). Usage is counted per key and Korean calendar day
(data.go.kr's quotas reset at midnight KST) by one atomic UPSERT, so the limit holds across
threads and processes. SQLite rather than DuckDB: the server and the `apikey` command write it
at the same time, and DuckDB allows one writing process per file.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable
from urllib.parse import unquote

from gn_pipelines.openapi.convention import ApiError, ResultCode
from gn_pipelines.seoul_time import now_in_seoul, seoul_iso, today_in_seoul

DEFAULT_DAILY_LIMIT = 1000  # a development account on data.go.kr

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id      TEXT PRIMARY KEY,
    key_sha256  TEXT NOT NULL UNIQUE,
    owner       TEXT NOT NULL,
    daily_limit INTEGER NOT NULL CHECK (daily_limit > 0),
    issued_at   TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE TABLE IF NOT EXISTS api_usage (
    key_id  TEXT NOT NULL REFERENCES api_keys (key_id),
    day     TEXT NOT NULL,            -- Asia/Seoul calendar day
    calls   INTEGER NOT NULL DEFAULT 0,  -- answered within the limit
    refused INTEGER NOT NULL DEFAULT 0,  -- answered 22: over the limit
    PRIMARY KEY (key_id, day)
);
CREATE TABLE IF NOT EXISTS served_tables (
    table_name   TEXT PRIMARY KEY,
    first_served TEXT NOT NULL          -- 등록일: the day the portal first opened it
);
"""

# One statement, so the check and the count are atomic across threads and processes.
COUNT_CALL = """
INSERT INTO api_usage (key_id, day, calls) VALUES (?, ?, 1)
ON CONFLICT (key_id, day) DO UPDATE SET calls = calls + 1 WHERE calls < ?
RETURNING calls
"""


def key_sha256(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def today_text() -> str:
    """Today in Seoul (`2026-12-06`): the day a key's daily limit counts."""
    return today_in_seoul().isoformat()


def now_text() -> str:
    """Now in Seoul, to the second, with its offset (`2026-12-06T11:09:20+09:00`)."""
    return seoul_iso(now_in_seoul(), timespec="seconds")


def key_candidates(received: str) -> list[str]:
    """The key as sent and once more URL-decoded: clients often encode the portal's (already
    encoded) key a second time, and `+` sent unencoded arrives as a space."""
    candidates = [received]
    if "%" in received:
        candidates.append(unquote(received))
    candidates += [c.replace(" ", "+") for c in candidates if " " in c]
    return list(dict.fromkeys(candidates))


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    owner: str
    daily_limit: int
    issued_at: str
    revoked_at: str | None
    calls_today: int = 0


class KeyStore:
    """The key and usage database, `<data root>/api/keys.sqlite`, readable by its owner only."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()
        self._create()

    @classmethod
    def under(cls, data_root: Path) -> "KeyStore":
        return cls(data_root / "api" / "keys.sqlite")

    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path.parent, 0o700)
        # created 0600 before SQLite opens it; SQLite gives its -wal and -shm files the same mode
        os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        os.chmod(self.path, 0o600)
        self._connection().executescript(SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, isolation_level=None, timeout=10, check_same_thread=False)
            connection.execute("PRAGMA journal_mode = WAL")  # readers never wait for the writer
            connection.execute("PRAGMA synchronous = NORMAL")
            self._local.connection = connection
        return connection

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    # --- the `apikey` command

    def issue(self, owner: str, daily_limit: int = DEFAULT_DAILY_LIMIT) -> tuple[ApiKey, str]:
        """A new key for `owner`: its record and the key itself (never stored, shown once)."""
        if not owner.strip():
            raise ValueError("the owner must be named")
        if daily_limit < 1:
            raise ValueError("the daily limit must be at least 1")
        # 47 bytes: 64 base64 characters ending in '=', like the portal's keys, so clients that
        # forget to encode (or encode twice) are caught by the tests, not by users
        key = base64.b64encode(secrets.token_bytes(47)).decode("ascii")
        record = ApiKey(f"key-{secrets.token_hex(6)}", owner.strip(), daily_limit, now_text(), None)
        self._connection().execute(
            "INSERT INTO api_keys (key_id, key_sha256, owner, daily_limit, issued_at) VALUES (?, ?, ?, ?, ?)",
            (record.key_id, key_sha256(key), record.owner, record.daily_limit, record.issued_at))
        return record, key

    def list_keys(self) -> list[ApiKey]:
        rows = self._connection().execute(
            "SELECT k.key_id, owner, daily_limit, issued_at, revoked_at, coalesce(u.calls, 0) "
            "FROM api_keys k LEFT JOIN api_usage u ON u.key_id = k.key_id AND u.day = ? "
            "ORDER BY issued_at, k.key_id", (today_text(),)).fetchall()
        return [ApiKey(*row) for row in rows]

    def revoke(self, key_or_id: str) -> ApiKey | None:
        """Revoke a key, given the key itself or its id; None when no such key exists."""
        hashes = [key_sha256(c) for c in key_candidates(key_or_id)]
        row = self._connection().execute(
            f"UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) "
            f"WHERE key_id = ? OR key_sha256 IN ({','.join('?' * len(hashes))}) "
            "RETURNING key_id, owner, daily_limit, issued_at, revoked_at",
            (now_text(), key_or_id, *hashes)).fetchone()
        return ApiKey(*row) if row else None

    def usage(self) -> list[tuple[str, str, str, int, int]]:
        """(key id, owner, day, calls, refused) for every key and day with traffic."""
        return self._connection().execute(
            "SELECT u.key_id, k.owner, u.day, u.calls, u.refused FROM api_usage u "
            "JOIN api_keys k USING (key_id) ORDER BY u.day, u.key_id").fetchall()

    # --- the server

    def authenticate(self, received: str | None) -> ApiKey:
        """The active key a request names; ApiError 30 (unknown or missing) or 20 (revoked)."""
        if not received:
            raise ApiError(ResultCode.KEY_NOT_REGISTERED, "serviceKey is missing")
        hashes = [key_sha256(c) for c in key_candidates(received)]
        row = self._connection().execute(
            "SELECT key_id, owner, daily_limit, issued_at, revoked_at FROM api_keys "
            f"WHERE key_sha256 IN ({','.join('?' * len(hashes))})", hashes).fetchone()
        if row is None:
            raise ApiError(ResultCode.KEY_NOT_REGISTERED, "serviceKey is not registered")
        key = ApiKey(*row)
        if key.revoked_at is not None:
            raise ApiError(ResultCode.SERVICE_ACCESS_DENIED, f"{key.key_id} was revoked")
        return key

    def count_call(self, key: ApiKey) -> int:
        """Count one call against today's limit; ApiError 22 (recorded as refused) past it."""
        connection = self._connection()
        day = today_text()
        row = connection.execute(COUNT_CALL, (key.key_id, day, key.daily_limit)).fetchone()
        if row is None:
            connection.execute("UPDATE api_usage SET refused = refused + 1 WHERE key_id = ? AND day = ?",
                               (key.key_id, day))
            raise ApiError(ResultCode.LIMITED_NUMBER_OF_REQUESTS,
                           f"{key.key_id} reached its daily limit of {key.daily_limit}")
        return row[0]

    def first_served(self, tables: Iterable[str]) -> dict[str, str]:
        """The day each table was first served (등록일), recording today for new ones."""
        tables = list(tables)
        connection = self._connection()
        connection.executemany("INSERT OR IGNORE INTO served_tables VALUES (?, ?)",
                               [(t, today_text()) for t in tables])
        return dict(connection.execute("SELECT table_name, first_served FROM served_tables").fetchall())
