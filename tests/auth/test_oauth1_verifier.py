"""The embedded server's two-legged OAuth 1.0a check, with Jira's rules: what the gateway
signs is accepted as its user, anything else is refused (never silently anonymous)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oauthlib.oauth1 import SIGNATURE_RSA, SIGNATURE_TYPE_AUTH_HEADER, Client
from oauthlib.oauth1.rfc5849 import signature as oauthlib_signature
from oauthlib.oauth1.rfc5849.utils import escape

from jiraguard.auth.errors import InvalidToken, OAuthProblem
from jiraguard.auth.oauth1_verifier import REQUIRED, OAuth1Consumer, OAuth1Verifier, base_uri
from jiraguard.oauth1 import load_rsa_public_key, parse_authorization_header, percent_encode
from jiraguard.proxy.oauth1_signer import OAuth1Impersonation
from tests.support.rsa_keys import KeyPair, new_key_pair

NOW = 1_700_000_000.0
BASE = "https://jira.example.com/rest/api/2/myself"
KEY = "jiraguard-gw"


@dataclass
class Clock:
    now: float = NOW

    def __call__(self) -> float:
        return self.now


@dataclass
class Signed:
    method: str
    base_uri: str
    query: bytes
    authorization: bytes
    form_body: bytes | None


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    return new_key_pair()


@pytest.fixture(scope="module")
def other_keys() -> KeyPair:
    return new_key_pair()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def signer(keys: KeyPair, clock: Clock) -> OAuth1Impersonation:
    return OAuth1Impersonation(KEY, keys.private_pem, clock=clock)


def consumer(keys: KeyPair, **flags: bool) -> OAuth1Consumer:
    values = {"allow_two_legged": True, "allow_impersonation": True, **flags}
    return OAuth1Consumer(KEY, "Gateway", load_rsa_public_key(keys.public_pem), **values)


@pytest.fixture
def verifier(keys: KeyPair, clock: Clock) -> OAuth1Verifier:
    return OAuth1Verifier([consumer(keys)], clock=clock)


def sign(
    signer: OAuth1Impersonation,
    username: str | None = "alice",
    method: str = "GET",
    base: str = BASE,
    client_query: bytes = b"",
    body: bytes | None = None,
) -> Signed:
    query = signer.requestor_query(client_query, username) if username else client_query
    url = f"{base}?{query.decode()}" if query else base
    return Signed(method, base, query, signer.authorization(method, url, body), body)


def check(verifier: OAuth1Verifier, r: Signed) -> object:
    return verifier.verify(r.method, r.base_uri, r.query, r.authorization, r.form_body)


def refused(verifier: OAuth1Verifier, r: Signed, problem: str) -> OAuthProblem:
    with pytest.raises(OAuthProblem) as caught:
        check(verifier, r)
    assert caught.value.problem == problem, caught.value.description
    assert isinstance(caught.value, InvalidToken)
    assert caught.value.status_code == 401
    return caught.value


def header_with(authorization: bytes, **changes: str | None) -> bytes:
    params = parse_authorization_header(authorization)
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return (
        "OAuth "
        + ", ".join(f'{percent_encode(k)}="{percent_encode(v)}"' for k, v in params.items())
    ).encode()


def test_the_gateways_request_is_accepted_as_its_user(
    verifier: OAuth1Verifier, signer: OAuth1Impersonation
) -> None:
    """Jira's 2LOi: a valid RSA-SHA1 signature, an empty ``oauth_token``, the user in
    ``xoauth_requestor_id``."""
    verdict = verifier.verify(**sign(signer, "jörg", client_query=b"a=1&b=%20").__dict__)
    assert verdict.consumer_key == KEY
    assert verdict.consumer_name == "Gateway"
    assert verdict.requestor == "jörg"
    assert verdict.requestor_parameter == "xoauth_requestor_id"
    assert verdict.timestamp == int(NOW)


def test_user_id_is_read_when_configured(
    keys: KeyPair, verifier: OAuth1Verifier, clock: Clock
) -> None:
    signer = OAuth1Impersonation(KEY, keys.private_pem, "user_id", clock=clock)
    verdict = verifier.verify(**sign(signer, "bob").__dict__)
    assert (verdict.requestor, verdict.requestor_parameter) == ("bob", "user_id")


def test_form_bodies_are_signed_and_checked(
    verifier: OAuth1Verifier, signer: OAuth1Impersonation
) -> None:
    """§3.4.1.3.1: an ``application/x-www-form-urlencoded`` body is part of the base string."""
    r = sign(signer, method="POST", body=b"summary=caf%C3%A9+x")
    assert verifier.verify(**r.__dict__).requestor == "alice"
    r2 = sign(signer, method="POST", body=b"summary=x")
    r2.form_body = b"summary=y"
    refused(verifier, r2, "signature_invalid")


def test_plain_two_legged_has_no_requestor(
    verifier: OAuth1Verifier, signer: OAuth1Impersonation
) -> None:
    assert verifier.verify(**sign(signer, None).__dict__).requestor is None


def test_a_requestor_in_the_header_is_not_a_requestor(
    verifier: OAuth1Verifier, signer: OAuth1Impersonation, keys: KeyPair
) -> None:
    """Jira reads the user with ``request.getParameter``: an ``xoauth_requestor_id`` in the
    OAuth header is signed but names nobody (plain 2LO), which is why the signer puts it in
    the query."""
    params = [
        ("oauth_consumer_key", KEY),
        ("oauth_token", ""),
        ("oauth_signature_method", "RSA-SHA1"),
        ("oauth_timestamp", str(int(NOW))),
        ("oauth_nonce", "n-header"),
        ("xoauth_requestor_id", "admin"),
    ]
    header = oauthlib_signed_header(keys, "GET", BASE, params)
    assert verifier.verify("GET", BASE, b"", header, None).requestor is None


@pytest.mark.parametrize(
    "tamper",
    ["method", "path", "query", "user", "host", "port", "scheme"],
)
def test_tampering_breaks_the_signature(
    verifier: OAuth1Verifier, signer: OAuth1Impersonation, tamper: str
) -> None:
    """§3.4.1: the base string covers the method, the base string URI and the parameters."""
    r = sign(signer, client_query=b"jql=project%3DA")
    if tamper == "method":
        r.method = "DELETE"
    elif tamper == "path":
        r.base_uri = BASE + "/x"
    elif tamper == "query":
        r.query = r.query.replace(b"project%3DA", b"project%3DB")
    elif tamper == "user":
        r.query = r.query.replace(b"=alice", b"=admin")
    elif tamper == "host":
        r.base_uri = BASE.replace("jira.", "jira2.")
    elif tamper == "port":
        r.base_uri = BASE.replace(".com/", ".com:8443/")
    else:
        r.base_uri = BASE.replace("https:", "http:")
    refused(verifier, r, "signature_invalid")


def test_a_query_parameter_added_later_breaks_the_signature(
    verifier: OAuth1Verifier, signer: OAuth1Impersonation
) -> None:
    r = sign(signer)
    r.query += b"&user_id=admin"
    refused(verifier, r, "signature_invalid")


def test_another_key_is_refused(
    other_keys: KeyPair, clock: Clock, signer: OAuth1Impersonation
) -> None:
    verifier = OAuth1Verifier([consumer(other_keys)], clock=clock)
    refused(verifier, sign(signer), "signature_invalid")


def test_an_unknown_consumer_is_refused(
    keys: KeyPair, verifier: OAuth1Verifier, clock: Clock
) -> None:
    stranger = OAuth1Impersonation("stranger", keys.private_pem, clock=clock)
    problem = refused(verifier, sign(stranger), "consumer_key_unknown")
    assert "stranger" not in problem.description


def test_impersonation_needs_its_flag(
    keys: KeyPair, clock: Clock, signer: OAuth1Impersonation
) -> None:
    """Jira: "Allow user impersonation through 2-Legged OAuth" (off by default)."""
    verifier = OAuth1Verifier([consumer(keys, allow_impersonation=False)], clock=clock)
    refused(verifier, sign(signer), "permission_denied")
    assert verifier.verify(**sign(signer, None).__dict__).requestor is None


def test_two_legged_needs_its_flag(
    keys: KeyPair, clock: Clock, signer: OAuth1Impersonation
) -> None:
    """Jira: "Allow 2-Legged OAuth", for plain 2LO and for impersonation alike."""
    verifier = OAuth1Verifier([consumer(keys, allow_two_legged=False)], clock=clock)
    refused(verifier, sign(signer), "permission_denied")
    refused(verifier, sign(signer, None), "permission_denied")


@pytest.mark.parametrize("method", ["HMAC-SHA1", "PLAINTEXT", "RSA-SHA256", "rsa-sha1"])
def test_only_rsa_sha1_is_accepted(
    verifier: OAuth1Verifier, signer: OAuth1Impersonation, method: str
) -> None:
    """§3.4: RSA-SHA1 is the method Jira's application links use; HMAC-SHA1 and PLAINTEXT
    would need a shared secret they do not have."""
    r = sign(signer)
    r.authorization = header_with(r.authorization, oauth_signature_method=method)
    refused(verifier, r, "signature_method_rejected")


@pytest.mark.parametrize("name", REQUIRED)
def test_each_of_the_six_parameters_is_required(
    verifier: OAuth1Verifier, signer: OAuth1Impersonation, name: str
) -> None:
    """Jira's ``OAuthRequestUtils``: all six present, ``oauth_token`` included."""
    r = sign(signer)
    r.authorization = header_with(r.authorization, **{name: None})
    problem = refused(verifier, r, "parameter_absent")
    assert name in problem.description


