"""``jiraguard config ...``: check and show the configuration in force."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from jiraguard.cli.common import ConfigOption, Loaded, load_config, run_async
from jiraguard.config_store import DEFAULT, ENVIRONMENT, FILE, UI, provider_origins
from jiraguard.settings import ENV_PREFIX, Settings, environment_paths

config_app = typer.Typer(help="Check and show the configuration.", no_args_is_help=True)


@config_app.command("check")
def config_check(
    config: ConfigOption = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Do not ask the providers (discovery, keys).")
    ] = False,
) -> None:
    """Validate the configuration (file < admin UI < environment) and report every problem;
    then, per enabled provider, what could be verified: discovery reachable, issuer equal to
    the discovery document's, signing keys present, endpoints known. Exit status 1 when a
    provider check failed."""
    loaded = load_config(config, storage="read")
    _database_note(loaded)
    names = ", ".join(f"{p.name} ({p.method})" for p in loaded.settings.providers) or "none"
    typer.echo(f"configuration OK; providers: {names}")
    for provider in loaded.settings.providers:
        for warning in provider.warnings:
            typer.echo(f"warning: {warning}")
    failed = False if offline else run_async(_verify_providers(loaded.settings))
    if loaded.settings.redis.url and loaded.settings.redis.cache_key is None:
        typer.echo(
            "warning: redis.cache_key is not set: shared cache entries are authenticated with "
            "a key derived from storage.url, as secret as that URL; set a random cache_key "
            "(the same in every process) so that nobody who can write to Redis can forge one"
        )
    if failed:
        raise typer.Exit(1)


async def _verify_providers(settings: Settings) -> bool:
    """Print what each enabled provider's checks found; True when one failed."""
    from jiraguard.auth.provider_http import ProviderClients
    from jiraguard.auth.verify import verify

    clients = ProviderClients(settings.auth.provider_timeout)
    failed = False
    try:
        for provider in settings.providers:
            if not provider.enabled:
                continue
            client = clients.for_provider(provider, settings.auth)
            for finding in await verify(provider, settings.auth, client):
                typer.echo(finding.line(provider.name))
                failed = failed or not finding.ok
    finally:
        await clients.aclose()
    return failed


@config_app.command("show")
def config_show(config: ConfigOption = None) -> None:
    """Print the configuration in force as JSON, secrets masked, with ``origins``: where each
    top-level key (each provider) came from: file, ui, environment or default."""
    loaded = load_config(config, storage="read")
    _database_note(loaded)
    data: dict[str, Any] = loaded.settings.model_dump(mode="json")  # secrets dumped as asterisks
    data["origins"] = origins(loaded)
    typer.echo(json.dumps(data, indent=2))


def _database_note(loaded: Loaded) -> None:
    if loaded.database != "ready":
        typer.echo(
            "jiraguard: no database yet, so no configuration saved from the admin UI: "
            "the file and the environment only",
            err=True,
        )


def origins(loaded: Loaded) -> dict[str, Any]:
    """Per top-level key, the sources that set it (``file+ui``: merged tables); per provider
    for ``providers``."""
    env_paths = environment_paths(loaded.environ)
    env_keys = {path[0] for path in env_paths}
    out: dict[str, Any] = {}
    for key in Settings.model_fields:
        if key == "providers":
            out[key] = _provider_origins(loaded)
            continue
        sources = []
        if key in loaded.file_data and key not in _replaced(loaded, key):
            sources.append(FILE)
        if key in loaded.overlay:
            sources.append(UI)
        if key in env_keys:
            sources.append(ENVIRONMENT)
        out[key] = "+".join(sources) or DEFAULT
    return out


def _replaced(loaded: Loaded, key: str) -> set[str]:
    """``{key}`` when a later source replaced the file's value whole (a list from the UI)."""
    if key in loaded.overlay and isinstance(loaded.overlay[key], list):
        return {key}
    if f"{ENV_PREFIX}{key.upper()}" in loaded.environ:
        return {key}
    return set()


def _provider_origins(loaded: Loaded) -> dict[str, str]:
    """Per provider, the sources of its values (``ui+environment``: a key set by a variable)."""
    by_key = provider_origins(
        loaded.file_data, loaded.overlay, loaded.environ, loaded.settings.providers
    )
    out = {}
    for provider in loaded.settings.providers:
        fields = by_key.get(provider.name, {})
        base = fields.get("name", FILE)
        sources = [base]
        if base != ENVIRONMENT and ENVIRONMENT in fields.values():
            sources.append(ENVIRONMENT)
        out[provider.name] = "+".join(sources)
    return out
