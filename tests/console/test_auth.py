from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from db.base import utcnow
from db.models.console import ConsoleAuditEvent, ConsoleSession, ConsoleUser
from tests.console.conftest import PASSWORD, csrf_of, login, make_user, page_token
from tests.webhooks.test_config import PRODUCTION_ENV
from webhooks.app import create_app
from webhooks.console import accounts
from webhooks.console.auth import LOGIN_FAILED

PROTECTED_GETS = [
    "/console/",
    "/console/screen",
    "/console/batch/",
    "/console/handoffs/",
    "/console/admin/users",
    "/console/admin/imports",
]


def _rows(app, model):
    with app.extensions["recordcheck.sessions"]() as session:
        return list(session.scalars(select(model)))


@pytest.mark.parametrize("path", PROTECTED_GETS)
def test_every_page_sends_a_stranger_to_the_sign_in_page(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/login?next=")


@pytest.mark.parametrize(
    "path", ["/console/logout", "/console/admin/users", "/console/admin/users/1"]
)
def test_posts_without_a_session_are_refused(client, path):
    response = client.post(path, data={"csrf_token": "x"})

    assert response.status_code == 401


def test_sign_in_page_is_open_and_carries_security_headers(client):
    response = client.get("/console/login")

    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert 'for="email"' in response.get_data(as_text=True)


def test_static_files_are_served_without_a_session_and_with_headers(client):
    response = client.get("/console/static/console.css")

    assert response.status_code == 200
    assert "@media print" in response.get_data(as_text=True)
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_worker_signs_in_with_a_strict_http_only_cookie_and_lands_on_the_console(app, worker):
    client = app.test_client()

    response = login(client, worker.email)

    assert response.status_code == 302
    assert response.headers["Location"] == "/console/"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("rc_console="))
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/console" in cookie
    home = client.get("/console/")
    assert home.status_code == 200
    assert worker.email in home.get_data(as_text=True)


def test_email_is_matched_without_regard_to_case_or_spaces(app, worker):
    client = app.test_client()

    assert login(client, "  WORKER@Clinic.Example ").status_code == 302


def test_production_cookies_are_secure(app, worker, monkeypatch):
    client = app.test_client()

    response = client.get("/console/login", base_url="https://console.example")
    token = csrf_of(response.get_data(as_text=True))
    signed_in = client.post(
        "/console/login",
        data={"email": worker.email, "password": PASSWORD, "csrf_token": token},
        base_url="https://console.example",
    )

    cookie = next(
        c for c in signed_in.headers.getlist("Set-Cookie") if c.startswith("rc_console=")
    )
    assert "Secure" in cookie


def test_the_console_over_plain_http_in_production_says_to_open_it_over_https(
    database_url, backend
):
    """Its cookies are Secure in production: over http the browser never sends them back, and
    every sign-in said "This form has expired" forever."""
    if backend != "postgresql":
        pytest.skip("production refuses SQLite; checked on PostgreSQL")
    production = create_app({**PRODUCTION_ENV, "DATABASE_URL": database_url})
    client = production.test_client()
    try:
        plain = client.get("/console/login", base_url="http://recordcheck.example.org")
        secure = client.get("/console/login", base_url="https://recordcheck.example.org")
    finally:
        production.extensions["recordcheck.engine"].dispose()

    assert plain.status_code == 400
    assert "Open https://recordcheck.example.org/console/ instead" in plain.get_data(as_text=True)
    assert secure.status_code == 200


def test_wrong_password_and_unknown_email_get_the_same_answer(app, worker):
    client = app.test_client()

    wrong = login(client, worker.email, "not the password at all")
    unknown = login(client, "nobody@clinic.example", "not the password at all")

    assert wrong.status_code == unknown.status_code == 401
    assert LOGIN_FAILED in wrong.get_data(as_text=True)
    assert LOGIN_FAILED in unknown.get_data(as_text=True)


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(app, worker):
    client = app.test_client()

    for _ in range(accounts.MAX_FAILED_ATTEMPTS):
        assert login(client, worker.email, "wrong password!!").status_code == 401
    locked = login(client, worker.email, PASSWORD)

    assert locked.status_code == 401
    user = _rows(app, ConsoleUser)[0]
    assert user.locked_until is not None
    assert user.locked_until > utcnow() + dt.timedelta(minutes=14)
    actions = [e.action for e in _rows(app, ConsoleAuditEvent)]
    assert actions.count("login_failed") == accounts.MAX_FAILED_ATTEMPTS + 1
    details = {e.detail for e in _rows(app, ConsoleAuditEvent)}
    assert {"wrong_password", "locked_now", "locked"} <= details


