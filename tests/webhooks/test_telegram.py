"""POST /telegram/webhook with real Bot API update JSON; replies are webhook-reply JSON."""
# ruff: noqa: F811 - pytest fixtures imported from tests.fakes.channels

from __future__ import annotations

import json
import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.identity import decrypt_address, sender_hash
from db.models import OutboxMessage
from db.models.conversation import Conversation, ProcessedMessage
from tests.fakes.channels import (  # noqa: F401 - fixtures
    CHANNEL_CONFIG,
    LOCATION,
    PHOTO,
    STICKER,
    TG_SECRET,
    TG_TOKEN,
    channel_app,
    channel_client,
    log_lines,
    next_update_id,
    post_update,
    tg_callback_update,
    tg_message_update,
)
from tests.fakes.servers import FakeTelegram
from webhooks.app import create_app
from webhooks.cli import cli
from webhooks.outbound import TELEGRAM_CALLBACK_ANSWER, TELEGRAM_RICH
from webhooks.throttle import CHAT_LIMIT

HMAC_KEY = CHANNEL_CONFIG["RECORDCHECK_HMAC_KEY"]
SECRET_KEY = CHANNEL_CONFIG["RECORDCHECK_SECRET_KEY"]
CHAT = 7001


def _count(engine, model, *where) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _version(engine, chat: int = CHAT) -> int | None:
    with Session(engine) as session:
        return session.scalar(
            select(Conversation.version).where(
                Conversation.sender_hash == sender_hash(HMAC_KEY, "telegram", str(chat))
            )
        )


def _outbox(engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


# ---- the secret ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("wrong", id="wrong"),
        pytest.param(TG_SECRET[:-1] + "X", id="one-character-off"),
        pytest.param(TG_SECRET + "X", id="longer"),
        pytest.param("ß" * 8, id="non-ascii"),
    ],
)
def test_a_wrong_or_missing_secret_is_forbidden_and_writes_nothing(channel_client, engine, secret):
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}

    response = channel_client.post(
        "/telegram/webhook", json=tg_message_update("/start"), headers=headers
    )

    assert response.status_code == 403
    assert _count(engine, Conversation) == 0


def test_without_a_configured_secret_every_update_is_forbidden(database_url):
    app = create_app(
        {"DATABASE_URL": database_url, **CHANNEL_CONFIG, "TELEGRAM_WEBHOOK_SECRET": ""}
    )

    response = post_update(app.test_client(), tg_message_update("/start"), secret="")

    app.extensions["recordcheck.engine"].dispose()
    assert response.status_code == 403


# ---- messages, commands and buttons -------------------------------------------------------


def test_start_answers_inline_with_buttons_in_the_users_language(channel_client):
    response = post_update(channel_client, tg_message_update("/start", language_code="es-MX"))

    reply = response.get_json()
    assert response.status_code == 200
    assert reply["method"] == "sendMessage"
    assert reply["chat_id"] == CHAT
    assert "Hola" in reply["text"]
    buttons = [row[0] for row in reply["reply_markup"]["inline_keyboard"]]
    assert [b["callback_data"] for b in buttons] == ["menu:1", "menu:2", "menu:3", "menu:4"]
    assert all(b["text"] for b in buttons)


def test_a_start_command_addressed_to_the_bot_with_a_payload_still_starts(channel_client):
    response = post_update(channel_client, tg_message_update("/start@recordcheck_test_bot ref42"))

    assert response.get_json()["reply_markup"]["inline_keyboard"]


def test_a_button_press_advances_and_its_callback_is_answered_through_the_outbox(
    channel_client, engine
):
    post_update(channel_client, tg_message_update("/start"))
    update = tg_callback_update("2")

    reply = post_update(channel_client, update).get_json()

    assert reply["method"] == "sendMessage"
    assert "charge" in reply["text"].lower()
    answers = [m for m in _outbox(engine) if m.purpose == TELEGRAM_CALLBACK_ANSWER]
    assert len(answers) == 1
    query_id = update["callback_query"]["id"]
    assert decrypt_address(SECRET_KEY, answers[0].recipient_encrypted) == query_id
    assert answers[0].dedupe_key.startswith(f"tgcb:{update['update_id']}:")


