"""RFC 5849 primitives: encoding, the OAuth header, parameters, base strings, RSA-SHA1.

The RFC's own examples are the expected values; oauthlib (an independent implementation)
checks the rest.
"""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oauthlib.oauth1.rfc5849 import signature as oauthlib_signature
from oauthlib.oauth1.rfc5849 import utils as oauthlib_utils

from jiraguard.oauth1 import (
    MAX_HEADER_BYTES,
    OAuth1Error,
    base_string_uri,
    is_oauth_authorization,
    load_rsa_private_key,
    load_rsa_public_key,
    normalized_parameters,
    parse_authorization_header,
    parse_form,
    percent_decode,
    percent_encode,
    sign_rsa_sha1,
    signature_base_string,
    split_url,
    verify_rsa_sha1,
)
from tests.support.rsa_keys import KeyPair, new_key_pair

# RFC 5849 §3.4.1.1's example request.
RFC_QUERY = "b5=%3D%253D&a3=a&c%40=&a2=r%20b"
RFC_BODY = "c2&a3=2+q"
RFC_HEADER = (
    'OAuth realm="Example", oauth_consumer_key="9djdj82h48djs9d2", '
    'oauth_token="kkk9d7dh3k39sjv7", oauth_signature_method="HMAC-SHA1", '
    'oauth_timestamp="137131201", oauth_nonce="7d8f3e4a", '
    'oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D"'
)
RFC_NORMALIZED = (
    "a2=r%20b&a3=2%20q&a3=a&b5=%3D%253D&c%40=&c2=&oauth_consumer_key=9djdj82h48djs9d2"
    "&oauth_nonce=7d8f3e4a&oauth_signature_method=HMAC-SHA1&oauth_timestamp=137131201"
    "&oauth_token=kkk9d7dh3k39sjv7"
)
RFC_BASE_STRING = (
    "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D"
    "%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce"
    "%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26"
    "oauth_token%3Dkkk9d7dh3k39sjv7"
)


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    return new_key_pair()


def rfc_params() -> list[tuple[str, str]]:
    header = parse_authorization_header(RFC_HEADER)
    oauth = [(k, v) for k, v in header.items() if k not in ("realm", "oauth_signature")]
    return parse_form(RFC_QUERY) + parse_form(RFC_BODY) + oauth


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("abcABC123-._~", "abcABC123-._~"),
        (" ", "%20"),
        ("+", "%2B"),
        ("=&%/?#", "%3D%26%25%2F%3F%23"),
        ("é", "%C3%A9"),
        ("𝄞", "%F0%9D%84%9E"),
    ],
)
def test_percent_encoding(raw: str, encoded: str) -> None:
    """§3.6: "Characters in the unreserved character set ... MUST NOT be encoded. All other
    characters MUST be encoded. The two hexadecimal characters used to represent encoded
    characters MUST be uppercase." Text is UTF-8 first."""
    assert percent_encode(raw) == encoded
    assert percent_encode(raw) == oauthlib_utils.escape(raw)
    assert percent_decode(encoded) == raw


@pytest.mark.parametrize("bad", ["%", "%4", "%zz", "a%g0", "%C3", "%FF", "é"])
def test_percent_decoding_is_strict(bad: str) -> None:
    """§3.6 in reverse: a ``%`` needs two hex digits, and the octets must be UTF-8."""
    with pytest.raises(OAuth1Error):
        percent_decode(bad)


def test_form_parameters_of_the_rfc_example() -> None:
    """§3.4.1.3.1: the query and the form body are "parsed into a list of name/value pairs
    by treating it as an application/x-www-form-urlencoded string" (``+`` is a space, a name
    without ``=`` has an empty value)."""
    assert parse_form(RFC_QUERY) == [("b5", "=%3D"), ("a3", "a"), ("c@", ""), ("a2", "r b")]
    assert parse_form(RFC_BODY.encode()) == [("c2", ""), ("a3", "2 q")]
    assert parse_form(b"&&a=1&") == [("a", "1")]


