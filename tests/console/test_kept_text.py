"""Nothing typed is lost when a form is refused because the session or its token is no longer good.

The worker's text comes back in the form after signing in again (session timed out, signed out
in another tab, cookie gone) or at once (a stale token): to check and send, saved only then,
once. It never lands in a URL or a log, and never in front of another worker.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from db.base import utcnow
from db.models.console import ConsoleAuditEvent, ConsoleSession
from db.models.conversation import HandoffRequest
from tests.console.conftest import PASSWORD, login, make_user, open_handoff, page_token
from webhooks.console import accounts

NOTE = (
    "Called Ms. Doe back at 3pm; she has the 2016 case papers.\n"
    'Next: file the petition & check <the> PBJ "stet" question.\n' + "More detail. " * 120
)


class _Forms(HTMLParser):
    """Every form of a page: its action, and its fields as a browser would send them."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((a.get("action", ""), []))
        elif tag == "input" and self.forms and "name" in a:
            kind = a.get("type", "text")
            if kind not in ("radio", "checkbox") or "checked" in a:
                self.forms[-1][1].append((a["name"], a.get("value", "")))
        elif tag == "textarea" and self.forms:
            self._textarea = a["name"]
            self.forms[-1][1].append((a["name"], ""))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            name, value = self.forms[-1][1][-1]
            self.forms[-1][1][-1] = (name, value + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None


def form_of(response: TestResponse, action: str) -> dict[str, str]:
    """The fields of the page's form posting to ``action`` (hidden ones included)."""
    parser = _Forms()
    parser.feed(response.get_data(as_text=True))
    for form_action, fields in parser.forms:
        if form_action == action:
            return dict(fields)
    raise AssertionError(f"no form posting to {action}")


def _sessions(app):
    return app.extensions["recordcheck.sessions"]()


@pytest.fixture
def claimed(app, worker_client) -> int:
    """A request the signed-in worker has claimed."""
    handoff_id = open_handoff(app)
    worker_client.post(
        f"/console/handoffs/{handoff_id}/claim", data={"csrf_token": page_token(worker_client)}
    )
    return handoff_id


def _notes(app, handoff_id: int) -> str:
    with _sessions(app) as session:
        return session.get(HandoffRequest, handoff_id).notes or ""


def _idle_out(app) -> None:
    """Every session has been idle longer than the console allows."""
    with _sessions(app) as session:
        session.execute(
            update(ConsoleSession).values(
                last_seen_at=utcnow() - accounts.SESSION_IDLE - dt.timedelta(seconds=1)
            )
        )
        session.commit()


def _sign_in_from(client: FlaskClient, page: TestResponse, email: str, password: str = PASSWORD):
    """Fill in the sign-in page shown and send it, hidden fields and all, as a browser would."""
    fields = form_of(page, "/console/login")
    return client.post("/console/login", data={**fields, "email": email, "password": password})


def _textarea(response: TestResponse, action: str, name: str) -> str:
    return form_of(response, action)[name].replace("\r\n", "\n")


def _unescaped(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_note_sent_after_the_session_timed_out_comes_back_after_sign_in_and_is_saved_once(
    app, worker_client, worker, claimed, caplog
):
    caplog.set_level(logging.DEBUG)
    base = f"/console/handoffs/{claimed}"
    page = worker_client.get(base)
    form = form_of(page, f"{base}/note")
    _idle_out(app)

    refused = worker_client.post(f"{base}/note", data={**form, "note": NOTE})

    assert refused.status_code == 401
    assert "Your session ended before your note went through" in _unescaped(refused)
    assert _notes(app, claimed) == ""
    signed_in = _sign_in_from(worker_client, refused, worker.email)
    assert signed_in.status_code == 200
    assert "You are signed in again. Nothing was done yet" in _unescaped(signed_in)
    assert _textarea(signed_in, f"{base}/note", "note") == NOTE.strip()
    assert _notes(app, claimed) == ""

    saved = worker_client.post(f"{base}/note", data=form_of(signed_in, f"{base}/note"))

    assert saved.status_code == 302
    assert _notes(app, claimed).count("Called Ms. Doe back at 3pm") == 1
    assert "file the petition & check <the> PBJ" in _notes(app, claimed)
    # Never in a URL or a log: only in the bodies of the posts and the pages shown back.
    for response in (refused, signed_in, saved):
        assert "Ms. Doe" not in response.headers.get("Location", "")
    assert all("Ms. Doe" not in r.getMessage() for r in caplog.records)
    with _sessions(app) as session:
        details = [str(e.detail) for e in session.scalars(select(ConsoleAuditEvent))]
    assert all("Doe" not in d for d in details)


def test_a_wrong_password_on_the_way_back_keeps_carrying_the_note(
    app, worker_client, worker, claimed
):
    base = f"/console/handoffs/{claimed}"
    form = form_of(worker_client.get(base), f"{base}/note")
    _idle_out(app)
    refused = worker_client.post(f"{base}/note", data={**form, "note": NOTE})

    wrong = _sign_in_from(worker_client, refused, worker.email, "not the password, sorry")
    assert wrong.status_code == 401
    assert "did not match" in _unescaped(wrong)
    right = _sign_in_from(worker_client, wrong, worker.email)

    assert right.status_code == 200
    assert _textarea(right, f"{base}/note", "note") == NOTE.strip()


def test_a_stale_sign_in_form_keeps_carrying_the_note(app, worker_client, worker, claimed):
    base = f"/console/handoffs/{claimed}"
    form = form_of(worker_client.get(base), f"{base}/note")
    _idle_out(app)
    refused = worker_client.post(f"{base}/note", data={**form, "note": NOTE})
    worker_client.delete_cookie("rc_console_pre", path="/console")  # its token no longer good

    stale = _sign_in_from(worker_client, refused, worker.email)
    assert stale.status_code == 403
    assert "sign-in form had expired" in _unescaped(stale)
    right = _sign_in_from(worker_client, stale, worker.email)

    assert right.status_code == 200
    assert _textarea(right, f"{base}/note", "note") == NOTE.strip()


def test_a_note_sent_after_signing_out_in_another_tab_comes_back(
    app, worker_client, worker, claimed
):
    base = f"/console/handoffs/{claimed}"
    form = form_of(worker_client.get(base), f"{base}/note")
    # The other tab shares the cookie: signing out there ends this tab's session too.
    worker_client.post("/console/logout", data={"csrf_token": page_token(worker_client)})

    refused = worker_client.post(f"{base}/note", data={**form, "note": NOTE})

    assert refused.status_code == 401
    signed_in = _sign_in_from(worker_client, refused, worker.email)
    assert _textarea(signed_in, f"{base}/note", "note") == NOTE.strip()
    assert _notes(app, claimed) == ""


def test_a_note_sent_with_the_cookie_gone_comes_back(app, worker_client, worker, claimed):
    base = f"/console/handoffs/{claimed}"
    form = form_of(worker_client.get(base), f"{base}/note")
    worker_client.delete_cookie("rc_console", path="/console")

    refused = worker_client.post(f"{base}/note", data={**form, "note": NOTE})

    assert refused.status_code == 401
    signed_in = _sign_in_from(worker_client, refused, worker.email)
    assert _textarea(signed_in, f"{base}/note", "note") == NOTE.strip()


def test_a_note_sent_from_a_page_whose_token_went_stale_comes_straight_back(
    app, worker_client, worker, claimed
):
    base = f"/console/handoffs/{claimed}"
    form = form_of(worker_client.get(base), f"{base}/note")
    # Signed out and in again in another tab: a new session and token; this page has the old.
    worker_client.post("/console/logout", data={"csrf_token": page_token(worker_client)})
    assert login(worker_client, worker.email).status_code == 302

    stale = worker_client.post(f"{base}/note", data={**form, "note": NOTE})

    assert stale.status_code == 403
    assert "This page had expired" in _unescaped(stale)
    assert _textarea(stale, f"{base}/note", "note") == NOTE.strip()
    assert _notes(app, claimed) == ""
    saved = worker_client.post(f"{base}/note", data=form_of(stale, f"{base}/note"))
    assert saved.status_code == 302
    assert _notes(app, claimed).count("Called Ms. Doe back at 3pm") == 1


def test_an_answer_sent_after_the_session_ended_comes_back(app, worker_client, worker, claimed):
    base = f"/console/handoffs/{claimed}"
    form = form_of(worker_client.get(base), f"{base}/answer")
    _idle_out(app)

    refused = worker_client.post(f"{base}/answer", data={**form, "answer": "Call us on Tuesday."})
    signed_in = _sign_in_from(worker_client, refused, worker.email)

    assert _textarea(signed_in, f"{base}/answer", "answer") == "Call us on Tuesday."
    with _sessions(app) as session:
        assert session.get(HandoffRequest, claimed).answer is None


def test_another_worker_signing_in_on_the_same_computer_does_not_get_the_note(
    app, worker_client, worker, claimed
):
    colleague = make_user(app, "colleague@clinic.example", role="admin")
    base = f"/console/handoffs/{claimed}"
    form = form_of(worker_client.get(base), f"{base}/note")
    _idle_out(app)
    refused = worker_client.post(f"{base}/note", data={**form, "note": NOTE})

    signed_in = _sign_in_from(worker_client, refused, colleague.email)

    assert signed_in.status_code == 200
    assert "written under another account, so it was not kept" in _unescaped(signed_in)
    assert "Ms. Doe" not in _unescaped(signed_in)
    assert _notes(app, claimed) == ""


def test_a_note_forged_into_the_sign_in_form_without_its_author_is_dropped(
    app, client, worker, claimed
):
    page = client.get("/console/login")
    forged = client.post(
        "/console/login",
        data={
            **form_of(page, "/console/login"),
            "email": worker.email,
            "password": PASSWORD,
            "keep_path": f"/console/handoffs/{claimed}/note",
            "keep:note": "Planted text.",
        },
    )

    assert "Planted text." not in _unescaped(forged)
    assert _notes(app, claimed) == ""


@pytest.mark.parametrize(
    "path", ["/console/logout", "https://evil.example/console/handoffs/1/note", "/console/x" * 50]
)
def test_a_sign_in_naming_another_page_goes_on_as_usual(app, client, worker, path):
    page = client.get("/console/login")
    response = client.post(
        "/console/login",
        data={
            **form_of(page, "/console/login"),
            "email": worker.email,
            "password": PASSWORD,
            "keep_path": path,
            "keep:note": "text",
        },
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/console/"


def test_a_post_from_another_site_without_a_session_is_still_refused(app, client, claimed):
    response = client.post(
        f"/console/handoffs/{claimed}/note",
        data={"note": "from elsewhere"},
        headers={"Origin": "https://evil.example"},
    )

    assert response.status_code == 401
    assert "from elsewhere" not in response.get_data(as_text=True)


def test_the_by_hand_answers_come_back_after_sign_in(app, worker_client, worker):
    form = form_of(worker_client.get("/console/screen"), "/console/screen")
    _idle_out(app)
    answers = {
        **form,
        "q_charge": "pwid",
        "q_outcome": "stet",
        "q_when_year": "2014",
        "q_when_month": "7",
        "q_court": "baltimore_county",
    }

    refused = worker_client.post("/console/screen", data=answers)
    signed_in = _sign_in_from(worker_client, refused, worker.email)

    kept = form_of(signed_in, "/console/screen")
    assert signed_in.status_code == 200
    assert kept["q_charge"] == "pwid"
    assert kept["q_outcome"] == "stet"
    assert kept["q_court"] == "baltimore_county"
    assert kept["q_when_year"] == "2014"
    assert 'value="7" selected' in signed_in.get_data(as_text=True)
    assert "Screened from what the client said" not in _unescaped(signed_in)


def test_a_look_up_and_a_search_come_back_after_sign_in(app, worker_client, worker):
    home = worker_client.get("/console/")
    lookup = form_of(home, "/console/lookup")
    search = form_of(home, "/console/search")
    _idle_out(app)

    refused = worker_client.post(
        "/console/lookup",
        data={**lookup, "case_number": "0B00000003", "later_conviction": "no"},
    )
    signed_in = _sign_in_from(worker_client, refused, worker.email)
    kept = form_of(signed_in, "/console/lookup")
    assert kept["case_number"] == "0B00000003"
    assert kept["later_conviction"] == "no"  # the client's answer rides along with it

    worker_client.delete_cookie("rc_console", path="/console")
    refused = worker_client.post(
        "/console/search",
        data={**search, "name": "Maria Johnson", "search_date_of_birth": "1980-05-06"},
    )
    signed_in = _sign_in_from(worker_client, refused, worker.email)
    kept = form_of(signed_in, "/console/search")
    assert kept["name"] == "Maria Johnson"
    assert kept["search_date_of_birth"] == "1980-05-06"


def test_a_new_users_email_comes_back_only_for_an_admin(app, admin_client, admin, worker):
    form = form_of(admin_client.get("/console/admin/users"), "/console/admin/users")
    _idle_out(app)
    data = {**form, "email": "lead@clinic.example", "role": "admin"}

    refused = admin_client.post("/console/admin/users", data=data)
    signed_in = _sign_in_from(admin_client, refused, admin.email)

    kept = form_of(signed_in, "/console/admin/users")
    assert kept["email"] == "lead@clinic.example"
    assert 'value="admin" selected' in signed_in.get_data(as_text=True)
    assert "lead@clinic.example" not in {u for u in _emails(app)}


def _emails(app) -> set[str]:
    from db.models.console import ConsoleUser

    with _sessions(app) as session:
        return set(session.scalars(select(ConsoleUser.email)))


def test_a_note_for_a_request_closed_meanwhile_is_shown_to_copy(
    app, worker_client, worker, claimed
):
    base = f"/console/handoffs/{claimed}"
    form = form_of(worker_client.get(base), f"{base}/note")
    _idle_out(app)
    refused = worker_client.post(f"{base}/note", data={**form, "note": NOTE})
    with _sessions(app) as session:
        session.execute(update(HandoffRequest).values(status="closed", closed_at=utcnow()))
        session.commit()

    signed_in = _sign_in_from(worker_client, refused, worker.email)

    page = _unescaped(signed_in)
    assert "This note was not saved, and notes cannot be added here now" in page
    assert "Called Ms. Doe back at 3pm" in page
    assert _notes(app, claimed) == ""
