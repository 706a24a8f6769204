"""Outbound senders for the worker: the real twilio Client and the real Telegram Bot API.

Raw addresses are decrypted here and nowhere else, just before the provider call. Each sender
sorts failures for the worker's at-most-once rule: ``RetryLater`` only when the provider surely
did not send, ``NotDelivered``/``RecipientOptedOut`` for final refusals, and anything else
(timeouts after the request left) propagates as ambiguous.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import httpx
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import ConnectTimeout
from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from bot.render import to_gsm7
from db.identity import decrypt_address
from db.models import OutboxMessage
from db.models.conversation import Reminder
from knowledge.texts import LANGS, load_catalog
from knowledge.texts import render as render_text
from webhooks.config import Settings
from webhooks.throttle import purge_stale_counters
from webhooks.worker import NotDelivered, RecipientOptedOut, RetryLater, Sender, Task

log = logging.getLogger("recordcheck.outbound")

#: Twilio's error for a recipient who replied STOP (https://www.twilio.com/docs/api/errors/21610).
TWILIO_OPTED_OUT = 21610
#: Outbox ``purpose`` of a Telegram callback-query answer (``body`` is the optional toast text).
TELEGRAM_CALLBACK_ANSWER = "tg_callback_answer"
#: Outbox ``purpose`` whose ``body`` is a JSON ``{"text": ..., "buttons": [[label, value]...]}``
#: (one button a row; rows of pairs ``[[[label, value], ...], ...]`` are read too).
TELEGRAM_RICH = "tg_rich"

TWILIO_API = "https://api.twilio.com"

# twilio's HTTP client logs request bodies (numbers and texts) at INFO: keep it quiet.
_quiet_twilio_log = logging.getLogger("recordcheck.outbound.twilio_http")
_quiet_twilio_log.setLevel(logging.WARNING)
# httpx logs every request URL at INFO, and a Bot API URL holds the bot token.
logging.getLogger("httpx").setLevel(logging.WARNING)


class RewritingTwilioHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """The real twilio HTTP client, sending ``https://api.twilio.com/...`` to another base URL.

    twilio has no ``base_url`` option; this is how the worker talks to a fake on 127.0.0.1 in
    tests and benchmarks. With the default base it changes nothing.
    """

    def __init__(self, api_base: str = TWILIO_API, *, timeout: float = 10.0) -> None:
        super().__init__(timeout=timeout, logger=_quiet_twilio_log)
        self._base = urlsplit(api_base.rstrip("/"))

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> TwilioResponse:
        """Send the request to the configured base, keeping path and query."""
        parts = urlsplit(url)
        if parts.netloc.endswith("twilio.com") and self._base.netloc != parts.netloc:
            path = self._base.path + parts.path
            url = urlunsplit((self._base.scheme, self._base.netloc, path, parts.query, ""))
        return super().request(method, url, *args, **kwargs)


def _never_left(error: RequestsConnectionError) -> bool:
    """True when the connection was never made, so the request surely was not sent."""
    if isinstance(error, ConnectTimeout):
        return True
    reason = error.args[0] if error.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)


class TwilioSender:
    """Sends SMS through ``twilio.rest.Client().messages.create``."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        secret_key: str,
        status_callback: str | None = None,
        api_base: str = TWILIO_API,
        timeout: float = 10.0,
    ) -> None:
        self._client = Client(
            account_sid,
            auth_token,
            http_client=RewritingTwilioHttpClient(api_base, timeout=timeout),
        )
        self._from = from_number
        self._secret_key = secret_key
        self._status_callback = status_callback

    def __call__(self, message: OutboxMessage) -> str:
        """Send one message; return Twilio's MessageSid."""
        to = decrypt_address(self._secret_key, message.recipient_encrypted)
        if to is None:
            raise NotDelivered("recipient cannot be decrypted")
        options: dict[str, Any] = {"to": to, "from_": self._from, "body": message.body}
        if self._status_callback:
            options["status_callback"] = self._status_callback
        try:
            created = self._client.messages.create(**options)
        except TwilioRestException as error:
            reason = f"twilio {error.status} code {error.code}"
            if error.code == TWILIO_OPTED_OUT:
                raise RecipientOptedOut(reason) from error
            if error.status in (429, 503):
                raise RetryLater(reason) from error
            if 400 <= error.status < 500:
                raise NotDelivered(reason) from error
            raise  # other 5xx: Twilio may have queued it, never resend
        except RequestsConnectionError as error:
            if _never_left(error):
                raise RetryLater("twilio unreachable") from error
            raise
        return str(created.sid)


