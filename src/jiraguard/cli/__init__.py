"""The ``jiraguard`` command line, one module per command group."""

from __future__ import annotations

from typing import Annotated

import typer

from jiraguard import __version__
from jiraguard.cli.audit import audit
from jiraguard.cli.check import check_token
from jiraguard.cli.config import config_app
from jiraguard.cli.help import install as install_help
from jiraguard.cli.serve import serve
from jiraguard.cli.tokens import token_app
from jiraguard.cli.users import user_app

install_help()
app = typer.Typer(
    help="Authenticate Jira's REST API with access tokens from any OAuth 2.0 / OIDC provider.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"jiraguard {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Authenticate Jira's REST API with access tokens from any OAuth 2.0 / OIDC provider."""


app.command()(serve)
app.add_typer(user_app, name="user")
app.command("check-token")(check_token)
app.add_typer(token_app, name="token")
app.command("audit")(audit)
app.add_typer(config_app, name="config")


def main() -> None:
    app()
