"""When it happened and when the case ended are two questions, for a recent case.

Law file section 0: use the offense date and the disposition date separately. The pardon and
the state's clearing (P1) go by the arrest or charge; the 3-year waits (P2, P5) run from the
end of the case. Driven through bot.service.handle with the real texts, in English and
Spanish, on SMS and Telegram. Today is 2026-11-25 (tests/bot/conftest.py).
"""

from __future__ import annotations

from bot.model import Reply
from bot.render import format_date, reply_text
from tests.bot.conftest import Chat

PARAPHERNALIA, ONLY_THIS = "3", "2"
GUILTY, DROPPED, STET = "1", "3", "4"
BALTIMORE_CITY, NO_OPEN_CASE = "1", "2"


def _not_sure(chat: Chat) -> str:
    return "not sure" if chat.lang == "en" else "no sé"


def _to_when(chat: Chat, outcome: str) -> None:
    """Paraphernalia, no other charge, ended with `outcome`: the "when" question is next."""
    chat.say("2")
    for answer in (PARAPHERNALIA, ONLY_THIS, outcome):
        chat.say(answer)
    assert chat.state["step"] == "q_when"


def _finish(chat: Chat) -> str:
    chat.say(BALTIMORE_CITY)
    result = chat.say(NO_OPEN_CASE)
    assert chat.state["step"] == "result"
    return result


def test_a_recent_case_is_asked_when_it_ended(chat):
    _to_when(chat, STET)

    asked = chat.say("6/2023")

    assert chat.state["step"] == "q_ended"
    assert chat.text("chat.q_ended") in asked


def test_a_stet_months_after_the_arrest_waits_three_years_from_the_stet(chat):
    """Arrested June 2023, stet January 2024: the petition opens in 2027, not now (the one
    date used to read as June 2023, and the bot said "you can ask now")."""
    _to_when(chat, STET)
    chat.say("6/2023")
    chat.say("1/2024")

    result = _finish(chat)

    assert chat.state["answers"]["q_ended"] == "2024-01"
    assert chat.state["result"]["verdict"] == "wait"
    assert chat.state["result"]["reminder"]["due_on"] == "2027-01-31"
    assert format_date("2027-01-31", chat.lang) in result
    assert chat.text("verdict_likely.act_now") not in result


def test_a_dismissal_months_after_the_arrest_is_cleared_three_years_after_the_dismissal(chat):
    _to_when(chat, DROPPED)
    chat.say("6/2023")
    chat.say("1/2024")

    result = _finish(chat)

    assert chat.state["result"]["verdict"] == "automatic"
    assert format_date("2027-01-31", chat.lang) in result
    assert format_date("2026-06-30", chat.lang) not in result  # the arrest's date + 3 years


def test_an_old_case_is_not_asked_and_keeps_one_date(chat):
    _to_when(chat, STET)

    after = chat.say("2015")
    result = _finish(chat)

    assert chat.text("chat.q_ended") not in after
    assert "q_ended" not in chat.state["answers"]
    # A stet in 2015: its 3-year wait is long over.
    assert chat.state["result"]["verdict"] == "act_now"
    assert chat.text("chat.summary.ended.not_sure") not in result


def test_an_open_case_is_not_asked_when_it_ended(chat):
    _to_when(chat, "6")  # still open

    chat.say("2024")

    assert chat.state["step"] == "q_court"


def test_not_sure_when_it_ended_needs_a_lawyer_not_a_guessed_date(chat):
    _to_when(chat, STET)
    chat.say("6/2023")
    chat.say(_not_sure(chat))

    result = _finish(chat)

    assert chat.state["answers"]["q_ended"] is None
    assert chat.state["result"]["verdict"] == "needs_review"
    assert chat.state["result"]["reminder"] is None
    assert chat.text("verdict_likely.needs_review") in result
    assert format_date("2026-06-30", chat.lang) not in result