def _offered(reply: dict) -> dict[str, str]:
    """Button label -> callback_data, as Telegram shows them under our message."""
    return {b["text"]: b["callback_data"] for row in reply["reply_markup"]["inline_keyboard"]
            for b in row}  # fmt: skip


def test_a_button_under_an_earlier_message_does_not_answer_the_current_question(
    channel_client, engine
):
    menu = _offered(post_update(channel_client, tg_message_update("/start")).get_json())
    charge = _offered(
        post_update(
            channel_client, tg_callback_update(menu["I don't know my case number"])
        ).get_json()
    )
    other = _offered(
        post_update(channel_client, tg_callback_update(charge["Having marijuana"])).get_json()
    )
    outcome = post_update(
        channel_client, tg_callback_update(other["No, just this one"])
    ).get_json()

    again = post_update(channel_client, tg_callback_update(charge["Having it to sell"])).get_json()

    assert "earlier question" in again["text"]
    assert _offered(again) == _offered(outcome)
    with Session(engine) as session:
        state = session.scalars(select(Conversation.state)).one()
    assert (state["step"], state["answers"]["q_charge"]) == ("q_outcome", "possession")


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        pytest.param("/help", "MENU", id="help"),
        pytest.param("/lang", "English", id="lang"),
        pytest.param("/delete", "erase", id="delete"),
    ],
)
def test_commands(channel_client, command, expected):
    post_update(channel_client, tg_message_update("/start"))

    reply = post_update(channel_client, tg_message_update(command)).get_json()

    assert expected.lower() in reply["text"].lower()


def test_delete_then_yes_erases_the_conversation(channel_client, engine):
    post_update(channel_client, tg_message_update("/start"))
    post_update(channel_client, tg_message_update("/delete"))

    reply = post_update(channel_client, tg_message_update("yes")).get_json()

    assert "erased" in reply["text"].lower()
    assert _count(engine, Conversation) == 0


@pytest.mark.parametrize(
    "content",
    [pytest.param(STICKER, id="sticker"), pytest.param(PHOTO, id="photo"),
     pytest.param(LOCATION, id="location")],
)  # fmt: skip
def test_stickers_photos_and_locations_get_a_polite_please_type(channel_client, content):
    post_update(channel_client, tg_message_update("/start"))

    reply = post_update(channel_client, tg_message_update(None, **content)).get_json()

    assert "only read text" in reply["text"]


def test_a_photo_with_a_caption_is_still_media(channel_client):
    post_update(channel_client, tg_message_update("/start"))

    reply = post_update(
        channel_client, tg_message_update(None, caption="0B01234567", **PHOTO)
    ).get_json()

    assert "only read text" in reply["text"]


@pytest.mark.parametrize(
    "service",
    [
        pytest.param({"pinned_message": {"message_id": 3, "date": 1764000000, "text": "Hi",
                      "chat": {"id": CHAT, "first_name": "Pat", "type": "private"}}},
                     id="pinned-a-message"),
        pytest.param({"message_auto_delete_timer_changed": {"message_auto_delete_time": 86400}},
                     id="set-auto-delete"),
        pytest.param({"chat_background_set": {"type": {"type": "fill", "fill": {
                      "type": "solid", "color": 0}, "dark_theme_dimming": 0}}},
                     id="new-wallpaper"),
    ],
)  # fmt: skip
def test_pinning_auto_delete_or_a_wallpaper_in_the_private_chat_gets_no_reply(
    channel_client, engine, service
):
    """Telegram tells the bot when the person pins a message, sets auto-delete or changes the
    chat's wallpaper; answering "I can only read text" and the question again makes no sense."""
    post_update(channel_client, tg_message_update("/start"))
    version = _version(engine)

    response = post_update(channel_client, tg_message_update(None, **service))

    assert (response.status_code, response.data) == (200, b"")
    assert _version(engine) == version


