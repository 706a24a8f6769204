"""Session per request: opened lazily, rolled back on error, closed at teardown."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_engine, make_session_factory


def init_db(app: Flask, database_url: str) -> None:
    """Create this process's engine and session factory and close sessions after each request."""
    engine = make_engine(database_url)
    app.extensions["recordcheck.engine"] = engine
    app.extensions["recordcheck.sessions"] = make_session_factory(engine)
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    """The current app's engine."""
    value: Engine = current_app.extensions["recordcheck.engine"]
    return value


def session_factory() -> sessionmaker[Session]:
    """The current app's session factory (for work outside a request)."""
    value: sessionmaker[Session] = current_app.extensions["recordcheck.sessions"]
    return value


def db_session() -> Session:
    """The request's session, created on first use."""
    if "db_session" not in g:
        g.db_session = session_factory()()
    session: Session = g.db_session
    return session


def _close_session(error: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is None:
        return
    try:
        if error is not None or session.in_transaction():
            session.rollback()
    finally:
        session.close()
