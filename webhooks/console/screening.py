"""The console's one boundary with the rules engine, the bot's question mapping and the texts.

Views hand in a DESIGN 5.3 input dict (from the records store or from the by-hand form) and
get back what the templates show: the engine's pathways with reasons, citations and dates, and
the resident's handout parts in English or Spanish from the same texts the bot uses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from bot.outcome import ENDED_ASKED_FROM_YEAR, answers_input, ended_before
from knowledge.explain import ExplanationPart, explain
from knowledge.model import ScreeningResult
from knowledge.screening import InputError, parse_case, screen_case
from knowledge.texts import LANGS, render

BALTIMORE = ZoneInfo("America/New_York")

__all__ = [
    "ENDED_ASKED_FROM_YEAR",
    "LANGS",
    "InputError",
    "ended_before",
    "handout_sections",
    "screen_answers",
    "screen_dict",
    "today",
]


def today() -> dt.date:
    """Today's date in Baltimore (the engine never reads the clock; its callers do)."""
    return dt.datetime.now(BALTIMORE).date()


def screen_dict(data: Mapping[str, Any], as_of: dt.date | None = None) -> ScreeningResult:
    """Validate and screen one DESIGN 5.3 input; raises InputError naming the field."""
    return screen_case(parse_case(dict(data)), as_of or today())


def screen_answers(
    answers: Mapping[str, str | None], as_of: dt.date | None = None
) -> ScreeningResult:
    """Screen the resident's question answers, read exactly as the bot reads them."""
    data = answers_input({k: v for k, v in answers.items() if v is not None})
    return screen_case(data, as_of or today())


@dataclass
class HandoutSection:
    """One block of the handout: an optional heading and its lines."""

    name: str
    heading: str | None = None
    lines: list[str] = field(default_factory=list)


def handout_sections(
    result: ScreeningResult, lang: str, *, self_reported: bool
) -> list[HandoutSection]:
    """The explanation grouped into sections, headings separated from their lines."""
    sections: list[HandoutSection] = []
    parts: list[ExplanationPart] = explain(result, lang, self_reported=self_reported)
    for part in parts:
        if not sections or sections[-1].name != part.section:
            sections.append(HandoutSection(part.section))
        if part.key.startswith("explain.heading."):
            sections[-1].heading = part.text
        else:
            sections[-1].lines.append(part.text)
    return sections


def text(key: str, lang: str, **params: object) -> str:
    """A resident-facing text from knowledge/texts."""
    return render(key, lang, **params)
