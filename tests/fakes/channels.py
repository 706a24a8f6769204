"""Helpers for channel tests: signed Twilio forms, real Bot API update JSON, the channel app.

Twilio requests are signed by twilio's own ``RequestValidator.compute_signature`` over the
public URL; Telegram updates follow the Bot API's JSON shapes (https://core.telegram.org/bots/api#update).
"""

from __future__ import annotations

import itertools
import json
import logging
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any
from xml.etree import ElementTree

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from twilio.request_validator import RequestValidator

from tests.conftest import _delete_all_rows
from webhooks.app import create_app
from webhooks.logs import JsonFormatter

PUBLIC = "https://recordcheck.example.org"
AUTH_TOKEN = "twilio-test-auth-token-0123456789"
ACCOUNT_SID = "AC" + "1" * 32
TG_SECRET = "tg-webhook-secret_0123456789-ABC"
TG_TOKEN = "123456:TEST-token"
TWILIO_NUMBER = "+14435550100"

CHANNEL_CONFIG = {
    "RECORDCHECK_PUBLIC_BASE_URL": PUBLIC,
    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_FROM_NUMBER": TWILIO_NUMBER,
    "TELEGRAM_BOT_TOKEN": TG_TOKEN,
    "TELEGRAM_WEBHOOK_SECRET": TG_SECRET,
    "RECORDCHECK_SECRET_KEY": "channel-tests-secret-key",
    "RECORDCHECK_HMAC_KEY": "channel-tests-hmac-key",
    "REDIS_URL": "",
    "TESTING": True,
}


@pytest.fixture
def channel_app(database_url: str, engine: Engine) -> Iterator[Flask]:
    """The real app on the current backend, with Twilio and Telegram secrets configured."""
    application = create_app({"DATABASE_URL": database_url, **CHANNEL_CONFIG})
    yield application
    application.extensions["recordcheck.engine"].dispose()
    _delete_all_rows(engine)


@pytest.fixture
def channel_client(channel_app: Flask) -> FlaskClient:
    """A test client for the channel app."""
    return channel_app.test_client()


# ---- Twilio -------------------------------------------------------------------------------


def message_sid() -> str:
    """A fresh Twilio-style MessageSid."""
    return "SM" + uuid.uuid4().hex


def sms_form(body: str, *, sender: str = "+14105550123", sid: str | None = None, **extra: str):
    """The form Twilio posts for an inbound SMS."""
    sid = sid or message_sid()
    form = {
        "ToCountry": "US",
        "ToState": "MD",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "BALTIMORE",
        "FromZip": "21201",
        "SmsSid": sid,
        "FromState": "MD",
        "SmsStatus": "received",
        "FromCity": "BALTIMORE",
        "Body": body,
        "FromCountry": "US",
        "To": TWILIO_NUMBER,
        "MessagingServiceSid": "MG" + "2" * 32,
        "ToZip": "21202",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    form.update(extra)
    return form


def sign(path: str, form: Mapping[str, str], *, token: str = AUTH_TOKEN, base: str = PUBLIC):
    """The X-Twilio-Signature Twilio would send for ``form`` posted to ``base + path``."""
    return RequestValidator(token).compute_signature(base + path, dict(form))


def post_sms(client: FlaskClient, form: Mapping[str, str], *, path: str = "/sms/twilio"):
    """POST a signed form, as Twilio does."""
    return client.post(path, data=dict(form), headers={"X-Twilio-Signature": sign(path, form)})


def twiml_messages(body: bytes | str) -> list[str]:
    """The texts of the ``<Message>`` elements of a TwiML response."""
    root = ElementTree.fromstring(body)  # noqa: S314 - our own TwiML, in a test
    assert root.tag == "Response"
    return [element.text or "" for element in root.iter("Message")]


# ---- Telegram -----------------------------------------------------------------------------

_update_ids = itertools.count(int(time.time()) % 100000 * 1000)


def next_update_id() -> int:
    """A fresh update_id."""
    return next(_update_ids)


def tg_user(user_id: int, *, language_code: str | None = "en") -> dict[str, Any]:
    """A Bot API User object."""
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Pat"}
    if language_code:
        user["language_code"] = language_code
    return user


def tg_chat(chat_id: int, kind: str = "private") -> dict[str, Any]:
    """A Bot API Chat object."""
    if kind == "private":
        return {"id": chat_id, "first_name": "Pat", "type": "private"}
    return {"id": chat_id, "title": "Neighbours", "type": kind}


def tg_message_update(
    text: str | None = None,
    *,
    user_id: int = 7001,
    chat_id: int | None = None,
    chat_type: str = "private",
    update_id: int | None = None,
    language_code: str | None = "en",
    edited: bool = False,
    **content: Any,
) -> dict[str, Any]:
    """An Update carrying a message (or an edited message) with text or other content."""
    message: dict[str, Any] = {
        "message_id": 50 + (update_id or 0) % 1000,
        "from": tg_user(user_id, language_code=language_code),
        "chat": tg_chat(chat_id if chat_id is not None else user_id, chat_type),
        "date": int(time.time()),
    }
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            message["entities"] = [
                {"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}
            ]
    message.update(content)
    if edited:
        message["edit_date"] = int(time.time())
    key = "edited_message" if edited else "message"
    return {"update_id": update_id or next_update_id(), key: message}


def tg_callback_update(
    data: str, *, user_id: int = 7001, update_id: int | None = None, language_code: str = "en"
) -> dict[str, Any]:
    """An Update carrying a callback query from an inline button under one of our messages."""
    return {
        "update_id": update_id or next_update_id(),
        "callback_query": {
            "id": str(4_000_000_000 + (update_id or next_update_id())),
            "from": tg_user(user_id, language_code=language_code),
            "chat_instance": "-1234567890123456789",
            "data": data,
            "message": {
                "message_id": 77,
                "from": {"id": 123456, "is_bot": True, "first_name": "RecordCheck",
                         "username": "recordcheck_test_bot"},
                "chat": tg_chat(user_id),
                "date": int(time.time()),
                "text": "An earlier question",
            },
        },
    }  # fmt: skip


STICKER = {
    "sticker": {
        "file_id": "CAACAgIAAxkBAAIBY2ZfakeStickerId",
        "file_unique_id": "AgADfake",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": "\U0001f44d",
    }
}
PHOTO = {
    "photo": [
        {"file_id": "AgACAgfakePhotoSmall", "file_unique_id": "AQADs", "width": 90,
         "height": 67, "file_size": 1200},
        {"file_id": "AgACAgfakePhotoLarge", "file_unique_id": "AQADl", "width": 1280,
         "height": 960, "file_size": 98000},
    ]
}  # fmt: skip
LOCATION = {"location": {"latitude": 39.2904, "longitude": -76.6122}}


def post_update(client: FlaskClient, update: Mapping[str, Any], *, secret: str = TG_SECRET):
    """POST an update as Telegram does, with the secret header."""
    return client.post(
        "/telegram/webhook",
        json=dict(update),
        headers={"X-Telegram-Bot-Api-Secret-Token": secret},
    )


class LogLines(list[str]):
    """The JSON lines the ``recordcheck`` loggers wrote during a test."""

    def records(self) -> list[dict[str, Any]]:
        """Each line parsed."""
        return [json.loads(line) for line in self]


@pytest.fixture
def log_lines() -> Iterator[LogLines]:
    """Capture what the service logs, formatted exactly as in production."""
    lines = LogLines()

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = _Collect(level=logging.DEBUG)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("recordcheck")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(previous)
