"""Replies residents really type, and the answers they must not get wrong."""

from __future__ import annotations

import itertools

import pytest

from bot.conversation import QUESTIONS
from bot.parsing import parse_option
from bot.render import render, reply_text, to_gsm7
from bot.state import reply_from_json
from knowledge.texts import LANGS, load_catalog
from tests.bot.conftest import DOB, Chat

# ---- the charge: Spanish "para" ("for") is not paraphernalia -------------------------------


@pytest.mark.parametrize(
    "text",
    ["Tener marihuana para vender", "tenía marihuana para vender", "Tenerla para vender",
     "la tenía para vender"],
)  # fmt: skip
def test_spanish_para_vender_is_intent_to_distribute_not_paraphernalia(text):
    assert parse_option(text, QUESTIONS["q_charge"]) == "pwid"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("step", sorted(QUESTIONS))
def test_every_answer_label_typed_back_means_its_own_answer(lang, step):
    catalog = load_catalog(lang)
    for option in QUESTIONS[step]:
        if option.value == "not_sure":
            continue  # "not sure" is read before the options, by is_not_sure
        label = catalog[f"chat.btn.{step}.{option.value}"]

        assert parse_option(label, QUESTIONS[step]) == option.value, label


def test_a_spanish_speaker_who_types_the_intent_answer_is_not_screened_as_paraphernalia():
    c = Chat()
    c.say("hola")
    c.say("2")

    c.say("Tener marihuana para vender")

    assert c.state["answers"]["q_charge"] == "pwid"


# ---- the court: another county is not Baltimore County; outside Maryland is outside --------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Montgomery County", "other_md"), ("Anne Arundel County", "other_md"),
        ("Howard county", "other_md"), ("PG county", "other_md"),
        ("Prince George's County", "other_md"), ("condado de Montgomery", "other_md"),
        ("outside of Maryland", "outside"), ("out of Maryland", "outside"),
        ("not in Maryland", "outside"), ("no fue en Maryland", "outside"),
        ("out of state", "outside"),
        # still right:
        ("county", "baltimore_county"), ("Baltimore County", "baltimore_county"),
        ("city", "baltimore_city"), ("another county", "other_md"), ("DC", "outside"),
    ],
)  # fmt: skip
def test_the_court_answer_names_the_right_place(text, expected):
    assert parse_option(text, QUESTIONS["q_court"]) == expected


def test_a_montgomery_county_case_is_not_sent_to_a_baltimore_county_court():
    c = Chat()
    c.say("hi")
    c.say("1")
    for answer in ("2", "1", "2", "1", "2016", "yes", "2017"):
        c.say(answer)

    result = c.say("Montgomery County")
    result += c.say("no")

    assert c.state["answers"]["q_court"] == "other_md"
    assert "Baltimore County" not in result


# ---- the menu: option 2's own words ------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "text"),
    [("en", "I don't know my case number"), ("en", "i dont know my case number"),
     ("en", "no case number"), ("en", "I don't have a case number"),
     ("es", "No sé mi número de caso"), ("es", "no tengo número de caso")],
)  # fmt: skip
def test_typing_menu_option_two_starts_the_questions_not_the_case_number(lang, text):
    c = Chat()
    c.say("hi")
    c.say("1" if lang == "en" else "2")

    reply = c.say(text)

    assert c.state["step"] == "q_charge"
    assert c.text("chat.q.intro") in reply


@pytest.mark.parametrize("lang", LANGS)
def test_every_menu_label_typed_back_goes_where_it_says(lang):
    catalog = load_catalog(lang)
    expected = {"case": "case_number", "questions": "q_charge", "learn": "learn",
                "person": "handoff_confirm"}  # fmt: skip
    for value, step in expected.items():
        c = Chat()
        c.say("hi")
        c.say("1" if lang == "en" else "2")

        c.say(catalog[f"chat.btn.menu.{value}"])

        assert c.state["step"] == step, value


