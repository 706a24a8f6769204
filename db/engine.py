"""Engines and sessions: one engine per process, SQLite tuned for a web service."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the one writer; foreign keys are off by default in SQLite."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create the process's engine; call it after a fork (never share one across workers)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 15}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # No pre-ping: it costs a round trip on every checkout. A connection the server dropped
    # fails its first statement with OperationalError (the web app answers 503, which Telegram
    # retries) and SQLAlchemy then discards the pool's connections; recycling keeps idle
    # connections younger than typical server and proxy idle timeouts.
    kwargs.setdefault("pool_pre_ping", False)
    kwargs.setdefault("pool_recycle", 300)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit, so views can render after committing."""
    return sessionmaker(bind=engine, expire_on_commit=False)


_turn_files = threading.local()


@contextmanager
def writer_turn(session: Session) -> Iterator[None]:
    """On a SQLite file database, queue a write transaction behind a blocking file lock.

    SQLite lets one writer in at a time and makes the others poll, sleeping up to 100 ms
    between tries, so under load a message can wait hundreds of milliseconds for a lock that
    was free most of that time. Writers that take their turn here block in the kernel instead
    and the next one starts as soon as the previous one ends. Wrap the whole transaction
    (commit or rollback inside). A turn taken inside a turn of the same thread is part of it.
    PostgreSQL locks rows, so this does nothing there.
    """
    bind = session.get_bind()
    database = bind.engine.url.database
    if bind.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    path = database + "-writer.lock"
    held: set[str] = getattr(_turn_files, "held", None) or set()
    _turn_files.held = held
    if path in held:
        yield
        return
    descriptor = _turn_file(path)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    held.add(path)
    try:
        yield
    finally:
        held.discard(path)
        fcntl.flock(descriptor, fcntl.LOCK_UN)


def _turn_file(path: str) -> int:
    """This thread's own descriptor of the lock file (a lock held by one descriptor blocks the
    others, in this process and in the other web workers); reopened after a fork."""
    key = (os.getpid(), path)
    opened: dict[tuple[int, str], int] = getattr(_turn_files, "opened", None) or {}
    _turn_files.opened = opened
    if key not in opened:
        opened[key] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    return opened[key]
