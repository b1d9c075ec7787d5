"""civil_complaint_keywords_monthly is built incrementally: the nouns of each complaint file are
tokenised once per (source_file, content_sha256, scrubbed text) and kept in a restricted cache
directory; the unit given to kiwipiepy is each distinct sentence of the new files."""

import hashlib
import re
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
        "complainant_key": [f"{source_file}:{row}" for row in range(len(table))],  # a complainant each
        "source_file": [source_file] * len(table), "content_sha256": [digest] * len(table),
        "source_row_number": pa.array(range(1, len(table) + 1), pa.int64())}),
        drops / provider / f"{name}.parquet")


def _keywords(drops, cache_dir=None) -> tuple[list, int]:
    """The table built over every drop in `drops`, and how many sentences were tokenised for it."""
    tokenised = []

    def counting_nouns(texts):
        texts = list(texts)
        tokenised.append(len(texts))
        return complaint_nouns(texts)

    with duckdb.connect() as connection:
        connection.execute(f"CREATE VIEW complaint_drops AS SELECT * FROM "
                           f"read_parquet('{drops}/*/*.parquet', union_by_name = true)")
        _build_keywords_monthly(connection, cache_dir, tokenise=counting_nouns)
        rows = connection.execute("SELECT sigungu_code, month, keyword, complaints "
                                  "FROM civil_complaint_keywords_monthly ORDER BY ALL").fetchall()
    return rows, sum(tokenised)


def _sentences(text: str) -> list[str]:
    """A text's sentences as the build should cut them, written apart from its SQL: placeholders
    blanked, a break after . ! ? followed by white space."""
    blanked = re.sub(r"\[[^\]]{1,20}\]", " ", text)
    return [sentence for sentence in re.split(r"(?<=[.!?])\s+", blanked) if sentence.strip()]


def _distinct_sentences(drops, *names: str) -> int:
    """How many distinct sentences the complaints of the drops named hold: each is tokenised once."""
    table = pq.read_table(drops, columns=["title", "body", "source_file"]).to_pylist()
    return len({sentence for row in table if row["source_file"].rsplit("/", 1)[-1] in names
                for sentence in _sentences(" ".join(t for t in (row["title"], row["body"]) if t is not None))})


def test_a_second_build_tokenises_only_the_new_file_and_equals_a_build_from_scratch(tmp_path):
    drops, cache = tmp_path / "drops", tmp_path / "restricted" / "build_cache"
    for provider in PROVIDERS:
        _write_drop(drops, "2025-03-02.csv", provider, date(2025, 3, 2), 40)
    first, tokenised = _keywords(drops, cache)
    assert tokenised == _distinct_sentences(drops, "2025-03-02.csv") and first  # frequent keywords pass the thresholds
    _write_drop(drops, "2025-03-03.csv", "48250", date(2025, 3, 3), 25)
    second, tokenised = _keywords(drops, cache)
    assert tokenised == _distinct_sentences(drops, "2025-03-03.csv")
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
    assert 0 < tokenised <= _distinct_sentences(drops / "48170", "2025-03-02.csv")  # only that file's
    assert replaced == _keywords(drops)[0] != before
    (drops / "48120" / "2025-03-02.csv.parquet").unlink()
    withdrawn, tokenised = _keywords(drops, cache)
    assert tokenised == 0 and withdrawn == _keywords(drops)[0] != replaced
    (noun_cache,) = cache.glob("nouns-*")
    assert len(list(noun_cache.glob("*.parquet"))) == 2  # the replaced and withdrawn files' nouns are gone


def test_a_file_de_identified_again_with_other_text_is_tokenised_again(tmp_path):
    """Same delivered bytes, other scrubbed text (a scrubber that now replaces more): the cached
    nouns of the old text must not count."""
    drops, cache = tmp_path / "drops", tmp_path / "build_cache"
    for provider in PROVIDERS:
        _write_drop(drops, "2025-03-02.csv", provider, date(2025, 3, 2), 40)
    before, _ = _keywords(drops, cache)
    path = drops / "48170" / "2025-03-02.csv.parquet"
    table = pq.read_table(path)
    rescrubbed = pa.array(["[이름] 민원입니다." for _ in range(len(table))], pa.string())
    pq.write_table(table.set_column(table.schema.get_field_index("body"), "body", rescrubbed), path)
    after, tokenised = _keywords(drops, cache)
    assert 0 < tokenised <= _distinct_sentences(drops / "48170", "2025-03-02.csv")  # only that file's
    assert after == _keywords(drops)[0] != before
    (noun_cache,) = cache.glob("nouns-*")
    assert len(list(noun_cache.glob("*.parquet"))) == 3  # the old text's nouns are gone


