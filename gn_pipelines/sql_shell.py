"""`gn-pipelines sql`: the analysts' SQL shell on the published warehouse, read-only.

DuckDB's own CLI is a separate download; this shell needs only the `duckdb` package the
platform installs. It resolves the warehouse once (the current release) and opens it
read-only, so a publication in the meantime never changes what a session sees.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TextIO

PROMPT, CONTINUATION = "gn-sql> ", "   ...> "
HELP = """Statements end with ';'. Examples:
  SELECT table_name, comment FROM duckdb_tables();
  DESCRIBE civil_complaints_monthly;
  SELECT * FROM nakdong_namji_target ORDER BY year;
.tables lists the tables, Ctrl-C cancels a running statement, .quit (or Ctrl-D) leaves."""


def connect(database: Path):
    import duckdb

    if not database.exists():
        raise FileNotFoundError(f"{database} does not exist yet: run `gn-pipelines process` (or `dev`) first")
    from gn_pipelines.settings import DISPLAY_TIME_ZONE

    connection = duckdb.connect(str(database.resolve()), read_only=True)
    connection.execute(f"SET TimeZone = '{DISPLAY_TIME_ZONE}'")  # last_updated in KST, not the host's zone
    return connection


def run_statement(connection, sql: str, out: TextIO | None = None) -> None:
    """Execute `sql` and print its result as a table (all rows up to DuckDB's display limit) to
    `out`, standard output by default (looked up at the call: it may have been replaced).

    The statement runs in a thread of its own while this one waits, so that Ctrl-C (raised
    here) stops it at once through `interrupt()`: run on this thread, a long scan was stopped
    by Ctrl-C in some tries and ran on in others."""
    outcome: dict[str, object] = {}
    done = threading.Event()

    def execute() -> None:
        try:
            relation = connection.sql(sql)
            outcome["text"] = None if relation is None else str(relation)
        except BaseException as error:  # handed to the waiting thread
            outcome["error"] = error
        finally:
            done.set()

    threading.Thread(target=execute, name="sql-statement", daemon=True).start()
    try:
        done.wait()
    except KeyboardInterrupt:
        _cancel(connection, done)
        raise
    if "error" in outcome:
        raise outcome["error"]
    if outcome["text"] is not None:
        print(outcome["text"], file=out or sys.stdout)


def _cancel(connection, done: threading.Event) -> None:
    """Interrupt the running statement and wait until its thread has ended (DuckDB stops at its
    next vector). Another Ctrl-C meanwhile interrupts again: returning at once would leave the
    statement running on the connection the next one uses. Ctrl-\\ still ends the shell."""
    while True:
        try:
            connection.interrupt()
            done.wait()
            return
        except KeyboardInterrupt:
            continue


def shell(connection, lines=None, out: TextIO | None = None, interactive: bool = True,
          reading: Callable[[], AbstractContextManager] = nullcontext) -> int:
    """Read statements until end of input; an error is printed and the session goes on, and so
    does Ctrl-C at a terminal (the statement is cancelled). `reading`: held around each
    statement (the restricted warehouse's logs, see `main`)."""
    import duckdb

    out = out or sys.stdout
    if interactive:
        try:
            import readline  # noqa: F401  (line editing and history where the platform has it)
        except ImportError:
            pass
        print(HELP, file=out)
    buffer: list[str] = []
    source = lines if lines is not None else _prompted_lines(buffer)
    for line in source:
        stripped = line.strip()
        if not buffer and stripped in (".quit", ".exit", "\\q"):
            break
        if not buffer and stripped == ".tables":
            run_statement(connection, "SELECT table_name, comment FROM duckdb_tables() ORDER BY 1", out)
            continue
        buffer.append(line)
        if stripped.endswith(";"):
            try:
                with reading():
                    run_statement(connection, "\n".join(buffer), out)
            except duckdb.Error as error:
                print(f"error: {error}", file=out)
            except KeyboardInterrupt:
                print("cancelled", file=out)
                if not interactive:
                    return 130  # a script given on standard input stops at Ctrl-C, as psql's does
            buffer.clear()
    return 0


def _prompted_lines(buffer: list[str]):
    while True:
        try:
            yield input(CONTINUATION if buffer else PROMPT)
        except EOFError:
            print()
            return
        except KeyboardInterrupt:
            print()
            buffer.clear()


def main(database: Path, command: str | None,
         reading: Callable[[], AbstractContextManager] = nullcontext) -> int:
    """`reading`: held around each statement; for the restricted warehouse, its logs' fold locks
    held shared, so a monthly fold never removes a record file a statement has listed."""
    try:
        connection = connect(database)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    import duckdb

    with connection:
        if command is not None:
            try:
                with reading():
                    run_statement(connection, command)
            except duckdb.Error as error:
                print(f"error: {error}", file=sys.stderr)
                return 1
            except KeyboardInterrupt:
                print("cancelled", file=sys.stderr)
                return 130  # a shell's exit code for a command ended by Ctrl-C
            return 0
        interactive = sys.stdin.isatty()
        return shell(connection, lines=None if interactive else sys.stdin, interactive=interactive,
                     reading=reading)
