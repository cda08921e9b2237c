"""Providers pages: list, add from a preset, edit, delete, enable/disable, discover.

Adding starts from a preset and asks only for that preset's parameters (``presets.PARAMETERS``),
the provider's name, audience and client; what the preset fills (method, issuer, endpoints,
username attribute) can be changed under "Change what the preset fills". Anything left empty
is filled by the preset or by discovery when the configuration is validated. Each value says
where the one in force comes from: the file, the admin UI, the environment (which wins over
what is saved here), the preset or the default (``config_store.provider_origins``).
"Discover" fetches the issuer's discovery document and fills the empty endpoints from it.
Client and HMAC secrets are write-only: the form never shows them, and an empty field keeps
the secret already set.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from jiraguard.admin.common import provider_client, services
from jiraguard.admin.ui.editing import editable, save_section, split_list
from jiraguard.admin.ui.render import PageError, page, secure_headers
from jiraguard.admin.ui.session import PREFIX, AdminUser, admin_form, admin_page
from jiraguard.auth.discovery import ProviderMetadata
from jiraguard.auth.errors import ProviderUnavailable
from jiraguard.config_store import provider_origins
from jiraguard.presets import PARAMETERS, TITLES
from jiraguard.settings import ENV_PREFIX, ConfigError, ProviderSettings, provider_key

TEXT_FIELDS = ("issuer", "jwks_uri", "introspection_endpoint", "userinfo_endpoint", "client_id")
LIST_FIELDS = ("audience", "username_attribute", "groups_attribute")
PARAMETER_FIELDS = tuple(sorted({p for params in PARAMETERS.values() for p in params}))
SECRETS = ("client_secret", "hmac_secret")
DISCOVERED = ("jwks_uri", "introspection_endpoint", "userinfo_endpoint")
METHODS = ("jwt", "introspection", "userinfo")
PRESET_FILLS = ("method", "issuer", "jwks_uri", "introspection_endpoint", "userinfo_endpoint",
                "username_attribute", "groups_attribute")  # fmt: skip
"""Fields a preset's form keeps folded away: the preset fills them (or they rarely matter)."""
SOURCES = {
    "file": "from the configuration file",
    "ui": "saved from the admin UI",
    "environment": "from the environment",
    "preset": "filled by the preset",
    "default": "the default",
}


async def _origins(request: Request) -> dict[str, dict[str, str]]:
    """Per provider in force, per key: where its value comes from."""
    shared = services(request)
    config = shared.config
    return provider_origins(
        config.file_data, await config.overlay(), config.environ, shared.settings.providers
    )


def _summary(fields: dict[str, str]) -> str:
    """A provider's sources in words: ``saved from the admin UI; client_secret from the
    environment``."""
    base = SOURCES.get(fields.get("name", "file"), SOURCES["file"])
    pinned = sorted(k for k, v in fields.items() if v == "environment" and k != "name")
    if pinned and base != SOURCES["environment"]:
        return f"{base}; {', '.join(pinned)} from the environment"
    return base


def _pinned(name: str, fields: dict[str, str]) -> dict[str, str]:
    """The keys the environment sets, each with the variable that does."""
    return {
        key: f"{ENV_PREFIX}PROVIDERS__{provider_key(name).upper()}__{key.upper()}"
        for key, origin in fields.items()
        if origin == "environment"
    }


def _find(providers: list[dict[str, Any]], name: str) -> int | None:
    return next(
        (i for i, p in enumerate(providers) if str(p.get("name", "")).lower() == name.lower()),
        None,
    )


def _shown(raw: dict[str, Any]) -> dict[str, Any]:
    """A provider's data for the form: lists joined, secrets replaced by whether they are set."""
    shown: dict[str, Any] = {k: v for k, v in raw.items() if k not in SECRETS}
    for key in LIST_FIELDS:
        value = raw.get(key)
        shown[key] = ", ".join(value) if isinstance(value, list) else (value or "")
    for key in SECRETS:
        shown[f"{key}_set"] = bool(raw.get(key))
    return shown


def _form_page(
    request: Request,
    provider: dict[str, Any],
    *,
    original: str = "",
    problems: list[str] | None = None,
    found: dict[str, str] | None = None,
    origins: dict[str, str] | None = None,
    heading: str = "Not saved:",
    status: int = 200,
) -> Response:
    preset = str(provider.get("preset") or "custom")
    fields = origins or {}
    overridden = [k for k in PRESET_FILLS if provider.get(k) not in (None, "")]
    return page(
        request,
        "provider_form.html",
        {
            "p": provider,
            "original": original,
            "preset": preset,
            "title": TITLES.get(preset, preset),
            "parameters": PARAMETERS.get(preset, ()),
            "methods": METHODS,
            "problems": problems or [],
            "heading": heading,
            "found": found,
            "origins": fields,
            "sources": SOURCES,
            "pinned": _pinned(original, fields) if original else {},
            "fold": preset != "custom",
            "unfolded": bool(found) or bool(problems) or bool(overridden),
        },
        status,
    )


@admin_page
async def providers_page(request: Request, admin: AdminUser) -> Response:
    current = services(request).settings.providers
    origins = await _origins(request)
    return page(
        request,
        "providers.html",
        {
            "providers": current,
            "titles": TITLES,
            "saved": request.query_params.get("saved"),
            "sources": {p.name: _summary(origins.get(p.name, {})) for p in current},
        },
    )


