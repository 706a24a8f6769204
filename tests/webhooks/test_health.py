# ruff: noqa: F811 - pytest fixtures imported from tests.fakes.channels
from __future__ import annotations

from sqlalchemy import text

from tests.fakes.channels import (  # noqa: F401 - fixtures
    channel_app,
    channel_client,
    log_lines,
    post_sms,
    sms_form,
)
from webhooks.app import create_app

UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"


def test_healthz_answers_without_touching_the_database(tmp_path):
    # A database URL that cannot be opened: liveness must not care.
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/\0bad.db"})

    response = app.test_client().get("/healthz")

    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_ok_on_a_migrated_database(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json["migrations"] == "head"


def test_readyz_is_503_before_migrations(empty_database_factory):
    app = create_app({"DATABASE_URL": empty_database_factory("sqlite")})

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.json["migrations"] == "behind"


def test_readyz_is_503_when_the_database_is_unreachable():
    app = create_app({"DATABASE_URL": UNREACHABLE})

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_readyz_notices_a_database_rolled_back_by_hand(app, engine, backend):
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    try:
        response = app.test_client().get("/readyz")
    finally:
        from db.migrate import head_revisions

        (head,) = head_revisions()
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :h"), {"h": head})

    assert response.status_code == 503


def _request_lines(log_lines):
    return [
        (r["msg"], r.get("method"), r.get("route"), r["status"])
        for r in log_lines.records()
        if r["msg"] in ("request", "channel request")
    ]


def test_every_request_is_one_log_line_naming_its_route_never_its_path(channel_client, log_lines):
    channel_client.get("/healthz")
    channel_client.get("/console/login?next=/console/%3Fcase%3D0B01234567")
    channel_client.get("/no/such/page/0B01234567")
    post_sms(channel_client, sms_form("my case is 0B01234567"))

    assert _request_lines(log_lines) == [
        ("request", "GET", "/healthz", 200),
        ("request", "GET", "/console/login", 200),
        ("request", "GET", None, 404),
        ("channel request", None, None, 200),
    ]
    assert "0B01234567" not in "\n".join(log_lines)
    assert all(isinstance(r["latency_ms"], float) for r in log_lines.records())


def test_a_503_while_the_database_is_away_is_logged(log_lines):
    app = create_app({"DATABASE_URL": UNREACHABLE})

    app.test_client().get("/readyz")

    assert _request_lines(log_lines) == [("request", "GET", "/readyz", 503)]
