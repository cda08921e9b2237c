"""A column tested against a list of ids bound as one parameter, for statements built once.

``column IN (:ids)`` with an expanding parameter becomes one placeholder per id. That is
what SQLite gets. On PostgreSQL it is ``column = ANY(:ids)`` with the list sent as one
array: psycopg converts a query's placeholders again on every execution when it has more
than 50 parameters (a page's versions and components are three lists of 50), and adapts
each parameter on its own.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal


class _InIds(ColumnElement[bool]):
    __visit_name__ = "in_ids"
    inherit_cache = True
    _is_implicitly_boolean = True
    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy's declaration, read from the class)
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
    ]
    type = Boolean()

    def __init__(self, column: ColumnElement[Any], name: str) -> None:
        self.column = column
        self.name = name

    @property
    def _from_objects(self) -> Any:
        return self.column._from_objects


@compiles(_InIds)
def _in(element: _InIds, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(_InIds, "postgresql")
def _any(element: _InIds, compiler: SQLCompiler, **kw: Any) -> str:
    array = bindparam(element.name, type_=ARRAY(element.column.type))
    return compiler.process(element.column == any_(array), **kw)


def in_ids(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """``column`` is one of the ids passed as the parameter ``name`` (a list)."""
    return _InIds(column, name)
