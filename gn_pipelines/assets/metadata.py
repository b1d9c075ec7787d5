"""Small helpers that turn results into Dagster UI metadata."""

from __future__ import annotations


def markdown_table(rows: list[dict]) -> str:
    """A Markdown table of a few rows (for previews on the asset page)."""
    if not rows:
        return "_no rows_"
    headers = list(rows[0])
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        cells = ["" if row[h] is None else str(row[h]).replace("|", "\\|").replace("\n", " ") for h in headers]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
