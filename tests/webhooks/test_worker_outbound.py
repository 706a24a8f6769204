"""The outbox worker with the real twilio Client and PTB Bot, against fakes on 127.0.0.1."""
# ruff: noqa: F811 - pytest fixtures imported from tests.fakes.channels

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import threading
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.render import is_gsm7, sms_segments
from db.base import utcnow
from db.engine import make_session_factory
from db.identity import encrypt_address
from db.models import OutboxMessage
from db.models.channels import ChannelOptOut
from knowledge.texts import render as render_text
from tests.fakes.channels import CHANNEL_CONFIG, channel_app, next_update_id  # noqa: F401
from tests.fakes.servers import FakeTelegram, FakeTwilio, TwilioFailure
from webhooks.cli import cli
from webhooks.outbound import (
    TELEGRAM_CALLBACK_ANSWER,
    TELEGRAM_RICH,
    TelegramSender,
    TwilioSender,
    enqueue_due_reminders,
    reminder_text,
)
from webhooks.worker import drain_once

SECRET = "worker-test-secret-key"
NUMBER = "+14105550123"
FROM = "+14435550100"


@pytest.fixture
def fake_twilio():
    server = FakeTwilio().start()
    yield server
    server.stop()


@pytest.fixture
def fake_telegram():
    server = FakeTelegram().start()
    yield server
    server.stop()


@pytest.fixture
def sessions(engine, db_session):
    return make_session_factory(engine)


def _sms_sender(fake: FakeTwilio, *, timeout: float = 5.0) -> TwilioSender:
    return TwilioSender(
        account_sid=fake.account_sid,
        auth_token=fake.auth_token,
        from_number=FROM,
        secret_key=SECRET,
        status_callback="https://rc.example.org/sms/twilio/status",
        api_base=fake.url,
        timeout=timeout,
    )


@pytest.fixture
def telegram_sender(fake_telegram):
    sender = TelegramSender(
        token=fake_telegram.token, secret_key=SECRET, api_base=fake_telegram.url
    )
    yield sender
    sender.close()


def _queue(sessions, *, channel="sms", to=NUMBER, body="Your reminder", sender="h1", **extra):
    with sessions() as session:
        message = OutboxMessage(
            channel=channel,
            sender_hash=sender,
            recipient_encrypted=encrypt_address(extra.pop("secret", SECRET), to),
            body=body,
            purpose=extra.pop("purpose", "reminder"),
            status="queued",
            attempts=0,
            not_before=extra.pop("not_before", utcnow() - dt.timedelta(seconds=1)),
            **extra,
        )
        session.add(message)
        session.commit()
        return message.id


def _row(sessions, message_id) -> OutboxMessage:
    with sessions() as session:
        row = session.get(OutboxMessage, message_id)
        assert row is not None
        return row


def test_sms_goes_through_the_real_twilio_client_with_a_status_callback(sessions, fake_twilio):
    message_id = _queue(sessions)

    report = drain_once(sessions, {"sms": _sms_sender(fake_twilio)})

    assert report.sent == 1
    assert len(fake_twilio.messages) == 1
    sent = fake_twilio.messages[0]
    assert (sent["To"], sent["From"], sent["Body"]) == (NUMBER, FROM, "Your reminder")
    assert sent["StatusCallback"] == "https://rc.example.org/sms/twilio/status"
    row = _row(sessions, message_id)
    assert row.status == "sent"
    assert row.provider_message_id == sent["Sid"]
    assert row.attempts == 1


def test_a_sent_message_is_never_sent_again(sessions, fake_twilio):
    _queue(sessions)
    sender = {"sms": _sms_sender(fake_twilio)}

    drain_once(sessions, sender)
    second = drain_once(sessions, sender)

    assert second.sent == 0
    assert len(fake_twilio.messages) == 1


