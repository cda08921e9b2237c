"""Header rules, table by table: hop-by-hop names (RFC 9110 §7.6.1), query tokens (RFC 6750
§2.3), and the context-path mapping of ``Location`` (RFC 9110 §10.2.2) and cookie ``Path``
(RFC 6265 §5.2.4)."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiraguard.proxy.headers import (
    HOP_BY_HOP,
    ContextPath,
    connection_options,
    without_access_token,
)

PUBLIC = "https://jira.example.com"


def test_connection_options_are_hop_by_hop() -> None:
    """RFC 9110 §7.6.1: the fields a Connection header names are removed too."""
    headers = [(b"connection", b"Keep-Alive, X-Private ,close"), (b"x-other", b"1")]
    assert connection_options(headers) == {b"keep-alive", b"x-private", b"close"}
    assert b"keep-alive" in HOP_BY_HOP


_names = st.sampled_from(
    [b"connection", b"Connection", b"CONNECTION", b"connectio", b"connections", b"user-agent",
     b"set-cookie", b"keep-alive", b"host"]
) | st.binary(max_size=12)  # fmt: skip


@given(st.lists(st.tuples(_names, st.binary(max_size=20)), max_size=6))
def test_connection_options_are_every_connection_headers_names(
    headers: list[tuple[bytes, bytes]],
) -> None:
    """Any case, any number of Connection headers, whatever else the message carries: the
    names listed, as the plain definition reads them."""
    listed = {
        option.strip().lower()
        for name, value in headers
        if name.lower() == b"connection"
        for option in value.split(b",")
    }
    assert connection_options(headers) == listed


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"a=1&access_token=t&b=2", b"a=1&b=2"),
        (b"access_token=t", b""),
        (b"access%5Ftoken=t&a=%20", b"a=%20"),
        (b"a=access_token", b"a=access_token"),
        (b"jql=project%3DX", b"jql=project%3DX"),
    ],
)
def test_access_token_is_removed_from_the_query(query: bytes, expected: bytes) -> None:
    assert without_access_token(query) == expected


@pytest.mark.parametrize(
    ("upstream", "location", "expected"),
    [
        ("http://jira:8080/jira", "http://jira:8080/jira/login.jsp?x=1", f"{PUBLIC}/login.jsp?x=1"),
        ("http://jira:8080/jira", "HTTP://JIRA:8080/jira", f"{PUBLIC}/"),
        ("http://jira:8080/jira", "/jira/secure/Dashboard.jspa", "/secure/Dashboard.jspa"),
        ("http://jira:8080/jira", "/jiraother/x", "/jiraother/x"),
        ("http://jira:8080/jira", "https://sso.example.com/login", "https://sso.example.com/login"),
        ("http://jira/", "http://jira:80/browse/ABC-1", f"{PUBLIC}/browse/ABC-1"),
        ("http://jira/", "http://jira/browse/ABC-1", f"{PUBLIC}/browse/ABC-1"),
        ("http://jira:8080/", "http://jira:80/x", "http://jira:80/x"),
        ("http://jira:8080/", "//evil.example/x", "//evil.example/x"),
        ("http://jira:8080/jira", "relative/path", "relative/path"),
    ],
)
def test_location_mapping(upstream: str, location: str, expected: str) -> None:
    assert ContextPath(httpx.URL(upstream)).location(location, PUBLIC) == expected


@pytest.mark.parametrize(
    ("cookie", "expected"),
    [
        ("JSESSIONID=1; Path=/jira; HttpOnly", "JSESSIONID=1; Path=/; HttpOnly"),
        ("a=1; path=/jira/secure", "a=1; Path=/secure"),
        ("a=1; Path=/other", "a=1; Path=/other"),
        ("a=1; Domain=jira; Secure", "a=1; Domain=jira; Secure"),
        ("a=b=c; Path=/jira", "a=b=c; Path=/"),
    ],
)
def test_cookie_path_mapping(cookie: str, expected: str) -> None:
    assert ContextPath(httpx.URL("http://jira:8080/jira/")).set_cookie(cookie) == expected


def test_root_context_leaves_cookies_alone() -> None:
    assert ContextPath(httpx.URL("http://jira:8080")).set_cookie("a=1; Path=/x") == "a=1; Path=/x"
