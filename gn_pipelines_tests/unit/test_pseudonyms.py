"""Keyed pseudonyms: normalised, domain-separated, stable, key-dependent, and the key never leaks."""

import hashlib
import hmac

import duckdb
import pytest

from gn_pipelines.privacy.pseudonyms import (
    PSEUDONYM_HEX_LENGTH, key_id, pseudonym, register_pseudonym_function,
)

SECRET = b"test-secret-7f3a9c1e5b2d4068"
OTHER = b"another-secret-0000000000001"


def test_key_id_is_the_hmac_of_the_constant_used_by_the_resource():
    expected = hmac.new(SECRET, b"gn-pipelines key id", hashlib.sha256).hexdigest()[:12]
    assert key_id(SECRET) == expected
    assert key_id(OTHER) != expected


def test_key_id_matches_the_dagster_resource(monkeypatch):
    from gn_pipelines.resources.pseudonym_key import PseudonymKeyResource
    from gn_pipelines.settings import PSEUDONYM_KEY_ENV

    long_secret = SECRET * 2  # keys under 32 bytes are refused
    monkeypatch.setenv(PSEUDONYM_KEY_ENV, long_secret.decode())
    assert PseudonymKeyResource().key_id() == key_id(long_secret)


@pytest.mark.parametrize(("domain", "variants"), [
    ("person_rrn", ["900101-1234567", "9001011234567", "９００１０１－１２３４５６７", " 900101 1234567 "]),
    ("phone", ["010-1234-5678", "01012345678", "+82 10-1234-5678", "+82-10-1234-5678",
               "+82 (0)10 1234 5678", "0082 10 1234 5678", "010.1234.5678", "０１０－１２３４－５６７８"]),
    ("person_name", ["홍길동", "홍 길동", " 홍길동 "]),
    ("complaint", ["2025-AB-0001", "2025-ab-0001", "２０２５-AB-0001"]),
])
def test_spellings_of_one_identifier_share_a_pseudonym(domain, variants):
    values = {pseudonym(SECRET, domain, v) for v in variants}
    assert len(values) == 1


def test_pseudonyms_are_fixed_length_hex():
    value = pseudonym(SECRET, "phone", "010-1234-5678")
    assert len(value) == PSEUDONYM_HEX_LENGTH
    int(value, 16)


def test_domains_are_separated_and_keys_matter():
    rrn = pseudonym(SECRET, "person_rrn", "9001011234567")
    assert rrn != pseudonym(SECRET, "recipient", "9001011234567")
    assert rrn != pseudonym(OTHER, "person_rrn", "9001011234567")
    assert rrn != pseudonym(SECRET, "person_rrn", "9001011234568")
    # a bare (unkeyed) hash is enumerable: the pseudonym must not be one
    assert rrn not in hashlib.sha256(b"9001011234567").hexdigest()


def test_missing_or_blank_values_stay_missing_and_unknown_domains_fail():
    assert pseudonym(SECRET, "phone", None) is None
    assert pseudonym(SECRET, "phone", " - ") is None
    with pytest.raises(ValueError, match="unknown pseudonym domain"):
        pseudonym(SECRET, "phnoe", "010-1234-5678")
    with pytest.raises(ValueError):
        pseudonym(b"", "phone", "010-1234-5678")


def test_the_sql_function_agrees_with_python_and_is_stable_across_connections():
    values = ["900101-1234567", "9001011234567", "851231-2345678", None]
    results = []
    for _ in range(2):  # two drops, two connections
        con = duckdb.connect()
        assert register_pseudonym_function(con, SECRET) == key_id(SECRET)
        con.execute("CREATE TABLE t AS SELECT unnest($v) AS rrn", {"v": values})
        results.append(con.execute("SELECT pseudonym('person_rrn', rrn) FROM t").fetchall())
    assert results[0] == results[1]
    assert [r[0] for r in results[0]] == [pseudonym(SECRET, "person_rrn", v) for v in values]
    assert results[0][0] == results[0][1]


def test_the_same_person_links_across_datasets_and_a_new_key_breaks_the_link():
    con = duckdb.connect()
    register_pseudonym_function(con, SECRET)
    register_pseudonym_function(con, OTHER, name="pseudonym_other")
    con.execute("CREATE TABLE complaints AS SELECT '900101-1234567' AS rrn UNION ALL SELECT '851231-2345678'")
    con.execute("CREATE TABLE welfare AS SELECT '9001011234567' AS rrn")
    linked = con.execute(
        "SELECT count(*) FROM complaints c JOIN welfare w "
        "ON pseudonym('person_rrn', c.rrn) = pseudonym('person_rrn', w.rrn)").fetchall()[0][0]
    assert linked == 1
    crossed = con.execute(
        "SELECT count(*) FROM complaints c JOIN welfare w "
        "ON pseudonym('person_rrn', c.rrn) = pseudonym_other('person_rrn', w.rrn)").fetchall()[0][0]
    assert crossed == 0


def test_many_rows_mixed_domains_are_vectorised_and_distinct():
    con = duckdb.connect()
    register_pseudonym_function(con, SECRET)
    distinct, rows, nulls = con.execute("""
        SELECT count(DISTINCT p), count(*), count(*) - count(p) FROM (
          SELECT pseudonym(CASE WHEN i % 2 = 0 THEN 'phone' ELSE 'person_rrn' END,
                           CASE WHEN i % 1000 = 0 THEN NULL ELSE lpad(CAST(i AS VARCHAR), 11, '0') END) AS p
          FROM range(200000) t(i))""").fetchall()[0]
    assert rows == 200_000
    assert nulls == 200
    assert distinct == rows - nulls


