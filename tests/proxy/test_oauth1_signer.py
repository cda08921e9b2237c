"""The gateway's 2LOi signer: the requestor query Jira reads and the header it verifies.

Every signature is checked by oauthlib's server-side RSA-SHA1 verification, an
implementation independent of ours.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from oauthlib.common import Request
from oauthlib.oauth1.rfc5849 import signature as oauthlib_signature

from jiraguard.oauth1 import OAuth1Error, parse_authorization_header, parse_form
from jiraguard.proxy.oauth1_signer import (
    OAuth1Impersonation,
    form_names_identity,
    new_nonce,
)
from tests.support.rsa_keys import KeyPair, new_key_pair

NOW = 1_700_000_000.0
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    return new_key_pair()


@pytest.fixture
def signer(keys: KeyPair) -> OAuth1Impersonation:
    return OAuth1Impersonation("jiraguard-gw", keys.private_pem, clock=lambda: NOW)


def oauthlib_verifies(
    public_pem: str, method: str, url: str, header: bytes, body: bytes | None
) -> bool:
    """oauthlib's server-side check of one request, as its endpoints assemble it."""
    headers = {"Authorization": header.decode("ascii")}
    if body is not None:
        headers["Content-Type"] = FORM
    text = body.decode("ascii") if body is not None else None
    request = Request(url, http_method=method, body=text, headers=headers)
    params = oauthlib_signature.collect_parameters(
        uri_query=urlsplit(url).query, body=text, headers=headers
    )
    request.params = params
    request.signature = dict(
        oauthlib_signature.collect_parameters(headers=headers, exclude_oauth_signature=False)
    )["oauth_signature"]
    return bool(oauthlib_signature.verify_rsa_sha1(request, public_pem))


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        (b"", b""),
        (
            b"jql=project%20%3D%20X+AND+a%3Db&expand=a,b",
            b"jql=project%20%3D%20X+AND+a%3Db&expand=a,b",
        ),
        (b"xoauth_requestor_id=admin", b""),
        (b"a=1&xoauth_requestor_id=admin&b=2", b"a=1&b=2"),
        (b"user_id=admin&a=%7e", b"a=%7e"),
        (b"xoauth%5Frequestor%5Fid=admin&a=1", b"a=1"),
        (b"xoauth%5frequestor%5fid=admin&a=1", b"a=1"),
        (b"user%5Fid=admin", b""),
        (b"%75ser_id=admin", b""),
        (b"xoauth_requestor_id", b""),
        (b"oauth_token=abc&oauth_consumer_key=x&oauth%5Fnonce=1&a=1", b"a=1"),
        (b"a=1&&b=2", b"a=1&&b=2"),
        (
            b"user_id2=x&xoauth_requestor_idx=y&oauthx=1",
            b"user_id2=x&xoauth_requestor_idx=y&oauthx=1",
        ),
    ],
)
def test_requestor_query_strips_every_client_identity(
    signer: OAuth1Impersonation, query: bytes, kept: bytes
) -> None:
    """A client never chooses who Jira thinks it is: every ``xoauth_requestor_id``,
    ``user_id`` and ``oauth_*`` parameter goes (however its name is percent-encoded), the
    rest stays byte for byte, and the requestor comes last."""
    out = signer.requestor_query(query, "alice")
    assert out == (kept + b"&" if kept else b"") + b"xoauth_requestor_id=alice"
    assert [v for k, v in parse_form(out) if k in ("xoauth_requestor_id", "user_id")] == ["alice"]


def test_user_id_mode_strips_both_names(keys: KeyPair) -> None:
    """Jira falls back from ``xoauth_requestor_id`` to ``user_id``: both are always removed."""
    signer = OAuth1Impersonation("gw", keys.private_pem, "user_id")
    out = signer.requestor_query(b"xoauth_requestor_id=admin&user_id=root&q=1", "bob")
    assert out == b"q=1&user_id=bob"


