"""Configuration as code: the managed sections exported to and imported from TOML.

Export writes what is in force (file, saved document and environment composed) for the
sections the UI manages, secrets left out and listed in a comment as "set". Import validates
the whole document like the file (nothing is saved when anything is wrong), replaces the
sections it contains, and keeps the stored secret of a provider of the same name when the
imported provider leaves its secret out, so an exported file can be imported back as it is.
"""

from __future__ import annotations

import json
import tomllib
from typing import Any

import tomli_w
from pydantic import BaseModel
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from jiraguard.admin.common import services
from jiraguard.admin.ui.editing import editable
from jiraguard.admin.ui.render import page, secure_headers
from jiraguard.admin.ui.session import PREFIX, AdminUser, admin_form, admin_page, client_ip
from jiraguard.config_store import MANAGED_SECTIONS
from jiraguard.settings import ConfigError, Settings

SECRETS = ("client_secret", "hmac_secret")
MAX_TOML = 1024 * 1024


def _plain(value: Any) -> Any:
    """JSON-mode data without None (TOML has no null: an absent key means the default)."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", exclude_unset=True)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def export_toml(settings: Settings) -> str:
    """The managed sections in force as TOML, secrets left out (named in the header)."""
    data: dict[str, Any] = {}
    set_secrets: list[str] = []
    for section in MANAGED_SECTIONS:
        value = getattr(settings, section)
        if section == "providers":
            providers = []
            for provider in value:
                entry = _plain(provider)
                for key in SECRETS:
                    if entry.pop(key, None) is not None:
                        set_secrets.append(f"providers.{provider.name}.{key}")
                providers.append(entry)
            data[section] = providers
        else:
            data[section] = _plain(value)
    header = [
        "# jiraguard: the sections the admin UI manages, as in force when exported.",
        "# Secrets are left out; importing this file keeps the stored ones.",
        *(f"# {name} is set" for name in set_secrets),
    ]
    return "\n".join(header) + "\n\n" + tomli_w.dumps(data)


async def imported_overlay(request: Request, text: str) -> dict[str, Any]:
    """The saved document ``text`` makes: ConfigError for TOML or sections it may not set."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"TOML: {exc}"]) from exc
    try:
        json.dumps(data)
    except TypeError as exc:
        raise ConfigError(["TOML: dates and times are not configuration values"]) from exc
    stray = [s for s in data if s not in MANAGED_SECTIONS]
    if stray:
        raise ConfigError(
            [f"{s}: cannot be imported (only {', '.join(MANAGED_SECTIONS)})" for s in stray]
        )
    providers = data.get("providers")
    if isinstance(providers, list):
        stored = {
            str(p.get("name", "")).lower(): p
            for p in await editable(request, "providers")
            if isinstance(p, dict)
        }
        for provider in providers:
            if not isinstance(provider, dict):
                continue
            before = stored.get(str(provider.get("name", "")).lower(), {})
            for key in SECRETS:
                if key not in provider and before.get(key):
                    provider[key] = before[key]
    overlay = await services(request).config.overlay()
    overlay.update(data)
    return overlay


@admin_page
async def config_page(request: Request, admin: AdminUser) -> Response:
    return page(request, "config.html", {"saved": request.query_params.get("saved")})


@admin_page
async def export(request: Request, admin: AdminUser) -> Response:
    response = Response(
        export_toml(services(request).settings),
        media_type="application/toml; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="jiraguard-managed.toml"'},
    )
    return secure_headers(response)


@admin_form
async def import_toml(request: Request, admin: AdminUser, form: FormData) -> Response:
    text = str(form.get("toml") or "")
    try:
        if len(text) > MAX_TOML:
            raise ConfigError([f"TOML: larger than {MAX_TOML} bytes"])
        overlay = await imported_overlay(request, text)
        await services(request).config.save(
            overlay, actor=admin.username, client=client_ip(request)
        )
    except ConfigError as exc:
        return page(request, "config.html", {"problems": exc.problems}, 400)
    return secure_headers(RedirectResponse(f"{PREFIX}/config?saved=1", 303))