def test_an_edited_message_is_not_replayed_into_the_dialog(channel_client, engine):
    post_update(channel_client, tg_message_update("/start"))
    version = _version(engine)

    reply = post_update(channel_client, tg_message_update("2", edited=True)).get_json()

    assert "new message" in reply["text"]
    assert _version(engine) == version


def test_a_moving_live_location_is_not_answered_at_every_move(channel_client, engine):
    """Telegram sends each move of a shared live location as an edited message."""
    post_update(channel_client, tg_message_update("/start"))
    moved = {"location": {"latitude": 39.29, "longitude": -76.61, "live_period": 900}}

    responses = [
        post_update(channel_client, tg_message_update(None, edited=True, **moved))
        for _ in range(3)
    ]

    assert [(r.status_code, r.data) for r in responses] == [(200, b"")] * 3


def test_an_edited_message_is_answered_in_the_language_the_person_chose(channel_client):
    """A Spanish speaker whose phone is set to English picks Español; the notice about an
    edited message must be in Spanish too, not in the phone's language."""
    post_update(channel_client, tg_message_update("/start", language_code="en"))
    post_update(channel_client, tg_message_update("/lang", language_code="en"))
    post_update(channel_client, tg_callback_update("lang:2", language_code="en"))

    reply = post_update(
        channel_client, tg_message_update("2", edited=True, language_code="en")
    ).get_json()

    assert (
        reply["text"]
        == "No leo mensajes cambiados. Envíe su respuesta otra vez como un mensaje nuevo."
    )


@pytest.mark.parametrize("chat_type", ["group", "supergroup"])
def test_groups_get_one_line_and_nothing_else(channel_client, engine, chat_type):
    update = tg_message_update("/start", chat_id=-100123, chat_type=chat_type)

    reply = post_update(channel_client, update).get_json()

    assert reply == {
        "method": "sendMessage",
        "chat_id": -100123,
        "text": "I only talk in a private chat. Tap my name and send me a message there.",
    }
    assert _count(engine, Conversation) == 0
    assert _count(engine, ProcessedMessage) == 0


def test_neighbours_talking_in_a_group_where_the_bot_is_admin_get_no_reply(channel_client, engine):
    """An admin bot sees every message in a group; a line under each one would spam it."""
    update = tg_message_update(
        "Does anyone know a lawyer? My cousin has an old case",
        chat_id=-100123,
        chat_type="supergroup",
    )

    response = post_update(channel_client, update)

    assert (response.status_code, response.data) == (200, b"")
    assert _count(engine, ProcessedMessage) == 0


@pytest.mark.parametrize(
    "addressed",
    [
        pytest.param({"text": "@recordcheck_test_bot can you check my case?",
                      "entities": [{"offset": 0, "length": 21, "type": "mention"}]},
                     id="mention"),
        pytest.param({"text": "hello?", "reply_to_message": {
                      "message_id": 9, "date": 1764000000,
                      "chat": {"id": -100123, "title": "Neighbours", "type": "supergroup"},
                      "from": {"id": 123456, "is_bot": True, "first_name": "RecordCheck"},
                      "text": "I only talk in a private chat."}},
                     id="reply-to-the-bot"),
    ],
)  # fmt: skip
def test_a_message_to_the_bot_in_a_group_gets_the_one_line(channel_client, addressed):
    addressed = dict(addressed)
    text = addressed.pop("text")
    update = tg_message_update(text, chat_id=-100123, chat_type="supergroup", **addressed)

    reply = post_update(channel_client, update).get_json()

    assert reply["text"].startswith("I only talk in a private chat.")


