"""A team answer to a handoff request reaches the person with the reply to their next message.

In memory, on the real service: the store counts ``waiting_handoffs`` calls (the query the
database would run), so "no cost for everyone else" is checked message by message.
"""

from __future__ import annotations

import datetime as dt

from bot.model import Reply
from bot.render import render
from bot.state import State
from tests.bot.conftest import Chat

ANSWER = "Hi, this is Dana at the clinic. Your case can be cleared. Call 410-555-0142."


def _yes(chat: Chat) -> str:
    return "yes" if chat.lang == "en" else "sí"


def _ask_for_a_person(chat: Chat) -> None:
    chat.say("4")
    chat.say(_yes(chat))


def _wrapped(chat: Chat, answer: str = ANSWER) -> str:
    return render([Reply("chat.handoff.answer", {"answer": answer})], chat.channel, chat.lang)[
        0
    ].text


def test_the_answer_comes_first_in_the_persons_language_then_the_reply(chat):
    _ask_for_a_person(chat)
    chat.store.answer_handoff(ANSWER)

    said = chat.say("menu")

    assert said.startswith(_wrapped(chat))
    assert said.index(_wrapped(chat)) < said.index(chat.text("chat.menu"))
    assert _wrapped(chat).startswith(
        "A message from our team:" if chat.lang == "en" else "Un mensaje de nuestro equipo:"
    )


def test_the_answer_is_delivered_once_and_a_retry_repeats_it_exactly(chat):
    _ask_for_a_person(chat)
    chat.store.answer_handoff(ANSWER)

    first = chat.send("1", message_id="again")
    delivered_at = chat.store.handoffs[0]["answer_delivered_at"]
    retry = chat.send("1", message_id="again")
    later = chat.say("menu")

    assert retry.duplicate
    assert retry.messages == first.messages
    assert chat.store.handoffs[0]["answer_delivered_at"] == delivered_at is not None
    assert ANSWER not in later
    assert "handoff_waiting" not in chat.state


def test_nobody_else_pays_the_query_after_the_first_message(chat):
    chat.say("1")  # a new conversation looks once: it may follow a purged one
    assert chat.store.handoff_queries == 1

    for line in ("menu", "2", "not sure", "menu", "3", "1", "menu"):
        chat.say(line)

    assert chat.store.handoff_queries == 1
    assert "handoff_waiting" not in chat.state


def test_an_answer_written_after_the_conversation_was_purged_still_arrives(chat):
    _ask_for_a_person(chat)
    chat.store.conversations.clear()  # the retention purge: idle past 30 days
    chat.store.answer_handoff(ANSWER)

    said = chat.say("hi")

    assert said.startswith(_wrapped(chat))
    assert chat.store.handoffs[0]["answer_delivered_at"] is not None
    assert "handoff_waiting" not in chat.state
    assert ANSWER not in chat.say("menu")


def test_a_purged_conversation_waits_again_for_an_unanswered_request(chat):
    _ask_for_a_person(chat)
    chat.store.conversations.clear()

    first = chat.say("hi")
    assert chat.state["handoff_waiting"] is True
    chat.store.answer_handoff(ANSWER)
    second = chat.say("menu")

    assert ANSWER not in first
    assert second.startswith(_wrapped(chat))
    assert "handoff_waiting" not in chat.state


def test_waiting_asks_each_message_until_the_request_is_closed_unanswered(chat):
    _ask_for_a_person(chat)  # the first message's look is the new conversation's
    chat.say("menu")
    chat.say("menu")
    assert chat.store.handoff_queries == 1 + 2
    assert chat.state["handoff_waiting"] is True

    chat.store.handoffs[0]["status"] = "closed"
    chat.say("menu")
    chat.say("menu")

    assert chat.store.handoff_queries == 1 + 3
    assert "handoff_waiting" not in chat.state


def test_a_closed_request_with_an_undelivered_answer_still_delivers_it(chat):
    _ask_for_a_person(chat)
    chat.store.answer_handoff(ANSWER, status="closed")

    assert chat.say("hi").startswith(_wrapped(chat))
    assert "handoff_waiting" not in chat.state


def test_two_requests_deliver_both_answers_in_order_and_wait_for_none():
    chat = Chat(channel="telegram", lang_hint="en")
    chat.say("hi")
    _ask_for_a_person(chat)
    _ask_for_a_person(chat)
    chat.store.answer_handoff("First answer.", index=0)
    chat.store.answer_handoff("Second answer.", index=1)
    menu = chat.text("chat.menu")

    said = chat.say("menu")

    assert said.index("First answer.") < said.index("Second answer.") < said.index(menu)
    assert "handoff_waiting" not in chat.state


def test_an_answer_to_one_request_keeps_waiting_for_the_other():
    chat = Chat(channel="telegram", lang_hint="en")
    chat.say("hi")
    _ask_for_a_person(chat)
    _ask_for_a_person(chat)
    chat.store.answer_handoff("First answer.", index=0)

    assert "First answer." in chat.say("menu")
    assert chat.state["handoff_waiting"] is True


def test_stop_on_sms_delivers_nothing_and_the_next_message_does():
    chat = Chat(channel="sms")
    chat.say("hi")
    chat.say("1")
    _ask_for_a_person(chat)
    chat.store.answer_handoff(ANSWER)

    stopped = chat.send("STOP")
    started = chat.say("START")

    assert stopped.messages == ()
    assert started.startswith(_wrapped(chat))


def test_restart_and_a_long_silence_keep_the_answer_waiting(chat):
    _ask_for_a_person(chat)
    chat.say("RESTART")
    chat.wait(days=45)
    chat.store.answer_handoff(ANSWER)

    assert chat.say("hi").startswith(_wrapped(chat))


def test_the_answer_goes_to_the_same_channel_only():
    sms = Chat(channel="sms")
    telegram = Chat(channel="telegram", sender=sms.sender, store=sms.store, lang_hint="en")
    for line in ("hi", "1", "4", "yes"):
        sms.say(line)
    telegram.say("hi")
    _ask_for_a_person(telegram)
    sms.store.answer_handoff(ANSWER, index=0)  # the SMS request

    assert ANSWER not in telegram.say("menu")
    assert sms.say("menu").startswith(_wrapped(sms))


def test_delete_erases_an_undelivered_answer(chat):
    _ask_for_a_person(chat)
    chat.say("DELETE" if chat.lang == "en" else "BORRAR")  # delivers: any message does
    chat.store.answer_handoff("A second answer, not yet sent.")

    chat.say(_yes(chat))

    assert chat.store.handoffs == []
    assert chat.store.conversations == {}


def test_a_state_stored_before_the_flag_existed_still_loads():
    stored = State(step="q_when", lang="es").to_json()

    loaded = State.from_json(stored)
    flagged = State.from_json({**stored, "handoff_waiting": True})

    assert "handoff_waiting" not in stored
    assert loaded == State(step="q_when", lang="es")
    assert flagged.handoff_waiting is True
    assert State.from_json({**stored, "handoff_waiting": "yes"}).handoff_waiting is False
    assert flagged.to_json()["handoff_waiting"] is True
    assert loaded.last_seen is None or isinstance(loaded.last_seen, dt.datetime)
