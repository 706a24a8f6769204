"""Legal accuracy of a result's words: the brief review list, and which route a reminder is for.

The "what a lawyer should check" list in brief: each reason must make sense on its own.

Since the needs-review result lists each unknown once, without the route it came with, a reason
that said "This route needs only one conviction in your life" or "may block this" no longer
named what it was about; read alone, it told someone with a cannabis possession conviction that
clearing needs a single conviction, which is true only of the pardon route (law file P7, S2),
not of the possession route (P3, S22).
"""

from __future__ import annotations

import datetime as dt

import pytest

from bot import outcome
from bot.render import reply_text
from knowledge.texts import LANGS

TODAY = dt.date(2026, 11, 26)
BASE = {"q_court": "baltimore_city", "q_open": "no", "q_done": "yes", "q_other": "yes"}

#: Answers whose brief review list carries a route's own condition (found by screening).
CASES = {
    "one conviction, pardon route": {**BASE, "q_charge": "possession", "q_outcome": "guilty",
                                     "q_when": "2015"},
    "tickets after 2022, automatic route": {**BASE, "q_charge": "not_sure",
                                            "q_outcome": "dropped", "q_when": "2024"},
    "other charges block it": {**BASE, "q_charge": "pwid", "q_outcome": "pbj"},
}  # fmt: skip


def brief_review(answers: dict[str, str], lang: str) -> list[str]:
    built = outcome.build(
        outcome.answers_input(answers), programs=(), self_reported=True, lang=lang, today=TODAY
    )
    keys = [r.key for r in built.summary]
    assert built.verdict == "needs_review"
    start = keys.index("explain.heading.review") + 1
    end = keys.index("explain.heading.help")
    return [reply_text(r, lang) for r in built.summary[start:end]]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("case", CASES)
def test_each_reason_in_the_brief_review_list_names_what_it_is_about(case, lang):
    reasons = brief_review(CASES[case], lang)
    vague = ("This route", "block this.", "if this covers", "Esta vía exige", "Esta vía pudo",
             "impedirlo.", "si esto incluye")  # fmt: skip

    assert reasons
    assert [r for r in reasons if any(v in r for v in vague)] == []


def test_the_pardon_route_condition_says_it_is_the_pardon_route():
    reasons = brief_review(CASES["one conviction, pardon route"], "en")

    assert any("pardoned conviction" in r and "only conviction" in r for r in reasons)


# ---- which route a reminder is for ----------------------------------------------------------


def screened(answers: dict[str, str]) -> outcome.Built:
    return outcome.build(
        outcome.answers_input(answers), programs=(), self_reported=True, lang="en", today=TODAY
    )


def test_no_shielding_reminder_for_a_record_that_can_be_cleared_now():
    """ "You can ask the court to clear this record now", then "we can write to you on
    31 December 2027, when you may be able to file": for shielding, which only hides the
    record and can be used once in a life (law file P11, S31)."""
    built = screened({**BASE, "q_other": "no", "q_charge": "possession", "q_outcome": "guilty",
                      "q_when": "2018", "q_done_when": "2024"})  # fmt: skip

    assert built.verdict == "act_now"
    assert built.reminder is None


def test_the_reminder_is_for_the_day_the_result_says_clearing_opens():
    """The result said "starting 31 December 2030" (5 years after a paraphernalia sentence,
    S26); the reminder was for shielding, two years earlier."""
    built = screened({**BASE, "q_other": "no", "q_charge": "paraphernalia",
                      "q_outcome": "guilty", "q_when": "2023", "q_done_when": "2025"})  # fmt: skip

    assert built.verdict == "wait"
    assert built.reminder == {"due_on": "2030-12-31", "pathway": "petition_listed_conviction"}
