"""Many rows through one statement at the driver's pace: a Core INSERT or UPDATE compiled once per dialect,
each row's values put through their column types' bind processors, then the driver's own executemany.

SQLAlchemy's executemany builds every row's parameters through its general machinery (parameter dictionaries,
type lookups per value), which cost the ledger three times what SQLite's own work on the rows did while a send
records a few thousand outcomes a second. Only plain statements of named bind parameters are taken: every
column with a Python-side default (or onupdate) must be given in the statement.
"""

from __future__ import annotations

__all__ = ["ManyRows"]

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, Insert, Update

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool
    names: tuple[str, ...]
    defaults: tuple[Any, ...]  # a bind parameter's own value, for a name a row does not give
    processors: tuple[_Processor, ...]


class ManyRows:
    """`execute(connection, rows)`: the statement once for each row (a mapping of bind names to values)."""

    def __init__(self, statement: Insert | Update) -> None:
        self._statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def execute(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        compiled = self._for(connection.dialect)
        fields = list(zip(compiled.names, compiled.defaults, compiled.processors, strict=True))
        values = [
            [
                (processor(row.get(name, default)) if processor else row.get(name, default))
                for name, default, processor in fields
            ]
            for row in rows
        ]
        if compiled.positional:
            connection.exec_driver_sql(compiled.sql, [tuple(row) for row in values])
        else:
            named = [dict(zip(compiled.names, row, strict=True)) for row in values]
            connection.exec_driver_sql(compiled.sql, named)

    def _for(self, dialect: Dialect) -> _Compiled:
        if dialect.name not in self._compiled:
            self._compiled[dialect.name] = _compile(self._statement, dialect)
        return self._compiled[dialect.name]


def _compile(statement: Insert | Update, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    if compiled.insert_prefetch or compiled.update_prefetch:  # SQLAlchemy would compute those per row
        columns = ", ".join(column.name for column in [*compiled.insert_prefetch, *compiled.update_prefetch])
        raise ValueError(f"ManyRows: give these columns a value or a bind parameter: {columns}")
    positional = bool(compiled.positional)
    names = tuple(compiled.positiontup or ()) if positional else tuple(compiled.binds)
    binds = [compiled.binds[name] for name in names]
    return _Compiled(
        sql=compiled.string,
        positional=positional,
        names=names,
        defaults=tuple(bind.value for bind in binds),
        processors=tuple(bind.type.dialect_impl(dialect).bind_processor(dialect) for bind in binds),
    )
