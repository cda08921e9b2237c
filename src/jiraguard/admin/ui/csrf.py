"""Cross-site request forgery protection for every form the admin UI accepts.

Each session has a random token (stored with the session); every POST must carry it in the
``_csrf`` field, compared in constant time. The login form, posted before there is a session,
uses a double-submit cookie instead. Cookies are ``SameSite=Strict`` on top of that.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.datastructures import FormData
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from jiraguard.admin.ui.render import PageError
from jiraguard.untrusted import is_digits

FIELD = "_csrf"
LOGIN_COOKIE = "jiraguard_login_csrf"
MAX_FIELDS = 200


def new_token() -> str:
    return secrets.token_urlsafe(32)


def matches(expected: str | None, given: object) -> bool:
    if not expected or not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


async def read_form(request: Request) -> FormData:
    """The posted form (URL-encoded or multipart, no files); PageError(400) when malformed."""
    limit = request.app.state.services.settings.server.max_body_bytes
    length = request.headers.get("content-length", "")
    if is_digits(length) and (len(length) > 18 or int(length) > limit):
        raise PageError(413, "The form is too large.")
    try:
        return await request.form(max_files=0, max_fields=MAX_FIELDS)
    except (MultiPartException, ValueError, UnicodeDecodeError) as exc:
        raise PageError(400, "The form could not be read.") from exc


async def checked_form(request: Request, expected: str | None) -> FormData:
    """The posted form, once its ``_csrf`` field matches ``expected``; PageError(403) if not."""
    form = await read_form(request)
    if not matches(expected, form.get(FIELD)):
        raise PageError(403, "The form is out of date or was not sent by this site. Reload it.")
    return form
