"""The OpenAPI's plain-Python core: which entries are open, filters, envelopes, the key store."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest

from gn_pipelines.openapi.convention import ApiError, Page, ResultCode, render_json, render_xml
from gn_pipelines.openapi.keys import KeyStore, key_candidates
from gn_pipelines.openapi.query import camel_case, parse_page_request, table_filters
from gn_pipelines.openapi.release import is_open_entry


@pytest.mark.parametrize("entry, expected", [
    ({"table_name": "civil_complaints_monthly", "privacy_class": "통계"}, True),
    ({"table_name": "water_quality_measurements", "privacy_class": "익명정보"}, True),
    ({"table_name": "civil_complaints_monthly"}, False),  # exported before classes: not open
    ({"table_name": "some_table", "privacy_class": "가명정보"}, False),
    ({"table_name": "civil_complaints", "privacy_class": "가명정보"}, False),
    # the anonymised public release of a 가명정보 table (k = 10, no keys, no free text)
    ({"table_name": "civil_complaints", "privacy_class": "익명정보", "source_privacy_class": "가명정보"}, True),
])
def test_only_anonymous_and_statistics_entries_are_open(entry, expected):
    assert is_open_entry(entry) is expected


def test_filters_follow_the_columns():
    filters = table_filters([("sigungu_code", "VARCHAR"), ("sigungu_name", "VARCHAR"), ("month", "VARCHAR"),
                             ("complaints", "BIGINT"), ("suppressed", "BOOLEAN"), ("note", "VARCHAR")])
    assert set(filters) == {"sigunguCode", "sigunguName", "month", "year", "suppressed"}
    assert filters["month"].condition("202503") == filters["month"].condition("2025-03") == ('"month" = ?', "2025-03")
    assert filters["year"].condition("2025") == ('left("month", 4) = ?', "2025")
    measured = table_filters([("measured_on", "DATE"), ("bod_mg_l_below_detection", "BOOLEAN")])
    assert set(measured) == {"measuredOn", "year", "month"}
    assert camel_case("p90_days_to_completion") == "p90DaysToCompletion"
    for parameter, value in (("sigunguCode", "4874a"), ("month", "2025-13"), ("year", "1800"), ("suppressed", "x")):
        with pytest.raises(ApiError) as refused:
            filters[parameter].condition(value)
        assert refused.value.result is ResultCode.INVALID_REQUEST_PARAMETER


def test_request_parameters_are_validated():
    filters = table_filters([("sigungu_code", "VARCHAR")])
    request = parse_page_request([("serviceKey", "k"), ("pageNo", "3"), ("numOfRows", "1000"), ("_type", "xml")],
                                 filters)
    assert (request.page_no, request.num_of_rows, request.result_type) == (3, 1000, "xml")
    for items in ([("numOfRows", "1001")], [("pageNo", "1"), ("pageNo", "2")], [("stationName", "남지")],
                  [("sigunguCode", "123")], [("resultType", "yaml")]):
        with pytest.raises(ApiError):
            parse_page_request(items, filters)


def test_envelopes_in_json_and_xml():
    page = Page([{"name": "남지 <1>", "value": 1.5, "flag": True, "missing": None}], 10, 1, 1)
    assert render_json(None, ResultCode.KEY_NOT_REGISTERED) == \
        b'{"response":{"header":{"resultCode":"30","resultMsg":"SERVICE_KEY_IS_NOT_REGISTERED_ERROR"}}}'
    tree = ET.fromstring(render_xml(page))
    assert tree.findtext("body/items/item/name") == "남지 <1>" and tree.findtext("body/items/item/flag") == "true"
    assert tree.findtext("body/items/item/missing") == "" and tree.findtext("body/totalCount") == "1"


def test_key_candidates_undo_a_second_encoding():
    key = "ab+c/d=="
    assert key in key_candidates(key)
    assert key in key_candidates(quote(key, safe=""))  # encoded twice: one decoding left after the server's
    assert key in key_candidates("ab c/d==")  # '+' sent unencoded arrives as a space


def test_limit_holds_across_two_stores_on_one_file(tmp_path):
    """Two KeyStore objects stand for two processes (a worker and the apikey command)."""
    first, second = KeyStore.under(tmp_path), KeyStore.under(tmp_path)
    record, key = first.issue("owner", daily_limit=3)
    assert key.endswith("=") and len(key) == 64
    counted = [store.count_call(store.authenticate(key)) for store in (first, second, first)]
    assert counted == [1, 2, 3]
    with pytest.raises(ApiError) as over:
        second.count_call(second.authenticate(key))
    assert over.value.result is ResultCode.LIMITED_NUMBER_OF_REQUESTS
    assert [(owner, calls, refused) for _, owner, _, calls, refused in first.usage()] == [("owner", 3, 1)]
    assert second.revoke(record.key_id).revoked_at is not None
    with pytest.raises(ApiError) as denied:
        first.authenticate(key)
    assert denied.value.result is ResultCode.SERVICE_ACCESS_DENIED
    with pytest.raises(ApiError) as unknown:
        first.authenticate(key[:-4] + "AAA=")
    assert unknown.value.result is ResultCode.KEY_NOT_REGISTERED
