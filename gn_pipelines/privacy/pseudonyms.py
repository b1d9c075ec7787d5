"""Keyed pseudonyms (가명처리): HMAC-SHA-256 over `domain ‖ 0x1f ‖ normalised value`.

A bare hash of an RRN or a phone number is reversible by enumeration in minutes (PIPC 가명정보
처리 가이드라인), so every pseudonym is keyed with `GN_PSEUDONYM_KEY`. The domain separates
identifier kinds (an RRN and a phone number never share a pseudonym space); the normaliser
makes `010-1234-5678` and `+82 10 1234 5678` the same person. The secret stays in a closure:
it never reaches SQL text, a table, an error message or a repr.

Two ways to compute the same pseudonyms, byte for byte:
- the DuckDB function `pseudonym(domain, value)` (a Python UDF: each distinct value normalised
  and hashed by `hmac`), usable in any query on a connection that registered it;
- set-based in SQL (`keyed_sql`, what a drop's derivation uses: a million values in about a
  second instead of four). The values are normalised in SQL when they are pure ASCII (NFKC
  changes no ASCII character) and by the Python normaliser otherwise, then HMAC-SHA-256 is
  built from DuckDB's `sha256` over blobs: H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ message)) (RFC 2104).
  How the secret stays out of SQL: the two pads (each equivalent to the key) exist only in
  `_Keyed`, and reach DuckDB only as bound BLOB parameters (`$pseudonym_inner_pad`,
  `$pseudonym_outer_pad`) of the one statement that uses them. The SQL text names the
  parameters, never their values; no table, view, macro or setting holds them; DuckDB's error
  messages name parameter types, not values; the pads' repr is a placeholder and they refuse
  to be pickled. The test suite checks each of these.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

# 32 hex characters = 128 bits: a collision needs ~2^64 values (birthday bound), far beyond any
# population, while keys stay short enough to read and join on.
PSEUDONYM_HEX_LENGTH = 32
_SEPARATOR = b"\x1f"  # ASCII unit separator: cannot occur in a domain name
_KEY_ID_MESSAGE = b"gn-pipelines key id"


def _digits(value: str) -> str:
    return re.sub(r"\D", "", unicodedata.normalize("NFKC", value))


def normalise_rrn(value: str) -> str:
    """주민등록번호 / 외국인등록번호: digits only (NFKC first, so full-width digits count)."""
    return _digits(value)


def normalise_phone(value: str) -> str:
    """Digits only, with the country code folded: `+82 10…`, `0082 10…` → `010…`."""
    text = unicodedata.normalize("NFKC", value).strip()
    digits = _digits(text)
    if text.startswith("+82"):
        digits = digits[2:]
    elif digits.startswith("0082"):
        digits = digits[4:]
    else:
        return digits
    return digits if digits.startswith("0") else "0" + digits


def normalise_identifier(value: str) -> str:
    """Names, receipt and recipient numbers: NFKC, no whitespace, case-folded."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)).casefold()


# One normaliser per identifier kind. A new kind is one line here; an unknown domain is an
# error, because a typo would silently start a second pseudonym space for the same people.
NORMALISERS: dict[str, Callable[[str], str]] = {
    "person_rrn": normalise_rrn,
    "phone": normalise_phone,
    "person_name": normalise_identifier,
    "complaint": normalise_identifier,
    "recipient": normalise_identifier,
    # a record's own number in any dataset, prefixed with the dataset's name (`<dataset>:<number>`)
    # by its recipe, so a new dataset needs no new domain and two datasets never share keys
    "record": normalise_identifier,
}


def key_id(secret: bytes) -> str:
    """A short public fingerprint of the key (HMAC of a constant), safe to record with a release."""
    return hmac.new(secret, _KEY_ID_MESSAGE, hashlib.sha256).hexdigest()[:12]


class _Pad(bytes):
    """An HMAC key pad (as secret as the key): bound to a statement as a BLOB, never shown."""

    def __repr__(self) -> str:
        return "<pseudonym key pad>"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("a pseudonym key pad cannot be pickled")


_PAD_PARAMETERS = ("pseudonym_inner_pad", "pseudonym_outer_pad")
_SHA256_BLOCK = 64


