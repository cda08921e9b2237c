"""``jiraguard serve``: migrations, the first-start bootstrap, then the server."""

from __future__ import annotations

import json
import logging
import logging.config
import os
import shutil
import tempfile
from typing import Annotated, Any

import typer

from jiraguard.cli.common import (
    ConfigOption,
    Loaded,
    config_file,
    load_config,
    run_async,
    storage_label,
)
from jiraguard.settings import (
    ENV_CONFIG_PATH,
    ENV_PREFIX,
    Settings,
    safe_url,
)
from jiraguard.shared_metrics import ENV_DIRECTORY


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
    path, _ = config_file(config, os.environ)
    if path is not None:  # the workers read the same file, whatever chose it
        os.environ[ENV_CONFIG_PATH] = str(path.resolve())
    # Said in the start-up summary, through the log (JSON lines when so configured).
    loaded = load_config(config, create_database=True, announce=False)
    settings = loaded.settings
    log_config = logging_config(resolve_format(settings.logging.format), settings.logging.level)
    logging.config.dictConfig(log_config)
    _bootstrap(settings)
    logging.getLogger("jiraguard").info("%s", startup_summary(loaded))
    if not settings.providers and settings.tokens.enabled:
        logging.getLogger("jiraguard").warning(
            "no [[providers]] configured: only personal access tokens are accepted "
            "(jiraguard token create USER --name NAME)"
        )
    shared_metrics = None
    if settings.server.workers > 1 and settings.metrics.enabled:
        # Each worker writes its samples here; the one scraped answers for all of them.
        shared_metrics = tempfile.mkdtemp(prefix="jiraguard-metrics-")
        os.environ[ENV_DIRECTORY] = shared_metrics
    try:
        _run(settings, log_config)
    finally:
        if shared_metrics is not None:
            shutil.rmtree(shared_metrics, ignore_errors=True)


def _run(settings: Settings, log_config: dict[str, Any]) -> None:
    import uvicorn

    from jiraguard.cli.workers import run_workers
    from jiraguard.http_protocol import CoalescingProtocol
    from jiraguard.tls_server import uvicorn_tls_options

    options: dict[str, Any] = {
        "factory": True,
        "workers": settings.server.workers,
        "host": settings.server.host,
        "port": settings.server.port,
        "access_log": False,  # it would print query strings; ours never prints tokens
        "log_config": log_config,
        "log_level": settings.logging.level,
        "server_header": False,
        "proxy_headers": False,
        "timeout_graceful_shutdown": settings.server.shutdown_timeout,
        "http": CoalescingProtocol,  # each small answer in one write (http_protocol.py)
        **uvicorn_tls_options(settings.server),
    }
    if settings.server.workers > 1:
        run_workers("jiraguard.app:app_from_environment", **options)
    else:
        uvicorn.run("jiraguard.app:app_from_environment", **options)


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
        run_async(run())
    except BootstrapError as exc:
        typer.echo(f"jiraguard: {exc}", err=True)
        raise typer.Exit(1) from exc


def startup_summary(loaded: Loaded) -> str:
    """One line saying what this server runs with (no secrets: no password, no token)."""
    from jiraguard import __version__

    settings = loaded.settings
    file = str(loaded.path.resolve()) if loaded.path is not None else "none (defaults)"
    if loaded.version:
        file += f" + admin UI version {loaded.version}"
    redis = storage_label(settings.redis.url) if settings.redis.url else "none (memory)"
    providers = ", ".join(f"{p.name} ({p.method})" for p in settings.providers if p.enabled)
    shape = f"gateway to {safe_url(settings.upstream.url)}" if settings.upstream.url else "embedded"
    server = settings.server
    return (
        f"jiraguard {__version__}: config {file}; storage {storage_label(settings.storage.url)}; "
        f"redis {redis}; providers {providers or 'none'}; shape {shape}; "
        f"listening on {'https' if server.tls_cert else 'http'}://{server.host}:{server.port} "
        f"({server.workers} worker"
        f"{'s' if server.workers != 1 else ''})"
    )
