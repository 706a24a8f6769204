"""What every channel adapter shares: throttle, one transaction around ``bot.service.handle``,
channel-only texts, opt-out records and the one structured log line per request.

A database outage propagates as ``OperationalError`` (the app answers 503, which Telegram
retries and Twilio only when its webhook asks to; the rolled-back transaction leaves nothing
half-written). Any other failure around
the dialog still answers the person with a short apology.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, request
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from bot.model import Channel, Inbound, OutboundMessage
from bot.render import to_gsm7
from bot.service import handle
from db.base import utcnow
from db.engine import writer_turn
from db.models.channels import ChannelOptOut
from db.models.conversation import Conversation
from db.storage import LockedConversation, SqlCaseLookup, SqlConversationStore
from knowledge.texts import LANGS
from knowledge.texts import render as render_text
from webhooks.app import settings_of
from webhooks.db import db_session
from webhooks.throttle import CHAT_LIMIT, Limit, RedisThrottle, SqlThrottle, Throttle, Verdict

log = logging.getLogger("recordcheck.channels")

BALTIMORE = ZoneInfo("America/New_York")
#: Longest text handed to the conversation; Twilio caps a message at 1,600 characters and
#: Telegram at 4,096, so anything longer is not a real message.
MAX_TEXT = 2000

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Answer:
    """The messages to send back inline, and how the request ended (for the log line)."""

    messages: tuple[OutboundMessage, ...]
    lang: str
    outcome: str


def baltimore_today() -> dt.date:
    """Today's date in Baltimore (the service's legal dates are local dates)."""
    return utcnow().astimezone(BALTIMORE).date()


def channel_text(key: str, channel: Channel, lang: str | None, **params: str) -> OutboundMessage:
    """A channel-only text (``channels.*``) as a message, GSM-7 on SMS."""
    base = (lang or "").lower().replace("_", "-").split("-")[0]
    text = render_text(key, base if base in LANGS else "en", **params).strip()
    return OutboundMessage(to_gsm7(text) if channel == "sms" else text)


def json_body() -> Any:
    """The request's JSON, or None when it is missing, malformed or absurdly nested."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


# ---- the request log line -------------------------------------------------------------------


def note(*, sender: str | None = None, outcome: str | None = None) -> None:
    """Record the hashed sender and the outcome for this request's log line."""
    if sender is not None:
        g.rc_sender = sender
    if outcome is not None:
        g.rc_outcome = outcome


#: Set on a view ``logged`` wraps: the app-wide request line (``webhooks.health``) skips it.
LOGS_ITS_OWN_LINE = "rc_logs_its_own_line"