def test_messages_not_yet_due_wait_and_channels_without_sender_are_left_queued(
    sessions, fake_twilio
):
    later = _queue(sessions, not_before=utcnow() + dt.timedelta(hours=1))
    other = _queue(sessions, channel="telegram", to="777")

    report = drain_once(sessions, {"sms": _sms_sender(fake_twilio)})

    assert (report.sent, report.waiting) == (0, 1)
    assert _row(sessions, later).status == "queued"
    assert _row(sessions, other).status == "queued"
    assert fake_twilio.messages == []


def test_opted_out_senders_are_skipped_without_calling_twilio(sessions, fake_twilio):
    with sessions() as session:
        session.add(
            ChannelOptOut(channel="sms", sender_hash="h1", opted_out=True, source="keyword")
        )
        session.commit()
    message_id = _queue(sessions)

    report = drain_once(sessions, {"sms": _sms_sender(fake_twilio)})

    assert report.skipped == 1
    assert fake_twilio.messages == []
    assert _row(sessions, message_id).status == "skipped"


def test_twilio_21610_marks_the_sender_opted_out_and_later_messages_are_skipped(
    sessions, fake_twilio
):
    fake_twilio.opted_out.add(NUMBER)
    first = _queue(sessions)

    drain_once(sessions, {"sms": _sms_sender(fake_twilio)})
    second = _queue(sessions, body="another")
    report = drain_once(sessions, {"sms": _sms_sender(fake_twilio)})

    assert _row(sessions, first).status == "skipped"
    assert _row(sessions, second).status == "skipped"
    assert report.skipped == 1
    with sessions() as session:
        opt_out = session.scalars(select(ChannelOptOut)).one()
    assert (opt_out.channel, opt_out.sender_hash, opt_out.opted_out) == (
        "sms",
        "h1",
        True,
    )


def test_twilio_429_and_503_are_retried_with_backoff_then_sent(sessions, fake_twilio):
    fake_twilio.failures.extend([TwilioFailure(429, 20429), TwilioFailure(503, 20503)])
    message_id = _queue(sessions)
    sender = {"sms": _sms_sender(fake_twilio)}

    first = drain_once(sessions, sender)
    row = _row(sessions, message_id)
    assert (first.retried, row.status, row.attempts) == (1, "queued", 1)
    assert row.not_before > utcnow() + dt.timedelta(seconds=20)

    drain_once(sessions, sender, now=row.not_before + dt.timedelta(seconds=1))
    row = _row(sessions, message_id)
    drain_once(sessions, sender, now=row.not_before + dt.timedelta(seconds=1))

    row = _row(sessions, message_id)
    assert (row.status, row.attempts) == ("sent", 3)
    assert len(fake_twilio.messages) == 1


def test_retries_stop_after_five_attempts(sessions, fake_twilio):
    fake_twilio.failures.extend([TwilioFailure(503, 20503)] * 6)
    message_id = _queue(sessions)
    sender = {"sms": _sms_sender(fake_twilio)}

    moment = utcnow()
    for _ in range(6):
        moment += dt.timedelta(hours=2)
        drain_once(sessions, sender, now=moment)

    row = _row(sessions, message_id)
    assert (row.status, row.attempts) == ("failed", 5)
    assert fake_twilio.messages == []


def test_a_bad_number_fails_for_good_without_retry(sessions, fake_twilio):
    fake_twilio.failures.append(TwilioFailure(400, 21211))
    message_id = _queue(sessions)

    report = drain_once(sessions, {"sms": _sms_sender(fake_twilio)})

    assert report.failed == 1
    row = _row(sessions, message_id)
    assert row.status == "failed"
    assert row.last_error == "twilio 400 code 21211"


def test_twilio_unreachable_is_retried_because_nothing_left(sessions):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    sender = TwilioSender(
        account_sid="AC" + "0" * 32,
        auth_token="t",
        from_number=FROM,
        secret_key=SECRET,
        api_base=f"http://127.0.0.1:{closed_port}",
    )
    message_id = _queue(sessions)

    report = drain_once(sessions, {"sms": sender})

    assert report.retried == 1
    assert _row(sessions, message_id).status == "queued"


