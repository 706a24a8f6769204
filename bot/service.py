"""The only code that touches conversation storage: load and lock, advance, save, commit.

``handle`` is one transaction. In order: the sender's conversation row is created if needed and
locked; a provider retry is then answered from the stored reply (the transaction is rolled back,
nothing advances); otherwise the conversation advances, its effects (reminder,
handoff request, erasure) are applied, the state and the rendered reply are saved together,
and the store commits. A team answer to a handoff request (no address is kept, so it waits for
the person's next message) goes out before the reply and is marked delivered in the same
transaction; only a state whose ``handoff_waiting`` is set, or a new conversation row (the
purge may have removed the one that had the flag), pays the query for it. A crash
inside a step answers with a short apology and the menu and keeps the previous state; storage
errors propagate so the channel can answer 503 (a provider that retries finds nothing done).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, replace

from bot.conversation import Context, Transition, advance, error_transition
from bot.model import (
    AlreadyAnswered,
    Answered,
    CaseLookup,
    ConversationStore,
    ForgetMe,
    Inbound,
    OpenHandoff,
    OutboundMessage,
    Reply,
    SaveReminder,
    WaitingHandoffs,
)
from bot.render import plain_text, render
from bot.state import State

log = logging.getLogger("recordcheck.bot")

#: Handoff summaries are stored in the staff's language; ``lang`` says the person's.
STAFF_LANG = "en"


@dataclass(frozen=True)
class HandleResult:
    """What to send back: rendered messages for the inbound's channel, in ``lang``."""

    messages: tuple[OutboundMessage, ...]
    lang: str
    duplicate: bool = False


def handle(
    inbound: Inbound, store: ConversationStore, lookup: CaseLookup, *, today: dt.date
) -> HandleResult:
    """Answer one inbound message, exactly once per provider message id."""
    try:
        return _handle(inbound, store, lookup, today)
    except AlreadyAnswered:
        # A concurrent delivery of this message won; load again to answer with its reply.
        store.rollback()
    except BaseException:
        store.rollback()
        raise
    try:
        return _handle(inbound, store, lookup, today)
    except BaseException:
        store.rollback()
        raise


def _handle(
    inbound: Inbound, store: ConversationStore, lookup: CaseLookup, today: dt.date
) -> HandleResult:
    message_id = inbound.provider_message_id
    # Loaded and checked under the lock: two deliveries of one message can race, and the lock
    # makes the second wait until the first has committed its answer.
    stored = store.load_for_update(inbound.channel, inbound.sender_hash, message_id)
    if stored.answered is not None:
        store.rollback()
        seen = stored.answered
        return HandleResult(seen.messages, seen.lang or "en", duplicate=True)
    state = State.from_json(stored.state)
    # A new row (version 0) may be a sender whose conversation the retention purge removed
    # while their request waited: it looks once, so a team answer is not lost with the row.
    is_new_row = stored.version == 0
    waiting = (
        store.waiting_handoffs(inbound.channel, inbound.sender_hash)
        if state.handoff_waiting or is_new_row
        else None
    )
    try:
        transition = advance(state, inbound, Context(today=today, lookup=lookup))
    except Exception as error:  # noqa: BLE001 - any bug in a step must still answer the person
        log.error("conversation step failed", extra={"exc_type": type(error).__name__})
        transition = error_transition(state, inbound)
    # A transition that says nothing (STOP on SMS: Twilio answers it) delivers nothing.
    if waiting is not None and transition.replies:
        transition = _with_team_answers(transition, waiting, is_new_row=is_new_row)
        if waiting.answers:
            delivered = tuple(a.handoff_id for a in waiting.answers)
            store.mark_answers_delivered(delivered, now=inbound.received_at)
    lang = transition.state.lang or state.lang or "en"
    messages = tuple(render(transition.replies, inbound.channel, lang))
    forgotten = _apply_effects(inbound, store, transition, lang)
    now = inbound.received_at
    answer = None if message_id is None else Answered(message_id, messages, lang)
    if not forgotten:
        store.save(
            inbound.channel,
            inbound.sender_hash,
            transition.state.to_json(),
            transition.state.lang,
            now=now,
            answer=answer,
        )
    elif answer is not None:
        store.record_processed(inbound.channel, answer, None, now=now)
    store.commit()
    return HandleResult(messages, lang)


def _with_team_answers(
    transition: Transition, waiting: WaitingHandoffs, *, is_new_row: bool = False
) -> Transition:
    """Put the team's answers before the reply, and keep the flag only while one may come.

    A new row sets the flag again when a request of the sender's still waits for its answer.
    """
    answers = tuple(Reply("chat.handoff.answer", {"answer": a.text}) for a in waiting.answers)
    opened = any(isinstance(effect, OpenHandoff) for effect in transition.effects)
    still_waiting = waiting.awaiting_answer or opened
    # After DELETE the state is ``State()`` (False) and the sender's requests are erased with
    # the conversation: an erased person waits for nothing.
    erased = any(isinstance(effect, ForgetMe) for effect in transition.effects)
    flagged = transition.state.handoff_waiting or (is_new_row and not erased)
    state = replace(transition.state, handoff_waiting=flagged and still_waiting)
    return Transition(state, answers + transition.replies, transition.effects)


def _apply_effects(
    inbound: Inbound, store: ConversationStore, transition: Transition, lang: str
) -> bool:
    """Apply the writes a step asked for; True when the sender was erased."""
    forgotten = False
    for effect in transition.effects:
        if isinstance(effect, SaveReminder):
            if inbound.reply_address is None:
                continue
            store.add_reminder(
                inbound.channel,
                inbound.sender_hash,
                address=inbound.reply_address,
                lang=lang,
                due_on=effect.due_on,
                pathway=effect.pathway,
                case_ref=effect.case_ref,
                now=inbound.received_at,
            )
        elif isinstance(effect, OpenHandoff):
            store.add_handoff(
                inbound.channel,
                inbound.sender_hash,
                lang=lang,
                summary=plain_text(effect.summary, STAFF_LANG),
                now=inbound.received_at,
            )
        elif isinstance(effect, ForgetMe):
            store.forget_sender(inbound.channel, inbound.sender_hash)
            forgotten = True
    return forgotten
