"""Tokens page: every personal access token (owner, name, dates), revoke, create for a user.

A created token is shown once, on the answer to the POST (``Cache-Control: no-store``), and
never again; the store keeps its SHA-256 only.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from jiraguard.admin.common import services
from jiraguard.admin.ui.render import PageError, page, secure_headers
from jiraguard.admin.ui.session import PREFIX, AdminUser, admin_form, admin_page, origin
from jiraguard.auth.pat import NoSuchUser, TokenRequestError

MAX_ID = 2**31 - 1


async def _render(request: Request, context: dict[str, object], status: int = 200) -> Response:
    tokens = services(request).tokens
    if not services(request).settings.tokens.enabled:
        raise PageError(403, "Personal access tokens are disabled (tokens.enabled = false).")
    records = await tokens.list(None)
    return page(request, "tokens.html", {"tokens": records, **context}, status)


@admin_page
async def tokens_page(request: Request, admin: AdminUser) -> Response:
    return await _render(request, {})


def _days(value: object) -> int | None:
    text = str(value or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        raise TokenRequestError("The lifetime must be a whole number of days.")
    return int(text)


@admin_form
async def create_token(request: Request, admin: AdminUser, form: FormData) -> Response:
    owner = str(form.get("owner") or "").strip()
    name = str(form.get("name") or "")
    try:
        if not owner:
            raise TokenRequestError("Name the user the token is for.")
        issued = await services(request).tokens.create(
            owner, name, _days(form.get("days")), actor=admin.username, origin=origin(request)
        )
    except TokenRequestError as exc:
        return await _render(request, {"error": str(exc), "owner": owner, "name": name}, 400)
    except NoSuchUser:
        return await _render(
            request, {"error": f"There is no user {owner!r}.", "owner": owner, "name": name}, 400
        )
    return await _render(request, {"issued": issued}, 201)


@admin_form
async def revoke_token(request: Request, admin: AdminUser, form: FormData) -> Response:
    raw_id = request.path_params["token_id"]
    if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 10 or int(raw_id) > MAX_ID:
        raise PageError(404, "The personal access token does not exist.")
    revoked = await services(request).tokens.revoke(
        int(raw_id), actor=admin.username, origin=origin(request)
    )
    if revoked is None:
        raise PageError(404, "The personal access token does not exist or is revoked already.")
    return secure_headers(RedirectResponse(f"{PREFIX}/tokens?revoked={revoked.id}", 303))
