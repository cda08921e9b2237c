"""The ``jiraguard`` command line."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from jiraguard.settings import ConfigError, Settings, load_settings

T = TypeVar("T")

app = typer.Typer(
    help="Authenticate Jira's REST API with access tokens from any OAuth 2.0 / OIDC provider.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
user_app = typer.Typer(help="Manage the local user directory.", no_args_is_help=True)
config_app = typer.Typer(help="Check and show the configuration.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(config_app, name="config")

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


def _settings(config: Path | None) -> Settings:
    try:
        return load_settings(config, environ=None)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def _migrate(settings: Settings) -> None:
    from jiraguard.store.db import run_migrations

    run_migrations(settings.storage.url)


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Override server.host.")] = None,
    port: Annotated[int | None, typer.Option(help="Override server.port.")] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Run the server (embedded Jira REST API v2 on the configured database)."""
    import uvicorn

    from jiraguard.app import create_app

    settings = _settings(config)
    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    if overrides:
        settings = settings.model_copy(
            update={"server": settings.server.model_copy(update=overrides)}
        )
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    _migrate(settings)
    if not settings.providers:
        logging.getLogger("jiraguard").warning(
            "no [[providers]] configured: every /rest/ request will get 401 until you add one"
        )
    uvicorn.run(
        create_app(settings),
        host=settings.server.host,
        port=settings.server.port,
        access_log=False,  # the access log would print query strings; ours never prints tokens
        log_level=log_level.lower(),
        server_header=False,
        proxy_headers=False,
    )


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="The Jira user name.")],
    email: Annotated[str, typer.Option("--email", help="E-mail address.")] = "",
    display_name: Annotated[str | None, typer.Option("--display-name")] = None,
    group: Annotated[list[str] | None, typer.Option("--group", help="Group (repeatable).")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an administrator.")] = False,
    password: Annotated[
        bool,
        typer.Option(
            "--password", help="Set a password for Basic auth (prompted, or read from stdin)."
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Add a user to the local directory."""
    from jiraguard.auth.authenticator import hash_password
    from jiraguard.store.db import Database
    from jiraguard.store.users import UserDirectory, UserExists

    settings = _settings(config)
    password_hash = None
    if password:
        if sys.stdin.isatty():
            secret = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            secret = sys.stdin.readline().rstrip("\n")
        if not secret:
            typer.echo("the password is empty", err=True)
            raise typer.Exit(2)
        password_hash = hash_password(secret)
    _migrate(settings)

    async def add() -> None:
        db = Database(settings.storage.url)
        try:
            user = await UserDirectory(db).add(
                name,
                display_name=display_name,
                email=email,
                groups=group or [],
                admin=admin,
                password_hash=password_hash,
            )
        except UserExists:
            typer.echo(f"a user named {name} exists already", err=True)
            raise typer.Exit(1) from None
        finally:
            await db.close()
        typer.echo(f"added {user.name} ({user.key})")

    _run(add())


@user_app.command("list")
def user_list(config: ConfigOption = None) -> None:
    """List the users in the local directory."""
    from jiraguard.store.db import Database
    from jiraguard.store.users import UserDirectory

    settings = _settings(config)
    _migrate(settings)

    async def show() -> None:
        db = Database(settings.storage.url)
        try:
            for user in await UserDirectory(db).list():
                state = "active" if user.active else "disabled"
                groups = ",".join(sorted(user.groups)) or "-"
                admin = " admin" if user.admin else ""
                typer.echo(
                    f"{user.name}\t{user.key}\t{user.email or '-'}\t{groups}\t{state}{admin}"
                )
        finally:
            await db.close()

    _run(show())


def _set_active(name: str, active: bool, config: Path | None) -> None:
    from jiraguard.store.db import Database
    from jiraguard.store.users import UserDirectory

    settings = _settings(config)
    _migrate(settings)

    async def change() -> bool:
        db = Database(settings.storage.url)
        try:
            return await UserDirectory(db).set_active(name, active)
        finally:
            await db.close()

    if not _run(change()):
        typer.echo(f"no user is named {name}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{'enabled' if active else 'disabled'} {name}")


@user_app.command("disable")
def user_disable(name: str, config: ConfigOption = None) -> None:
    """Disable a user: their tokens are refused once cached entries expire."""
    _set_active(name, False, config)


@user_app.command("enable")
def user_enable(name: str, config: ConfigOption = None) -> None:
    """Enable a disabled user."""
    _set_active(name, True, config)


@app.command("check-token")
def check_token(
    token: Annotated[
        str,
        typer.Argument(help="The access token, or - to read it from stdin (keeps it out of ps)."),
    ],
    config: ConfigOption = None,
) -> None:
    """Show which provider accepts a token, or why each rejects it, and the user it maps to.

    The token itself is never printed. Exit status: 0 accepted, 1 rejected, 3 undecided.
    """
    from jiraguard.auth.explain import explain

    if token == "-":  # noqa: S105 - "-" means stdin, not a password
        token = sys.stdin.readline().strip()
    settings = _settings(config)
    _migrate(settings)
    report = _run(explain(settings, token))
    typer.echo(json.dumps(report, indent=2, default=str))
    raise typer.Exit({"accepted": 0, "rejected": 1}.get(str(report["outcome"]), 3))


@config_app.command("check")
def config_check(config: ConfigOption = None) -> None:
    """Validate the configuration and report every problem at once."""
    settings = _settings(config)
    names = ", ".join(f"{p.name} ({p.method})" for p in settings.providers) or "none"
    typer.echo(f"configuration OK; providers: {names}")


@config_app.command("show")
def config_show(config: ConfigOption = None) -> None:
    """Print the effective configuration as JSON, secrets masked."""
    settings = _settings(config)
    data = settings.model_dump(mode="json")
    for provider in data["providers"]:
        for secret in ("client_secret", "hmac_secret"):
            if provider.get(secret):
                provider[secret] = "********"
    typer.echo(json.dumps(data, indent=2))


def main() -> None:
    app()