@pytest.fixture
def bot_username_stored(monkeypatch, database_url):
    """``recordcheck telegram set-webhook`` has run: it learned from Telegram (a fake of the
    Bot API answering getMe as @recordcheck_test_bot, id 123456) who the bot is."""
    fake = FakeTelegram(token=TG_TOKEN).start()
    try:
        for name, value in {
            "DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": TG_TOKEN,
            "TELEGRAM_API_BASE": fake.url,
            "TELEGRAM_WEBHOOK_SECRET": TG_SECRET,
            "RECORDCHECK_PUBLIC_BASE_URL": "https://rc.example.org",
        }.items():
            monkeypatch.setenv(name, value)
        result = CliRunner().invoke(cli, ["telegram", "set-webhook"])
        assert result.exit_code == 0, result.output
    finally:
        fake.stop()


def _mention(text: str, username: str) -> dict[str, object]:
    """A group message's text and its Bot API "mention" entity for ``@username``."""
    offset = text.index(f"@{username}")
    return {"text": text, "entities": [{"offset": offset, "length": len(username) + 1,
                                        "type": "mention"}]}  # fmt: skip


def _reply_to(author: dict[str, object]) -> dict[str, object]:
    """A group message replying to one written by ``author``."""
    return {"text": "hello?", "reply_to_message": {
        "message_id": 9, "date": 1764000000,
        "chat": {"id": -100123, "title": "Neighbours", "type": "supergroup"},
        "from": author, "text": "An earlier message"}}  # fmt: skip


US = {
    "id": 123456,
    "is_bot": True,
    "first_name": "RecordCheck",
    "username": "recordcheck_test_bot",
}
OTHER_BOT = {
    "id": 777000111,
    "is_bot": True,
    "first_name": "Weather",
    "username": "some_other_bot",
}


@pytest.mark.parametrize(
    ("addressed", "answered"),
    [
        pytest.param(_mention("@recordcheck_test_bot can you check my case?",
                              "recordcheck_test_bot"), True, id="mention-of-us"),
        pytest.param(_mention("hey @RecordCheck_Test_Bot help", "RecordCheck_Test_Bot"), True,
                     id="mention-of-us-in-other-case"),
        pytest.param(_mention("@some_other_bot what's the weather?", "some_other_bot"), False,
                     id="mention-of-another-bot"),
        pytest.param({"text": "/start@OtherBot"}, False, id="command-to-another-bot"),
        pytest.param({"text": "/start@recordcheck_test_bot"}, True, id="command-to-us"),
        pytest.param({"text": "/start"}, True, id="command-to-no-bot-in-particular"),
        pytest.param({"text": "/ "}, True, id="a-slash-and-a-space"),
        pytest.param(_reply_to(US), True, id="reply-to-us"),
        pytest.param(_reply_to(OTHER_BOT), False, id="reply-to-another-bot"),
    ],
)  # fmt: skip
def test_in_a_group_only_a_message_to_this_bot_gets_the_one_line(
    bot_username_stored, channel_client, engine, addressed, answered
):
    """It matched any "@...bot": a neighbour asking @some_other_bot got our line too."""
    addressed = dict(addressed)
    text = addressed.pop("text")
    update = tg_message_update(text, chat_id=-100123, chat_type="supergroup", **addressed)

    response = post_update(channel_client, update)

    if answered:
        assert response.get_json()["text"].startswith("I only talk in a private chat.")
    else:
        assert (response.status_code, response.data) == (200, b"")
    assert _count(engine, ProcessedMessage) == 0


def test_until_the_username_is_stored_a_mention_of_any_bot_gets_the_line_and_the_log_says_so_once(
    channel_client, log_lines
):
    update = tg_message_update(
        chat_id=-100123,
        chat_type="supergroup",
        **_mention("@some_other_bot what's the weather?", "some_other_bot"),
    )

    first = post_update(channel_client, update)
    second = post_update(channel_client, {**update, "update_id": next_update_id()})

    assert first.get_json()["text"].startswith("I only talk in a private chat.")
    assert second.get_json()["text"].startswith("I only talk in a private chat.")
    unknown = [line for line in log_lines if "bot username unknown" in line]
    assert len(unknown) == 1
    assert "recordcheck telegram set-webhook" in unknown[0]