@pytest.mark.parametrize("bad", [b"a=%zz", b"%=1", b"a=%FF", b"a=%C3%28"])
def test_form_parameters_refuse_what_cannot_be_decoded(bad: bytes) -> None:
    with pytest.raises(OAuth1Error):
        parse_form(bad)


def test_normalized_parameters_of_the_rfc_example() -> None:
    """§3.4.1.3.2: encoded, "sorted by name, using ascending byte value ordering. If two or
    more parameters share the same name, they are sorted by their value"."""
    params = rfc_params()
    assert normalized_parameters(params) == RFC_NORMALIZED
    assert normalized_parameters(params) == oauthlib_signature.normalize_parameters(params)


def test_signature_base_string_of_the_rfc_example() -> None:
    """§3.4.1.1: method, ``&``, encoded base string URI, ``&``, encoded normalized
    parameters."""
    base = signature_base_string("post", "http://example.com/request", rfc_params())
    assert base == RFC_BASE_STRING


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://EXAMPLE.COM:80/r%20v/X?id=123", "http://example.com/r%20v/X"),
        ("https://www.example.net:8080/?q=1", "https://www.example.net:8080/"),
        ("https://jira.example.com:443/jira/rest", "https://jira.example.com/jira/rest"),
        ("http://jira.example.com:443/", "http://jira.example.com:443/"),
        ("https://jira.example.com:80/", "https://jira.example.com:80/"),
        ("http://jira.example.com", "http://jira.example.com/"),
        ("http://[::1]:8080/a", "http://[::1]:8080/a"),
        ("http://127.0.0.1:80/a%2Fb", "http://127.0.0.1/a%2Fb"),
    ],
)
def test_base_string_uri(url: str, expected: str) -> None:
    """§3.4.1.2: "The scheme and host MUST be in lowercase"; "The port MUST be included if it
    is not the default port for the scheme, and MUST be excluded if it is the default"; the
    path as requested, without the query."""
    scheme, authority, path, _ = split_url(url)
    assert base_string_uri(scheme, authority, path) == expected
    assert oauthlib_signature.base_string_uri(url) == expected


@pytest.mark.parametrize(
    ("authority", "path"),
    [("", "/"), ("a b", "/"), ("user@host", "/"), ("host:99999", "/"), ("h", "/a b"), ("h", "x")],
)
def test_base_string_uri_refuses_what_is_not_a_uri(authority: str, path: str) -> None:
    with pytest.raises(OAuth1Error):
        base_string_uri("http", authority, path)


@pytest.mark.parametrize("url", ["/relative", "http://h/a#frag", "mailto:x@y"])
def test_split_url_wants_an_absolute_url(url: str) -> None:
    with pytest.raises(OAuth1Error):
        split_url(url)


def test_header_of_the_rfc_example() -> None:
    """§3.5.1: "Parameter names and values are encoded per Parameter Encoding"; each value
    in quotes, pairs separated by commas; realm is kept but never signed."""
    params = parse_authorization_header(RFC_HEADER.encode())
    assert params["realm"] == "Example"
    assert params["oauth_signature"] == "bYT5CMsGcbgUdFHObYMEfcx6bsw="
    assert list(params)[1:] == [
        "oauth_consumer_key",
        "oauth_token",
        "oauth_signature_method",
        "oauth_timestamp",
        "oauth_nonce",
        "oauth_signature",
    ]
    theirs = oauthlib_utils.parse_authorization_header(RFC_HEADER)  # values left encoded
    assert params == {k: oauthlib_utils.unescape(v) for k, v in theirs}


def test_header_scheme_is_case_insensitive_and_may_be_alone() -> None:
    assert parse_authorization_header('oauth a="1",b="2"') == {"a": "1", "b": "2"}
    assert parse_authorization_header("OAUTH") == {}
    assert is_oauth_authorization(b"oAuth x")
    assert is_oauth_authorization("OAuth")
    assert not is_oauth_authorization(b"Bearer x")
    assert not is_oauth_authorization(b"OAuthx")
    assert not is_oauth_authorization(None)


