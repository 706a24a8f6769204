"""A worker answers a handoff in the console; the resident gets it when they next write.

No address is kept for a handoff, so the answer waits in the request and goes out, once,
inline with the reply to the person's next SMS (TwiML) or Telegram message (webhook reply).
Runs on SQLite and PostgreSQL through the Flask client: requests signed with twilio's
``RequestValidator``, real Bot API update JSON, the real console with its CSRF token.
"""
# ruff: noqa: F811 - pytest fixtures imported from tests.fakes.channels

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from db.base import utcnow
from db.identity import sender_hash
from db.models.console import ConsoleAuditEvent
from db.models.conversation import Conversation, HandoffRequest, ProcessedMessage
from db.storage import purge
from tests.console.conftest import login, make_user, page_token
from tests.fakes.channels import (  # noqa: F401 - fixtures
    CHANNEL_CONFIG,
    channel_app,
    channel_client,
    message_sid,
    next_update_id,
    post_sms,
    post_update,
    sms_form,
    tg_message_update,
    twiml_messages,
)
from webhooks.console.handoffs import answer_problem

HMAC_KEY = CHANNEL_CONFIG["RECORDCHECK_HMAC_KEY"]
NUMBER = "+14105550177"
ANSWER = (
    "Hi, this is Dana at the clinic. Your case can be cleared now. Call us at 410-555-0142, "
    "Monday to Friday, and we will fill in the form with you for free."
)


def _sms(client: FlaskClient, body: str, *, number: str = NUMBER, sid: str | None = None):
    response = post_sms(client, sms_form(body, sender=number, sid=sid or message_sid()))
    assert response.status_code == 200, response.status_code
    return response


def _open_handoff_by_sms(client: FlaskClient, *, number: str = NUMBER, lang: str = "en") -> None:
    for said in ("Hi", "1" if lang == "en" else "2", "4", "YES" if lang == "en" else "SI"):
        _sms(client, said, number=number)


def _row_of(engine, model, channel: str, raw: str):
    """The one row of ``model`` for this sender."""
    with Session(engine) as session:
        hashed = sender_hash(HMAC_KEY, channel, raw)
        return session.scalars(select(model).where(model.sender_hash == hashed)).one()


def _handoff(engine, channel: str = "sms", raw: str = NUMBER) -> HandoffRequest:
    return _row_of(engine, HandoffRequest, channel, raw)


def _conversation(engine, channel: str = "sms", raw: str = NUMBER) -> Conversation:
    return _row_of(engine, Conversation, channel, raw)


def _worker(app: Flask, email: str = "dana@clinic.example") -> FlaskClient:
    make_user(app, email)
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def _post(client: FlaskClient, path: str, **data: str):
    return client.post(path, data={"csrf_token": page_token(client), **data})


def _answer_in_console(app: Flask, handoff_id: int, text: str = ANSWER) -> FlaskClient:
    worker = _worker(app)
    base = f"/console/handoffs/{handoff_id}"
    assert _post(worker, f"{base}/claim").status_code == 302
    assert _post(worker, f"{base}/answer", answer=text).status_code == 302
    return worker


# ---- SMS -----------------------------------------------------------------------------------


def test_an_sms_resident_gets_the_answer_before_the_reply_once_even_on_a_retry(
    channel_app, channel_client, engine
):
    _open_handoff_by_sms(channel_client)
    handoff = _handoff(engine)
    worker = _answer_in_console(channel_app, handoff.id)
    waiting = worker.get("/console/handoffs/").get_data(as_text=True)
    sid = message_sid()

    first = _sms(channel_client, "menu", sid=sid)
    version = _conversation(engine).version
    retry = _sms(channel_client, "menu", sid=sid)
    later = twiml_messages(_sms(channel_client, "menu").data)

    messages = twiml_messages(first.data)
    assert messages[0].startswith(f"A message from our team: {ANSWER}")
    assert "What would you like to do?" in "\n".join(messages)
    assert "What would you like to do?" not in messages[0].split(ANSWER)[0]
    assert retry.data == first.data
    assert _conversation(engine).version == version + 1  # the later message only
    assert all(ANSWER not in m for m in later)
    delivered = _handoff(engine)
    assert delivered.answer_delivered_at is not None
    assert delivered.answer == ANSWER
    assert "answered, waiting for the person to write" in waiting
    inbox = worker.get("/console/handoffs/").get_data(as_text=True)
    assert "answer delivered" in inbox
    assert _conversation(engine).state.get("handoff_waiting") is None


def test_a_spanish_sms_resident_gets_the_spanish_wrapper_in_gsm7(
    channel_app, channel_client, engine
):
    _open_handoff_by_sms(channel_client, lang="es")
    _answer_in_console(channel_app, _handoff(engine).id, "Su caso está listo. Llámenos — gracias")

    messages = twiml_messages(_sms(channel_client, "hola").data)

    assert messages[0].startswith("Un mensaje de nuestro equipo: Su caso esta listo. Llamenos - ")