@pytest.mark.parametrize(
    "service",
    [
        pytest.param({"new_chat_members": [{"id": 99, "is_bot": False, "first_name": "Sam"}]},
                     id="someone-joined"),
        pytest.param({"left_chat_member": {"id": 99, "is_bot": False, "first_name": "Sam"}},
                     id="someone-left"),
        pytest.param({"migrate_to_chat_id": -1001234567890}, id="became-a-supergroup"),
        pytest.param({"new_chat_title": "Block party"}, id="renamed"),
        pytest.param(PHOTO, id="a-photo"),
    ],
)  # fmt: skip
def test_group_events_and_media_get_no_reply(channel_client, engine, service):
    """Bots see every service message in a group; answering each one spams the group."""
    update = tg_message_update(None, chat_id=-100123, chat_type="group", **service)

    response = post_update(channel_client, update)

    assert (response.status_code, response.data) == (200, b"")
    assert _count(engine, Conversation) == 0


def test_updates_we_do_not_handle_are_acknowledged_quietly(channel_client, engine):
    update = {
        "update_id": next_update_id(),
        "my_chat_member": {
            "chat": {"id": CHAT, "first_name": "Pat", "type": "private"},
            "from": {"id": CHAT, "is_bot": False, "first_name": "Pat"},
            "date": 1764000000,
            "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True,
                                                              "first_name": "RC"}},
            "new_chat_member": {"status": "kicked", "user": {"id": 1, "is_bot": True,
                                                              "first_name": "RC"},
                                "until_date": 0},
        },
    }  # fmt: skip

    response = post_update(channel_client, update)

    assert (response.status_code, response.data) == (200, b"")
    assert _count(engine, Conversation) == 0


# ---- duplicates ---------------------------------------------------------------------------


def test_a_repeated_update_gets_the_same_reply_and_advances_once(channel_client, engine):
    post_update(channel_client, tg_message_update("/start"))
    update = tg_callback_update("2")

    first = post_update(channel_client, update)
    version = _version(engine)
    again = post_update(channel_client, update)

    assert again.get_json() == first.get_json()
    assert _version(engine) == version
    assert _count(engine, OutboxMessage, OutboxMessage.purpose == TELEGRAM_CALLBACK_ANSWER) == 1


def test_the_same_update_id_from_another_chat_is_answered_as_its_own(channel_client, engine):
    """Update ids are unique only in sequence (Telegram restarts them at random after a week
    without updates, and with a new bot token): another person's repeat of an id must get
    their own answer, never this chat's stored reply."""
    post_update(channel_client, tg_message_update("/start", user_id=7001))
    post_update(channel_client, tg_message_update("/start", user_id=7002, language_code="es"))
    update_id = next_update_id()

    mine = post_update(channel_client, tg_callback_update("2", user_id=7001, update_id=update_id))
    theirs = post_update(
        channel_client, tg_callback_update("3", user_id=7002, update_id=update_id)
    )

    assert (mine.get_json()["chat_id"], theirs.get_json()["chat_id"]) == (7001, 7002)
    assert "charge" in mine.get_json()["text"].lower()
    assert "quiere saber" in theirs.get_json()["text"]
    assert _count(engine, OutboxMessage, OutboxMessage.purpose == TELEGRAM_CALLBACK_ANSWER) == 2


def test_duplicate_updates_delivered_concurrently_are_applied_once(channel_app, engine):
    post_update(channel_app.test_client(), tg_message_update("/start"))
    update = tg_message_update("2")
    replies: list[object] = []

    def deliver() -> None:
        replies.append(post_update(channel_app.test_client(), update).get_json())

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(replies) == 8
    assert all(reply == replies[0] for reply in replies)
    assert _version(engine) == 2


