"""Messages that are not inline replies (reminders, notices), sent later by the worker."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow


class OutboxMessage(Base):
    """One queued outbound message; the worker moves it from queued to sent, failed or skipped.

    The recipient is stored encrypted (``recipient_encrypted``) and only the worker decrypts it;
    ``sender_hash`` is the keyed hash used everywhere else.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    sender_hash: Mapped[str] = mapped_column(String(64), index=True)
    recipient_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    body: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(32), default="notice")
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    #: The answer this message is a part of (Telegram: ``tg:<message id>``). Parts of one
    #: answer go out in ``id`` order: a part waits while an earlier one is still unsent, so
    #: a part retried after a 429 is never overtaken by the next.
    answer_key: Mapped[str | None] = mapped_column(String(128), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When a worker moved it to ``sending``; a claim far older than any send can take means
    #: the worker stopped mid-send (the message is then settled as ``unknown``).
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    provider_message_id: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),)
