"""The conversation's texts: both languages alike, SMS-safe, and plain (Flesch-Kincaid)."""

from __future__ import annotations

import re
import statistics

import pytest

from bot.model import Choice, Reply
from bot.render import is_gsm7, render, sms_segments, to_gsm7
from knowledge.texts import LANGS, load_catalog, placeholders
from tests.readability import fk_grade

#: Realistic, long-ish values for every placeholder the chat texts use.
PARAMS = {
    "max": "7",
    "case_number": "C-24-CR-23-001234",
    "status": "motion denied, 2019-04-26",
    "label": "motion denied",
    "program": "bcsao-2019-vacatur",
    "date": "2027-09-30",
    "day": "30",
    "month": "septiembre",
    "year": "2027",
    "answer": (
        "Hi, this is Dana from the clinic. Your 2016 case can be expunged now. Call us at "
        "410-555-0142 on a weekday and we will help you fill in the form for free."
    ),
}


def chat_texts(lang: str) -> dict[str, str]:
    return {k: v for k, v in load_catalog(lang).items() if k.startswith("chat.")}


def test_both_languages_have_the_same_keys_and_placeholders():
    english, spanish = chat_texts("en"), chat_texts("es")

    assert sorted(english) == sorted(spanish)
    assert {k: placeholders(v) for k, v in english.items()} == {
        k: placeholders(v) for k, v in spanish.items()
    }


def test_every_placeholder_has_a_realistic_test_value():
    used = {
        name for lang in LANGS for text in chat_texts(lang).values() for name in placeholders(text)
    }

    assert used <= set(PARAMS)


@pytest.mark.parametrize("lang", LANGS)
def test_every_text_renders_as_gsm7_sms_within_three_segments(lang, subtests):
    for key in chat_texts(lang):
        with subtests.test(key=key):
            (message,) = render([Reply(key, PARAMS)], "sms", lang)

            assert is_gsm7(message.text)
            assert sms_segments(message.text) <= 3


@pytest.mark.parametrize("lang", LANGS)
def test_telegram_keeps_the_accents(lang):
    (message,) = render([Reply("chat.menu")], "telegram", lang)

    assert message.text == load_catalog(lang)["chat.menu"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("¿Cómo está? ¡Sí!", "¿Como esta? ¡Si!"),
        ("Qué día, año, niño, pingüino", "Qué dia, año, niño, pingüino"),
        ("ÁÍÓÚ", "AIOU"),
        (
            "\u201cquoted\u201d \u2018single\u2019 \u2013 dash \u2014 more\u2026",
            "\"quoted\" 'single' - dash - more...",
        ),
        ("ok \U0001f44d", "ok "),
        ("§ 10-105(a)(12)", "§ 10-105(a)(12)"),
    ],
)
def test_sms_transliteration_keeps_gsm7_letters_and_replaces_the_rest(text, expected):
    assert to_gsm7(text) == expected
    assert is_gsm7(to_gsm7(text))


def test_segment_counts_follow_gsm7_and_ucs2_rules():
    assert sms_segments("a" * 160) == 1
    assert sms_segments("a" * 161) == 2
    assert sms_segments("a" * 306) == 2
    assert sms_segments("a" * 307) == 3
    assert sms_segments("{" * 80) == 1
    assert sms_segments("{" * 81) == 2
    assert sms_segments("á" * 70) == 1
    assert sms_segments("á" * 71) == 2


def test_an_over_long_sms_is_split_into_parts_of_at_most_three_segments():
    long_reply = Reply("chat.program.other", {"program": "x " * 400, "status": "open"})

    messages = render([long_reply], "sms", "en")

    assert len(messages) > 1
    assert all(sms_segments(m.text) <= 3 for m in messages)


def test_a_long_team_answer_full_of_two_septet_characters_still_splits_within_three_segments():
    answer = "[see] {form} " * 80  # "[", "]", "{", "}" cost two septets each in GSM-7

    messages = render([Reply("chat.handoff.answer", {"answer": answer.strip()})], "sms", "en")

    assert len(messages) > 1
    assert all(sms_segments(m.text) <= 3 for m in messages)
    assert (
        " ".join(m.text for m in messages).split()
        == ("A message from our team: " + answer).split()
    )


def test_an_over_long_telegram_message_is_split_into_several_and_nothing_is_cut():
    """Telegram refuses a message over 4,096 characters; the end of it must still arrive."""
    answer = " ".join(f"word{n}" for n in range(1500)) + "\n\nCall 410-260-1392."
    question = Reply(
        "chat.handoff.answer", {"answer": answer}, choices=(Choice("chat.btn.yes", "yes"),)
    )

    messages = render([question], "telegram", "en")

    assert len(messages) > 1
    assert all(len(m.text) <= 4096 for m in messages)
    assert (
        " ".join(m.text for m in messages).split()
        == ("A message from our team: " + answer).split()
    )
    assert [bool(m.buttons) for m in messages] == [False] * (len(messages) - 1) + [True]


def _readable(text: str) -> str:
    """A message as read: each line of a list is its own sentence; numbers are not words."""
    lines = []
    for line in text.splitlines():
        line = re.sub(r"^\s*\d+\s+", "", line).strip()
        if line and line[-1] not in ".?!:":
            line += "."
        lines.append(line)
    return " ".join(lines)


def _grades() -> dict[str, float]:
    grades = {}
    for key, text in chat_texts("en").items():
        if key.startswith(
            ("chat.btn.", "chat.month.", "chat.date", "chat.summary.", "chat.learn.law.")
        ):
            # button labels, month names, staff summary lines and the names of laws cited
            # are not sentences
            continue
        body = _readable(text.format_map(PARAMS))
        if len(body.split()) < 4:
            continue
        grades[key] = fk_grade(body)
    return grades


def test_english_reads_at_grade_six_on_average_and_never_above_eight():
    grades = _grades()

    assert statistics.mean(grades.values()) <= 6, sorted(grades.items(), key=lambda kv: -kv[1])[:8]
    assert {k: g for k, g in grades.items() if g > 8} == {}