# ---- long answers -------------------------------------------------------------------------


def _walk_to_result(client) -> dict:
    post_update(client, tg_message_update("/start"))
    reply: dict = {}
    for answer in ("2", "1", "2", "1", "2015", "1", "2016", "1", "2"):
        reply = post_update(client, tg_callback_update(answer)).get_json()
    return reply


def test_a_long_result_sends_the_first_part_inline_and_queues_the_rest_in_order(
    channel_client, engine
):
    first = _walk_to_result(channel_client)

    rich = [m for m in _outbox(engine) if m.purpose == TELEGRAM_RICH]
    parts = [first["text"], *(json.loads(m.body)["text"] for m in rich)]
    assert all(len(part) <= 4096 for part in parts)
    assert "likely" in parts[0]
    last = json.loads(rich[-1].body) if rich else first
    assert last["buttons"] if rich else first["reply_markup"]
    assert {decrypt_address(SECRET_KEY, m.recipient_encrypted) for m in rich} <= {str(CHAT)}


def test_an_answers_next_part_waits_until_the_first_has_gone_back_inline(channel_app, engine):
    """Part 1 travels in the webhook reply, which Telegram sends only once our response
    reaches it; part 2 goes through the outbox and must not overtake it."""
    from bot.model import OutboundMessage
    from webhooks.channel_runtime import Answer
    from webhooks.telegram import FOLLOW_ON_DELAY, _respond

    answer = Answer((OutboundMessage("x" * 4000), OutboundMessage("y" * 4000)), "en", "replied")
    with channel_app.test_request_context():
        response = _respond("77:abc", CHAT, "h" * 64, answer, None)

    assert response.get_json()["text"] == "x" * 4000
    (part,) = [m for m in _outbox(engine) if m.purpose == TELEGRAM_RICH]
    assert json.loads(part.body)["text"] == "y" * 4000
    assert part.not_before - part.created_at == FOLLOW_ON_DELAY


# ---- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b"", "application/json", id="empty"),
        pytest.param(b"not json", "application/json", id="not-json"),
        pytest.param(b"[1, 2, 3]", "application/json", id="array"),
        pytest.param(b'{"message": {}}', "application/json", id="no-update-id"),
        pytest.param(b'{"update_id": "7"}', "application/json", id="string-update-id"),
        pytest.param(
            b'{"update_id": 7, "message": {"message_id": 1, "date": 0, "chat": "x"}}',
            "application/json",
            id="chat-not-an-object",
        ),
        pytest.param(b"\xff\xfe\x00{", "application/json", id="not-utf8"),
        pytest.param(b"update_id=7", "application/x-www-form-urlencoded", id="form"),
        pytest.param(b"[" * 200_000, "application/json", id="nested-too-deep"),
        pytest.param(
            b'{"update_id": 7, "message": ' + b'{"a":' * 20_000 + b"1" + b"}" * 20_001,
            "application/json",
            id="message-nested-too-deep",
        ),
    ],
)
def test_malformed_updates_are_a_clear_400(channel_client, engine, body, content_type):
    response = channel_client.post(
        "/telegram/webhook",
        data=body,
        content_type=content_type,
        headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET},
    )

    assert response.status_code == 400
    assert response.json["error"]["code"] == 400
    assert _count(engine, Conversation) == 0


@pytest.mark.parametrize(
    "text", ["\u0000", "0B0\ud8000001", "\udfff"], ids=["nul", "surrogate-inside", "surrogate"]
)
def test_a_nul_or_a_lone_surrogate_in_a_text_is_answered_not_crashed(channel_client, engine, text):
    """JSON may carry a NUL or half of a surrogate pair (``\\ud800``); Python reads both
    into the text. The person gets the question again, never a 500 that Telegram retries."""
    post_update(channel_client, tg_message_update("/start"))
    post_update(channel_client, tg_message_update("1"))

    response = post_update(channel_client, tg_message_update(text))

    assert response.status_code == 200
    assert response.get_json()["chat_id"] == CHAT
    assert "case number" in response.get_json()["text"]
    assert _count(engine, ProcessedMessage) == 3


