"""The scrubber's labelled corpus: hand-written hard cases, blind and audit cases written by
others, plus texts from the synth generator.

A case is a text, the identifiers that must go (kind, value) and the decoys that must stay.
The generated part is rebuilt from a seed: the synth generator plants the complainant's own data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow.compute as pc

from gn_pipelines.privacy.scrubber import KINDS, fold_text
from gn_pipelines.synth.civil_complaints import complaint_table
from gn_pipelines.synth.texts import _AMOUNTS, _ARTICLES, _ROUTES

HARD_CASES = Path(__file__).with_name("hard_cases.jsonl")
BLIND_CASES = Path(__file__).with_name("blind_cases.jsonl")  # written before the fixes they drove
AUDIT_CASES = Path(__file__).with_name("audit_cases.jsonl")  # an independent privacy audit's misses
REDTEAM_CASES = Path(__file__).with_name("redteam_cases.jsonl")  # a red team's surviving forms
TRUTH_KIND = {"name": "name", "phone": "phone", "rrn": "rrn", "email": "email",
              "plate": "plate", "address": "address"}


@dataclass(frozen=True)
class Case:
    """One labelled text; `own` holds the record's own values (scrub_text's own_* keywords)."""

    text: str
    identifiers: tuple[tuple[str, str], ...]
    decoys: tuple[str, ...]
    own: dict = field(default_factory=dict, hash=False)


def hard_cases(path: Path = HARD_CASES) -> list[Case]:
    """The hand-written cases of hard_cases.jsonl (or of another file in its format)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [Case(r["text"], tuple((i["kind"], i["value"]) for i in r["identifiers"]),
                 tuple(r["decoys"]), r.get("own", {})) for r in rows]


def blind_cases() -> list[Case]:
    """The blind cases of blind_cases.jsonl: written before reading the rules, then used to fix
    them; a second opinion on recall next to hard_cases (written by the rules' author)."""
    return hard_cases(BLIND_CASES)


def audit_cases() -> list[Case]:
    """The cases of audit_cases.jsonl: an independent privacy auditor's misses and over-scrubbed
    strings, written before the fixes they drove; a third opinion on recall."""
    return hard_cases(AUDIT_CASES)


def redteam_cases() -> list[Case]:
    """The cases of redteam_cases.jsonl: forms a red team found surviving the scrubber (most with
    the record's own values), written before the fixes they drove; a fourth opinion on recall."""
    return hard_cases(REDTEAM_CASES)


_PLANTED = {  # how each planted kind reads in the synth sentences (gn_pipelines/synth/texts.py)
    "email": re.compile(r"답변은 (\S+@\S+?)로 보내"),
    "plate": re.compile(r"([0-9]{2,3}[가-힣][0-9]{4}) 차량이"),
    "address": re.compile(r"저희 집은 \S+ (\S+아파트 [0-9]+동 [0-9]+호)입니다"),
}
_EVENT_DATE = re.compile(r"[0-9]{4}년 [0-9]{1,2}월 [0-9]{1,2}일")


def _planted_values(kind: str, text: str, row: dict) -> list[str]:
    if kind == "name":
        return [row["complainant_name"]] if row["complainant_name"] in text else []
    if kind == "phone":
        return [v for v in (row["phone"], row["phone"].replace("-", "")) if v in text]
    if kind == "rrn":
        return [row["resident_reg_no"]] if row["resident_reg_no"] in text else []
    return [m.group(1).split("아파트 ")[-1] if kind == "address" else m.group(1)
            for m in _PLANTED[kind].finditer(text)]


def _decoys(text: str) -> tuple[str, ...]:
    known = [d for d in (*_AMOUNTS, *_ROUTES, *_ARTICLES) if d in text]
    return tuple(known + _EVENT_DATE.findall(text))


def generated_cases(seed: int = 20250303, rows: int = 4000,
                    providers: Iterable[str] = ("48120", "48740", "48250")) -> list[Case]:
    """Titles and bodies of synthetic complaints: every text with planted data, plus as many
    clean texts with decoys, so both recall and decoy survival are measured."""
    cases: list[Case] = []
    for provider in providers:
        table = complaint_table(provider, date(2025, 3, 3), rows, seed)
        planted = table.filter(pc.is_valid(table["personal_data_in_text"])).to_pylist()
        clean = table.filter(pc.is_null(table["personal_data_in_text"])).slice(0, len(planted))
        for row in planted + clean.to_pylist():
            kinds = (row["personal_data_in_text"] or "").split(",")
            own = {"own_name": row["complainant_name"], "own_phone": row["phone"],
                   "own_address": row["address"], "own_rrn": row["resident_reg_no"]}
            for text in (row["title"], row["body"]):
                found = tuple((TRUTH_KIND[k], v) for k in kinds if k
                              for v in _planted_values(k, text, row))
                cases.append(Case(text, found, _decoys(text), own))
    return cases


@dataclass
class Score:
    """Recall per kind, decoy survival, and the cases that failed (for reading)."""

    caught: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    total: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    decoys_kept: int = 0
    decoys: int = 0
    misses: list[tuple[str, str, str]] = field(default_factory=list)
    destroyed: list[tuple[str, str]] = field(default_factory=list)

    def recall(self, kind: str) -> float | None:
        return self.caught[kind] / self.total[kind] if self.total[kind] else None

    @property
    def decoy_survival(self) -> float:
        return self.decoys_kept / self.decoys if self.decoys else 1.0


def score(cases: Iterable[Case], scrub: Callable[[Case], str]) -> Score:
    """An identifier is caught when its value no longer appears in the scrubbed text."""
    result = Score()
    for case in cases:
        out = fold_text(scrub(case))
        for kind, value in case.identifiers:
            # a kind the scrubber does not know (yet) is counted too, never caught
            result.total[kind] = result.total.get(kind, 0) + 1
            result.caught.setdefault(kind, 0)
            if fold_text(value) in out:
                result.misses.append((kind, value, out))
            else:
                result.caught[kind] += 1
        for decoy in case.decoys:
            result.decoys += 1
            if fold_text(decoy) in out:
                result.decoys_kept += 1
            else:
                result.destroyed.append((decoy, out))
    return result
