"""``jiraguard token ...``: personal access tokens."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from jiraguard.settings import (
    Settings,
)

if TYPE_CHECKING:
    from jiraguard.auth.pat import PersonalAccessTokens
    from jiraguard.store.db import Database

from jiraguard.cli.common import ConfigOption, CreateDatabaseOption, columns, load, run_async

token_app = typer.Typer(help="Manage personal access tokens.", no_args_is_help=True)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "-"


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Argument(help="The token's owner (any user, service users too).")],
    name: Annotated[str, typer.Option("--name", help="A name to recognise the token by.")],
    days: Annotated[
        int | None, typer.Option("--days", help="Lifetime in days (tokens.default_lifetime_days).")
    ] = None,
    config: ConfigOption = None,
    create_database: CreateDatabaseOption = False,
) -> None:
    """Create a token for USER and print it once on stdout (details go to stderr)."""
    from jiraguard.auth.pat import CLI, CLI_ACTOR, NoSuchUser, TokenRequestError
    from jiraguard.store.db import Database

    settings = load(config, create_database=create_database)

    async def create() -> None:
        db = Database(settings.storage.url)
        try:
            issued = await _tokens(settings, db).create(
                user, name, days, actor=CLI_ACTOR, origin=CLI
            )
        except NoSuchUser:
            typer.echo(f"no user is named {user}", err=True)
            raise typer.Exit(1) from None
        except TokenRequestError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        finally:
            await db.close()
        record = issued.record
        typer.echo(
            f"created token {record.id} '{record.name}' for {record.username}, "
            f"expires {_when(record.expires_at)} (shown once, keep it safe):",
            err=True,
        )
        typer.echo(issued.raw)  # the deliberate one-time output

    run_async(create())


@token_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's tokens.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
    config: ConfigOption = None,
    create_database: CreateDatabaseOption = False,
) -> None:
    """List tokens that are not revoked: id, owner, name, created, expires, last used, state."""
    from jiraguard.store.db import Database
    from jiraguard.store.tokens import TokenRecord

    settings = load(config, create_database=create_database)

    async def read() -> list[TokenRecord]:
        db = Database(settings.storage.url)
        try:
            return list(await _tokens(settings, db).list(user))
        finally:
            await db.close()

    records = run_async(read())
    now = datetime.now(UTC)
    if as_json:
        rows = [
            {
                "id": r.id,
                "user": r.username,
                "name": r.name,
                "createdAt": _iso(r.created_at),
                "expiresAt": _iso(r.expires_at),
                "lastAccessedAt": _iso(r.last_accessed_at),
                "state": "active" if r.active_at(now) else "expired",
            }
            for r in records
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    table = [["ID", "USER", "NAME", "CREATED", "EXPIRES", "LAST USED", "STATE"]]
    for r in records:
        state = "active" if r.active_at(now) else "expired"
        table.append(
            [
                str(r.id),
                r.username,
                r.name,
                _when(r.created_at),
                _when(r.expires_at),
                _when(r.last_accessed_at),
                state,
            ]
        )
    if len(table) == 1:
        typer.echo("no tokens", err=True)
        return
    typer.echo(columns(table))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (see token list).")],
    config: ConfigOption = None,
    create_database: CreateDatabaseOption = False,
) -> None:
    """Revoke a token: the very next request with it gets 401."""
    from jiraguard.auth.pat import CLI, CLI_ACTOR
    from jiraguard.store.db import Database

    settings = load(config, create_database=create_database)

    async def revoke() -> bool:
        db = Database(settings.storage.url)
        try:
            found = await _tokens(settings, db).revoke(token_id, actor=CLI_ACTOR, origin=CLI)
        finally:
            await db.close()
        return found is not None

    if not run_async(revoke()):
        typer.echo(f"no live token has the id {token_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked token {token_id}")


def _tokens(settings: Settings, db: Database) -> PersonalAccessTokens:
    from jiraguard.auth.pat import PersonalAccessTokens

    return PersonalAccessTokens(db, settings.tokens, audit=settings.audit.enabled)