def test_the_lock_lifts_after_its_time(app, worker):
    client = app.test_client()
    for _ in range(accounts.MAX_FAILED_ATTEMPTS):
        login(client, worker.email, "wrong password!!")
    with app.extensions["recordcheck.sessions"]() as session:
        user = session.get(ConsoleUser, worker.id)
        user.locked_until = utcnow() - dt.timedelta(seconds=1)
        session.commit()

    assert login(client, worker.email).status_code == 302


def test_a_success_resets_the_failure_count(app, worker):
    client = app.test_client()
    for _ in range(accounts.MAX_FAILED_ATTEMPTS - 1):
        login(client, worker.email, "wrong password!!")

    assert login(client, worker.email).status_code == 302
    assert _rows(app, ConsoleUser)[0].failed_attempts == 0


@pytest.mark.parametrize(
    "token",
    [None, "", "forged-token-forged-token-forged", "a" * 5000],
    ids=["none", "empty", "forged", "huge"],
)
def test_sign_in_without_the_right_csrf_token_is_refused(app, worker, token):
    client = app.test_client()
    client.get("/console/login")
    data = {"email": worker.email, "password": PASSWORD}
    if token is not None:
        data["csrf_token"] = token

    response = client.post("/console/login", data=data)

    assert response.status_code == 403
    assert "rc_console=" not in " ".join(response.headers.getlist("Set-Cookie"))


def test_sign_in_posted_from_another_site_is_refused(app, worker):
    client = app.test_client()
    token = csrf_of(client.get("/console/login").get_data(as_text=True))

    response = client.post(
        "/console/login",
        data={"email": worker.email, "password": PASSWORD, "csrf_token": token},
        headers={"Origin": "https://evil.example"},
    )

    assert response.status_code == 403


def test_a_post_with_a_session_needs_that_sessions_token(app, worker, admin):
    worker_client = app.test_client()
    admin_client = app.test_client()
    login(worker_client, worker.email)
    login(admin_client, admin.email)
    worker_token = page_token(worker_client)

    forged = admin_client.post(
        "/console/admin/users",
        data={"email": "new@clinic.example", "role": "worker", "csrf_token": worker_token},
    )
    missing = admin_client.post(
        "/console/admin/users", data={"email": "new@clinic.example", "role": "worker"}
    )

    assert forged.status_code == 403
    assert missing.status_code == 403
    assert len(_rows(app, ConsoleUser)) == 2


def test_sign_out_kills_the_session_even_for_a_copied_cookie(app, worker):
    client = app.test_client()
    login(client, worker.email)
    cookie = client.get_cookie("rc_console", path="/console").value
    token = page_token(client)

    response = client.post("/console/logout", data={"csrf_token": token})

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/login")
    replay = app.test_client()
    replay.set_cookie("rc_console", cookie, path="/console")
    assert replay.get("/console/").status_code == 302
    assert _rows(app, ConsoleSession) == []


def test_sign_out_by_get_is_not_allowed(worker_client):
    assert worker_client.get("/console/logout").status_code == 405


@pytest.mark.parametrize("cookie", ["forged", "", "x" * 4000, "\u00e9\u00e9\u00e9"])
def test_forged_session_cookies_lead_to_the_sign_in_page(client, cookie):
    client.set_cookie("rc_console", cookie, path="/console")

    assert client.get("/console/").status_code == 302


def test_an_idle_session_expires(app, worker):
    client = app.test_client()
    login(client, worker.email)
    with app.extensions["recordcheck.sessions"]() as session:
        for row in session.scalars(select(ConsoleSession)):
            row.last_seen_at = utcnow() - accounts.SESSION_IDLE - dt.timedelta(seconds=1)
        session.commit()

    assert client.get("/console/").status_code == 302
    assert _rows(app, ConsoleSession) == []


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/console/batch/", "/console/batch/"),
        ("//evil.example/console", "/console/"),
        ("https://evil.example/console/", "/console/"),
        ("/elsewhere", "/console/"),
        ("/console\\@evil.example", "/console/"),
    ],
)
def test_after_sign_in_the_browser_goes_back_only_inside_the_console(
    app, worker, next_url, expected
):
    client = app.test_client()
    token = csrf_of(client.get("/console/login").get_data(as_text=True))

    response = client.post(
        "/console/login",
        data={"email": worker.email, "password": PASSWORD, "csrf_token": token, "next": next_url},
    )

    assert response.headers["Location"] == expected


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("", ""),
        ("a" * 10_000 + "@x.example", PASSWORD),
        ("worker@clinic.example", "p" * 100_000),
        ("<script>alert(1)</script>", "x"),
        ("worker@clinic.example\x00", PASSWORD),
    ],
    ids=["empty", "huge-email", "huge-password", "markup", "nul-in-email"],
)
def test_bad_sign_in_input_gets_a_plain_refusal(app, worker, email, password):
    client = app.test_client()

    response = login(client, email, password)

    assert response.status_code == 401
    assert LOGIN_FAILED in response.get_data(as_text=True)
    assert "<script>alert" not in response.get_data(as_text=True)


