"""SQL implementations of the bot's storage and records protocols, plus the retention purge.

Locking: ``load_for_update`` *writes* in one statement (an insert that, when the row exists,
sets its version to itself, ``RETURNING`` the stored state). On PostgreSQL the row lock this
takes (and, for a brand-new sender, the unique index) makes a second transaction for the same
sender wait until the first commits, and then returns the committed state. On SQLite the
insert takes the database's single write lock at once (with the engine's busy timeout), which
serialises concurrent handles the same way. Call it first in a transaction: a read earlier in
the same SQLite transaction could not be upgraded safely.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.model import (
    AlreadyAnswered,
    Answered,
    LookupOutcome,
    OutboundMessage,
    ProcessedMessage,
    ProgramStatus,
    StoredConversation,
    TeamAnswer,
    WaitingHandoffs,
)
from db.base import utcnow
from db.driver_sql import DriverStatement
from db.models.conversation import Conversation, HandoffRequest, Reminder
from db.models.conversation import ProcessedMessage as ProcessedRow
from db.models.outbox import OutboxMessage
from db.records.case_numbers import normalize_case_number
from db.records.lookup import verified_lookup

#: Provider retries come within a day (Telegram keeps updates 24 hours); keep answers 2 days.
PROCESSED_KEEP = dt.timedelta(days=2)


_conversations: Table = Conversation.__table__  # type: ignore[assignment]
_processed: Table = ProcessedRow.__table__  # type: ignore[assignment]


def _answered(column: Any) -> Any:
    """One column of the stored answer to ``message_id`` (NULL when it is new)."""
    return (
        select(column)
        .where(
            _processed.c.channel == bindparam("channel"),
            _processed.c.provider_message_id == bindparam("message_id"),
        )
        .scalar_subquery()
    )


def _lock_statement(dialect_insert: Any) -> Any:
    """Insert a new, empty conversation or lock the existing one.

    Returns its stored state and, when this provider message was answered before, that answer.
    """
    statement = dialect_insert(_conversations).values(
        channel=bindparam("channel"),
        sender_hash=bindparam("sender_hash"),
        state=bindparam("empty_state", {}, type_=_conversations.c.state.type),
        lang=None,
        version=0,
        created_at=bindparam("now"),
        updated_at=bindparam("now"),
    )
    return statement.on_conflict_do_update(
        index_elements=[_conversations.c.channel, _conversations.c.sender_hash],
        set_={"version": _conversations.c.version},
    ).returning(
        _conversations.c.state,
        _conversations.c.version,
        _conversations.c.updated_at,
        _answered(_processed.c.replies),
        _answered(_processed.c.lang),
    )


#: The types of the lock's own columns, for ``DriverStatement`` result conversion.
LOCK_RESULT_TYPES = (
    _conversations.c.state.type,
    _conversations.c.version.type,
    _conversations.c.updated_at.type,
    _processed.c.replies.type,
    _processed.c.lang.type,
)
#: Indexed by "is PostgreSQL" (the upsert is dialect-specific).
_LOCK = (
    DriverStatement(_lock_statement(sqlite.insert), LOCK_RESULT_TYPES),
    DriverStatement(_lock_statement(postgresql.insert), LOCK_RESULT_TYPES),
)

_save_state = (
    update(_conversations)
    .where(
        _conversations.c.channel == bindparam("channel"),
        _conversations.c.sender_hash == bindparam("sender_hash"),
    )
    .values(
        state=bindparam("state"),
        lang=bindparam("lang"),
        version=_conversations.c.version + 1,
        updated_at=bindparam("now"),
    )
)


def _record_answer(dialect_insert: Any) -> Any:
    """Insert an answer; returns its id, or no row when the message already has one."""
    return (
        dialect_insert(_processed)
        .values(
            channel=bindparam("channel"),
            provider_message_id=bindparam("message_id"),
            sender_hash=bindparam("answer_sender_hash"),
            replies=bindparam("replies"),
            lang=bindparam("answer_lang"),
            created_at=bindparam("now"),
        )
        .on_conflict_do_nothing(
            index_elements=[_processed.c.channel, _processed.c.provider_message_id]
        )
        .returning(_processed.c.id)
    )


_SAVE = DriverStatement(_save_state)
_RECORD_PROCESSED = (
    DriverStatement(_record_answer(sqlite.insert)),
    DriverStatement(_record_answer(postgresql.insert)),
)
#: PostgreSQL: the state and the answer in one round trip (a data-modifying CTE always runs;
#: when the answer is refused the caller rolls back, and the state update with it).
_SAVE_AND_RECORD = DriverStatement(
    _record_answer(postgresql.insert).add_cte(_save_state.cte("saved_state"))
)


def postgresql_lock_with(first: Any, *columns: Any) -> Any:
    """The PostgreSQL conversation lock with another data-modifying statement ``first`` (a
    CTE) run in the same round trip; returns the lock's columns, then ``columns``."""
    return _lock_statement(postgresql.insert).add_cte(first).returning(*columns)


