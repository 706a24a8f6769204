"""People who answer in their own words, on a basic phone: found in a walk-through of the chat."""

from __future__ import annotations

import re

import pytest

from knowledge.texts import LANGS
from tests.bot.conftest import Chat


def _at_the_charge_question(lang: str = "en") -> Chat:
    c = Chat()
    c.say("hi")
    c.say("1" if lang == "en" else "2")
    c.say("2")
    return c


# ---- the charge in everyday words ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I had weed on me", "possession"), ("weed", "possession"),
        ("marijuana", "possession"), ("a joint", "possession"), ("tenía mota", "possession"),
        ("marihuana", "possession"),
        # the everyday word never hides what the other words say:
        ("marijuana to sell", "pwid"), ("selling weed", "pwid"), ("sold weed", "pwid"),
        ("vendía mota", "pwid"), ("a weed pipe", "paraphernalia"),
        ("rolling papers for weed", "paraphernalia"),
    ],
)  # fmt: skip
def test_the_charge_told_in_everyday_words_is_understood(text, expected):
    c = _at_the_charge_question()

    c.say(text)

    assert c.state["step"] == "q_other"
    assert c.state["answers"]["q_charge"] == expected


@pytest.mark.parametrize("text", ["I don't have my court papers", "no tengo los papeles"])
def test_court_papers_are_not_read_as_paraphernalia(text):
    c = _at_the_charge_question()

    c.say(text)

    assert c.state["step"] == "q_charge"
    assert "q_charge" not in c.state["answers"]


def test_someone_who_says_weed_is_not_sent_back_to_the_menu():
    """Three answers the bot did not understand send a person back to the menu: "weed", said
    three ways, did that before."""
    c = _at_the_charge_question()
    c.say("weed")
    c.say("I had some weed")

    reply = c.say("just weed")

    assert c.state["step"] == "q_other"
    assert c.text("chat.miss.offer") not in reply


# ---- a year inside a sentence ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["I think it was 2015 maybe", "im pretty sure it was 2015", "they got me in 2015",
     "creo que fue en 2015"],
)  # fmt: skip
def test_a_year_inside_a_sentence_is_read(text):
    c = _at_the_charge_question()
    for answer in ("1", "2", "1"):
        c.say(answer)

    c.say(text)

    assert c.state["answers"]["q_when"] == "2015"
    assert c.state["step"] == "q_done"


def test_two_years_in_one_sentence_are_asked_again_not_guessed():
    c = _at_the_charge_question()
    for answer in ("1", "2", "1"):
        c.say(answer)

    reply = c.say("2015 or 2016")

    assert c.state["step"] == "q_when"
    assert reply == c.text("chat.miss.date")


# ---- the question count we promise ---------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_the_intro_promises_no_fewer_questions_than_the_longest_path_asks(lang):
    """Guilty in 2023 (a year the law changes in), ended 2023, sentence over in 2024: every
    question is asked, the month too."""
    c = Chat()
    c.say("hi")
    c.say("1" if lang == "en" else "2")
    intro = c.say("2")
    asked = [c.state["step"]]
    for answer in ("1", "2", "1", "2023", "2023", "1", "2024", "1", "2"):
        c.say(answer)
        asked.append(c.state["step"])
    promised = int(re.findall(r"\d+", c.text("chat.q.intro"))[0])

    assert c.text("chat.q.intro") in intro
    assert asked[-1] == "q_month"
    assert promised >= len(asked)


# ---- SMS: a heading travels with what it heads ---------------------------------------------


HEADINGS = ("done", "coming", "now", "later", "review", "help", "employers")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    "answers",
    [
        # possession, guilty in 2015, sentence over in 2016, Baltimore City
        ("1", "2", "1", "2015", "1", "2016", "1", "2"),
        # possession with other charges, guilty in 2019, over in 2020
        ("1", "1", "1", "2019", "1", "2020", "1", "2"),
        # dropped in 2016
        ("1", "2", "3", "2016", "1", "2"),
    ],
)
def test_no_sms_of_a_result_ends_with_a_heading(lang, answers):
    """On a basic phone each SMS stands alone and may arrive out of order: "Free help:" at
    the end of one text, the numbers in the next, reads as a cut-off message."""
    c = _at_the_charge_question(lang)
    for answer in answers:
        c.say(answer)
    assert c.last is not None
    headings = {c.text(f"explain.heading.{name}") for name in HEADINGS}

    messages = [m.text for m in c.last.messages]
    shown = [h for h in headings if any(h in m for m in messages)]

    assert c.state["step"] == "result"
    assert shown
    assert [m for m in messages if m.rstrip().endswith(tuple(headings))] == []


