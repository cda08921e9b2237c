"""The ``jiraguard`` command line, one module per command group."""

from __future__ import annotations

import typer

from jiraguard.cli.audit import audit
from jiraguard.cli.check import check_token
from jiraguard.cli.config import config_app
from jiraguard.cli.serve import serve
from jiraguard.cli.tokens import token_app
from jiraguard.cli.users import user_app

app = typer.Typer(
    help="Authenticate Jira's REST API with access tokens from any OAuth 2.0 / OIDC provider.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(serve)
app.add_typer(user_app, name="user")
app.command("check-token")(check_token)
app.add_typer(token_app, name="token")
app.command("audit")(audit)
app.add_typer(config_app, name="config")


def main() -> None:
    app()
