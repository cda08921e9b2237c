"""What every command shares: which configuration file, which database, the settings in force.

One rule for every command: the file is ``--config``, else ``$JIRAGUARD_CONFIG``, else
``./jiraguard.toml`` when it exists (else the defaults). The settings are composed exactly as
the server composes them (:class:`jiraguard.config_store.ConfigStore`: the file, then the
document saved from the admin UI, then the environment). Each command says on stderr which file
and which storage it used. A command that would create a new, empty database (a SQLite file that
does not exist, a database without jiraguard's tables) refuses unless ``--create-database`` is
given: that is almost always the configuration of another directory being missed.
"""

from __future__ import annotations

import asyncio
import copy
import os
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import typer

from jiraguard.config_store import MANAGED_SECTIONS, compose
from jiraguard.settings import (
    ENV_CONFIG_PATH,
    ENV_PREFIX,
    ConfigError,
    Settings,
    apply_environment,
    read_config_file,
    validate_settings,
)

T = TypeVar("T")

DEFAULT_CONFIG = Path("jiraguard.toml")

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="TOML configuration file (else $JIRAGUARD_CONFIG, else ./jiraguard.toml).",
        show_default=False,
    ),
]

CreateDatabaseOption = Annotated[
    bool,
    typer.Option(
        "--create-database",
        help="Create the database if there is none yet (else refused: a new, empty "
        "database usually means the server's configuration was not found).",
    ),
]

DatabaseState = Literal["absent", "empty", "ready"]


@dataclass
class Loaded:
    """The settings in force and where they came from."""

    settings: Settings
    path: Path | None
    chosen_by: str
    """``--config``, ``JIRAGUARD_CONFIG``, ``./jiraguard.toml`` or ``defaults``."""
    file_data: dict[str, Any]
    overlay: dict[str, Any] = field(default_factory=dict)
    """The document saved from the admin UI (``{}``: none, or not read)."""
    version: int = 0
    database: DatabaseState = "ready"
    environ: dict[str, str] = field(default_factory=dict)


def config_file(option: Path | None, environ: Mapping[str, str]) -> tuple[Path | None, str]:
    """The configuration file every command reads, and what chose it."""
    if option is not None:
        return option, "--config"
    if environ.get(ENV_CONFIG_PATH):
        return Path(environ[ENV_CONFIG_PATH]), ENV_CONFIG_PATH
    if DEFAULT_CONFIG.is_file():
        return DEFAULT_CONFIG, "./jiraguard.toml"
    return None, "defaults"


def storage_label(url: str) -> str:
    """The database URL as shown to an operator: no password, SQLite paths made absolute."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:
        return url.partition(":")[0] + ":..."
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            return f"sqlite:///{Path(database).resolve()}"
        return "sqlite (in memory)"
    rendered: str = parsed.render_as_string(hide_password=True)
    return rendered


def database_state(url: str) -> DatabaseState:
    """``absent`` (a SQLite file that does not exist), ``empty`` (no jiraguard tables) or
    ``ready``. Never creates anything."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.engine import make_url

    from jiraguard.store.db import driver_urls

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if not database or database == ":memory:":
            return "empty"
        if not Path(database).is_file():
            return "absent"
    engine = create_engine(driver_urls(url)[1])
    try:
        with engine.connect() as connection:
            present = inspect(connection).has_table("alembic_version")
    finally:
        engine.dispose()
    return "ready" if present else "empty"


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def load_config(
    option: Path | None,
    *,
    storage: Literal["use", "read", "none"] = "use",
    create_database: bool = False,
    announce: bool = True,
) -> Loaded:
    """The settings in force for a command.

    ``storage``: ``use`` brings the schema up to date (refusing to create a new database
    unless ``create_database``) and composes with the UI's document; ``read`` reads the
    document only if the database exists, changing nothing; ``none`` leaves it alone.
    """
    environ = dict(os.environ)
    path, chosen_by = config_file(option, environ)
    where = f"{path} ({chosen_by})" if path is not None else "the defaults"
    try:
        file_data = read_config_file(path)
        base = _unmanaged(file_data, environ)
    except ConfigError as exc:
        raise _fail(f"{exc}\n(configuration: {where})", 2) from exc
    loaded = Loaded(base, path, chosen_by, file_data, environ=environ)
    url = base.storage.url
    if storage != "none":
        try:
            loaded.database = database_state(url)
        except Exception as exc:
            raise _fail(
                f"jiraguard: cannot open the database {storage_label(url)}: {exc}", 1
            ) from exc
    if storage == "use" and loaded.database != "ready" and not create_database:
        raise _fail(_new_database_refusal(loaded, url), 1)
    if announce:
        typer.echo(_announcement(loaded, url), err=True)
    if storage == "use":
        migrate(base)
    if storage == "use" or (storage == "read" and loaded.database == "ready"):
        _read_document(loaded, announce)
    try:
        loaded.settings = compose(file_data, loaded.overlay, environ)
    except ConfigError as exc:
        raise _fail(f"{exc}\n(configuration: {where}{_with_ui(loaded)})", 2) from exc
    return loaded


