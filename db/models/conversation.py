"""Conversation storage: state per sender, answered provider messages, reminders, handoffs.

Senders appear only as ``sender_hash`` (HMAC-SHA256); the one raw address we keep is the
encrypted ``address_encrypted`` of a reminder the person asked for. ``DELETE`` removes every
row here that names the sender (``db.storage.SqlConversationStore.forget_sender``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow


class Conversation(Base):
    """One sender's conversation on one channel: the bot's state as JSON, with a version."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    sender_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    lang: Mapped[str | None] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Not indexed: every message moves it, and only the daily purge filters on it (migration
    #: 0007).
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("channel", "sender_hash", name="uq_conversations_channel_sender"),
    )


class ProcessedMessage(Base):
    """A provider message id already answered, with the exact messages sent (for retries)."""

    __tablename__ = "processed_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str] = mapped_column(String(128))
    sender_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    replies: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    lang: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    __table_args__ = (
        UniqueConstraint(
            "channel", "provider_message_id", name="uq_processed_messages_channel_message"
        ),
    )


class Reminder(Base):
    """A reminder the person opted into: when a pathway opens, text them (worker sends it)."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_hash: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    address_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    lang: Mapped[str] = mapped_column(String(8))
    due_on: Mapped[dt.date] = mapped_column(Date)
    case_ref: Mapped[str | None] = mapped_column(String(64))
    pathway: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_reminders_due", "status", "due_on"),)


class HandoffRequest(Base):
    """A request to talk to a person, with the summary the person agreed to share.

    ``answer`` is a worker's message for the resident: no address is kept, so it waits here
    until the resident next writes on ``channel`` and goes out with the bot's reply
    (``answer_delivered_at``, set in the same transaction as that reply's state change).
    """

    __tablename__ = "handoff_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_hash: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(8))
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    claimed_by: Mapped[str | None] = mapped_column(String(254))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(254))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answer_delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_handoff_requests_queue", "status", "created_at"),)
