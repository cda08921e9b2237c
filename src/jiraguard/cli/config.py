"""``jiraguard config ...``: check and show the configuration."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    pass

from jiraguard.cli.common import ConfigOption, load

config_app = typer.Typer(help="Check and show the configuration.", no_args_is_help=True)


@config_app.command("check")
def config_check(config: ConfigOption = None) -> None:
    """Validate the configuration and report every problem at once."""
    settings = load(config)
    names = ", ".join(f"{p.name} ({p.method})" for p in settings.providers) or "none"
    typer.echo(f"configuration OK; providers: {names}")
    for provider in settings.providers:
        for warning in provider.warnings:
            typer.echo(f"warning: {warning}")
    if settings.redis.url and settings.redis.cache_key is None:
        typer.echo(
            "warning: redis.cache_key is not set: shared cache entries are authenticated with "
            "a key derived from storage.url, as secret as that URL; set a random cache_key "
            "(the same in every process) so that nobody who can write to Redis can forge one"
        )


@config_app.command("show")
def config_show(config: ConfigOption = None) -> None:
    """Print the effective configuration as JSON, secrets masked."""
    settings = load(config)
    data = settings.model_dump(mode="json")  # secrets are SecretStr: dumped as asterisks
    typer.echo(json.dumps(data, indent=2))
