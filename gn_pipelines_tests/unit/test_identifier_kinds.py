"""The identifier-kind registry: the only place a kind is declared, and sound RE2 forms."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import re
import sys

import duckdb
import pyarrow as pa
import pytest

from gn_pipelines.privacy import scrubber, text_patterns
from gn_pipelines.privacy.identifier_kinds import FORMS, KIND_OF_FORM, REGISTRY, kind_of
from gn_pipelines_tests.conftest import REPO_ROOT
from gn_pipelines_tests.unit.test_scrubber import (
    AUDIT_DECOYS, AUDIT_FORMS, BLIND_DECOYS, BLIND_FORMS, DECOYS, REDTEAM_DECOYS, REDTEAM_FORMS,
    SURFACE_FORMS,
)


def _corpus():
    path = REPO_ROOT / "bench" / "scrub_corpus" / "corpus.py"
    spec = importlib.util.spec_from_file_location("scrub_corpus", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """Every labelled text we have: the corpora, the unit tests' forms and decoys."""
    corpus = _corpus()
    cases = corpus.hard_cases() + corpus.blind_cases() + corpus.audit_cases() + corpus.redteam_cases()
    cases += corpus.generated_cases(rows=800)
    return ([c.text for c in cases] + [t for _, t in SURFACE_FORMS] + DECOYS + BLIND_DECOYS
            + AUDIT_DECOYS + REDTEAM_DECOYS + [t for t, _ in BLIND_FORMS + AUDIT_FORMS + REDTEAM_FORMS])


def test_every_kind_the_scrubber_and_the_scan_know_comes_from_the_registry():
    names = [kind.name for kind in REGISTRY]
    assert len(names) == len(set(names))
    assert scrubber.KINDS == tuple(names)
    assert scrubber.PLACEHOLDERS == {kind.name: kind.placeholder for kind in REGISTRY}
    assert set(KIND_OF_FORM.values()) <= set(names)
    # Each pass of the scrubber is a registry form, in priority order, and nothing else.
    assert [regex.groupindex and next(iter(regex.groupindex)) for _, regex, _ in scrubber.PASSES] == [
        form.name for form in sorted(FORMS.values(), key=lambda f: f.priority)]
    # The scan's and the SQL path's RE2 filter is the union of the forms' RE2 forms.
    assert set(scrubber.RE2_FORMS) == {form.re2 for form in FORMS.values()}
    con = duckdb.connect()
    placeholders = [kind.placeholder for kind in REGISTRY]
    con.execute("CREATE TABLE t AS SELECT unnest($p) AS body", {"p": placeholders})
    assert scrubber.placeholder_counts(con, "t", ["body"]) == dict.fromkeys(names, 1)


def _declared_names(module) -> set[str]:
    tree = ast.parse(inspect.getsource(module))
    return {target.id for node in tree.body if isinstance(node, ast.Assign | ast.AnnAssign)
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name)}


def test_no_kind_is_declared_outside_the_registry():
    """No placeholder, kind→form table or per-kind pattern map lives in the scrubber or the
    shared vocabulary; the forms of a kind sit in its registry entry only."""
    for module in (scrubber, text_patterns):
        source = inspect.getsource(module)
        for kind in REGISTRY:
            assert kind.placeholder not in source, (module.__name__, kind.placeholder)
        assert not _declared_names(module) & {"GROUPS", "KIND_OF_GROUP", "NAME_GROUPS",
                                               "KEPT_PREFIX", "GATES", "_CHECKS"}
    # Every form belongs to exactly one kind entry and names its own regex group.
    forms = [form.name for kind in REGISTRY for form in kind.forms]
    assert len(forms) == len(set(forms)) == len(FORMS)
    for form in FORMS.values():
        assert f"(?P<{form.name}>" not in form.pattern  # the scrubber names it
        assert form.re2, form.name


def test_every_re2_form_is_valid_in_duckdb():
    con = duckdb.connect()
    for form in FORMS.values():
        con.execute("SELECT regexp_matches('x', $p)", {"p": form.re2})
    con.execute("SELECT regexp_matches('x', $p)", {"p": scrubber.CANDIDATE_RE2})


def test_each_re2_form_holds_wherever_its_form_matches(texts):
    """What the SQL path and the residual scan rely on: a text in which a form finds an
    identifier holds that form's RE2 form (read by DuckDB's RE2, not Python `re`)."""
    con = duckdb.connect()
    con.register("texts", pa.table({"text": texts}))
    for form in FORMS.values():
        if form.reads_earlier_finds:
            continue
        regex = re.compile(f"(?P<{form.name}>{form.pattern})")
        matched = [t for t in texts
                   if any(kind_of(m, t)[0] for m in regex.finditer(scrubber.fold_text(t)))]
        if not matched:
            continue
        con.register("matched", pa.table({"text": matched}))
        missing = con.execute("SELECT text FROM matched WHERE NOT regexp_matches(text, $p) "
                              "AND NOT regexp_matches(text, $unsafe)",
                              {"p": form.re2, "unsafe": scrubber.NOT_RE2_SAFE}).fetchall()
        assert not missing, (form.name, missing[:3])
        con.unregister("matched")