def test_sign_in_form_in_a_wrong_encoding_is_refused_without_a_crash(app, worker):
    client = app.test_client()
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    body = b"email=w%F6rker%40clinic.example&password=%FF%FE&csrf_token=" + token.encode()

    response = client.post(
        "/console/login", data=body, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 401


def test_a_deactivated_users_sessions_stop_working(app, worker, admin, post_form):
    worker_client = app.test_client()
    login(worker_client, worker.email)
    admin_client = app.test_client()
    login(admin_client, admin.email)

    response = post_form(
        admin_client, f"/console/admin/users/{worker.id}", {"action": "deactivate"}
    )

    assert response.status_code == 200
    assert worker_client.get("/console/").status_code == 302
    assert login(app.test_client(), worker.email).status_code == 401


def test_setup_link_lets_a_new_user_choose_a_password_once(app):
    with app.extensions["recordcheck.sessions"]() as session:
        _user, token = accounts.create_user(session, email="new@clinic.example", role="worker")
        session.commit()
    client = app.test_client()
    page = client.get(f"/console/setup/{token}")
    csrf = csrf_of(page.get_data(as_text=True))

    mismatch = client.post(
        f"/console/setup/{token}",
        data={"password": PASSWORD, "confirm": PASSWORD + "x", "csrf_token": csrf},
    )
    short = client.post(
        f"/console/setup/{token}",
        data={"password": "short", "confirm": "short", "csrf_token": csrf},
    )
    forged = client.post(
        f"/console/setup/{token}", data={"password": PASSWORD, "confirm": PASSWORD}
    )
    done = client.post(
        f"/console/setup/{token}",
        data={"password": PASSWORD, "confirm": PASSWORD, "csrf_token": csrf},
    )

    assert page.status_code == 200
    assert mismatch.status_code == 400
    assert short.status_code == 400
    assert forged.status_code == 403
    assert done.status_code == 302
    assert client.get(f"/console/setup/{token}").status_code == 404
    assert login(app.test_client(), "new@clinic.example").status_code == 302


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "Use at least 12 characters."),
        ("p" * 100_000, "Use at most 256 characters."),
        (" " * 20, "The password cannot be only spaces."),
    ],
    ids=["empty", "huge", "blank"],
)
def test_a_setup_password_that_cannot_be_used_is_refused_and_the_link_still_works(
    app, password, message
):
    with app.extensions["recordcheck.sessions"]() as session:
        _user, token = accounts.create_user(session, email="new@clinic.example", role="worker")
        session.commit()
    client = app.test_client()
    csrf = csrf_of(client.get(f"/console/setup/{token}").get_data(as_text=True))

    refused = client.post(
        f"/console/setup/{token}",
        data={"password": password, "confirm": password, "csrf_token": csrf},
    )

    assert refused.status_code == 400
    assert message in refused.get_data(as_text=True)
    assert client.get(f"/console/setup/{token}").status_code == 200


@pytest.mark.parametrize("token", ["nope", "x" * 500, "%00"])
def test_unknown_or_malformed_setup_links_say_so(client, token):
    assert client.get(f"/console/setup/{token}").status_code == 404


def test_an_expired_setup_link_does_not_work(app):
    with app.extensions["recordcheck.sessions"]() as session:
        user, token = accounts.create_user(session, email="late@clinic.example", role="worker")
        user.setup_token_expires_at = utcnow() - dt.timedelta(seconds=1)
        session.commit()

    assert app.test_client().get(f"/console/setup/{token}").status_code == 404


def test_a_user_without_a_password_cannot_sign_in(app):
    make_user(app, "pending@clinic.example", password=None)

    assert login(app.test_client(), "pending@clinic.example", "").status_code == 401