@admin_page
async def new_provider(request: Request, admin: AdminUser) -> Response:
    preset = request.query_params.get("preset", "custom")
    if preset not in PARAMETERS:
        raise PageError(404, "There is no such preset.")
    return _form_page(request, _shown({"preset": preset, "enabled": True}))


@admin_page
async def edit_provider(request: Request, admin: AdminUser) -> Response:
    providers = await editable(request, "providers")
    index = _find(providers, request.path_params["name"])
    if index is None:
        raise PageError(404, "There is no such provider.")
    raw = providers[index]
    name = str(raw.get("name", ""))
    origins = (await _origins(request)).get(name)
    return _form_page(request, _shown(raw), original=name, origins=origins)


def _from_form(form: FormData, before: dict[str, Any]) -> dict[str, Any]:
    """The provider the form describes, on top of what it was (keys the form lacks kept)."""
    preset = str(form.get("preset") or before.get("preset") or "custom")
    data = dict(before)
    data["name"] = str(form.get("name") or "").strip()
    data["preset"] = preset
    data["enabled"] = form.get("enabled") == "on"
    method = str(form.get("method") or "")
    if method in METHODS:
        data["method"] = method
    else:
        data.pop("method", None)
    for key in (*TEXT_FIELDS, *PARAMETER_FIELDS):
        if key in form:
            value = str(form.get(key) or "").strip()
            if value:
                data[key] = value
            else:
                data.pop(key, None)
    for key in LIST_FIELDS:
        if key in form:
            items = split_list(form.get(key))
            if items:
                data[key] = items
            else:
                data.pop(key, None)
    for key in SECRETS:
        value = str(form.get(key) or "")
        if value:
            data[key] = value  # write-only: an empty field keeps the secret already set
        if form.get(f"clear_{key}") == "on":
            data.pop(key, None)
    return data


@admin_form
async def save_provider(request: Request, admin: AdminUser, form: FormData) -> Response:
    original = str(form.get("original") or "")
    providers = await editable(request, "providers")
    index = _find(providers, original) if original else None
    if original and index is None:
        raise PageError(404, "The provider was deleted meanwhile.")
    before = providers[index] if index is not None else {}
    data = _from_form(form, before)
    if index is None:
        if _find(providers, data["name"]) is not None:
            problems = [f"providers: a provider named {data['name']!r} exists already"]
            return _form_page(request, _shown(data), problems=problems, status=400)
        providers.append(data)
    else:
        providers[index] = data
    try:
        await save_section(request, admin, "providers", providers)
    except ConfigError as exc:
        return _form_page(
            request, _shown(data), original=original, problems=exc.problems, status=400
        )
    return secure_headers(RedirectResponse(f"{PREFIX}/providers?saved={data['name']}", 303))


@admin_form
async def discover(request: Request, admin: AdminUser, form: FormData) -> Response:
    """Fill the form's empty endpoints from the issuer's discovery document (nothing saved)."""
    original = str(form.get("original") or "")
    providers = await editable(request, "providers")
    index = _find(providers, original) if original else None
    data = _from_form(form, providers[index] if index is not None else {})
    issuer = str(data.get("issuer") or "")
    problems: list[str] = []
    found: dict[str, str] = {}
    try:
        probe = ProviderSettings(
            name="discovery", method="userinfo", issuer=issuer or None, preset="custom"
        )
    except ValueError:
        probe = None
    if probe is None or not issuer.startswith(("https://", "http://")):
        problems.append("issuer: give the issuer URL (https://...) to discover its endpoints")
    else:
        try:
            document = await ProviderMetadata(probe, provider_client(request, probe)).document()
        except ProviderUnavailable as exc:
            problems.append(f"discovery: {exc.description}")
        else:
            for key in (*DISCOVERED, "token_endpoint", "authorization_endpoint"):
                value = document.get(key)
                if isinstance(value, str):
                    found[key] = value
                    if key in DISCOVERED and not data.get(key):
                        data[key] = value
    return _form_page(
        request,
        _shown(data),
        original=original,
        problems=problems,
        found=found,
        heading="Nothing was discovered (and nothing is saved until you save the form):",
        status=400 if problems else 200,
    )


async def _change(
    request: Request, admin: AdminUser, change: str, name: str, value: Any = None
) -> Response:
    providers = await editable(request, "providers")
    index = _find(providers, name)
    if index is None:
        raise PageError(404, "There is no such provider.")
    if change == "delete":
        providers.pop(index)
    elif change == "toggle":
        providers[index]["enabled"] = not providers[index].get("enabled", True)
    else:
        providers[index][change] = value
    try:
        await save_section(request, admin, "providers", providers)
    except ConfigError as exc:
        raise PageError(400, "Not saved: " + "; ".join(exc.problems)) from exc
    return secure_headers(RedirectResponse(f"{PREFIX}/providers?saved={name}", 303))


@admin_form
async def delete_provider(request: Request, admin: AdminUser, form: FormData) -> Response:
    return await _change(request, admin, "delete", request.path_params["name"])


@admin_form
async def toggle_provider(request: Request, admin: AdminUser, form: FormData) -> Response:
    return await _change(request, admin, "toggle", request.path_params["name"])


@admin_form
async def pick_attribute(request: Request, admin: AdminUser, form: FormData) -> Response:
    """From the test page: use a field of a real response as the username or groups attribute."""
    path = str(form.get("path") or "").strip()
    attribute = form.get("attribute")
    if attribute not in ("username", "groups") or not path or len(path) > 255:
        raise PageError(400, "Pick a field and whether it is the username or the groups.")
    return await _change(
        request, admin, f"{attribute}_attribute", request.path_params["name"], [path]
    )