def test_a_timeout_after_the_request_left_is_never_resent(sessions, fake_twilio):
    """At most once: the fake may have sent it, so the worker does not try again."""
    fake_twilio.hang_seconds = 1.5
    message_id = _queue(sessions)
    sender = {"sms": _sms_sender(fake_twilio, timeout=0.5)}

    drain_once(sessions, sender)
    fake_twilio.hang_seconds = 0
    drain_once(sessions, sender, now=utcnow() + dt.timedelta(days=1))

    row = _row(sessions, message_id)
    assert row.status == "unknown"
    assert row.attempts == 1


class _WorkerKilled(BaseException):
    """What a worker process being killed mid-send looks like from inside (not an Exception)."""


def test_a_message_left_sending_by_a_killed_worker_is_settled_as_unknown_and_never_resent(
    sessions, fake_twilio
):
    message_id = _queue(sessions)
    real = _sms_sender(fake_twilio)

    def killed_mid_send(message: OutboxMessage) -> str:
        raise _WorkerKilled

    with pytest.raises(_WorkerKilled):
        drain_once(sessions, {"sms": killed_mid_send})
    assert _row(sessions, message_id).status == "sending"

    soon = drain_once(sessions, {"sms": real}, now=utcnow() + dt.timedelta(minutes=5))
    assert soon.abandoned == 0  # a worker might still be sending it
    assert _row(sessions, message_id).status == "sending"

    later = drain_once(sessions, {"sms": real}, now=utcnow() + dt.timedelta(hours=2))

    row = _row(sessions, message_id)
    assert later.abandoned == 1
    assert row.status == "unknown"
    assert row.last_error == "worker stopped while sending"
    assert row.recipient_encrypted == b""
    assert fake_twilio.messages == []


def test_a_message_whose_address_cannot_be_decrypted_fails(sessions, fake_twilio):
    with sessions() as session:
        message = OutboxMessage(
            channel="sms",
            sender_hash="h1",
            recipient_encrypted=encrypt_address("another-key", NUMBER),
            body="x",
            status="queued",
            attempts=0,
            not_before=utcnow() - dt.timedelta(seconds=1),
        )
        session.add(message)
        session.commit()

    report = drain_once(sessions, {"sms": _sms_sender(fake_twilio)})

    assert report.failed == 1
    assert fake_twilio.messages == []


def test_concurrent_workers_send_each_message_exactly_once(sessions, fake_twilio):
    ids = [_queue(sessions, to=f"+1410555{n:04d}", sender=f"h{n}") for n in range(30)]
    sender = {"sms": _sms_sender(fake_twilio)}
    errors: list[BaseException] = []

    def work() -> None:
        try:
            drain_once(sessions, sender, batch=10)
            drain_once(sessions, sender, batch=10)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drain_once(sessions, sender)

    assert errors == []
    assert sorted(m["To"] for m in fake_twilio.messages) == sorted(
        f"+1410555{n:04d}" for n in range(30)
    )
    assert {_row(sessions, i).status for i in ids} == {"sent"}


def test_telegram_messages_go_through_ptb_bot_with_buttons(
    sessions, fake_telegram, telegram_sender
):
    plain = _queue(sessions, channel="telegram", to="424242", body="Reminder text")
    rich_body = json.dumps({"text": "Pick one", "buttons": [[["Yes", "yes"], ["No", "no"]]]})
    rich = _queue(sessions, channel="telegram", to="424242", body=rich_body, purpose=TELEGRAM_RICH)

    report = drain_once(sessions, {"telegram": telegram_sender})

    assert report.sent == 2
    sent = fake_telegram.sent()
    assert [(m["chat_id"], m["text"]) for m in sent] == [
        (424242, "Reminder text"),
        (424242, "Pick one"),
    ]
    assert sent[1]["reply_markup"] == {
        "inline_keyboard": [
            [
                {"text": "Yes", "callback_data": "yes"},
                {"text": "No", "callback_data": "no"},
            ]
        ]
    }
    assert _row(sessions, plain).provider_message_id.isdigit()
    assert _row(sessions, rich).status == "sent"


