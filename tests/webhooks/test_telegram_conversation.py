"""A whole conversation over Telegram (buttons, Spanish), then the worker's Bot API calls."""
# ruff: noqa: F811 - pytest fixtures imported from tests.fakes.channels

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.model import Button, OutboundMessage
from db.base import utcnow
from db.engine import make_session_factory
from db.identity import decrypt_address, sender_hash
from db.models import OutboxMessage
from db.models.conversation import Reminder
from tests.fakes.channels import (  # noqa: F401 - fixtures
    CHANNEL_CONFIG,
    TG_TOKEN,
    channel_app,
    channel_client,
    post_update,
    tg_callback_update,
    tg_message_update,
)
from tests.fakes.servers import FakeTelegram
from webhooks.outbound import TelegramSender, enqueue_due_reminders
from webhooks.telegram import _merge
from webhooks.worker import drain_once

CHAT = 55501
HMAC_KEY = CHANNEL_CONFIG["RECORDCHECK_HMAC_KEY"]
SECRET_KEY = CHANNEL_CONFIG["RECORDCHECK_SECRET_KEY"]

#: (a typed message or a "button:" press, words the answer must contain)
SCRIPT = [
    ("/start", "Hola"),
    ("button:2", "cargo"),
    ("button:3", "otros cargos"),
    ("button:2", "terminó"),
    ("button:1", "2015"),
    ("2023", "terminó el caso"),
    ("2023", "sentencia"),
    ("button:1", "terminó"),
    ("2025", "caso"),
    ("button:1", "caso penal abierto"),
    ("button:2", "probablemente"),
    ("button:2", "¿Está bien?"),
    ("button:yes", "el 31 de diciembre de 2030. Envíe /borrar cuando quiera para cancelar."),
]


def test_a_full_conversation_over_telegram_then_the_worker_answers_and_reminds(
    channel_client, engine
):
    for said, expected in SCRIPT:
        if said.startswith("button:"):
            update = tg_callback_update(said[7:], user_id=CHAT, language_code="es")
        else:
            update = tg_message_update(said, user_id=CHAT, language_code="es")
        response = post_update(channel_client, update)
        assert response.status_code == 200
        reply = response.get_json()
        assert reply["method"] == "sendMessage"
        assert reply["chat_id"] == CHAT
        assert expected in reply["text"], (said, reply["text"])
        assert len(reply["text"]) <= 4096

    with Session(engine) as session:
        reminder = session.scalars(select(Reminder)).one()
        assert reminder.sender_hash == sender_hash(HMAC_KEY, "telegram", str(CHAT))
        assert decrypt_address(SECRET_KEY, reminder.address_encrypted) == str(CHAT)
        presses = sum(1 for said, _ in SCRIPT if said.startswith("button:"))
        queued = session.scalars(select(OutboxMessage.purpose)).all()
        assert queued.count("tg_callback_answer") == presses

    fake = FakeTelegram(token=TG_TOKEN).start()
    sender = TelegramSender(token=TG_TOKEN, secret_key=SECRET_KEY, api_base=fake.url)
    try:
        sessions = make_session_factory(engine)
        # The answers were queued a moment ago, by the real clock: drain them now.
        drain_once(sessions, {"telegram": sender}, now=utcnow())
        assert len(fake.sent("answerCallbackQuery")) == presses

        due = dt.datetime(2030, 12, 31, 16, tzinfo=dt.UTC)
        report = drain_once(sessions, {"telegram": sender}, now=due, tasks=[enqueue_due_reminders])
    finally:
        sender.close()
        fake.stop()

    assert (report.queued, report.sent) == (1, 1)
    (reminder_call,) = fake.sent("sendMessage")
    assert reminder_call["chat_id"] == CHAT
    assert reminder_call["text"].startswith("Recordatorio de RecordCheck")


def test_messages_beyond_telegrams_limit_are_split_and_only_the_last_keeps_buttons():
    long_text = "x" * 3000
    buttons = (Button("Sí", "1"),)
    messages = (
        OutboundMessage(long_text),
        OutboundMessage(long_text),
        OutboundMessage("?", buttons),
    )

    merged = _merge(messages)

    assert [len(m.text) for m in merged] == [3000, 3003]
    assert [m.buttons for m in merged] == [(), buttons]


BLOCKED = (
    403,
    {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
)


def test_a_person_who_unblocked_the_bot_and_writes_again_gets_outbox_messages_again(
    channel_client, engine
):
    """A 403 from a send opts the chat out; the person's next message proves they are back."""
    fake = FakeTelegram(token=TG_TOKEN).start()
    sender = TelegramSender(token=TG_TOKEN, secret_key=SECRET_KEY, api_base=fake.url)
    sessions = make_session_factory(engine)
    try:
        post_update(channel_client, tg_message_update("/start", user_id=CHAT))
        post_update(channel_client, tg_callback_update("2", user_id=CHAT))
        fake.failures.append(BLOCKED)  # the person had blocked the bot meanwhile
        blocked = drain_once(sessions, {"telegram": sender}, now=utcnow())

        post_update(channel_client, tg_message_update("/start", user_id=CHAT))
        post_update(channel_client, tg_callback_update("2", user_id=CHAT))
        again = drain_once(sessions, {"telegram": sender}, now=utcnow())
    finally:
        sender.close()
        fake.stop()

    assert blocked.skipped == 1
    assert (again.sent, again.skipped) == (1, 0)
    assert len(fake.sent("answerCallbackQuery")) == 2


def test_every_part_of_a_long_answer_reaches_the_person_in_order_with_its_buttons(
    channel_app, engine
):
    """Part 1 goes back inline; the worker sends the rest, and the last part carries the
    buttons for the question asked. A part whose buttons could not be read was dropped."""
    from webhooks.channel_runtime import Answer
    from webhooks.telegram import _respond

    question = OutboundMessage(
        "¿Y ahora?", (Button("Más detalles", "result:1"), Button("No", "x:2"))
    )
    answer = Answer(
        (OutboundMessage("x" * 4000), OutboundMessage("y" * 4000), question), "es", "replied"
    )
    with channel_app.test_request_context():
        inline = _respond(
            "88:abc", CHAT, sender_hash(HMAC_KEY, "telegram", str(CHAT)), answer, None
        )
    fake = FakeTelegram(token=TG_TOKEN).start()
    sender = TelegramSender(token=TG_TOKEN, secret_key=SECRET_KEY, api_base=fake.url)
    try:
        later = utcnow() + dt.timedelta(seconds=10)
        report = drain_once(make_session_factory(engine), {"telegram": sender}, now=later)
    finally:
        sender.close()
        fake.stop()

    (rest,) = fake.sent("sendMessage")
    assert report.failed == 0
    assert [inline.get_json()["text"], rest["text"]] == ["x" * 4000, "y" * 4000 + "\n\n¿Y ahora?"]
    assert rest["chat_id"] == CHAT
    assert rest["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Más detalles", "callback_data": "result:1"}],
            [{"text": "No", "callback_data": "x:2"}],
        ]
    }
