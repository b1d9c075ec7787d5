"""Benchmark: civil_complaint_keywords_monthly, nouns per distinct sentence (now) against nouns per
distinct whole text (before), side by side, with their agreement.

Complaint drops are written as the publication reads them: pseudonymised (title and body scrubbed
with the record's own name, phone, address and RRN, as de-identification does) with their lineage
columns. For each set of drops, the table is built twice from scratch:

  before  each distinct text (title and body) tokenised once (the unit until 2026-12-06; here a
          reference written in this file: same kiwipiepy call, same counting SQL)
  after   `_build_keywords_monthly`: each distinct sentence tokenised once, nouns joined back
          per complaint in SQL, one cache file per drop

and compared: the share of complaints whose noun set is the same, the table's identical rows and
the overlap of each month's top keywords. Then, over the cache of the first build, a build with
nothing new and one with a new file of --new-rows.

Sets: --rows complaints of 창원시 in one file, as bench_throughput's 1M-row drop (default 1,000,000;
0 to skip), --week (every provider's usual volume, 2025-03-01…07, as `synth` writes it) and
--corpus (the 346 hand-written texts of bench/scrub_corpus, one complaint each).

Usage: .venv/bin/python bench/bench_keywords.py [--rows 1000000] [--week] [--corpus] [--no-before]
       [--work DIR (keeps the drops written there between runs)]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE / "scrub_corpus")]

import duckdb  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from gn_pipelines.contracts.published import CHANGWON_SIGUN  # noqa: E402
from gn_pipelines.datasets.civil_complaints import (  # noqa: E402
    _build_keywords_monthly, complaint_nouns, count_keywords,
)
from gn_pipelines.ingest.parquet_io import scratch_connection  # noqa: E402
from gn_pipelines.privacy.scrubber import scrub_text  # noqa: E402
from gn_pipelines.synth import DEFAULT_SEED, complaint_table  # noqa: E402
from gn_pipelines.synth.civil_complaints import WEEKDAY_COMPLAINTS  # noqa: E402

BIG_PROVIDER, BIG_DAY = "48120", date(2025, 3, 4)  # bench_throughput's drop
WEEK = (date(2025, 3, 1), 7)
_OWN = ("complainant_name", "phone", "address", "resident_reg_no")


def scrubbed(table: pa.Table) -> tuple[list, list, list]:
    """Title and body scrubbed with the row's own values (each distinct (text, own values) once),
    and each row's complainant key."""
    columns = {name: table[name].to_pylist() for name in ("title", "body", "personal_data_in_text", *_OWN)}
    memo: dict = {}

    def scrub(text, row):
        own = tuple(columns[name][row] for name in _OWN) if columns["personal_data_in_text"][row] else ()
        if (text, own) not in memo:
            memo[(text, own)] = scrub_text(text, **({} if not own else dict(
                own_name=own[0], own_phone=own[1], own_address=own[2], own_rrn=own[3]))).text
        return memo[(text, own)]

    return ([scrub(t, i) for i, t in enumerate(columns["title"])],
            [scrub(b, i) for i, b in enumerate(columns["body"])],
            [person_key(rrn, phone) for rrn, phone in zip(columns["resident_reg_no"], columns["phone"])])


def person_key(rrn: str | None, phone: str | None) -> str:
    """A stand-in for the recipe's `complainant_key` (a keyed hash of the RRN, else of the phone)."""
    return hashlib.sha256((f"rrn:{rrn}" if rrn else f"phone:{phone}").encode()).hexdigest()


def write_drop(drops: Path, provider: str, day: date, titles, bodies, people, name: str | None = None) -> None:
    rows = len(titles)
    name = name or f"{day}.csv"
    (drops / provider).mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({
        "sigungu_code": [provider] * rows, "received_at": [datetime(day.year, day.month, day.day, 12)] * rows,
        "title": pa.array(titles, pa.string()), "body": pa.array(bodies, pa.string()),
        "complainant_key": pa.array(people, pa.string()),
        "source_file": [f"landing/{provider}/civil_complaints/{name}"] * rows,
        "content_sha256": [hashlib.sha256(f"{provider}{name}{rows}".encode()).hexdigest()] * rows,
        "source_row_number": pa.array(range(1, rows + 1), pa.int64())}), drops / provider / f"{name}.parquet")


def synthetic_drop(drops: Path, provider: str, day: date, rows: int | None, name: str | None = None) -> None:
    write_drop(drops, provider, day, *scrubbed(complaint_table(provider, day, rows, DEFAULT_SEED)), name)


def corpus_drop(drops: Path) -> None:
    import corpus  # bench/scrub_corpus is not a package

    cases = corpus.hard_cases() + corpus.blind_cases() + corpus.audit_cases()
    bodies = [scrub_text(case.text, **case.own).text for case in cases]
    people = [person_key(None, f"corpus-{n}") for n in range(len(bodies))]  # one complainant each
    write_drop(drops, "48250", date(2025, 3, 2), [None] * len(bodies), bodies, people)