def test_a_closed_request_still_delivers_its_answer(channel_app, channel_client, engine):
    _open_handoff_by_sms(channel_client)
    handoff_id = _handoff(engine).id
    worker = _answer_in_console(channel_app, handoff_id)
    assert _post(worker, f"/console/handoffs/{handoff_id}/close").status_code == 302

    messages = twiml_messages(_sms(channel_client, "hi").data)

    assert messages[0].startswith(f"A message from our team: {ANSWER}")
    closed = worker.get("/console/handoffs/?view=closed").get_data(as_text=True)
    assert "answer delivered" in closed


def test_an_answer_cannot_be_changed_after_delivery(channel_app, channel_client, engine):
    _open_handoff_by_sms(channel_client)
    handoff_id = _handoff(engine).id
    worker = _answer_in_console(channel_app, handoff_id)
    _sms(channel_client, "menu")

    late = _post(worker, f"/console/handoffs/{handoff_id}/answer", answer="A second thought")

    assert late.status_code == 409
    assert "can no longer be changed" in late.get_data(as_text=True)
    assert _handoff(engine).answer == ANSWER


def test_delete_erases_an_undelivered_answer(channel_app, channel_client, engine):
    _open_handoff_by_sms(channel_client)
    _answer_in_console(channel_app, _handoff(engine).id)

    asked = twiml_messages(_sms(channel_client, "DELETE").data)
    _sms(channel_client, "YES")

    # The DELETE question is a message like any other: the answer went out with it.
    assert asked[0].startswith("A message from our team:")
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(HandoffRequest)) == 0


def test_delete_before_any_message_erases_the_answer_unsent(channel_app, channel_client, engine):
    _open_handoff_by_sms(channel_client)
    handoff_id = _handoff(engine).id
    with Session(engine) as session:  # the conversation row is gone (purged), the request not
        session.execute(update(HandoffRequest).values(answer=ANSWER, answered_by="worker:1"))
        session.query(Conversation).delete()
        session.commit()

    _sms(channel_client, "DELETE")
    _sms(channel_client, "YES")

    with Session(engine) as session:
        assert session.get(HandoffRequest, handoff_id) is None


def test_an_answer_outlives_the_purge_of_an_idle_conversation(channel_app, channel_client, engine):
    """The person asked, then went quiet past the retention period: the purge removes the
    conversation (and its flag) but not the open request, so the answer written since still
    goes out with the reply to their next message, before the welcome, once."""
    _open_handoff_by_sms(channel_client)
    with Session(engine) as session:
        counts = purge(session, now=utcnow() + dt.timedelta(days=31), retention_days=30)
        session.commit()
    assert counts["conversations"] == 1
    _answer_in_console(channel_app, _handoff(engine).id)

    back = twiml_messages(_sms(channel_client, "Hi").data)
    later = twiml_messages(_sms(channel_client, "Hi").data)

    assert back[0].startswith("A message from our team:")
    assert "Dana at the clinic" in back[0]
    assert not any("Dana at the clinic" in text for text in later)
    assert _handoff(engine).answer_delivered_at is not None


# ---- Telegram ------------------------------------------------------------------------------

CHAT = 7301


def _tg(client: FlaskClient, text: str, *, update_id: int | None = None, lang: str = "en"):
    update = tg_message_update(
        text, user_id=CHAT, update_id=update_id or next_update_id(), language_code=lang
    )
    response = post_update(client, update)
    assert response.status_code == 200, response.status_code
    return response


def test_a_telegram_resident_gets_the_answer_once_even_on_a_retry(
    channel_app, channel_client, engine
):
    for said in ("/start", "4", "yes"):
        _tg(channel_client, said)
    handoff = _handoff(engine, "telegram", str(CHAT))
    _answer_in_console(channel_app, handoff.id, "¡Hola! Su caso: sí, se puede borrar.")
    update_id = next_update_id()

    first = _tg(channel_client, "menu", update_id=update_id)
    retry = _tg(channel_client, "menu", update_id=update_id)
    later = _tg(channel_client, "menu")

    reply = first.get_json()
    assert reply["method"] == "sendMessage"
    assert reply["chat_id"] == CHAT
    assert reply["text"].startswith("A message from our team: ¡Hola! Su caso: sí, se puede")
    assert "What would you like to do?" in reply["text"]
    assert retry.get_json() == reply
    assert "A message from our team" not in later.get_json()["text"]
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(ProcessedMessage)) >= 5
    assert _handoff(engine, "telegram", str(CHAT)).answer_delivered_at is not None