def test_half_a_cache_file_of_a_killed_run_is_never_read(tmp_path):
    drops, cache = tmp_path / "drops", tmp_path / "build_cache"
    _write_drop(drops, "2025-03-02.csv", "48250", date(2025, 3, 2), 30)
    complete, _ = _keywords(drops, cache)
    (noun_cache,) = cache.glob("nouns-*")
    for path in noun_cache.glob("*.parquet"):  # the run was killed while writing beside it
        path.rename(path.with_name(f".{path.name}.123.partial"))
    again, tokenised = _keywords(drops, cache)
    assert tokenised == _distinct_sentences(drops, "2025-03-02.csv") and again == complete
    assert [p.name for p in noun_cache.iterdir() if p.name.endswith(".partial")] == []


def test_no_complaint_no_keyword(tmp_path):
    with duckdb.connect() as connection:
        connection.execute("""CREATE VIEW complaint_drops AS SELECT '48250' AS sigungu_code,
            TIMESTAMP '2025-03-02 12:00' AS received_at, '도로 파손' AS title, '도로 파손' AS body,
            'k' AS complainant_key, 'f.csv' AS source_file, 'ab' AS content_sha256, 1::BIGINT AS source_row_number WHERE false""")
        _build_keywords_monthly(connection, tmp_path)
        assert connection.execute("SELECT count(*) FROM civil_complaint_keywords_monthly").fetchone() == (0,)


def test_a_repeated_sentence_is_tokenised_once_and_counted_for_every_complaint(tmp_path):
    drops = tmp_path / "drops"
    _write_drop(drops, "2025-03-02.csv", "48250", date(2025, 3, 2), 60)
    once, _ = _keywords(drops)
    # the same complaints again in another file of the same 시군 and day: the same texts
    _write_drop(drops, "2025-03-02-again.csv", "48250", date(2025, 3, 2), 60)
    twice, tokenised = _keywords(drops)
    assert tokenised == _distinct_sentences(drops, "2025-03-02.csv") < 120
    counted_twice = {row[:-1]: row[-1] for row in twice}
    assert once and all(counted_twice[row[:-1]] == 2 * row[-1] for row in once)  # every complaint counts


def test_a_file_longer_than_a_read_batch_is_streamed_into_one_cache_file(tmp_path, monkeypatch):
    """A big drop's nouns are written batch by batch (memory stays one batch), into one file."""
    import gn_pipelines.datasets.civil_complaints as declaration

    drops, cache = tmp_path / "drops", tmp_path / "build_cache"
    _write_drop(drops, "2025-03-02.csv", "48250", date(2025, 3, 2), 120)
    _write_drop(drops, "2025-03-02.csv", "48170", date(2025, 3, 2), 30)
    whole, _ = _keywords(drops, tmp_path / "whole_cache")
    monkeypatch.setattr(declaration, "_BATCH", 25)  # sentences per kiwipiepy call
    monkeypatch.setattr(declaration, "_NOUN_ROWS_PER_BATCH", 25)  # 48250's nouns span many read batches
    streamed, _ = _keywords(drops, cache)
    assert streamed == whole and streamed
    (noun_cache,) = cache.glob("nouns-*")
    files = sorted(noun_cache.glob("*.parquet"))
    assert len(files) == 2 and not list(noun_cache.glob(".*partial"))
    row_groups = sorted(pq.ParquetFile(f).metadata.num_row_groups for f in files)
    assert row_groups[-1] >= 5  # written as it was read, not gathered first


