"""``jiraguard audit``: the audit log, filtered."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from jiraguard.cli.common import ConfigOption, CreateDatabaseOption, load, run_async

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


def audit(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's events.")] = None,
    denied: Annotated[bool, typer.Option("--denied", help="Only refusals.")] = False,
    since: Annotated[
        str | None, typer.Option("--since", help="30m, 1h, 7d or an ISO 8601 date-time.")
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="auth, token, config or user.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
    config: ConfigOption = None,
    create_database: CreateDatabaseOption = False,
) -> None:
    """Show the audit log, newest first."""
    from jiraguard.store.audit import KINDS, AuditFilter, AuditLog, event_json
    from jiraguard.store.db import Database

    settings = load(config, create_database=create_database)
    if kind is not None and kind not in KINDS:
        typer.echo(f"--kind must be one of {', '.join(KINDS)}", err=True)
        raise typer.Exit(2)
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

    events = run_async(show())
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