def test_a_spanish_telegram_resident_gets_the_spanish_wrapper(channel_app, channel_client, engine):
    for said in ("/start", "4", "sí"):
        _tg(channel_client, said, lang="es")
    _answer_in_console(channel_app, _handoff(engine, "telegram", str(CHAT)).id)

    text = _tg(channel_client, "hola", lang="es").get_json()["text"]

    assert text.startswith(f"Un mensaje de nuestro equipo: {ANSWER}")


def test_a_team_answer_with_markup_characters_reaches_telegram_exactly_as_typed(
    channel_app, channel_client, engine
):
    """No parse mode: "<", "&", "_", "*" and "[" are shown as typed, never read as
    formatting (a stray "*" or "<" under a parse mode is a Bot API 400 and no message)."""
    for said in ("/start", "4", "yes"):
        _tg(channel_client, said)
    typed = "Bring <ID> & form CC-DC-CR-072B_v2 *today* [free] `help` (Mon_Fri)"
    _answer_in_console(channel_app, _handoff(engine, "telegram", str(CHAT)).id, typed)

    reply = _tg(channel_client, "menu").get_json()

    assert "parse_mode" not in reply
    assert "entities" not in reply
    assert reply["text"].startswith(f"A message from our team: {typed}\n")


# ---- no cost for everyone else -------------------------------------------------------------


@contextmanager
def _statements(app: Flask) -> Iterator[list[str]]:
    """Every statement the app's engine sends: SQLAlchemy's ``before_cursor_execute``, and at
    the driver (which also sees the hot path's ``DriverStatement`` SQL, run below SQLAlchemy)
    SQLite's trace callback or libpq's protocol trace (one ``Query`` or ``Execute`` message
    per statement on PostgreSQL)."""
    engine = app.extensions["recordcheck.engine"]
    seen: list[str] = []
    traces: list[Path] = []
    folder = Path(tempfile.mkdtemp(prefix="pqtrace"))

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    def on_checkout(dbapi_connection, record, proxy):
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.set_trace_callback(lambda sql: seen.append(f"driver: {sql}"))
        elif hasattr(dbapi_connection, "pgconn"):
            path = folder / f"{len(traces)}.trace"
            traces.append(path)
            record.info["trace"] = path.open("w")
            dbapi_connection.pgconn.trace(record.info["trace"].fileno())
            dbapi_connection.pgconn.set_trace_flags(
                psycopg.pq.Trace.SUPPRESS_TIMESTAMPS | psycopg.pq.Trace.REGRESS_MODE
            )

    def on_checkin(dbapi_connection, record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.set_trace_callback(None)
        elif "trace" in record.info:
            dbapi_connection.pgconn.untrace()
            record.info.pop("trace").close()

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "checkin", on_checkin)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "checkout", on_checkout)
        event.remove(engine, "checkin", on_checkin)
        for path in traces:
            for line in path.read_text().splitlines():
                fields = line.split("\t")
                if fields[0] == "F" and fields[2].split()[0] in ("Query", "Execute", "Parse"):
                    seen.append(f"driver: {fields[2]}")
        shutil.rmtree(folder)


def _cost(app: Flask, client: FlaskClient, body: str, number: str) -> list[str]:
    with _statements(app) as seen:
        _sms(client, body, number=number)
    return list(seen)


def _counts(statements: list[str]) -> tuple[int, int]:
    """(statements through SQLAlchemy, statements the driver ran)."""
    driver = [s for s in statements if s.startswith("driver: ")]
    executed = [s for s in driver if not s.startswith("driver: Parse")]
    return len(statements) - len(driver), len(executed)


def test_a_sender_without_a_handoff_pays_no_extra_query(channel_app, channel_client, engine):
    """Only a state with ``handoff_waiting`` asks for answers: one query, and none again once
    the request is closed without an answer."""
    plain, asked = "+14105550181", "+14105550182"
    for said in ("Hi", "1", "2"):
        _sms(channel_client, said, number=plain)
    _open_handoff_by_sms(channel_client, number=asked)
    _sms(channel_client, "2", number=asked)

    without = _cost(channel_app, channel_client, "1", plain)  # mid-question, as in bench/
    waiting = _cost(channel_app, channel_client, "1", asked)
    with Session(engine) as session:
        session.execute(update(HandoffRequest).values(status="closed"))
        session.commit()
    clearing = _cost(channel_app, channel_client, "no", asked)
    after = _cost(channel_app, channel_client, "guilty", asked)

    assert not any("handoff_requests" in s for s in without)
    assert not any("handoff_requests" in s for s in after)
    assert _counts(after) == _counts(without)
    sql_without, driver_without = _counts(without)
    assert _counts(waiting)[0] == sql_without + 1
    assert _counts(clearing)[0] == sql_without + 1
    assert sum("handoff_requests" in s for s in waiting if not s.startswith("driver: ")) == 1
    assert driver_without > 0
    assert _counts(waiting)[1] == driver_without + 1
    assert _conversation(engine, raw=asked).state.get("handoff_waiting") is None