def test_callback_queries_are_answered_through_the_outbox(
    sessions, fake_telegram, telegram_sender
):
    _queue(
        sessions,
        channel="telegram",
        to="cbq-99",
        body="",
        purpose=TELEGRAM_CALLBACK_ANSWER,
    )

    drain_once(sessions, {"telegram": telegram_sender})

    assert fake_telegram.sent("answerCallbackQuery") == [{"callback_query_id": "cbq-99"}]


def test_telegram_blocked_bot_opts_the_sender_out(sessions, fake_telegram, telegram_sender):
    fake_telegram.blocked_chats.add(5555)
    message_id = _queue(sessions, channel="telegram", to="5555", sender="tg-h")

    drain_once(sessions, {"telegram": telegram_sender})

    assert _row(sessions, message_id).status == "skipped"
    with sessions() as session:
        assert session.scalars(select(ChannelOptOut.channel)).all() == ["telegram"]


def test_telegram_429_waits_for_retry_after(sessions, fake_telegram, telegram_sender):
    fake_telegram.failures.append(
        (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 7",
                "parameters": {"retry_after": 7},
            },
        )
    )
    message_id = _queue(sessions, channel="telegram", to="424242")

    before = utcnow()
    report = drain_once(sessions, {"telegram": telegram_sender})

    row = _row(sessions, message_id)
    assert (report.retried, row.status) == (1, "queued")
    assert before + dt.timedelta(seconds=6) < row.not_before < utcnow() + dt.timedelta(seconds=8)


TOO_MANY_REQUESTS = (
    429,
    {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    },
)


def _long_answer_from_the_webhook(channel_app, chat: int, texts: list[str]) -> dt.datetime:
    """Queue a long answer's parts as the webhook does (the first goes back inline, the
    others into the outbox 1.5 s apart); return when it was queued."""
    from bot.model import OutboundMessage
    from webhooks.channel_runtime import Answer
    from webhooks.telegram import _respond

    answer = Answer(tuple(OutboundMessage(text) for text in texts), "en", "replied")
    queued_at = utcnow()
    with channel_app.test_request_context():
        sender = f"{chat:064d}"
        _respond(f"{next_update_id()}:{sender[:16]}", chat, sender, answer, None)
    return queued_at


def _received(fake: FakeTelegram) -> list[str]:
    """What Telegram was asked to send, in the order it was asked (refused calls too)."""
    return [params["text"][:1] for params in fake.sent()]


@pytest.fixture
def channel_telegram_sender(fake_telegram):
    sender = TelegramSender(
        token=fake_telegram.token,
        secret_key=CHANNEL_CONFIG["RECORDCHECK_SECRET_KEY"],
        api_base=fake_telegram.url,
    )
    yield sender
    sender.close()


def test_a_part_retried_after_a_429_is_not_overtaken_by_the_next_part(
    channel_app, sessions, fake_telegram, channel_telegram_sender
):
    """Part 2 of a long answer got a 429 and went back to the queue for 7 seconds; part 3 fell
    due meanwhile and arrived first, so the answer read out of order."""
    senders = {"telegram": channel_telegram_sender}
    queued_at = _long_answer_from_the_webhook(
        channel_app, 9001, ["A" * 4000, "B" * 4000, "C" * 4000]
    )
    fake_telegram.failures.append(TOO_MANY_REQUESTS)

    drain_once(sessions, senders, now=queued_at + dt.timedelta(seconds=2))  # part 2: 429
    meanwhile = drain_once(sessions, senders, now=queued_at + dt.timedelta(seconds=4))

    assert _received(fake_telegram) == ["B"]
    with sessions() as session:
        retry_at = session.scalar(
            select(OutboxMessage.not_before).where(OutboxMessage.last_error == "telegram 429")
        )
    # The worker sleeps until part 2's retry, not spinning on part 3 that is held behind it.
    assert meanwhile.next_due == retry_at
    after_retry = retry_at + dt.timedelta(seconds=1)
    drain_once(sessions, senders, now=after_retry)
    drain_once(sessions, senders, now=after_retry)
    assert _received(fake_telegram) == ["B", "B", "C"]


