"""Plain-language explanations: what happened, what to do, when, where, help, employers."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge import parse_case, screen
from knowledge.explain import explain

AS_OF = dt.date(2026, 11, 25)


def _result(**changes: object) -> object:
    data: dict[str, object] = {
        "court": "district",
        "county": "Baltimore City",
        "case_status": "closed",
        "person": {"pending_case": False, "later_convictions": []},
        "charges": [
            {
                "description": "CDS: POSS-MARIJUANA",
                "offense_date": "2017-04-02",
                "disposition": "GUILTY",
                "disposition_date": "2017-06-10",
                "sentence_completed_on": "2017-06-10",
                "probation_violation": False,
            }
        ],
    }
    data.update(changes)
    return screen(parse_case(data), AS_OF)


def _text(parts: list) -> str:  # type: ignore[type-arg]
    return "\n".join(p.text for p in parts)


def test_an_eligible_possession_case_says_where_to_file_the_fee_and_help() -> None:
    text = _text(explain(_result(), "en", self_reported=False))  # type: ignore[arg-type]

    assert "District Court of Maryland for Baltimore City" in text
    assert "$0 to $30" in text
    assert "30 days to object" in text
    assert "410-260-1392" in text
    assert "410-547-6537" in text
    assert "June 17, 2024" in text  # the pardon
    assert "§ 10-105(a)(12)" in text


def test_self_reported_answers_say_likely() -> None:
    parts = explain(_result(), "en", self_reported=True)  # type: ignore[arg-type]

    assert "likely" in parts[0].text
    assert parts[1].key == "explain.self_reported"


def test_spanish_explanation_uses_spanish_dates_and_words() -> None:
    text = _text(explain(_result(), "es", self_reported=False))  # type: ignore[arg-type]

    assert "17 de junio de 2024" in text
    assert "Tribunal de Distrito de Maryland para la Ciudad de Baltimore" in text


def test_a_later_date_is_given_in_words() -> None:
    result = _result(
        charges=[
            {
                "description": "CDS: POSS-MARIJUANA",
                "offense_date": "2023-08-01",
                "disposition": "GUILTY",
                "disposition_date": "2023-12-01",
                "sentence_completed_on": "2027-06-01",
                "probation_violation": False,
            }
        ]
    )

    text = _text(explain(result, "en", self_reported=False))  # type: ignore[arg-type]

    assert "Starting June 1, 2027" in text


def test_a_cleared_case_tells_what_employers_may_ask() -> None:
    result = _result(record_status={"expunged": True})

    parts = explain(result, "en", self_reported=False)  # type: ignore[arg-type]

    assert parts[0].key == "verdict.already_cleared"
    assert any(p.key == "explain.employers.cleared" for p in parts)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_part_is_short(lang: str) -> None:
    parts = explain(_result(), lang, self_reported=True)  # type: ignore[arg-type]

    assert max(len(p.text) for p in parts) < 300


@pytest.mark.parametrize("lang", ["en", "es"])
def test_unsure_automatic_cannabis_clearing_sends_to_a_lawyer_not_to_do_nothing(lang: str) -> None:
    result = _result(
        charges=[
            {
                "description": "CIVIL CITATION MARIJUANA L/T 10 G",
                "offense_date": "2016-01-01",
                "disposition": "CIVIL VIOLATION",
                "disposition_date": "2016-03-01",
                "probation_violation": False,
            }
        ]
    )
    p1 = result.pathway("auto_expungement_cannabis")  # type: ignore[attr-defined]

    parts = explain(result, lang, self_reported=False)  # type: ignore[arg-type]
    review = _text([p for p in parts if p.section == "review"])

    assert p1.status == "needs_review"
    free_lawyer = {"en": "a free lawyer can tell you", "es": "un abogado gratis puede"}[lang]
    assert free_lawyer in review
    ask_court = {"en": "you can ask the District Court", "es": "puede pedir en el Tribunal"}[lang]
    assert ask_court not in review


def _sections(parts: list) -> dict[str, list[str]]:  # type: ignore[type-arg]
    found: dict[str, list[str]] = {}
    for part in parts:
        found.setdefault(part.section, []).append(part.key)
    return found


@pytest.mark.parametrize("lang", ["en", "es"])
def test_clearing_still_to_come_is_not_listed_as_done(lang: str) -> None:
    # Dismissed 2024-01-31: the court clears it by itself on 2027-01-31 (P2, 3 years).
    result = _result(
        charges=[
            {
                "description": "THEFT LESS THAN $100.00",
                "offense_date": "2023-06-01",
                "disposition": "DISMISSED",
                "disposition_date": "2024-01-31",
            }
        ]
    )

    parts = explain(result, lang, self_reported=False)  # type: ignore[arg-type]

    sections = _sections(parts)
    assert "done" not in sections
    assert sections["coming"][0] == "explain.heading.coming"
    assert "explain.done.automatic" in sections["coming"]
    coming = _text([p for p in parts if p.section == "coming"])
    assert ("January 31, 2027" if lang == "en" else "31 de enero de 2027") in coming


def test_clearing_whose_date_has_passed_is_listed_as_done() -> None:
    parts = explain(_result(), "en", self_reported=False)  # type: ignore[arg-type]

    sections = _sections(parts)
    assert "explain.done.automatic" in sections["done"]  # P1, due 2024-07-01
    assert "coming" not in sections
