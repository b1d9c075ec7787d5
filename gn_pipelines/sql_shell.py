"""`gn-pipelines sql`: the analysts' SQL shell on the published warehouse, read-only.

DuckDB's own CLI is a separate download; this shell needs only the `duckdb` package the
platform installs. It resolves the warehouse once (the current release) and opens it
read-only, so a publication in the meantime never changes what a session sees.
"""

from __future__ import annotations

import sys
from pathlib import Path

PROMPT, CONTINUATION = "gn-sql> ", "   ...> "
HELP = """Statements end with ';'. Examples:
  SELECT table_name, comment FROM duckdb_tables();
  DESCRIBE civil_complaints_monthly;
  SELECT * FROM nakdong_namji_target ORDER BY year;
.tables lists the tables, .quit (or Ctrl-D) leaves."""


def connect(database: Path):
    import duckdb

    if not database.exists():
        raise FileNotFoundError(f"{database} does not exist yet: run `gn-pipelines process` (or `dev`) first")
    from gn_pipelines.settings import DISPLAY_TIME_ZONE

    connection = duckdb.connect(str(database.resolve()), read_only=True)
    connection.execute(f"SET TimeZone = '{DISPLAY_TIME_ZONE}'")  # last_updated in KST, not the host's zone
    return connection


def run_statement(connection, sql: str, out=sys.stdout) -> None:
    """Execute `sql` and print its result as a table (all rows up to DuckDB's display limit)."""
    relation = connection.sql(sql)
    if relation is not None:
        print(relation, file=out)


def shell(connection, lines=None, out=sys.stdout, interactive: bool = True) -> int:
    """Read statements until end of input; an error is printed and the session goes on."""
    import duckdb

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
                run_statement(connection, "\n".join(buffer), out)
            except duckdb.Error as error:
                print(f"error: {error}", file=out)
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


def main(database: Path, command: str | None) -> int:
    try:
        connection = connect(database)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    import duckdb

    with connection:
        if command is not None:
            try:
                run_statement(connection, command)
            except duckdb.Error as error:
                print(f"error: {error}", file=sys.stderr)
                return 1
            return 0
        interactive = sys.stdin.isatty()
        return shell(connection, lines=None if interactive else sys.stdin, interactive=interactive)
