"""Benchmark: the free-text scrubber against its labelled corpus, before and after, Presidio, kiwipiepy.

Five corpora: "hard" (hand-written by the author of the rules), "blind" (written before the
fixes it drove, without reading the rules: a second opinion on recall), "audit" (an independent
privacy auditor's misses, also written before its fixes: a third opinion), "redteam" (a red
team's surviving forms, written before their fixes: a fourth) and "generated" (synth).
Prints, side by side, recall per identifier kind and decoy survival of
  before      the per-row Python scrubber as it was (bench/legacy_scrubber, kept for this only)
  after       the registry-derived scrubber through its DuckDB path (`scrub` in SQL: RE2 over the
              whole column, own values in SQL, the Python passes on candidate rows only)
then throughput on --rows synthetic complaints (title and body) through DuckDB, each engine in a
child process so its peak RSS is its own, and optionally
  presidio    presidio-analyzer pattern recognizers (KR_RRN, KR_FRN, KR_BRN, KR_DRIVER_LICENSE,
              KR_PASSPORT, e-mail, credit card, phone with region KR), no spaCy model
  kiwipiepy   proper nouns (NNP) as a name detector, recall on the names of the corpus
Presidio and kiwipiepy are optional (`pip install -e '.[bench]'`); the script says if absent.

Usage: .venv/bin/python bench/bench_scrubber.py [--rows 1000000] [--legacy-rows 200000]
       [--skip-duckdb] [--with-others]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE / "scrub_corpus"), str(HERE)]

import corpus  # noqa: E402  (bench/scrub_corpus is not a package)
import duckdb  # noqa: E402
from legacy_scrubber import scrubber as legacy  # noqa: E402

from gn_pipelines.privacy.scrubber import KINDS, register_scrubber  # noqa: E402

DUCKDB_RUN = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[3])
from datetime import date
import duckdb, pyarrow as pa
if sys.argv[2] == "before":
    from legacy_scrubber.scrubber import register_scrubber, placeholder_counts, count_residual_identifiers
else:
    from gn_pipelines.privacy.scrubber import register_scrubber, placeholder_counts, count_residual_identifiers
from gn_pipelines.synth.civil_complaints import complaint_table
rows = int(sys.argv[1])
providers = ["48120", "48250", "48170", "48330", "48310"]
per = -(-rows // (5 * len(providers)))
con = duckdb.connect()
con.register("part", pa.concat_tables(complaint_table(p, date(2025, 3, 3), per, s)
                                      for s, p in enumerate(providers)))
# Five seeds' worth repeated five times, flattened by the join (no dictionary shortcut).
con.execute("CREATE TABLE src AS SELECT part.* FROM part, range(5) LIMIT ?", [rows])
con.unregister("part")
register_scrubber(con)
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
start, cpu_start = time.perf_counter(), cpu()
con.execute("CREATE TABLE deid AS SELECT receipt_no, "
            "scrub(title, complainant_name, phone, address, resident_reg_no) AS title, "
            "scrub(body, complainant_name, phone, address, resident_reg_no) AS body FROM src")
scrub_s, scrub_cpu = time.perf_counter() - start, cpu() - cpu_start
found = placeholder_counts(con, "deid", ["title", "body"])
start = time.perf_counter()
residual = count_residual_identifiers(con, "deid", ["title", "body"])
scan_s = time.perf_counter() - start
print(json.dumps({"rows": rows, "scrub_s": scrub_s, "scrub_cpu_s": scrub_cpu,
                  "texts_per_s": 2 * rows / scrub_s, "scan_s": scan_s, "found": found,
                  "residual": residual,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _report(name: str, score: corpus.Score, texts: int, seconds: float) -> None:
    recalls = " ".join(f"{k}={score.recall(k):.3f}({score.total[k]})" for k in KINDS
                       if score.total[k])
    print(f"{name:<22} {texts / seconds:>9,.0f} texts/s  decoys kept {score.decoy_survival:.3f}"
          f" ({score.decoys})\n    recall: {recalls}")
    for kind, value, out in score.misses[:5]:
        print(f"    miss {kind}: {value!r} in {out[:90]!r}")
    for decoy, out in score.destroyed[:5]:
        print(f"    decoy lost: {decoy!r} in {out[:90]!r}")


def _timed(cases, scrub) -> tuple[corpus.Score, float]:
    start = time.perf_counter()
    outputs = [scrub(c) for c in cases]
    seconds = time.perf_counter() - start
    lookup = dict(zip(map(id, cases), outputs))
    return corpus.score(cases, lambda c: lookup[id(c)]), seconds


LABELS = {"blind": "blind (written before the fixes)", "audit": "audit (written before the fixes)"}


def _scrub_after(cases: list, own: bool) -> dict[int, str]:
    """The cases through the DuckDB path (`scrub` in SQL), as the pipeline runs it."""
    con = duckdb.connect()
    register_scrubber(con)
    con.execute("CREATE TABLE t (i INTEGER, text VARCHAR, name VARCHAR, phone VARCHAR, "
                "address VARCHAR, rrn VARCHAR)")
    keys = ("own_name", "own_phone", "own_address", "own_rrn")
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
                    [(i, c.text, *((c.own.get(k) if own else None) for k in keys))
                     for i, c in enumerate(cases)])
    out = con.execute("SELECT i, scrub(text, name, phone, address, rrn) FROM t").fetchall()
    return {id(cases[i]): text for i, text in out}


def _side_by_side(name: str, before: corpus.Score, after: corpus.Score) -> None:
    print(f"{name:<16} {'kind':<15} {'before':>14} {'after':>14}")
    for kind in dict.fromkeys([*KINDS, *before.total, *after.total]):
        before.total.setdefault(kind, 0), before.caught.setdefault(kind, 0)
        after.total.setdefault(kind, 0), after.caught.setdefault(kind, 0)
        if before.total[kind] or after.total[kind]:
            print(f"{'':<16} {kind:<15} {before.recall(kind) or 0:>8.3f} ({before.total[kind]:>3})"
                  f" {after.recall(kind) or 0:>8.3f} ({after.total[kind]:>3})"
                  + ("" if (after.recall(kind) or 0) >= (before.recall(kind) or 0) else "   REGRESSION"))
    print(f"{'':<16} {'decoys kept':<15} {before.decoy_survival:>8.3f} ({before.decoys:>3})"
          f" {after.decoy_survival:>8.3f} ({after.decoys:>3})"
          + ("" if after.decoy_survival >= before.decoy_survival else "   REGRESSION"))
    for kind, value, out in after.misses[:3]:
        print(f"    after misses {kind}: {value!r} in {out[:80]!r}")
    for decoy, out in after.destroyed[:3]:
        print(f"    after loses decoy {decoy!r} in {out[:80]!r}")


def bench_before_after(sets: dict[str, list]) -> None:
    print("recall per kind (caught / planted) and decoy survival: before = per-row Python "
          "(legacy), after = DuckDB path (registry)")
    for name, cases in sets.items():
        for own in (False, True) if any(c.own for c in cases) else (False,):
            keys = ("own_name", "own_phone", "own_address", "own_rrn")
            before, _ = _timed(cases, lambda c: legacy.scrub_text(
                c.text, **({k: c.own.get(k) for k in keys} if own else {})).text)
            outputs = _scrub_after(cases, own)
            after = corpus.score(cases, lambda c: outputs[id(c)])
            _side_by_side(f"{name}{' +own' if own else ''}", before, after)


def _presidio_analyzer():
    import tldextract
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer import predefined_recognizers as pr

    # No internet: the e-mail recognizer's tldextract must use its bundled suffix snapshot.
    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    registry = RecognizerRegistry(supported_languages=["ko"])
    for recognizer in (pr.KrRrnRecognizer(), pr.KrFrnRecognizer(), pr.KrBrnRecognizer(),
                       pr.KrDriverLicenseRecognizer(), pr.KrPassportRecognizer(),
                       pr.EmailRecognizer(supported_language="ko"),
                       pr.CreditCardRecognizer(supported_language="ko"),
                       pr.PhoneRecognizer(supported_language="ko", supported_regions=("KR",))):
        registry.add_recognizer(recognizer)
    return AnalyzerEngine(registry=registry, supported_languages=["ko"], nlp_engine=_NoNlp())


class _NoNlp:
    """A stand-in NLP engine: Presidio's pattern recognizers need no spaCy model."""

    def load(self) -> None: ...
    def is_loaded(self) -> bool: return True
    def get_supported_languages(self) -> list[str]: return ["ko"]
    def get_supported_entities(self) -> list[str]: return []
    def process_text(self, text, language): return None
    def process_batch(self, texts, language, **kwargs): return ((t, None) for t in texts)
    def is_stopword(self, word, language) -> bool: return False
    def is_punct(self, word, language) -> bool: return False