def test_a_non_empty_token_is_three_legged_and_refused(
    verifier: OAuth1Verifier, signer: OAuth1Impersonation
) -> None:
    r = sign(signer)
    r.authorization = header_with(r.authorization, oauth_token="kkk9d7dh3k39sjv7")
    refused(verifier, r, "token_rejected")


def test_only_version_1_0(verifier: OAuth1Verifier, signer: OAuth1Impersonation) -> None:
    """§3.1: "oauth_version OPTIONAL. If present, MUST be set to 1.0"."""
    r = sign(signer)
    r.authorization = header_with(r.authorization, oauth_version="2.0")
    refused(verifier, r, "version_rejected")
    r.authorization = header_with(r.authorization, oauth_version=None)
    refused(verifier, r, "signature_invalid")  # accepted as a version, still signed over


@pytest.mark.parametrize("shift", [-301.0, 301.0, -10_000.0])
def test_stale_and_future_timestamps_are_refused(
    verifier: OAuth1Verifier, signer: OAuth1Impersonation, clock: Clock, shift: float
) -> None:
    """§3.3: the server may "reject requests with stale timestamps"; either way here."""
    r = sign(signer)
    clock.now = NOW + shift
    refused(verifier, r, "timestamp_refused")


@pytest.mark.parametrize("stamp", ["", "abc", "1.5", "-1", "+1700000000", "\uff11\uff17", "9" * 13])
def test_timestamps_are_plain_digits(
    verifier: OAuth1Verifier, signer: OAuth1Impersonation, stamp: str
) -> None:
    r = sign(signer)
    r.authorization = header_with(r.authorization, oauth_timestamp=stamp)
    refused(verifier, r, "timestamp_refused")


