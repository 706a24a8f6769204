"""Per-sender throttling shared by every worker: in the database, or in Redis when configured.

A fixed window per sender: the first ``limit.count`` messages of a window are served, the next
one gets a single "slow down" reply, and the rest get no reply and no work. Webhook source IPs
are the providers' and shared, so the key is always the hashed sender, never the IP.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import bindparam, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.base import utcnow
from db.driver_sql import DriverStatement
from db.models.channels import ChannelOptOut, SenderThrottle
from db.storage import (
    LOCK_RESULT_TYPES,
    LockedConversation,
    postgresql_lock_with,
)

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class Verdict(enum.Enum):
    """What to do with one inbound message."""

    ALLOW = "allow"
    #: The first message over the limit in this window: answer "slow down", do nothing else.
    WARN = "warn"
    #: Over the limit and already warned: no reply, no work.
    DROP = "drop"


@dataclass(frozen=True)
class Limit:
    """At most ``count`` messages per ``seconds`` per sender."""

    count: int
    seconds: int

    def verdict(self, count: int) -> Verdict:
        """Map a window's running count to a verdict."""
        if count <= self.count:
            return Verdict.ALLOW
        return Verdict.WARN if count == self.count + 1 else Verdict.DROP

    def window_start(self, now: dt.datetime) -> dt.datetime:
        """The start of the fixed window holding ``now`` (aligned, so every host agrees)."""
        elapsed = int((now - _EPOCH).total_seconds())
        return _EPOCH + dt.timedelta(seconds=elapsed - elapsed % self.seconds)


#: Residents type slowly and Telegram buttons are one tap each: 20 a minute is generous.
CHAT_LIMIT = Limit(count=20, seconds=60)
#: The /try demo page, per browser and per client address.
WEB_LIMIT = Limit(count=30, seconds=60)


class Throttle(Protocol):
    """Counts one message for ``key`` and says what to do with it."""

    def hit(self, key: str, limit: Limit, *, message_id: str | None = None) -> Verdict:
        """Count a message and return its verdict; a provider's retry of ``message_id``
        (after a 503, or a duplicate delivery) is not counted again."""
        ...


class SqlThrottle:
    """Counters in ``sender_throttle``, updated with one atomic upsert per message.

    Run it first in the request's transaction: on PostgreSQL the row lock then also orders a
    sender's concurrent messages; on SQLite the transaction starts with its write lock.
    """

    def __init__(self, session: Session, *, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self._session = session
        self._clock = clock

    def hit(self, key: str, limit: Limit, *, message_id: str | None = None) -> Verdict:
        """Count a message and return its verdict.

        ``message_id`` is not needed here: the count is part of the request's transaction, so
        a request that fails, or a retry answered from its stored reply, rolls it back.
        """
        connection = self._session.connection()
        statement = _COUNT[connection.dialect.name == "postgresql"]
        row = statement.first(connection, {"key": key, "window_start": self._window(limit)})
        assert row is not None  # noqa: S101 - an upsert with RETURNING always returns its row
        return limit.verdict(int(row[0]))

    def hit_and_read_opt_out(
        self, key: str, limit: Limit, *, channel: str, sender_hash: str
    ) -> tuple[Verdict, bool]:
        """Count a message and, in the same statement, read whether the sender opted out.

        Both are needed before any other work on an SMS, so one round trip answers both.
        """
        connection = self._session.connection()
        statement = _COUNT_AND_OPT_OUT[connection.dialect.name == "postgresql"]
        row = statement.first(
            connection,
            {
                "key": key,
                "window_start": self._window(limit),
                "channel": channel,
                "sender_hash": sender_hash,
            },
        )
        assert row is not None  # noqa: S101 - an upsert with RETURNING always returns its row
        count, opted_out = row
        return limit.verdict(int(count)), bool(opted_out)

    def hit_read_opt_out_and_lock(
        self, key: str, limit: Limit, *, channel: str, sender_hash: str, message_id: str | None
    ) -> tuple[Verdict, bool, LockedConversation] | None:
        """On PostgreSQL, ``hit_and_read_opt_out`` and the conversation lock in one statement
        (the store then starts from the locked conversation); None elsewhere.

        The sender's conversation is locked from the count on, also for a message the
        throttle or the opt-out then stops; that transaction commits at once.
        """
        if self._session.get_bind().dialect.name != "postgresql":
            return None
        connection = self._session.connection()
        row = _COUNT_OPT_OUT_AND_LOCK.first(
            connection,
            {
                "key": key,
                "window_start": self._window(limit),
                "channel": channel,
                "sender_hash": sender_hash,
                "now": self._clock(),
                "message_id": message_id,
            },
        )
        assert row is not None  # noqa: S101 - an upsert with RETURNING always returns its row
        locked = LockedConversation(channel, sender_hash, message_id, row)
        return limit.verdict(int(row[5])), bool(row[6]), locked

    def _window(self, limit: Limit) -> dt.datetime:
        return limit.window_start(self._clock())


def _upsert(insert: Any, *also: Any) -> Any:
    """INSERT a count of 1, or add 1 in the same window, or restart at 1 in a newer one;
    returns the count, then ``also``."""
    table = SenderThrottle.__table__
    statement = insert(table).values(
        key=bindparam("key"), window_start=bindparam("window_start"), count=1
    )
    same_window = table.c.window_start >= statement.excluded.window_start
    return statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "count": case((same_window, table.c.count + 1), else_=1),
            "window_start": case(
                (same_window, table.c.window_start), else_=statement.excluded.window_start
            ),
        },
    ).returning(table.c.count, *also)


