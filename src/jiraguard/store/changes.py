"""Writing to the change feed (read by :mod:`jiraguard.changes`)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.store.models import Change

CONFIG = "config"
"""The configuration saved from the admin UI changed: reload it."""
USER = "user"
"""A user was disabled, enabled or changed (``subject``: the user name): re-check them."""
CUSTOM_FIELDS = "customfields"
"""A custom field or an option was added: read the definitions again."""

_LOCK = 0x6A67_6368  # "jgch": the advisory lock that orders change ids on PostgreSQL


async def record(session: AsyncSession, kind: str, subject: str | None = None) -> None:
    """Add a change inside the caller's transaction (committed, or not, with what changed).

    On PostgreSQL the writer first takes a transaction-level advisory lock, so change ids
    are handed out in commit order and a reader never skips one that committed late."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
    await session.execute(
        insert(Change), [{"at": datetime.now(UTC), "kind": kind, "subject": subject}]
    )
