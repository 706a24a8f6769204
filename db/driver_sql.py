"""Hot-path statements compiled once and run straight on the driver connection.

Every inbound message runs the same few statements. Through SQLAlchemy's execution layer each
one costs about 35 µs of Python on top of the 8 µs the SQLite driver itself needs (measured in
docs/benchmarks.md, "Webhooks"), and more with psycopg. A ``DriverStatement`` is still written
as a Core statement (so it stays readable and checked against the models), but it is compiled
once per dialect, and each call converts parameters and results with the same type processors
SQLAlchemy would use, then runs on the session's own DBAPI connection, inside the session's
transaction. Driver errors are re-raised as SQLAlchemy's exceptions (``OperationalError``,
``IntegrityError``), and a dropped connection is invalidated, exactly as SQLAlchemy does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql.compiler import Compiled
from sqlalchemy.sql.expression import Executable
from sqlalchemy.types import TypeEngine

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _ForDialect:
    """One statement compiled for one dialect, with its parameter and result converters."""

    sql: str
    #: Parameter names in placeholder order (positional paramstyles), else None.
    positions: tuple[str, ...] | None
    defaults: Mapping[str, Any]
    #: Parameters without a value in the statement: every call must give them.
    required: frozenset[str]
    binds: tuple[tuple[str, Processor], ...]
    results: tuple[Processor | None, ...]


def _compile(
    statement: Executable, dialect: Dialect, result_types: Sequence[TypeEngine[Any]]
) -> _ForDialect:
    compiled: Compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    binds: list[tuple[str, Processor]] = []
    for name, bind in compiled.binds.items():  # type: ignore[attr-defined]
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            binds.append((name, processor))
    positions = tuple(compiled.positiontup) if compiled.positional else None  # type: ignore[attr-defined]
    return _ForDialect(
        sql=compiled.string,
        positions=positions,
        defaults=dict(compiled.params),
        required=frozenset(
            name
            for name, bind in compiled.binds.items()  # type: ignore[attr-defined]
            if bind.required
        ),
        binds=tuple(binds),
        results=tuple(
            t.dialect_impl(dialect).result_processor(dialect, None) for t in result_types
        ),
    )


class DriverStatement:
    """A Core statement run on the DBAPI connection of a SQLAlchemy ``Connection``.

    ``result_types`` are the types of the returned columns, in order (the converters for
    values the driver returns raw, such as SQLite's JSON text and timestamps).
    """

    def __init__(
        self, statement: Executable, result_types: Sequence[TypeEngine[Any]] = ()
    ) -> None:
        self._statement = statement
        self._result_types = tuple(result_types)
        self._by_dialect: dict[tuple[type, str], _ForDialect] = {}
        self._lock = threading.Lock()

    def _for(self, dialect: Dialect) -> _ForDialect:
        key = (type(dialect), dialect.paramstyle)
        found = self._by_dialect.get(key)
        if found is None:
            with self._lock:
                found = self._by_dialect.get(key)
                if found is None:
                    found = _compile(self._statement, dialect, self._result_types)
                    self._by_dialect[key] = found
        return found

    def rows(self, connection: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Execute and return every row, converted like SQLAlchemy would."""
        compiled = self._for(connection.dialect)
        if missing := compiled.required.difference(params):
            raise TypeError(f"missing statement parameters: {sorted(missing)}")
        values = {**compiled.defaults, **params}
        for name, processor in compiled.binds:
            values[name] = processor(values.get(name))
        arguments: Any = (
            values if compiled.positions is None else tuple(values[n] for n in compiled.positions)
        )
        fairy = connection.connection
        try:
            cursor = fairy.driver_connection.execute(compiled.sql, arguments)  # type: ignore[union-attr]
            fetched = cursor.fetchall() if cursor.description else []
        except connection.dialect.loaded_dbapi.Error as error:
            raise _wrapped(connection, compiled.sql, arguments, error) from error
        if not any(compiled.results):
            return [tuple(row) for row in fetched]
        return [
            tuple(
                value if convert is None else convert(value)
                for convert, value in zip(compiled.results, row, strict=False)
            )
            for row in fetched
        ]

    def first(self, connection: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """Execute and return the first row, or None."""
        found = self.rows(connection, params)
        return found[0] if found else None

    def run(self, connection: Connection, params: Mapping[str, Any]) -> None:
        """Execute a statement that returns nothing."""
        self.rows(connection, params)


def _wrapped(connection: Connection, sql: str, arguments: Any, error: Any) -> StatementError:
    """The SQLAlchemy exception for a driver error; a dropped connection is invalidated."""
    dialect = connection.dialect
    disconnected = bool(dialect.is_disconnect(error, connection.connection.dbapi_connection, None))
    if disconnected:
        connection.invalidate(error)
    wrapped: StatementError = DBAPIError.instance(
        sql,
        arguments,
        error,
        dialect.loaded_dbapi.Error,
        connection_invalidated=disconnected,
        dialect=dialect,
    )
    return wrapped
