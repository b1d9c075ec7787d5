"""civil_complaint_keywords_monthly is built incrementally: the nouns of each complaint file are
tokenised once per (source_file, content_sha256) and kept in a restricted cache directory."""

import hashlib
import stat
from datetime import date, datetime

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from gn_pipelines.datasets.civil_complaints import _build_keywords_monthly, complaint_nouns
from gn_pipelines.synth.civil_complaints import complaint_table

PROVIDERS = ("48250", "48170", "48120")


def _write_drop(drops, name: str, provider: str, day: date, rows: int, seed: int = 7) -> None:
    """A pseudonymised complaint drop as the publication reads it: with its lineage columns."""
    table = complaint_table(provider, day, rows, seed)
    source_file = f"landing/{provider}/civil_complaints/{name}"
    digest = hashlib.sha256(repr((provider, day, rows, seed)).encode()).hexdigest()
    (drops / provider).mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({
        "sigungu_code": table["sigungu_code"],
        "received_at": [datetime(day.year, day.month, day.day, 12)] * len(table),  # the synth varies formats
        "title": table["title"], "body": table["body"],
        "source_file": [source_file] * len(table), "content_sha256": [digest] * len(table),
        "source_row_number": pa.array(range(1, len(table) + 1), pa.int64())}),
        drops / provider / f"{name}.parquet")


def _keywords(drops, cache_dir=None) -> tuple[list, int]:
    """The table built over every drop in `drops`, and how many texts were tokenised for it."""
    tokenised = []

    def counting_nouns(texts):
        texts = list(texts)
        tokenised.append(len(texts))
        return complaint_nouns(texts)

    with duckdb.connect() as connection:
        connection.execute(f"CREATE VIEW complaint_drops AS SELECT * FROM "
                           f"read_parquet('{drops}/*/*.parquet', union_by_name = true)")
        _build_keywords_monthly(connection, cache_dir, tokenise=counting_nouns)
        rows = connection.execute("SELECT * FROM civil_complaint_keywords_monthly ORDER BY ALL").fetchall()
    return rows, sum(tokenised)


def _distinct_texts(drops, *names: str) -> int:
    """How many distinct complaint texts (title and body) the drops named hold: each is tokenised once."""
    with duckdb.connect() as connection:
        return connection.execute(
            f"SELECT count(DISTINCT concat_ws(' ', title, body)) FROM read_parquet('{drops}/*/*.parquet') "
            "WHERE parse_filename(source_file) IN (SELECT unnest($names))", {"names": list(names)}).fetchone()[0]


def test_a_second_build_tokenises_only_the_new_file_and_equals_a_build_from_scratch(tmp_path):
    drops, cache = tmp_path / "drops", tmp_path / "restricted" / "build_cache"
    for provider in PROVIDERS:
        _write_drop(drops, "2025-03-02.csv", provider, date(2025, 3, 2), 40)
    first, tokenised = _keywords(drops, cache)
    assert tokenised == _distinct_texts(drops, "2025-03-02.csv") and first  # frequent keywords pass the thresholds
    _write_drop(drops, "2025-03-03.csv", "48250", date(2025, 3, 3), 25)
    second, tokenised = _keywords(drops, cache)
    assert tokenised == _distinct_texts(drops, "2025-03-03.csv")
    assert second == _keywords(drops)[0] != first
    assert _keywords(drops, cache) == (second, 0)  # nothing new: nothing tokenised
    (noun_cache,) = cache.glob("nouns-*")
    assert len(list(noun_cache.glob("*.parquet"))) == 4
    assert stat.S_IMODE(noun_cache.stat().st_mode) == 0o700  # free-text derived: owner only


