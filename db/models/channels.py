"""Channel bookkeeping: SMS opt-outs, delivery statuses, per-sender throttle counters and
what a channel learned from its provider (the Telegram bot's username).

Senders appear only as keyed hashes (``db.identity.sender_hash``); no number, chat id or
message body is stored here.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow


class ChannelOptOut(Base):
    """Whether a sender asked a channel to stop messaging them (STOP, error 21610, blocked bot).

    One row per (channel, sender); ``opted_out`` flips back to false on START (SMS) or on the
    person's next message (Telegram: writing again means they unblocked the bot). The worker skips
    queued messages to a sender whose row says true.
    """

    __tablename__ = "channel_opt_outs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    sender_hash: Mapped[str] = mapped_column(String(64))
    opted_out: Mapped[bool] = mapped_column(Boolean)
    #: What changed it: ``keyword`` (STOP/START text), ``opt_out_type`` (Twilio's OptOutType),
    #: ``error_21610`` (Twilio refused a send), ``provider`` (the worker's send was refused: 21610
    #: or Telegram 403), ``message`` (a Telegram message after a block).
    source: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("channel", "sender_hash"),)


class DeliveryStatus(Base):
    """The furthest delivery status a provider has reported for one outbound message.

    Status callbacks arrive out of order and more than once; ``rank`` only ever grows, so a late
    ``sent`` never overwrites ``delivered``.
    """

    __tablename__ = "delivery_statuses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    rank: Mapped[int] = mapped_column(SmallInteger)
    error_code: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("provider", "provider_message_id"),)


class SenderThrottle(Base):
    """A fixed-window message counter per sender, shared by every web worker and host.

    The request that takes ``count`` to exactly limit + 1 is the one that says "slow down".
    """

    __tablename__ = "sender_throttle"

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer)


class ChannelSetting(Base):
    """A fact a channel learns from its provider once, for every web worker to read without
    asking the provider again: Telegram's bot username and id (``getMe``), stored by
    ``recordcheck telegram set-webhook`` and read by the webhook to know a mention of us from
    a mention of another bot. No personal data."""

    __tablename__ = "channel_settings"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
