"""Engines, sessions and migrations for the configured database.

The configuration names a plain URL (``sqlite:///jiraguard.db``, ``postgresql://...``); this
module picks the drivers: aiosqlite or psycopg (async) for serving, the sync drivers for
Alembic migrations. SQLite runs in WAL mode with a busy timeout so readers never block the
writer and concurrent writers wait instead of failing.

Units of work (:meth:`Database.run`): a request's reads run as one unit in a worker thread
on the sync driver (``sqlite3`` for a SQLite file, psycopg's sync connection for PostgreSQL),
one thread hop for the whole unit instead of a turn of the event loop per statement (through
aiosqlite, about 0.75 ms each; through psycopg's async connection, its own share of the
loop's work on every statement). The unit is the same ``async`` code the query functions are
written in: on the sync driver nothing in it ever waits, so the thread runs its coroutine to
the end in one go. An in-memory SQLite (one connection, the async engine's) runs the unit on
the event loop through the async session.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
import psycopg
from alembic import command
from alembic.config import Config
from anyio import CapacityLimiter
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

MIGRATIONS = Path(__file__).parent / "migrations"

T = TypeVar("T")
Unit = Callable[[AsyncSession], Awaitable[T]]
"""A unit of work: an ``async`` function of one session, returning what the caller needs."""


def driver_urls(url: str) -> tuple[str, str]:
    """(async URL, sync URL) for a configured database URL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return (
            parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False),
            parsed.set(drivername="sqlite").render_as_string(hide_password=False),
        )
    if backend == "postgresql":
        psycopg = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        return psycopg, psycopg
    raise ValueError(f"unsupported database {backend!r}")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _configure(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)


def run_migrations(url: str) -> None:
    """Bring the schema up to date (Alembic ``upgrade head``)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = driver_urls(url)[1]
    config.attributes["configure_engine"] = _configure
    command.upgrade(config, "head")


def _sqlite_file(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")


class _UnitCursor(sqlite3.Cursor):
    """The sync driver's cursor with the one method the async session calls on a cursor
    after a Core statement (it lets the async drivers close theirs early)."""

    async def _async_soft_close(self) -> None:
        """Nothing to do: the sync cursor is read in the same thread, after the call."""


class _UnitConnection(sqlite3.Connection):
    def cursor(self, factory: Any = _UnitCursor) -> Any:
        return super().cursor(factory)


class _PostgresUnitCursor(psycopg.Cursor[Any]):
    """psycopg's sync cursor with the method :class:`_UnitCursor` adds, for the same reason."""

    async def _async_soft_close(self) -> None:
        """Nothing to do: the sync cursor is read in the same thread, after the call."""


_READ_ONLY = {"postgresql_readonly": True}
"""A read unit's transaction on PostgreSQL: ``BEGIN READ ONLY`` (psycopg sets it on the
``BEGIN`` it sends; SQLAlchemy puts the connection back as it was when it is returned)."""


class UnitWaited(RuntimeError):
    """A unit of work run in a worker thread waited on something other than the database."""


def _to_the_end(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never waits (its session is on a sync driver) to its result."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    coroutine.close()
    raise UnitWaited("a unit of work on a sync driver awaited something else")


class Database:
    """The async engine and session factory the server shares, and the units of work."""

    def __init__(self, url: str, *, pool_size: int = 10, prepared_statements: bool = True) -> None:
        async_url, sync_url = driver_urls(url)
        options: dict[str, Any] = {}
        # psycopg prepares a statement once a connection has run it 5 times; None: never.
        prepare: dict[str, Any] = {} if prepared_statements else {"prepare_threshold": None}
        if not async_url.startswith("sqlite"):
            # PostgreSQL: ``pool_size`` connections here and as many for the units below, so a
            # process never holds more than 2 x pool_size (docs/operations.md).
            options = {
                "pool_size": pool_size,
                "max_overflow": 0,
                "pool_pre_ping": True,
                "connect_args": prepare,
            }
        self.engine: AsyncEngine = create_async_engine(async_url, **options)
        _configure(self.engine.sync_engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._threads = pool_size
        self._limiter: CapacityLimiter | None = None
        self.units: Engine | None = None
        """The sync engine units of work run on in worker threads (not an in-memory SQLite)."""
        # As many connections as threads may run units at once, so none waits for one.
        if _sqlite_file(url):
            self.units = create_engine(
                sync_url,
                pool_size=pool_size,
                max_overflow=0,
                connect_args={"factory": _UnitConnection},
            )
            _configure(self.units)
        elif self.dialect == "postgresql":
            self.units = create_engine(
                sync_url,
                pool_size=pool_size,
                max_overflow=0,
                pool_pre_ping=True,
                connect_args={"cursor_factory": _PostgresUnitCursor, **prepare},
            )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session, session.begin():
            yield session

    async def run(self, unit: Unit[T], *, write: bool = False) -> T:
        """Run ``unit`` with a session of its own and return its result: reads, or with
        ``write`` one transaction committed when the unit returns (rolled back if it raises).

        Unless the database is an in-memory SQLite, the unit runs in a worker thread on the
        sync driver (at most ``pool_size`` at once); it must await only the session's methods.
        """
        if self.units is None:
            if write:
                async with self.transaction() as session:
                    return await unit(session)
            async with self.session() as session:
                return await unit(session)
        if self._limiter is None:  # made on the event loop, on first use
            self._limiter = CapacityLimiter(self._threads)
        return await anyio.to_thread.run_sync(
            self._run_in_thread, unit, write, limiter=self._limiter
        )

    def _run_in_thread(self, unit: Unit[T], write: bool) -> T:
        return _to_the_end(self._unit(unit, write))

    async def _unit(self, unit: Unit[T], write: bool) -> T:
        # Not ``async with``: the session's context managers put their cleanup in a task of
        # the event loop, and there is none in this thread; close() itself never waits here.
        session = AsyncSession(expire_on_commit=False)
        session.sync_session.bind = self.units
        try:
            if write:
                async with session.begin():
                    return await unit(session)
            if self.dialect != "postgresql":
                return await unit(session)
            # psycopg drops a connection's prepared statements on every ROLLBACK, which is how
            # a session ends a transaction it did not commit: so a read commits, in a READ ONLY
            # transaction (nothing to commit but the end of it; a write in it is an error).
            # Statements run a few times on a connection then stay prepared, and PostgreSQL
            # stops planning them again: about half its CPU on a search.
            session.sync_session.connection(execution_options=_READ_ONLY)
            result = await unit(session)
            await session.commit()
            return result
        finally:
            await session.close()

    async def close(self) -> None:
        await self.engine.dispose()
        if self.units is not None:
            self.units.dispose()
