"""Browser login with the provider itself: OpenID Connect authorization code flow with PKCE.

``GET /admin/login/oidc`` sends the browser to the provider (``state``, ``nonce`` and a
S256 ``code_challenge``, RFC 7636); ``GET /admin/login/callback`` checks ``state``, redeems
the code with the verifier, and validates the ID token with the same JWT validator as access
tokens (keys from the provider's JWKS, algorithm allow-list, ``iss``, ``aud`` = the admin
client, ``exp``), plus its ``nonce``. The user is found with the provider's username
attribute; the directory decides whether they are an administrator. The per-login values live
in a short-lived HttpOnly cookie, so any process can finish a login another one started.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from jiraguard.admin.common import provider_client, services
from jiraguard.admin.ui.login import audit_login, safe_next
from jiraguard.admin.ui.render import PageError, error_page, page, secure_headers
from jiraguard.admin.ui.session import (
    PREFIX,
    cookie_secure,
    is_admin,
    set_session_cookie,
    settings,
    start_session,
)
from jiraguard.auth.discovery import ProviderMetadata
from jiraguard.auth.errors import InvalidToken, ProviderUnavailable
from jiraguard.auth.identity import IdentityMapper
from jiraguard.auth.provider_http import call
from jiraguard.auth.router import build_validator
from jiraguard.settings import ProviderSettings
from jiraguard.untrusted import base64url, load_json

COOKIE = "jiraguard_oidc"
CALLBACK = f"{PREFIX}/login/callback"
LOGIN_TTL = 600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def login_provider(request: Request) -> ProviderSettings | None:
    name = settings(request).admin.login_provider
    if name is None:
        return None
    return next((p for p in settings(request).providers if p.name.lower() == name.lower()), None)


def redirect_uri(request: Request) -> str:
    return settings(request).server.public_url + CALLBACK


async def start(request: Request) -> Response:
    provider = login_provider(request)
    if provider is None:
        return error_page(request, 404, "Browser login with a provider is not configured.")
    admin = settings(request).admin
    try:
        document = await ProviderMetadata(provider, provider_client(request, provider)).document()
    except ProviderUnavailable as exc:
        return error_page(request, 503, f"{provider.name} cannot be reached: {exc.description}")
    endpoint = document.get("authorization_endpoint")
    if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
        return error_page(request, 503, f"{provider.name} names no authorization endpoint.")
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    scopes = ["openid", *(s for s in admin.scopes if s != "openid")]
    query = {
        "response_type": "code",
        "client_id": admin.client_id or "",
        "redirect_uri": redirect_uri(request),
        "scope": " ".join(scopes),
        "state": state,
        "nonce": nonce,
        "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()),
        "code_challenge_method": "S256",
    }
    target = endpoint + ("&" if "?" in endpoint else "?") + urlencode(query)
    response = secure_headers(RedirectResponse(target, status_code=303))
    pending = {"state": state, "nonce": nonce, "verifier": verifier,
               "next": safe_next(request.query_params.get("next"))}  # fmt: skip
    response.set_cookie(
        COOKIE,
        _b64(json.dumps(pending).encode()),
        max_age=LOGIN_TTL,
        path=CALLBACK,
        secure=cookie_secure(request),
        httponly=True,
        # Lax, not Strict: the provider sends the browser back with a cross-site navigation.
        samesite="lax",
    )
    return response


def _pending(request: Request) -> dict[str, str]:
    raw = request.cookies.get(COOKIE, "")
    try:
        data = load_json(base64url(raw), max_bytes=4096)
    except ValueError:  # binascii.Error and UntrustedInput (too deep, too large) included
        data = None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), str) for k in ("state", "nonce", "verifier", "next")
    ):
        raise PageError(403, "The login was not started here or took too long. Try again.")
    return data


async def _id_token(request: Request, provider: ProviderSettings, code: str, verifier: str) -> str:
    admin = settings(request).admin
    http = provider_client(request, provider)
    endpoint = await ProviderMetadata(provider, http).endpoint("token_endpoint")
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": redirect_uri(request), "code_verifier": verifier}  # fmt: skip
    options: dict[str, Any] = {}
    if admin.client_secret is not None:
        options["auth"] = (admin.client_id or "", admin.client_secret.get_secret_value())
    else:
        form["client_id"] = admin.client_id or ""
    answer = await call(http, "POST", endpoint, "the token endpoint", data=form, **options)
    body = answer.json_object("the token endpoint")
    if answer.status_code != 200:
        raise InvalidToken(
            f"the provider refused the code ({body.get('error', answer.status_code)})"
        )
    token = body.get("id_token")
    if not isinstance(token, str):
        raise InvalidToken("the provider sent no ID token (is 'openid' among the scopes?)")
    return token


async def callback(request: Request) -> Response:
    provider = login_provider(request)
    try:
        if provider is None:
            raise PageError(404, "Browser login with a provider is not configured.")
        pending = _pending(request)
        state = request.query_params.get("state", "")
        if not hmac.compare_digest(pending["state"].encode(), state.encode()):
            raise PageError(403, "The login's state does not match. Try again.")
        error = request.query_params.get("error")
        if error:
            raise PageError(401, f"{provider.name} did not log you in ({error[:100]}).")
        code = request.query_params.get("code", "")
        if not code or len(code) > 4096:
            raise PageError(400, "The provider sent no authorization code.")
        id_token = await _id_token(request, provider, code, pending["verifier"])
        admin = settings(request).admin
        checker = provider.model_copy(
            update={
                "method": "jwt",
                "audience": [admin.client_id],
                "verify_audience": True,
                "allowed_client_ids": [],
                "token_type": None,
                "required_claims": ["exp", "iat"],
            }
        )
        validated = await build_validator(
            checker, settings(request).auth, provider_client(request, checker)
        ).validate(id_token)
        nonce = validated.claims.get("nonce")
        if not isinstance(nonce, str) or not hmac.compare_digest(nonce, pending["nonce"]):
            raise InvalidToken("the ID token's nonce does not match this login")
        principal = await IdentityMapper(services(request).users, create_users=False).principal(
            validated
        )
    except PageError as exc:
        audit_login(request, "", False, exc.status, f"admin login failed: {exc.message}", "oidc")
        return _clear(error_page(request, exc.status, exc.message))
    except (InvalidToken, ProviderUnavailable) as exc:
        status = 503 if isinstance(exc, ProviderUnavailable) else 401
        reason = f"admin login with {provider.name if provider else '-'} failed: {exc.description}"
        audit_login(request, "", False, status, reason, "oidc")
        return _clear(error_page(request, status, f"Login failed: {exc.description}"))
    user = await services(request).users.get(principal.username)
    if user is None or not is_admin(user, settings(request).admin):
        reason = "admin login refused: not an administrator"
        audit_login(request, principal.username, False, 403, reason, provider.name)
        message = f"{principal.username} is not an administrator of jiraguard."
        return _clear(error_page(request, 403, message))
    new = await start_session(request, user.name, provider.name)
    audit_login(request, user.name, True, 200, f"admin login with {provider.name}", provider.name)
    # A page, not a redirect: the Strict session cookie is sent on the same-site navigation
    # this page starts, where a redirect inside the provider's cross-site one would lose it.
    response = page(request, "logged_in.html", {"next": pending["next"]})
    set_session_cookie(request, response, new)
    return _clear(response)


def _clear(response: Response) -> Response:
    response.delete_cookie(COOKIE, path=CALLBACK)
    return response