def test_a_worker_that_fell_behind_still_sends_an_answers_parts_in_order(
    channel_app, sessions, fake_telegram, channel_telegram_sender
):
    """With every part due in one pass, a 429 on part 2 must hold part 3 in that pass too."""
    senders = {"telegram": channel_telegram_sender}
    queued_at = _long_answer_from_the_webhook(
        channel_app, 9001, ["A" * 4000, "B" * 4000, "C" * 4000]
    )
    fake_telegram.failures.append(TOO_MANY_REQUESTS)

    drain_once(sessions, senders, now=queued_at + dt.timedelta(minutes=5))

    assert _received(fake_telegram) == ["B"]


def test_a_retried_part_holds_only_its_own_answer(
    channel_app, sessions, fake_telegram, channel_telegram_sender
):
    """Someone else's answer, and a reminder to the same person, go out while it waits."""
    senders = {"telegram": channel_telegram_sender}
    queued_at = _long_answer_from_the_webhook(
        channel_app, 9001, ["A" * 4000, "B" * 4000, "C" * 4000]
    )
    _long_answer_from_the_webhook(channel_app, 9002, ["D" * 4000, "E" * 4000])
    fake_telegram.failures.append(TOO_MANY_REQUESTS)
    drain_once(sessions, senders, now=queued_at + dt.timedelta(seconds=2))  # "B": 429
    _queue(
        sessions,
        channel="telegram",
        to="9001",
        body="Reminder",
        sender=f"{9001:064d}",
        secret=CHANNEL_CONFIG["RECORDCHECK_SECRET_KEY"],
        not_before=queued_at + dt.timedelta(seconds=3),
    )

    drain_once(sessions, senders, now=queued_at + dt.timedelta(seconds=5))

    assert sorted(_received(fake_telegram)) == ["B", "E", "R"]


def test_worker_logs_name_no_number_and_no_body(sessions, fake_twilio, caplog):
    _queue(sessions, body="Private words 0B01234567")

    with caplog.at_level(logging.DEBUG):
        drain_once(sessions, {"sms": _sms_sender(fake_twilio)})

    assert "outbox send" in caplog.text
    assert NUMBER not in caplog.text
    assert "Private words" not in caplog.text


def test_worker_command_sends_through_the_configured_twilio(
    database_url, sessions, fake_twilio, monkeypatch
):
    message_id = _queue(sessions)
    for name, value in {
        "DATABASE_URL": database_url,
        "RECORDCHECK_SECRET_KEY": SECRET,
        "TWILIO_ACCOUNT_SID": fake_twilio.account_sid,
        "TWILIO_AUTH_TOKEN": fake_twilio.auth_token,
        "TWILIO_FROM_NUMBER": FROM,
        "TWILIO_API_BASE": fake_twilio.url,
        "TELEGRAM_BOT_TOKEN": "",
    }.items():
        monkeypatch.setenv(name, value)

    result = CliRunner().invoke(cli, ["worker", "--once"])

    assert result.exit_code == 0, result.output
    assert "not sending telegram" in result.output
    assert [m["To"] for m in fake_twilio.messages] == [NUMBER]
    assert _row(sessions, message_id).status == "sent"


def _reminder(
    sessions,
    *,
    channel="sms",
    to=NUMBER,
    lang="es",
    sender="h1",
    due=None,
    pathway="petition_cannabis_possession",
):
    from db.models.conversation import Reminder

    with sessions() as session:
        session.add(
            Reminder(
                sender_hash=sender,
                channel=channel,
                address_encrypted=encrypt_address(SECRET, to),
                lang=lang,
                due_on=due or dt.date(2027, 3, 1),
                case_ref=None,
                pathway=pathway,
                status="scheduled",
            )
        )
        session.commit()