class _Keyed:
    """The prepared HMAC state; its repr shows only the key id."""

    __slots__ = ("_mac", "_key_id", "_pads")

    def __init__(self, secret: bytes) -> None:
        if not isinstance(secret, bytes) or not secret:
            raise ValueError("the pseudonym secret must be non-empty bytes")
        self._mac = hmac.new(secret, digestmod=hashlib.sha256)
        self._key_id = key_id(secret)
        # RFC 2104: a key longer than the block is hashed first, then zero-padded to the block
        block = (hashlib.sha256(secret).digest() if len(secret) > _SHA256_BLOCK else secret).ljust(_SHA256_BLOCK, b"\0")
        self._pads = (_Pad(bytes(b ^ 0x36 for b in block)), _Pad(bytes(b ^ 0x5C for b in block)))

    def sql_parameters(self) -> dict[str, bytes]:
        """The bound parameters a `keyed_sql` query needs (pass them to `execute`, nowhere else)."""
        return dict(zip(_PAD_PARAMETERS, self._pads))

    def __repr__(self) -> str:
        return f"<pseudonym key {self._key_id}>"

    def __reduce__(self):  # never pickle the secret into a process pool or a cache
        raise TypeError("a pseudonym key cannot be pickled")

    def digest(self, domain: str, value: str | None) -> str | None:
        if value is None:
            return None
        normalised = _normaliser(domain)(value)
        if not normalised:  # '-' or '' would otherwise make one pseudonym for every blank
            return None
        mac = self._mac.copy()
        mac.update(domain.encode("utf-8") + _SEPARATOR + normalised.encode("utf-8"))
        return mac.hexdigest()[:PSEUDONYM_HEX_LENGTH]


def _normaliser(domain: str) -> Callable[[str], str]:
    try:
        return NORMALISERS[domain]
    except KeyError:
        raise ValueError(f"unknown pseudonym domain {domain!r}; known: {sorted(NORMALISERS)}") from None


def pseudonym(secret: bytes, domain: str, value: str | None) -> str | None:
    """The pseudonym of one value (None for a missing or blank value)."""
    return _Keyed(secret).digest(domain, value)


def pseudonym_array(keyed: _Keyed, domains: pa.Array, values: pa.Array) -> pa.Array:
    """Pseudonyms of an arrow batch; each distinct value is hashed once per domain."""
    domains, values = _strings(domains), _strings(values)
    encoded = pc.dictionary_encode(values)
    distinct = encoded.dictionary.to_pylist()
    result = pa.nulls(len(values), pa.string())
    for domain in pc.unique(domains).drop_null().to_pylist():  # usually one domain per call
        hashed = pa.array([keyed.digest(domain, v) for v in distinct], type=pa.string())
        result = pc.if_else(pc.equal(domains, domain), hashed.take(encoded.indices), result)
    return result


