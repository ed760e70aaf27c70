"""Many rows into one table in the session's transaction: COPY on PostgreSQL, an executemany of Core's insert
elsewhere (SQLite). COPY streams the rows in one command, where an executemany still runs one INSERT per row
on the server; since it runs on the session's own connection, it commits or rolls back with the rest."""

from __future__ import annotations

__all__ = ["copies", "insert_rows"]

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import BigInteger, Table, insert
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator, TypeEngine


def copies(session: Session) -> bool:
    """Whether the session's database takes rows by COPY (PostgreSQL through psycopg)."""
    return session.get_bind().dialect.driver == "psycopg"


def insert_rows(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    """Add `rows`, each the values of `columns` in that order (plain values: a str for an enum column)."""
    if not rows:
        return
    if copies(session):
        _copy(session, table, columns, rows)
        return
    values = [dict(zip(columns, row, strict=True)) for row in rows]
    session.connection().execute(insert(table), values)  # Core: no ORM work per row


def _copy(session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    connection = session.connection().connection.driver_connection
    assert isinstance(connection, psycopg.Connection)
    # binary: the server need not parse numbers and timestamps from text
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        copy.set_types([_wire_type(table.c[name].type) for name in columns])
        for row in rows:
            copy.write_row(row)


def _wire_type(column: TypeEngine[Any]) -> str:
    """The PostgreSQL type a column's values are sent as."""
    if isinstance(column, TypeDecorator):
        return _wire_type(column.impl_instance)
    if isinstance(column, BigInteger):
        return "int8"
    python = column.python_type
    if issubclass(python, bool):
        return "bool"
    if issubclass(python, int):
        return "int4"
    if issubclass(python, datetime):
        return "timestamptz"
    if issubclass(python, str):
        return "text"
    raise TypeError(f"no COPY type for {column!r}")