def test_a_button_press_with_100000_characters_of_data_is_answered(channel_client, engine):
    """Telegram caps callback data at 64 bytes; a forged longer one is cut, not stored."""
    post_update(channel_client, tg_message_update("/start"))

    response = post_update(channel_client, tg_callback_update("menu:1" + "9" * 100_000))

    assert response.status_code == 200
    assert response.get_json()["chat_id"] == CHAT
    assert _count(engine, OutboxMessage, OutboxMessage.purpose == TELEGRAM_CALLBACK_ANSWER) == 1


def test_an_update_after_a_utf8_byte_order_mark_is_read(channel_client):
    body = b"\xef\xbb\xbf" + json.dumps(tg_message_update("/start")).encode()

    response = channel_client.post(
        "/telegram/webhook",
        data=body,
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET},
    )

    assert response.status_code == 200
    assert "RecordCheck" in response.get_json()["text"]


def test_an_oversized_update_is_413(channel_client):
    response = post_update(channel_client, tg_message_update("x" * (1024 * 1024)))

    assert response.status_code == 413


def test_an_over_long_text_is_cut_not_crashed(channel_client):
    post_update(channel_client, tg_message_update("/start"))

    response = post_update(channel_client, tg_message_update("ab " * 5000))

    assert response.status_code == 200


def test_a_flood_gets_one_slow_down_in_the_users_language(channel_client, engine):
    replies = [
        post_update(channel_client, tg_message_update("menu", language_code="es")).get_json()
        for _ in range(CHAT_LIMIT.count + 4)
    ]

    slow = replies[CHAT_LIMIT.count]
    assert slow["text"].startswith("Está enviando muchos mensajes")
    assert replies[CHAT_LIMIT.count + 1 :] == [None] * 3


def test_database_unreachable_is_503_so_telegram_retries():
    app = create_app(
        {
            "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1",
            **CHANNEL_CONFIG,
        }
    )

    response = post_update(app.test_client(), tg_message_update("/start"))

    assert response.status_code == 503


def test_logs_hold_no_chat_id_and_no_text(channel_client, log_lines):
    post_update(channel_client, tg_message_update("/start", user_id=987654321))
    post_update(channel_client, tg_message_update("0B01234567", user_id=987654321))

    lines = [r for r in log_lines.records() if r["msg"] == "channel request"]
    assert [(r["channel"], r["outcome"]) for r in lines] == [
        ("telegram", "replied"),
        ("telegram", "replied"),
    ]
    everything = "\n".join(log_lines)
    assert "987654321" not in everything
    assert "0B01234567" not in everything


# ---- the worker wakes up for a button press (PostgreSQL LISTEN/NOTIFY) -----------------


def test_a_button_press_wakes_a_listening_worker_at_once_on_postgresql(
    channel_client, engine, backend
):
    if backend != "postgresql":
        pytest.skip("SQLite has no NOTIFY; the worker polls there")
    from webhooks.outbox_signal import OutboxWaker

    waker = OutboxWaker(engine)
    woke = threading.Event()
    try:
        waker.wait(0.01)  # connect and LISTEN before the button press
        post_update(channel_client, tg_message_update("/start"))

        def worker_waiting() -> None:
            waker.wait(60)  # the worker's whole interval, unless something is queued
            woke.set()

        thread = threading.Thread(target=worker_waiting, daemon=True)
        thread.start()
        post_update(channel_client, tg_callback_update("2"))
        thread.join(15)
    finally:
        waker.close()

    assert woke.is_set(), "the worker kept sleeping although a callback answer was queued"
    assert any(m.purpose == TELEGRAM_CALLBACK_ANSWER for m in _outbox(engine))