def test_a_due_reminder_is_sent_once_in_its_language_and_in_gsm7(sessions, fake_twilio):
    _reminder(sessions)
    sender = {"sms": _sms_sender(fake_twilio)}
    ten_am = dt.datetime(2027, 3, 1, 15, 30, tzinfo=dt.UTC)

    drain_once(sessions, sender, now=ten_am, tasks=[enqueue_due_reminders])
    drain_once(sessions, sender, now=ten_am + dt.timedelta(hours=1), tasks=[enqueue_due_reminders])

    (sent,) = fake_twilio.messages
    assert sent["Body"].startswith("Recordatorio de RecordCheck")
    assert "pedirle al tribunal" in sent["Body"]
    assert all(ch not in sent["Body"] for ch in "áíóú")


def test_a_reminder_to_someone_who_opted_out_is_skipped(sessions, fake_twilio):
    _reminder(sessions)
    with sessions() as session:
        session.add(
            ChannelOptOut(channel="sms", sender_hash="h1", opted_out=True, source="keyword")
        )
        session.commit()

    report = drain_once(
        sessions,
        {"sms": _sms_sender(fake_twilio)},
        now=dt.datetime(2027, 3, 2, 16, tzinfo=dt.UTC),
        tasks=[enqueue_due_reminders],
    )

    assert (report.queued, report.skipped, report.sent) == (1, 1, 0)
    assert fake_twilio.messages == []


def test_reminders_not_yet_due_stay_scheduled(sessions, fake_twilio):
    _reminder(sessions, due=dt.date(2027, 3, 2))

    report = drain_once(
        sessions,
        {"sms": _sms_sender(fake_twilio)},
        now=dt.datetime(2027, 3, 2, 4, tzinfo=dt.UTC),  # still March 1 in Baltimore
        tasks=[enqueue_due_reminders],
    )

    assert report.queued == 0


def test_a_reminder_found_late_in_the_evening_waits_for_the_morning(sessions, fake_twilio):
    """A worker that was down at 10:00 and comes back at night must not text people then."""
    _reminder(sessions)
    sender = {"sms": _sms_sender(fake_twilio)}
    ten_pm = dt.datetime(2027, 3, 2, 3, tzinfo=dt.UTC)  # March 1, 22:00 in Baltimore
    next_morning = dt.datetime(2027, 3, 2, 15, tzinfo=dt.UTC)  # March 2, 10:00

    night = drain_once(sessions, sender, now=ten_pm, tasks=[enqueue_due_reminders])
    morning = drain_once(sessions, sender, now=next_morning, tasks=[enqueue_due_reminders])

    assert (night.queued, night.sent, night.next_due) == (1, 0, next_morning)
    assert morning.sent == 1


@pytest.mark.parametrize(
    ("due_on", "now", "expected"),
    [
        # before 10:00 on the day: at 10:00 (EST, UTC-5)
        (dt.date(2027, 3, 1), dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC),
         dt.datetime(2027, 3, 1, 15, tzinfo=dt.UTC)),
        # within hours: now
        (dt.date(2027, 3, 1), dt.datetime(2027, 3, 1, 20, tzinfo=dt.UTC),
         dt.datetime(2027, 3, 1, 20, tzinfo=dt.UTC)),
        # days late, in the afternoon: now
        (dt.date(2027, 3, 1), dt.datetime(2027, 3, 9, 19, tzinfo=dt.UTC),
         dt.datetime(2027, 3, 9, 19, tzinfo=dt.UTC)),
        # 20:00 or later: the next day at 10:00, across the change to summer time (UTC-4)
        (dt.date(2027, 3, 13), dt.datetime(2027, 3, 14, 1, tzinfo=dt.UTC),
         dt.datetime(2027, 3, 14, 14, tzinfo=dt.UTC)),
        # just after midnight in Baltimore: 10:00 that day
        (dt.date(2027, 3, 1), dt.datetime(2027, 3, 2, 5, 30, tzinfo=dt.UTC),
         dt.datetime(2027, 3, 2, 15, tzinfo=dt.UTC)),
    ],
)  # fmt: skip
def test_reminders_are_sent_only_between_ten_and_eight_baltimore_time(due_on, now, expected):
    from webhooks.outbound import reminder_send_time

    assert reminder_send_time(due_on, now) == expected


