from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from db.models.console import ConsoleAuditEvent, ConsoleUser
from tests.console.conftest import PASSWORD, csrf_of, login
from webhooks.cli import cli


@pytest.fixture
def cli_env(database_url, engine, monkeypatch, db_session):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("RECORDCHECK_PUBLIC_BASE_URL", "https://rc.example")
    return db_session


def _users(session):
    session.expire_all()
    return list(session.scalars(select(ConsoleUser).order_by(ConsoleUser.id)))


def test_users_create_reads_the_password_from_stdin(cli_env, app):
    result = CliRunner().invoke(
        cli,
        [
            "users",
            "create",
            "--email",
            "Lead@Clinic.Example",
            "--role",
            "admin",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )

    assert result.exit_code == 0, result.output
    [user] = _users(cli_env)
    assert user.email == "lead@clinic.example"
    assert user.role == "admin"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in result.output
    assert login(app.test_client(), "lead@clinic.example").status_code == 302


def test_users_create_without_a_password_prints_a_one_time_link_once(cli_env, app):
    result = CliRunner().invoke(cli, ["users", "create", "--email", "w@clinic.example"])

    assert result.exit_code == 0, result.output
    links = re.findall(r"https://rc\.example/console/setup/\S+", result.output)
    assert len(links) == 1
    [user] = _users(cli_env)
    assert user.role == "worker"
    assert user.password_hash is None
    token = links[0].rsplit("/", 1)[1]
    assert token not in (user.setup_token_hash or "")
    client = app.test_client()
    page = client.get(f"/console/setup/{token}")
    assert page.status_code == 200


@pytest.mark.parametrize(
    ("args", "stdin", "code"),
    [
        (["--email", "x@clinic.example", "--role", "boss"], None, 2),
        (["--email", "not-an-email"], None, 1),
        (["--email", ""], None, 1),
        (["--email", "x\x00@clinic.example"], None, 1),
        (["--email", "x@clinic.example", "--password-stdin"], "short\n", 1),
        (["--email", "x@clinic.example", "--password-stdin"], "", 2),
        (["--email", "x@clinic.example", "--password-stdin"], b"\xff\xfe\xfa" * 8, 2),
        ([], None, 2),
    ],
    ids=[
        "bad-role",
        "bad-email",
        "empty-email",
        "nul-in-email",
        "short-password",
        "no-password",
        "not-utf8",
        "no-email",
    ],
)
def test_users_create_refuses_bad_input_clearly(cli_env, args, stdin, code):
    result = CliRunner().invoke(cli, ["users", "create", *args], input=stdin)

    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert _users(cli_env) == []


def test_users_create_refuses_a_duplicate_email(cli_env):
    runner = CliRunner()
    runner.invoke(cli, ["users", "create", "--email", "dup@clinic.example"])

    again = runner.invoke(cli, ["users", "create", "--email", "DUP@clinic.example"])

    assert again.exit_code == 1
    assert "already exists" in again.output
    assert len(_users(cli_env)) == 1


def test_users_list_and_reset(cli_env, app):
    runner = CliRunner()
    runner.invoke(
        cli, ["users", "create", "--email", "a@clinic.example", "--password-stdin"], input=PASSWORD
    )

    listed = runner.invoke(cli, ["users", "list"])
    reset = runner.invoke(cli, ["users", "reset", "--email", "a@clinic.example"])
    missing = runner.invoke(cli, ["users", "reset", "--email", "b@clinic.example"])

    assert "a@clinic.example\tworker\tactive" in listed.output
    assert reset.exit_code == 0
    assert reset.output.startswith("https://rc.example/console/setup/")
    assert missing.exit_code == 1


def test_users_reset_of_an_email_with_a_nul_says_no_account(cli_env):
    result = CliRunner().invoke(cli, ["users", "reset", "--email", "a\x00@clinic.example"])

    assert result.exit_code == 1
    assert result.output == "Error: no account with that email\n"


# --- the admin's users page ---------------------------------------------------------------


def test_workers_cannot_open_admin_pages(worker_client, post_form):
    assert worker_client.get("/console/admin/users").status_code == 403
    assert worker_client.get("/console/admin/imports").status_code == 403
    created = post_form(
        worker_client, "/console/admin/users", {"email": "x@clinic.example", "role": "admin"}
    )
    assert created.status_code == 403


def test_admin_adds_a_user_and_sees_the_one_time_link(app, admin_client, post_form):
    response = post_form(
        admin_client, "/console/admin/users", {"email": "new@clinic.example", "role": "worker"}
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 201
    assert "/console/setup/" in html
    link = re.search(r'value="(http[^"]+/console/setup/[^"]+)"', html).group(1)
    token = link.rsplit("/", 1)[1]
    new_client = app.test_client()
    csrf = csrf_of(new_client.get(f"/console/setup/{token}").get_data(as_text=True))
    new_client.post(
        f"/console/setup/{token}",
        data={"password": PASSWORD, "confirm": PASSWORD, "csrf_token": csrf},
    )
    assert login(app.test_client(), "new@clinic.example").status_code == 302
    assert "/console/setup/" not in admin_client.get("/console/admin/users").get_data(as_text=True)


@pytest.mark.parametrize(
    ("email", "role"),
    [
        ("", "worker"),
        ("bad", "worker"),
        ("admin@clinic.example", "worker"),
        ("z@clinic.example", "root"),
        ("<b>x</b>@clinic.example", "worker"),
        ("new\x00@clinic.example", "worker"),
        ("new@clinic.example\x7f", "worker"),
        ("a" * 100_000 + "@clinic.example", "worker"),
    ],
    ids=["empty", "not-email", "duplicate", "bad-role", "markup", "nul", "delete-char", "huge"],
)
def test_admin_user_form_rejects_bad_input(app, admin_client, post_form, email, role):
    response = post_form(admin_client, "/console/admin/users", {"email": email, "role": role})

    assert response.status_code == 400
    assert "<b>x</b>" not in response.get_data(as_text=True)
    with app.extensions["recordcheck.sessions"]() as session:
        assert [u.email for u in _users(session)] == ["admin@clinic.example"]


def test_admin_unlocks_changes_role_and_resets(app, admin_client, worker, post_form):
    for _ in range(5):
        login(app.test_client(), worker.email, "wrong password!!")

    unlocked = post_form(admin_client, f"/console/admin/users/{worker.id}", {"action": "unlock"})
    promoted = post_form(
        admin_client, f"/console/admin/users/{worker.id}", {"action": "role", "role": "admin"}
    )
    reset = post_form(admin_client, f"/console/admin/users/{worker.id}", {"action": "reset"})

    assert unlocked.status_code == promoted.status_code == reset.status_code == 200
    assert "/console/setup/" in reset.get_data(as_text=True)
    assert login(app.test_client(), worker.email).status_code == 302
    with app.extensions["recordcheck.sessions"]() as session:
        assert session.get(ConsoleUser, worker.id).role == "admin"
        actions = {e.action for e in session.scalars(select(ConsoleAuditEvent))}
    assert {"user_unlock", "user_role", "user_reset"} <= actions


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"action": "explode"}, 400),
        ({"action": "role", "role": "god"}, 400),
        ({"action": "deactivate", "self": True}, 400),
        ({"action": "role", "role": "worker", "self": True}, 400),
    ],
    ids=["unknown-action", "unknown-role", "deactivate-self", "demote-self"],
)
def test_admin_user_changes_refuse_nonsense(admin_client, admin, worker, post_form, data, code):
    data = dict(data)  # the parametrised dict is shared by both backends' runs
    target = admin.id if data.pop("self", False) else worker.id

    assert post_form(admin_client, f"/console/admin/users/{target}", data).status_code == code


def test_changing_a_missing_user_is_404(admin_client, post_form):
    assert (
        post_form(admin_client, "/console/admin/users/99999", {"action": "unlock"}).status_code
        == 404
    )
