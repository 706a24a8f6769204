"""Console fixtures: accounts, a signed-in client per role, and CSRF-aware form posting."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from db.base import utcnow
from db.identity import sender_hash
from db.models.conversation import HandoffRequest
from db.storage import SqlConversationStore
from webhooks.console import accounts

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    match = _CSRF.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


@dataclass
class Worker:
    """A console account made for a test."""

    id: int
    email: str
    role: str
    password: str = PASSWORD


def make_user(
    app: Flask, email: str, role: str = "worker", password: str | None = PASSWORD
) -> Worker:
    sessions = app.extensions["recordcheck.sessions"]
    with sessions() as session:
        user, _token = accounts.create_user(session, email=email, role=role, password=password)
        session.commit()
        return Worker(user.id, user.email, user.role, password or "")


def open_handoff(
    app: Flask,
    *,
    channel: str = "sms",
    address: str = "+14105550100",
    lang: str = "en",
    summary: str = "Case: 0B00000001",
    notes: str | None = None,
) -> int:
    """One open handoff request, written the way the bot writes it (with ``notes`` already
    on it, when given); returns its id."""
    with app.extensions["recordcheck.sessions"]() as session:
        store = SqlConversationStore(session)
        store.add_handoff(
            channel, sender_hash("k", channel, address), lang=lang, summary=summary, now=utcnow()
        )
        store.commit()
        row = session.scalars(select(HandoffRequest).order_by(HandoffRequest.id.desc())).first()
        assert row is not None
        if notes is not None:
            row.notes = notes
            session.commit()
        return row.id


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> TestResponse:
    page = client.get("/console/login")
    token = csrf_of(page.get_data(as_text=True))
    return client.post(
        "/console/login", data={"email": email, "password": password, "csrf_token": token}
    )


def page_token(client: FlaskClient, path: str = "/console/") -> str:
    """The session's CSRF token, read from a page as a browser would."""
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return csrf_of(response.get_data(as_text=True))


@pytest.fixture
def worker(app: Flask) -> Worker:
    return make_user(app, "worker@clinic.example")


@pytest.fixture
def admin(app: Flask) -> Worker:
    return make_user(app, "admin@clinic.example", role="admin")


@pytest.fixture
def worker_client(app: Flask, worker: Worker) -> FlaskClient:
    client = app.test_client()
    assert login(client, worker.email).status_code == 302
    return client


@pytest.fixture
def admin_client(app: Flask, admin: Worker) -> FlaskClient:
    client = app.test_client()
    assert login(client, admin.email).status_code == 302
    return client


@pytest.fixture
def post_form(app: Flask) -> Callable[..., TestResponse]:
    """POST a form with the session's CSRF token, as the page would."""

    def post(
        client: FlaskClient, path: str, data: dict[str, object] | None = None, **kw: object
    ) -> TestResponse:
        token = page_token(client)
        return client.post(path, data={"csrf_token": token, **(data or {})}, **kw)  # type: ignore[arg-type]

    return post


_RECORD_ROWS = (
    "case_number,court,county,case_status,filing_date,defendant_name,date_of_birth,"
    "charge_number,description,statute,offense_date,disposition,disposition_date,"
    "sentence_completed_on,probation_violation,expunged",
    "0B00000001,district,Baltimore City,closed,2016-04-03,,,"
    "1,CDS: POSS-MARIJUANA,CR.5.601.(a)(1),2016-04-02,GUILTY,2016-06-10,2017-06-10,false,false",
    '0B00000002,district,Baltimore City,closed,2015-02-01,"JOHNSON, MARIA K",1980-05-06,'
    "1,CDS: POSS-MARIJUANA,CR.5.601.(a)(1),2015-01-31,NOLLE PROSEQUI,2015-05-01,,,false",
    "0B00000003,district,Baltimore City,closed,2018-03-01,,,"
    "1,CDS:P W/I DIST:MARIJUANA,CR.5.602,2018-02-27,GUILTY,2018-08-01,2020-08-01,false,false",
    "0B00000003,district,Baltimore City,closed,2018-03-01,,,"
    "2,CDS: POSS-MARIJUANA,CR.5.601.(a)(1),2018-02-27,NOLLE PROSEQUI,2018-08-01,,,false",
)
#: Three cases in the project's record format (DESIGN 5.4); one carries a name and birth date.
RECORDS_CSV = "\n".join(_RECORD_ROWS) + "\n"
PROGRAM_CSV = """program,case_number,status,status_date,note
bcsao-2019-vacatur,0B00000001,denied,2019-04-26,court denied the motion
"""


@pytest.fixture
def records(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A few known cases (one with a name and date of birth) and a program entry."""
    from db.records.importer import import_paths

    folder = tmp_path_factory.mktemp("records")
    (folder / "records.csv").write_text(RECORDS_CSV, encoding="utf-8")
    (folder / "program.csv").write_text(PROGRAM_CSV, encoding="utf-8")
    report = import_paths(
        app.extensions["recordcheck.engine"], [folder / "records.csv", folder / "program.csv"]
    )
    assert report.error_count == 0, report.errors
