"""Properties of the parsers untrusted input meets first: each raises only its own error
type, in bounded time, whatever it is given."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import re
from datetime import UTC, datetime
from typing import Any, cast

import jwt
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from jiraguard import untrusted
from jiraguard.auth.authenticator import Authenticator
from jiraguard.auth.cache import MemoryPrincipalCache
from jiraguard.auth.credentials import (
    BasicCredentials,
    BearerToken,
    combine,
    form_token,
    parse_authorization,
    query_token,
)
from jiraguard.auth.errors import InvalidRequest, InvalidToken
from jiraguard.auth.principal import fingerprint
from jiraguard.auth.router import peek_issuer
from jiraguard.auth.validators.jwks import StaticKey
from jiraguard.auth.validators.jwt import (
    JWTValidator,
    _SegmentReader,
    check_claim_types,
    token_header,
    unverified_claims,
    unverified_header,
)
from jiraguard.auth.validators.pat import PATValidator
from jiraguard.errors import JiraError
from jiraguard.jira.durations import MAX_SECONDS, parse_duration
from jiraguard.jira.jql import dates
from jiraguard.jira.jql.errors import JQLError
from jiraguard.jira.jql.parser import parse
from jiraguard.jira.jql.syntax import FunctionCall, Literal
from jiraguard.jira.params import MAX_INT, as_int
from jiraguard.settings import AuthSettings, ProviderSettings, TokenSettings
from jiraguard.store.ids import MAX_ID, row_id
from jiraguard.untrusted import (
    MAX_DEPTH,
    UntrustedInput,
    base64url,
    bounded_int,
    db_text,
    encodable,
    load_json,
    nesting_depth,
)
from tests.fuzz.jql import PERIOD, jql
from tests.fuzz.support import (
    HOSTILE_TEXT,
    JSON_SCALAR,
    JSON_VALUE,
    NUMBERISH,
    bounded,
    fuzz,
    json_bytes,
)
from tests.support.tokens import SECRET, claims_for, hmac_provider, signed_raw

pytestmark = [
    pytest.mark.fuzz,
    # Hypothesis warns when it prints a large example (thousands of nesting levels); the
    # suite's filterwarnings = error would turn that note into a failure of the property.
    pytest.mark.filterwarnings(
        "ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning"
    ),
]

B64 = st.one_of(
    json_bytes().map(lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()),
    st.text("ABCDEFabcdef0123456789-_=+/.", max_size=40),
)


HEADER = st.one_of(
    st.binary(max_size=300),
    st.builds(
        lambda scheme, sep, rest: scheme + sep + rest,
        st.sampled_from([b"Bearer", b"bearer", b"BEARER", b"Basic", b"basic", b"Negotiate", b""]),
        st.sampled_from([b" ", b"  ", b"", b"\t"]),
        st.one_of(
            st.binary(max_size=200),
            st.text("ABCabc012-._~+/=:", max_size=300).map(str.encode),
            st.binary(max_size=60).map(base64.b64encode),
            st.integers(min_value=16 * 1024 - 2, max_value=16 * 1024 + 2).map(lambda n: b"a" * n),
        ),
    ),
)


@fuzz(400)
@given(HEADER, st.binary(max_size=200), st.binary(max_size=200), st.booleans())
def test_credential_parser(header: bytes, query: bytes, form: bytes, twice: bool) -> None:
    with bounded(header):
        try:
            found = parse_authorization([header, header] if twice else [header])
            combine(found, query_token(b"access_token=" + query), form_token(form))
        except InvalidRequest:
            pass


_READER = Authenticator(
    cast(Any, None),  # reading a header asks neither a provider, the directory nor a mapper
    cast(Any, None),
    MemoryPrincipalCache(10),
    AuthSettings(),
    cast(Any, None),
    pats=PATValidator(cast(Any, None), TokenSettings()),
)


@fuzz(400)
@given(st.lists(HEADER, min_size=1, max_size=3), st.integers(min_value=1, max_value=3))
def test_kept_headers_read_as_parsed(headers: list[bytes], reads: int) -> None:
    """What the authenticator keeps of a header is what parsing it gives, on every read."""
    with bounded(headers):
        try:
            expected: Any = parse_authorization(headers)
        except InvalidRequest as exc:
            expected = exc.description
        for header in headers:  # each one kept first, when it is kept at all
            with contextlib.suppress(InvalidRequest):
                _READER.read([header])
        for _ in range(reads):
            try:
                found: Any = _READER.read([bytes(h) for h in headers])
            except InvalidRequest as exc:
                found = exc.description
            if isinstance(found, BearerToken):
                assert found.key in ("", fingerprint(found.token))
                found = found._replace(key="")
            assert found == expected


@fuzz(400)
@given(st.lists(B64, min_size=1, max_size=4).map(".".join))
def test_jwt_pre_parsing(token: str) -> None:
    with bounded(token):
        issuer = peek_issuer(token)
        assert issuer is None or isinstance(issuer, str)
        for read in (unverified_header, unverified_claims):
            try:
                value = read(token)
            except InvalidToken:
                continue
            assert isinstance(value, dict)
            assert encodable(value)
        for _ in range(2):  # read, then kept
            try:
                header = unverified_header(token)
            except InvalidToken:
                with pytest.raises(InvalidToken):
                    token_header(token)
            else:
                assert dict(token_header(token)) == header


REGISTERED = st.dictionaries(
    st.sampled_from(["exp", "nbf", "iat", "iss", "sub", "aud", "jti", "client_id", "azp"]),
    st.one_of(JSON_SCALAR, JSON_VALUE, st.lists(JSON_SCALAR, max_size=3)),
    max_size=4,
)
_PROVIDER = ProviderSettings(**hmac_provider(allowed_client_ids=[]))
_VALIDATOR = JWTValidator(_PROVIDER, StaticKey(secret=SECRET))


@fuzz(300)
@given(REGISTERED, st.dictionaries(HOSTILE_TEXT, JSON_VALUE, max_size=3))
def test_jwt_claim_checks(registered: dict[str, Any], extra: dict[str, Any]) -> None:
    """A correctly signed token with any claims: accepted with sane values, or InvalidToken."""
    claims = {**claims_for("alice"), **extra, **registered}
    token = signed_raw(json.dumps(claims).encode())
    with bounded(claims):
        with contextlib.suppress(InvalidToken):
            check_claim_types(dict(claims))
        try:
            validated = asyncio.run(_VALIDATOR.validate(token))
        except InvalidToken:
            return
    exp = validated.claims["exp"]
    assert isinstance(exp, int | float)
    assert not isinstance(exp, bool)
    assert validated.expires_at is not None
    assert math.isfinite(validated.expires_at)
    for name in ("iss", "sub"):
        assert isinstance(validated.claims.get(name, ""), str)


@fuzz(500)
@given(json_bytes())
def test_json_body_reader(raw: bytes) -> None:
    with bounded(raw[:100]):
        try:
            document = load_json(raw, max_bytes=64 * 1024)
        except UntrustedInput:
            return
        encoded = json.dumps(document, ensure_ascii=False).encode("utf-8")
    assert nesting_depth(encoded) <= MAX_DEPTH
    assert encodable(document)


NUMBER_TEXT = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(min_value=-(10**45), max_value=10**45).map(str),
    st.from_regex(r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,24})?([eE][-+]?[0-9]{1,4})?", fullmatch=True),
    # no 19 digits in a row, yet longer than the 40 characters a number may have
    st.from_regex(r"-[1-9][0-9]{17}\.[0-9]{18}[eE][-+]?[0-9]{1,3}", fullmatch=True),
).map(str.encode)
"""JSON numbers of every size: where two readers' rounding and range would part."""


