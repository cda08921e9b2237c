"""``jiraguard check-token``: which provider accepts a token, and the user it maps to."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from jiraguard.cli.common import ConfigOption, CreateDatabaseOption, load, run_async
from jiraguard.settings import (
    Settings,
)


def check_token(
    token: Annotated[
        str,
        typer.Argument(help="The access token, or - to read it from stdin (keeps it out of ps)."),
    ],
    config: ConfigOption = None,
    create_database: CreateDatabaseOption = False,
) -> None:
    """Show which provider accepts a token, or why each rejects it, and the user it maps to.

    The token itself is never printed. Exit status: 0 accepted, 1 rejected, 3 undecided.
    """
    from jiraguard.auth.explain import explain

    if token == "-":  # noqa: S105 - "-" means stdin, not a password
        token = sys.stdin.readline().strip()
    settings = load(config, create_database=create_database)
    if token.startswith(settings.tokens.prefix):
        # A personal access token is checked against the store, never shown to a provider.
        outcome = run_async(_explain_pat(settings, token))
        typer.echo(json.dumps(outcome, indent=2, default=str))
        raise typer.Exit(0 if outcome["outcome"] == "accepted" else 1)
    report = run_async(explain(settings, token))
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
