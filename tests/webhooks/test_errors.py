from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from webhooks.app import create_app


@pytest.fixture
def bare_app(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/e.db", "TESTING": False})

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail that must not leak")

    @app.post("/echo")
    def echo():
        from flask import request

        return {"bytes": len(request.get_data())}

    @app.get("/db-down")
    def db_down():
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))

    return app


def test_unknown_route_is_json_404(bare_app):
    response = bare_app.test_client().get("/no/such/page")

    assert response.status_code == 404
    assert response.json["error"]["code"] == 404


def test_a_console_address_that_matches_no_page_shows_the_console_error_page(bare_app):
    """A person in the console meets a page to read (and a way back), not raw JSON."""
    response = bare_app.test_client().get("/console/no-such-page")
    page = response.get_data(as_text=True)

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "<title>Not Found · RecordCheck console</title>" in page
    assert 'href="/console/"' in page
    assert "default-src" in response.headers["Content-Security-Policy"]


def test_a_console_result_address_opened_again_shows_the_console_error_page(bare_app):
    """/console/lookup only takes the look-up form: opening its address from the history
    gets the console's page for a wrong method, which still says what the page takes."""
    response = bare_app.test_client().get("/console/lookup")

    assert response.status_code == 405
    assert response.mimetype == "text/html"
    assert "Method Not Allowed" in response.get_data(as_text=True)
    assert "POST" in response.headers["Allow"]


def test_the_console_api_keeps_json_errors(bare_app):
    response = bare_app.test_client().get("/console/api/no-such-thing")

    assert response.status_code == 404
    assert response.json["error"]["code"] == 404


def test_wrong_method_is_json_405_with_allow_header(bare_app):
    response = bare_app.test_client().post("/healthz")

    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert response.json["error"]["name"] == "Method Not Allowed"


def test_a_crash_is_a_plain_json_500_without_internals(bare_app, caplog):
    response = bare_app.test_client().get("/boom")

    assert response.status_code == 500
    assert "secret detail" not in response.get_data(as_text=True)
    assert response.json["error"]["description"] == "Something went wrong on our side."


def test_database_outage_is_503_so_providers_retry(bare_app):
    response = bare_app.test_client().get("/db-down")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"


def test_oversized_body_is_json_413(bare_app):
    response = bare_app.test_client().post("/echo", data=b"x" * (1024 * 1024 + 1))

    assert response.status_code == 413
    assert response.json["error"]["code"] == 413


def test_request_session_is_rolled_back_when_a_view_fails(app, engine):
    from webhooks.db import db_session

    @app.get("/half-write")
    def half_write():
        db_session().execute(
            text(
                "INSERT INTO outbox (channel, sender_hash, recipient_encrypted, body, purpose,"
                " status, attempts, not_before, created_at)"
                " VALUES ('sms', 'h', :r, 'b', 'notice', 'queued', 0, :t, :t)"
            ),
            {"r": b"x", "t": "2026-11-25 00:00:00"},
        )
        raise RuntimeError("fails after writing")

    app.config["TESTING"] = False
    response = app.test_client().get("/half-write")

    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM outbox")).scalar_one()
    assert response.status_code == 500
    assert count == 0
