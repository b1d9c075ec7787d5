"""The automatic risk checks of a data-lab extract, run on the extract in memory before anything
is written, and kept as the evidence of the adequacy review (PIPC 가명정보 처리 가이드라인, 적정성 검토).

- k: rows of a 가명정보 table must stay k-anonymous over the quasi-identifiers selected (a filter
  on another column can split the published classes), l-diverse over the sensitive ones.
- differencing: a grouped extract is compared with every earlier release to the same requester
  and organisation from the same table and group-by columns. Two extracts whose filters differ by
  one value (`status in` three values, then four) give, cell by cell, the count of the one value
  by subtraction: any visible pair whose difference is between 1 and 4 refuses the request.
"""

from __future__ import annotations

import json
from pathlib import Path

from gn_pipelines.contracts.generalisation import quote
from gn_pipelines.datalab.audit import earlier_cells
from gn_pipelines.datalab.request import ExtractRequest
from gn_pipelines.privacy.anonymity import class_stats
from gn_pipelines.publish.tables import PSEUDONYMOUS, SMALL_CELL_THRESHOLD, PublishedTable

# The analysts' k and l (recipes: k ≥ 5, l ≥ 2) hold for every 가명정보 extract as well.
EXTRACT_K = SMALL_CELL_THRESHOLD
EXTRACT_L = 2
_EXAMPLES = 5
# Held in the extract while it is checked, never written: each row's person (a hash of the table's
# person key) and each grouped cell's distinct people, where one person makes several records.
PERSON, PEOPLE = "__person", "__people"


def visible_cells(connection, request: ExtractRequest) -> list[tuple[str, int]]:
    """(cell as JSON of its group-by values in sorted column order, count) of every visible cell."""
    keys = sorted(request.group_by)
    rows = connection.execute(
        f"SELECT {', '.join(f'CAST({quote(k)} AS VARCHAR)' for k in keys)}, count FROM extract "
        "WHERE NOT suppressed").fetchall()
    return [(json.dumps(list(row[:-1]), ensure_ascii=False), int(row[-1])) for row in rows]


def risk_evidence(connection, request: ExtractRequest, table: PublishedTable, audit_db: Path) -> dict:
    """What the checks measured on the extract in the connection's `extract` table."""
    rows = connection.execute("SELECT count(*) FROM extract").fetchone()[0]
    evidence: dict = {"privacy_class": request.privacy_class, "source_privacy_class": table.privacy_class,
                      "shape": "grouped" if request.group_by else "record-level", "rows": rows}
    if request.group_by:
        evidence["small_cells"] = connection.execute(
            "SELECT count(*) FROM extract WHERE NOT suppressed AND count < ?", [SMALL_CELL_THRESHOLD]).fetchone()[0]
        evidence["differencing"] = differencing(visible_cells(connection, request), earlier_cells(audit_db, request))
    elif table.privacy_class == PSEUDONYMOUS:
        quasi = [c for c in request.columns if c in table.quasi_identifiers]
        sensitive = [c for c in request.columns if c in table.sensitive]
        person = PERSON if table.person is not None else None
        k, l = class_stats(connection, "extract", quasi, sensitive, person) if rows else (0, {})
        evidence["k"] = {"required": EXTRACT_K, "reached": k, "quasi_identifiers": quasi,
                         "counts": "people" if person else "rows"}
        evidence["l"] = {"required": EXTRACT_L, "reached": l}
    return evidence


def differencing(cells: list[tuple[str, int]], earlier: list[tuple[str, str, int]]) -> dict:
    """Cells whose count, subtracted from the same cell released earlier, leaves 1 to 4."""
    mine = dict(cells)
    derivable = [{"earlier_request": request_id, "cell": json.loads(cell), "difference": abs(mine[cell] - count)}
                 for request_id, cell, count in earlier
                 if cell in mine and 0 < abs(mine[cell] - count) < SMALL_CELL_THRESHOLD]
    return {"compared_with": sorted({request_id for request_id, _, _ in earlier}),
            "derivable_small_cells": len(derivable), "examples": derivable[:_EXAMPLES]}


def failed_checks(evidence: dict) -> list[str]:
    """The readable reason of every check that failed (empty: all passed)."""
    failed = []
    if evidence.get("small_cells"):
        failed.append(f"{evidence['small_cells']} visible cell(s) under {SMALL_CELL_THRESHOLD}")
    diff = evidence.get("differencing") or {}
    if diff.get("derivable_small_cells"):
        first = diff["examples"][0]
        failed.append(f"differencing: {diff['derivable_small_cells']} cell(s) under {SMALL_CELL_THRESHOLD} "
                      f"derivable by subtraction from earlier release {first['earlier_request']} "
                      f"(e.g. {first['cell']}: {first['difference']})")
    k = evidence.get("k")
    if k and evidence["rows"] and k["reached"] < k["required"]:
        failed.append(f"k-anonymity: the smallest class over {', '.join(k['quasi_identifiers']) or 'the rows'} "
                      f"holds {k['reached']} {'people' if k.get('counts') == 'people' else 'row(s)'} "
                      f"(k ≥ {k['required']} required)")
    l_check = evidence.get("l")
    if l_check:
        low = {c: n for c, n in l_check["reached"].items() if n < l_check["required"]}
        if low and evidence["rows"]:
            failed.append(f"l-diversity: {', '.join(f'{c} has {n}' for c, n in low.items())} distinct value(s) "
                          f"in a class (l ≥ {l_check['required']} required)")
    return failed


def summary(evidence: dict | None) -> str:
    """One line of the checks for `datalab list` (what the reviewer weighs)."""
    if not evidence:
        return ""
    parts = [f"{evidence.get('shape')}, {evidence.get('rows')} rows"]
    if "k" in evidence:
        parts.append(f"k={evidence['k']['reached']} (≥{evidence['k']['required']} over "
                     f"{', '.join(evidence['k']['quasi_identifiers']) or 'no quasi-identifier'})")
    if evidence.get("l", {}).get("reached"):
        parts.append("l=" + ", ".join(f"{c}:{n}" for c, n in evidence["l"]["reached"].items()))
    if "differencing" in evidence:
        diff = evidence["differencing"]
        parts.append(f"differencing: {diff['derivable_small_cells']} small cell(s) against "
                     f"{len(diff['compared_with'])} earlier release(s)")
    return "; ".join(parts)