class _StopWorker(Exception):
    """Ends ``run_forever`` from its wait, the way a test can."""


def test_the_worker_keeps_running_when_the_database_drops_its_connection(
    database_url, backend, sessions, fake_twilio, engine
):
    """A PostgreSQL restart (or a proxy closing idle connections) kills the pooled connection;
    the next pass fails once, and the worker must live on and send on the pass after."""
    if backend != "postgresql":
        pytest.skip("needs a server that can end a connection")
    from sqlalchemy import text

    from db.engine import make_engine
    from webhooks.worker import run_forever

    worker_engine = make_engine(database_url)
    worker_sessions = make_session_factory(worker_engine)
    sender = {"sms": _sms_sender(fake_twilio)}
    try:
        drain_once(worker_sessions, sender)  # the pool now holds the worker's connection
        with worker_engine.connect() as connection:
            pid = connection.execute(text("select pg_backend_pid()")).scalar()
        with engine.begin() as connection:
            connection.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})
        _queue(sessions)
        passes: list[float] = []

        def wait(seconds: float) -> None:
            passes.append(seconds)
            if len(passes) == 2:
                raise _StopWorker

        with pytest.raises(_StopWorker):
            run_forever(worker_sessions, sender, interval=0.01, wait=wait)
    finally:
        worker_engine.dispose()

    assert [m["To"] for m in fake_twilio.messages] == [NUMBER]


def test_the_worker_sends_a_message_that_falls_due_before_its_next_poll_on_time(
    sessions, fake_twilio
):
    """A Telegram answer's next part is queued a moment ahead; waiting for the next 5-second
    poll would leave the person looking at half an answer."""
    from webhooks.worker import run_forever

    _queue(sessions, not_before=utcnow() + dt.timedelta(seconds=0.4))
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            raise _StopWorker
        time.sleep(seconds)

    with pytest.raises(_StopWorker):
        run_forever(sessions, {"sms": _sms_sender(fake_twilio)}, interval=5.0, wait=wait)

    assert 0 < waits[0] <= 0.4
    assert len(fake_twilio.messages) == 1
    assert waits[1] == 5.0  # nothing left queued: back to the poll interval


# ---- the reminder's words --------------------------------------------------------------------

EXPUNGEMENT_FORMS = "mdcourts.gov/legalhelp/expungement"
SHIELDING_GUIDE = "mdcourts.gov/district/selfhelp/secondchanceactshieldinguide"
#: Each route a reminder can be for, and the page it must name (law file: the process common
#: to the petitions, S28, S29; shielding P11, S31; youth court P12 has no page of its own).
ROUTE_PAGES = {
    "petition_cannabis_possession": EXPUNGEMENT_FORMS,
    "petition_non_conviction": EXPUNGEMENT_FORMS,
    "petition_listed_conviction": EXPUNGEMENT_FORMS,
    "petition_pardoned": EXPUNGEMENT_FORMS,
    "shielding": SHIELDING_GUIDE,
    "juvenile_expungement": EXPUNGEMENT_FORMS,
}
#: What a youth court reminder says instead of calling the petitions' forms its own.
ASK_WHICH_FORM = {"en": "Ask for free help to learn which form to use.", "es": "Pida ayuda gratis"}
FORMS_LABEL = {"en": "Forms: ", "es": "Formularios: "}