def _unmanaged(file_data: Mapping[str, Any], environ: Mapping[str, str]) -> Settings:
    """The sections the admin UI cannot change (storage, server, ...), from the file and the
    environment: enough to find the database the UI's document is kept in."""
    data = {k: copy.deepcopy(v) for k, v in file_data.items() if k not in MANAGED_SECTIONS}
    managed = tuple(ENV_PREFIX + section.upper() for section in MANAGED_SECTIONS)
    env = {
        k: v
        for k, v in environ.items()
        if not any(k == m or k.startswith(m + "__") for m in managed)
    }
    return validate_settings(apply_environment(data, env))


def _with_ui(loaded: Loaded) -> str:
    if loaded.version:
        return f", with the admin UI's saved configuration version {loaded.version}"
    return ""


def _new_database_refusal(loaded: Loaded, url: str) -> str:
    what = "does not exist" if loaded.database == "absent" else "has no jiraguard tables"
    where = (
        f"{loaded.path.resolve()} ({loaded.chosen_by})"
        if loaded.path is not None
        else "none found (no --config, no $JIRAGUARD_CONFIG, no ./jiraguard.toml here)"
    )
    return (
        f"jiraguard: the database {storage_label(url)} {what}; this command would create a "
        f"new empty one.\n  configuration file: {where}\n"
        "  Run it with the server's configuration (--config FILE or JIRAGUARD_CONFIG), or pass "
        "--create-database to create this database."
    )


def _announcement(loaded: Loaded, url: str) -> str:
    if loaded.path is not None:
        file = f"{loaded.path.resolve()} ({loaded.chosen_by})"
    else:
        file = "none (defaults and environment only)"
    note = {"absent": " (new)", "empty": " (new: no tables yet)", "ready": ""}[loaded.database]
    return f"jiraguard: configuration {file}; storage {storage_label(url)}{note}"


def _read_document(loaded: Loaded, announce: bool) -> None:
    """The document saved from the admin UI, laid over the file as the server does."""
    from jiraguard.config_store import ConfigStore
    from jiraguard.store.db import Database

    async def read() -> tuple[dict[str, Any], int]:
        db = Database(loaded.settings.storage.url)
        try:
            return await ConfigStore(db, loaded.file_data, loaded.environ).document()
        finally:
            await db.close()

    loaded.overlay, loaded.version = run_async(read())
    if loaded.version and announce:
        sections = ", ".join(sorted(loaded.overlay)) or "nothing"
        typer.echo(
            f"jiraguard: with the admin UI's saved configuration, version {loaded.version} "
            f"({sections})",
            err=True,
        )


def load(config: Path | None, *, create_database: bool = False, announce: bool = True) -> Settings:
    """The settings in force, the database ready (see :func:`load_config`)."""
    return load_config(config, create_database=create_database, announce=announce).settings


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def migrate(settings: Settings) -> None:
    from jiraguard.store.db import run_migrations

    run_migrations(settings.storage.url)


def columns(rows: list[list[str]]) -> str:
    """Rows as left-aligned columns two spaces apart, the first row being the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines)
