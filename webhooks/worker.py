"""The outbox worker: sends queued messages that are due (Procfile ``worker``).

Delivery is at most once per message. A message is claimed (``queued`` -> ``sending``) and that
claim is committed *before* the provider is called; the outcome is written afterwards. A crash
or an ambiguous failure (a timeout after the request left) therefore never sends twice: such a
message ends as ``unknown`` for a person to look at: at once for an ambiguous failure, and on
a later pass for a message a crashed worker left in ``sending``. Only failures that prove
nothing was sent (connection refused, 429, 503) are retried, with backoff.

The parts of one answer (rows sharing an ``answer_key``) go out in order: a part is not claimed
while an earlier part of its answer is still queued or sending.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, aliased, sessionmaker

from db.base import utcnow
from db.models import OutboxMessage
from db.models.channels import ChannelOptOut

log = logging.getLogger("recordcheck.worker")

#: A sender delivers one message and returns the provider's message id.
Sender = Callable[[OutboxMessage], str]
#: A task run at the start of every pass, in its own transaction (for example: queue the
#: reminders that fall due today). It returns how many messages it queued.
Task = Callable[[Session, dt.datetime], int]

MAX_ATTEMPTS = 5
MAX_BACKOFF = dt.timedelta(hours=1)
#: A claim older than this was left by a worker that stopped mid-send: a pass claims at most
#: ``batch`` (50) messages and each send gives up after 10 seconds, so about 8 minutes at most.
ABANDONED_AFTER = dt.timedelta(hours=1)


class RetryLater(Exception):
    """The provider certainly did not send the message (refused connection, 429, 503)."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class NotDelivered(Exception):
    """The provider refused the message for good (bad request, bad address): never retry."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RecipientOptedOut(NotDelivered):
    """The person opted out (Twilio 21610, Telegram bot blocked): record it and skip."""


@dataclass(frozen=True)
class DrainReport:
    """What one pass over the outbox did."""

    sent: int = 0
    failed: int = 0
    waiting: int = 0
    skipped: int = 0
    retried: int = 0
    queued: int = 0
    #: Messages a stopped worker left in ``sending``, now settled as ``unknown``.
    abandoned: int = 0
    #: When the next queued message for these channels falls due (None: nothing queued); a
    #: part held behind an earlier part of its answer is not counted.
    next_due: dt.datetime | None = None


def _backoff(attempts: int, retry_after: float | None) -> dt.timedelta:
    if retry_after is not None:
        return dt.timedelta(seconds=max(1.0, retry_after))
    return min(dt.timedelta(seconds=30 * 2 ** (attempts - 1)), MAX_BACKOFF)


def _mark_opted_out(session: Session, channel: str, sender_hash: str, source: str) -> None:
    row = session.scalar(
        select(ChannelOptOut).where(
            ChannelOptOut.channel == channel, ChannelOptOut.sender_hash == sender_hash
        )
    )
    if row is None:
        session.add(
            ChannelOptOut(channel=channel, sender_hash=sender_hash, opted_out=True, source=source)
        )
    else:
        row.opted_out = True
        row.source = source
        row.changed_at = utcnow()


#: Statuses of a message that has not left yet: a later part of its answer waits for it.
UNSENT = ("queued", "sending")


def _behind_an_unsent_part() -> ColumnElement[bool]:
    """True for a message whose answer has an earlier part (lower id) not yet sent or settled.

    A long answer's parts go out one after another: a part back in the queue after a 429 (or
    being sent by another worker) holds the later ones, and only them: messages without an
    ``answer_key`` (reminders) and other people's answers are never held.
    """
    earlier = aliased(OutboxMessage)
    return exists().where(
        earlier.answer_key == OutboxMessage.answer_key,
        earlier.id < OutboxMessage.id,
        earlier.status.in_(UNSENT),
    )


def _claim(
    session: Session, channels: Sequence[str], moment: dt.datetime, batch: int
) -> tuple[list[OutboxMessage], int]:
    """Move due messages to ``sending`` (or ``skipped`` for opted-out people) and commit."""
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == "queued",
            OutboxMessage.not_before <= moment,
            OutboxMessage.channel.in_(channels),
            ~_behind_an_unsent_part(),
        )
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    due = list(session.scalars(query))
    opted_out: set[tuple[str, str]] = set()
    if due:
        rows = session.execute(
            select(ChannelOptOut.channel, ChannelOptOut.sender_hash).where(
                ChannelOptOut.opted_out.is_(True),
                ChannelOptOut.sender_hash.in_({m.sender_hash for m in due}),
            )
        )
        opted_out = {(channel, sender) for channel, sender in rows}
    claimed: list[OutboxMessage] = []
    skipped = 0
    for message in due:
        # The status condition makes the claim safe where FOR UPDATE is a no-op (SQLite):
        # of two workers that read the same row, only one update matches.
        opted = (message.channel, message.sender_hash) in opted_out
        values: dict[str, object] = (
            {"status": "skipped", "last_error": "recipient opted out", "recipient_encrypted": b""}
            if opted
            else {
                "status": "sending",
                "attempts": OutboxMessage.attempts + 1,
                "claimed_at": moment,
            }
        )
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.status == "queued")
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            continue
        if opted:
            skipped += 1
        else:
            claimed.append(message)
    session.commit()
    for message in claimed:
        session.refresh(message)
    return claimed, skipped


def drain_once(
    sessions: sessionmaker[Session],
    senders: Mapping[str, Sender],
    *,
    now: dt.datetime | None = None,
    batch: int = 50,
    tasks: Sequence[Task] = (),
) -> DrainReport:
    """Send every due message whose channel has a sender; leave the rest queued."""
    moment = now or utcnow()
    queued = 0
    with sessions() as session:
        abandoned = _settle_abandoned(session, moment)
        session.commit()
    for task in tasks:
        with sessions() as session:
            try:
                queued += task(session, moment)
                session.commit()
            except IntegrityError:
                # Another worker queued the same rows first (unique dedupe keys): nothing lost.
                session.rollback()
                log.info("worker task lost a race", extra={"task": getattr(task, "__name__", "")})
    with sessions() as session:
        claimed, skipped = _claim(session, list(senders), moment, batch) if senders else ([], 0)
    sent = failed = retried = 0
    for message in claimed:
        outcome = _send_one(sessions, senders[message.channel], message, moment)
        if outcome == "sent":
            sent += 1
        elif outcome == "retry":
            retried += 1
        elif outcome == "skipped":
            skipped += 1
        else:
            failed += 1
    # Counted after the sends: a part that was waiting for the one just sent is due now, and
    # a part held behind a retried one is not (counting it would spin the loop until then).
    with sessions() as session:
        waiting = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.status == "queued",
                OutboxMessage.not_before <= moment,
                OutboxMessage.channel.not_in(list(senders)),
            )
        )
        next_due = session.scalar(
            select(func.min(OutboxMessage.not_before)).where(
                OutboxMessage.status == "queued",
                OutboxMessage.channel.in_(list(senders)),
                ~_behind_an_unsent_part(),
            )
        )
    return DrainReport(
        sent=sent,
        failed=failed,
        waiting=int(waiting or 0),
        skipped=skipped,
        retried=retried,
        queued=queued,
        abandoned=abandoned,
        next_due=next_due,
    )


#: The shortest wait between passes: a message due but claimed by no one (another worker's
#: row, say) must not spin the loop.
MIN_WAIT = 0.05


def pause_before_next_pass(report: DrainReport, interval: float, now: dt.datetime) -> float:
    """Seconds until the next pass: ``interval``, or less when a queued message (a Telegram
    answer's next part, a retry after backoff) falls due before then."""
    if report.next_due is None:
        return interval
    until_due = (report.next_due - now).total_seconds()
    return max(MIN_WAIT, min(interval, until_due))


def _settle_abandoned(session: Session, moment: dt.datetime) -> int:
    """Mark messages a stopped worker left in ``sending`` as ``unknown``: never resent (they
    may have gone out), no longer holding the encrypted address, and visible as unsettled."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == "sending",
            or_(
                OutboxMessage.claimed_at.is_(None),
                OutboxMessage.claimed_at < moment - ABANDONED_AFTER,
            ),
        )
        .values(
            status="unknown", last_error="worker stopped while sending", recipient_encrypted=b""
        )
        .execution_options(synchronize_session=False)
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        log.warning("outbox messages abandoned mid-send", extra={"abandoned": count})
    return count


def _send_one(
    sessions: sessionmaker[Session], sender: Sender, message: OutboxMessage, moment: dt.datetime
) -> str:
    """Call the provider outside any transaction, then record what happened."""
    values: dict[str, object]
    try:
        provider_id = sender(message)
    except RecipientOptedOut as error:
        outcome = "skipped"
        values = {"status": "skipped", "last_error": error.reason[:200]}
    except NotDelivered as error:
        outcome = "failed"
        values = {"status": "failed", "last_error": error.reason[:200]}
    except RetryLater as error:
        if message.attempts >= MAX_ATTEMPTS:
            outcome = "failed"
            values = {"status": "failed", "last_error": error.reason[:200]}
        else:
            outcome = "retry"
            values = {
                "status": "queued",
                "last_error": error.reason[:200],
                "not_before": utcnow() + _backoff(message.attempts, error.retry_after),
            }
    except Exception as error:  # noqa: BLE001 - ambiguous: it may have been sent, never resend
        outcome = "unknown"
        values = {"status": "unknown", "last_error": type(error).__name__}
    else:
        outcome = "sent"
        values = {"status": "sent", "sent_at": moment, "provider_message_id": provider_id[:64]}
    if values["status"] != "queued":
        # The encrypted address has done its job: keep no copy of it (DESIGN.md section 3).
        values["recipient_encrypted"] = b""
    with sessions() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.status == "sending")
            .values(**values)
        )
        if outcome == "skipped":
            _mark_opted_out(session, message.channel, message.sender_hash, "provider")
        session.commit()
    log.info(
        "outbox send",
        extra={
            "channel": message.channel,
            "sender": message.sender_hash[:12],
            "purpose": message.purpose,
            "outbox_id": message.id,
            "attempt": message.attempts,
            "outcome": outcome,
        },
    )
    return outcome


def run_forever(
    sessions: sessionmaker[Session],
    senders: Mapping[str, Sender],
    *,
    interval: float = 5.0,
    once: bool = False,
    tasks: Sequence[Task] = (),
    wait: Callable[[float], None] = time.sleep,
) -> None:
    """Drain the outbox every ``interval`` seconds (or once); log a line per busy pass.

    ``wait`` may return early when a message is queued (``OutboxWaker.wait``). A database
    outage ends a ``once`` run with the error; otherwise the worker waits and tries again.
    """
    while True:
        try:
            report = drain_once(sessions, senders, tasks=tasks)
        except OperationalError as error:
            if once:
                raise
            # The database restarted or dropped an idle connection: the pool discards it and
            # the next pass reconnects. Whatever this pass had claimed stays at most once.
            log.warning("outbox pass failed", extra={"exc_type": type(error).__name__})
            wait(interval)
            continue
        busy = report.sent or report.failed or report.skipped or report.queued or report.abandoned
        if busy or once:
            log.info(
                "outbox pass",
                extra={
                    "sent": report.sent,
                    "failed": report.failed,
                    "skipped": report.skipped,
                    "retried": report.retried,
                    "waiting": report.waiting,
                    "queued": report.queued,
                    "abandoned": report.abandoned,
                },
            )
        if once:
            return
        wait(pause_before_next_pass(report, interval, utcnow()))
