"""The configuration a running server uses: the file, what the admin UI saved, the environment.

Three sources, the later winning:

1. the TOML file (``--config`` / ``$JIRAGUARD_CONFIG``), re-read on ``SIGHUP``;
2. the document saved from the admin UI, kept in the database (table ``config_overlay``) so
   every process sees the same one; it may set only the sections in :data:`MANAGED_SECTIONS`.
   A list section (``providers``, ``rules``) replaces the file's list as a whole; a table
   section (``auth``, ``rate_limits``) is merged key by key, nested tables too;
3. ``JIRAGUARD_SECTION__KEY`` environment variables (deployment secrets and pins).

Every composition is validated by the same code as the file alone (:func:`validate_settings`),
so what the UI saves can never be a configuration the file could not be. Saving records a
``config`` change in the feed (:mod:`jiraguard.changes`): every process reloads within
``server.changes_poll_interval`` (at once with Redis). Sections outside the managed ones
(server, storage, redis, ...) change only with the file and a restart.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr
from sqlalchemy import select

from jiraguard import changes
from jiraguard.settings import (
    ENV_PREFIX,
    ConfigError,
    ProviderSettings,
    Settings,
    apply_environment,
    environment_entries,
    environment_paths,
    provider_key,
    read_config_file,
    validate_settings,
)
from jiraguard.store.audit import add_event
from jiraguard.store.db import Database
from jiraguard.store.models import ConfigOverlay

log = logging.getLogger(__name__)

MANAGED_SECTIONS = ("providers", "auth", "rules", "rate_limits")
_ROW = 1

FILE, UI, ENVIRONMENT, PRESET, DEFAULT = "file", "ui", "environment", "preset", "default"
"""Where a value came from (see :func:`provider_origins`)."""


def settings_data(settings: Settings) -> dict[str, Any]:
    """The data ``settings`` were validated from, as far as it was given (unset defaults left
    out), secrets in the clear: what :func:`validate_settings` turns back into ``settings``."""
    data: dict[str, Any] = _reveal(settings)
    return data


def _reveal(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, BaseModel):
        return _reveal(value.model_dump(exclude_unset=True, mode="python", round_trip=True))
    if isinstance(value, dict):
        return {k: _reveal(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_reveal(v) for v in value]
    return value


def merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """``overlay`` laid over ``base``: tables merged key by key, anything else replaced."""
    out = copy.deepcopy(dict(base))
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def check_overlay(overlay: Mapping[str, Any]) -> None:
    """ConfigError unless ``overlay`` sets managed sections only, each of the right shape."""
    problems = []
    for section, value in overlay.items():
        if section not in MANAGED_SECTIONS:
            problems.append(
                f"{section}: cannot be set from the admin UI (only "
                f"{', '.join(MANAGED_SECTIONS)}); set it in the configuration file"
            )
        elif section in ("providers", "rules") and not isinstance(value, list):
            problems.append(f"{section}: must be a list")
        elif section in ("auth", "rate_limits") and not isinstance(value, Mapping):
            problems.append(f"{section}: must be a table")
    if problems:
        raise ConfigError(problems)


def _ui_only_overrides(
    file_data: Mapping[str, Any], overlay: Mapping[str, Any], environ: Mapping[str, str]
) -> list[str]:
    """Environment variables addressing a provider that only the admin UI's document has:
    the UI may rename or delete it at any time, and the pin would then fail every process."""
    listed = overlay.get("providers")
    if not isinstance(listed, list):
        return []
    in_file = {
        provider_key(str(p.get("name", "")))
        for p in file_data.get("providers") or []
        if isinstance(p, Mapping)
    }
    in_ui = {
        provider_key(str(p.get("name", ""))): p.get("name")
        for p in listed
        if isinstance(p, Mapping)
    }
    problems = []
    for variable, path in environment_entries(environ):
        if path[0] == "providers" and len(path) > 2 and path[1] in in_ui.keys() - in_file:
            name = in_ui[path[1]]
            problems.append(
                f"{variable}: provider {name!r} is defined only in the admin UI's saved "
                "configuration; the environment overrides providers of the configuration "
                f"file only (define {name!r} in the file, or set the value in the admin UI)"
            )
    return problems


def compose(
    file_data: Mapping[str, Any], overlay: Mapping[str, Any], environ: Mapping[str, str]
) -> Settings:
    """The file, then the admin UI's ``overlay``, then the environment, validated as one (the
    server's composition, and every command's); ConfigError lists every problem.

    The file and the environment are validated first, alone: the server must be able to
    start without the UI's document, and what they get wrong is named as theirs."""
    check_overlay(overlay)
    ui_only = _ui_only_overrides(file_data, overlay, environ)
    if ui_only:
        raise ConfigError(ui_only)
    if overlay:
        try:
            validate_settings(apply_environment(copy.deepcopy(dict(file_data)), environ))
        except ConfigError as exc:
            raise ConfigError(
                [f"{problem} (in the file and environment alone)" for problem in exc.problems]
            ) from exc
    return validate_settings(apply_environment(merge(file_data, overlay), environ))


