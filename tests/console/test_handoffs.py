from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from db.base import utcnow
from db.models.console import ConsoleAuditEvent
from db.models.conversation import HandoffRequest
from db.storage import SqlConversationStore
from tests.console.conftest import login, make_user, open_handoff, page_token

SUMMARY = "Language: English\nCase number: 0B00000001\nResult: you can ask the court now"


@pytest.fixture
def handoff(app) -> int:
    """One open request, written the way the bot writes it."""
    return open_handoff(app, summary=SUMMARY)


def _row(app, handoff_id):
    with app.extensions["recordcheck.sessions"]() as session:
        return session.get(HandoffRequest, handoff_id)


def _post(client, path, **data):
    return client.post(path, data={"csrf_token": page_token(client), **data})


def test_the_inbox_shows_a_short_hash_and_only_what_was_shared(app, worker_client, handoff):
    full_hash = _row(app, handoff).sender_hash

    page = html.unescape(worker_client.get("/console/handoffs/").get_data(as_text=True))

    assert full_hash[:12] in page
    assert full_hash not in page
    assert "0B00000001" in page
    assert "4105550100" not in page
    assert "Claim" in page


def test_claim_note_release_and_close(app, worker_client, worker, handoff):
    base = f"/console/handoffs/{handoff}"

    claimed = _post(worker_client, f"{base}/claim")
    noted = _post(worker_client, f"{base}/note", note="Called back; <b>filing</b> next week.")
    row = _row(app, handoff)
    detail = worker_client.get(base).get_data(as_text=True)
    released = _post(worker_client, f"{base}/release")
    reclaimed = _post(worker_client, f"{base}/claim")
    closed = _post(worker_client, f"{base}/close")

    assert claimed.status_code == noted.status_code == released.status_code == 302
    assert reclaimed.status_code == closed.status_code == 302
    assert row.claimed_by == f"worker:{worker.id}"
    assert "Called back" in row.notes
    assert worker.email in row.notes
    assert "&lt;b&gt;filing&lt;/b&gt;" in detail
    final = _row(app, handoff)
    assert final.status == "closed"
    assert final.closed_at is not None
    with app.extensions["recordcheck.sessions"]() as session:
        actions = [e.action for e in session.scalars(select(ConsoleAuditEvent))]
    for action in (
        "handoff_claim",
        "handoff_note",
        "handoff_release",
        "handoff_close",
        "handoff_view",
    ):
        assert action in actions
    closed_list = worker_client.get("/console/handoffs/?view=closed").get_data(as_text=True)
    assert f'id="handoff-{handoff}"' in closed_list


def test_a_second_worker_cannot_take_or_change_a_claimed_request(app, worker_client, handoff):
    base = f"/console/handoffs/{handoff}"
    _post(worker_client, f"{base}/claim")
    other = app.test_client()
    make_user(app, "other@clinic.example")
    login(other, "other@clinic.example")

    assert _post(other, f"{base}/claim").status_code == 409
    assert _post(other, f"{base}/note", note="mine now").status_code == 403
    assert _post(other, f"{base}/close").status_code == 403
    assert _post(other, f"{base}/release").status_code == 403
    assert _row(app, handoff).status == "claimed"


def test_an_admin_may_close_someone_elses_request(app, worker_client, admin_client, handoff):
    _post(worker_client, f"/console/handoffs/{handoff}/claim")

    assert _post(admin_client, f"/console/handoffs/{handoff}/close").status_code == 302
    assert _row(app, handoff).status == "closed"


def test_mine_lists_only_my_claims(app, worker_client, handoff):
    assert f'id="handoff-{handoff}"' not in worker_client.get(
        "/console/handoffs/?view=mine"
    ).get_data(as_text=True)
    _post(worker_client, f"/console/handoffs/{handoff}/claim")

    mine = worker_client.get("/console/handoffs/?view=mine").get_data(as_text=True)
    assert f'id="handoff-{handoff}"' in mine
    assert "by you" in mine


@pytest.mark.parametrize(
    ("note", "code"), [("", 400), ("   ", 400), ("x" * 2001, 400), ("ok", 302)]
)
def test_notes_must_be_present_and_short(worker_client, handoff, note, code):
    _post(worker_client, f"/console/handoffs/{handoff}/claim")

    assert _post(worker_client, f"/console/handoffs/{handoff}/note", note=note).status_code == code