def _is_button(item: object) -> bool:
    return isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item)


def _keyboard(buttons: object) -> InlineKeyboardMarkup | None:
    """Inline buttons from a stored body: ``[[label, value], ...]`` (what the webhook queues,
    ``OutboundMessage.to_json``: one button a row, as in its inline reply) or rows of pairs
    ``[[[label, value], ...], ...]``. Reading the webhook's pairs as rows lost the buttons,
    and with them the last part of a long answer."""
    if not isinstance(buttons, list) or not buttons:
        return None
    rows = [[item] if _is_button(item) else item for item in buttons if isinstance(item, list)]
    keyboard = [
        [InlineKeyboardButton(label, callback_data=value) for label, value in row]
        for row in rows
        if all(_is_button(pair) for pair in row) and row
    ]
    return InlineKeyboardMarkup(keyboard) if keyboard else None


class TelegramSender:
    """Sends Telegram messages through PTB's ``Bot`` on this process's own event loop.

    One loop lives as long as the sender, so the Bot's httpx pool is never used across loops
    (python-telegram-bot issue #4023).
    """

    def __init__(
        self,
        *,
        token: str,
        secret_key: str,
        api_base: str = "https://api.telegram.org",
        timeout: float = 10.0,
    ) -> None:
        self._loop = asyncio.new_event_loop()
        request = HTTPXRequest(
            connect_timeout=timeout, read_timeout=timeout, write_timeout=timeout
        )
        self._bot = Bot(
            token,
            base_url=f"{api_base.rstrip('/')}/bot",
            request=request,
            get_updates_request=HTTPXRequest(),
        )
        self._secret_key = secret_key
        self._started = False

    def _run(self, coroutine: Any) -> Any:
        if not self._started:
            # Only the request pools; Bot.initialize() would also call getMe on every start.
            self._loop.run_until_complete(self._bot.request.initialize())
            self._started = True
        return self._loop.run_until_complete(coroutine)

    def close(self) -> None:
        """Close the HTTP pool and the loop."""
        if self._started:
            self._loop.run_until_complete(self._bot.request.shutdown())
        self._loop.close()

    def __call__(self, message: OutboxMessage) -> str:
        """Send one message (or answer a callback query); return Telegram's message id."""
        address = decrypt_address(self._secret_key, message.recipient_encrypted)
        if address is None:
            raise NotDelivered("recipient cannot be decrypted")
        try:
            if message.purpose == TELEGRAM_CALLBACK_ANSWER:
                self._run(self._bot.answer_callback_query(address, text=message.body or None))
                return f"cbq:{message.id}"
            text, markup = message.body, None
            if message.purpose == TELEGRAM_RICH:
                payload = json.loads(message.body)
                text, markup = str(payload["text"]), _keyboard(payload.get("buttons"))
            sent = self._run(self._bot.send_message(int(address), text, reply_markup=markup))
        except Forbidden as error:
            raise RecipientOptedOut("telegram 403: bot blocked or chat gone") from error
        except RetryAfter as error:
            wait = error.retry_after
            seconds = wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)
            raise RetryLater("telegram 429", retry_after=seconds) from error
        except (BadRequest, ChatMigrated) as error:
            raise NotDelivered(f"telegram refused: {type(error).__name__}") from error
        except TelegramError as error:
            cause = error.__cause__
            if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
                raise RetryLater("telegram unreachable") from error
            raise
        except (ValueError, KeyError) as error:
            raise NotDelivered("outbox body is not a valid Telegram message") from error
        return str(sent.message_id)


def build_senders(
    settings: Settings, *, twilio_api_base: str = TWILIO_API
) -> tuple[Mapping[str, Sender], list[str]]:
    """The senders the configuration allows, and a note for each channel left out."""
    senders: dict[str, Sender] = {}
    notes: list[str] = []
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from_number:
        senders["sms"] = TwilioSender(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            from_number=settings.twilio_from_number,
            secret_key=settings.secret_key,
            status_callback=f"{settings.public_base_url}/sms/twilio/status",
            api_base=twilio_api_base,
        )
    else:
        notes.append("sms: TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN/TWILIO_FROM_NUMBER not set")
    if settings.telegram_bot_token:
        senders["telegram"] = TelegramSender(
            token=settings.telegram_bot_token,
            secret_key=settings.secret_key,
            api_base=settings.telegram_api_base,
        )
    else:
        notes.append("telegram: TELEGRAM_BOT_TOKEN not set")
    return senders, notes


