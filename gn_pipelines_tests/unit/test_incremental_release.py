"""The k-anonymous release is rebuilt only when a drop changed: the same drops, recipe and code
reuse the release already written (the file is not touched); a new drop makes a new release."""

import datetime as dt

from gn_pipelines.datasets import get_contract
from gn_pipelines.privacy import deidentify
from gn_pipelines_tests.unit.test_deidentify_drop import SECRET, _validated

CONTRACT = get_contract("civil_complaints")


def _pseudonymise(zones, file_name: str, day: dt.date = dt.date(2025, 3, 4)) -> None:
    source = _validated(zones, file_name, day)
    target = deidentify.pseudonymised_path(zones, CONTRACT.name, "48740", file_name)
    assert deidentify.deidentify_drop(CONTRACT, source=source, target=target, secret=SECRET, zones=zones).target


def test_a_release_of_unchanged_drops_is_reused_and_a_new_drop_rebuilds_it(zones):
    _pseudonymise(zones, "2025-03-04.csv")
    first = deidentify.release(CONTRACT, zones=zones)
    assert first.target is not None and not first.reused and first.rows > 0
    written = first.target.stat()

    again = deidentify.release(CONTRACT, zones=zones)
    assert again.reused and again.rows == first.rows and again.anonymity == first.anonymity
    assert again.key_id == first.key_id and again.replaced_in_text == first.replaced_in_text
    assert (again.target.stat().st_ino, again.target.stat().st_mtime_ns) == (written.st_ino, written.st_mtime_ns)

    stricter = deidentify.release(CONTRACT, zones=zones, k=first.anonymity["k_required"] + 5)
    assert not stricter.reused  # another k is another release

    # the next day's complaints (the same 접수번호 again would replace, not add)
    _pseudonymise(zones, "2025-03-05.csv", dt.date(2025, 3, 5))
    grown = deidentify.release(CONTRACT, zones=zones)
    assert not grown.reused and grown.anonymity["records_in"] > first.anonymity["records_in"]
