"""The hostile-file corpus: every case is refused before or during parsing with its own reason,
in a child process whose peak memory stays under 1 GB; the landing zone refuses links unread."""

import dataclasses
import datetime as dt
import os
import unicodedata

import duckdb
import pytest

from gn_pipelines.datasets import get_contract
from gn_pipelines.contracts.model import FileBudget
from gn_pipelines.ingest.archive import RefusedLandedFile, archive_landed
from gn_pipelines.ingest.contained import collect_contained
from gn_pipelines.ingest.planning import plan_landing
from gn_pipelines_tests import hostile
from gn_pipelines_tests.drops import csv_bytes, drop, sample_rows

GIB = 1 << 30
COLLECTED_AT = dt.datetime(2025, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
WIDE_OPEN = FileBudget(max_columns=10**9, max_rows=10**9, max_xlsx_cells=10**15, max_line_bytes=10**9)

CORPUS = [
    # (case, file name, generator, budget or None for the contract's, expected reason)
    ("xlsx declaring XFD1048576", "far.xlsx", hostile.far_cell_xlsx, None,
     "over budget: xl/worksheets/sheet1.xml declares column 16,384 (A1:XFD1048576), the sheet's last row or "
     "column: a cell formatted there (a border, a fill) stretches the sheet"),
    ("xlsx using XFD1048576 without a dimension", "far.xlsx",
     lambda p: hostile.far_cell_xlsx(p, declare_dimension=False), None,
     "over budget: xl/worksheets/sheet1.xml uses cells up to column 16,384"),
    # the sheet where the workbook's relationships say, not under xl/worksheets/: checked all the same
    ("xlsx sheet outside xl/worksheets", "far.xlsx",
     lambda p: hostile.far_cell_xlsx(p, declare_dimension=False, sheet_path="xl/data/s.xml"), None,
     "over budget: xl/data/s.xml uses cells up to column 16,384"),
    ("xlsx parser abort, contained", "far.xlsx", hostile.far_cell_xlsx, WIDE_OPEN,
     "the file could not be parsed safely: the parser aborted"),
    ("xlsx sheet inflating to 982 MB", "big.xlsx", hostile.expanding_xlsx, None,
     "over budget: the workbook declares 981.9 MiB uncompressed, over this dataset's budget of 512.0 MiB"),
    ("xlsx zip bomb (ratio)", "bomb.xlsx", hostile.zip_bomb_xlsx, None,
     "over budget: xl/worksheets/sheet1.xml inflates"),
    ("xlsx that is not a zip", "junk.xlsx", hostile.not_a_zip_xlsx, None,
     "over budget: the xlsx file is not a readable zip archive"),
    ("one 50 MB line", "line.csv", hostile.long_line_csv, None,
     "over budget: line 2 is over 1.0 MiB long (at least 50.0 MiB)"),
    ("one 50 MB line past a wide line budget", "line.csv", hostile.long_line_csv, WIDE_OPEN,
     "the file cannot be read as CSV (Invalid Input Error: CSV Error on Line: 2); nothing of it was loaded"),
    ("more rows than the budget", "rows.csv",
     lambda p: p.write_bytes(csv_bytes(sample_rows("civil_complaints", 30))),
     FileBudget(max_rows=20), "over budget: the file has 30 lines, over this dataset's budget of 20 rows"),
    ("more columns than the budget", "wide.csv",
     lambda p: p.write_bytes(csv_bytes([r | {f"extra{i}": "x" for i in range(300)}
                                        for r in sample_rows("civil_complaints", 2)])),
     None, "over budget: the header has 313 columns, over this dataset's budget of 200"),
    ("bigger than the byte budget", "bytes.csv",
     lambda p: p.write_bytes(csv_bytes(sample_rows("civil_complaints", 50))), FileBudget(max_bytes=1000),
     "over budget: the file is 0.0 MiB, over this dataset's budget of 0.0 MiB"),
]


@pytest.mark.parametrize(("case", "name", "make", "budget", "reason"), CORPUS, ids=[c[0] for c in CORPUS])
def test_hostile_file_is_refused_with_its_reason_under_1_gb(zones, case, name, make, budget, reason):
    path = zones.scratch / name
    make(path)
    contract = get_contract("civil_complaints")
    outcome = collect_contained(path, contract=contract, provider_code="48740",
                                source_file=f"48740/civil_complaints/{name}", content_sha256="0" * 64,
                                zones=zones, collected_at=COLLECTED_AT, budget=budget)
    assert outcome.status == "rejected" and outcome.reason.startswith(reason), outcome.reason
    assert 0 < outcome.parser_peak_rss_bytes < GIB, (case, outcome.parser_peak_rss_bytes)
    print(f"{case}: refused, parser peak RSS {outcome.parser_peak_rss_bytes / (1 << 20):.0f} MiB")


# How the contained parser ends when its address space (`parser_memory_bytes`) runs out varies
# from run to run with the threads it starts (measured: a Python MemoryError, DuckDB's
# "Allocation failure" or "bad allocation", glibc's "cannot allocate memory for thread-local data"
# abort; now and then it fits): the messages are checked as the child leaves them.
OUT_OF_ADDRESS_SPACE = [
    (1, "Traceback (most recent call last):\n  …\n_duckdb.OutOfMemoryException: Out of Memory Error: Allocation failure\n"),
    (1, "Traceback (most recent call last):\n  …\nMemoryError\n"),
    (-6, "cannot allocate memory for thread-local data: ABORT\n"),
    (-6, "memory allocation of 549755813888 bytes failed\n"),
]


@pytest.mark.parametrize(("returncode", "stderr"), OUT_OF_ADDRESS_SPACE)
def test_a_parser_out_of_its_address_space_is_refused_naming_the_limit(returncode, stderr):
    from gn_pipelines.ingest.contained import _crash_reason

    reason = _crash_reason(returncode, stderr, FileBudget(parser_memory_bytes=400 << 20))
    assert "it hit its 400 MiB memory limit" in reason, reason


def test_an_allocation_duckdb_cannot_make_names_the_limit_and_its_buffer_limit_does_not(zones):
    """Out of address space, the file is not broken: the reason says which limit it met. DuckDB's
    own buffer limit (1 GB, spilling) is another matter: its message, with its figures, stays."""
    from gn_pipelines.ingest.collect import DropOutcome, _collect_one, _unreadable
    from gn_pipelines.ingest.parquet_io import work_connection

    outcome = DropOutcome("civil_complaints", "48740", "48740/civil_complaints/ok.csv", "0" * 64, "collected")
    _unreadable(outcome, duckdb.OutOfMemoryException("Out of Memory Error: Allocation failure"),
                FileBudget(parser_memory_bytes=400 << 20))
    assert outcome.status == "rejected" and "the parser reached its 400 MiB memory limit" in outcome.reason

    path = zones.scratch / "ok.csv"
    path.write_bytes(csv_bytes(sample_rows("civil_complaints", 3000)))
    with work_connection(zones.scratch, "4MB") as connection:  # a real buffer limit, met for real
        outcome = _collect_one(connection, path, contract=get_contract("civil_complaints"), provider_code="48740",
                               source_file="48740/civil_complaints/ok.csv", content_sha256="0" * 64, zones=zones,
                               collected_at=COLLECTED_AT)
    assert outcome.status == "rejected" and "used)" in outcome.reason and "MiB memory limit" not in outcome.reason


def test_contained_collection_of_a_valid_file_equals_the_direct_one(zones):
    import gc
    import subprocess
    import warnings

    path = zones.scratch / "ok.csv"
    path.write_bytes(csv_bytes(sample_rows("civil_complaints", 5)))
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always", ResourceWarning)
        outcome = collect_contained(path, contract=get_contract("civil_complaints"), provider_code="48740",
                                    source_file="48740/civil_complaints/ok.csv", content_sha256="0" * 64,
                                    zones=zones, collected_at=COLLECTED_AT)
        gc.collect()
    # the reaped parser is not left for subprocess to poll later (its pid may be another child's by then)
    assert not [w for w in warned if "still running" in str(w.message)] and not subprocess._active
    assert (outcome.status, outcome.rows_accepted) == ("collected", 5)
    with duckdb.connect() as connection:
        assert connection.execute(f"SELECT count(*) FROM '{outcome.collected_path}'").fetchone() == (5,)
    assert 0 < outcome.parser_peak_rss_bytes < GIB


def test_lone_cr_inside_a_quoted_field_is_data(zones):
    rows = sample_rows("civil_complaints", 3)
    rows[1]["민원내용"] = "첫 줄\r둘째 줄"
    for terminator in (b"\r\n", b"\n"):
        path = zones.scratch / f"cr{len(terminator)}.csv"
        path.write_bytes(csv_bytes(rows).replace(b"\r\n", terminator))
        outcome = collect_contained(path, contract=get_contract("civil_complaints"), provider_code="48740",
                                    source_file=f"48740/civil_complaints/{path.name}", content_sha256="0" * 64,
                                    zones=zones, collected_at=COLLECTED_AT)
        assert (outcome.rows_read, outcome.rows_accepted) == (3, 3)
        with duckdb.connect() as connection:
            bodies = connection.execute(
                f"SELECT body FROM '{outcome.collected_path}' ORDER BY source_row_number").fetchall()
        assert bodies[1] == ("첫 줄\r둘째 줄",)


def test_budgets_are_declared_per_dataset():
    budgets = {name: get_contract(name).budget for name in ("civil_complaints", "welfare_recipients", "water_quality")}
    assert all(isinstance(b, FileBudget) for b in budgets.values())
    assert budgets["water_quality"].max_bytes < budgets["civil_complaints"].max_bytes
    assert dataclasses.asdict(budgets["civil_complaints"])["max_line_bytes"] == 1 << 20


def _refusals(zones):
    plan = plan_landing(zones.landing, {}, settle_seconds=0)
    return plan, {r.relative: r for r in plan.rejections}


def test_symlinks_are_refused_unread_and_never_archived(zones, tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_bytes(csv_bytes(sample_rows("civil_complaints", 2)))
    folder = zones.landing / "48740" / "civil_complaints"
    folder.mkdir(parents=True)
    (folder / "passwd.csv").symlink_to("/etc/passwd")
    (folder / "elsewhere.csv").symlink_to(outside)
    (zones.landing / "48720").symlink_to(folder.parent)  # a linked provider folder
    plan, refused = _refusals(zones)
    assert not plan.collections
    assert refused["48740/civil_complaints/passwd.csv"].reason.startswith(
        "a symbolic link (to '/etc/passwd'): refused, never followed nor archived")
    assert refused["48740/civil_complaints/elsewhere.csv"].archive is False
    assert "48720" in refused and refused["48720"].archive is False
    with pytest.raises(RefusedLandedFile, match="symbolic link"):
        archive_landed(zones.landing, zones.archive, "48740/civil_complaints/passwd.csv")
    assert not list(zones.archive.rglob("*.csv"))


def test_hard_link_to_a_file_outside_is_refused(zones, tmp_path):
    outside = tmp_path / "secret.csv"
    outside.write_bytes(csv_bytes(sample_rows("civil_complaints", 2)))
    folder = zones.landing / "48740" / "civil_complaints"
    folder.mkdir(parents=True)
    os.link(outside, folder / "linked.csv")
    plan, refused = _refusals(zones)
    assert refused["48740/civil_complaints/linked.csv"].reason.startswith("a hard link (2 names for one file")
    with pytest.raises(RefusedLandedFile, match="hard link"):
        archive_landed(zones.landing, zones.archive, "48740/civil_complaints/linked.csv")


def test_a_cp949_file_name_is_read_as_cp949_and_an_unreadable_one_is_refused_alone(zones):
    """A Windows zip tool's CP949 name is no UTF-8: the planner crashed on it, every night, and
    nothing else was loaded. Now it is read as CP949; bytes neither reads are refused by name."""
    folder = zones.landing / "48740" / "civil_complaints"
    folder.mkdir(parents=True)
    payload = csv_bytes(sample_rows("civil_complaints", 2))
    for raw in ("민원_0302.csv".encode("cp949"), b"\xff\xfe_0303.csv"):
        with open(os.fsencode(str(folder)) + b"/" + raw, "wb") as handle:
            handle.write(payload)
    drop(zones.landing, "48740/civil_complaints/2025-03-04.csv", csv_bytes(sample_rows("civil_complaints", 3)))
    plan, refused = _refusals(zones)
    assert sorted(p.file_name for p in plan.collections) == ["2025-03-04.csv", "민원_0302.csv"]
    (unreadable,) = refused.values()
    assert unreadable.relative == "48740/civil_complaints/\\xff\\xfe_0303.csv"
    assert unreadable.reason.startswith("the file name is neither UTF-8 nor CP949")
    _, archived = archive_landed(zones.landing, zones.archive, "48740/civil_complaints/민원_0302.csv")
    assert archived.read_bytes() == payload


def test_a_file_the_platform_may_not_read_waits_and_stops_nothing(zones):
    """Another user's file (mode 600) raised PermissionError in the planner: every run would stop
    there. It waits, named, and the others are planned. (Root reads every file, so the denial
    comes from the hasher the planner is given: the error is the operating system's own type.)"""
    from gn_pipelines.ingest.planning import NOT_READABLE, content_sha256

    drop(zones.landing, "48740/civil_complaints/2025-03-04.csv", csv_bytes(sample_rows("civil_complaints", 3)))
    drop(zones.landing, "48740/civil_complaints/2025-03-05.csv", csv_bytes(sample_rows("civil_complaints", 2)))

    def hasher(path):
        if path.name == "2025-03-05.csv":
            raise PermissionError(13, "Permission denied", str(path))
        return content_sha256(path)

    plan = plan_landing(zones.landing, {}, settle_seconds=0, hasher=hasher)
    assert [p.file_name for p in plan.collections] == ["2025-03-04.csv"]
    assert plan.waiting == [("48740/civil_complaints/2025-03-05.csv", NOT_READABLE)]


def test_nfc_and_nfd_spellings_are_one_drop_and_a_folder_named_like_a_file_is_reported(zones):
    name = "민원_창녕.csv"
    payload = csv_bytes(sample_rows("civil_complaints", 2))
    drop(zones.landing, f"48740/civil_complaints/{unicodedata.normalize('NFD', name)}", payload, mtime=1_700_000_000)
    drop(zones.landing, f"48740/civil_complaints/{name}", payload, mtime=1_700_000_100)
    (zones.landing / "48740/civil_complaints/2025-03-01.csv").mkdir()
    plan, refused = _refusals(zones)
    assert [p.file_name for p in plan.collections] == [name]
    assert refused["48740/civil_complaints/2025-03-01.csv"].reason.startswith("a directory named like a file")
    sha256, _ = archive_landed(zones.landing, zones.archive, f"48740/civil_complaints/{name}")
    assert sha256 == plan.collections[0].sha256


def test_same_bytes_from_two_providers_are_two_deliveries(zones):
    payload = csv_bytes(sample_rows("civil_complaints", 2))
    drop(zones.landing, "48740/civil_complaints/2025-03-01.csv", payload, mtime=1_700_000_000)
    drop(zones.landing, "48720/civil_complaints/2025-03-01.csv", payload, mtime=1_700_000_000)
    drop(zones.landing, "48740/civil_complaints/copy.csv", payload, mtime=1_700_000_100)  # a later copy
    plan = plan_landing(zones.landing, {}, settle_seconds=0)
    assert sorted(p.relative for p in plan.collections) == [
        "48720/civil_complaints/2025-03-01.csv", "48740/civil_complaints/2025-03-01.csv"]
    [duplicate] = plan.rejections
    assert (duplicate.relative, duplicate.status) == ("48740/civil_complaints/copy.csv", "duplicate")
    assert "the same bytes as 48740/civil_complaints/2025-03-01.csv" in duplicate.reason


@pytest.mark.parametrize("files", [3, 9])  # one child, and two children sharing the batch
def test_a_file_that_kills_the_batch_child_is_rejected_alone(zones, files):
    """A batch is parsed file after file in one child: the file that aborts it is that file's
    rejection, and the files before and after it are collected, each with its own peak RSS."""
    from gn_pipelines.ingest.contained import ContainedFile, collect_contained_batch

    batch = []
    for i in range(files):
        path = zones.scratch / f"f{i}.{'xlsx' if i == 1 else 'csv'}"
        if i == 1:
            hostile.far_cell_xlsx(path)
        else:
            path.write_bytes(csv_bytes(sample_rows("civil_complaints", 2 + i)))
        batch.append(ContainedFile(path, "48740", f"48740/civil_complaints/{path.name}", f"{i:064d}"))
    outcomes = collect_contained_batch(batch, contract=get_contract("civil_complaints"), zones=zones,
                                       collected_at=COLLECTED_AT, budget=WIDE_OPEN)
    assert [o.source_file for o in outcomes] == [f.source_file for f in batch]
    assert outcomes[1].status == "rejected" and "the parser aborted" in outcomes[1].reason
    assert [(o.status, o.rows_accepted) for i, o in enumerate(outcomes) if i != 1] == [
        ("collected", 2 + i) for i in range(files) if i != 1]
    assert all(0 < o.parser_peak_rss_bytes < GIB for o in outcomes)


def test_a_child_killed_by_the_last_file_leaves_no_work_directory(zones):
    """A new child sweeps the scratch zone when files are left to parse; after the last file, the
    parent removes what the dead child left there (its decoded copy of the file and its spill)."""
    from gn_pipelines.ingest.contained import ContainedFile, collect_contained_batch

    bad = zones.scratch / "far.xlsx"
    hostile.far_cell_xlsx(bad)
    [outcome] = collect_contained_batch([ContainedFile(bad, "48740", "48740/civil_complaints/far.xlsx", "0" * 64)],
                                        contract=get_contract("civil_complaints"), zones=zones,
                                        collected_at=COLLECTED_AT, budget=WIDE_OPEN)
    assert outcome.status == "rejected" and "the parser aborted" in outcome.reason
    assert [p.name for p in zones.scratch.iterdir()] == ["far.xlsx"]


def group_batch(zones) -> list:
    """Files of one shape from three providers: each with another provider's code and a bad time,
    one in CP949, one with blank rows, one whose every row is rejected, one with a header only;
    and last, one of another shape."""
    from gn_pipelines.ingest.contained import ContainedFile

    batch = []
    for i, provider in enumerate(["48740", "48120", "48740", "48170", "48740"]):
        rows = sample_rows("civil_complaints", 3 + i, 시군구코드=provider)
        rows[0]["시군구코드"] = "48170" if provider != "48170" else "48740"  # another provider's code
        rows[-1]["접수일시"] = "not a time"
        if i == 3:  # blank rows, between and after the others
            rows[2:2] = [dict.fromkeys(rows[0], "")] * 2
            rows.append(dict.fromkeys(rows[0], " "))
        if i == 4:  # no row accepted
            for row in rows:
                row["접수일시"] = "어제"
        path = zones.scratch / f"{provider}-{i}.csv"
        path.write_bytes(csv_bytes(rows, encoding="cp949" if i == 2 else "utf-8"))
        batch.append(ContainedFile(path, provider, f"{provider}/civil_complaints/{i}.csv", f"{i:064d}"))
    path = zones.scratch / "header-only.csv"
    path.write_bytes(csv_bytes(sample_rows("civil_complaints", 1)).split(b"\r\n")[0] + b"\r\n")
    batch.append(ContainedFile(path, "48740", "48740/civil_complaints/header-only.csv", "8" * 64))
    renamed = [{("민원 제목" if k == "민원제목" else k): v for k, v in r.items()}
               for r in sample_rows("civil_complaints", 2, 시군구코드="48740")]
    path = zones.scratch / "renamed.csv"  # another shape: a group of its own
    path.write_bytes(csv_bytes(renamed))
    batch.append(ContainedFile(path, "48740", "48740/civil_complaints/renamed.csv", "9" * 64))
    return batch


def collected_one_by_one(zones, batch) -> tuple[list, dict]:
    from gn_pipelines.ingest.collect import collect_drop

    alone = [collect_drop(f.archived, contract=get_contract("civil_complaints"), provider_code=f.provider_code,
                          source_file=f.source_file, content_sha256=f.content_sha256, zones=zones,
                          collected_at=COLLECTED_AT) for f in batch]
    return alone, {o.source_file: staged_files(o) for o in alone}


def staged_files(outcome) -> list:
    return [parquet_content(p) for p in (outcome.collected_path, outcome.rejected_rows_path)]


def test_files_typed_together_equal_files_collected_one_by_one(zones):
    """A batch's files of one shape are typed and staged together: each file still gets its own row
    numbers, its provider's own codes, its lineage, reasons, counts, preview and staged files (same
    schema, same rows in the same order), exactly as collected alone."""
    from gn_pipelines.ingest.contained import collect_contained_batch

    batch = group_batch(zones)
    together = collect_contained_batch(batch, contract=get_contract("civil_complaints"), zones=zones,
                                       collected_at=COLLECTED_AT)
    staged = {}
    for outcome in together:
        assert outcome.collected_path.parent.parent.name == "civil_complaints"
        staged[outcome.source_file] = staged_files(outcome)
    alone, staged_alone = collected_one_by_one(zones, batch)
    for grouped, single in zip(together, alone):
        assert dataclasses.replace(grouped, parser_peak_rss_bytes=None) == single
    assert staged == staged_alone
    assert [(o.rows_accepted, o.rows_rejected, o.blank_rows) for o in together] == [
        (1, 2, 0), (2, 2, 0), (3, 2, 0), (4, 2, 3), (0, 7, 0), (0, 0, 0), (2, 0, 0)]
    assert together[1].rejections_by_reason == {"invalid_timestamp:received_at": 1,
                                                "other_provider_code:sigungu_code": 1}
    assert [len(o.preview) for o in together] == [1, 2, 3, 4, 0, 0, 2]
    # nothing is left of the write beside the targets
    assert not list(zones.restricted.rglob(".members-*"))


def loaded_members(connection, zones, batch) -> list:
    from gn_pipelines.ingest.collect import load_for_group

    return [load_for_group(connection, f.archived, contract=get_contract("civil_complaints"),
                           provider_code=f.provider_code, source_file=f.source_file,
                           content_sha256=f.content_sha256, zones=zones, collected_at=COLLECTED_AT,
                           table=f"raw_{i}") for i, f in enumerate(batch)]


def test_a_group_is_staged_together_in_a_few_statements(zones):
    """The group's own path (no fallback): its files come out as if collected one by one."""
    from gn_pipelines.ingest import collect
    from gn_pipelines.ingest.parquet_io import work_connection

    batch = group_batch(zones)[:-1]  # the files of one shape
    connection = work_connection(zones.scratch)
    members = loaded_members(connection, zones, batch)
    outcomes = collect._collect_together(connection, get_contract("civil_complaints"), members)  # raises if refused
    staged = {o.source_file: staged_files(o) for o in outcomes}
    connection.close()
    alone, staged_alone = collected_one_by_one(zones, batch)
    assert outcomes == alone and staged == staged_alone


def test_a_group_duckdb_refuses_is_collected_file_by_file(zones, monkeypatch):
    """If the statements that stage a group together fail, each file is typed and staged alone, with
    the same outcome and files as if the batch had never been grouped."""
    from gn_pipelines.ingest import collect
    from gn_pipelines.ingest.parquet_io import work_connection

    batch = group_batch(zones)[:-1]  # the files of one shape

    def refused(*args, **kwargs):
        raise duckdb.IOException("refused for the test")

    monkeypatch.setattr(collect, "copy_members_atomically", refused)
    connection = work_connection(zones.scratch)
    outcomes = collect.collect_group(connection, get_contract("civil_complaints"),
                                     loaded_members(connection, zones, batch))
    staged = {o.source_file: staged_files(o) for o in outcomes}
    assert connection.execute("SELECT count(*) FROM duckdb_tables()").fetchone()[0] == 0
    connection.close()
    alone, staged_alone = collected_one_by_one(zones, batch)
    assert outcomes == alone and staged == staged_alone
    assert [o.status for o in outcomes] == ["collected"] * 6


def parquet_content(path) -> tuple[list, list, list]:
    """A staged file as its readers see it: its columns and their DuckDB types, its Parquet types,
    and its rows in file order. Not the REQUIRED/OPTIONAL flag: DuckDB sets it from its plan's
    statistics (a file with blank rows, or written by a partitioned COPY, says OPTIONAL), and a
    reader sees the same column either way."""
    with duckdb.connect() as connection:
        parameters = {"path": str(path)}
        columns = connection.execute("DESCRIBE SELECT * FROM read_parquet($path)", parameters).fetchall()
        parquet_types = connection.execute(
            "SELECT name, type, type_length, num_children, converted_type, scale, precision, field_id, logical_type "
            "FROM parquet_schema($path)", parameters).fetchall()
        return columns, parquet_types, connection.execute("SELECT * FROM read_parquet($path)", parameters).fetchall()


def rows_of_file(path):
    with duckdb.connect() as connection:
        return connection.execute(f"SELECT * FROM read_parquet('{path}') ORDER BY source_row_number").fetchall()