def _strings(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return pc.cast(array, pa.string())


def register_pseudonym_function(connection, secret: bytes, name: str = "pseudonym") -> str:
    """Register the DuckDB UDF `pseudonym(domain VARCHAR, value VARCHAR) -> VARCHAR`; returns the key id.

    Also registers the keyless macros `keyed_sql` rewrites calls to (once per connection)."""
    keyed = _Keyed(secret)

    def udf(domains: pa.Array, values: pa.Array) -> pa.Array:
        return pseudonym_array(keyed, domains, values)

    connection.create_function(name, udf, ["VARCHAR", "VARCHAR"], "VARCHAR", type="arrow",
                               null_handling="special", side_effects=False)
    _register_set_based(connection)
    return keyed._key_id


# Set-based pseudonyms. Python's `\s` on ASCII (what `str.strip` and `normalise_identifier` remove)
# is tab to carriage return, the four separators 0x1c-0x1f and the space; `\D` on ASCII is [^0-9].
_ASCII_SPACE = r"[\x09-\x0d\x1c-\x20]"
_ASCII_DIGITS = "regexp_replace(value, '[^0-9]+', '', 'g')"
_ASCII_NORMALISERS = {  # macro name: SQL over the ASCII `value`, exactly the Python normaliser
    "pseudonym_ascii_rrn": _ASCII_DIGITS,
    "pseudonym_ascii_identifier": f"lower(regexp_replace(value, '{_ASCII_SPACE}+', '', 'g'))",
    "pseudonym_ascii_phone": rf"""CASE
        WHEN regexp_matches(value, '^{_ASCII_SPACE}*\+82') THEN pseudonym_trunk_prefix(substr({_ASCII_DIGITS}, 3))
        WHEN starts_with({_ASCII_DIGITS}, '0082') THEN pseudonym_trunk_prefix(substr({_ASCII_DIGITS}, 5))
        ELSE {_ASCII_DIGITS} END""",
}
_ASCII_NORMALISER_OF = {normalise_rrn: "pseudonym_ascii_rrn", normalise_identifier: "pseudonym_ascii_identifier",
                        normalise_phone: "pseudonym_ascii_phone"}
_PSEUDONYM_CALL = re.compile(r"\bpseudonym\(\s*'([^']*)'\s*,")


def keyed_sql(query: str) -> str:
    """`query` with each `pseudonym('<domain>', value)` computed set-based in SQL; run it with
    `_Keyed.sql_parameters()` bound, on a connection that `register_pseudonym_function` prepared.
    Same output as the UDF, byte for byte (an unknown domain fails here, as it would there)."""

    def set_based(call: re.Match) -> str:
        _normaliser(call.group(1))
        return f"pseudonym_keyed_{call.group(1)}(${_PAD_PARAMETERS[0]}, ${_PAD_PARAMETERS[1]},"

    return _PSEUDONYM_CALL.sub(set_based, query)


def keyed_parameters(secret: bytes) -> dict[str, bytes]:
    """The bound parameters of a `keyed_sql` query: pass them to that one `execute`, nowhere else."""
    return _Keyed(secret).sql_parameters()


def _normalise_array(domains: pa.Array, values: pa.Array) -> pa.Array:
    """The Python normaliser, for the values that are not pure ASCII (NFKC may change them)."""
    domains, values = _strings(domains), _strings(values)
    return pa.array([None if v is None else _normaliser(d)(v)
                     for d, v in zip(domains.to_pylist(), values.to_pylist())], type=pa.string())


def _register_set_based(connection) -> None:
    """The keyless macros `keyed_sql` calls: each domain's normaliser, then HMAC over the pads."""
    exists = connection.execute("SELECT count(*) FROM duckdb_functions() "
                                "WHERE function_name = 'pseudonym_normalise'").fetchall()[0][0]
    if not exists:  # a connection may register two keys (two names); the macros hold no key
        connection.create_function("pseudonym_normalise", _normalise_array, ["VARCHAR", "VARCHAR"], "VARCHAR",
                                   type="arrow", null_handling="special", side_effects=False)
    connection.execute("CREATE OR REPLACE TEMP MACRO pseudonym_trunk_prefix(digits) AS "
                       "CASE WHEN starts_with(digits, '0') THEN digits ELSE '0' || digits END")
    for name, sql in _ASCII_NORMALISERS.items():
        connection.execute(f"CREATE OR REPLACE TEMP MACRO {name}(value) AS {sql}")
    connection.execute(f"""CREATE OR REPLACE TEMP MACRO pseudonym_hmac(inner_pad, outer_pad, message) AS
        left(sha256(outer_pad || unhex(sha256(inner_pad || encode(message)))), {PSEUDONYM_HEX_LENGTH})""")
    for domain, normaliser in NORMALISERS.items():
        # strlen counts bytes, length characters: equal only for pure ASCII, which NFKC keeps as it is.
        # A blank normalised value has no pseudonym (NULL), as in `_Keyed.digest`.
        connection.execute(f"""CREATE OR REPLACE TEMP MACRO pseudonym_keyed_{domain}(inner_pad, outer_pad, value) AS
            pseudonym_hmac(inner_pad, outer_pad, '{domain}' || chr(31) || nullif(
                CASE WHEN strlen(CAST(value AS VARCHAR)) = length(CAST(value AS VARCHAR))
                     THEN {_ASCII_NORMALISER_OF[normaliser]}(CAST(value AS VARCHAR))
                     ELSE pseudonym_normalise('{domain}', CAST(value AS VARCHAR)) END, ''))""")