@pytest.mark.parametrize(
    ("username", "encoded"),
    [
        ("alice", b"alice"),
        ("jörg.müller", b"j%C3%B6rg.m%C3%BCller"),
        ("a b+c&d=e/f?g#h%", b"a%20b%2Bc%26d%3De%2Ff%3Fg%23h%25"),
        ("o'brien~x", b"o%27brien~x"),
    ],
)
def test_requestor_is_percent_encoded(
    signer: OAuth1Impersonation, username: str, encoded: bytes
) -> None:
    """RFC 5849 §3.6 encoding, which Tomcat's form decoding reads back exactly."""
    out = signer.requestor_query(b"", username)
    assert out == b"xoauth_requestor_id=" + encoded
    assert parse_form(out) == [("xoauth_requestor_id", username)]


@pytest.mark.parametrize("query", [b"a=%zz", b"%FF=1", b"a=%C3"])
def test_undecodable_query_is_refused(signer: OAuth1Impersonation, query: bytes) -> None:
    """What cannot be decoded cannot be signed as Jira reads it."""
    with pytest.raises(OAuth1Error):
        signer.requestor_query(query, "alice")


def test_header_carries_the_two_legged_parameters(signer: OAuth1Impersonation) -> None:
    """Jira's rule: all six parameters, ``oauth_token`` present and EMPTY, RSA-SHA1, version
    1.0 (RFC 5849 §3.1)."""
    header = signer.authorization(
        "GET", "https://jira.example.com/rest?xoauth_requestor_id=a", None
    )
    assert header.startswith(b'OAuth oauth_consumer_key="jiraguard-gw", oauth_token="", ')
    params = parse_authorization_header(header)
    assert params["oauth_token"] == ""
    assert params["oauth_signature_method"] == "RSA-SHA1"
    assert params["oauth_version"] == "1.0"
    assert params["oauth_timestamp"] == str(int(NOW))
    assert len(params["oauth_nonce"]) == 32
    assert set(params) == {
        "oauth_consumer_key",
        "oauth_token",
        "oauth_signature_method",
        "oauth_timestamp",
        "oauth_nonce",
        "oauth_version",
        "oauth_signature",
    }


def test_nonces_are_fresh_and_128_bits() -> None:
    """§3.3: "A nonce is a random string, uniquely generated by the client"."""
    nonces = {new_nonce() for _ in range(1000)}
    assert len(nonces) == 1000
    assert all(len(n) == 32 and int(n, 16) >= 0 for n in nonces)


CASES = [
    ("GET", "https://jira.example.com/rest/api/2/myself", "alice", None),
    ("GET", "https://JIRA.Example.com:443/jira/rest/api/2/search", "alice", None),
    ("GET", "http://jira.example.com:80/rest/api/2/search", "alice", None),
    ("GET", "http://jira.example.com:8080/jira/rest/api/2/search", "alice", None),
    ("GET", "https://jira.example.com:8443/rest/api/2/search", "alice", None),
    ("GET", "http://127.0.0.1:2990/jira/rest/api/2/issue/ABC-1", "alice", None),
    ("DELETE", "https://jira.example.com/rest/api/2/issue/ABC-1", "alice", None),
    ("GET", "https://jira.example.com/rest/api/2/user/search", "jörg.müller €", None),
    ("GET", "https://jira.example.com/rest/api/2/user/search", "o'b+r&i=e/n?#%", None),
    ("GET", "https://jira.example.com/rest/api/2/user/search", "𝄞 😀", None),
    ("GET", "https://jira.example.com/rest/a%20b/%C3%A9", "alice", None),
    ("POST", "https://jira.example.com/secure/QuickCreate.jspa", "alice", b"a=1&b=x+y&c=%26%3D"),
    ("POST", "https://jira.example.com/rest/api/2/x", "alice", b"summary=caf%C3%A9&empty="),
    ("PUT", "https://jira.example.com/rest/api/2/x", "alice", b""),
]
QUERIES = [
    b"",
    b"jql=project%20%3D%20ABC%20AND%20text~%22x%22&startAt=0&maxResults=50",
    b"expand=names,schema&fields=*all&a=1&a=2&a=0",
    b"q=caf%C3%A9+cr%C3%A8me&empty=&flag",
    b"reserved=%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%2F%3F%23%5B%5D",
    b"xoauth_requestor_id=admin&user_id=root&oauth_token=evil",
]


