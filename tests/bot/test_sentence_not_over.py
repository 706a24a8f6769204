"""'Is your sentence over?' No is not Not sure: a resident still serving hears that plainly.

Driven through bot.service.handle with the real texts, in English and Spanish, on SMS and
Telegram. The law (domain/maryland-relief-law.md P3, P5, 9.2): a possession conviction or PBJ
can be cleared once the sentence, with any probation, is over; a PBJ on its own route at the
later of discharge and 3 years. Automatic clearing (P1) and the 2024 pardon do not wait for it.
"""

from __future__ import annotations

import pytest

from tests.bot.conftest import Chat

GUILTY, PBJ = "1", "2"


def _answer(chat: Chat, outcome: str, done: tuple[str, ...], year: str = "2024") -> str:
    """Possession, no other charge, `outcome` in `year` (a recent case also ends that year),
    `done` to the sentence questions, Baltimore City, no open case: return what the resident
    reads."""
    chat.say("2")
    ended = (year,) if int(year) >= 2020 else ()
    for answer in ("1", "2", outcome, year, *ended, *done, "1"):
        chat.say(answer)
    result = chat.say("2")
    assert chat.state["step"] == "result"  # no month question: the year settles it
    return result


@pytest.mark.parametrize("outcome", [GUILTY, PBJ])
def test_a_resident_still_serving_is_told_it_is_not_over_and_where_to_ask(chat, outcome):
    result = _answer(chat, outcome, ("no",))

    assert chat.state["answers"]["q_done"] == "no"
    assert chat.state["result"]["verdict"] == "wait"
    assert chat.text("verdict_likely.wait_sentence") in result
    assert chat.text("reason.p3.sentence_not_over") in result
    assert chat.text("step.sentence_help") in result
    assert chat.text("help.court_help_center") in result
    assert chat.text("verdict_likely.needs_review") not in result
    assert chat.text("reason.sentence_unknown") not in result
    # No date to remind of: the sentence's end is not known.
    assert chat.text("chat.result.next_now") in result


def test_a_pbj_still_on_probation_hears_when_the_pbj_route_opens(chat):
    result = _answer(chat, PBJ, ("no",))

    assert chat.text("reason.p5.pbj_not_over") in result


@pytest.mark.parametrize("outcome", [GUILTY, PBJ])
def test_not_sure_still_sends_the_resident_to_a_lawyer(chat, outcome):
    result = _answer(chat, outcome, ("3",))

    assert chat.state["result"]["verdict"] == "needs_review"
    assert chat.text("verdict_likely.needs_review") in result
    assert chat.text("reason.sentence_unknown") in result
    assert chat.text("reason.p3.sentence_not_over") not in result
    assert chat.text("verdict_likely.wait_sentence") not in result


@pytest.mark.parametrize("outcome", [GUILTY, PBJ])
def test_a_sentence_that_ended_can_be_cleared_now(chat, outcome):
    result = _answer(chat, outcome, ("1", "2025"))

    assert chat.state["result"]["verdict"] == "act_now"
    assert chat.text("verdict_likely.act_now") in result
    assert chat.text("reason.p3.sentence_not_over") not in result
    assert chat.text("step.sentence_help") not in result


def test_an_old_case_still_on_probation_keeps_the_automatic_clearing_and_the_pardon(chat):
    # Charged in 2019: the state's clearing (P1) and the pardon do not wait for the sentence.
    result = _answer(chat, GUILTY, ("no",), year="2019")

    assert chat.state["result"]["verdict"] == "automatic"
    assert chat.text("pathway.auto_expungement_cannabis") in result
    assert chat.text("pathway.pardon_2024") in result
    assert chat.text("reason.p3.sentence_not_over") in result


def test_changing_the_answer_to_not_sure_takes_the_not_over_answer_back():
    c = Chat()
    c.say("hi")
    c.say("1")
    c.say("2")
    for answer in ("1", "2", GUILTY, "2024", "2024", "no", "1"):
        c.say(answer)
    c.say("BACK")  # to q_court
    c.say("BACK")  # to q_done
    assert c.state["step"] == "q_done"
    for answer in ("not sure", "1"):
        c.say(answer)

    result = c.say("2")

    assert c.state["result"]["verdict"] == "needs_review"
    assert c.text("reason.p3.sentence_not_over") not in result
