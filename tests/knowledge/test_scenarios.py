"""Scenario files: each case is a sentence, an input and the expected statuses and dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from knowledge import PATHWAY_IDS, RULES, screen_json
from tests.knowledge.conftest import DEFAULT_AS_OF, load_scenarios, scenario_input, to_json_value

SCENARIOS = load_scenarios()


def _expected(spec: Any) -> dict[str, Any]:
    return {"status": spec} if isinstance(spec, str) else to_json_value(spec)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_scenario(scenario: dict[str, Any]) -> None:
    as_of = scenario.get("as_of", DEFAULT_AS_OF)
    result = screen_json(scenario_input(scenario), as_of)
    expect = scenario["expect"]
    pathways = {p["id"]: p for p in result["pathways"]}

    assert result["as_of"] == as_of.isoformat()
    assert result["verdict"]["status"] == expect["verdict"]
    for pathway_id, spec in expect.get("pathways", {}).items():
        want = _expected(spec)
        got = pathways[pathway_id]
        assert got["status"] == want["status"], (pathway_id, got["reasons"])
        if "eligible_on" in want:
            assert got["eligible_on"] == want["eligible_on"], pathway_id
        if "charges" in want:
            assert got["charges"] == want["charges"], pathway_id
    for index_spec in expect.get("charges", []):
        charge = result["charges"][index_spec["index"]]
        assert charge == index_spec
    if "summary_contains" in expect:
        assert expect["summary_contains"] in result["verdict"]["summary"]
    for pathway_id, text in expect.get("steps_contain", {}).items():
        steps = " ".join(pathways[pathway_id]["next_steps"])
        assert text in steps, (pathway_id, steps)
    for pathway_id, texts in expect.get("reasons_contain", {}).items():
        reasons = " ".join(pathways[pathway_id]["reasons"])
        for text in [texts] if isinstance(texts, str) else texts:
            assert text in reasons, (pathway_id, reasons)
    for pathway_id, text in expect.get("reasons_omit", {}).items():
        reasons = " ".join(pathways[pathway_id]["reasons"])
        assert text not in reasons, (pathway_id, reasons)
    for got in pathways.values():  # the same sentence twice reads as a mistake
        assert len(set(got["reasons"])) == len(got["reasons"]), (got["id"], got["reasons"])
        assert len(set(got["next_steps"])) == len(got["next_steps"]), got["id"]


def test_every_rule_has_a_citation_sources_and_a_covering_scenario() -> None:
    covered = {rule_id for s in SCENARIOS for rule_id in s["covers"]}

    for rule in RULES.values():
        assert rule.citations, rule.id
        assert all(src.startswith("S") for src in rule.sources), rule.id
        assert rule.confidence in {"P", "S", "U"}, rule.id
        assert rule.id in covered, f"no scenario covers {rule.id}"
    assert set(covered) <= set(PATHWAY_IDS)


def test_every_section_8_scenario_of_the_law_file_is_here() -> None:
    numbers = {s["law"] for s in SCENARIOS if s["file"] == "law_section_8.yaml"}

    assert numbers == set(range(1, 34))


def test_scenario_names_are_unique_sentences() -> None:
    names = [s["name"] for s in SCENARIOS]

    assert len(names) == len(set(names))
    assert all(len(n.split()) >= 5 for n in names)


def test_boundary_scenarios_number_at_least_forty() -> None:
    extra = [s for s in SCENARIOS if s["file"] != "law_section_8.yaml"]

    assert len(extra) >= 40


def test_the_input_as_of_wins_over_the_callers_date() -> None:
    data = scenario_input(SCENARIOS[0]) | {"as_of": "2020-01-01"}

    result = screen_json(data, dt.date(2026, 11, 25))

    assert result["as_of"] == "2020-01-01"