def stored_conversation(row: tuple[Any, ...]) -> StoredConversation:
    """The conversation from the lock's own columns (the first five of its row)."""
    state, version, updated_at, replies, answer_lang = row[:5]
    answered = None
    if replies is not None:
        answered = ProcessedMessage(
            tuple(OutboundMessage.from_json(m) for m in replies), answer_lang
        )
    return StoredConversation(dict(state or {}), version, updated_at, answered)


@dataclass(frozen=True)
class LockedConversation:
    """A conversation this transaction already locked, for the message it names: the lock's
    row, read into a ``StoredConversation`` by the load (where a damaged row is handled)."""

    channel: str
    sender_hash: str
    provider_message_id: str | None
    row: tuple[Any, ...]

    def is_for(self, channel: str, sender_hash: str, provider_message_id: str | None) -> bool:
        """True when this is the conversation and message a load asks for."""
        wanted = (channel, sender_hash, provider_message_id)
        return (self.channel, self.sender_hash, self.provider_message_id) == wanted


class SqlConversationStore:
    """``bot.model.ConversationStore`` on a SQLAlchemy session (one handle = one transaction).

    The per-message statements (lock with dedupe check, save with the answer) are Core
    statements compiled once and run on the session's driver connection (``db.driver_sql``):
    no unit of work and no execution-layer overhead per message. ``locked`` is a conversation
    the caller's transaction already locked in an earlier statement (PostgreSQL: with the
    throttle count, one round trip); the first matching ``load_for_update`` returns it.
    """

    def __init__(self, session: Session, *, locked: LockedConversation | None = None) -> None:
        self.session = session
        self._locked = locked

    def load_for_update(
        self, channel: str, sender_hash: str, provider_message_id: str | None = None
    ) -> StoredConversation:
        """Create the row if needed and lock it until commit or rollback; one statement.

        An insert that, when the row exists, "updates" it to itself. Either way the row is
        locked (PostgreSQL; on SQLite the database's write lock) and returned as committed by
        any transaction that held it before. The same statement reads the stored answer to
        ``provider_message_id``. On SQLite the write lock makes that read current. On
        PostgreSQL a duplicate that committed while this statement waited for the lock is not
        in its snapshot; the answered-message insert of this transaction then fails on the
        unique key, and the caller's retry finds the answer.
        """
        locked, self._locked = self._locked, None
        if locked is not None and locked.is_for(channel, sender_hash, provider_message_id):
            return stored_conversation(locked.row)
        connection = self.session.connection()
        row = _LOCK[connection.dialect.name == "postgresql"].first(
            connection,
            {
                "channel": channel,
                "sender_hash": sender_hash,
                "now": utcnow(),
                "message_id": provider_message_id,
            },
        )
        assert row is not None  # noqa: S101 - an upsert with RETURNING always returns its row
        return stored_conversation(row)

    def save(
        self,
        channel: str,
        sender_hash: str,
        state: Mapping[str, Any],
        lang: str | None,
        *,
        now: dt.datetime,
        answer: Answered | None = None,
    ) -> None:
        """Write the state, bump its version and remember ``answer`` (one round trip on
        PostgreSQL)."""
        connection = self.session.connection()
        params = {
            "channel": channel,
            "sender_hash": sender_hash,
            "state": dict(state),
            "lang": lang,
            "now": now,
        }
        if answer is None:
            _SAVE.run(connection, params)
            return
        params.update(_answer_params(answer, sender_hash))
        if connection.dialect.name == "postgresql":
            recorded = _SAVE_AND_RECORD.first(connection, params)
        else:
            _SAVE.run(connection, params)
            recorded = _RECORD_PROCESSED[False].first(connection, params)
        if recorded is None:
            raise AlreadyAnswered(answer.provider_message_id)

    def record_processed(
        self, channel: str, answer: Answered, sender_hash: str | None, *, now: dt.datetime
    ) -> None:
        """Remember an answer without a state to save (the sender was just erased)."""
        connection = self.session.connection()
        recorded = _RECORD_PROCESSED[connection.dialect.name == "postgresql"].first(
            connection, {"channel": channel, "now": now, **_answer_params(answer, sender_hash)}
        )
        if recorded is None:
            raise AlreadyAnswered(answer.provider_message_id)

    def add_reminder(
        self,
        channel: str,
        sender_hash: str,
        *,
        address: bytes,
        lang: str,
        due_on: dt.date,
        pathway: str,
        case_ref: str | None,
        now: dt.datetime,
    ) -> None:
        """Store a reminder; one per sender, pathway and date (asking twice changes nothing)."""
        existing = self.session.execute(
            select(Reminder.id).where(
                Reminder.sender_hash == sender_hash,
                Reminder.pathway == pathway,
                Reminder.due_on == due_on,
                Reminder.status == "scheduled",
            )
        ).first()
        if existing is not None:
            return
        self.session.add(
            Reminder(
                sender_hash=sender_hash,
                channel=channel,
                address_encrypted=address,
                lang=lang,
                due_on=due_on,
                pathway=pathway,
                case_ref=case_ref,
                status="scheduled",
                created_at=now,
            )
        )
        self.session.flush()

    def add_handoff(
        self, channel: str, sender_hash: str, *, lang: str, summary: str, now: dt.datetime
    ) -> None:
        """Open a handoff request for the staff queue."""
        self.session.add(
            HandoffRequest(
                sender_hash=sender_hash,
                channel=channel,
                lang=lang,
                summary=summary,
                status="open",
                created_at=now,
                updated_at=now,
            )
        )
        self.session.flush()

    def waiting_handoffs(self, channel: str, sender_hash: str) -> WaitingHandoffs:
        """The sender's requests not yet answered to them, locked until commit.

        ``FOR UPDATE`` (PostgreSQL; on SQLite this transaction holds the write lock already):
        a worker editing an answer waits, and then finds it delivered, so the text sent is
        the text marked delivered.
        """
        rows = self.session.execute(
            select(HandoffRequest.id, HandoffRequest.answer, HandoffRequest.status)
            .where(
                HandoffRequest.channel == channel,
                HandoffRequest.sender_hash == sender_hash,
                HandoffRequest.answer_delivered_at.is_(None),
            )
            .order_by(HandoffRequest.id)
            .with_for_update()
        ).all()
        return waiting_from_rows(rows)

    def mark_answers_delivered(self, handoff_ids: tuple[int, ...], *, now: dt.datetime) -> None:
        """Stamp the answers sent with this reply (committed with the conversation's state)."""
        self.session.execute(
            update(HandoffRequest)
            .where(
                HandoffRequest.id.in_(handoff_ids), HandoffRequest.answer_delivered_at.is_(None)
            )
            .values(answer_delivered_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )

    def forget_sender(self, channel: str, sender_hash: str) -> None:
        """Delete every row naming this sender: conversation, answers, reminders, handoffs.

        Queued outbox messages to the sender go too (they hold the encrypted address). The
        lookup audit keeps its rows: they carry the 5-tries lock-out, which erasing must not
        reset.
        """
        for model in (Conversation, ProcessedRow, Reminder, HandoffRequest, OutboxMessage):
            self.session.execute(delete(model).where(model.sender_hash == sender_hash))

    def commit(self) -> None:
        """Commit the transaction (and release the row lock)."""
        self.session.commit()

    def rollback(self) -> None:
        """Roll the transaction back (and release the row lock)."""
        self._locked = None
        self.session.rollback()


def waiting_from_rows(rows: Any) -> WaitingHandoffs:
    """(id, answer, status) rows of undelivered requests -> what to deliver, what to wait for."""
    answers = tuple(TeamAnswer(int(id_), answer) for id_, answer, _ in rows if answer)
    awaiting = any(answer is None and status != "closed" for _, answer, status in rows)
    return WaitingHandoffs(answers, awaiting)


class SqlCaseLookup:
    """``bot.model.CaseLookup`` over the records store (audit rows join the transaction)."""

    def __init__(
        self, session: Session, *, hmac_key: str | None = None, now: dt.datetime | None = None
    ) -> None:
        self.session = session
        self.hmac_key = hmac_key
        self.now = now

    def normalize_case_number(self, raw: str) -> str | None:
        """The stored form of a typed case number, or None."""
        return normalize_case_number(raw)

    def lookup(
        self, *, case_number: str, date_of_birth: dt.date | None, requester: str
    ) -> LookupOutcome:
        """Verified lookup (date of birth checked when the record has one; 5 tries a day)."""
        found = verified_lookup(
            self.session,
            case_number=case_number,
            date_of_birth=date_of_birth,
            requester=requester,
            now=self.now,
            hmac_key=self.hmac_key,
        )
        programs = tuple(ProgramStatus(p.program, p.status, p.status_date) for p in found.programs)
        return LookupOutcome(found.status, found.case, programs)


def _answer_params(answer: Answered, sender_hash: str | None) -> dict[str, Any]:
    return {
        "message_id": answer.provider_message_id,
        "answer_sender_hash": sender_hash,
        "replies": [m.to_json() for m in answer.messages],
        "answer_lang": answer.lang,
    }


def purge(session: Session, *, now: dt.datetime, retention_days: int) -> dict[str, int]:
    """Delete what is past retention; the caller commits. Returns rows deleted per table.

    Conversations idle longer than ``retention_days``; answered-message records after
    ``PROCESSED_KEEP``; reminders already sent or cancelled, and closed handoff requests,
    once older than the retention period. Scheduled reminders and open requests stay. A team
    answer lives in its request and goes with it (answering or delivering it moves
    ``updated_at``, so a closed request stays the retention period after its last change).
    """
    cutoff = now - dt.timedelta(days=retention_days)
    counts: dict[str, int] = {}
    statements = {
        "conversations": delete(Conversation).where(Conversation.updated_at < cutoff),
        "processed_messages": delete(ProcessedRow).where(
            ProcessedRow.created_at < now - PROCESSED_KEEP
        ),
        "reminders": delete(Reminder).where(
            Reminder.status != "scheduled", Reminder.created_at < cutoff
        ),
        "handoff_requests": delete(HandoffRequest).where(
            HandoffRequest.status == "closed", HandoffRequest.updated_at < cutoff
        ),
    }
    for name, statement in statements.items():
        result = session.execute(statement)
        counts[name] = int(getattr(result, "rowcount", 0) or 0)
    return counts
