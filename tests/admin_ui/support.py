"""Driving the admin UI over HTTP: log in with a password, read a form's CSRF token."""

from __future__ import annotations

import re

import httpx

from jiraguard.auth.authenticator import hash_password

ADMIN_PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


def admin_options(password: str = ADMIN_PASSWORD, **extra: object) -> dict[str, object]:
    """``UserDirectory.add`` options for a local administrator with a password."""
    return {"admin": True, "password_hash": hash_password(password), **extra}


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


async def login(
    client: httpx.AsyncClient, username: str, password: str = ADMIN_PASSWORD
) -> httpx.Response:
    """Log in through the login form (GET for its token, then POST); the answer to the POST."""
    form = await client.get("/admin/login")
    return await client.post(
        "/admin/login",
        data={"_csrf": csrf_of(form.text), "username": username, "password": password},
    )