def test_within_the_window_is_accepted(
    verifier: OAuth1Verifier, signer: OAuth1Impersonation, clock: Clock
) -> None:
    r = sign(signer)
    clock.now = NOW + 300
    assert verifier.verify(**r.__dict__).requestor == "alice"


def test_a_replayed_nonce_is_refused(verifier: OAuth1Verifier, signer: OAuth1Impersonation) -> None:
    """§3.3: "The nonce value MUST be unique across all requests with the same timestamp,
    client credentials, and token combinations"."""
    r = sign(signer)
    check(verifier, r)
    refused(verifier, r, "nonce_used")


def test_the_nonce_log_is_bounded_and_expires(
    keys: KeyPair, signer: OAuth1Impersonation, clock: Clock
) -> None:
    verifier = OAuth1Verifier([consumer(keys)], max_age=300, clock=clock, max_nonces=2)
    check(verifier, sign(signer))
    check(verifier, sign(signer))
    problem = refused(verifier, sign(signer), "nonce_used")
    assert "Too many" in problem.description
    clock.now = NOW + 301  # the first two can no longer be replayed: forgotten
    check(verifier, sign(signer))
    assert len(verifier._nonces[KEY].seen) == 1


def test_a_nonce_with_a_bad_signature_is_not_remembered(
    verifier: OAuth1Verifier, signer: OAuth1Impersonation
) -> None:
    r = sign(signer)
    good = r.method
    r.method = "POST"
    refused(verifier, r, "signature_invalid")
    r.method = good
    check(verifier, r)


