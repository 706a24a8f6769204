"""Hot-path statements compiled once and run straight on the driver connection.

Every inbound message runs the same few statements. Through SQLAlchemy's execution layer each
one costs about 35 µs of Python on top of the 8 µs the SQLite driver itself needs (measured in
docs/benchmarks.md, "Webhooks"), and more with psycopg. A ``DriverStatement`` is still written
as a Core statement (so it stays readable and checked against the models), but it is compiled
once per dialect, and each call converts parameters and results with the same type processors
SQLAlchemy would use, then runs on the session's own DBAPI connection, inside the session's
transaction. Driver errors are re-raised as SQLAlchemy's exceptions (``OperationalError``,
``IntegrityError``), and a dropped connection is invalidated, exactly as SQLAlchemy does.

On PostgreSQL (psycopg) the statement goes one level lower still: prepared once per server
connection and run with libpq's ``exec_prepared``, its parameters and rows converted by
psycopg's own adapters (a ``Transformer`` on the connection), so the values are exactly what a
psycopg cursor would send and return. psycopg's cursor layer costs about 90 µs of CPU per
statement on top of the round trip (docs/benchmarks.md, "Webhooks"); libpq releases the GIL
while it waits, like psycopg does. The transaction is psycopg's: a ``BEGIN`` (with the
connection's isolation level and access mode) is sent first when none is open, exactly as
psycopg would, and ``commit``/``rollback`` stay the session's.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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
    #: The same statement for libpq (``$1`` placeholders), on psycopg only.
    libpq: _Prepared | None = None


@dataclass(frozen=True)
class _Prepared:
    """A statement as libpq prepares it: a name, ``$n`` SQL and the parameter order."""

    name: bytes
    sql: bytes
    positions: tuple[str, ...]


@dataclass
class _PgConnectionState:
    """What one psycopg connection has prepared, and its parameter/row converter."""

    transformer: Any
    prepared: set[bytes] = field(default_factory=set)


#: Per psycopg connection (weak: a closed or invalidated connection takes its entry along).
_pg_states: weakref.WeakKeyDictionary[Any, _PgConnectionState] = weakref.WeakKeyDictionary()


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
        libpq=_for_libpq(statement, dialect),
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


def _for_libpq(statement: Executable, dialect: Dialect) -> _Prepared | None:
    """The statement compiled with ``$n`` placeholders, for psycopg connections only."""
    if dialect.driver != "psycopg":
        return None
    numbered = type(dialect)(paramstyle="numeric_dollar")  # type: ignore[call-arg]
    compiled: Compiled = statement.compile(dialect=numbered)  # type: ignore[attr-defined]
    sql = compiled.string.encode()
    return _Prepared(
        name=b"rc_" + hashlib.sha1(sql, usedforsecurity=False).hexdigest()[:16].encode(),
        sql=sql,
        positions=tuple(compiled.positiontup),  # type: ignore[attr-defined]
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
        driver = connection.connection.driver_connection
        arguments: Any
        try:
            if compiled.libpq is not None and _libpq_ready(driver):
                arguments = [values[n] for n in compiled.libpq.positions]
                fetched: Sequence[Any] = _run_libpq(driver, compiled.libpq, arguments)
            else:
                arguments = (
                    values
                    if compiled.positions is None
                    else tuple(values[n] for n in compiled.positions)
                )
                cursor = driver.execute(compiled.sql, arguments)  # type: ignore[union-attr]
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


def _libpq_ready(driver: Any) -> bool:
    """True when libpq can run the statement: an open connection, not in pipeline mode, with
    prepared statements allowed (psycopg's ``prepare_threshold=None`` turns them off, as
    PgBouncer in transaction mode needs)."""
    return bool(
        not driver.closed
        and driver.pgconn.pipeline_status == 0
        and driver.prepare_threshold is not None
    )


def _begin_command(driver: Any) -> bytes:
    """The ``BEGIN`` psycopg sends for this connection, with its transaction options."""
    from psycopg import IsolationLevel

    parts = [b"BEGIN"]
    if driver.isolation_level is not None:
        level = IsolationLevel(driver.isolation_level).name.replace("_", " ")
        parts.append(b"ISOLATION LEVEL " + level.encode())
    if driver.read_only is not None:
        parts.append(b"READ ONLY" if driver.read_only else b"READ WRITE")
    if driver.deferrable is not None:
        parts.append(b"DEFERRABLE" if driver.deferrable else b"NOT DEFERRABLE")
    return b" ".join(parts)


def _run_libpq(driver: Any, prepared: _Prepared, arguments: Sequence[Any]) -> Sequence[Any]:
    """Run a prepared statement in the connection's transaction; rows as psycopg loads them.

    psycopg deallocates every prepared statement of a connection (``DEALLOCATE ALL``) after a
    DROP, ALTER or ROLLBACK it ran itself, ours included (its own it otherwise deallocates one
    by one, by their names), so a missing statement means they are all gone. When the
    statement opened its transaction, nothing else is lost: it starts the transaction again
    and prepares anew.
    Later in a transaction it is an ``OperationalError`` (the webhook answers 503, the
    provider retries, and the retry prepares anew).
    """
    from psycopg import errors, pq
    from psycopg.adapt import PyFormat, Transformer

    with driver.lock:
        pgconn = driver.pgconn
        state = _pg_states.get(driver)
        if state is None:
            state = _pg_states[driver] = _PgConnectionState(Transformer(driver))
        began = not driver.autocommit and pgconn.transaction_status == pq.TransactionStatus.IDLE
        if began:
            _checked(driver, pgconn.exec_(_begin_command(driver)))
        transformer = state.transformer
        # Text parameters: the server reads each with the type its placeholder was cast to.
        values = transformer.dump_sequence(arguments, [PyFormat.TEXT] * len(arguments))
        result = _execute_prepared(driver, state, prepared, values)
        if result.error_field(pq.DiagnosticField.SQLSTATE) == _NO_SUCH_STATEMENT:
            state.prepared.clear()
            if not (began or driver.autocommit):
                raise errors.OperationalError(
                    "the connection's prepared statements were deallocated; retry the transaction"
                )
            if began:
                _checked(driver, pgconn.exec_(b"ROLLBACK"))
                _checked(driver, pgconn.exec_(_begin_command(driver)))
            result = _execute_prepared(driver, state, prepared, values)
        _checked(driver, result)
        if result.status != pq.ExecStatus.TUPLES_OK:
            return []
        transformer.set_pgresult(result)
        rows: list[Any] = transformer.load_rows(0, result.ntuples, tuple)
        transformer.set_pgresult(None)
        return rows


#: SQLSTATE 26000, invalid_sql_statement_name: the prepared statement is gone.
_NO_SUCH_STATEMENT = b"26000"


def _execute_prepared(
    driver: Any, state: _PgConnectionState, prepared: _Prepared, values: Sequence[Any]
) -> Any:
    """Prepare on first use on this connection, then execute; the raw libpq result."""
    if prepared.name not in state.prepared:
        _checked(driver, driver.pgconn.prepare(prepared.name, prepared.sql))
        state.prepared.add(prepared.name)
    return driver.pgconn.exec_prepared(prepared.name, values)


def _checked(driver: Any, result: Any) -> Any:
    """The result, or psycopg's exception for it (a lost connection is ``OperationalError``)."""
    from psycopg import errors, pq

    if result.status in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
        return result
    if driver.pgconn.status == pq.ConnStatus.BAD:
        raise errors.OperationalError("the connection to the server was lost")
    if result.status == pq.ExecStatus.FATAL_ERROR:
        raise errors.error_from_result(result, encoding=driver.info.encoding)
    raise errors.InternalError(f"unexpected result status {pq.ExecStatus(result.status).name}")


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
