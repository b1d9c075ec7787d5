"""Hostile drops through `process`: each becomes its own recorded rejection, the valid files
beside them are collected, and the next `process` does not fail again."""

import datetime as dt
import stat
import unicodedata
from pathlib import Path

from gn_pipelines.settings import permission_warnings

from gn_pipelines_tests import hostile
from gn_pipelines_tests.drops import csv_bytes, drop, headers_of, sample_rows

KST = dt.timezone(dt.timedelta(hours=9))


def test_hostile_drops_are_contained_and_every_delivery_is_recorded(zones, process, warehouse, tmp_path):
    folder = zones.landing / "48740" / "civil_complaints"
    folder.mkdir(parents=True)
    valid = csv_bytes(sample_rows("civil_complaints", 4))
    drop(zones.landing, "48740/civil_complaints/2025-03-01.csv", valid)
    drop(zones.landing, "48720/civil_complaints/2025-03-01.csv", valid)  # the same bytes, another provider
    hostile.far_cell_xlsx(folder / "2025-03-02.xlsx")
    hostile.long_line_csv(folder / "2025-03-03.csv")
    (folder / "2025-03-04.csv").symlink_to("/etc/passwd")
    outside = tmp_path / "elsewhere.csv"
    outside.write_bytes(csv_bytes(sample_rows("civil_complaints", 3)))
    (folder / "2025-03-05.csv").symlink_to(outside)
    name = "민원_2025-03-06.csv"
    drop(zones.landing, f"48740/civil_complaints/{unicodedata.normalize('NFD', name)}",
         csv_bytes(sample_rows("civil_complaints", 2)))
    # a header-only file, delivered on its own day: it belongs to 2025-03 and is on time
    drop(zones.landing, "48740/civil_complaints/2025-03-07.csv",
         (",".join(headers_of("civil_complaints")) + "\r\n").encode(),
         mtime=dt.datetime(2025, 3, 7, 18, 0, tzinfo=KST).timestamp())

    process()
    process()  # nothing fails again, nothing is loaded twice

    status = dict(warehouse("SELECT source_file, status || ': ' || coalesce(reason, '') FROM drop_status"))
    assert status["48740/civil_complaints/2025-03-01.csv"].startswith("collected")
    # the same bytes from 48720 are its own delivery (its rows carry 48740's code: quarantined)
    assert status["48720/civil_complaints/2025-03-01.csv"].startswith("quarantined: 100.0% of the delivered rows")
    assert status["48740/civil_complaints/2025-03-02.xlsx"].startswith(
        "rejected: over budget: xl/worksheets/sheet1.xml declares column 16,384 (A1:XFD1048576)")
    assert status["48740/civil_complaints/2025-03-03.csv"].startswith(
        "rejected: over budget: line 2 is over 1.0 MiB long")
    assert status["48740/civil_complaints/2025-03-04.csv"].startswith(
        "rejected: a symbolic link (to '/etc/passwd'): refused, never followed nor archived")
    assert status["48740/civil_complaints/2025-03-05.csv"].startswith("rejected: a symbolic link")
    assert status[f"48740/civil_complaints/{name}"].startswith("collected")
    collected = dict(warehouse("SELECT source_file, count(*) FROM collected_civil_complaints GROUP BY 1"))
    assert collected == {"48740/civil_complaints/2025-03-01.csv": 4, f"48740/civil_complaints/{name}": 2}
    assert warehouse("SELECT count(*) FROM drop_log WHERE source_file = ?", f"48740/civil_complaints/{name}") == [(1,)]
    passwd = Path("/etc/passwd").read_bytes()
    assert all(p.read_bytes() != passwd for p in zones.archive.rglob("*") if p.is_file())
    assert warehouse("SELECT archive_path FROM drop_log WHERE source_file LIKE '%2025-03-0_.csv' "
                     "AND reason LIKE 'a symbolic link%'") == [(None,), (None,)]
    # every file of 48740 is dated March 2025 by its rows or its name; only the header-only one came on time
    assert warehouse("SELECT month, files_on_time FROM provider_scorecard "
                     "WHERE provider_code = '48740' AND dataset = 'civil_complaints'") == [("2025-03", 1)]
    # the restricted warehouse and the private zones came out owner-only under the tests' umask
    assert stat.S_IMODE(zones.restricted_db.stat().st_mode) == 0o600
    assert permission_warnings(zones) == []