# ---- case numbers as people type them ----------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["0B01234567.", "Case 0B01234567", "case # 0B01234567", "Case #: 0B01234567",
     "my case number is 0B01234567", "0B01234567, thanks", '"0B01234567"', "(0B01234567)",
     "mi número de caso es 0B01234567"],
)  # fmt: skip
def test_a_case_number_inside_a_short_sentence_is_found(typed):
    c = Chat()
    c.say("hi")
    c.say("1")
    c.say("1")

    c.say(typed)
    c.say("03/25/1985")

    assert c.lookup.calls == [("0B01234567", DOB, c.sender)]
    assert c.state["step"] == "found_open"


def test_a_different_case_is_never_guessed_from_extra_characters():
    c = Chat()
    c.say("hi")
    c.say("1")
    c.say("1")

    c.say("0B01234567 and 0B07654321")

    assert c.state["step"] == "case_number"
    assert c.lookup.calls == []


# ---- erasure: DELETE works when the reminder comes, long after the chat was forgotten -----


def _with_reminder(lang: str) -> Chat:
    c = Chat()
    c.say("hi")
    c.say("1" if lang == "en" else "2")
    c.say("1")
    c.say("0B07654321")
    c.say("skip")
    c.say("no")
    c.say("2")
    c.say("yes" if lang == "en" else "sí")
    assert len(c.store.reminders) == 1
    return c


@pytest.mark.parametrize(
    ("lang", "word", "yes"), [("en", "DELETE", "YES"), ("es", "BORRAR", "SÍ")]
)
def test_delete_after_the_chat_expired_still_erases_the_reminder(lang, word, yes):
    c = _with_reminder(lang)
    c.wait(days=40)  # the reminder said "Text DELETE at any time to cancel"

    asked = c.say(word)
    c.say(yes)

    assert c.text("chat.delete.confirm") in asked
    assert c.lang == lang
    assert c.store.reminders == []


# ---- DELETE or LANG sent twice ----------------------------------------------------------


def test_delete_sent_twice_then_no_goes_back_instead_of_asking_again(chat):
    chat.say("2")  # at the first question
    word = "DELETE" if chat.lang == "en" else "BORRAR"
    chat.say(word)
    chat.say(word)

    kept = chat.say("no")

    assert chat.text("chat.delete.confirm") not in kept
    assert chat.state["step"] == "q_charge"


def test_lang_sent_twice_returns_to_the_same_question(chat):
    chat.say("2")  # at the first question
    chat.say("LANG")
    chat.say("LANG")

    reply = chat.say("1")

    assert chat.state["step"] == "q_charge"
    assert chat.text("chat.q_charge") in reply


# ---- the 2019 list status: a date in words, in the person's language ---------------------


def test_the_vacatur_list_status_is_written_in_the_persons_language():
    c = Chat(channel="telegram", lang_hint="es")
    c.say("/start")
    c.say("1")
    c.say("0B01234567")
    c.say("03/25/1985")

    result = c.say("no")

    assert "26 de abril de 2019" in result
    assert "2019-04-26" not in result
    assert "denied" not in result


# ---- a year the law changes in: ask the month, never guess -----------------------------


def _guilty_in(year: str) -> Chat:
    """Possession, nothing else, guilty in ``year`` (a recent case also ends that year),
    sentence over in 2024, Baltimore City."""
    c = Chat()
    c.say("hi")
    c.say("1")
    c.say("2")
    ended = (year,) if int(year) >= 2020 else ()
    for answer in ("1", "2", "1", year, *ended, "1", "2024", "1", "2"):
        c.say(answer)
    return c


def test_a_year_the_law_changes_in_asks_for_the_month():
    """Possession charged before 1 July 2023 was cleared by the state; after, it needs a
    petition. "2023" read as 31 December would tell someone cleared to file."""
    c = _guilty_in("2023")

    assert c.state["step"] == "q_month"
    assert c.last is not None
    assert c.last.messages[-1].text == c.text("chat.q_month", year="2023")


@pytest.mark.parametrize(("month", "cleared"), [("March", True), ("11/2023", False)])
def test_the_month_settles_whether_the_state_already_cleared_it(month, cleared):
    c = _guilty_in("2023")

    result = c.say(month)

    assert c.state["step"] == "result"
    assert c.state["answers"]["q_when"] == ("2023-03" if cleared else "2023-11")
    assert ("July 1, 2024" in result) is cleared
    assert c.text("chat.result.date_unclear") not in result