def _redact(text: str, results) -> str:
    for r in sorted(results, key=lambda r: r.start, reverse=True):
        text = text[:r.start] + f"<{r.entity_type}>" + text[r.end:]
    return text


def bench_presidio(sets: dict[str, list]) -> None:
    if importlib.util.find_spec("presidio_analyzer") is None:
        print("presidio: NOT INSTALLED (pip install presidio-analyzer, or the bench extra)")
        return
    analyzer = _presidio_analyzer()
    for name, cases in sets.items():
        score, seconds = _timed(cases, lambda c: _redact(c.text, analyzer.analyze(
            c.text, language="ko", nlp_artifacts=None)))
        _report(f"presidio {LABELS.get(name, name)}", score, len(cases), seconds)


def bench_kiwi(sets: dict[str, list]) -> None:
    if importlib.util.find_spec("kiwipiepy") is None:
        print("kiwipiepy: NOT INSTALLED (pip install kiwipiepy, or the bench extra)")
        return
    from kiwipiepy import Kiwi

    kiwi = Kiwi()
    kiwi.tokenize("모델을 미리 읽어 둡니다")  # the first call loads the model: not timed
    for name, cases in sets.items():
        start = time.perf_counter()
        proper = [{t.form for t in kiwi.tokenize(c.text) if t.tag == "NNP"} for c in cases]
        seconds = time.perf_counter() - start
        names = [(c, v) for c in cases for k, v in c.identifiers if k == "name"]
        lookup = dict(zip(map(id, cases), proper))
        hit = sum(1 for c, v in names if any(v in form or form in v and len(form) >= 2
                                             for form in lookup[id(c)]))
        decoy_hits = sum(1 for c in cases for d in c.decoys
                         if any(form in d for form in lookup[id(c)]))
        print(f"kiwipiepy NNP {name:<9} {len(cases) / seconds:>9,.0f} texts/s  names tagged NNP "
              f"{hit}/{len(names)}  decoys holding an NNP {decoy_hits}")