def _read(raw: bytes, valid_unicode: bool) -> tuple[str, ...]:
    try:
        document = load_json(raw, max_bytes=64 * 1024, valid_unicode=valid_unicode)
    except UntrustedInput as exc:
        return ("refused", type(exc).__name__, str(exc))
    return ("read", repr(document))  # repr: types, key order and -0.0 count


@fuzz(1500)
@given(
    st.one_of(
        json_bytes(),
        NUMBER_TEXT,
        st.lists(NUMBER_TEXT, max_size=6).map(lambda items: b"[" + b",".join(items) + b"]"),
    ),
    st.booleans(),
)
@example(b"-9223372036854775809", True)  # past 64 bits: orjson reads a float
@example(b"[18446744073709551616]", True)
@example(b'{"a": [1, {"b": [-18446744073709551616]}], "c": "d"}', True)  # nested
@example(b"-123456789012345678.123456789012345678e-1", True)  # 41 characters: refused
def test_json_read_fast_is_read_as_by_the_bounded_reader(raw: bytes, valid_unicode: bool) -> None:
    """Where orjson reads a document, the result is the standard library's bounded reading
    of it, to the type and the key order; where it refuses one, the refusal is worded by the
    bounded reader."""
    with bounded(raw[:100]):
        fast = _read(raw, valid_unicode)
        always = untrusted._has_float
        untrusted._has_float = lambda document: True  # orjson's every reading set aside
        try:
            slow = _read(raw, valid_unicode)
        finally:
            untrusted._has_float = always
    assert fast == slow


@fuzz(500)
@given(jql())
def test_jql_parser(text: str) -> None:
    with bounded(text[:200]), contextlib.suppress(JQLError):
        parse(text)


_NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
DATE_FUNCTIONS = sorted(dates.DATE_FUNCTIONS)


