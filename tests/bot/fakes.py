"""In-memory stand-ins for the storage and records protocols, for pure bot tests."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.model import (
    AlreadyAnswered,
    Answered,
    LookupOutcome,
    OutboundMessage,
    ProcessedMessage,
    StoredConversation,
    TeamAnswer,
    WaitingHandoffs,
)


@dataclass
class MemoryStore:
    """A ConversationStore in a dict, with commit and rollback (snapshots)."""

    conversations: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    processed: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    reminders: list[dict[str, Any]] = field(default_factory=list)
    handoffs: list[dict[str, Any]] = field(default_factory=list)
    commits: int = 0
    #: ``waiting_handoffs`` calls: the query the database would run.
    handoff_queries: int = 0
    _snapshot: dict[str, Any] | None = None

    def _begin(self) -> None:
        if self._snapshot is None:
            self._snapshot = copy.deepcopy(
                {
                    "conversations": self.conversations,
                    "processed": self.processed,
                    "reminders": self.reminders,
                    "handoffs": self.handoffs,
                }
            )

    def load_for_update(
        self, channel: str, sender_hash: str, provider_message_id: str | None = None
    ) -> StoredConversation:
        self._begin()
        row = self.conversations.setdefault(
            (channel, sender_hash), {"state": {}, "version": 0, "updated_at": None}
        )
        answered = self.processed.get((channel, provider_message_id or ""))
        return StoredConversation(
            copy.deepcopy(row["state"]),
            row["version"],
            row["updated_at"],
            None
            if answered is None
            else ProcessedMessage(
                tuple(OutboundMessage.from_json(m) for m in answered["messages"]),
                answered["lang"],
            ),
        )

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
        self._begin()
        row = self.conversations[(channel, sender_hash)]
        # Must be JSON: what the database stores.
        row["state"] = json.loads(json.dumps(state))
        row["lang"] = lang
        row["version"] += 1
        row["updated_at"] = now
        if answer is not None:
            self.record_processed(channel, answer, sender_hash, now=now)

    def record_processed(
        self, channel: str, answer: Answered, sender_hash: str | None, *, now: dt.datetime
    ) -> None:
        self._begin()
        if (channel, answer.provider_message_id) in self.processed:
            raise AlreadyAnswered(answer.provider_message_id)
        self.processed[(channel, answer.provider_message_id)] = {
            "sender_hash": sender_hash,
            "messages": [m.to_json() for m in answer.messages],
            "lang": answer.lang,
        }

    def add_reminder(self, channel, sender_hash, **values):
        self._begin()
        self.reminders.append({"channel": channel, "sender_hash": sender_hash, **values})

    def add_handoff(self, channel, sender_hash, **values):
        self._begin()
        self.handoffs.append(
            {
                "id": len(self.handoffs) + 1,
                "channel": channel,
                "sender_hash": sender_hash,
                "status": "open",
                "answer": None,
                "answer_delivered_at": None,
                **values,
            }
        )

    def answer_handoff(self, text: str, *, index: int = -1, status: str | None = None) -> None:
        """What a worker does in the console: write an answer (and maybe close)."""
        self.handoffs[index]["answer"] = text
        if status is not None:
            self.handoffs[index]["status"] = status

    def waiting_handoffs(self, channel: str, sender_hash: str) -> WaitingHandoffs:
        self._begin()
        self.handoff_queries += 1
        mine = [
            h
            for h in self.handoffs
            if (h["channel"], h["sender_hash"]) == (channel, sender_hash)
            and h["answer_delivered_at"] is None
        ]
        return WaitingHandoffs(
            tuple(TeamAnswer(h["id"], h["answer"]) for h in mine if h["answer"]),
            any(h["answer"] is None and h["status"] != "closed" for h in mine),
        )

    def mark_answers_delivered(self, handoff_ids, *, now):
        self._begin()
        for h in self.handoffs:
            if h["id"] in handoff_ids and h["answer_delivered_at"] is None:
                h["answer_delivered_at"] = now

    def forget_sender(self, channel: str, sender_hash: str) -> None:
        self._begin()
        self.conversations.pop((channel, sender_hash), None)
        self.reminders = [r for r in self.reminders if r["sender_hash"] != sender_hash]
        self.handoffs = [h for h in self.handoffs if h["sender_hash"] != sender_hash]
        self.processed = {
            k: v for k, v in self.processed.items() if v["sender_hash"] != sender_hash
        }

    def commit(self) -> None:
        self._snapshot = None
        self.commits += 1

    def rollback(self) -> None:
        if self._snapshot is not None:
            self.conversations = self._snapshot["conversations"]
            self.processed = self._snapshot["processed"]
            self.reminders = self._snapshot["reminders"]
            self.handoffs = self._snapshot["handoffs"]
        self._snapshot = None


def possession_case(case_number: str = "0B01234567", **changes: Any) -> dict[str, Any]:
    """A Baltimore City possession conviction as the records store would return it."""
    charge = {
        "description": "CDS: POSS-MARIJUANA",
        "statute": "CR.5.601.(a)(1)",
        "category": None,
        "offense_date": "2016-04-02",
        "disposition": "GUILTY",
        "disposition_date": "2016-06-10",
        "sentence_completed_on": "2017-06-10",
        "probation_violation": False,
    }
    case = {
        "case_number": case_number,
        "court": "district",
        "county": "Baltimore City",
        "case_status": "closed",
        "charges": [charge],
        "person": {"date_of_birth": None, "pending_case": None, "later_convictions": None},
        "record_status": {"expunged": False, "pardoned": None, "shielded": None},
    }
    case.update(changes)
    return case


@dataclass
class FakeLookup:
    """A CaseLookup over a dict: case number -> (date of birth or None, case, programs)."""

    cases: dict[str, tuple[dt.date | None, dict[str, Any], tuple[Any, ...]]] = field(
        default_factory=dict
    )
    calls: list[tuple[str, dt.date | None, str]] = field(default_factory=list)
    locked: bool = False

    def normalize_case_number(self, raw: str) -> str | None:
        from db.records.case_numbers import normalize_case_number

        return normalize_case_number(raw)

    def lookup(self, *, case_number, date_of_birth, requester) -> LookupOutcome:
        self.calls.append((case_number, date_of_birth, requester))
        if self.locked:
            return LookupOutcome("locked_out")
        entry = self.cases.get(case_number)
        if entry is None:
            return LookupOutcome("not_found_or_unverified")
        dob, case, programs = entry
        if dob is not None and dob != date_of_birth:
            return LookupOutcome("not_found_or_unverified")
        return LookupOutcome("found", case, programs)
