"""Shared fixtures: every database test runs on SQLite and, when reachable, on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from db.models import Base
from db.scratch import create_scratch_database, drop_database
from knowledge.compiled import running_compiled, stale_compiled_modules, stale_message
from webhooks.app import create_app
from webhooks.config import normalize_database_url

LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_server_url() -> str | None:
    """TEST_DATABASE_URL, else a PostgreSQL answering on 127.0.0.1:5432, else None."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        return normalize_database_url(configured)
    if os.environ.get("RECORDCHECK_TEST_NO_POSTGRES"):
        return None
    probe = create_engine(LOCAL_POSTGRES, connect_args={"connect_timeout": 2})
    try:
        with probe.connect():
            return LOCAL_POSTGRES
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return None
    finally:
        probe.dispose()


POSTGRES_SERVER = _postgres_server_url()
BACKENDS = ["sqlite", "postgresql"]


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to test old compiled code: an edited source needs a rebuild first."""
    stale = stale_compiled_modules()
    if stale:
        pytest.exit(stale_message(stale), returncode=4)


def pytest_report_header() -> list[str]:
    """Say plainly which databases the run covers, and whether the engine runs compiled."""
    compiled = running_compiled()
    code = (
        f"compiled with mypyc: {', '.join(compiled)}"
        if compiled
        else "plain Python (no compiled modules)"
    )
    databases = "SQLite only (PostgreSQL not reachable; set TEST_DATABASE_URL)"
    if POSTGRES_SERVER:
        where = make_url(POSTGRES_SERVER).render_as_string(hide_password=True)
        databases = f"SQLite and PostgreSQL ({where})"
    return [f"database tests: {databases}", f"screening code: {code}"]


@pytest.fixture(scope="session")
def empty_database_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[object]:
    """Make brand-new empty databases of a backend on demand; drops them at the end."""
    created: list[str] = []

    def make(backend: str) -> str:
        if backend == "sqlite":
            path: Path = tmp_path_factory.mktemp("sqlite") / "recordcheck.sqlite3"
            return f"sqlite:///{path}"
        if POSTGRES_SERVER is None:
            pytest.skip("PostgreSQL not reachable (set TEST_DATABASE_URL)")
        url, name = create_scratch_database(POSTGRES_SERVER, "rc_test")
        created.append(name)
        return url

    yield make
    for name in created:
        assert POSTGRES_SERVER is not None
        drop_database(POSTGRES_SERVER, name)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, empty_database_factory: object) -> str:
    """A migrated database per backend, shared by the session (rows are cleaned per test)."""
    url: str = empty_database_factory(request.param)  # type: ignore[operator]
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def backend(database_url: str) -> str:
    """``sqlite`` or ``postgresql``: the backend the current test runs on."""
    return make_url(database_url).get_backend_name()


@pytest.fixture
def sqlite_only(backend: str) -> None:
    """Skip on PostgreSQL: writer turns exist for SQLite only (PostgreSQL locks rows)."""
    if backend != "sqlite":
        pytest.skip("writer turns are for SQLite only; PostgreSQL locks rows")


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The test process's engine on the current backend."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _delete_all_rows(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    """A session on a clean database; every row is deleted after the test."""
    session = make_session_factory(engine)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()
        _delete_all_rows(engine)


@pytest.fixture
def app(database_url: str, engine: Engine) -> Iterator[Flask]:
    """The real app on the current backend's test database."""
    application = create_app({"DATABASE_URL": database_url, "TESTING": True})
    yield application
    application.extensions["recordcheck.engine"].dispose()
    _delete_all_rows(engine)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for the app."""
    return app.test_client()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium per test module (see tests/browser.py)."""
    from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium

    sync_api = require_chromium()
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