def logged(channel: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Log one JSON line per request: channel, hashed sender, latency, status and outcome."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            started = time.perf_counter()
            status: int | None = None
            try:
                response = view(*args, **kwargs)
                status = getattr(response, "status_code", None)
                return response
            except OperationalError:
                g.rc_outcome = "db_unavailable"
                status = 503
                raise
            except Exception as error:
                code = getattr(error, "code", None)
                status = code if isinstance(code, int) else 500
                g.setdefault("rc_outcome", "error" if status >= 500 else f"http_{status}")
                raise
            finally:
                sender = g.get("rc_sender")
                log.info(
                    "channel request",
                    extra={
                        "channel": channel,
                        "sender": sender[:16] if sender else None,
                        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
                        "status": status,
                        "outcome": g.get("rc_outcome", "unknown"),
                    },
                )

        setattr(wrapper, LOGS_ITS_OWN_LINE, True)
        return wrapper

    return decorate


# ---- throttling ---------------------------------------------------------------------------


def init_channels(app: Flask) -> None:
    """Create the Redis client when REDIS_URL is set (one per process, connected lazily)."""
    settings = settings_of(app)
    if settings.redis_url and "recordcheck.redis" not in app.extensions:
        import redis

        app.extensions["recordcheck.redis"] = redis.Redis.from_url(
            settings.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5
        )


def _throttle(session: Session) -> Throttle:
    client = current_app.extensions.get("recordcheck.redis")
    if client is not None:
        return _RedisOrSql(RedisThrottle(client), SqlThrottle(session))
    return SqlThrottle(session)


class _RedisOrSql:
    """Redis when it answers; the database when Redis is down (throttling never blocks a reply)."""

    def __init__(self, redis_throttle: RedisThrottle, fallback: SqlThrottle) -> None:
        self._redis = redis_throttle
        self._fallback = fallback

    def hit(self, key: str, limit: Limit, *, message_id: str | None = None) -> Verdict:
        """Count in Redis, or in the database if Redis fails."""
        import redis

        try:
            return self._redis.hit(key, limit, message_id=message_id)
        except redis.RedisError as error:
            log.warning("redis throttle unavailable", extra={"exc_type": type(error).__name__})
            return self._fallback.hit(key, limit)


def check_throttle(key: str, limit: Limit = CHAT_LIMIT) -> Verdict:
    """Count one message for ``key`` in the request's transaction (or in Redis)."""
    return _throttle(db_session()).hit(key, limit)


def _count_message(
    session: Session, key: str, inbound: Inbound, *, with_opt_out: bool
) -> tuple[Verdict, bool, LockedConversation | None]:
    """Count the message and read whether its sender opted out; on PostgreSQL without Redis
    the same statement also locks the conversation (one round trip for all three)."""
    if "recordcheck.redis" not in current_app.extensions:
        throttle = SqlThrottle(session)
        counted = throttle.hit_read_opt_out_and_lock(
            key,
            CHAT_LIMIT,
            channel=inbound.channel,
            sender_hash=inbound.sender_hash,
            message_id=inbound.provider_message_id,
        )
        if counted is not None:
            return counted
        verdict, opted_out = throttle.hit_and_read_opt_out(
            key, CHAT_LIMIT, channel=inbound.channel, sender_hash=inbound.sender_hash
        )
        return verdict, opted_out, None
    verdict = _throttle(session).hit(key, CHAT_LIMIT, message_id=inbound.provider_message_id)
    if not with_opt_out:
        return verdict, False, None
    return verdict, is_opted_out(session, inbound.channel, inbound.sender_hash), None


# ---- the conversation --------------------------------------------------------------------


def _clean_text(text: str) -> str:
    text = text.replace("\x00", "")
    return text[:MAX_TEXT]


def converse(
    inbound: Inbound,
    *,
    throttle_key: str | None = None,
    gate: Callable[[Session, bool], Answer | None] | None = None,
) -> Answer:
    """Throttle, then run ``bot.service.handle`` in one transaction and return the answer.

    ``gate`` runs after the throttle, with whether the sender opted out, and may answer
    instead of the conversation (an opted-out SMS sender). ``OperationalError`` propagates
    (503). A unique-key race is retried once, and then answers from the stored reply like any
    duplicate.
    """
    inbound = _with_text(inbound, _clean_text(inbound.text))
    session = db_session()
    with writer_turn(session):
        return _converse(session, inbound, throttle_key, gate)


def _converse(
    session: Session,
    inbound: Inbound,
    throttle_key: str | None,
    gate: Callable[[Session, bool], Answer | None] | None,
) -> Answer:
    key = throttle_key or f"{inbound.channel}:{inbound.sender_hash}"
    verdict, opted_out, locked = _count_message(
        session, key, inbound, with_opt_out=gate is not None
    )
    if verdict is not Verdict.ALLOW:
        # A gated (SMS) sender who opted out gets nothing: Twilio would refuse it (21610).
        warn = verdict is Verdict.WARN and not (gate is not None and opted_out)
        lang = person_lang(session, inbound) if warn else inbound.lang_hint
        session.commit()
        if warn:
            slow = channel_text("channels.slow_down", inbound.channel, lang)
            return Answer((slow,), lang or "en", "slow_down")
        return Answer((), lang or "en", "throttled")
    if gate is not None and (gated := gate(session, opted_out)) is not None:
        session.commit()
        return gated
    for attempt in (1, 2):
        try:
            result = handle(
                inbound,
                SqlConversationStore(session, locked=locked if attempt == 1 else None),
                SqlCaseLookup(session, hmac_key=settings_of(current_app).hmac_key),
                today=baltimore_today(),
            )
        except OperationalError:
            session.rollback()
            raise
        except IntegrityError:
            session.rollback()
            if attempt == 2:
                raise
            continue
        except Exception as error:  # noqa: BLE001 - the person is answered whatever broke
            session.rollback()
            log.error(
                "dialog failed",
                extra={"channel": inbound.channel, "exc_type": type(error).__name__},
            )
            lang = _lang_after_failure(session, inbound)
            apology = channel_text("channels.error", inbound.channel, lang)
            return Answer((apology,), lang or "en", "dialog_error")
        outcome = "duplicate" if result.duplicate else "replied"
        return Answer(result.messages, result.lang, outcome)
    raise AssertionError("unreachable")  # pragma: no cover


_CONVERSATION_LANG = select(Conversation.lang).where(
    Conversation.channel == bindparam("channel"),
    Conversation.sender_hash == bindparam("sender_hash"),
)


def person_lang(session: Session, inbound: Inbound) -> str | None:
    """The language the person chose in the conversation, else the channel's hint.

    For the texts said outside the conversation (slow down, the apology): an SMS carries no
    hint, and a Telegram client's language need not be the one the person picked.
    """
    stored = (
        session.connection()
        .execute(
            _CONVERSATION_LANG, {"channel": inbound.channel, "sender_hash": inbound.sender_hash}
        )
        .scalar()
    )
    return stored or inbound.lang_hint


def _lang_after_failure(session: Session, inbound: Inbound) -> str | None:
    """``person_lang`` in its own short transaction; the hint if even that fails."""
    try:
        return person_lang(session, inbound)
    except SQLAlchemyError:
        return inbound.lang_hint
    finally:
        session.rollback()


def _with_text(inbound: Inbound, text: str) -> Inbound:
    if text == inbound.text:
        return inbound
    from dataclasses import replace

    return replace(inbound, text=text)


# ---- opt-outs -----------------------------------------------------------------------------


def set_opt_out(
    session: Session, channel: str, sender_hash: str, *, opted_out: bool, source: str
) -> None:
    """Record that a sender opted out (or back in); idempotent, one row per sender."""
    values: dict[str, Any] = {
        "channel": channel,
        "sender_hash": sender_hash,
        "opted_out": opted_out,
        "source": source,
        "changed_at": utcnow(),
    }
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(ChannelOptOut).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["channel", "sender_hash"],
            set_={k: statement.excluded[k] for k in ("opted_out", "source", "changed_at")},
        )
    )


_OPTED_OUT = select(ChannelOptOut.opted_out).where(
    ChannelOptOut.channel == bindparam("channel"),
    ChannelOptOut.sender_hash == bindparam("sender_hash"),
)


def is_opted_out(session: Session, channel: str, sender_hash: str) -> bool:
    """True when the sender's latest word was STOP (or the provider said so)."""
    value = (
        session.connection()
        .execute(_OPTED_OUT, {"channel": channel, "sender_hash": sender_hash})
        .scalar()
    )
    return bool(value)