@pytest.mark.parametrize(
    "note", ["Called\x00back", "bad \ufffd byte", "esc \x1b[31m red"], ids=["nul", "fffd", "esc"]
)
def test_a_note_with_characters_that_cannot_be_stored_is_refused_and_kept(
    app, worker_client, handoff, note
):
    """PostgreSQL refuses a NUL in text (the note was a 500 and lost); the worker is told
    why, and the note stays in its box to fix."""
    _post(worker_client, f"/console/handoffs/{handoff}/claim")

    response = _post(worker_client, f"/console/handoffs/{handoff}/note", note=note)

    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "The note has characters that cannot be stored" in page
    assert note.split()[0][:4] in page
    assert _row(app, handoff).notes is None


def test_a_note_sent_twice_is_stored_once_and_a_new_note_is_added(app, worker_client, handoff):
    """A double click or a form the browser sends again is the same note, not a second one."""
    base = f"/console/handoffs/{handoff}"
    _post(worker_client, f"{base}/claim")

    first = _post(worker_client, f"{base}/note", note="Left a voicemail.")
    again = _post(worker_client, f"{base}/note", note="Left a voicemail.")
    other = _post(worker_client, f"{base}/note", note="Called back.")

    notes = _row(app, handoff).notes
    assert (first.status_code, again.status_code, other.status_code) == (302, 302, 302)
    assert notes.count("Left a voicemail.") == 1
    assert notes.count("Called back.") == 1


def test_unclaimed_requests_cannot_be_noted_or_closed(worker_client, handoff):
    assert _post(worker_client, f"/console/handoffs/{handoff}/note", note="x").status_code == 403
    assert _post(worker_client, f"/console/handoffs/{handoff}/close").status_code == 403


def test_missing_requests_and_forged_posts(worker_client, handoff):
    assert worker_client.get("/console/handoffs/99999").status_code == 404
    assert _post(worker_client, "/console/handoffs/99999/claim").status_code == 404
    assert worker_client.post(f"/console/handoffs/{handoff}/claim").status_code == 403
    assert worker_client.get("/console/handoffs/?view=<script>").status_code == 200


def test_a_request_deleted_by_the_resident_disappears(app, worker_client, handoff):
    with app.extensions["recordcheck.sessions"]() as session:
        row = session.get(HandoffRequest, handoff)
        SqlConversationStore(session).forget_sender(row.channel, row.sender_hash)
        session.commit()

    assert worker_client.get(f"/console/handoffs/{handoff}").status_code == 404
    assert f'id="handoff-{handoff}"' not in worker_client.get("/console/handoffs/").get_data(
        as_text=True
    )


def test_the_inbox_says_where_each_request_and_its_answer_are(app, worker_client, handoff):
    base = f"/console/handoffs/{handoff}"

    def status() -> str:
        page = worker_client.get("/console/handoffs/?view=active").get_data(as_text=True)
        row = page.split(f'id="handoff-{handoff}"', 1)[1].split("</tr>", 1)[0]
        return " ".join(html.unescape(row).split())

    opened = status()
    _post(worker_client, f"{base}/claim")
    claimed = status()
    _post(worker_client, f"{base}/answer", answer="Call us at 410-555-0142.")
    answered = status()
    detail = worker_client.get(base).get_data(as_text=True)
    with app.extensions["recordcheck.sessions"]() as session:
        SqlConversationStore(session).mark_answers_delivered(
            (handoff,), now=utcnow().replace(year=2026, month=12, day=1, hour=14, minute=5)
        )
        session.commit()
    delivered = status()
    _post(worker_client, f"{base}/close")
    closed = worker_client.get("/console/handoffs/?view=closed").get_data(as_text=True)

    assert "open" in opened
    assert "claimed by you" in claimed
    assert "answered, waiting for the person to write" in answered
    assert "Call us at 410-555-0142." in detail
    assert "Written by you" in detail
    assert "answer delivered 2026-12-01 14:05 UTC" in delivered
    assert "closed by you" in closed
    assert "answer delivered 2026-12-01 14:05 UTC" in closed
    with app.extensions["recordcheck.sessions"]() as session:
        events = list(
            session.scalars(
                select(ConsoleAuditEvent).where(ConsoleAuditEvent.action == "handoff_answer")
            )
        )
    assert [(e.detail, e.target_hash is not None) for e in events] == [("new", True)]


def test_a_delivered_answer_has_no_form_and_an_admin_may_answer(
    app, worker_client, admin_client, handoff
):
    base = f"/console/handoffs/{handoff}"
    _post(worker_client, f"{base}/claim")

    by_admin = _post(admin_client, f"{base}/answer", answer="From the supervisor.")
    with app.extensions["recordcheck.sessions"]() as session:
        SqlConversationStore(session).mark_answers_delivered((handoff,), now=utcnow())
        session.commit()
    page = worker_client.get(base).get_data(as_text=True)

    assert by_admin.status_code == 302
    assert _row(app, handoff).answer == "From the supervisor."
    assert 'name="answer"' not in page
    assert "From the supervisor." in page