@pytest.mark.parametrize(
    "bad",
    [
        b'OAuth oauth_consumer_key="a", oauth_consumer_key="b"',
        b"OAuth oauth_consumer_key=a",
        b'OAuth oauth_consumer_key="a" oauth_token=""',
        b'OAuth oauth_consumer_key="a",',
        b'OAuth oauth_consumer_key="%zz"',
        b"OAuth \xff",
        b"Bearer abc",
    ],
)
def test_malformed_and_duplicate_headers_are_refused(verifier: OAuth1Verifier, bad: bytes) -> None:
    with pytest.raises(OAuthProblem) as caught:
        verifier.verify("GET", BASE, b"", bad, None)
    assert caught.value.problem == "parameter_rejected"


def test_duplicate_header_parameters_are_refused(
    verifier: OAuth1Verifier, signer: OAuth1Impersonation
) -> None:
    r = sign(signer)
    r.authorization += b', oauth_nonce="again"'
    refused(verifier, r, "parameter_rejected")


@pytest.mark.parametrize(
    ("query", "body"),
    [
        (b"oauth_nonce=x", None),
        (b"oauth_token=", None),
        (b"", b"oauth_consumer_key=jiraguard-gw"),
    ],
)
def test_protocol_parameters_outside_the_header_are_refused(
    verifier: OAuth1Verifier, signer: OAuth1Impersonation, query: bytes, body: bytes | None
) -> None:
    """A protocol parameter given twice (header and query or body) is ambiguous."""
    r = sign(signer, None, client_query=query, body=body, method="POST")
    refused(verifier, r, "parameter_rejected")


@pytest.mark.parametrize(
    ("query", "body"),
    [
        (b"xoauth_requestor_id=alice&xoauth_requestor_id=admin", None),
        (b"xoauth_requestor_id=alice", b"xoauth_requestor_id=admin"),
        (b"xoauth_requestor_id=", None),
        (b"user_id=alice&user_id=admin", None),
    ],
)
def test_an_ambiguous_requestor_is_refused(
    verifier: OAuth1Verifier, signer: OAuth1Impersonation, query: bytes, body: bytes | None
) -> None:
    """Signed by the key holder, still refused: Jira takes the first value, another reader
    might take the last."""
    r = sign(signer, None, client_query=query, body=body, method="POST")
    refused(verifier, r, "parameter_rejected")


def test_the_requestor_may_come_from_a_form_body(
    verifier: OAuth1Verifier, signer: OAuth1Impersonation
) -> None:
    """Tomcat's ``getParameter`` reads the form body too (the gateway refuses such bodies)."""
    r = sign(signer, None, method="POST", body=b"user_id=carol")
    assert verifier.verify(**r.__dict__).requestor == "carol"


def test_oauthlib_client_signing_omits_the_token_and_is_not_two_legged(
    keys: KeyPair, verifier: OAuth1Verifier
) -> None:
    """The known trap: oauthlib's ``Client`` without a resource owner key leaves
    ``oauth_token`` out, which Jira (and this verifier) does not take as two-legged."""
    client = Client(
        KEY,
        signature_method=SIGNATURE_RSA,
        rsa_key=keys.private_pem,
        signature_type=SIGNATURE_TYPE_AUTH_HEADER,
        timestamp=str(int(NOW)),
        nonce="oauthlib-nonce",
    )
    url = BASE + "?xoauth_requestor_id=alice"
    _, headers, _ = client.sign(url, "GET")
    authorization = headers["Authorization"].encode()
    assert "oauth_token" not in parse_authorization_header(authorization)
    problem = refused_raw(verifier, authorization, b"xoauth_requestor_id=alice")
    assert problem.problem == "parameter_absent"
    assert "oauth_token" in problem.description


def refused_raw(verifier: OAuth1Verifier, authorization: bytes, query: bytes) -> OAuthProblem:
    with pytest.raises(OAuthProblem) as caught:
        verifier.verify("GET", BASE, query, authorization, None)
    return caught.value


