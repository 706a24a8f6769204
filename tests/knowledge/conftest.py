"""Helpers for the knowledge tests: scenario files and a case builder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

SCENARIO_DIR = Path(__file__).parent / "scenarios"
DEFAULT_AS_OF = dt.date(2026, 11, 25)


def to_json_value(value: Any) -> Any:
    """YAML dates become the contract's ISO strings."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: to_json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json_value(v) for v in value]
    return value


def scenario_input(scenario: dict[str, Any]) -> dict[str, Any]:
    """The scenario's input with the file's documented defaults filled in."""
    data = to_json_value(scenario["input"])
    data.setdefault("county", "Baltimore City")
    data.setdefault("court", "district")
    data.setdefault("case_status", "closed")
    data.setdefault("person", {"pending_case": False, "later_convictions": []})
    for charge in data["charges"]:
        charge.setdefault("probation_violation", False)
    return data


def load_scenarios() -> list[dict[str, Any]]:
    """Every scenario of every file in tests/knowledge/scenarios/."""
    cases: list[dict[str, Any]] = []
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            case["file"] = path.name
            cases.append(case)
    return cases
