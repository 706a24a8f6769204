"""Hot-path statements on the real databases: same values, same transaction, same errors as
SQLAlchemy's own execution (on PostgreSQL they run through libpq, so each of these would catch
a difference between that path and psycopg's)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, bindparam, insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from db.driver_sql import DriverStatement
from db.models.conversation import ProcessedMessage

_table = ProcessedMessage.__table__
RECORD = DriverStatement(
    insert(_table)
    .values(
        channel=bindparam("channel"),
        provider_message_id=bindparam("message_id"),
        sender_hash=bindparam("sender_hash"),
        replies=bindparam("replies"),
        lang=bindparam("lang"),
        created_at=bindparam("now"),
    )
    .returning(_table.c.id, _table.c.replies, _table.c.lang, _table.c.created_at),
    (_table.c.id.type, _table.c.replies.type, _table.c.lang.type, _table.c.created_at.type),
)
REPLIES = [{"text": "Hola, ¿cómo está? ✓ 😀", "buttons": [{"label": "Sí", "value": "1"}]}]
NOON = dt.datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=dt.UTC)


def _record(session: Session, message_id: str, **overrides: object) -> tuple[object, ...]:
    params: dict[str, object] = {
        "channel": "sms",
        "message_id": message_id,
        "sender_hash": None,
        "replies": REPLIES,
        "lang": "es",
        "now": NOON,
    }
    params.update(overrides)
    row = RECORD.first(session.connection(), params)
    assert row is not None
    return row


@pytest.fixture
def postgresql_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("the libpq path and its prepared statements are PostgreSQL's")


@pytest.fixture
def pinned(engine: Engine, postgresql_only: None, db_session: Session) -> Iterator[Session]:
    """A session held on one connection throughout (the pool would hand out another one)."""
    with engine.connect() as connection, Session(bind=connection) as session:
        yield session


def _stored_ids(engine: Engine) -> set[str]:
    with Session(engine) as reader:
        return set(reader.scalars(select(ProcessedMessage.provider_message_id)))


def test_values_come_back_as_sqlalchemy_itself_reads_them(db_session: Session):
    _, replies, lang, created_at = _record(db_session, "SM1", sender_hash=None)
    db_session.commit()
    stored = db_session.execute(
        select(ProcessedMessage.replies, ProcessedMessage.lang, ProcessedMessage.created_at)
    ).one()
    assert (replies, lang, created_at) == tuple(stored)
    assert replies == REPLIES
    assert created_at == NOON
    assert created_at.tzinfo is not None


def test_statements_join_the_session_transaction(db_session: Session, engine: Engine):
    _record(db_session, "SM1")
    db_session.commit()
    # After a commit the next statement must open a new transaction (on PostgreSQL: send
    # BEGIN first), or each statement would commit on its own and survive the rollback.
    _record(db_session, "SM2")
    _record(db_session, "SM3")
    assert _stored_ids(engine) == {"SM1"}
    db_session.rollback()
    assert _stored_ids(engine) == {"SM1"}


def test_a_unique_violation_is_an_integrity_error_and_the_session_carries_on(
    db_session: Session, engine: Engine
):
    _record(db_session, "SM1")
    db_session.commit()
    with pytest.raises(IntegrityError):
        _record(db_session, "SM1")
    db_session.rollback()
    _record(db_session, "SM2")
    db_session.commit()
    assert _stored_ids(engine) == {"SM1", "SM2"}


def test_a_missing_parameter_is_refused_before_the_database_is_asked(db_session: Session):
    params = {"channel": "sms", "message_id": "SM1", "replies": [], "lang": None, "now": NOON}
    with pytest.raises(TypeError, match="sender_hash"):
        RECORD.first(db_session.connection(), params)


def test_postgresql_runs_it_as_a_prepared_statement_of_the_connection(
    db_session: Session, postgresql_only: None
):
    _record(db_session, "SM1")
    statements = db_session.execute(
        text("SELECT statement FROM pg_prepared_statements WHERE name LIKE 'rc\\_%'")
    ).scalars()
    assert any("INSERT INTO processed_messages" in s for s in statements)


def test_postgresql_keeps_an_isolation_level_the_session_asked_for(
    engine: Engine, postgresql_only: None, db_session: Session
):
    serializable = engine.execution_options(isolation_level="SERIALIZABLE")
    with Session(serializable) as session:
        _record(session, "SM1")
        level = session.execute(text("SHOW transaction_isolation")).scalar()
        assert level == "serializable"
        session.rollback()
    assert _stored_ids(engine) == set()


def test_postgresql_a_dropped_connection_is_an_operational_error_and_is_replaced(
    engine: Engine, pinned: Session
):
    _record(pinned, "SM1")
    pinned.commit()
    pid = pinned.execute(text("SELECT pg_backend_pid()")).scalar()
    pinned.commit()
    with engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with pytest.raises(OperationalError) as raised:
        _record(pinned, "SM2")
    assert raised.value.connection_invalidated
    pinned.rollback()
    _record(pinned, "SM3")
    pinned.commit()
    assert _stored_ids(engine) == {"SM1", "SM3"}


def _psycopg_deallocates_everything(session: Session) -> None:
    """What psycopg sends on a connection, ours included, after a DROP, ALTER or ROLLBACK it
    ran itself once it has prepared statements of its own (sent directly here, so the test
    does not depend on when psycopg flushes it)."""
    session.execute(text("DEALLOCATE ALL"))


def test_postgresql_prepares_again_after_psycopg_deallocated_everything(
    engine: Engine, pinned: Session
):
    _record(pinned, "SM1")
    pinned.commit()
    _psycopg_deallocates_everything(pinned)
    pinned.commit()
    _record(pinned, "SM2")
    pinned.commit()
    assert _stored_ids(engine) == {"SM1", "SM2"}


def test_postgresql_deallocated_mid_transaction_is_an_operational_error_then_recovers(
    engine: Engine, pinned: Session
):
    _record(pinned, "SM1")
    _psycopg_deallocates_everything(pinned)
    with pytest.raises(OperationalError, match="retry the transaction"):
        _record(pinned, "SM2")
    pinned.rollback()
    _record(pinned, "SM3")
    pinned.commit()
    assert _stored_ids(engine) == {"SM3"}


def test_postgresql_without_prepared_statements_when_psycopg_is_told_so(
    database_url: str, engine: Engine, postgresql_only: None, db_session: Session
):
    from db.engine import make_engine

    unprepared = make_engine(database_url, connect_args={"prepare_threshold": None})
    try:
        with Session(unprepared) as session:
            for n in range(8):
                _record(session, f"SM{n}")
            names = session.execute(text("SELECT name FROM pg_prepared_statements")).scalars()
            assert list(names) == []
            session.commit()
    finally:
        unprepared.dispose()
    assert len(_stored_ids(engine)) == 8
