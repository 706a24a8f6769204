"""Transcript tests: every flow of DESIGN.md section 4, both languages, SMS and Telegram."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import conversation
from bot.render import is_gsm7, sms_segments
from tests.bot.conftest import DOB, Chat


def assert_channel_rules(c: Chat) -> None:
    for message in c.last.messages:
        if c.channel == "sms":
            assert is_gsm7(message.text)
            assert sms_segments(message.text) <= 3
            assert message.buttons == ()


# ---- welcome, language, privacy, menu ----------------------------------------------------


def test_first_contact_on_sms_welcomes_and_asks_the_language_in_both():
    c = Chat()

    reply = c.say("hi")

    assert "RecordCheck Baltimore" in reply
    assert "not legal advice" in reply
    assert "Reply 1 for English" in reply
    assert "Responda 2 para español" in reply  # ñ is GSM-7


def test_choosing_spanish_gives_the_privacy_line_and_the_menu_in_spanish():
    c = Chat()
    c.say("hi")

    reply = c.say("dos")

    assert c.lang == "es"
    assert "30 dias" in reply
    assert "BORRAR" in reply
    assert "1 Buscar un numero de caso" in reply


def test_telegram_preselects_the_language_and_shows_buttons():
    c = Chat(channel="telegram", lang_hint="es-MX")

    result = c.send("/start")

    assert result.lang == "es"
    text = "\n".join(m.text for m in result.messages)
    assert "Su privacidad" in text
    assert "días" in text  # Telegram keeps accents
    assert [b.value for b in result.messages[-1].buttons] == [
        "menu:1",
        "menu:2",
        "menu:3",
        "menu:4",
    ]
    assert result.messages[-1].buttons[0].label == "Buscar un número de caso"


def _buttons(result) -> dict[str, str]:
    return {b.label: b.value for m in result.messages for b in m.buttons}


def test_a_press_on_an_earlier_questions_button_asks_the_current_question_again():
    """Telegram keeps every message's buttons: "Guilty" under the charge question, pressed
    while the bot waits for the outcome, must not be taken as the outcome."""
    c = Chat(channel="telegram", lang_hint="en-US")
    c.send("/start")
    to_questions = c.send("menu:2", kind="button")
    charges = _buttons(to_questions)
    other_charges = _buttons(c.send(charges["Having marijuana"], kind="button"))
    at_outcome = c.send(other_charges["No, just this one"], kind="button")
    assert c.state["step"] == "q_outcome"

    stale = c.send(charges["Having marijuana"], kind="button")

    assert c.state["step"] == "q_outcome"
    assert "q_outcome" not in c.state["answers"]
    assert stale.messages[0].text.startswith(c.text("chat.button_stale"))
    assert _buttons(stale) == _buttons(at_outcome)


def test_a_menu_button_pressed_later_does_what_it_says():
    """Menu buttons stay on the screen: "Check a case number" tapped halfway through the
    questions used to get "That button was for an earlier question"."""
    c = Chat(channel="telegram", lang_hint="en-US")
    menu = _buttons(c.send("/start"))
    c.send(menu["I don't know my case number"], kind="button")
    c.send("q_charge:1", kind="button")
    assert c.state["step"] == "q_other"

    pressed = c.send(menu["Check a case number"], kind="button")

    assert c.state["step"] == "case_number"
    assert not pressed.messages[0].text.startswith(c.text("chat.button_stale"))


def test_a_press_on_the_current_questions_button_answers_it():
    c = Chat(channel="telegram", lang_hint="en-US")
    c.send("/start")
    c.send("menu:2", kind="button")

    c.send("q_charge:1", kind="button")

    assert c.state["answers"]["q_charge"] == "possession"
    assert c.state["step"] == "q_other"


def test_a_spanish_greeting_on_sms_is_answered_in_spanish():
    c = Chat()

    reply = c.say("Hola")

    assert c.lang == "es"
    assert "Hola" in reply
    assert "Buscar un numero de caso" in reply


def test_welcome_and_menu_in_each_language_and_channel(chat):
    assert chat.state["step"] == "menu"
    assert chat.text("chat.menu") in chat.say("MENU")
    assert_channel_rules(chat)


# ---- case number lookup -----------------------------------------------------------------


def test_case_number_lookup_gives_a_cited_answer_and_next_steps(chat):
    chat.say("1")

    assert chat.text("chat.dob.ask") in chat.say("0b 0123-4567")
    found = chat.say("March 25, 1985")
    assert "0B01234567" in found
    result = chat.say("no")

    assert "§ 10-105(a)(12)" in result
    assert "410-260-1392" in result
    # Nothing to wait for here, so no reminder is offered.
    assert chat.text("chat.result.next_now") in result
    assert chat.text("chat.btn.result.remind") not in result
    assert "2019" in result  # the 2019 vacatur list status is shown
    assert chat.state["step"] == "result"
    assert chat.lookup.calls == [("0B01234567", DOB, chat.sender)]
    assert_channel_rules(chat)


def test_the_date_of_birth_must_match_and_failures_look_like_not_found(chat):
    chat.say("1")
    chat.say("0B01234567")

    reply = chat.say("01/01/1990")

    assert chat.text("chat.lookup.not_found") in reply
    assert "casesearch.courts.state.md.us" in reply
    assert chat.state["step"] == "not_found"


def test_an_unknown_case_offers_the_questions_instead(chat):
    chat.say("1")
    chat.say("0B99999999")
    not_found = chat.say("skip")

    assert chat.text("chat.lookup.not_found") in not_found
    assert chat.text("chat.q_charge") in chat.say("1")


def test_not_sure_after_a_case_is_not_found_starts_the_questions(chat):
    """ "I don't know" (what else to try) used to be "reply with a number"."""
    chat.say("1")
    chat.say("0B99999999")
    chat.say("skip")

    reply = chat.say("not sure" if chat.lang == "en" else "no sé")

    assert chat.state["step"] == "q_charge"
    assert chat.text("chat.q_charge") in reply


def test_a_record_without_date_of_birth_is_found_even_when_skipped(chat):
    chat.say("1")
    chat.say("0B07654321")

    assert "0B07654321" in chat.say("skip")


def test_a_bad_case_number_is_a_misunderstanding(chat):
    chat.say("1")

    assert chat.text("chat.case.bad") in chat.say("hello!!")
    assert chat.state["misses"] == 1


def test_a_locked_out_sender_is_told_to_wait(chat):
    chat.lookup.locked = True
    chat.say("1")
    chat.say("0B01234567")

    reply = chat.say("03/25/1985")

    assert chat.text("chat.lookup.locked") in reply
    assert chat.state["step"] == "menu"


# ---- reminders and handoff ----------------------------------------------------------------


def test_a_later_date_can_be_remembered_as_a_reminder(chat):
    chat.say("1")
    chat.say("0B07654321")
    chat.say("skip")
    chat.say("no")

    confirm = chat.say("2")
    saved = chat.say("yes" if chat.lang == "en" else "sí")

    assert chat.text("chat.remind.confirm", date="2028-06-01") in confirm
    assert "2028" in saved
    (reminder,) = chat.store.reminders
    assert reminder["due_on"] == dt.date(2028, 6, 1)
    assert reminder["pathway"] == "petition_listed_conviction"
    assert reminder["address"] == b"encrypted-address"
    assert reminder["lang"] == chat.lang


#: The words a saved reminder's confirmation gives to cancel it, by channel and language: the
#: keyword on SMS, the command of Telegram's "/" menu (webhooks/telegram_cli.py).
CANCEL_WORDS = {
    ("sms", "en"): "Text DELETE at any time to cancel.",
    ("sms", "es"): "Escriba BORRAR cuando quiera para cancelar.",
    ("telegram", "en"): "Send /delete at any time to cancel.",
    ("telegram", "es"): "Envíe /borrar cuando quiera para cancelar.",
}


def test_a_saved_reminder_names_the_cancel_command_of_its_channel(chat):
    """It said "Text DELETE" on Telegram too, where people send the /delete command."""
    chat.say("1")
    chat.say("0B07654321")
    chat.say("skip")
    chat.say("no")
    chat.say("2")

    saved = chat.say("yes" if chat.lang == "en" else "sí")
    words = CANCEL_WORDS[(chat.channel, chat.lang)]
    command = words.split()[1]
    # The Telegram adapter passes its own menu's commands as "command", others as text.
    asked = chat.say(command, kind="command" if command == "/delete" else "text")

    assert words in saved
    assert chat.text("chat.delete.confirm") in asked


def test_a_result_with_a_date_offers_the_reminder(chat):
    chat.say("1")
    chat.say("0B07654321")
    chat.say("skip")

    assert chat.text("chat.result.next") in chat.say("no")


def test_no_reminder_is_offered_when_there_is_no_date_and_2_means_a_person(chat):
    chat.say("1")
    chat.say("0B01234567")
    chat.say("03/25/1985")
    chat.say("no")

    asked = chat.say("2")
    chat.say("menu")
    chat.say("1")
    chat.say("0B01234567")
    chat.say("03/25/1985")
    chat.say("no")
    typed = chat.say("remind me" if chat.lang == "en" else "recordatorio")

    assert chat.text("chat.handoff.ask") in asked
    assert chat.state["step"] == "result"
    assert chat.text("chat.remind.none") in typed
    assert chat.store.reminders == []


def test_no_reminder_without_a_clear_yes(chat):
    chat.say("1")
    chat.say("0B07654321")
    chat.say("skip")
    chat.say("no")
    chat.say("2")

    assert chat.text("chat.remind.cancelled") in chat.say("no")
    assert chat.store.reminders == []


def test_talk_to_a_person_shares_a_summary_only_after_consent(chat):
    chat.say("1")
    chat.say("0B01234567")
    chat.say("03/25/1985")
    chat.say("no")

    ask = chat.say("2")  # no date to wait for: 1 More detail, 2 Talk to a person
    done = chat.say("yes" if chat.lang == "en" else "si")

    assert "0B01234567" in ask
    assert chat.text("chat.handoff.done") in done
    (handoff,) = chat.store.handoffs
    assert "Case number: 0B01234567" in handoff["summary"]
    assert handoff["lang"] == chat.lang


def test_declining_the_handoff_stores_nothing(chat):
    chat.say("4")

    assert chat.text("chat.handoff.declined") in chat.say("no")
    assert chat.store.handoffs == []


# ---- the questions path -------------------------------------------------------------------


def test_every_question_accepts_not_sure_and_leads_to_review(chat):
    chat.say("2")
    answers = ["not sure", "idk", "no sé", "?", "not sure", "no se"]
    for answer in answers:
        chat.say(answer)

    result = chat.state["result"]
    assert result["verdict"] == "needs_review"
    assert result["self_reported"] is True
    assert chat.text("chat.result.likely") in chat.last.messages[0].text


def test_the_question_path_gives_a_likely_answer(chat):
    chat.say("2")
    steps = [
        ("1", "q_other"),
        ("no" if chat.lang == "en" else "2", "q_outcome"),
        ("guilty" if chat.lang == "en" else "culpable", "q_when"),
        ("march 2016" if chat.lang == "en" else "marzo 2016", "q_done"),
        ("yes" if chat.lang == "en" else "si", "q_done_when"),
        ("2017", "q_court"),
        ("Baltimore City", "q_open"),
    ]
    for answer, next_step in steps:
        chat.say(answer)
        assert chat.state["step"] == next_step

    result = chat.say("no")

    assert chat.text("chat.result.likely") in result
    assert chat.state["result"]["verdict"] == "act_now"
    assert chat.state["answers"]["q_when"] == "2016-03"
    assert "§ 10-105(a)(12)" in result
    assert_channel_rules(chat)


def test_dropped_cases_skip_the_sentence_questions(chat):
    chat.say("2")
    chat.say("1")
    chat.say("2")

    chat.say("3")  # dropped

    assert chat.state["step"] == "q_when"
    chat.say("2019")
    assert chat.state["step"] == "q_court"


def test_back_returns_to_the_previous_question(chat):
    chat.say("2")
    chat.say("1")

    reply = chat.say("BACK" if chat.lang == "en" else "atrás")

    assert chat.state["step"] == "q_charge"
    assert chat.text("chat.q_charge") in reply


# ---- options explainer ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "key"),
    [
        ("1", "pardon"),
        ("2", "expungement"),
        ("3", "shielding"),
        ("4", "employers"),
        ("5", "help"),
        ("6", "other"),
    ],
)
def test_the_options_explainer(chat, number, key):
    chat.say("3")

    reply = chat.say(number)

    assert chat.text(f"chat.learn.{key}") in reply
    # A topic that states the law says what it rests on; the phone list states none.
    law_line = "The law:" if chat.lang == "en" else "La ley:"
    if key == "help":
        assert law_line not in reply
    else:
        assert chat.text(f"chat.learn.law.{key}") in reply
        assert law_line in reply
    assert_channel_rules(chat)


def test_the_explainer_covers_relief_the_screening_leaves_out(chat):
    # Law file P8 (an individual pardon for records the 2024 order missed, S12, S27) and P10
    # (resentencing; CR § 5-613.1's deadline of 2026-09-30, later only for good cause, S35).
    chat.say("3")

    reply = chat.say("jail" if chat.lang == "en" else "carcel")

    assert chat.state["step"] == "learn"
    assert "410-585-3200" in reply  # the Parole Commission's pardon forms
    assert "2026" in reply
    assert "§ 5-613.1" in reply
    reply = chat.say("7")
    assert ("1 to 6" if chat.lang == "en" else "1 al 6") in reply


def test_the_employers_explainer_says_federal_jobs_can_still_see_an_erased_case(chat):
    # Law file section 5: no employer may require disclosure of an expunged charge, but
    # federal agencies, security clearances and the military can still see it (S42).
    chat.say("3")

    reply = chat.say("4").lower()

    assert "federal" in reply  # "federal jobs" / "empleos federales"
    assert "military" in reply or "militares" in reply


# ---- global commands ----------------------------------------------------------------------


def test_help_lists_the_commands_and_repeats_the_question(chat):
    chat.say("2")

    reply = chat.say("HELP" if chat.lang == "en" else "AYUDA")

    assert chat.text(f"chat.help.{'sms' if chat.channel == 'sms' else 'other'}") in reply
    assert chat.text("chat.q_charge") in reply


def test_lang_switches_language_and_returns_to_the_same_question(chat):
    chat.say("2")
    other = "2" if chat.lang == "en" else "1"

    chat.say("LANG" if chat.lang == "en" else "IDIOMA")
    reply = chat.say(other)

    assert chat.lang != ("en" if other == "2" else "es")
    assert chat.state["step"] == "q_charge"
    assert chat.text("chat.q_charge") in reply


def test_restart_forgets_answers_but_keeps_the_language(chat):
    chat.say("2")
    chat.say("1")

    chat.say("RESTART" if chat.lang == "en" else "reiniciar")

    assert chat.state["step"] == "menu"
    assert chat.state["answers"] == {}
    assert chat.state["lang"] == chat.lang


def test_delete_asks_first_and_then_erases_everything(chat):
    chat.say("4")
    chat.say("yes")
    assert chat.store.handoffs

    ask = chat.say("DELETE" if chat.lang == "en" else "BORRAR")
    done = chat.say("yes" if chat.lang == "en" else "sí")

    assert chat.text("chat.delete.confirm") in ask
    assert chat.text("chat.delete.done") in done
    assert chat.store.conversations == {}
    assert chat.store.handoffs == []
    assert all(row["sender_hash"] is None for row in chat.store.processed.values())


def test_delete_then_no_keeps_everything(chat):
    chat.say("2")
    chat.say("DELETE")

    reply = chat.say("no")

    assert chat.text("chat.delete.kept") in reply
    assert chat.state["step"] == "q_charge"


def test_three_misunderstandings_offer_the_menu_and_a_person(chat):
    chat.say("2")
    chat.say("purple")
    chat.say("banana")

    reply = chat.say("xyz")

    assert chat.text("chat.miss.offer") in reply
    assert chat.state["step"] == "menu"
    assert chat.state["misses"] == 0


@pytest.mark.parametrize("word", ["STOP", "/stop"])
def test_stop_on_telegram_says_how_to_erase_instead_of_showing_the_menu(word):
    """STOP on Telegram showed the menu, as if the word meant nothing to us."""
    c = Chat(channel="telegram")
    c.say("hi")
    c.say("2")  # español
    c.say("1")  # check a case number

    reply = c.say(word)

    assert reply == c.text("chat.stop_hint.chat")
    assert c.state["step"] == "case_number"


def test_stop_on_sms_is_left_to_twilio():
    c = Chat()
    c.say("hi")

    assert c.send("STOP").messages == ()


def test_media_gets_a_text_please(chat):
    reply = chat.say("", kind="media")

    assert chat.text("chat.media") in reply


# ---- resuming -----------------------------------------------------------------------------


def test_after_a_day_away_a_short_welcome_back(chat):
    chat.say("2")
    chat.wait(hours=25)

    reply = chat.say("hi")

    assert reply.startswith(chat.text("chat.welcome_back"))
    assert chat.text("chat.q_charge") in reply
    assert chat.state["step"] == "q_charge"


def test_an_answer_after_a_day_away_still_counts(chat):
    chat.say("2")
    chat.wait(hours=30)

    reply = chat.say("1")

    assert reply.startswith(chat.text("chat.welcome_back"))
    assert chat.state["step"] == "q_other"


def test_after_thirty_days_the_conversation_starts_afresh(chat):
    chat.say("2")
    chat.wait(days=31)

    reply = chat.say("hi")

    assert "RecordCheck Baltimore" in reply
    assert chat.state["step"] == "lang"


# ---- robustness -------------------------------------------------------------------------


def test_a_crash_in_a_step_apologises_shows_the_menu_and_keeps_the_state(
    chat, monkeypatch, caplog
):
    chat.say("2")
    chat.say("1")
    before = dict(chat.state)

    def broken(state, inbound, ctx):
        raise RuntimeError("secret body 0B01234567")

    monkeypatch.setitem(conversation.STEPS, "q_other", broken)
    reply = chat.say("0B01234567 is my case")

    assert chat.text("chat.error") in reply
    assert chat.text("chat.menu") in reply
    assert chat.state["answers"] == before["answers"]
    assert chat.state["step"] == "menu"
    assert "0B01234567" not in caplog.text
    assert "RuntimeError" in str([r.__dict__.get("exc_type") for r in caplog.records])


def test_a_provider_retry_gets_the_same_answer_and_changes_nothing(chat):
    first = chat.send("2", message_id="SM-retry")
    state = dict(chat.state)

    again = chat.send("2", message_id="SM-retry")

    assert again.duplicate is True
    assert again.messages == first.messages
    assert chat.state == state


def test_unreadable_stored_state_starts_afresh():
    c = Chat()
    c.store.conversations[("sms", c.sender)] = {
        "state": {"v": 1, "step": 42, "answers": "oops"},
        "version": 3,
        "updated_at": None,
    }

    assert "RecordCheck Baltimore" in c.say("hi")


@pytest.mark.parametrize(
    "text",
    ["", " ", "\U0001f600", "1" * 500, "MENU MENU", "¿¡", "0B01234567", "2/30/2015", "null"],
)
def test_odd_messages_never_crash_any_step(text):
    for step in conversation.STEPS:
        c = Chat()
        c.say("hi")
        c.say("1")
        c.store.conversations[("sms", c.sender)]["state"]["step"] = step
        assert c.send(text).messages is not None


@pytest.mark.parametrize("data", ["no_such_step:1", "q_outcome:", ":1", "q_charge:1:2"])
def test_a_forged_or_malformed_button_answers_nothing_it_was_not_offered_for(data):
    """Callback data comes from the client: a step we never asked must not answer this one."""
    c = Chat(channel="telegram", lang_hint="en-US")
    c.send("/start")
    c.send("menu:2", kind="button")
    before = dict(c.state["answers"])

    c.send(data, kind="button")

    assert c.state["step"] == "q_charge"
    assert c.state["answers"] == before
