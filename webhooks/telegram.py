"""Telegram: ``POST /telegram/webhook``, answered inline with the webhook-reply JSON.

Checks ``X-Telegram-Bot-Api-Secret-Token`` in constant time, parses the update with PTB's
``Update.de_json(data, None)`` (pure, synchronous: no ``Application``, no event loop in the web
worker) and de-duplicates on ``update_id`` through ``bot.service.handle``. Private chats only;
in a group, a command, mention or reply to this bot gets one line (the bot's username comes
from the database, stored there by ``recordcheck telegram set-webhook``). Anything a webhook
reply cannot carry (a second message, the answer to a button press) goes through the outbox,
so no outbound HTTP call sits on the request path.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from telegram import Message, MessageEntity, Update

from bot.model import Inbound, InboundKind, OutboundMessage
from db.base import utcnow
from db.engine import writer_turn
from db.identity import encrypt_address, sender_hash
from db.models import OutboxMessage
from webhooks.app import settings_of
from webhooks.channel_runtime import (
    Answer,
    channel_text,
    check_throttle,
    converse,
    json_body,
    logged,
    note,
    person_lang,
    set_opt_out,
)
from webhooks.db import db_session
from webhooks.outbound import TELEGRAM_CALLBACK_ANSWER, TELEGRAM_RICH
from webhooks.outbox_signal import notify_outbox
from webhooks.telegram_identity import BotIdentity, load_bot_identity
from webhooks.throttle import Verdict

bp = Blueprint("telegram", __name__)
log = logging.getLogger("recordcheck.telegram")
#: ``app.extensions`` key: the app has logged that it does not know the bot's username.
_UNKNOWN_IDENTITY_LOGGED = "recordcheck.telegram_identity_unknown_logged"

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
#: How long an answer's next part waits in the outbox: the first part goes back in the
#: webhook reply, which Telegram sends only once our response reaches it, and a worker woken
#: at the commit would otherwise often send part 2 first.
FOLLOW_ON_DELAY = dt.timedelta(seconds=1.5)
MAX_TEXT = 4096
#: Commands the bot lists in Telegram's menu; anything else after "/" is passed on as text.
COMMANDS = frozenset({"start", "help", "lang", "delete", "menu", "back", "restart"})
#: Message contents we cannot read; the conversation answers "please type".
MEDIA_FIELDS = (
    "sticker",
    "photo",
    "location",
    "venue",
    "document",
    "voice",
    "audio",
    "video",
    "video_note",
    "animation",
    "contact",
    "poll",
    "dice",
)
#: Service messages a private chat gets from the person's own taps (pinning a message,
#: setting auto-delete, a new chat wallpaper, allowing the bot to write): nothing was said,
#: so nothing is answered ("I can only read text" would answer a wallpaper).
SERVICE_FIELDS = (
    "pinned_message",
    "message_auto_delete_timer_changed",
    "chat_background_set",
    "write_access_allowed",
    "proximity_alert_triggered",
    "connected_website",
)


def _verify_secret() -> None:
    expected = settings_of(current_app).telegram_webhook_secret
    given = request.headers.get(SECRET_HEADER, "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        note(outcome="forbidden")
        abort(403)


def _parse() -> Update:
    data = json_body()
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        note(outcome="bad_request")
        abort(400, description="Expected a Telegram update (JSON object with update_id).")
    try:
        update = Update.de_json(data, None)
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
        note(outcome="bad_request")
        abort(400, description="The update could not be parsed.")
    if update is None:
        note(outcome="bad_request")
        abort(400, description="The update could not be parsed.")
    return update


def reply_json(chat_id: int, message: OutboundMessage) -> dict[str, Any]:
    """A ``sendMessage`` webhook reply, with inline buttons for choices."""
    payload: dict[str, Any] = {"method": "sendMessage", "chat_id": chat_id, "text": message.text}
    if message.buttons:
        payload["reply_markup"] = {
            "inline_keyboard": [
                [{"text": b.label, "callback_data": b.value[:64]}] for b in message.buttons
            ]
        }
    return payload


def _merge(messages: tuple[OutboundMessage, ...]) -> list[OutboundMessage]:
    """Fold messages into as few as Telegram allows (only the last may carry buttons)."""
    merged: list[OutboundMessage] = []
    for message in messages:
        if merged and not merged[-1].buttons:
            joined = f"{merged[-1].text}\n\n{message.text}"
            if len(joined) <= MAX_TEXT:
                merged[-1] = OutboundMessage(joined, message.buttons)
                continue
        merged.append(message)
    return merged


def _queue(
    *,
    dedupe_key: str,
    sender: str,
    address: str,
    body: str,
    purpose: str,
    delay: dt.timedelta = dt.timedelta(0),
    answer_key: str | None = None,
) -> None:
    """Add an outbox row once per ``dedupe_key`` (a provider retry queues nothing new).

    Rows sharing an ``answer_key`` are parts of one answer: the worker sends them in order.
    """
    session = db_session()
    settings = settings_of(current_app)
    now = utcnow()
    values = {
        "channel": "telegram",
        "sender_hash": sender,
        "recipient_encrypted": encrypt_address(settings.secret_key, address),
        "body": body,
        "purpose": purpose,
        "dedupe_key": dedupe_key,
        "answer_key": answer_key,
        "status": "queued",
        "attempts": 0,
        "not_before": now + delay,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(OutboxMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )


def _back_in_touch(sender: str) -> Callable[[Session, bool], Answer | None]:
    """A ``converse`` gate: a message from a chat the worker saw blocked (403) proves the
    person unblocked the bot, so their outbox messages (button answers, second parts,
    reminders) are sent again instead of skipped for good."""

    def gate(session: Session, opted_out: bool) -> Answer | None:
        if opted_out:
            set_opt_out(session, "telegram", sender, opted_out=False, source="message")
        return None

    return gate


def _respond(
    message_id: str, chat_id: int, sender: str, answer: Answer, callback_id: str | None
) -> Response:
    """The first message inline; the rest, and the callback answer, through the outbox."""
    messages = _merge(answer.messages)
    session = db_session()
    if callback_id is not None or len(messages) > 1:
        with writer_turn(session):
            if callback_id is not None:
                _queue(
                    dedupe_key=f"tgcb:{message_id}",
                    sender=sender,
                    address=callback_id,
                    body="",
                    purpose=TELEGRAM_CALLBACK_ANSWER,
                )
            for index, extra in enumerate(messages[1:], start=1):
                _queue(
                    dedupe_key=f"tg:{message_id}:{index}",
                    sender=sender,
                    address=str(chat_id),
                    body=json.dumps(extra.to_json()),
                    purpose=TELEGRAM_RICH,
                    delay=FOLLOW_ON_DELAY * index,
                    answer_key=f"tg:{message_id}",
                )
            notify_outbox(session)
            session.commit()
    if not messages:
        return Response(status=200)
    return jsonify(reply_json(chat_id, messages[0]))


def _command(text: str) -> str | None:
    """``/start@RecordCheckBot payload`` -> ``/start`` for known commands."""
    if not text.startswith("/"):
        return None
    name = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else ""
    return f"/{name}" if name in COMMANDS else None


def _addressed_to_a_bot(message: Message, me: BotIdentity | None) -> bool:
    """A command, an @mention or a reply, to this bot (``me``).

    Without ``me`` (set-webhook has not stored the bot's username yet) to any bot: a command,
    a mention of any username ending in "bot" (as every bot's does), a reply to any bot. That
    is also the quick first look that keeps a group's chatter away from the database.
    """
    text = message.text or ""
    if text.startswith("/"):
        # "/start@OtherBot" is for the other bot; a bare "/start" may be for any of them.
        addressee = _command_addressee(text)
        return me is None or not addressee or me.is_named(addressee)
    replied = message.reply_to_message
    author = replied.from_user if replied is not None else None
    if author is not None and author.is_bot and (me is None or author.id == me.bot_id):
        return True
    return any(
        entity.type == "mention" and _names(_text_of(text, entity), me)
        for entity in message.entities
    )


def _command_addressee(text: str) -> str:
    """``/start@OtherBot payload`` -> ``OtherBot``; "" for a command to no bot in particular."""
    words = text[1:].split(maxsplit=1)
    return words[0].partition("@")[2] if words else ""


def _names(mention: str, me: BotIdentity | None) -> bool:
    """Whether an @mention is of this bot (of any bot when ``me`` is unknown)."""
    return mention.lower().endswith("bot") if me is None else me.is_named(mention)


def _bot_identity() -> BotIdentity | None:
    """The bot's stored identity; when there is none, say once in this process's log that a
    group's mention of any bot gets our line until ``recordcheck telegram set-webhook`` runs."""
    me = load_bot_identity(db_session())
    if me is None and not current_app.extensions.get(_UNKNOWN_IDENTITY_LOGGED):
        current_app.extensions[_UNKNOWN_IDENTITY_LOGGED] = True
        log.warning(
            "telegram bot username unknown: in groups, a command, a mention of any bot or a "
            "reply to any bot gets the one line; run recordcheck telegram set-webhook to store it"
        )
    return me


def _text_of(text: str, entity: MessageEntity) -> str:
    """The part of ``text`` an entity covers (its offset and length count UTF-16 units)."""
    units = text.encode("utf-16-le")
    return units[entity.offset * 2 : (entity.offset + entity.length) * 2].decode(
        "utf-16-le", errors="replace"
    )


def _is_service(message: Message) -> bool:
    """A service message (see ``SERVICE_FIELDS``), known to PTB or only in its extra fields."""
    if message.text is not None:
        return False
    extra = message.api_kwargs or {}
    return any(getattr(message, name, None) or extra.get(name) for name in SERVICE_FIELDS)


def _kind_and_text(message: Message) -> tuple[InboundKind, str]:
    if message.text is not None:
        command = _command(message.text.strip())
        if command is not None:
            return "command", command
        return "text", message.text
    if any(getattr(message, name, None) for name in MEDIA_FIELDS):
        return "media", ""
    return "empty", ""


@bp.post("/telegram/webhook")
@logged("telegram")
def webhook() -> Response:
    """Handle one Telegram update and answer inline."""
    _verify_secret()
    update = _parse()
    settings = settings_of(current_app)

    if update.callback_query is not None:
        query = update.callback_query
        chat = query.message.chat if query.message is not None else None
        if chat is None or chat.type != "private":
            note(outcome="ignored")
            return Response(status=200)
        sender = sender_hash(settings.hmac_key, "telegram", str(chat.id))
        note(sender=sender)
        inbound = _inbound(update, chat.id, sender, "button", (query.data or "")[:64])
        inbound = _with_hint(inbound, query.from_user.language_code)
        answer = converse(inbound, gate=_back_in_touch(sender))
        note(outcome=answer.outcome)
        return _respond(inbound.provider_message_id or "", chat.id, sender, answer, query.id)

    edited = update.edited_message
    if edited is not None:
        if edited.chat.type != "private" or (edited.text is None and edited.caption is None):
            # A shared live location arrives as an edit every time it moves: only a changed
            # text (or caption) is something the person rewrote and may expect us to read.
            note(outcome="ignored")
            return Response(status=200)
        sender = sender_hash(settings.hmac_key, "telegram", str(edited.chat.id))
        note(sender=sender, outcome="edited")
        hint = edited.from_user.language_code if edited.from_user else None
        inbound = _with_hint(_inbound(update, edited.chat.id, sender, "text", ""), hint)
        session = db_session()
        with writer_turn(session):
            verdict = check_throttle(f"telegram:{sender}")
            # The language the person chose, not their phone's: a Spanish speaker with an
            # English phone who picked Español must not be told this in English.
            lang = person_lang(session, inbound)
            session.commit()
        if verdict is not Verdict.ALLOW:
            note(outcome="throttled")
            return Response(status=200)
        notice = channel_text("channels.edited", "telegram", lang)
        return jsonify(reply_json(edited.chat.id, notice))

    message = update.message
    if message is None:
        note(outcome="ignored")
        return Response(status=200)
    if message.chat.type != "private":
        if (
            message.text is None
            or not _addressed_to_a_bot(message, None)
            or not _addressed_to_a_bot(message, _bot_identity())
        ):
            # Joins, leaves, renames, migrations and media: a bot sees every one of them in a
            # group, and a line for each would spam the group (and a migrated id refuses it).
            # So would a line under every neighbour's message in a group that made the bot
            # an admin (admins see all messages), or under a message to another bot: only a
            # message to this bot is answered.
            note(outcome="ignored")
            return Response(status=200)
        note(outcome="group")
        lang = message.from_user.language_code if message.from_user else None
        return jsonify(
            reply_json(
                message.chat.id, channel_text("channels.group_only", "telegram", _lang(lang))
            )
        )
    if _is_service(message):
        note(outcome="ignored")
        return Response(status=200)
    sender = sender_hash(settings.hmac_key, "telegram", str(message.chat.id))
    note(sender=sender)
    kind, text = _kind_and_text(message)
    inbound = _inbound(update, message.chat.id, sender, kind, text)
    inbound = _with_hint(inbound, message.from_user.language_code if message.from_user else None)
    answer = converse(inbound, gate=_back_in_touch(sender))
    note(outcome=answer.outcome)
    return _respond(inbound.provider_message_id or "", message.chat.id, sender, answer, None)


def _lang(code: str | None) -> str | None:
    base = (code or "").lower().split("-")[0]
    return base if base in ("en", "es") else None


def message_id(update_id: int, sender: str) -> str:
    """The update's id for de-duplication, with the sender's hash: update ids are unique only
    while they run in sequence (after a week without updates Telegram starts again at a
    random one, and a new bot token starts anew), and a repeat from another chat must never
    be answered with this chat's stored reply."""
    return f"{update_id}:{sender[:16]}"


def _inbound(update: Update, chat_id: int, sender: str, kind: InboundKind, text: str) -> Inbound:
    settings = settings_of(current_app)
    return Inbound(
        channel="telegram",
        sender_hash=sender,
        text=text,
        provider_message_id=message_id(update.update_id, sender),
        received_at=utcnow(),
        lang_hint=None,
        reply_address=encrypt_address(settings.secret_key, str(chat_id)),
        kind=kind,
    )


def _with_hint(inbound: Inbound, language_code: str | None) -> Inbound:
    from dataclasses import replace

    return replace(inbound, lang_hint=language_code) if language_code else inbound