def _duckdb_run(engine: str, rows: int) -> dict:
    out = subprocess.run([sys.executable, "-c", DUCKDB_RUN, str(rows), engine, str(HERE)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def bench_duckdb(rows: int, legacy_rows: int) -> None:
    """Throughput of `scrub` over title and body in DuckDB, before and after, side by side."""
    runs = {"before": _duckdb_run("before", legacy_rows), "after": _duckdb_run("after", rows)}
    print("\nthroughput in DuckDB, title and body of synthetic complaints (2 texts a row; "
          "wall clock on a shared 2-core machine, CPU seconds of the process beside it)")
    print(f"{'':<8} {'rows':>10} {'scrub s':>8} {'CPU s':>7} {'texts/s':>10} {'peak MB':>8} "
          f"{'scan s':>7} {'left':>5}  replaced")
    for name, r in runs.items():
        print(f"{name:<8} {r['rows']:>10,} {r['scrub_s']:>8.1f} {r['scrub_cpu_s']:>7.1f} "
              f"{r['texts_per_s']:>10,.0f} {r['peak_rss_mb']:>8,.0f} {r['scan_s']:>7.1f} "
              f"{sum(r['residual'].values()):>5}  {sum(r['found'].values()):,}")
    ratio = runs["after"]["texts_per_s"] / runs["before"]["texts_per_s"]
    print(f"after / before: {ratio:.1f}x texts per second")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--legacy-rows", type=int, default=200_000,
                        help="rows for the per-row Python scrubber (about 20k texts/s)")
    parser.add_argument("--corpus-rows", type=int, default=4000)
    parser.add_argument("--skip-duckdb", action="store_true")
    parser.add_argument("--with-others", action="store_true", help="also Presidio and kiwipiepy")
    args = parser.parse_args()
    sets = {"hard": corpus.hard_cases(), "blind": corpus.blind_cases(),
            "audit": corpus.audit_cases(), "redteam": corpus.redteam_cases(), "generated": corpus.generated_cases(rows=args.corpus_rows)}
    print(f"corpus: {len(sets['hard'])} hand-written cases, {len(sets['blind'])} blind cases, "
          f"{len(sets['audit'])} audit and {len(sets['redteam'])} red-team cases (written before the fixes), "
          f"{len(sets['generated'])} generated texts")
    bench_before_after(sets)
    if args.with_others:
        bench_presidio(sets)
        bench_kiwi(sets)
    if not args.skip_duckdb:
        bench_duckdb(args.rows, args.legacy_rows)


if __name__ == "__main__":
    main()
