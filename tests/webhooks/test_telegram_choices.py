"""Buttons a person on Telegram needs where they are: after a miss, between topics, after a
result. Real Bot API update JSON to /telegram/webhook; the reply is what Telegram shows."""
# ruff: noqa: F811 - pytest fixtures imported from tests.fakes.channels

from __future__ import annotations

import itertools
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.fakes.channels import (  # noqa: F401 - fixtures
    channel_app,
    channel_client,
    post_update,
    tg_callback_update,
    tg_message_update,
)

#: One chat per test (the per-chat throttle counts each chat's messages for a minute).
_chats = itertools.count(66001)


class TelegramChat:
    """One person in a private chat with the bot, pressing buttons and typing."""

    def __init__(self, client: FlaskClient, language_code: str) -> None:
        self.client = client
        self.language_code = language_code
        self.chat_id = next(_chats)

    def type(self, text: str) -> dict[str, Any]:
        """Send a typed message; return the bot's inline ``sendMessage`` reply."""
        update = tg_message_update(text, user_id=self.chat_id, language_code=self.language_code)
        return self._post(update)

    def press(self, callback_data: str) -> dict[str, Any]:
        """Press an inline button under one of the bot's messages."""
        update = tg_callback_update(
            callback_data, user_id=self.chat_id, language_code=self.language_code
        )
        return self._post(update)

    def _post(self, update: dict[str, Any]) -> dict[str, Any]:
        response = post_update(self.client, update)
        assert response.status_code == 200
        reply = response.get_json()
        assert reply["method"] == "sendMessage"
        return reply


def keyboard(reply: dict[str, Any]) -> list[tuple[str, str]]:
    """The inline keyboard under a reply, as (label, callback data), one button a row."""
    rows = reply.get("reply_markup", {}).get("inline_keyboard", [])
    return [(button["text"], button["callback_data"]) for row in rows for button in row]


def press_label(chat: TelegramChat, reply: dict[str, Any], label: str) -> dict[str, Any]:
    """Press the button shown with ``label`` under ``reply``."""
    return chat.press(dict(keyboard(reply))[label])


# ---- "I did not understand" comes with the question's buttons ------------------------------

MISS_NUMBER = {
    "en": "Sorry, I did not get that. Please reply with a number from 1 to 5.",
    "es": "Perdón, no entendí. Responda con un número del 1 al 5.",
}


@pytest.mark.parametrize("lang", ["en", "es"])
def test_an_answer_not_understood_gets_the_questions_buttons_again(channel_client, lang):
    chat = TelegramChat(channel_client, lang)
    chat.type("/start")
    question = chat.press("menu:2")  # I don't know my case number: the charge question

    missed = chat.type("the one with the cop")

    assert missed["text"] == MISS_NUMBER[lang]
    assert keyboard(missed) == keyboard(question)
    assert [value for _, value in keyboard(missed)] == [f"q_charge:{n}" for n in range(1, 6)]
    answered = chat.press(keyboard(missed)[0][1])  # a button under the miss answers it
    assert [value for _, value in keyboard(answered)] == ["q_other:1", "q_other:2", "q_other:3"]


def test_a_date_not_understood_offers_not_sure_again(channel_client):
    chat = TelegramChat(channel_client, "en")
    chat.type("/start")
    chat.press("menu:2")
    chat.press("q_charge:1")
    chat.press("q_other:2")
    chat.press("q_outcome:3")  # dropped: next, when it happened

    missed = chat.type("a long time ago")

    assert missed["text"] == (
        "Sorry, I could not read that date. Try a year, like 2015. Or reply NOT SURE."
    )
    assert keyboard(missed) == [("Not sure", "q_when:not sure")]
    assert "Where was the case?" in press_label(chat, missed, "Not sure")["text"]


def test_a_yes_or_no_not_understood_offers_yes_and_no_again(channel_client):
    chat = TelegramChat(channel_client, "en")
    chat.type("/start")
    chat.press("menu:4")  # talk to a person: share the summary?

    missed = chat.type("what would you share?")

    assert missed["text"] == "Sorry, I did not get that. Please reply YES or NO."
    assert keyboard(missed) == [("Yes", "handoff_confirm:yes"), ("No", "handoff_confirm:no")]


# ---- the options explainer: topics as buttons -------------------------------------------

LEARN_BUTTONS = {
    "en": [
        "Pardon",
        "Expungement",
        "Shielding",
        "What employers see",
        "Free legal help",
        "Prison, or no pardon",
    ],
    "es": [
        "Indulto",
        "Borrar el récord",
        "Ocultar el récord",
        "Lo que ven los empleadores",
        "Ayuda legal gratis",
        "Prisión, o sin indulto",
    ],
}


@pytest.mark.parametrize("lang", ["en", "es"])
def test_after_a_topic_the_other_topics_are_buttons(channel_client, lang):
    chat = TelegramChat(channel_client, lang)
    chat.type("/start")
    topics = chat.press("menu:3")

    pardon = press_label(chat, topics, LEARN_BUTTONS[lang][0])

    assert ("forgives the crime" if lang == "en" else "indultó (perdonó)") in pardon["text"]
    assert keyboard(pardon) == [
        (label, f"learn:{n}") for n, label in enumerate(LEARN_BUTTONS[lang], start=1)
    ]
    help_topic = press_label(chat, pardon, LEARN_BUTTONS[lang][4])
    assert "410-547-6537" in help_topic["text"]
    assert [label for label, _ in keyboard(help_topic)] == LEARN_BUTTONS[lang]


# ---- "More detail" pressed twice ----------------------------------------------------------

DETAIL_SENT = {
    "en": "We already sent you more detail. It is in a message above.",
    "es": "Ya le enviamos más detalles. Están en un mensaje más arriba.",
}
EMPLOYERS = {"en": "What employers can see", "es": "Lo que pueden ver los empleadores"}


@pytest.mark.parametrize("lang", ["en", "es"])
def test_more_detail_pressed_again_says_it_was_sent_and_offers_the_next_steps(
    channel_client, lang
):
    chat = TelegramChat(channel_client, lang)
    chat.type("/start")
    chat.press("menu:2")
    chat.press("q_charge:1")
    chat.press("q_other:2")
    chat.press("q_outcome:3")  # dropped in 2015, in the city, nothing open now
    chat.type("2015")
    chat.press("q_court:1")
    chat.press("q_open:2")

    detail = chat.press("result:1")
    again = chat.press("result:1")

    assert EMPLOYERS[lang] in detail["text"]
    assert again["text"].startswith(DETAIL_SENT[lang])
    assert EMPLOYERS[lang] not in again["text"]
    assert keyboard(again) == keyboard(detail)
    assert [value for _, value in keyboard(again)] == ["result:1", "result:2"]
    person = press_label(chat, again, keyboard(again)[1][0])  # the next steps still work
    assert [value for _, value in keyboard(person)] == [
        "handoff_confirm:yes",
        "handoff_confirm:no",
    ]
