"""Twilio SMS: ``POST /sms/twilio`` (inbound, answered inline as TwiML) and
``POST /sms/twilio/status`` (delivery status callbacks).

Both verify ``X-Twilio-Signature`` with twilio's ``RequestValidator`` against the *public* URL
(RECORDCHECK_PUBLIC_BASE_URL + path): behind the platform's router the URL Flask sees is not
the one Twilio signed. Opt-out keywords follow Twilio's rules: Twilio answers STOP, START and
HELP itself and refuses to text an opted-out number (error 21610), so we record the change and
stay quiet rather than send a second reply.
"""

from __future__ import annotations

import functools
import hmac
from html import escape
from typing import Any

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy import case
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from bot.model import Inbound, InboundKind, OutboundMessage
from bot.parsing import parse_command
from db.base import utcnow
from db.engine import writer_turn
from db.identity import encrypt_address, sender_hash
from db.models.channels import DeliveryStatus
from webhooks.app import settings_of
from webhooks.channel_runtime import (
    Answer,
    converse,
    logged,
    note,
    set_opt_out,
)
from webhooks.db import db_session

bp = Blueprint("sms", __name__)

#: Twilio's default opt-in keywords (a whole message, any case); its opt-out keywords are the
#: conversation's own ``stop`` command (``bot.parsing.COMMANDS``). With Advanced Opt-Out Twilio
#: tells us instead, in ``OptOutType``.
START_WORDS = frozenset({"start", "unstop"})
#: "YES" opts back in only someone who is opted out; otherwise it is an answer.
START_IF_OPTED_OUT = frozenset({"yes"})

#: Delivery statuses in the order they happen; a callback never moves a message backwards.
STATUS_RANK = {
    "accepted": 1,
    "scheduled": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "failed": 5,
    "undelivered": 5,
    "delivered": 5,
    # Twilio's status list also has this one: some parts of a long message did not arrive.
    "partially_delivered": 5,
    "read": 6,
    "canceled": 5,
}
TWILIO_OPTED_OUT = "21610"


#: The TwiML twilio's ``MessagingResponse`` writes, byte for byte, without building an XML tree
#: per request: message text escaped as ElementTree escapes text (``&``, ``<``, ``>``).
_TWIML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
_TWIML_EMPTY = _TWIML_HEAD + "<Response />"


def _empty() -> Response:
    return Response(_TWIML_EMPTY, mimetype="text/xml")


def twiml(messages: tuple[OutboundMessage, ...] | list[OutboundMessage]) -> Response:
    """One ``<Message>`` per reply; an empty ``<Response/>`` sends nothing."""
    if not messages:
        return _empty()
    body = "".join(f"<Message>{escape(m.text, quote=False)}</Message>" for m in messages)
    return Response(f"{_TWIML_HEAD}<Response>{body}</Response>", mimetype="text/xml")


@functools.lru_cache(maxsize=4)
def _validator(token: str) -> RequestValidator:
    """One validator per auth token (it holds nothing but the token)."""
    return RequestValidator(token)


def verify_signature() -> None:
    """403 unless Twilio signed exactly this request for our public URL."""
    settings = settings_of(current_app)
    token = settings.twilio_auth_token
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        note(outcome="forbidden")
        abort(403)
    url = settings.public_base_url + request.full_path.rstrip("?")
    validator = _validator(token)
    # The URL exactly as configured is what Twilio signs; ``validate`` also tries it with and
    # without the default port (two signatures), so it only runs when the first check fails.
    expected = validator.compute_signature(url, request.form)
    if hmac.compare_digest(expected.encode(), signature.encode()):
        return
    if not validator.validate(url, request.form, signature):
        note(outcome="forbidden")
        abort(403)


#: Twilio's error codes are five digits; a larger number does not fit the stored column.
MAX_ERROR_CODE = 2**31 - 1


def _field(name: str, *, limit: int = 64) -> str:
    """One of Twilio's short fields (ids, numbers, statuses), refused when it could not be one:
    too long, or holding a control character (PostgreSQL refuses NUL in text, so a NUL in a
    stored id would be a 500, which Twilio retries)."""
    value = request.form.get(name, "")
    if len(value) > limit:
        note(outcome="bad_request")
        abort(400, description=f"{name} is too long.")
    if not value.isprintable():
        note(outcome="bad_request")
        abort(400, description=f"{name} holds characters Twilio never sends.")
    return value


def error_code_of(raw: str) -> int | None:
    """Twilio's ``ErrorCode`` as a number, or None when it is not one we can store
    (``"²"`` passes ``str.isdigit`` but not ``int``)."""
    if not (raw.isascii() and raw.isdigit()):
        return None
    code = int(raw)
    return code if code <= MAX_ERROR_CODE else None