_opt_outs = ChannelOptOut.__table__
_OPTED_OUT = (
    select(_opt_outs.c.opted_out)
    .where(
        _opt_outs.c.channel == bindparam("channel"),
        _opt_outs.c.sender_hash == bindparam("sender_hash"),
    )
    .scalar_subquery()
)
_COUNT_TYPE = SenderThrottle.__table__.c.count.type
#: Compiled once; indexed by "is PostgreSQL" (the upsert is dialect-specific). Only SMS needs
#: the opt-out, so the other channels run the upsert without its subquery.
_COUNT = (
    DriverStatement(_upsert(sqlite.insert), (_COUNT_TYPE,)),
    DriverStatement(_upsert(postgresql.insert), (_COUNT_TYPE,)),
)
_COUNT_AND_OPT_OUT = (
    DriverStatement(_upsert(sqlite.insert, _OPTED_OUT), (_COUNT_TYPE, _opt_outs.c.opted_out.type)),
    DriverStatement(
        _upsert(postgresql.insert, _OPTED_OUT), (_COUNT_TYPE, _opt_outs.c.opted_out.type)
    ),
)


def _count_opt_out_and_lock() -> DriverStatement:
    """PostgreSQL: the count, the opt-out and the conversation lock in one round trip."""
    counted = _upsert(postgresql.insert).cte("counted")
    statement = postgresql_lock_with(
        counted, select(counted.c.count).scalar_subquery(), _OPTED_OUT
    )
    return DriverStatement(
        statement, (*LOCK_RESULT_TYPES, _COUNT_TYPE, _opt_outs.c.opted_out.type)
    )


_COUNT_OPT_OUT_AND_LOCK = _count_opt_out_and_lock()


#: Count a message once per provider message id: a retry gets the position its first delivery
#: got, so a message allowed once is allowed again and "slow down" is repeated, never moved.
#: Ids are kept only up to the warning's position (the rest are dropped whatever they are), so
#: a flood stores at most ``limit + 1`` ids per window. KEYS[1] the window's hash; ARGV: the
#: message id, the limit, the expiry in seconds.
_COUNT_ONCE = """
local position = redis.call('HGET', KEYS[1], ARGV[1])
if position then
  return tonumber(position)
end
position = redis.call('HINCRBY', KEYS[1], '#', 1)
if position <= tonumber(ARGV[2]) + 1 then
  redis.call('HSET', KEYS[1], ARGV[1], position)
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return position
"""


class RedisThrottle:
    """Counters in Redis, one per sender and window, expiring after two windows: ``INCR`` on a
    key, or, for messages with a provider id, a hash of ids to their positions (a Lua script,
    atomic), because Redis is outside the request's transaction and a provider retries a
    message whose request failed.
    """

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = "recordcheck:throttle:",
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._clock = clock
        self._count_once = client.register_script(_COUNT_ONCE)

    def hit(self, key: str, limit: Limit, *, message_id: str | None = None) -> Verdict:
        """Count a message and return its verdict."""
        window = limit.window_start(self._clock())
        name = f"{self._prefix}{key}:{int(window.timestamp())}"
        expiry = limit.seconds * 2
        if message_id is not None:
            position = self._count_once(
                keys=[f"{name}:ids"], args=[message_id, limit.count, expiry]
            )
            return limit.verdict(int(position))
        pipe = self._client.pipeline(transaction=True)
        pipe.incr(name)
        pipe.expire(name, expiry)
        count, _ = pipe.execute()
        return limit.verdict(int(count))


def purge_stale_counters(session: Session, *, older_than: dt.datetime) -> int:
    """Delete counters whose window ended before ``older_than``; returns how many."""
    result = session.execute(
        delete(SenderThrottle).where(SenderThrottle.window_start < older_than)
    )
    return int(getattr(result, "rowcount", 0) or 0)