def provider_origins(
    file_data: Mapping[str, Any],
    overlay: Mapping[str, Any],
    environ: Mapping[str, str],
    providers: list[ProviderSettings],
) -> dict[str, dict[str, str]]:
    """Per provider name, per key: where its value came from. ``file`` or ``ui`` (the source
    whose list is in force: a list saved from the admin UI replaces the file's whole),
    ``environment`` (the whole list, or that key, set by a variable), ``preset`` (filled by
    the provider's preset) or ``default``. ``{}`` when the sources no longer compose."""
    whole_env = f"{ENV_PREFIX}PROVIDERS" in environ
    base = ENVIRONMENT if whole_env else UI if "providers" in overlay else FILE
    try:
        raw = apply_environment(merge(file_data, overlay), environ).get("providers") or []
    except ConfigError:
        return {}
    addressed = [p[1:] for p in environment_paths(environ) if p[0] == "providers" and len(p) > 2]
    out: dict[str, dict[str, str]] = {}
    for index, provider in enumerate(providers):
        given = raw[index] if index < len(raw) and isinstance(raw[index], Mapping) else {}
        from_env = {
            key
            for selector, key, *_ in addressed
            if selector in (provider_key(provider.name), str(index))
        }
        fields: dict[str, str] = {}
        for key in ProviderSettings.model_fields:
            if key in from_env:
                fields[key] = ENVIRONMENT
            elif key in given:
                fields[key] = base
            elif key in provider.model_fields_set:
                fields[key] = PRESET
            else:
                fields[key] = DEFAULT
        out[provider.name] = fields
    return out


class ConfigStore:
    """The three sources of one process's configuration, and the only way to save the UI's."""

    def __init__(
        self,
        db: Database,
        file_data: Mapping[str, Any],
        environ: Mapping[str, str],
        *,
        path: Path | None = None,
    ) -> None:
        """``file_data``: the file as read (without the environment); ``path``: where to
        re-read it from on :meth:`reread_file` (None: the data was given, not read)."""
        self.db = db
        self.file_data = dict(file_data)
        self.environ = dict(environ)
        self.path = path
        self.version = 0
        """Version of the saved document the current settings were composed with."""
        self.after_save: Callable[[], Awaitable[None]] | None = None
        """Called once a save is committed: the server announces the change and applies it
        in this process before :meth:`save` returns."""

    def reread_file(self) -> None:
        """Read the file again (``SIGHUP``); ConfigError leaves the old data in place."""
        if self.path is not None:
            self.file_data = read_config_file(self.path)

    async def overlay(self) -> dict[str, Any]:
        """The document saved from the admin UI (``{}`` when nothing was saved)."""
        return (await self._load())[0]

    async def document(self) -> tuple[dict[str, Any], int]:
        """The document saved from the admin UI and its version (``({}, 0)``: none saved)."""
        return await self._load()

    def compose(self, overlay: Mapping[str, Any]) -> Settings:
        """File, then ``overlay``, then the environment, validated; ConfigError otherwise."""
        return compose(self.file_data, overlay, self.environ)

    async def current(self) -> Settings:
        """The settings from all three sources as they are now (and remember the version)."""
        overlay, version = await self._load()
        settings = self.compose(overlay)
        self.version = version
        return settings

    async def save(
        self, overlay: Mapping[str, Any], *, actor: str, client: str | None = None
    ) -> Settings:
        """Validate ``overlay``, store it, audit it and announce it; returns the settings it
        makes. ConfigError (with every problem) when it is not valid: nothing is stored."""
        document = json.loads(json.dumps(dict(overlay)))  # JSON-ready, or TypeError here
        settings = self.compose(document)
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            row = await session.get(ConfigOverlay, _ROW, with_for_update=True)
            before = json.loads(row.document) if row is not None else {}
            if row is None:
                row = ConfigOverlay(id=_ROW, version=0, document="{}")
                session.add(row)
            row.version += 1
            row.document = json.dumps(document, sort_keys=True)
            row.updated_at = now
            row.updated_by = actor
            version = row.version
            changed = sorted(s for s in MANAGED_SECTIONS if before.get(s) != document.get(s))
            await add_event(
                session,
                {
                    "at": now,
                    "kind": "config",
                    "allowed": True,
                    "status": 200,
                    "reason": f"configuration version {version} saved by {actor}; changed: "
                    + (", ".join(changed) or "nothing"),
                    "method": "SAVE",
                    "path": "/admin/config",
                    "client_ip": client,
                    "username": actor,
                },
            )
            await changes.record(session, changes.CONFIG, str(version))
        log.info("configuration version %d saved by %s (%s)", version, actor, changed)
        if self.after_save is not None:
            await self.after_save()
        return settings

    async def _load(self) -> tuple[dict[str, Any], int]:
        async with self.db.session() as session:
            row = await session.scalar(select(ConfigOverlay).where(ConfigOverlay.id == _ROW))
        if row is None:
            return {}, 0
        document: dict[str, Any] = json.loads(row.document)
        return document, row.version
