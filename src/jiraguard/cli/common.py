"""What every command shares: the configuration option, settings, the event loop, migrations."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from jiraguard.settings import (
    ConfigError,
    Settings,
    load_settings,
)

if TYPE_CHECKING:
    pass


T = TypeVar("T")

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        envvar="JIRAGUARD_CONFIG",
        help="TOML configuration file.",
        show_default=False,
    ),
]


def load(config: Path | None) -> Settings:
    try:
        return load_settings(config, environ=None)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def migrate(settings: Settings) -> None:
    from jiraguard.store.db import run_migrations

    run_migrations(settings.storage.url)