def _complaint_drops(connection, texts: list[tuple[str | None, str | None]]) -> None:
    connection.register("complaint_rows", pa.table({
        "title": pa.array([title for title, _ in texts], pa.string()),
        "body": pa.array([body for _, body in texts], pa.string()),
        "source_row_number": pa.array(range(1, len(texts) + 1), pa.int64())}))
    connection.execute("CREATE TABLE complaints AS SELECT * FROM complaint_rows")  # a table: the build's cursors see it
    connection.execute("""CREATE VIEW complaint_drops AS SELECT '48250' AS sigungu_code,
        TIMESTAMP '2025-03-02 12:00' AS received_at, t.title, t.body, 'k' || t.source_row_number AS complainant_key,
        'f.csv' AS source_file,
        'ab' AS content_sha256, t.source_row_number FROM complaints t""")


def _cached_nouns(cache) -> dict[int, set[str]]:
    (noun_cache,) = cache.glob("nouns-*")
    rows = pq.read_table(noun_cache).to_pylist()
    assert all(row["keywords"] == sorted(set(row["keywords"])) for row in rows)  # each noun once per complaint
    return {row["source_row_number"]: set(row["keywords"]) for row in rows}


def test_each_distinct_sentence_is_tokenised_once_and_a_complaint_gets_the_nouns_of_all_its_sentences(tmp_path):
    texts = [("가로등 고장 신고", "도로 파손이 심합니다. 가로등이 3.5 미터 기울었습니다!"),
             (None, "도로 파손이 심합니다.  [이름]입니다. 쓰레기 무단투기가 계속됩니다?"),
             ("[전화번호]", None), (None, None)]
    tokenised = []

    def recording_nouns(sentences):
        tokenised.extend(sentences)
        return complaint_nouns(sentences)

    with duckdb.connect() as connection:
        _complaint_drops(connection, texts)
        _build_keywords_monthly(connection, tmp_path, tokenise=recording_nouns)
    # the title runs into the body's first sentence, 3.5 is no break, the shared sentence comes once
    assert sorted(tokenised) == sorted({
        "가로등 고장 신고 도로 파손이 심합니다.", "가로등이 3.5 미터 기울었습니다!", "도로 파손이 심합니다.", "입니다.",
        "쓰레기 무단투기가 계속됩니다?"})
    nouns = _cached_nouns(tmp_path)
    assert nouns[1] == {"가로등", "고장", "도로", "파손"}
    assert nouns[2] == {"도로", "파손", "쓰레기", "무단", "투기", "계속"}
    assert 3 not in nouns and 4 not in nouns  # a placeholder alone, no text: no noun


def test_the_nouns_of_a_complaints_sentences_are_those_of_its_whole_text(tmp_path):
    """What the sentence unit must not change: the noun set of each complaint (synthetic drops of
    three 시군, scrubber placeholders included; docs/keywords.md has the larger measurements)."""
    drops, cache = tmp_path / "drops", tmp_path / "build_cache"
    for provider in PROVIDERS:
        _write_drop(drops, "2025-03-02.csv", provider, date(2025, 3, 2), 60)
    with duckdb.connect() as connection:
        connection.execute(f"CREATE VIEW complaint_drops AS SELECT * FROM read_parquet('{drops}/*/*.parquet')")
        _build_keywords_monthly(connection, cache)
        rows = connection.execute("SELECT source_file, source_row_number, concat_ws(' ', title, body) "
                                  "FROM complaint_drops ORDER BY ALL").fetchall()
    (noun_cache,) = cache.glob("nouns-*")
    by_sentence = {(row["source_file"], row["source_row_number"]): set(row["keywords"])
                   for row in pq.read_table(noun_cache).to_pylist()}
    whole = complaint_nouns(text for _, _, text in rows)
    assert len(rows) == 180 and sum(bool(n) for n in whole) > 150
    assert [by_sentence.get((f, n), set()) for f, n, _ in rows] == [set(n) for n in whole]


