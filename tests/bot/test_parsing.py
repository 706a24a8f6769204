from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.parsing import (
    Option,
    PartialDate,
    fold,
    is_greeting,
    is_not_sure,
    lang_from_hint,
    parse_command,
    parse_date,
    parse_full_date,
    parse_number,
    parse_option,
    parse_yes_no,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1), (" 2 ", 2), ("3.", 3), ("4)", 4), ("#2", 2), ("option 3", 3), ("opción 3", 3),
        ("one", 1), ("Two", 2), ("THREE", 3), ("uno", 1), ("dos", 2), ("tres", 3),
        ("cuatro", 4), ("2\ufe0f\u20e3", 2), ("2 please", 2), ("el 2", 2), ("first", 1),
        ("número 4", 4), ("2!!", 2), ("5", None), ("0", None), ("12", None), ("1 2", None),
        ("", None), ("hello", None),
    ],
)  # fmt: skip
def test_numbers_as_digits_or_words_in_both_languages(text, expected):
    assert parse_number(text, 4) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("y", True), ("Yes", True), ("yeah", True), ("YEP", True), ("sure", True), ("ok", True),
        ("si", True), ("sí", True), ("Sí.", True), ("claro", True), ("yes please", True),
        ("\U0001f44d", True), ("por supuesto", True), ("yes it is", True),
        ("n", False), ("no", False), ("No.", False), ("nope", False), ("nah", False),
        ("no thanks", False), ("no gracias", False), ("\U0001f44e", False),
        ("no sé", None), ("maybe", None), ("banana", None), ("", None),
    ],
)  # fmt: skip
def test_yes_and_no_variants(text, expected):
    assert parse_yes_no(text) == expected


@pytest.mark.parametrize(
    "text",
    ["not sure", "Not sure.", "idk", "IDK", "I don't know", "i dont know", "dunno", "?",
     "no sé", "No se", "no estoy seguro", "no estoy segura", "ni idea", "no me acuerdo",
     "I'm not sure", "no lo sé"],
)  # fmt: skip
def test_not_sure_is_understood_in_both_languages(text):
    assert is_not_sure(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2015", PartialDate(2015)),
        ("3/2015", PartialDate(2015, 3)),
        ("03/2015", PartialDate(2015, 3)),
        ("3-2015", PartialDate(2015, 3)),
        ("march 2015", PartialDate(2015, 3)),
        ("March, 2015", PartialDate(2015, 3)),
        ("Mar. 2015", PartialDate(2015, 3)),
        ("marzo 2015", PartialDate(2015, 3)),
        ("marzo de 2015", PartialDate(2015, 3)),
        ("03/02/2015", PartialDate(2015, 3, 2)),
        ("3/2/15", PartialDate(2015, 3, 2)),
        ("25/03/2015", PartialDate(2015, 3, 25)),
        ("2015-03-02", PartialDate(2015, 3, 2)),
        ("March 2, 2015", PartialDate(2015, 3, 2)),
        ("march 2nd 2015", PartialDate(2015, 3, 2)),
        ("2 de marzo de 2015", PartialDate(2015, 3, 2)),
        ("in 2015", PartialDate(2015)),
        ("around 2015", PartialDate(2015)),
        ("en 2015", PartialDate(2015)),
        ("2015 \U0001f937", PartialDate(2015)),
        ("2015.", PartialDate(2015)),
        ("02/30/2015", None),
        ("13/13/2015", None),
        ("15", None),
        ("1850", None),
        ("march", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_dates_in_common_shapes(text, expected):
    assert parse_date(text) == expected


def test_partial_dates_read_cautiously_as_their_last_day():
    assert PartialDate(2015).latest() == dt.date(2015, 12, 31)
    assert PartialDate(2016, 2).latest() == dt.date(2016, 2, 29)
    assert PartialDate(2015, 3, 2).latest() == dt.date(2015, 3, 2)
    assert PartialDate.from_iso(PartialDate(2015, 3).iso()) == PartialDate(2015, 3)


def test_a_date_of_birth_needs_the_day():
    assert parse_full_date("03/25/1985") == dt.date(1985, 3, 25)
    assert parse_full_date("March 25 1985") == dt.date(1985, 3, 25)
    assert parse_full_date("1985") is None


def test_a_date_of_birth_typed_without_separators_is_month_first():
    """A keypad makes "03251985" easier than "03/25/1985"; US dates put the month first."""
    assert parse_full_date("03251985") == dt.date(1985, 3, 25)
    assert parse_full_date(" 12011990 ") == dt.date(1990, 12, 1)
    assert parse_full_date("25031985") is None  # no 25th month: not guessed as day first
    assert parse_full_date("0325198") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MENU", "menu"), ("menú", "menu"), ("/menu", "menu"), ("Back", "back"),
        ("atrás", "back"), ("HELP", "help"), ("ayuda", "help"), ("LANG", "lang"),
        ("idioma", "lang"), ("español", "lang_es"), ("English", "lang_en"),
        ("DELETE", "delete"), ("borrar", "delete"), ("RESTART", "restart"),
        ("reiniciar", "restart"), ("STOP", "stop"), ("/start", "start"),
        ("menu please now", None), ("I need help with my case", None),
    ],
)  # fmt: skip
def test_global_commands(text, expected):
    assert parse_command(text) == expected


def test_options_by_words_prefer_the_longer_phrase():
    options = (Option("guilty", ("guilty",)), Option("not_guilty", ("not guilty",)))

    assert parse_option("Not guilty!", options) == "not_guilty"
    assert parse_option("guilty", options) == "guilty"
    assert parse_option("2", options) == "not_guilty"
    assert parse_option("dos", options) == "not_guilty"


def test_greetings_and_language_hints():
    assert is_greeting("Hi!")
    assert is_greeting("hola \U0001f44b")
    assert is_greeting("good morning")
    assert not is_greeting("1")
    assert lang_from_hint("es-MX") == "es"
    assert lang_from_hint("en") == "en"
    assert lang_from_hint("fr") is None
    assert lang_from_hint(None) is None


def test_fold_drops_accents_emoji_and_stray_punctuation():
    assert fold("  ¡Sí!!  \U0001f600 ") == "si"
    assert fold("0B-0123 4567") == "0b-0123 4567"


@given(st.text(max_size=80))
def test_parsers_never_crash_on_any_text(text):
    parse_number(text, 7)
    parse_yes_no(text)
    is_not_sure(text)
    parse_date(text)
    parse_full_date(text)
    parse_command(text)
    is_greeting(text)
