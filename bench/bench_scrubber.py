"""Benchmark: the free-text scrubber against its labelled corpus, Presidio and kiwipiepy.

Four corpora: "hard" (hand-written by the author of the rules), "blind" (written before the
fixes it drove, without reading the rules: a second opinion on recall), "audit" (an independent
privacy auditor's misses, also written before its fixes: a third opinion) and "generated" (synth).
Prints recall per identifier kind, decoy survival and texts per second for
  ours        gn_pipelines.privacy.scrubber.scrub_text (generic rules, then with the record's own values)
  duckdb      the `scrub` UDF end to end in DuckDB on --rows synthetic complaints (title and body),
              in a child process so its peak RSS is its own
  presidio    presidio-analyzer pattern recognizers (KR_RRN, KR_FRN, KR_BRN, KR_DRIVER_LICENSE,
              KR_PASSPORT, e-mail, credit card, phone with region KR), no spaCy model
  kiwipiepy   proper nouns (NNP) as a name detector, recall on the names of the corpus
Presidio and kiwipiepy are optional (`pip install -e '.[bench]'`); the script says if absent.

Usage: .venv/bin/python bench/bench_scrubber.py [--rows 1000000] [--skip-duckdb]
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
sys.path.insert(0, str(HERE / "scrub_corpus"))

import corpus  # noqa: E402  (bench/scrub_corpus is not a package)

from gn_pipelines.privacy.scrubber import KINDS, scrub_text  # noqa: E402

DUCKDB_RUN = """
import json, resource, sys, time
from datetime import date
import duckdb, pyarrow as pa
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
start = time.perf_counter()
con.execute("CREATE TABLE deid AS SELECT receipt_no, "
            "scrub(title, complainant_name, phone, address, resident_reg_no) AS title, "
            "scrub(body, complainant_name, phone, address, resident_reg_no) AS body FROM src")
scrub_s = time.perf_counter() - start
start = time.perf_counter()
found = placeholder_counts(con, "deid", ["title", "body"])
count_s = time.perf_counter() - start
start = time.perf_counter()
residual = count_residual_identifiers(con, "deid", ["title", "body"])
scan_s = time.perf_counter() - start
print(json.dumps({"rows": rows, "scrub_s": scrub_s, "texts_per_s": 2 * rows / scrub_s,
                  "count_s": count_s, "scan_s": scan_s, "found": found, "residual": residual,
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


def bench_ours(sets: dict[str, list]) -> None:
    for name, cases in sets.items():
        score, seconds = _timed(cases, lambda c: scrub_text(c.text).text)
        _report(f"ours {LABELS.get(name, name)}", score, len(cases), seconds)
        if any(c.own for c in cases):
            score, seconds = _timed(cases, lambda c: scrub_text(c.text, **c.own).text)
            _report(f"ours {name} +own", score, len(cases), seconds)


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


def bench_duckdb(rows: int) -> None:
    out = subprocess.run([sys.executable, "-c", DUCKDB_RUN, str(rows)], capture_output=True,
                         text=True, check=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    print(f"duckdb UDF end to end   {r['rows']:,} rows = {2 * r['rows']:,} texts in "
          f"{r['scrub_s']:.1f} s: {r['texts_per_s']:,.0f} texts/s, peak RSS {r['peak_rss_mb']:,.0f} MB")
    print(f"    replacement counts {r['count_s']:.2f} s: {r['found']}")
    print(f"    residual scan {r['scan_s']:.2f} s: {sum(r['residual'].values())} identifiers left")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--corpus-rows", type=int, default=4000)
    parser.add_argument("--skip-duckdb", action="store_true")
    args = parser.parse_args()
    sets = {"hard": corpus.hard_cases(), "blind": corpus.blind_cases(),
            "audit": corpus.audit_cases(), "generated": corpus.generated_cases(rows=args.corpus_rows)}
    print(f"corpus: {len(sets['hard'])} hand-written cases, {len(sets['blind'])} blind cases "
          f"and {len(sets['audit'])} audit cases (both written before the fixes), "
          f"{len(sets['generated'])} generated texts")
    bench_ours(sets)
    bench_presidio(sets)
    bench_kiwi(sets)
    if not args.skip_duckdb:
        bench_duckdb(args.rows)


if __name__ == "__main__":
    main()