def _keyword_table(connection, cache, complaints: list[tuple[str, str]]) -> dict[str, tuple]:
    """The keyword table over (complainant key, body) complaints of 48250 in March 2025:
    keyword → (complaints, people)."""
    connection.register("complaint_rows", pa.table({
        "complainant_key": pa.array([key for key, _ in complaints], pa.string()),
        "body": pa.array([body for _, body in complaints], pa.string()),
        "source_row_number": pa.array(range(1, len(complaints) + 1), pa.int64())}))
    connection.execute("CREATE OR REPLACE TABLE complaints AS SELECT * FROM complaint_rows")
    connection.execute("""CREATE OR REPLACE VIEW complaint_drops AS SELECT '48250' AS sigungu_code,
        TIMESTAMP '2025-03-02 12:00' AS received_at, '' AS title, t.body, t.complainant_key,
        'f.csv' AS source_file, 'ab' AS content_sha256, t.source_row_number FROM complaints t""")
    _build_keywords_monthly(connection, cache)
    return {keyword: (complaints, people) for keyword, complaints, people in connection.execute(
        "SELECT keyword, complaints, people FROM civil_complaint_keywords_monthly").fetchall()}


def test_a_keyword_needs_five_people_not_five_complaints(tmp_path):
    """One complainant's twelve complaints about 층간소음 do not make it a keyword of the month
    (it would publish one person's complaints); five complainants do."""
    with duckdb.connect() as connection:
        one_person = _keyword_table(connection, tmp_path, [("same", "윗집 층간소음이 심합니다.")] * 12)
        assert "소음" not in one_person
        five = _keyword_table(connection, tmp_path, [(f"p{i % 5}", "윗집 층간소음이 심합니다.") for i in range(12)])
        assert five["소음"] == (12, 5)


def test_an_unknown_word_shaped_like_a_name_is_never_a_keyword(tmp_path):
    """kiwipiepy reads 박민준 (not in its dictionary) as a common noun: six complainants naming
    their neighbour would publish his name as a keyword. Known words survive the same shape."""
    with duckdb.connect() as connection:
        table = _keyword_table(connection, tmp_path, [
            (f"p{i}", "윗집 사는 박민준 때문에 밤마다 층간소음이 심합니다. 박물관 앞 정류장도 시끄럽습니다.")
            for i in range(6)])
    assert "박민준" not in table
    assert {"소음", "박물관", "정류장"} <= set(table)
    assert complaint_nouns(["윗집 사는 박민준 때문에"]) == [["윗집"]]


def test_a_month_short_of_its_vocabulary_among_the_candidates_counts_every_keyword(tmp_path, monkeypatch):
    """People are counted for the month's most frequent keywords only; when those are one
    person's (twelve complaints about 소음), the month is counted again over every keyword."""
    import gn_pipelines.datasets.civil_complaints as declaration

    complaints = [("same", "층간소음이 심합니다.")] * 12 + [(f"p{i}", "가로등이 고장났습니다.") for i in range(5)]
    with duckdb.connect() as connection:
        everything = _keyword_table(connection, tmp_path / "a", complaints)
        monkeypatch.setattr(declaration, "KEYWORD_CANDIDATES", 1)  # 소음 alone is a candidate
        few = _keyword_table(connection, tmp_path / "b", complaints)
    assert few == everything and "소음" not in few and few["가로등"] == (5, 5)


def test_the_publication_lets_the_model_go_once_the_keywords_are_counted(tmp_path):
    """kiwipiepy's model (520 MB) stayed loaded beside the publication's next steps: at 10M
    complaints the open-data export's process reached 2 GB."""
    from gn_pipelines.datasets import civil_complaints
    from gn_pipelines.publish.aggregates import build_aggregate

    drops = tmp_path / "drops"
    _write_drop(drops, "2025-03-02.csv", "48250", date(2025, 3, 2), 300)
    with duckdb.connect() as connection:
        connection.execute(f"CREATE VIEW complaint_drops AS SELECT * FROM read_parquet('{drops}/*/*.parquet')")
        build_aggregate(connection, "civil_complaint_keywords_monthly", tmp_path / "cache")
        assert connection.execute("SELECT count(*) FROM civil_complaint_keywords_monthly").fetchone()[0] > 0
    assert civil_complaints._kiwi.cache_info().currsize == 0
    assert complaint_nouns(["도로가 파손되었습니다"]) == [["도로", "파손"]]  # loaded again when asked