@pytest.mark.parametrize(
    "bad",
    [
        "Bearer abc",
        'OAuth a="1", a="2"',
        'OAuth a="1", a%3D="2", a="3"',
        "OAuth a=1",
        'OAuth a="1" b="2"',
        'OAuth a="1",',
        'OAuth ,a="1"',
        'OAuth a="1',
        'OAuth a="x\\"y"',
        'OAuth a="%zz"',
        'OAuth a="\x01"',
        'OAuth ="1"',
        'OAuth a="1"\r\n, b="2"',
        'OAuth a="' + "x" * MAX_HEADER_BYTES + '"',
        "OAuth " + ", ".join(f'p{i}="1"' for i in range(33)),
    ],
)
def test_malformed_headers_are_refused(bad: str) -> None:
    """§3.5.1 strictly: quoted values, comma separators, no name twice (§3.4.1.3.2 would be
    ambiguous), and a bound on size."""
    with pytest.raises(OAuth1Error):
        parse_authorization_header(bad)


def test_non_ascii_header_bytes_are_refused() -> None:
    with pytest.raises(OAuth1Error):
        parse_authorization_header('OAuth a="é"'.encode())


def test_rsa_sha1_signature_equals_oauthlibs(keys: KeyPair) -> None:
    """§3.4.3.1: "The signature base string is signed using the client's RSA private key
    per [RFC3447], Section 8.2.1 ... EMSA-PKCS1-v1_5 ... SHA-1", then base64. PKCS#1 v1.5
    is deterministic, so an independent implementation must produce the same value."""
    private = load_rsa_private_key(keys.private_pem)
    ours = sign_rsa_sha1(private, RFC_BASE_STRING)
    theirs = oauthlib_signature.sign_rsa_sha1_with_client(
        RFC_BASE_STRING, SimpleNamespace(rsa_key=keys.private_pem)
    )
    assert ours == theirs
    assert verify_rsa_sha1(load_rsa_public_key(keys.public_pem), RFC_BASE_STRING, ours)


def test_rsa_sha1_verification_refuses_without_raising(keys: KeyPair) -> None:
    """§3.4.3.2: the server verifies with the client's public key; bad input is simply a
    signature that does not verify."""
    public = load_rsa_public_key(keys.public_pem)
    good = sign_rsa_sha1(load_rsa_private_key(keys.private_pem), "base")
    other = load_rsa_public_key(new_key_pair().public_pem)
    assert verify_rsa_sha1(public, "base", good)
    assert not verify_rsa_sha1(public, "base2", good)
    assert not verify_rsa_sha1(other, "base", good)
    for bad in ["", "not base64!", good[:-4], "é", "AAAA", good + "AAAA"]:
        assert not verify_rsa_sha1(public, "base", bad)
    assert not verify_rsa_sha1(public, "bäse", good)


def test_keys_load_only_as_rsa(keys: KeyPair) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_pem = ec_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(OAuth1Error, match="not an RSA key"):
        load_rsa_private_key(ec_pem)
    with pytest.raises(OAuth1Error, match="not an unencrypted PEM private key") as caught:
        load_rsa_private_key(keys.private_pem[:200])
    assert keys.private_pem[40:80] not in str(caught.value)
    with pytest.raises(OAuth1Error):
        load_rsa_public_key(keys.private_pem)
    with pytest.raises(OAuth1Error):
        load_rsa_private_key(keys.public_pem)


@settings(derandomize=True, max_examples=200, database=None, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_header_parser_raises_only_its_own_error(value: str | bytes) -> None:
    """Arbitrary input parses or raises :class:`OAuth1Error`, nothing else."""
    for candidate in (value, "OAuth " + value if isinstance(value, str) else b"OAuth " + value):
        with contextlib.suppress(OAuth1Error):
            parse_authorization_header(candidate)


@settings(derandomize=True, max_examples=200, database=None, deadline=None)
@given(st.binary(max_size=300))
def test_form_parser_raises_only_its_own_error(value: bytes) -> None:
    with contextlib.suppress(OAuth1Error):
        parse_form(value)
