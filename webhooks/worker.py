"""The outbox worker: sends queued messages that are due (Procfile ``worker``)."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.base import utcnow
from db.models import OutboxMessage

log = logging.getLogger("recordcheck.worker")

#: A sender delivers one message and returns the provider's message id.
Sender = Callable[[OutboxMessage], str]


@dataclass(frozen=True)
class DrainReport:
    """What one pass over the outbox did."""

    sent: int = 0
    failed: int = 0
    waiting: int = 0


def drain_once(
    sessions: sessionmaker[Session],
    senders: Mapping[str, Sender],
    *,
    now: dt.datetime | None = None,
    batch: int = 50,
) -> DrainReport:
    """Send every due message whose channel has a sender; leave the rest queued."""
    moment = now or utcnow()
    sent = failed = waiting = 0
    with sessions() as session:
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.status == "queued", OutboxMessage.not_before <= moment)
            .order_by(OutboxMessage.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
        for message in session.scalars(query):
            sender = senders.get(message.channel)
            if sender is None:
                waiting += 1
                continue
            try:
                message.provider_message_id = sender(message)
            except Exception as error:  # noqa: BLE001 - any provider failure is retried later
                message.attempts += 1
                message.last_error = type(error).__name__
                message.status = "failed" if message.attempts >= 5 else "queued"
                message.not_before = moment + dt.timedelta(minutes=2**message.attempts)
                failed += 1
            else:
                message.status = "sent"
                message.sent_at = moment
                sent += 1
        session.commit()
    return DrainReport(sent=sent, failed=failed, waiting=waiting)


def run_forever(
    sessions: sessionmaker[Session],
    senders: Mapping[str, Sender],
    *,
    interval: float = 5.0,
    once: bool = False,
) -> None:
    """Drain the outbox every ``interval`` seconds (or once) and log a line per pass."""
    while True:
        report = drain_once(sessions, senders)
        if report.sent or report.failed or once:
            log.info(
                "outbox pass",
                extra={"sent": report.sent, "failed": report.failed, "waiting": report.waiting},
            )
        if once:
            return
        time.sleep(interval)
