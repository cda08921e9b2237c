"""``jiraguard user ...``: the local user directory."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from jiraguard.cli.common import ConfigOption, CreateDatabaseOption, columns, load, run_async
from jiraguard.settings import (
    Settings,
)

user_app = typer.Typer(help="Manage the local user directory.", no_args_is_help=True)


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
            "--password",
            help="Set a password for Basic auth and the admin UI (prompted, or read from stdin).",
        ),
    ] = False,
    config: ConfigOption = None,
    create_database: CreateDatabaseOption = False,
) -> None:
    """Add a user to the local directory."""
    from jiraguard.auth.authenticator import hash_password
    from jiraguard.store.db import Database
    from jiraguard.store.users import UserDirectory, UserExists

    settings = load(config, create_database=create_database)
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

    run_async(add())


@user_app.command("list")
def user_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
    config: ConfigOption = None,
    create_database: CreateDatabaseOption = False,
) -> None:
    """List the users in the local directory: name, key, e-mail, groups, state."""
    from jiraguard.store.db import Database
    from jiraguard.store.users import UserDirectory, UserRecord

    settings = load(config, create_database=create_database)

    async def read() -> list[UserRecord]:
        db = Database(settings.storage.url)
        try:
            return list(await UserDirectory(db).list())
        finally:
            await db.close()

    users = run_async(read())
    if as_json:
        rows = [
            {
                "name": u.name,
                "key": u.key,
                "displayName": u.display_name,
                "emailAddress": u.email,
                "groups": sorted(u.groups),
                "active": u.active,
                "admin": u.admin,
            }
            for u in users
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    table = [["NAME", "KEY", "EMAIL", "GROUPS", "STATE"]]
    for user in users:
        state = ("active" if user.active else "disabled") + (" admin" if user.admin else "")
        groups = ",".join(sorted(user.groups)) or "-"
        table.append([user.name, user.key, user.email or "-", groups, state])
    if len(table) == 1:
        typer.echo("no users", err=True)
        return
    typer.echo(columns(table))


def _set_active(name: str, active: bool, config: Path | None, create_database: bool) -> None:
    from jiraguard.store.db import Database
    from jiraguard.store.users import UserDirectory

    settings = load(config, create_database=create_database)

    async def change() -> bool:
        db = Database(settings.storage.url)
        try:
            changed = await UserDirectory(db).set_active(name, active)
        finally:
            await db.close()
        if changed:
            await _wake_servers(settings)
        return changed

    if not run_async(change()):
        typer.echo(f"no user is named {name}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{'enabled' if active else 'disabled'} {name}")


async def _wake_servers(settings: Settings) -> None:
    """Tell running servers to read the change feed now (with Redis; they poll anyway)."""
    if settings.redis.url:
        from jiraguard.changes import wake
        from jiraguard.redis_client import make_redis

        redis = make_redis(settings.redis.url, settings.redis.socket_timeout)
        try:
            await wake(redis, settings.redis.key_prefix)
        finally:
            await redis.aclose()


@user_app.command("disable")
def user_disable(
    name: str, config: ConfigOption = None, create_database: CreateDatabaseOption = False
) -> None:
    """Disable a user: running servers refuse their tokens within a second."""
    _set_active(name, False, config, create_database)


@user_app.command("enable")
def user_enable(
    name: str, config: ConfigOption = None, create_database: CreateDatabaseOption = False
) -> None:
    """Enable a disabled user."""
    _set_active(name, True, config, create_database)