def test_the_secret_appears_in_no_sql_catalog_error_or_repr():
    con = duckdb.connect()
    register_pseudonym_function(con, SECRET)
    texts = [str(row) for row in con.execute("SELECT * FROM duckdb_functions() WHERE function_name = 'pseudonym'").fetchall()]
    with pytest.raises(duckdb.Error) as error:
        con.execute("SELECT pseudonym('no-such-domain', 'x')").fetchall()
    texts.append(str(error.value))
    from gn_pipelines.privacy.pseudonyms import _Keyed
    texts.append(repr(_Keyed(SECRET)))
    for secret_text in (SECRET.decode(), SECRET.hex()):
        assert not any(secret_text in t for t in texts)
    import pickle
    with pytest.raises(TypeError):
        pickle.dumps(_Keyed(SECRET))


TRICKY_VALUES = [
    "900101-1234567", "９００１０１－１２３４５６７", " 900101 1234567 ", "9001011234567",
    "010-1234-5678", "+82 10-1234-5678", "+82-10-1234-5678", "+82 (0)10 1234 5678", "0082 10 1234 5678",
    "\t+8210 1234 5678", "+８２ 10 1234 5678", "０１０－１２３４－５６７８", "+82", "0082", "82-10-1234-5678",
    "홍길동", "홍 길동", " 홍길동 ", "홍\u3000길동", "홍\u00a0길동", "２０２５-AB-0001", "2025-ab-0001", "2025-AB-0001",
    "ǅ", "ß", "ﬁle", "A\x1cB\x1fC", "a\tb\nc\rd\x0be\x0cf",
    "", " ", " - ", "-", "\u3000", None,
]


@pytest.mark.parametrize("domain", ["person_rrn", "phone", "person_name", "complaint", "recipient", "record"])
def test_set_based_sql_equals_the_udf_byte_for_byte_on_tricky_values(domain):
    from gn_pipelines.privacy.pseudonyms import keyed_parameters, keyed_sql

    con = duckdb.connect()
    register_pseudonym_function(con, SECRET)
    con.execute("CREATE TABLE t AS SELECT i, v FROM unnest($v) WITH ORDINALITY u(v, i)", {"v": TRICKY_VALUES})
    query = f"SELECT v, pseudonym('{domain}', v) FROM t ORDER BY i"
    through_udf = con.execute(query).fetchall()
    set_based = keyed_sql(query)
    assert "pseudonym(" not in set_based  # the UDF is not what answers
    through_sql = con.execute(set_based, keyed_parameters(SECRET)).fetchall()
    assert through_sql == through_udf
    assert [p for _, p in through_sql] == [pseudonym(SECRET, domain, v) for v in TRICKY_VALUES]
    assert any(p is None for _, p in through_sql) and any(p is not None for _, p in through_sql)


def test_set_based_sql_with_a_key_longer_than_the_hash_block_and_on_many_rows():
    from gn_pipelines.privacy.pseudonyms import keyed_parameters, keyed_sql

    long_secret = SECRET * 5  # over 64 bytes: HMAC hashes the key first
    con = duckdb.connect()
    register_pseudonym_function(con, long_secret)
    query = ("SELECT pseudonym('phone', CASE WHEN i % 7 = 0 THEN '+82 10 ' ELSE '010-' END || lpad(CAST(i AS VARCHAR), 8, '0')), "
             "pseudonym('person_name', CASE WHEN i % 5 = 0 THEN '김 ' ELSE 'Kim ' END || CAST(i AS VARCHAR)) "
             "FROM range(20000) t(i) ORDER BY i")
    assert con.execute(keyed_sql(query), keyed_parameters(long_secret)).fetchall() == con.execute(query).fetchall()


def test_set_based_sql_refuses_unknown_domains_and_keeps_the_secret_out_of_text_errors_and_reprs():
    from gn_pipelines.privacy.pseudonyms import keyed_parameters, keyed_sql

    with pytest.raises(ValueError, match="unknown pseudonym domain"):
        keyed_sql("SELECT pseudonym('phnoe', '010-1234-5678')")
    con = duckdb.connect()
    register_pseudonym_function(con, SECRET)
    parameters = keyed_parameters(SECRET)
    query = keyed_sql("SELECT pseudonym('phone', v) FROM (SELECT '010' AS v)")
    texts = [query, repr(parameters), str(parameters), *(str(row) for row in con.execute(
        "SELECT * FROM duckdb_functions() WHERE function_name LIKE 'pseudonym%'").fetchall())]
    for failing in (query + " WHERE CAST(v AS INTEGER) = 'x'", query.replace("FROM (", "FROM no_such_table, (")):
        with pytest.raises(duckdb.Error) as error:
            con.execute(failing, parameters).fetchall()
        texts.append(str(error.value))
    pads = list(parameters.values())
    assert all(len(pad) == 64 for pad in pads)
    secrets = [SECRET.decode(), SECRET.hex(), *(pad.hex() for pad in pads),
               *(pad.decode("latin-1") for pad in pads), *(repr(bytes(pad)) for pad in pads)]
    for text in texts:
        assert not any(secret in text for secret in secrets), text
    import pickle
    with pytest.raises(TypeError):
        pickle.dumps(parameters)