def oauthlib_signed_header(
    keys: KeyPair, method: str, url: str, params: list[tuple[str, str]], query: str = ""
) -> bytes:
    """A header made with oauthlib's signature functions over ``params`` (and the query)."""
    collected = params + oauthlib_signature.collect_parameters(uri_query=query)
    base = oauthlib_signature.signature_base_string(
        method,
        oauthlib_signature.base_string_uri(url),
        oauthlib_signature.normalize_parameters(collected),
    )
    sig = oauthlib_signature.sign_rsa_sha1_with_client(
        base, SimpleNamespace(rsa_key=keys.private_pem)
    )
    # oauthlib's prepare_headers drops non-oauth_* names, so the header is joined here.
    pairs = [*params, ("oauth_signature", sig)]
    return ("OAuth " + ", ".join(f'{escape(k)}="{escape(v)}"' for k, v in pairs)).encode()


def test_oauthlib_signing_with_an_empty_token_is_accepted(
    keys: KeyPair, verifier: OAuth1Verifier
) -> None:
    """The same request signed by oauthlib's own functions, with ``oauth_token=""`` among the
    parameters, is accepted: our verifier agrees with an independent signer."""
    params = [
        ("oauth_consumer_key", KEY),
        ("oauth_token", ""),
        ("oauth_signature_method", "RSA-SHA1"),
        ("oauth_timestamp", str(int(NOW))),
        ("oauth_nonce", "oauthlib-nonce"),
        ("oauth_version", "1.0"),
    ]
    query = "xoauth_requestor_id=j%C3%B6rg%20m&jql=a%3Db"
    header = oauthlib_signed_header(keys, "GET", BASE + "?" + query, params, query)
    verdict = verifier.verify("GET", BASE, query.encode(), header, None)
    assert verdict.requestor == "jörg m"


def scope(
    headers: list[tuple[bytes, bytes]], scheme: str = "https", raw: bytes = b"/a%20b"
) -> dict[str, object]:
    return {"type": "http", "scheme": scheme, "headers": headers, "path": "/a b", "raw_path": raw}


def test_base_uri_of_an_asgi_request() -> None:
    """§3.4.1.2: from the scheme, the ``Host`` header and the path as on the request line."""
    assert base_uri(scope([(b"host", b"Jira.Example.com:443")])) == "https://jira.example.com/a%20b"
    assert base_uri(scope([(b"host", b"h:8080")], "http")) == "http://h:8080/a%20b"
    for headers in (
        [],
        [(b"host", b"a"), (b"host", b"b")],
        [(b"host", b"a b")],
        [(b"host", "é".encode())],
    ):
        with pytest.raises(OAuthProblem):
            base_uri(scope(headers))


def test_challenge_is_an_oauth_one() -> None:
    problem = OAuthProblem("signature_invalid", "The OAuth signature does not verify.")
    assert problem.challenge("jira") == 'OAuth realm="jira", oauth_problem="signature_invalid"'
    assert problem.response("jira").status_code == 401


HEADER_TEXT = st.lists(
    st.tuples(
        st.sampled_from([*REQUIRED, "oauth_version", "realm", "x", "oauth_token"]),
        st.text(max_size=20),
    ),
    max_size=10,
).map(lambda pairs: "OAuth " + ", ".join(f'{k}="{percent_encode(v)}"' for k, v in pairs))


@settings(derandomize=True, max_examples=200, database=None, deadline=None)
@given(
    authorization=st.one_of(st.binary(max_size=200), HEADER_TEXT.map(str.encode)),
    query=st.binary(max_size=50),
    body=st.one_of(st.none(), st.binary(max_size=50)),
    method=st.text(max_size=8),
)
def test_verify_raises_only_oauth_problems(
    keys: KeyPair, authorization: bytes, query: bytes, body: bytes | None, method: str
) -> None:
    """Arbitrary input is accepted or refused with :class:`OAuthProblem`, nothing else."""
    verifier = OAuth1Verifier([consumer(keys)], clock=Clock())
    with contextlib.suppress(OAuthProblem):
        verifier.verify(method, BASE, query, authorization, body)
