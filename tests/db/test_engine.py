"""Engine helpers on the real databases: SQLite writers take turns on a blocking file lock."""

from __future__ import annotations

import fcntl
import os
import threading

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db.engine import writer_turn


def _lock_is_free(path: str) -> bool:
    """Try the writer lock from a descriptor of our own, without waiting."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)
    return True


def test_a_sqlite_writer_holds_its_turn_until_the_transaction_ends(engine: Engine, sqlite_only):
    path = f"{engine.url.database}-writer.lock"
    with Session(engine) as session:
        with writer_turn(session):
            assert not _lock_is_free(path)
        assert _lock_is_free(path)


def test_a_second_sqlite_writer_waits_for_the_first(engine: Engine, sqlite_only):
    order: list[str] = []
    first_inside = threading.Event()
    release_first = threading.Event()

    def first() -> None:
        with Session(engine) as session, writer_turn(session):
            order.append("first in")
            first_inside.set()
            release_first.wait(10)
            order.append("first out")

    def second() -> None:
        first_inside.wait(10)
        with Session(engine) as session, writer_turn(session):
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_inside.wait(10)
    # The second thread is now blocked on the lock (or about to be); let the first finish.
    release_first.set()
    for thread in threads:
        thread.join(10)
    assert order == ["first in", "first out", "second in"]


def test_a_turn_inside_a_turn_is_part_of_it(engine: Engine, sqlite_only):
    path = f"{engine.url.database}-writer.lock"
    with Session(engine) as session:
        with writer_turn(session):
            with writer_turn(session):
                assert not _lock_is_free(path)
            assert not _lock_is_free(path)
        assert _lock_is_free(path)
