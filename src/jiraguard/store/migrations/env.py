"""Alembic environment: runs with the URL and engine hook that store.db passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from jiraguard.store.models import Base

config = context.config
url = config.attributes["database_url"]
engine = create_engine(url, poolclass=pool.NullPool)
config.attributes["configure_engine"](engine)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Several processes may start together: one migrates, the others wait.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7262937)")
        context.run_migrations()
engine.dispose()
