"""The open release the API and portal serve, read once per request from one resolved directory.

`<data root>/open` is either a plain directory or a symlink into a versioned release
(`releases/<id>/open`, swapped atomically by publication). A request resolves it once and reads
only from the resolved directory, so it sees one release even when a new one is swapped in
mid-request. Each release's open tables are loaded into an in-memory DuckDB when the release is
first seen: pages are then answered from memory, and a release stays whole for as long as a
request holds it.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from gn_pipelines.ingest.casting import sql_text
from gn_pipelines.settings import DISPLAY_TIME_ZONE

# Only anonymous information and statistics may be opened (개인정보 보호법; spec/published-tables.md).
OPEN_PRIVACY_CLASSES = frozenset({"익명정보", "통계"})
CATALOG_FILE = "catalog.json"
# selections (filtered row sets) kept per release, least recently used dropped first: at most
# this many, holding at most this many rows together (memory, not the number of filters, is the
# limit: 24 selections of 80,000 rows took 400 MB)
SELECTIONS_KEPT = 256
SELECTION_ROWS_CACHED = 500_000
SELECTION_ROWS_KEPT = 100_000  # a larger selection is paged from DuckDB each time instead
# a release still being written in place (plain `open/` directory) is re-read this many times
LOAD_ATTEMPTS = 3


def is_open_entry(entry: dict) -> bool:
    """Is this catalog entry open data? Its declared class must be 익명정보 or 통계 (a 가명정보
    table reaches open data only as its anonymised public release, declared 익명정보); an entry
    without a class (an export older than the classes) is not open."""
    return entry.get("privacy_class") in OPEN_PRIVACY_CLASSES


@dataclass
class Release:
    """One open release, as it was when first read: its catalog and its open tables in memory."""

    directory: Path  # resolved: never a symlink
    catalog: dict
    signature: tuple  # what identifies this state of the directory (catalog inode and mtime)
    connection: duckdb.DuckDBPyConnection = field(repr=False)
    open_tables: dict[str, dict]  # table name -> catalog entry
    all_tables: dict[str, dict]
    columns: dict[str, list[tuple[str, str]]]  # open table -> (column, DuckDB type), export order
    _selections: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _selections_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _rows_cached: int = field(default=0, repr=False)

    @property
    def release_id(self) -> str:
        """The release's own id when it has one, else its directory and generation time."""
        if self.catalog.get("release_id"):
            return str(self.catalog["release_id"])
        if self.directory.parent.parent.name == "releases":
            return self.directory.parent.name
        return f"{self.directory.name}@{self.catalog.get('generated_at', 'unknown')}"

    def is_open(self, table: str) -> bool:
        return table in self.open_tables

    def file_path(self, name: str) -> Path | None:
        """A download of an open table (its Parquet, CSV or an attachment), inside this release."""
        for entry in self.open_tables.values():
            hrefs = [d["href"] for d in entry.get("downloads", [])] + \
                    [a["href"] for a in entry.get("attachments", [])]
            if name in hrefs and "/" not in name and not name.startswith("."):
                path = self.directory / name
                return path if path.is_file() else None
        return None

    def public_catalog(self) -> dict:
        """catalog.json as published, less the entries that are not open data."""
        return {**self.catalog, "datasets": [e for e in self.catalog.get("datasets", [])
                                             if e["table_name"] in self.open_tables]}

    def cached_selection(self, key: tuple):
        with self._selections_lock:
            selection = self._selections.get(key)
            if selection is not None:
                self._selections.move_to_end(key)
            return selection

    def keep_selection(self, key: tuple, selection):
        """Keep a selection (of at most SELECTION_ROWS_KEPT rows: `query.select_rows` pages larger
        ones), dropping the least recently used beyond the cache's bounds."""
        with self._selections_lock:
            if key not in self._selections:
                self._selections[key] = selection
                self._rows_cached += len(selection.rows)
            while len(self._selections) > SELECTIONS_KEPT or self._rows_cached > SELECTION_ROWS_CACHED:
                _, dropped = self._selections.popitem(last=False)
                self._rows_cached -= len(dropped.rows)
        return selection

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of this release's in-memory database (one per thread that queries)."""
        return self.connection.cursor()

    def close(self) -> None:
        self.connection.close()


def _signature(directory: Path) -> tuple:
    status = (directory / CATALOG_FILE).stat()
    return (str(directory), status.st_ino, status.st_mtime_ns, status.st_size)


def load_release(directory: Path) -> Release:
    """Read the catalog of a resolved release directory and load its open tables into memory."""
    for _ in range(LOAD_ATTEMPTS):
        before = _signature(directory)
        catalog = json.loads((directory / CATALOG_FILE).read_text(encoding="utf-8"))
        entries = {e["table_name"]: e for e in catalog.get("datasets", [])}
        open_tables = {name: e for name, e in entries.items() if is_open_entry(e)}
        connection = duckdb.connect()
        connection.execute("SET threads = 1")  # a page is tiny; one thread per query avoids contention
        connection.execute(f"SET TimeZone = '{DISPLAY_TIME_ZONE}'")  # timestamps answered in KST
        loaded, columns = {}, {}
        for name, entry in open_tables.items():
            parquet = directory / f"{name}.parquet"
            if not parquet.is_file():
                continue  # announced but not exported: not served
            # file_row_number keeps the export's row order, so pages are stable
            connection.execute(
                f'CREATE TABLE "{name}" AS SELECT * FROM read_parquet({sql_text(str(parquet))}, '
                f'file_row_number = true) ORDER BY file_row_number')
            loaded[name] = entry
            columns[name] = [(column, type_) for column, type_, *_ in connection.execute(
                f'DESCRIBE "{name}"').fetchall() if column != "file_row_number"]
        if _signature(directory) == before:
            return Release(directory, catalog, before, connection, loaded, entries, columns)
        connection.close()  # rewritten while we read it (a plain directory mid-export): read again
    raise RuntimeError(f"the open release in {directory} kept changing while it was read")


class ReleaseReader:
    """Hands each request the current release: resolves `open/` once and reuses what is loaded."""

    def __init__(self, open_link: Path):
        self.open_link = open_link
        self._current: Release | None = None
        self._lock = threading.Lock()

    def loaded(self) -> Release | None:
        """The current release if it is already in memory (cheap: one resolve and one stat)."""
        release = self._current
        try:
            if release is not None and release.signature == _signature(self.open_link.resolve()):
                return release
        except FileNotFoundError:
            pass
        return None

    def current(self) -> Release:
        """The current release, loading it when it is new (may take a while: call off the loop)."""
        directory = self.open_link.resolve()
        release = self._current
        try:
            if release is not None and release.signature == _signature(directory):
                return release
        except FileNotFoundError:
            pass
        with self._lock:
            release = self._current
            if release is not None and release.directory == directory:
                try:
                    if release.signature == _signature(directory):
                        return release
                except FileNotFoundError:
                    pass
            if not (directory / CATALOG_FILE).is_file():
                raise FileNotFoundError(f"no open release at {self.open_link}: publish first")
            # the previous release is closed by the garbage collector once no request holds it
            self._current = load_release(directory)
            return self._current
