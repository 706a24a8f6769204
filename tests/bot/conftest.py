"""A scripted chat over the real service, in memory: say a line, get the rendered messages."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

import pytest

from bot.model import Inbound, ProgramStatus, Reply
from bot.render import render
from bot.service import HandleResult, handle
from tests.bot.fakes import FakeLookup, MemoryStore, possession_case

TODAY = dt.date(2026, 11, 25)
START = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)
DOB = dt.date(1985, 3, 25)


def pwid_case(case_number: str = "0B07654321") -> dict:
    """A possession-with-intent conviction whose petition opens on 2028-06-01."""
    return possession_case(
        case_number,
        charges=[
            {
                "description": "CDS: POSS W/I DIST - MARIJUANA",
                "statute": "CR.5.602.(b)(1)",
                "disposition": "GUILTY",
                "offense_date": "2022-01-05",
                "disposition_date": "2022-06-10",
                "sentence_completed_on": "2025-06-01",
                "probation_violation": False,
            }
        ],
    )


def demo_lookup() -> FakeLookup:
    return FakeLookup(
        {
            "0B01234567": (
                DOB,
                possession_case(),
                (ProgramStatus("bcsao-2019-vacatur", "motion denied", dt.date(2019, 4, 26)),),
            ),
            "0B07654321": (None, pwid_case(), ()),
        }
    )


@dataclass
class Chat:
    """One person talking to the bot on one channel."""

    channel: str = "sms"
    lang_hint: str | None = None
    sender: str = "a" * 64
    store: MemoryStore = field(default_factory=MemoryStore)
    lookup: FakeLookup = field(default_factory=demo_lookup)
    now: dt.datetime = START
    address: bytes | None = b"encrypted-address"
    last: HandleResult | None = None
    _ids: itertools.count = field(default_factory=itertools.count)

    def send(
        self, text: str, *, message_id: str | None = None, kind: str = "text"
    ) -> HandleResult:
        self.now += dt.timedelta(seconds=30)
        inbound = Inbound(
            channel=self.channel,
            sender_hash=self.sender,
            text=text,
            provider_message_id=message_id or f"m{next(self._ids)}",
            received_at=self.now,
            lang_hint=self.lang_hint,
            reply_address=self.address,
            kind=kind,
        )
        self.last = handle(inbound, self.store, self.lookup, today=self.now.date())
        return self.last

    def say(self, text: str, **kwargs) -> str:
        """Send a line; return everything the bot answered, as one text."""
        return "\n---\n".join(m.text for m in self.send(text, **kwargs).messages)

    def wait(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)

    @property
    def lang(self) -> str:
        return self.last.lang if self.last else "en"

    def text(self, key: str, **params: str) -> str:
        """What ``key`` looks like on this chat's channel and language."""
        return render([Reply(key, params)], self.channel, self.lang)[0].text

    @property
    def state(self) -> dict:
        return self.store.conversations[(self.channel, self.sender)]["state"]


@pytest.fixture(params=["sms", "telegram"])
def channel(request) -> str:
    return request.param


@pytest.fixture(params=["en", "es"])
def lang(request) -> str:
    return request.param


@pytest.fixture
def chat(channel, lang) -> Chat:
    """A chat already past the welcome, in ``lang`` on ``channel``."""
    c = Chat(channel=channel)
    c.say("hi")
    c.say("1" if lang == "en" else "2")
    return c