def _send_due_reminders(sessions, channel, lang, fake_twilio, fake_telegram) -> dict[str, str]:
    """Queue one reminder per route, run the worker on its day; each route's text as sent."""
    address = {route: str(70001 + i) for i, route in enumerate(ROUTE_PAGES)}
    if channel == "sms":
        address = {route: f"+1410555{chat_id[1:]}" for route, chat_id in address.items()}
    for route in ROUTE_PAGES:
        _reminder(
            sessions, channel=channel, to=address[route], lang=lang, sender=route, pathway=route
        )
    ten_am = dt.datetime(2027, 3, 1, 15, 30, tzinfo=dt.UTC)
    if channel == "sms":
        drain_once(
            sessions, {"sms": _sms_sender(fake_twilio)}, now=ten_am, tasks=[enqueue_due_reminders]
        )
        sent = {m["To"]: m["Body"] for m in fake_twilio.messages}
    else:
        sender = TelegramSender(
            token=fake_telegram.token, secret_key=SECRET, api_base=fake_telegram.url
        )
        try:
            drain_once(sessions, {"telegram": sender}, now=ten_am, tasks=[enqueue_due_reminders])
        finally:
            sender.close()
        sent = {str(m["chat_id"]): m["text"] for m in fake_telegram.sent()}
    return {route: sent[address[route]] for route in ROUTE_PAGES}


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("channel", ["sms", "telegram"])
def test_each_routes_reminder_names_its_own_page(
    sessions, fake_twilio, fake_telegram, channel, lang
):
    """Every reminder linked the expungement forms: a shielding reminder sent the person to
    the wrong forms (shielding has its own guide), and a youth court one to adult forms."""
    texts = _send_due_reminders(sessions, channel, lang, fake_twilio, fake_telegram)

    for route, page in ROUTE_PAGES.items():
        assert page in texts[route], route
        assert "410-260-1392" in texts[route], route
    assert EXPUNGEMENT_FORMS not in texts["shielding"]
    assert FORMS_LABEL[lang] not in texts["juvenile_expungement"]
    assert ASK_WHICH_FORM[lang] in texts["juvenile_expungement"]


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize(
    "pathway",
    ["petition_cannabis_possession", "petition_non_conviction", "petition_listed_conviction",
     "petition_pardoned", "shielding", "juvenile_expungement"],
)  # fmt: skip
def test_a_reminder_says_what_to_do_and_who_helps_within_three_texts(lang, pathway):
    """It said "you may be able to use asking the court to clear ..." and nothing more: a
    year later, with the chat long erased, the person had no next step."""
    sms = reminder_text("sms", lang, pathway)
    telegram = reminder_text("telegram", lang, pathway)

    assert render_text(f"pathway.{pathway}", lang) in telegram
    assert ROUTE_PAGES[pathway] in sms
    assert "410-260-1392" in sms
    assert is_gsm7(sms)
    assert sms_segments(sms) <= 3


@pytest.mark.parametrize(
    ("lang", "hedge"), [("en", "the wait may be over for"), ("es", "puede que haya terminado")]
)
@pytest.mark.parametrize(
    "pathway",
    ["petition_cannabis_possession", "petition_non_conviction", "petition_listed_conviction",
     "shielding", "juvenile_expungement"],
)  # fmt: skip
def test_a_reminder_does_not_promise_that_the_wait_is_over(lang, hedge, pathway):
    """The date came from what a person told us, or from a record that may miss a later
    conviction or a new case (law file P6, P3: S48, S50): "the wait is over" was a promise."""
    first_sentence = reminder_text("telegram", lang, pathway).split(". ")[0]

    assert hedge in first_sentence


def test_the_youth_court_reminder_reads_as_a_sentence():
    """It said "the wait is over for a judge clears a record from youth court"."""
    text = reminder_text("sms", "en", "juvenile_expungement")

    assert "the wait may be over for asking a judge to clear a record from youth court." in text
