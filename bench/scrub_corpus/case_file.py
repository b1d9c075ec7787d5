"""Writes a hand-written case list as the JSON Lines the scrubber benchmark reads."""

from __future__ import annotations

import json
from pathlib import Path


def write_cases(cases, path: Path) -> int:
    """Rewrite `path` from (text, [(kind, value)], [decoy]) cases, checking every label is in
    its text; a fourth element, if any, holds the record's own values (scrub_text keywords).
    Returns the number of cases."""
    with path.open("w", encoding="utf-8") as out:
        for text, identifiers, decoys, *own in cases:
            for _, value in identifiers:
                assert value in text, value
            for decoy in decoys:
                assert decoy in text, decoy
            row = {"text": text, "identifiers": [{"kind": k, "value": v} for k, v in identifiers],
                   "decoys": decoys}
            if own:
                row["own"] = own[0]
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(cases)
