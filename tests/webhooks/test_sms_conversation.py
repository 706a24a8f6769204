"""A whole conversation over signed SMS, then its reminder through the worker and Twilio.

Runs on SQLite and PostgreSQL: once through the Flask client, once through a real gunicorn
(the Procfile's worker settings) on 127.0.0.1.
"""
# ruff: noqa: F811 - pytest fixtures imported from tests.fakes.channels

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import make_session_factory
from db.identity import decrypt_address, sender_hash
from db.models import OutboxMessage
from db.models.channels import DeliveryStatus
from db.models.conversation import Conversation, Reminder
from tests.fakes.channels import (  # noqa: F401 - fixtures
    CHANNEL_CONFIG,
    PUBLIC,
    channel_app,
    channel_client,
    post_sms,
    sign,
    sms_form,
    twiml_messages,
)
from tests.fakes.servers import FakeTwilio
from webhooks.gunicorn_app import procfile_web_args
from webhooks.outbound import TwilioSender, enqueue_due_reminders
from webhooks.worker import drain_once

NUMBER = "+14105550188"
HMAC_KEY = CHANNEL_CONFIG["RECORDCHECK_HMAC_KEY"]
SECRET_KEY = CHANNEL_CONFIG["RECORDCHECK_SECRET_KEY"]

#: (what the person texts, words the answer must contain)
SCRIPT = [
    ("Hi", "not legal advice"),
    ("1", "What would you like to do?"),
    ("2", "What was the charge?"),
    ("paraphernalia", "other charges"),
    ("no", "How did the case end?"),
    ("guilty", "When were you arrested or charged?"),
    ("March 2023", "When did the case end?"),
    ("2023", "Is your sentence over"),
    ("yes", "When did your sentence end"),
    ("2025", "Where was the case?"),
    ("Baltimore City", "open criminal case"),
    ("no", "likely"),
    ("2", "Is that OK?"),
    ("YES", "We will remind you on December 31, 2030. Text DELETE at any time to cancel."),
]


def _talk(send) -> list[str]:
    transcript = []
    for said, expected in SCRIPT:
        messages = send(said)
        joined = "\n".join(messages)
        assert expected in joined, (said, joined)
        assert all(len(m) <= 3 * 153 for m in messages)
        transcript.append(joined)
    return transcript


def _check_reminder_and_send_it(engine) -> None:
    with Session(engine) as session:
        reminder = session.scalars(select(Reminder)).one()
        assert reminder.sender_hash == sender_hash(HMAC_KEY, "sms", NUMBER)
        assert decrypt_address(SECRET_KEY, reminder.address_encrypted) == NUMBER
        assert reminder.due_on == dt.date(2030, 12, 31)

    fake = FakeTwilio(account_sid=CHANNEL_CONFIG["TWILIO_ACCOUNT_SID"]).start()
    try:
        sender = TwilioSender(
            account_sid=fake.account_sid,
            auth_token=fake.auth_token,
            from_number=CHANNEL_CONFIG["TWILIO_FROM_NUMBER"],
            secret_key=SECRET_KEY,
            status_callback=PUBLIC + "/sms/twilio/status",
            api_base=fake.url,
        )
        sessions = make_session_factory(engine)
        the_day_before = dt.datetime(2030, 12, 30, 18, tzinfo=dt.UTC)
        early_morning = dt.datetime(2030, 12, 31, 10, tzinfo=dt.UTC)  # 05:00 in Baltimore
        ten_am = dt.datetime(2030, 12, 31, 15, 1, tzinfo=dt.UTC)
        tasks = [enqueue_due_reminders]

        before = drain_once(sessions, {"sms": sender}, now=the_day_before, tasks=tasks)
        early = drain_once(sessions, {"sms": sender}, now=early_morning, tasks=tasks)
        due = drain_once(sessions, {"sms": sender}, now=ten_am, tasks=tasks)
        again = drain_once(
            sessions, {"sms": sender}, now=ten_am + dt.timedelta(days=1), tasks=tasks
        )

        assert (before.queued, before.sent) == (0, 0)
        assert (early.queued, early.sent) == (1, 0)
        assert (due.queued, due.sent) == (0, 1)
        assert (again.queued, again.sent) == (0, 0)
        assert len(fake.messages) == 1
        sent = fake.messages[0]
        assert sent["To"] == NUMBER
        assert sent["Body"].startswith("RecordCheck reminder: the wait may be over for")
        assert sent["StatusCallback"] == PUBLIC + "/sms/twilio/status"
        with Session(engine) as session:
            reminder = session.scalars(select(Reminder)).one()
            outbox = session.scalars(select(OutboxMessage)).one()
            assert reminder.address_encrypted == b""
            assert outbox.recipient_encrypted == b""
            assert outbox.provider_message_id == sent["Sid"]
    finally:
        fake.stop()


def test_a_full_conversation_over_signed_sms_then_the_reminder_is_sent(channel_client, engine):
    def send(text: str) -> list[str]:
        response = post_sms(channel_client, sms_form(text, sender=NUMBER))
        assert response.status_code == 200
        return twiml_messages(response.data)

    _talk(send)

    _check_reminder_and_send_it(engine)
    with Session(engine) as session:
        sid = session.scalars(select(OutboxMessage.provider_message_id)).one()
    status_form = {"MessageSid": sid, "MessageStatus": "delivered", "To": NUMBER}
    assert post_sms(channel_client, status_form, path="/sms/twilio/status").status_code == 204
    with Session(engine) as session:
        assert session.scalars(select(DeliveryStatus.status)).all() == ["delivered"]

    erase = send("DELETE")
    confirm = send("YES")
    assert "erase" in erase[0].lower()
    assert "erased" in confirm[0].lower()
    with Session(engine) as session:
        assert session.scalars(select(Conversation)).all() == []
        assert session.scalars(select(Reminder)).all() == []


# ---- the same through gunicorn ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def gunicorn_url(database_url, engine, tmp_path):
    """The Procfile's web command on a free port (its own HOME, to see what it leaves there)."""
    port = _free_port()
    env = {
        **os.environ,
        **{k: str(v) for k, v in CHANNEL_CONFIG.items() if k != "TESTING"},
        "DATABASE_URL": database_url,
        "HOME": str(tmp_path),
    }
    root = Path(__file__).parents[2]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            *procfile_web_args(f"127.0.0.1:{port}"),
        ],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(process.stderr.read().decode() if process.stderr else "")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        from tests.conftest import _delete_all_rows

        _delete_all_rows(engine)


@pytest.mark.slow
def test_a_full_conversation_through_gunicorn(gunicorn_url, engine, tmp_path):
    # No per-user control socket (~/.gunicorn/gunicorn.ctl) that a second server would take.
    assert not (tmp_path / ".gunicorn").exists()
    with httpx.Client(base_url=gunicorn_url, timeout=10) as http:

        def send(text: str) -> list[str]:
            form = sms_form(text, sender=NUMBER)
            response = http.post(
                "/sms/twilio", data=form, headers={"X-Twilio-Signature": sign("/sms/twilio", form)}
            )
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/xml")
            return twiml_messages(response.content)

        _talk(send)
        forged = http.post("/sms/twilio", data=sms_form("hi"), headers={"X-Twilio-Signature": "x"})
        assert forged.status_code == 403

    _check_reminder_and_send_it(engine)