@fuzz(400)
@given(
    st.one_of(
        st.builds(Literal, st.one_of(PERIOD, HOSTILE_TEXT, NUMBERISH)),
        st.builds(
            FunctionCall,
            st.sampled_from(DATE_FUNCTIONS),
            st.lists(st.one_of(PERIOD, NUMBERISH), max_size=2).map(tuple),
        ),
    )
)
def test_jql_dates(value: Literal | FunctionCall) -> None:
    with bounded(value):
        try:
            moment = dates.resolve(value, "created", _NOW)
        except JQLError:
            return
    assert dates.EARLIEST <= moment.instant <= dates.LATEST


@fuzz(500)
@given(st.one_of(NUMBERISH, HOSTILE_TEXT), st.integers(min_value=-(10**60), max_value=10**60))
def test_paging_and_id_parameters(text: str, number: int) -> None:
    with bounded(text):
        for value in (text, number):
            with contextlib.suppress(JiraError):
                assert 0 <= as_int(value, "startAt") <= MAX_INT
        ident = row_id(text)
        assert ident is None or 0 <= ident <= MAX_ID
        seconds = parse_duration(text)
        assert seconds is None or 0 <= seconds <= MAX_SECONDS
        with contextlib.suppress(UntrustedInput):
            assert abs(bounded_int(text, signed=True)) < 10**18
        cleaned = db_text(text, 64)
        assert len(cleaned) <= 64
        cleaned.encode("utf-8")


def _pyjwt_base64url(segment: str) -> bytes | None:
    """PyJWT's own reading of a JWS segment (the implementation ours replaces on the hot
    path), as the reference: its bytes, or None where it refuses."""
    try:
        return jwt.api_jws.PyJWS._decode_base64url_segment(segment.encode(), "segment")
    except (jwt.DecodeError, UnicodeEncodeError):
        return None


@fuzz(600)
@given(
    st.one_of(
        st.binary(max_size=64).map(lambda raw: base64.urlsafe_b64encode(raw).decode()),
        st.binary(max_size=64).map(lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("=")),
        st.text(st.sampled_from("AQgw_-+/=!. \n\x00éZz09"), max_size=24),
        HOSTILE_TEXT,
    )
)
def test_base64url_reads_as_pyjwt_does(segment: str) -> None:
    """The strict base64url reader accepts exactly what PyJWT accepts, with the same bytes."""
    expected = _pyjwt_base64url(segment)
    try:
        got: bytes | None = base64url(segment)
    except UntrustedInput:
        got = None
    assert got == expected, segment


@fuzz(600)
@given(
    st.one_of(
        st.binary(max_size=64).map(base64.urlsafe_b64encode),
        st.binary(max_size=64).map(lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=")),
        st.binary(max_size=24),
        st.text(st.sampled_from("AQgw_-+/=!. \n\x00éZz09"), max_size=24).map(str.encode),
    )
)
def test_the_validators_segment_reader_reads_as_pyjwt_does(segment: bytes) -> None:
    """What ``jwt.decode`` reads a token's segments with in the JWT validator: PyJWS's own
    bytes and refusals (its message included), on any bytes."""

    def read(reader: Any) -> bytes | str:
        try:
            return cast(bytes, reader._decode_base64url_segment(segment, "header"))
        except jwt.DecodeError as exc:
            return str(exc)

    assert read(_SegmentReader) == read(jwt.api_jws.PyJWS), segment


_WHITE = rb"[ \t\n\r\x0b\x0c\x1c-\x1f]*"
_RFC6750_HEADER = re.compile(
    _WHITE + rb"[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*)" + _WHITE
)
"""RFC 6750 §2.1's ``credentials = "Bearer" 1*SP b64token``, with whitespace around it (which
the HTTP server strips from a header's value anyway: the parser does not insist)."""
_header_bytes = st.one_of(
    st.binary(max_size=40),
    st.builds(
        lambda scheme, gap, token, tail: scheme + gap + token + tail,
        st.sampled_from([b"Bearer", b"bearer", b"BEARER", b"BeArEr", b"Bearer\t", b"Basic"]),
        st.sampled_from([b" ", b"  ", b"", b"\t"]),
        st.binary(max_size=30)
        | st.text("ABCxyz019-._~+/=", max_size=30).map(str.encode)
        | st.text("ABCxyz019-._~+/= ,\"'\x00\xff", max_size=30).map(str.encode),
        st.sampled_from([b"", b" ", b"=", b"\r"]),
    ),
)


@given(_header_bytes)
def test_a_bearer_header_reads_as_rfc_6750_says(value: bytes) -> None:
    """The fast reading of ``Bearer <token>`` and the general one agree with the RFC's
    grammar: a token exactly when the header matches it, and that token."""
    grammar = _RFC6750_HEADER.fullmatch(value)
    try:
        found = parse_authorization([value])
    except InvalidRequest:
        found = None
        assert grammar is None
    if grammar is not None:
        assert found is not None
        assert found.token.encode() == grammar.group(1)
        assert found.scheme == "Bearer"
    elif found is not None:
        assert found.scheme != "Bearer" or isinstance(found, BasicCredentials)