# ---- the console form: bad input -----------------------------------------------------------


def _claimed(app: Flask, client: FlaskClient, engine) -> tuple[FlaskClient, str]:
    _open_handoff_by_sms(client)
    worker = _worker(app)
    base = f"/console/handoffs/{_handoff(engine).id}"
    assert _post(worker, f"{base}/claim").status_code == 302
    return worker, base


def test_bad_answers_are_refused_with_a_clear_message(channel_app, channel_client, engine):
    worker, base = _claimed(channel_app, channel_client, engine)
    cases = [
        ("", "Write an answer first."),
        (" \n\t ", "Write an answer first."),
        ("x" * 1001, "at most 1000 characters (this one has 1001)"),
        ("before\x00after", "characters that cannot be sent"),
        ("bell\x07", "characters that cannot be sent"),
    ]

    for text, message in cases:
        response = _post(worker, f"{base}/answer", answer=text)
        assert response.status_code == 400, text
        assert message in response.get_data(as_text=True), text

    assert _handoff(engine).answer is None


def test_broken_utf8_and_huge_bodies_never_crash_nor_save_garbage(
    channel_app, channel_client, engine
):
    worker, base = _claimed(channel_app, channel_client, engine)
    token = page_token(worker)
    form = "application/x-www-form-urlencoded"
    # A lone surrogate (U+D800) in UTF-8, as raw bytes: werkzeug drops the whole form, so the
    # CSRF token goes too and nothing is saved.
    raw = f"csrf_token={token}&answer=Hi".encode() + b"\xed\xa0\x80there"

    broken = worker.post(f"{base}/answer", data=raw, content_type=form)
    huge = _post(worker, f"{base}/answer", answer="y" * 3_000_000)

    assert broken.status_code == 403
    assert huge.status_code in (400, 413)
    assert _handoff(engine).answer is None


@pytest.mark.parametrize(
    "text", ["Hi \ud800 there", "\udfff", "tab\tok but \x1b[31m red", "bad \ufffd byte"]
)
def test_surrogates_controls_and_replacement_characters_are_refused(text):
    assert answer_problem(text) is not None


@pytest.mark.parametrize(
    "text", ["Line one\nLine two\ttabbed", "Sí, ¿cuándo? 👍", "{braces} [ok]"]
)
def test_ordinary_text_is_accepted(text):
    assert answer_problem(text) is None


def test_exactly_the_limit_is_kept_and_a_double_submit_records_once(
    channel_app, channel_client, engine
):
    worker, base = _claimed(channel_app, channel_client, engine)
    text = "Call us. " + "z" * 991

    first = _post(worker, f"{base}/answer", answer=f"  {text}\r\n")
    again = _post(worker, f"{base}/answer", answer=text)
    changed = _post(worker, f"{base}/answer", answer="Line one\r\nLine two")

    assert (first.status_code, again.status_code, changed.status_code) == (302, 302, 302)
    row = _handoff(engine)
    assert row.answer == "Line one\nLine two"
    assert row.answered_by.startswith("worker:")
    assert row.answered_at is not None
    with Session(engine) as session:
        events = list(
            session.scalars(
                select(ConsoleAuditEvent).where(ConsoleAuditEvent.action == "handoff_answer")
            )
        )
    assert [e.detail for e in events] == ["new", "changed"]
    assert all("Line" not in (e.detail or "") and "Call" not in (e.detail or "") for e in events)


def test_answers_need_a_claim_by_me_and_a_csrf_token(channel_app, channel_client, engine):
    _open_handoff_by_sms(channel_client)
    base = f"/console/handoffs/{_handoff(engine).id}"
    first = _worker(channel_app)
    other = _worker(channel_app, "other@clinic.example")

    unclaimed = _post(first, f"{base}/answer", answer="Hello")
    _post(first, f"{base}/claim")
    someone_elses = _post(other, f"{base}/answer", answer="Hello")
    forged = first.post(f"{base}/answer", data={"answer": "Hello"})
    wrong_token = first.post(f"{base}/answer", data={"answer": "Hello", "csrf_token": "x" * 40})

    assert unclaimed.status_code == 403
    assert "Claim the request before answering." in unclaimed.get_data(as_text=True)
    assert someone_elses.status_code == 403
    assert forged.status_code == 403
    assert wrong_token.status_code == 403
    assert _handoff(engine).answer is None


def test_a_request_closed_without_an_answer_cannot_be_answered(
    channel_app, channel_client, engine
):
    worker, base = _claimed(channel_app, channel_client, engine)
    _post(worker, f"{base}/close")

    late = _post(worker, f"{base}/answer", answer="Sorry, one more thing")

    assert late.status_code == 409
    assert "closed without an answer" in late.get_data(as_text=True)