def test_an_end_before_the_arrest_is_refused_and_asked_again(chat):
    _to_when(chat, STET)
    chat.say("6/2023")

    refused = chat.say("2022")

    assert refused == chat.text("chat.miss.ended_early", year="2023")
    assert chat.state["step"] == "q_ended"
    assert "q_ended" not in chat.state["answers"]
    chat.say("1/2024")
    assert chat.state["step"] == "q_court"


def test_an_end_in_the_future_is_refused(chat):
    _to_when(chat, STET)
    chat.say("6/2023")

    refused = chat.say("2027")

    assert refused == chat.text("chat.miss.date")
    assert chat.state["step"] == "q_ended"


def test_the_same_year_as_the_arrest_is_fine(chat):
    _to_when(chat, STET)
    chat.say("6/2023")

    chat.say("2023")

    assert chat.state["step"] == "q_court"


def test_back_from_when_it_ended_and_an_older_year_skips_it(chat):
    _to_when(chat, GUILTY)
    chat.say("2023")
    assert chat.state["step"] == "q_ended"
    chat.say("2024")
    assert chat.state["step"] == "q_done"

    chat.say("BACK")
    back = chat.say("BACK")

    assert chat.state["step"] == "q_when"
    assert chat.text("chat.q_when") in back
    chat.say("2016")
    assert chat.state["step"] == "q_done"  # the sentence questions follow, no q_ended
    assert "q_ended" not in chat.state["answers"]


def test_back_from_when_it_ended_goes_to_when_it_happened(chat):
    _to_when(chat, STET)
    chat.say("6/2023")

    back = chat.say("BACK")

    assert chat.state["step"] == "q_when"
    assert chat.text("chat.q_when") in back


def test_the_sentence_questions_follow_when_it_ended(chat):
    _to_when(chat, GUILTY)
    chat.say("2023")

    after = chat.say("2024")

    assert chat.state["step"] == "q_done"
    assert chat.text("chat.q_done") in after


def test_a_year_the_law_changes_in_asks_the_month_the_case_ended(chat):
    """Dismissed in 2021: the court's own clearing (P2) covers dispositions from October 1,
    2021 on; before, the person asks the court (P5)."""
    _to_when(chat, DROPPED)
    chat.say("2020")
    chat.say("2021")
    chat.say(BALTIMORE_CITY)

    asked = chat.say(NO_OPEN_CASE)

    assert chat.state["step"] == "q_month"
    assert asked.endswith(chat.text("chat.q_month", year="2021"))


def test_the_month_the_case_ended_settles_the_automatic_clearing(chat):
    _to_when(chat, DROPPED)
    for answer in ("2020", "2021", BALTIMORE_CITY, NO_OPEN_CASE):
        chat.say(answer)

    result = chat.say("11/2021")

    assert chat.state["answers"]["q_ended"] == "2021-11"
    # Cleared by the court 3 years after the dismissal (it may still show: ask the court).
    assert chat.text("pathway.auto_expungement_favorable") in result
    assert format_date("2024-11-30", chat.lang) in result
    assert chat.text("chat.result.date_unclear") not in result


def test_an_earlier_month_the_case_ended_leaves_it_to_a_petition(chat):
    _to_when(chat, DROPPED)
    for answer in ("2020", "2021", BALTIMORE_CITY, NO_OPEN_CASE):
        chat.say(answer)

    result = chat.say("3/2021")

    assert chat.state["answers"]["q_ended"] == "2021-03"
    assert chat.state["result"]["verdict"] == "act_now"
    assert chat.text("pathway.auto_expungement_favorable") not in result
    assert chat.text("chat.result.date_unclear") not in result


def test_a_month_that_ends_the_case_before_the_arrest_is_refused(chat):
    _to_when(chat, STET)
    for answer in ("6/2023", "2023", BALTIMORE_CITY, NO_OPEN_CASE):
        chat.say(answer)
    assert chat.state["step"] == "q_month"  # 3 years from 2023: before or after today

    refused = chat.say("3/2023")

    assert refused == chat.text("chat.miss.month_order", year="2023")
    assert chat.state["step"] == "q_month"
    chat.say("8/2023")
    assert chat.state["result"]["verdict"] == "act_now"


