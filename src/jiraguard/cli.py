"""The ``jiraguard`` command line."""

from __future__ import annotations

import asyncio
import json
import logging
import logging.config
import os
import re
import sys
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from jiraguard.settings import (
    ENV_CONFIG_PATH,
    ENV_PREFIX,
    ConfigError,
    Settings,
    load_settings,
)

if TYPE_CHECKING:
    from jiraguard.auth.pat import PersonalAccessTokens
    from jiraguard.store.db import Database

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
token_app = typer.Typer(help="Manage personal access tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")

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
    workers: Annotated[
        int | None, typer.Option(help="Override server.workers: worker processes.")
    ] = None,
    log_level: Annotated[
        str | None, typer.Option(help="Override logging.level: debug, info, warning or error.")
    ] = None,
    log_format: Annotated[
        str | None, typer.Option(help="Override logging.format: auto, json or text.")
    ] = None,
) -> None:
    """Run the server (embedded Jira REST API v2 on the configured database).

    Migrations and the first-start bootstrap run here, once, before any worker starts.
    SIGTERM or SIGINT stops accepting connections and lets in-flight requests finish
    (``server.shutdown_timeout``).
    """
    import uvicorn

    from jiraguard.logs import logging_config, resolve_format

    # The workers build their app from the environment (jiraguard.app.app_from_environment):
    # the overrides go there as settings variables, so every process reads the same settings.
    overrides = {
        "SERVER__HOST": host,
        "SERVER__PORT": port,
        "SERVER__WORKERS": workers,
        "LOGGING__LEVEL": log_level.lower() if log_level else None,
        "LOGGING__FORMAT": log_format.lower() if log_format else None,
    }
    for key, value in overrides.items():
        if value is not None:
            os.environ[ENV_PREFIX + key] = json.dumps(value)
    if config is not None:
        os.environ[ENV_CONFIG_PATH] = str(config.resolve())
    settings = _settings(config)
    log_config = logging_config(resolve_format(settings.logging.format), settings.logging.level)
    logging.config.dictConfig(log_config)
    _migrate(settings)
    _bootstrap(settings)
    if not settings.providers and settings.tokens.enabled:
        logging.getLogger("jiraguard").warning(
            "no [[providers]] configured: only personal access tokens are accepted "
            "(jiraguard token create USER --name NAME)"
        )
    uvicorn.run(
        "jiraguard.app:app_from_environment",
        factory=True,
        workers=settings.server.workers,
        host=settings.server.host,
        port=settings.server.port,
        access_log=False,  # the access log would print query strings; ours never prints tokens
        log_config=log_config,
        log_level=settings.logging.level,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=settings.server.shutdown_timeout,
    )


def _bootstrap(settings: Settings) -> None:
    """First start on an empty directory: an administrator and its token (shown once)."""
    from jiraguard.bootstrap import BootstrapError, bootstrap_admin
    from jiraguard.store.db import Database

    async def run() -> None:
        db = Database(settings.storage.url)
        try:
            await bootstrap_admin(settings, db)
        finally:
            await db.close()

    try:
        _run(run())
    except BootstrapError as exc:
        typer.echo(f"jiraguard: {exc}", err=True)
        raise typer.Exit(1) from exc


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
            changed = await UserDirectory(db).set_active(name, active)
        finally:
            await db.close()
        if changed:
            await _wake_servers(settings)
        return changed

    if not _run(change()):
        typer.echo(f"no user is named {name}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{'enabled' if active else 'disabled'} {name}")


async def _wake_servers(settings: Settings) -> None:
    """Tell running servers to read the change feed now (with Redis; they poll anyway)."""
    if settings.redis.url:
        from jiraguard.auth.cache_redis import make_redis
        from jiraguard.changes import wake

        redis = make_redis(settings.redis.url, settings.redis.socket_timeout)
        try:
            await wake(redis, settings.redis.key_prefix)
        finally:
            await redis.aclose()


@user_app.command("disable")
def user_disable(name: str, config: ConfigOption = None) -> None:
    """Disable a user: running servers refuse their tokens within a second."""
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
    if token.startswith(settings.tokens.prefix):
        # A personal access token is checked against the store, never shown to a provider.
        outcome = _run(_explain_pat(settings, token))
        typer.echo(json.dumps(outcome, indent=2, default=str))
        raise typer.Exit(0 if outcome["outcome"] == "accepted" else 1)
    report = _run(explain(settings, token))
    typer.echo(json.dumps(report, indent=2, default=str))
    raise typer.Exit({"accepted": 0, "rejected": 1}.get(str(report["outcome"]), 3))