@pytest.mark.parametrize(("method", "base", "username", "body"), CASES)
@pytest.mark.parametrize("client_query", QUERIES)
def test_oauthlib_verifies_what_we_sign(
    keys: KeyPair,
    signer: OAuth1Impersonation,
    method: str,
    base: str,
    username: str,
    body: bytes | None,
    client_query: bytes,
) -> None:
    """RFC 5849 §3.4.1: the base string covers the method, the base string URI (§3.4.1.2)
    and every parameter (§3.4.1.3.1: header, query, form body); an independent verifier
    (oauthlib's) accepts the signature, and refuses it once anything changes."""
    query = signer.requestor_query(client_query, username)
    url = f"{base}?{query.decode('ascii')}"
    header = signer.authorization(method, url, body)
    assert oauthlib_verifies(keys.public_pem, method, url, header, body)
    other_method = "PATCH" if method != "PATCH" else "GET"
    assert not oauthlib_verifies(keys.public_pem, other_method, url, header, body)
    assert not oauthlib_verifies(keys.public_pem, method, url + "&x=1", header, body)
    if body is not None:
        assert not oauthlib_verifies(keys.public_pem, method, url, header, body + b"&x=1")


def test_signature_base_string_equals_oauthlibs(keys: KeyPair) -> None:
    """The same base string (§3.4.1.1) from oauthlib's own functions: the signature made with
    a fixed nonce and clock is the one oauthlib's signing makes over those parameters."""
    signer = OAuth1Impersonation("gw", keys.private_pem, clock=lambda: NOW, nonce=lambda: "n1")
    url = "https://Jira.example.com:443/jira/rest/x?b=2&a=1&xoauth_requestor_id=j%C3%B6rg"
    body = b"c=3+4"
    header = signer.authorization("post", url, body)
    params = [
        (k, v) for k, v in parse_authorization_header(header).items() if k != "oauth_signature"
    ]
    params += oauthlib_signature.collect_parameters(uri_query=urlsplit(url).query, body="c=3+4")
    base = oauthlib_signature.signature_base_string(
        "POST",
        oauthlib_signature.base_string_uri(url),
        oauthlib_signature.normalize_parameters(params),
    )
    from types import SimpleNamespace

    theirs = oauthlib_signature.sign_rsa_sha1_with_client(
        base, SimpleNamespace(rsa_key=keys.private_pem)
    )
    assert parse_authorization_header(header)["oauth_signature"] == theirs


def test_bad_urls_and_bodies_are_refused(signer: OAuth1Impersonation) -> None:
    for url in ["/rest", "https://h/a#f", "https://h/a?x=%zz", "https://h/a b"]:
        with pytest.raises(OAuth1Error):
            signer.authorization("GET", url, None)
    with pytest.raises(OAuth1Error):
        signer.authorization("POST", "https://h/a", b"x=%FF")


@pytest.mark.parametrize(
    ("body", "names"),
    [
        (b"", False),
        (b"summary=x&user=alice&userid=1", False),
        (b"xoauth_requestor_id=admin", True),
        (b"a=1&user_id=admin", True),
        (b"xoauth%5Frequestor%5Fid=admin", True),
        (b"user%5fid", True),
        (b"oauth_token=x", True),
        (b"oauth%5Fsignature=x", True),
        (b"a=%zz", True),
        (b"a=%FF", True),
    ],
)
def test_form_bodies_naming_an_identity_are_flagged(body: bytes, names: bool) -> None:
    """Tomcat's ``getParameter`` reads form bodies too: a body naming the requestor (or an
    OAuth parameter), or one that cannot be decoded, must be refused by the proxy."""
    assert form_names_identity(body) is names


def test_repr_never_shows_the_key(keys: KeyPair) -> None:
    signer = OAuth1Impersonation("gw", keys.private_pem)
    text = repr(signer) + str(signer)
    assert "gw" in text
    assert "PRIVATE" not in text
    assert keys.private_pem.splitlines()[1][:20] not in text
    assert not hasattr(signer, "__dict__")


def test_refuses_a_bad_configuration(keys: KeyPair) -> None:
    with pytest.raises(ValueError, match="consumer key"):
        OAuth1Impersonation("", keys.private_pem)
    with pytest.raises(ValueError, match="requestor_parameter"):
        OAuth1Impersonation("gw", keys.private_pem, "username")  # type: ignore[arg-type]
    with pytest.raises(OAuth1Error):
        OAuth1Impersonation("gw", keys.public_pem)
