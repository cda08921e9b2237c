"""The migrations create exactly the tables the models describe, on SQLite and PostgreSQL.

Full-text search objects (SQLite FTS5 tables, PostgreSQL GIN indexes) exist only in the
migrations: the models never query them directly, so they are left out of the comparison.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from jiraguard.store.db import driver_urls
from jiraguard.store.models import Base


def _not_search(name: str | None, type_: str, parent_names: Any) -> bool:
    return not (name and "_fts" in name)


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(driver_urls(database_url)[1])
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"include_name": _not_search})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
