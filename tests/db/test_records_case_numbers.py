from __future__ import annotations

import pytest

from db.records.case_numbers import court_of, normalize_case_number


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        pytest.param("1D00292923", "1D00292923", id="district-as-is"),
        pytest.param("1d00292923", "1D00292923", id="lower-case"),
        pytest.param("1D-0029-2923", "1D00292923", id="dashes"),
        pytest.param(" 1D 0029 2923 ", "1D00292923", id="spaces"),
        pytest.param("#0B01234567", "0B01234567", id="hash"),
        pytest.param("OB0123456O", "0B01234560", id="letter-o-in-digit-positions"),
        pytest.param("114351015", "114351015", id="circuit"),
        pytest.param("1 1435 1O15", "114351015", id="circuit-o-and-spaces"),
        pytest.param("c-24-cr-23-001234", "C-24-CR-23-001234", id="mdec-lower"),
        pytest.param("C24CR23001234", "C-24-CR-23-001234", id="mdec-without-dashes"),
        pytest.param("C 24 CR 23 OO1234", "C-24-CR-23-001234", id="mdec-o-in-sequence"),
        pytest.param("03K12001234", "03K12001234", id="other-shape-kept"),
    ],
)
def test_typed_case_numbers_normalise_to_one_key(typed, expected):
    assert normalize_case_number(typed) == expected


@pytest.mark.parametrize(
    "typed",
    ["", "   ", "#", "hello", "12345", "x" * 65, "1D0029292\x00", "DROP TABLE cases;"],
)
def test_things_that_cannot_be_case_numbers_give_none(typed):
    assert normalize_case_number(typed) is None


def test_a_letter_o_in_the_letter_position_is_never_turned_into_a_zero():
    assert normalize_case_number("1O00292923") == "1O00292923"
    assert normalize_case_number("1O00292923") != normalize_case_number("1000292923")


def test_near_misses_never_become_a_different_case():
    # One digit short of a District number stays as typed (and so matches nothing).
    assert normalize_case_number("1D0029292") == "1D0029292"
    # A circuit number typed with a letter I is not guessed to be a 1.
    assert normalize_case_number("I14351015") == "I14351015"


def test_court_follows_the_shape_of_the_number():
    assert court_of("1D00292923") == "district"
    assert court_of("114351015") == "circuit"
    assert court_of("C-24-CR-23-001234") == "circuit"
    assert court_of("03K12001234") is None