@bp.post("/sms/twilio")
@logged("sms")
def inbound_sms() -> Response:
    """Answer one inbound SMS with TwiML."""
    verify_signature()
    message_sid = _field("MessageSid") or _field("SmsSid")
    from_number = _field("From", limit=40)
    if not message_sid or not from_number:
        note(outcome="bad_request")
        abort(400, description="MessageSid and From are required.")
    settings = settings_of(current_app)
    sender = sender_hash(settings.hmac_key, "sms", from_number)
    note(sender=sender)
    body = request.form.get("Body", "")
    session = db_session()

    keyword = _opt_keyword(body, request.form.get("OptOutType", ""))
    if keyword is not None:
        if keyword in ("stop", "start"):
            with writer_turn(session):
                set_opt_out(session, "sms", sender, opted_out=keyword == "stop", source="keyword")
                session.commit()
        note(outcome=f"opt_{keyword}")
        return _empty()

    def opted_out_gate(session: Session, opted_out: bool) -> Answer | None:
        """Twilio blocks replies to opted-out numbers: advance nothing, answer nothing."""
        if not opted_out:
            return None
        if body.strip().lower() in START_IF_OPTED_OUT:
            set_opt_out(session, "sms", sender, opted_out=False, source="keyword")
            return Answer((), "en", "opt_start")
        return Answer((), "en", "opted_out")

    try:
        media = int(request.form.get("NumMedia", "0") or 0)
    except ValueError:
        media = 0
    kind: InboundKind = "text"
    if not body.strip():
        kind = "media" if media > 0 else "empty"
    inbound = Inbound(
        channel="sms",
        sender_hash=sender,
        text=body,
        provider_message_id=message_sid,
        received_at=utcnow(),
        lang_hint=None,
        reply_address=encrypt_address(settings.secret_key, from_number),
        kind=kind,
    )
    answer = converse(inbound, gate=opted_out_gate)
    note(outcome=answer.outcome)
    return twiml(answer.messages)


def _opt_keyword(body: str, opt_out_type: str) -> str | None:
    """``stop``, ``start`` or ``help`` when Twilio handled this message as a keyword.

    An opt-out is read as the conversation reads commands ("Stop.", "STOP!" are STOP), since
    recording one too many keeps us quiet while one too few sends texts to someone who said
    stop; an opt-in stays the exact word.
    """
    declared = opt_out_type.strip().upper()
    if declared in ("STOP", "START", "HELP"):
        return declared.lower()
    if parse_command(body) == "stop":
        return "stop"
    if body.strip().lower() in START_WORDS:
        return "start"
    return None


@bp.post("/sms/twilio/status")
@logged("sms_status")
def delivery_status() -> Response:
    """Store the furthest status Twilio reports for an outbound message."""
    verify_signature()
    message_sid = _field("MessageSid") or _field("SmsSid")
    status = (_field("MessageStatus", limit=32) or _field("SmsStatus", limit=32)).lower()
    if not message_sid or status not in STATUS_RANK:
        note(outcome="bad_request")
        abort(400, description="MessageSid and a known MessageStatus are required.")
    error_code = _field("ErrorCode", limit=10)
    recipient = None
    if error_code == TWILIO_OPTED_OUT and (to := _field("To", limit=40)):
        recipient = sender_hash(settings_of(current_app).hmac_key, "sms", to)
        note(sender=recipient)
    session = db_session()
    with writer_turn(session):
        _store_status(session, message_sid, status, error_code_of(error_code))
        if recipient is not None:
            set_opt_out(session, "sms", recipient, opted_out=True, source="error_21610")
        session.commit()
    note(outcome=f"status_{status}")
    return Response(status=204)


def _store_status(session: Any, message_sid: str, status: str, error_code: int | None) -> None:
    """Insert or move forward; a late or repeated callback changes nothing."""
    rank = STATUS_RANK[status]
    table = DeliveryStatus.__table__
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(
        provider="twilio",
        provider_message_id=message_sid,
        status=status,
        rank=rank,
        error_code=error_code,
        updated_at=utcnow(),
    )
    forward = statement.excluded.rank > table.c.rank
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.provider, table.c.provider_message_id],
            set_={
                "status": case((forward, statement.excluded.status), else_=table.c.status),
                "rank": case((forward, statement.excluded.rank), else_=table.c.rank),
                "error_code": case(
                    (forward, statement.excluded.error_code), else_=table.c.error_code
                ),
                "updated_at": case(
                    (forward, statement.excluded.updated_at), else_=table.c.updated_at
                ),
            },
        )
    )
