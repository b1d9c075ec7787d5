"""Batches: the month a file belongs to and the run key of a set of files."""

from gn_pipelines.ingest.batch import BatchFile, batch_run_key, delivery_month


def test_the_month_of_a_file_is_its_named_period_else_the_month_it_landed_in_seoul():
    assert [delivery_month(name) for name in ("2025-03-01.csv", "2025-03.xlsx", "20250303_weekly.csv",
                                              "민원_202504.csv", "2025_12_31.csv")] == [
        "2025-03", "2025-03", "2025-03", "2025-04", "2025-12"]
    assert delivery_month("a.csv", 1_700_000_000 * 10**9) == "2023-11"
    # 2023-11-30 16:00 UTC is already 1 December in Seoul
    assert delivery_month("a.csv", 1_701_360_000 * 10**9) == "2023-12"
    assert delivery_month("version 3.csv", 1_701_360_000 * 10**9) == "2023-12"  # no period in the name


def test_the_run_key_of_a_batch_is_its_sorted_file_keys():
    a = BatchFile("48740/civil_complaints/2025-03-01.csv", "a" * 64, "48740")
    b = BatchFile("48170/civil_complaints/2025-03-01.csv", "a" * 64, "48170")
    assert a.key == f"sha256:{'a' * 64}:48740/civil_complaints"
    assert batch_run_key("civil_complaints", "2025-03", [a, b]) == batch_run_key("civil_complaints", "2025-03", [b, a])
    assert batch_run_key("civil_complaints", "2025-03", [a]) != batch_run_key("civil_complaints", "2025-03", [a, b])
    # the same bytes from another provider are another delivery
    assert batch_run_key("civil_complaints", "2025-03", [a]) != batch_run_key("civil_complaints", "2025-03", [b])