def test_a_replaced_file_is_tokenised_again_and_a_withdrawn_one_no_longer_counts(tmp_path):
    drops, cache = tmp_path / "drops", tmp_path / "build_cache"
    for provider in PROVIDERS:
        _write_drop(drops, "2025-03-02.csv", provider, date(2025, 3, 2), 40)
    before, _ = _keywords(drops, cache)
    # 48170 corrects its file: same name, new bytes (other rows, another content digest)
    _write_drop(drops, "2025-03-02.csv", "48170", date(2025, 3, 2), 30, seed=11)
    replaced, tokenised = _keywords(drops, cache)
    assert 0 < tokenised <= 30
    assert replaced == _keywords(drops)[0] != before
    (drops / "48120" / "2025-03-02.csv.parquet").unlink()
    withdrawn, tokenised = _keywords(drops, cache)
    assert tokenised == 0 and withdrawn == _keywords(drops)[0] != replaced
    (noun_cache,) = cache.glob("nouns-*")
    assert len(list(noun_cache.glob("*.parquet"))) == 2  # the replaced and withdrawn files' nouns are gone


def test_half_a_cache_file_of_a_killed_run_is_never_read(tmp_path):
    drops, cache = tmp_path / "drops", tmp_path / "build_cache"
    _write_drop(drops, "2025-03-02.csv", "48250", date(2025, 3, 2), 30)
    complete, _ = _keywords(drops, cache)
    (noun_cache,) = cache.glob("nouns-*")
    for path in noun_cache.glob("*.parquet"):  # the run was killed while writing beside it
        path.rename(path.with_name(f".{path.name}.123.partial"))
    again, tokenised = _keywords(drops, cache)
    assert tokenised == _distinct_texts(drops, "2025-03-02.csv") and again == complete
    assert [p.name for p in noun_cache.iterdir() if p.name.endswith(".partial")] == []


def test_no_complaint_no_keyword(tmp_path):
    with duckdb.connect() as connection:
        connection.execute("""CREATE VIEW complaint_drops AS SELECT '48250' AS sigungu_code,
            TIMESTAMP '2025-03-02 12:00' AS received_at, '도로 파손' AS title, '도로 파손' AS body,
            'f.csv' AS source_file, 'ab' AS content_sha256, 1::BIGINT AS source_row_number WHERE false""")
        _build_keywords_monthly(connection, tmp_path)
        assert connection.execute("SELECT count(*) FROM civil_complaint_keywords_monthly").fetchone() == (0,)


def test_a_repeated_text_is_tokenised_once_and_counted_for_every_complaint(tmp_path):
    drops = tmp_path / "drops"
    _write_drop(drops, "2025-03-02.csv", "48250", date(2025, 3, 2), 60)
    once, _ = _keywords(drops)
    # the same complaints again in another file of the same 시군 and day: the same texts
    _write_drop(drops, "2025-03-02-again.csv", "48250", date(2025, 3, 2), 60)
    twice, tokenised = _keywords(drops)
    assert tokenised == _distinct_texts(drops, "2025-03-02.csv") < 120
    counted_twice = {row[:-1]: row[-1] for row in twice}
    assert once and all(counted_twice[row[:-1]] == 2 * row[-1] for row in once)  # every complaint counts


def test_a_file_longer_than_a_read_batch_is_streamed_into_one_cache_file(tmp_path, monkeypatch):
    """A big drop's nouns are written batch by batch (memory stays one batch), into one file."""
    import gn_pipelines.datasets.civil_complaints as declaration

    drops, cache = tmp_path / "drops", tmp_path / "build_cache"
    _write_drop(drops, "2025-03-02.csv", "48250", date(2025, 3, 2), 120)
    _write_drop(drops, "2025-03-02.csv", "48170", date(2025, 3, 2), 30)
    whole, _ = _keywords(drops, tmp_path / "whole_cache")
    monkeypatch.setattr(declaration, "_BATCH", 25)  # 48250's file spans five read batches
    streamed, _ = _keywords(drops, cache)
    assert streamed == whole and streamed
    (noun_cache,) = cache.glob("nouns-*")
    files = sorted(noun_cache.glob("*.parquet"))
    assert len(files) == 2 and not list(noun_cache.glob(".*partial"))
    row_groups = sorted(pq.ParquetFile(f).metadata.num_row_groups for f in files)
    assert row_groups[-1] >= 5  # written as it was read, not gathered first