@contextmanager
def connect(drops: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The publication's connection (1 GB, spilling), with the drops as `complaint_drops`."""
    with scratch_connection(None) as connection:
        connection.execute(f"CREATE VIEW complaint_drops AS SELECT * FROM "
                           f"read_parquet('{drops}/*/*.parquet', union_by_name = true)")
        yield connection


def after(drops: Path, cache: Path) -> float:
    """The build as published; its table is kept in `cache`/../after.parquet for the comparison."""
    started = time.perf_counter()
    with connect(drops) as connection:
        _build_keywords_monthly(connection, cache)
        seconds = time.perf_counter() - started
        connection.execute(f"COPY civil_complaint_keywords_monthly TO '{cache.parent / 'after.parquet'}'")
    return seconds


def before(drops: Path, work: Path) -> float:
    """The previous unit: each distinct whole text tokenised once, nouns joined back per complaint."""
    started = time.perf_counter()
    text_nouns = work / "text_nouns.parquet"
    schema = pa.schema([("text", pa.string()), ("keyword", pa.string())])
    with connect(drops) as connection, pq.ParquetWriter(text_nouns, schema) as writer:
        reader = connection.cursor()
        result = reader.execute("SELECT DISTINCT concat_ws(' ', title, body) FROM complaint_drops "
                                "WHERE received_at IS NOT NULL")
        while batch := [text for (text,) in result.fetchmany(2_000)]:
            pairs = [(text, noun) for text, nouns in zip(batch, complaint_nouns(batch)) for noun in nouns]
            writer.write_batch(pa.record_batch([pa.array([t for t, _ in pairs], pa.string()),
                                                pa.array([n for _, n in pairs], pa.string())], schema=schema))
        reader.close()
    with connect(drops) as connection:
        connection.execute(f"""CREATE TEMP VIEW complaint_keywords AS
            SELECT {CHANGWON_SIGUN} AS sigungu_code, strftime(d.received_at, '%Y-%m') AS month, d.complainant_key, n.keyword
            FROM complaint_drops d JOIN read_parquet('{text_nouns}') n ON concat_ws(' ', d.title, d.body) = n.text
            WHERE d.received_at IS NOT NULL""")
        count_keywords(connection, 2**62)
        seconds = time.perf_counter() - started
        connection.execute(f"COPY civil_complaint_keywords_monthly TO '{work / 'before.parquet'}'")
    return seconds


def units(drops: Path) -> dict:
    """Distinct texts and distinct sentences (as the build cuts them), and their characters."""
    from gn_pipelines.datasets import civil_complaints as declaration

    sentences = declaration._DISTINCT_SENTENCES_SQL.replace(
        "JOIN uncached_files f USING (source_file, content_sha256)", ", (SELECT 0 AS file_index) f")
    with connect(drops) as connection:
        complaints, texts, text_chars = connection.execute(
            "SELECT count(*), count(DISTINCT t), sum(length(t)) FILTER (WHERE first) FROM (SELECT concat_ws(' ', "
            "title, body) AS t, row_number() OVER (PARTITION BY t) = 1 AS first FROM complaint_drops)").fetchone()
        distinct_sentences, sentence_chars = connection.execute(
            f"SELECT count(*), sum(length(sentence)) FROM ({sentences})").fetchone()
    return {"complaints": complaints, "texts": texts, "text_chars": text_chars,
            "sentences": distinct_sentences, "sentence_chars": sentence_chars}


def agreement(drops: Path, cache: Path, work: Path) -> str:
    """Complaints with the same noun set; identical table rows; overlap of each month's keywords."""
    (noun_cache,) = cache.glob("nouns-*")
    with connect(drops) as connection:
        same, complaints = connection.execute(f"""
            WITH now AS (SELECT source_file, source_row_number, list_sort(keywords) AS nouns
                         FROM read_parquet('{noun_cache}/*.parquet')),
            was AS (SELECT d.source_file, d.source_row_number, list_sort(list(n.keyword)) AS nouns
                    FROM complaint_drops d JOIN read_parquet('{work / 'text_nouns.parquet'}') n
                    ON concat_ws(' ', d.title, d.body) = n.text GROUP BY ALL)
            SELECT count(*) FILTER (WHERE now.nouns IS NOT DISTINCT FROM was.nouns), count(*)
            FROM complaint_drops d LEFT JOIN now USING (source_file, source_row_number)
            LEFT JOIN was USING (source_file, source_row_number)""").fetchone()
        now, was = f"read_parquet('{cache.parent / 'after.parquet'}')", f"read_parquet('{work / 'before.parquet'}')"
        identical, rows_now, rows_was = connection.execute(
            f"SELECT (SELECT count(*) FROM (SELECT * FROM {now} INTERSECT ALL SELECT * FROM {was})), "
            f"(SELECT count(*) FROM {now}), (SELECT count(*) FROM {was})").fetchone()
        overlap = connection.execute(f"""
            WITH a AS (SELECT DISTINCT month, keyword FROM {now}), b AS (SELECT DISTINCT month, keyword FROM {was})
            SELECT min(shared / greatest(total, 1)) FROM (
                SELECT month, count(*) FILTER (WHERE a.keyword IS NOT NULL AND b.keyword IS NOT NULL) AS shared,
                       count(*) AS total FROM a FULL JOIN b USING (month, keyword) GROUP BY month)""").fetchone()[0]
    return (f"same noun set {same:,}/{complaints:,} complaints ({same / max(complaints, 1):.2%}); table rows identical "
            f"{identical:,} (after {rows_now:,}, before {rows_was:,}); top keywords per month shared "
            f"{1.0 if overlap is None else overlap:.0%} (worst month)")


def one_set(label: str, drops: Path, scratch: Path, compare: bool, new_rows: int) -> None:
    cache, work = scratch / f"{label}-cache" / "build_cache", scratch / f"{label}-before"
    cache.parent.mkdir(parents=True)
    work.mkdir(parents=True)
    u = units(drops)
    print(f"\n{label}: {u['complaints']:,} complaints, {u['texts']:,} distinct texts ({u['text_chars']:,} characters), "
          f"{u['sentences']:,} distinct sentences ({u['sentence_chars']:,} characters); "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    print(f"  {'':28} {'seconds':>9} {'units/s':>9} {'complaints/s':>13}")
    seconds_after = after(drops, cache)
    print(f"  {'after (per sentence)':28} {seconds_after:9.1f} {u['sentences'] / seconds_after:9,.0f} "
          f"{u['complaints'] / seconds_after:13,.0f}", flush=True)
    if compare:
        seconds_before = before(drops, work)
        print(f"  {'before (per whole text)':28} {seconds_before:9.1f} {u['texts'] / seconds_before:9,.0f} "
              f"{u['complaints'] / seconds_before:13,.0f}   speed-up {seconds_before / seconds_after:.1f}x; "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)
        print(f"  agreement: {agreement(drops, cache, work)}", flush=True)
    if new_rows:
        started = time.perf_counter()
        with connect(drops) as connection:
            _build_keywords_monthly(connection, cache)
        print(f"  nothing new: {time.perf_counter() - started:.2f} s", flush=True)
        synthetic_drop(drops, "48250", date(2026, 1, 1), new_rows, "bench-new-file.csv")
        started = time.perf_counter()
        with connect(drops) as connection:
            _build_keywords_monthly(connection, cache)
        print(f"  one new file of {new_rows} rows: {time.perf_counter() - started:.2f} s", flush=True)
        (drops / "48250" / "bench-new-file.csv.parquet").unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="complaints in the big drop (0: none)")
    parser.add_argument("--week", action="store_true", help="also every provider's week, 2025-03-01…07")
    parser.add_argument("--corpus", action="store_true", help="also the hand-written texts of bench/scrub_corpus")
    parser.add_argument("--no-before", action="store_true", help="only the current build (no comparison)")
    parser.add_argument("--new-rows", type=int, default=100, help="rows of the new file of the incremental build")
    parser.add_argument("--work", type=Path, help="directory keeping the drops between runs (default: temporary)")
    args = parser.parse_args()
    complaint_nouns(["모델을 먼저 읽어 둡니다."])  # kiwipiepy's model loads once (~1 s), outside the timings
    with tempfile.TemporaryDirectory(prefix="bench-keywords-") as scratch:
        kept = args.work or Path(scratch) / "drops"
        sets = []
        if args.rows:
            drops = kept / f"big-{args.rows}"
            if not drops.exists():
                started = time.perf_counter()
                synthetic_drop(drops, BIG_PROVIDER, BIG_DAY, args.rows)
                print(f"{args.rows:,} complaints synthesised and scrubbed in {time.perf_counter() - started:.1f} s")
            sets.append((f"{args.rows:,} complaints of {BIG_PROVIDER}, one file", drops, args.new_rows))
        if args.week:
            drops = kept / "week"
            if not drops.exists():
                for provider in WEEKDAY_COMPLAINTS:
                    for offset in range(WEEK[1]):
                        synthetic_drop(drops, provider, WEEK[0] + timedelta(days=offset), None)
            sets.append(("week (every provider, 2025-03-01…07)", drops, 0))
        if args.corpus:
            drops = kept / "corpus"
            if not drops.exists():
                corpus_drop(drops)
            sets.append(("hand-written texts (bench/scrub_corpus)", drops, 0))
        for n, (label, drops, new_rows) in enumerate(sets):
            one_set(label, drops, Path(scratch) / f"set{n}", not args.no_before, new_rows)


if __name__ == "__main__":
    main()
