"""The gateway's side of ``upstream.identity = "oauth1_impersonation"``: two-legged OAuth 1.0a
with user impersonation (2LOi) through an incoming Generic Application link in Jira.

Jira learns who the caller is from a query parameter, ``xoauth_requestor_id`` (or
``user_id``), which it reads with ``request.getParameter``; the request is signed with
RSA-SHA1 (RFC 5849 §3.4.3) by the consumer's private key, with ``oauth_token`` present and
empty (that is what makes it two-legged). The signature covers the method, the base string
URI and every query and form parameter, so the requestor cannot be changed on the way.

A client never chooses who Jira thinks it is: :meth:`OAuth1Impersonation.requestor_query`
removes every ``xoauth_requestor_id``, ``user_id`` and ``oauth_*`` parameter the client put
in the query (Jira falls back to ``user_id``, so both go whichever one is configured), and
a form body naming any of them must be refused (:func:`form_names_identity`), because
Tomcat's ``getParameter`` reads form bodies too.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Literal

from jiraguard.oauth1 import (
    OAuth1Error,
    base_string_uri,
    load_rsa_private_key,
    parse_form,
    percent_decode,
    percent_encode,
    sign_rsa_sha1,
    signature_base_string,
    split_url,
)
from jiraguard.settings import UpstreamSettings

RequestorParameter = Literal["xoauth_requestor_id", "user_id"]

IDENTITY_PARAMETERS = frozenset({"xoauth_requestor_id", "user_id"})
"""Parameter names Jira reads the impersonated user from (in this order)."""


def names_identity(name: str) -> bool:
    """Whether a decoded parameter name says who the caller is or is OAuth's own."""
    return name in IDENTITY_PARAMETERS or name.startswith("oauth_")


def form_names_identity(body: bytes) -> bool:
    """Whether an ``application/x-www-form-urlencoded`` body names ``xoauth_requestor_id``,
    ``user_id`` or an ``oauth_*`` parameter (such a request must be refused, 400).

    A body that cannot be decoded (invalid percent-encoding, not UTF-8) counts as naming
    one: what Tomcat would make of it is not ours to guess.
    """
    try:
        return any(names_identity(name) for name, _ in parse_form(body))
    except OAuth1Error:
        return True


def new_nonce() -> str:
    """A random ``oauth_nonce`` (RFC 5849 §3.3): 128 bits, as 32 hex digits."""
    return secrets.token_hex(16)


class OAuth1Impersonation:
    """Signs upstream requests as a 2LOi consumer: the requestor in the query, the signature
    in ``Authorization: OAuth``.

    The private key is parsed once; the constant header parameters are encoded once. The key
    is never shown (``repr`` names the consumer only).
    """

    __slots__ = ("_clock", "_key", "_nonce", "_prefix", "consumer_key", "requestor_parameter")

    def __init__(
        self,
        consumer_key: str,
        private_key_pem: str | bytes,
        requestor_parameter: RequestorParameter = "xoauth_requestor_id",
        *,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = new_nonce,
    ) -> None:
        if not consumer_key:
            raise ValueError("the consumer key is empty")
        if requestor_parameter not in IDENTITY_PARAMETERS:
            raise ValueError("requestor_parameter must be xoauth_requestor_id or user_id")
        self.consumer_key = consumer_key
        self.requestor_parameter: RequestorParameter = requestor_parameter
        self._key = load_rsa_private_key(private_key_pem)
        self._clock = clock
        self._nonce = nonce
        self._prefix = (
            f'OAuth oauth_consumer_key="{percent_encode(consumer_key)}", oauth_token="", '
            'oauth_signature_method="RSA-SHA1", '
        )

    @classmethod
    def from_settings(
        cls, settings: UpstreamSettings, clock: Callable[[], float] = time.time
    ) -> OAuth1Impersonation:
        """The signer ``[upstream]`` with ``identity = "oauth1_impersonation"`` describes."""
        pem = settings.private_key_pem()
        if not settings.consumer_key or pem is None:
            raise ValueError("oauth1_impersonation needs consumer_key and a private key")
        return cls(settings.consumer_key, pem, settings.requestor_parameter, clock=clock)

    def __repr__(self) -> str:  # never show the key
        return (
            f"OAuth1Impersonation(consumer_key={self.consumer_key!r}, "
            f"requestor_parameter={self.requestor_parameter!r})"
        )

    def requestor_query(self, query: bytes, username: str) -> bytes:
        """The query to send upstream: ``query`` (raw, without ``?``) with every
        ``xoauth_requestor_id``, ``user_id`` and ``oauth_*`` parameter removed, the rest byte
        for byte, then ``<requestor_parameter>=<username>`` (encoded per RFC 5849 §3.6).

        Raises :class:`~jiraguard.oauth1.OAuth1Error` when the query cannot be decoded
        (invalid percent-encoding, not UTF-8): it could not be signed as Jira reads it.
        """
        kept = []
        for segment in query.split(b"&") if query else []:
            name, _, value = segment.partition(b"=")
            decoded = percent_decode(name, plus_is_space=True)
            percent_decode(value, plus_is_space=True)  # the signature covers it: must decode
            if not names_identity(decoded):
                kept.append(segment)
        kept.append(f"{self.requestor_parameter}={percent_encode(username)}".encode("ascii"))
        return b"&".join(kept)

    def authorization(self, method: str, url: str, form_body: bytes | None) -> bytes:
        """The ``Authorization`` value for the request exactly as Jira will see it.

        ``url`` is the absolute upstream URL with the final query (from
        :meth:`requestor_query`); ``form_body`` the raw body when the content type is
        ``application/x-www-form-urlencoded``, else None (RFC 5849 §3.4.1.3.1). The header
        carries ``oauth_consumer_key``, an empty ``oauth_token``, ``oauth_signature_method``
        ``RSA-SHA1``, ``oauth_timestamp``, ``oauth_nonce``, ``oauth_version`` ``1.0`` and
        ``oauth_signature`` (§3.4.3). :class:`~jiraguard.oauth1.OAuth1Error` when the URL,
        the query or the body cannot be read.
        """
        scheme, authority, path, query = split_url(url)
        timestamp = str(int(self._clock()))
        nonce = self._nonce()
        params = [
            ("oauth_consumer_key", self.consumer_key),
            ("oauth_token", ""),
            ("oauth_signature_method", "RSA-SHA1"),
            ("oauth_timestamp", timestamp),
            ("oauth_nonce", nonce),
            ("oauth_version", "1.0"),
        ]
        params += parse_form(query)
        if form_body is not None:
            params += parse_form(form_body)
        base = signature_base_string(method, base_string_uri(scheme, authority, path), params)
        signature = sign_rsa_sha1(self._key, base)
        return (
            f'{self._prefix}oauth_timestamp="{timestamp}", '
            f'oauth_nonce="{percent_encode(nonce)}", oauth_version="1.0", '
            f'oauth_signature="{percent_encode(signature)}"'
        ).encode("ascii")