async def _explain_pat(settings: Settings, token: str) -> dict[str, Any]:
    from jiraguard.auth.errors import InvalidToken
    from jiraguard.auth.principal import fingerprint
    from jiraguard.auth.validators.pat import PATValidator
    from jiraguard.store.db import Database

    report: dict[str, Any] = {"fingerprint": fingerprint(token)[:16], "method": "pat"}
    db = Database(settings.storage.url)
    validator = PATValidator(db, settings.tokens, track_use=False)
    try:
        principal = await validator.authenticate(token)
    except InvalidToken as exc:
        return {**report, "outcome": "rejected", "reason": exc.description}
    finally:
        await validator.aclose()
        await db.close()
    user = {"name": principal.username, "key": principal.key, "groups": sorted(principal.groups)}
    return {**report, "outcome": "accepted", "tokenId": principal.token_id, "user": user}


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
) -> None:
    """Create a token for USER and print it once on stdout (details go to stderr)."""
    from jiraguard.auth.pat import CLI, CLI_ACTOR, NoSuchUser, TokenRequestError
    from jiraguard.store.db import Database

    settings = _settings(config)
    _migrate(settings)

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

    _run(create())


@token_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's tokens.")] = None,
    config: ConfigOption = None,
) -> None:
    """List tokens that are not revoked: id, owner, name, created, expires, last used."""
    from jiraguard.store.db import Database

    settings = _settings(config)
    _migrate(settings)

    async def show() -> None:
        db = Database(settings.storage.url)
        try:
            records = await _tokens(settings, db).list(user)
        finally:
            await db.close()
        now = datetime.now(UTC)
        for r in records:
            state = "active" if r.active_at(now) else "expired"
            typer.echo(
                f"{r.id}\t{r.username}\t{r.name}\t{_when(r.created_at)}\t"
                f"{_when(r.expires_at)}\t{_when(r.last_accessed_at)}\t{state}"
            )

    _run(show())


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (see token list).")],
    config: ConfigOption = None,
) -> None:
    """Revoke a token: the very next request with it gets 401."""
    from jiraguard.auth.pat import CLI, CLI_ACTOR
    from jiraguard.store.db import Database

    settings = _settings(config)
    _migrate(settings)

    async def revoke() -> bool:
        db = Database(settings.storage.url)
        try:
            found = await _tokens(settings, db).revoke(token_id, actor=CLI_ACTOR, origin=CLI)
        finally:
            await db.close()
        return found is not None

    if not _run(revoke()):
        typer.echo(f"no live token has the id {token_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked token {token_id}")


def _tokens(settings: Settings, db: Database) -> PersonalAccessTokens:
    from jiraguard.auth.pat import PersonalAccessTokens

    return PersonalAccessTokens(db, settings.tokens, audit=settings.audit.enabled)


_SINCE = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _since(value: str) -> datetime:
    """``1h``, ``30m``, ``7d`` (ago), or an ISO 8601 date-time."""
    from jiraguard.admin.audit import parse_moment

    match = _SINCE.match(value.strip())
    if match:
        seconds = int(match.group(1)[:9]) * _UNITS[match.group(2)]
        return datetime.now(UTC) - timedelta(seconds=seconds)
    try:
        return parse_moment(value)
    except (ValueError, OverflowError, OSError):
        typer.echo(f"--since {value}: use 30m, 1h, 7d or an ISO 8601 date-time", err=True)
        raise typer.Exit(2) from None


@app.command("audit")
def audit(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's events.")] = None,
    denied: Annotated[bool, typer.Option("--denied", help="Only refusals.")] = False,
    since: Annotated[
        str | None, typer.Option("--since", help="30m, 1h, 7d or an ISO 8601 date-time.")
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="auth, token or config.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
    config: ConfigOption = None,
) -> None:
    """Show the audit log, newest first."""
    from jiraguard.store.audit import KINDS, AuditFilter, AuditLog, event_json
    from jiraguard.store.db import Database

    settings = _settings(config)
    if kind is not None and kind not in KINDS:
        typer.echo(f"--kind must be one of {', '.join(KINDS)}", err=True)
        raise typer.Exit(2)
    _migrate(settings)
    where = AuditFilter(
        username=user,
        allowed=False if denied else None,
        since=_since(since) if since else None,
        kind=kind,
    )

    async def show() -> list[dict[str, Any]]:
        db = Database(settings.storage.url)
        try:
            _, events = await AuditLog(db).search(where, start_at=0, max_results=limit)
        finally:
            await db.close()
        return [event_json(e) for e in events]

    events = _run(show())
    if as_json:
        typer.echo(json.dumps(events, indent=2))
        return
    for e in events:
        who = e["username"] or "-"
        via = e["authMethod"] or "-"
        if e["provider"]:
            via += f"/{e['provider']}"
        typer.echo(
            f"{e['at']} {e['kind']:<5} {'allow' if e['allowed'] else 'deny ':<5} {e['status']} "
            f"{e['method']} {e['path']} user={who} via={via} token={e['fingerprint'] or '-'} "
            f"client={e['clientIp'] or '-'} {e['reason']}"
        )


@config_app.command("check")
def config_check(config: ConfigOption = None) -> None:
    """Validate the configuration and report every problem at once."""
    settings = _settings(config)
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
    settings = _settings(config)
    data = settings.model_dump(mode="json")  # secrets are SecretStr: dumped as asterisks
    typer.echo(json.dumps(data, indent=2))


def main() -> None:
    app()
