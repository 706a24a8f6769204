"""The bot's plain data: what comes in, what goes out, and what is remembered between messages.

Everything here is a frozen dataclass or a Protocol. The channel adapters (``webhooks/``) build
an ``Inbound``; ``db/`` implements ``ConversationStore`` and ``CaseLookup``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Channel = Literal["sms", "telegram", "web"]
InboundKind = Literal["text", "button", "media", "empty", "command"]
CHANNELS: tuple[Channel, ...] = ("sms", "telegram", "web")


@dataclass(frozen=True)
class Inbound:
    """One message from a person, already verified and parsed by a channel adapter.

    ``sender_hash`` is ``db.identity.sender_hash`` of the raw id; ``reply_address`` is the raw
    address encrypted with ``db.identity.encrypt_address`` (kept only on reminder opt-in).
    """

    channel: Channel
    sender_hash: str
    text: str
    provider_message_id: str | None
    received_at: dt.datetime
    lang_hint: str | None = None
    reply_address: bytes | None = None
    kind: InboundKind = "text"


@dataclass(frozen=True)
class Choice:
    """One answer offered as a button: a text key for its label and the value it sends back."""

    label_key: str
    value: str


@dataclass(frozen=True)
class Reply:
    """One thing to say: a text key with parameters; never the words themselves."""

    key: str
    params: Mapping[str, str] = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class Button:
    """A rendered button: the label shown and the value sent back when pressed."""

    label: str
    value: str


@dataclass(frozen=True)
class OutboundMessage:
    """One rendered message for one channel (SMS text is GSM-7 and at most 3 segments)."""

    text: str
    buttons: tuple[Button, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe form, stored for de-duplication."""
        return {"text": self.text, "buttons": [[b.label, b.value] for b in self.buttons]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OutboundMessage:
        """Rebuild a message stored by ``to_json``."""
        return cls(
            text=str(data["text"]),
            buttons=tuple(Button(str(label), str(value)) for label, value in data["buttons"]),
        )


# ---- effects: writes the conversation asks for; the service applies them -----------------


@dataclass(frozen=True)
class SaveReminder:
    """Remember to tell the person when a pathway opens (needs the encrypted address)."""

    due_on: dt.date
    pathway: str
    case_ref: str | None


@dataclass(frozen=True)
class OpenHandoff:
    """Ask a person at the service to follow up; ``summary`` is what the person agreed to share."""

    summary: tuple[Reply, ...]


@dataclass(frozen=True)
class ForgetMe:
    """Erase the conversation, reminders and handoff requests of this sender."""


Effect = SaveReminder | OpenHandoff | ForgetMe


# ---- case lookup --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramStatus:
    """A case's entry on a relief program list (e.g. the 2019 vacatur list)."""

    program: str
    status: str
    status_date: dt.date | None = None


@dataclass(frozen=True)
class LookupOutcome:
    """What a verified lookup found. Not found and not verified look the same on purpose."""

    status: Literal["found", "not_found_or_unverified", "locked_out"]
    case: Mapping[str, Any] | None = None
    programs: tuple[ProgramStatus, ...] = ()


class CaseLookup(Protocol):
    """The records store, as the bot sees it (``db.storage.SqlCaseLookup`` implements it)."""

    def normalize_case_number(self, raw: str) -> str | None:
        """The case number in its stored form, or None if it cannot be one."""
        ...

    def lookup(
        self, *, case_number: str, date_of_birth: dt.date | None, requester: str
    ) -> LookupOutcome:
        """Find a case, checking the date of birth when the record has one."""
        ...


# ---- storage ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessedMessage:
    """A provider message already answered: the exact messages that were sent."""

    messages: tuple[OutboundMessage, ...]
    lang: str | None


@dataclass(frozen=True)
class Answered:
    """The answer to one provider message, kept so that a provider retry gets it again."""

    provider_message_id: str
    messages: tuple[OutboundMessage, ...]
    lang: str | None


@dataclass(frozen=True)
class TeamAnswer:
    """A worker's answer to one handoff request, not yet delivered to the resident."""

    handoff_id: int
    text: str


@dataclass(frozen=True)
class WaitingHandoffs:
    """A sender's handoff requests that still concern them: answers to deliver now, and
    whether a request is still open without an answer (so the next message must ask again)."""

    answers: tuple[TeamAnswer, ...] = ()
    awaiting_answer: bool = False


class AlreadyAnswered(Exception):  # noqa: N818 - names the situation, not a failure
    """Raised by ``save`` when a concurrent delivery of the same provider message committed
    its answer first; the caller rolls back and loads again to answer from that reply."""


@dataclass(frozen=True)
class StoredConversation:
    """A conversation row as loaded: the state JSON (empty for a new sender) and its version,
    and the stored answer when the message being handled was answered before (a retry)."""

    state: Mapping[str, Any]
    version: int
    updated_at: dt.datetime | None
    answered: ProcessedMessage | None = None


class ConversationStore(Protocol):
    """Everything ``bot.service.handle`` needs from storage; one instance is one transaction."""

    def load_for_update(
        self, channel: str, sender_hash: str, provider_message_id: str | None = None
    ) -> StoredConversation:
        """Load (creating if needed) and lock the sender's conversation until commit, with the
        stored answer to ``provider_message_id`` if it was handled before."""
        ...

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
        """Write the new state (and bump its version), and remember ``answer`` with it.

        Raises ``AlreadyAnswered`` when the provider message already has an answer.
        """
        ...

    def record_processed(
        self, channel: str, answer: Answered, sender_hash: str | None, *, now: dt.datetime
    ) -> None:
        """Remember an answer when there is no state to save (the sender was erased).

        Raises ``AlreadyAnswered`` when the provider message already has an answer.
        """
        ...

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
        """Store one reminder with the encrypted address it will be sent to."""
        ...

    def add_handoff(
        self,
        channel: str,
        sender_hash: str,
        *,
        lang: str,
        summary: str,
        now: dt.datetime,
    ) -> None:
        """Open a request for a person to follow up."""
        ...

    def waiting_handoffs(self, channel: str, sender_hash: str) -> WaitingHandoffs:
        """The sender's undelivered team answers (locked until commit, so a worker cannot
        change one while it is being sent) and whether a request still awaits one.

        Asked only for a conversation whose state says a handoff is waiting: it costs a query.
        """
        ...

    def mark_answers_delivered(self, handoff_ids: tuple[int, ...], *, now: dt.datetime) -> None:
        """Record that these answers went out with this transaction's reply."""
        ...

    def forget_sender(self, channel: str, sender_hash: str) -> None:
        """Delete every row that names this sender (conversation, reminders, handoffs...)."""
        ...

    def commit(self) -> None:
        """Make everything since the last commit durable and release the lock."""
        ...

    def rollback(self) -> None:
        """Undo everything since the last commit and release the lock."""
        ...
