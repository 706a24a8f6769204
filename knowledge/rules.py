"""The rule table: one entry per relief pathway, loaded once from ``rules.yaml``.

Each rule carries its statute citations, source ids from domain/maryland-relief-law.md, its
confidence mark and effective date, and dated parameters (waiting periods, cut-off dates).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from knowledge.model import PATHWAY_IDS
from knowledge.yaml_files import safe_load

RULES_FILE = Path(__file__).resolve().parent / "rules.yaml"


@dataclass(frozen=True, slots=True)
class Dated:
    """A parameter whose value changes on given dates (OpenFisca style)."""

    values: tuple[tuple[dt.date, object], ...]

    def on(self, day: dt.date) -> object | None:
        """Return the value in force on `day`, or None before the first date."""
        current: object | None = None
        for start, value in self.values:
            if start <= day:
                current = value
            else:
                break
        return current


@dataclass(frozen=True, slots=True)
class Rule:
    """One relief pathway: stable id (the contract's pathway id), citations and parameters."""

    id: str
    law_file: str
    citations: tuple[str, ...]
    sources: tuple[str, ...]
    confidence: str
    effective: dt.date | None
    params: Mapping[str, object]

    def date(self, name: str) -> dt.date:
        """Return a fixed date parameter."""
        value = self.params[name]
        if not isinstance(value, dt.date):
            raise TypeError(f"{self.id}.{name} is not a date")
        return value

    def number(self, name: str, day: dt.date | None = None) -> int | None:
        """Return an integer parameter, taking the value in force on `day` when dated."""
        value = self.params[name]
        if isinstance(value, Dated):
            if day is None:
                raise ValueError(f"{self.id}.{name} is dated; pass the day")
            value = value.on(day)
        if value is None:
            return None
        if not isinstance(value, int):
            raise TypeError(f"{self.id}.{name} is not a number")
        return value

    def in_force(self, day: dt.date) -> bool:
        """Return whether the pathway exists on `day`."""
        return self.effective is None or self.effective <= day


def _param(value: Any) -> object:
    if isinstance(value, dict) and set(value) == {"values"}:
        items = sorted(value["values"].items())
        return Dated(tuple((k, v) for k, v in items))
    return value


def _load() -> tuple[str, Mapping[str, Rule]]:
    with RULES_FILE.open(encoding="utf-8") as fh:
        data = safe_load(fh)
    rules: dict[str, Rule] = {}
    for rule_id, entry in data["pathways"].items():
        rules[rule_id] = Rule(
            id=rule_id,
            law_file=str(entry["law_file"]),
            citations=tuple(entry["citations"]),
            sources=tuple(entry["sources"]),
            confidence=str(entry["confidence"]),
            effective=entry["effective"],
            params=MappingProxyType(
                {k: _param(v) for k, v in (entry.get("params") or {}).items()}
            ),
        )
    if tuple(rules) != PATHWAY_IDS:
        raise ValueError("rules.yaml must define exactly the contract's pathways, in order")
    return str(data["rules_version"]), MappingProxyType(rules)


RULES_VERSION, RULES = _load()
