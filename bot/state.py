"""What the bot remembers about one conversation, and its JSON form in the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from bot.model import Choice, Reply

STATE_VERSION = 1
MAX_HISTORY = 20


@dataclass(frozen=True)
class State:
    """One conversation. ``step`` names the question we are waiting on.

    ``answers`` holds the question path's answers; ``pending`` holds values between two steps
    (the case number until the date of birth arrives, the step to return to after LANG);
    ``result`` holds the last result as replies, never the date of birth.
    ``handoff_waiting`` is set when the person asked for a person: only then (and on a new
    conversation's first message) does the service look for a team answer to deliver
    (everyone else's messages cost no extra query).
    """

    step: str = "new"
    lang: str | None = None
    answers: Mapping[str, Any] = field(default_factory=dict)
    history: tuple[str, ...] = ()
    misses: int = 0
    last_seen: dt.datetime | None = None
    pending: Mapping[str, Any] = field(default_factory=dict)
    result: Mapping[str, Any] | None = None
    handoff_waiting: bool = False

    @property
    def language(self) -> str:
        """The language to answer in (English until the person chooses)."""
        return self.lang or "en"

    def with_pending(self, **values: Any) -> State:
        """A copy with some pending values set (None removes one)."""
        pending = {**self.pending, **values}
        return replace(self, pending={k: v for k, v in pending.items() if v is not None})

    def to_json(self) -> dict[str, Any]:
        """The JSON stored in ``conversations.state``.

        ``handoff_waiting`` is written only when set, so states stored before it existed and
        states of people who never asked for a person read and write alike (same version).
        """
        data: dict[str, Any] = {
            "v": STATE_VERSION,
            "step": self.step,
            "lang": self.lang,
            "answers": dict(self.answers),
            "history": list(self.history),
            "misses": self.misses,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "pending": dict(self.pending),
            "result": dict(self.result) if self.result is not None else None,
        }
        if self.handoff_waiting:
            data["handoff_waiting"] = True
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> State:
        """Read a stored state; anything unreadable (or from another version) starts afresh."""
        if not data or data.get("v") != STATE_VERSION:
            return cls()
        try:
            last_seen = data.get("last_seen")
            return cls(
                step=str(data["step"]),
                lang=data.get("lang"),
                answers=dict(data.get("answers") or {}),
                history=tuple(str(s) for s in data.get("history") or ()),
                misses=int(data.get("misses") or 0),
                last_seen=dt.datetime.fromisoformat(last_seen) if last_seen else None,
                pending=dict(data.get("pending") or {}),
                result=dict(data["result"]) if data.get("result") else None,
                handoff_waiting=data.get("handoff_waiting") is True,
            )
        except (KeyError, TypeError, ValueError):
            return cls()


def reply_to_json(reply: Reply) -> dict[str, Any]:
    """A reply as JSON (kept in the state so "more detail" can be shown later)."""
    return {
        "key": reply.key,
        "params": dict(reply.params),
        "choices": [[c.label_key, c.value] for c in reply.choices],
    }


def reply_from_json(data: Mapping[str, Any]) -> Reply:
    """Rebuild a reply stored by ``reply_to_json``."""
    return Reply(
        key=str(data["key"]),
        params={str(k): str(v) for k, v in (data.get("params") or {}).items()},
        choices=tuple(Choice(str(k), str(v)) for k, v in data.get("choices") or ()),
    )
