"""Steps without a work folder of their own (the publication's builds, gate and open-data export)
get a DuckDB bounded like every stage's: at 10M rows an unbounded one held 6.9 GB."""

from gn_pipelines.ingest.parquet_io import DUCKDB_MEMORY_LIMIT, memory_limit_within, scratch_connection


def test_spills_under_the_scratch_zone_within_the_stage_limit_and_leaves_nothing(tmp_path):
    scratch = tmp_path / "scratch"
    with scratch_connection(scratch, "64MB") as connection:
        limit, spill = connection.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory')").fetchone()
        (work,) = scratch.iterdir()
        assert spill.startswith(str(work)) and oct(work.stat().st_mode & 0o777) == "0o700"
        # a sort of about 200 MB under a 64 MB limit: done on disk, not refused
        assert connection.execute("SELECT count(*) FROM (SELECT repeat(i::VARCHAR, 20) AS v FROM range(3000000) "
                                  "t(i) ORDER BY v DESC)").fetchone() == (3000000,)
    assert limit in {"61.0 MiB", "64.0 MB"}
    assert list(scratch.iterdir()) == []


def test_the_default_limit_is_the_stages():
    with scratch_connection(None) as connection:
        limit = connection.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert DUCKDB_MEMORY_LIMIT == "1GB" and limit in {"953.6 MiB", "1000.0 MB"}


def test_a_smaller_limit_for_a_block_spills_what_duckdb_holds_and_is_restored_after(tmp_path):
    """Validation builds its pandas frames under a smaller limit: the batch's table DuckDB holds
    goes to disk meanwhile, instead of staying beside the frame."""
    def held(connection) -> int:
        return connection.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchone()[0]

    with scratch_connection(tmp_path / "scratch", "512MB") as connection:
        connection.execute("CREATE TABLE batch AS SELECT i, repeat(i::VARCHAR, 30) AS text FROM range(3000000) t(i)")
        assert held(connection) > 200 << 20
        with memory_limit_within(connection, "64MB", restored_to="512MB"):
            assert held(connection) <= 64 << 20
            assert connection.execute("SELECT count(*), max(length(text)) FROM batch").fetchone() == (3000000, 210)
        limit = connection.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit in {"488.2 MiB", "512.0 MB"}