#: Reminders go out from 10:00 Baltimore time on their day, never in the night: one that
#: falls due (or is found late, after the worker was down) at 20:00 or later waits for 10:00.
REMINDER_HOUR = 10
QUIET_FROM_HOUR = 20
BALTIMORE = ZoneInfo("America/New_York")


def reminder_send_time(due_on: dt.date, now: dt.datetime) -> dt.datetime:
    """The first moment from ``now`` within sending hours (10:00-20:00 Baltimore) on or
    after the due day, in UTC."""
    local_now = now.astimezone(BALTIMORE)
    day = max(due_on, local_now.date())
    if day == local_now.date() and local_now.hour >= QUIET_FROM_HOUR:
        day += dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time(REMINDER_HOUR), BALTIMORE).astimezone(dt.UTC)
    return max(now, start)


def baltimore_today(now: dt.datetime) -> dt.date:
    """The date in Baltimore at the moment ``now``."""
    return now.astimezone(BALTIMORE).date()


#: The page a route's reminder points to (``channels.reminder_page.<page>``, each with its
#: source). Every petition uses the expungement forms; shielding has its own guide. A route
#: with no page of its own (a youth court case) gets the general page and free help.
REMINDER_PAGES: Mapping[str, str] = MappingProxyType(
    {
        "petition_cannabis_possession": "expungement",
        "petition_non_conviction": "expungement",
        "petition_listed_conviction": "expungement",
        "petition_pardoned": "expungement",
        "shielding": "shielding",
    }
)


def reminder_page_key(pathway: str) -> str:
    """The text key of the page a reminder for ``pathway`` names: its forms were linked for
    every route, so a shielding or youth court reminder sent people to the wrong forms."""
    return f"channels.reminder_page.{REMINDER_PAGES.get(pathway, 'general')}"


def reminder_text(channel: str, lang: str, pathway: str) -> str:
    """The words of a due reminder, in GSM-7 for SMS."""
    lang = lang if lang in LANGS else "en"
    if f"pathway.{pathway}" not in load_catalog(lang):
        pathway = "petition_cannabis_possession"
    name = render_text(f"pathway.{pathway}", lang)
    page = render_text(reminder_page_key(pathway), lang).strip()
    text = render_text("channels.reminder", lang, pathway=name, page=page).strip()
    return to_gsm7(text) if channel == "sms" else text


def enqueue_due_reminders(session: Session, now: dt.datetime) -> int:
    """Move reminders due today (Baltimore) into the outbox, each at most once.

    The outbox row's ``dedupe_key`` (``reminder:<id>``) is unique, and the reminder leaves the
    ``scheduled`` state in the same transaction; its copy of the encrypted address is wiped.
    """
    today = baltimore_today(now)
    due = session.scalars(
        select(Reminder)
        .where(Reminder.status == "scheduled", Reminder.due_on <= today)
        .order_by(Reminder.id)
        .limit(500)
        .with_for_update(skip_locked=True)
    ).all()
    queued = 0
    for reminder in due:
        if reminder.channel not in ("sms", "telegram") or not reminder.address_encrypted:
            reminder.status = "cancelled"
            continue
        session.add(
            OutboxMessage(
                channel=reminder.channel,
                sender_hash=reminder.sender_hash,
                recipient_encrypted=reminder.address_encrypted,
                body=reminder_text(reminder.channel, reminder.lang, reminder.pathway),
                purpose="reminder",
                dedupe_key=f"reminder:{reminder.id}",
                status="queued",
                attempts=0,
                not_before=reminder_send_time(reminder.due_on, now),
                created_at=now,
            )
        )
        reminder.status = "queued"
        reminder.address_encrypted = b""
        queued += 1
    return queued


def _purge_throttle_counters(session: Session, now: dt.datetime) -> int:
    purge_stale_counters(session, older_than=now - dt.timedelta(hours=1))
    return 0


def worker_tasks(settings: Settings) -> list[Task]:
    """Work the worker does before each pass: queue due reminders, drop old throttle counters."""
    return [enqueue_due_reminders, _purge_throttle_counters]
