"""Keyed pseudonyms (가명처리): HMAC-SHA-256 over `domain ‖ 0x1f ‖ normalised value`.

A bare hash of an RRN or a phone number is reversible by enumeration in minutes (PIPC 가명정보
처리 가이드라인), so every pseudonym is keyed with `GN_PSEUDONYM_KEY`. The domain separates
identifier kinds (an RRN and a phone number never share a pseudonym space); the normaliser
makes `010-1234-5678` and `+82 10 1234 5678` the same person. The secret stays in a closure:
it never reaches SQL text, a table, an error message or a repr.
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


class _Keyed:
    """The prepared HMAC state; its repr shows only the key id."""

    __slots__ = ("_mac", "_key_id")

    def __init__(self, secret: bytes) -> None:
        if not isinstance(secret, bytes) or not secret:
            raise ValueError("the pseudonym secret must be non-empty bytes")
        self._mac = hmac.new(secret, digestmod=hashlib.sha256)
        self._key_id = key_id(secret)

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
    """Register the DuckDB UDF `pseudonym(domain VARCHAR, value VARCHAR) -> VARCHAR`; returns the key id."""
    keyed = _Keyed(secret)

    def udf(domains: pa.Array, values: pa.Array) -> pa.Array:
        return pseudonym_array(keyed, domains, values)

    connection.create_function(name, udf, ["VARCHAR", "VARCHAR"], "VARCHAR", type="arrow",
                               null_handling="special", side_effects=False)
    return keyed._key_id