def test_the_team_sees_both_dates_in_the_handoff_summary(chat):
    _to_when(chat, STET)
    chat.say("6/2023")
    chat.say("1/2024")
    _finish(chat)

    ask = chat.say("3")  # talk to a person
    chat.say("yes" if chat.lang == "en" else "sí")

    happened = Reply("chat.summary.happened.month", {"month_key": "chat.month.m6", "year": "2023"})
    ended = Reply("chat.summary.ended.month", {"month_key": "chat.month.m1", "year": "2024"})
    # The person sees what we would share in their language; the team reads it in English.
    assert reply_text(happened, chat.lang) in ask
    assert reply_text(ended, chat.lang) in ask
    (handoff,) = chat.store.handoffs
    assert "- Arrested or charged: June 2023\n- Case ended: January 2024" in handoff["summary"]


def test_a_handoff_during_a_second_round_describes_the_result_it_shares(chat):
    """The summary pairs the last result with the dates behind it, not with the answers of a
    new round of questions left halfway (it used to say "stet June 2023" was "May 2021")."""
    _to_when(chat, STET)
    chat.say("6/2023")
    chat.say("1/2024")
    _finish(chat)
    chat.say("menu")
    chat.say("2")  # answer the questions again
    for answer in (PARAPHERNALIA, ONLY_THIS, DROPPED):
        chat.say(answer)
    chat.say("5/2021")
    assert chat.state["answers"]["q_when"] == "2021-05"

    chat.say("menu")
    ask = chat.say("4")  # talk to a person

    new_date = Reply("chat.summary.happened.month", {"month_key": "chat.month.m5", "year": "2021"})
    assert reply_text(new_date, chat.lang) not in ask
    chat.say("yes" if chat.lang == "en" else "sí")
    (handoff,) = chat.store.handoffs
    assert "- Arrested or charged: June 2023\n- Case ended: January 2024" in handoff["summary"]
    assert "2021" not in handoff["summary"]


def test_the_team_sees_when_the_end_is_not_known(chat):
    _to_when(chat, STET)
    chat.say("6/2023")
    chat.say(_not_sure(chat))
    _finish(chat)

    chat.say("2")  # no date to wait for: 1 More detail, 2 Talk to a person
    chat.say("yes" if chat.lang == "en" else "sí")

    (handoff,) = chat.store.handoffs
    assert "- Case ended: not sure" in handoff["summary"]


def test_a_sentence_that_ends_before_its_case_ended_is_refused_and_asked_again(chat):
    _to_when(chat, GUILTY)
    chat.say("6/2023")
    chat.say("3/2024")  # the case ended
    chat.say("1" if chat.lang == "en" else "si")  # the sentence is over
    assert chat.state["step"] == "q_done_when"

    refused = chat.say("2023")

    assert refused == chat.text("chat.miss.sentence_early", year="2024")
    assert chat.state["step"] == "q_done_when"
    assert "q_done_when" not in chat.state["answers"]
    chat.say("2025")
    assert chat.state["answers"]["q_done_when"] == "2025"
    assert chat.state["step"] == "q_court"


def test_an_older_case_checks_the_sentence_against_its_one_date(chat):
    _to_when(chat, GUILTY)
    chat.say("2015")  # not recent: no "when did it end", the one date stands for both
    assert chat.state["step"] == "q_done"
    chat.say("1" if chat.lang == "en" else "si")

    refused = chat.say("2014")

    assert refused == chat.text("chat.miss.sentence_early", year="2015")
    chat.say("2015")  # the same year may be both
    assert chat.state["step"] == "q_court"


def test_a_case_still_open_is_not_followed_by_do_you_have_an_open_case(chat):
    """Someone who just said their case is still open was asked "Do you have an open criminal
    case now?", whose answer changed nothing in the result."""
    chat.say("2")
    for answer in (PARAPHERNALIA, ONLY_THIS, "6"):  # 6: still open
        chat.say(answer)
    chat.say("2021")

    result = chat.say(BALTIMORE_CITY)

    assert chat.state["step"] == "result"
    assert chat.text("chat.q_open") not in result
    assert chat.text("reason.case_open") in result