def test_not_sure_of_the_month_says_a_lawyer_must_check():
    c = _guilty_in("2023")

    result = c.say("not sure")

    assert c.state["step"] == "result"
    assert c.text("chat.result.date_unclear") in result


def test_a_month_of_another_year_is_asked_again():
    c = _guilty_in("2023")

    again = c.say("5/2019")

    assert c.state["step"] == "q_month"
    assert again == c.text("chat.miss.month", year="2023")


def test_a_year_the_law_does_not_change_in_goes_straight_to_the_result():
    c = _guilty_in("2015")

    assert c.state["step"] == "result"


# ---- "stop texting me" is not the STOP keyword: say the word that works --------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [("Please stop texting me", "en"), ("delete my data please", "en"),
     ("no me escriban mas", "es"), ("borren mis datos", "es")],
)  # fmt: skip
def test_a_sentence_asking_to_stop_is_told_the_word_that_works(text, lang):
    c = Chat()
    c.say("hi")

    reply = c.say(text)

    assert c.lang == lang
    assert reply == c.text("chat.stop_hint.sms")
    assert c.state["misses"] == 0


@pytest.mark.parametrize(
    "text", ["How do I delete my record?", "can I remove my conviction", "borrar mis antecedentes"]
)
def test_asking_how_to_clear_a_record_is_not_taken_for_stop(text):
    c = Chat()
    c.say("hi")
    c.say("1")

    reply = c.say(text)

    assert c.text("chat.stop_hint.sms") not in reply


# ---- a result's section heading stays with its first line ----------------------------------


def _headings(lang: str) -> set[str]:
    catalog = load_catalog(lang)
    texts = {v.strip() for k, v in catalog.items() if k.startswith("explain.heading.")}
    return texts | {to_gsm7(t) for t in texts}


def test_no_message_ends_with_a_section_heading(chat):
    """Packed greedily, "What a lawyer should check:" ended one SMS and its first item began
    the next; each heading now opens the message that holds its first line."""
    chat.say("1")  # check a case number
    chat.say("0B01234567")
    chat.say(DOB.isoformat())
    result = chat.send("3").messages  # an open case now: not sure
    detail = chat.send("1").messages  # more detail
    headings = _headings(chat.lang)
    assert any(h in m.text for m in detail for h in headings)  # the detail has sections

    for message in (*result, *detail):
        last_paragraph = message.text.rstrip().split("\n\n")[-1]

        assert last_paragraph not in headings, message.text


# ---- the court's place in Spanish -----------------------------------------------------------


def test_a_spanish_result_names_the_court_of_la_ciudad_de_baltimore_in_spanish():
    """It said "el tribunal de Baltimore City" in the middle of a Spanish sentence."""
    c = Chat(channel="telegram")
    c.say("hi")
    c.say("2")  # español
    c.say("1")  # check a case number
    c.say("0B01234567")
    c.say(DOB.isoformat())
    result = c.say("3")  # an open case now: not sure

    assert "el Tribunal de Distrito de Maryland para la Ciudad de Baltimore" in result
    assert "Baltimore City" not in result


def test_a_reason_arrives_in_the_same_message_as_the_route_it_explains(chat):
    """Joined greedily, "This route needs only one conviction in your life" came in the text
    after the route it was about."""
    chat.say("1")  # check a case number
    chat.say("0B01234567")
    chat.say(DOB.isoformat())
    chat.say("3")  # an open case now: not sure
    replies = [reply_from_json(r) for r in chat.state["result"]["summary"]]
    messages = [m.text for m in render(replies, chat.channel, chat.lang)]
    pairs = [
        (reply_text(item, chat.lang), reply_text(note, chat.lang))
        for item, note in itertools.pairwise(replies)
        if note.key.startswith(("reason.", "step.")) and item.key.startswith("explain.")
    ]
    assert pairs  # the result has routes with reasons
    if chat.channel == "sms":
        pairs = [(to_gsm7(item), to_gsm7(note)) for item, note in pairs]

    for item, note in pairs:
        assert any(item in m and note in m for m in messages), (item, note)