# ---- "probation": guilty or PBJ? ------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "I got probation"),
        ("en", "probation"),
        ("es", "me dieron probatoria"),
        ("es", "me dieron libertad a prueba"),
    ],
)
def test_probation_is_explained_not_refused_and_not_guessed(lang, text):
    """ "I got probation" fits a guilty finding and a PBJ; most people do not know which."""
    c = _at_the_charge_question(lang)
    c.say("1")
    c.say("2")

    reply = c.say(text)

    assert c.state["step"] == "q_outcome"
    assert "q_outcome" not in c.state["answers"]
    assert reply == c.text("chat.miss.probation")


def test_after_the_probation_explanation_pbj_is_one_number_away():
    c = _at_the_charge_question()
    c.say("1")
    c.say("2")
    c.say("I got probation")

    c.say("2")

    assert c.state["answers"]["q_outcome"] == "pbj"
    assert c.state["step"] == "q_when"


# ---- "Is your sentence over?" in words -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("still on probation", "no"), ("not yet", "no"), ("no, still on probation", "no"),
        ("its not over", "no"), ("todavía no", "no"),
        ("I finished it", "yes"), ("yes its over", "yes"), ("done", "yes"), ("ya terminé", "yes"),
    ],
)  # fmt: skip
def test_whether_the_sentence_is_over_can_be_told_in_words(text, expected):
    c = _at_the_charge_question()
    for answer in ("1", "2", "1", "2015"):
        c.say(answer)

    c.say(text)

    assert c.state["answers"]["q_done"] == expected
    assert c.state["step"] == ("q_done_when" if expected == "yes" else "q_court")


# ---- the month as a bare number -----------------------------------------------------------


def _asked_the_month_of_2023() -> Chat:
    """Possession only, guilty, charged in 2023 (the state cleared cases charged before July
    2023), sentence over in 2024, Baltimore City, no open case."""
    c = _at_the_charge_question()
    for answer in ("1", "2", "1", "2023", "2023", "1", "2024", "1", "2"):
        c.say(answer)
    return c


@pytest.mark.parametrize(
    ("typed", "month", "cleared"), [("3", "2023-03", True), ("11", "2023-11", False)]
)
def test_the_month_typed_as_a_number_is_read(typed, month, cleared):
    """The question says "like 3/2023 or March": on a keypad, "3" is what people send."""
    c = _asked_the_month_of_2023()
    assert c.state["step"] == "q_month"

    result = c.say(typed)

    assert c.state["answers"]["q_when"] == month
    assert c.state["step"] == "result"
    assert ("July 1, 2024" in result) is cleared


def test_a_number_that_is_no_month_is_asked_again():
    c = _asked_the_month_of_2023()

    again = c.say("13")

    assert c.state["step"] == "q_month"
    assert again == c.text("chat.miss.month", year="2023")


# ---- not sure of anything: the answer in brief, the list under "more detail" ----------------


def test_someone_not_sure_of_anything_gets_each_reason_once_and_the_routes_on_request():
    """Every route carried its own "a lawyer should check" and reason: nine texts, the same
    reason four times, before the free help. The result now names each unknown once; the
    routes wait for "more detail"."""
    c = _at_the_charge_question()
    result = ""
    while c.state["step"] != "result":
        result = c.say("not sure")
    unknown_outcome = c.text("reason.disposition_unknown")
    a_route = c.text("explain.review", what=c.text("pathway.petition_cannabis_possession"))

    assert c.state["result"]["verdict"] == "needs_review"
    assert result.count(unknown_outcome) == 1
    assert c.text("help.court_help_center") in result
    assert a_route not in result

    detail = c.say("1")  # more detail

    assert a_route in detail
