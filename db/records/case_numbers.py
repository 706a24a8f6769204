"""Case-number normalisation shared by import and lookup, so both sides agree on one key.

People type case numbers with spaces, dashes, lower case, a leading ``#`` or the letter O for
zero. Each known shape has fixed digit positions, so an O there can only mean zero; anything
outside the known shapes is kept as typed (upper case, no spaces), so it never matches a
different case.
"""

from __future__ import annotations

import re

#: Longer input is not a case number (and is not worth the regex work).
MAX_INPUT_LENGTH = 64

_SEPARATORS = re.compile(r"[\s#]+")
# Legacy District Court: a digit, a letter, 8 digits (1D00292923, 0B01234567).
_DISTRICT = re.compile(r"[0-9O][A-Z][0-9O]{8}")
# Legacy Baltimore City Circuit Court: 9 digits starting with 1 (114351015).
_CIRCUIT = re.compile(r"1[0-9O]{8}")
# MDEC: court, location, type, year, sequence (C-24-CR-23-001234). The type letters exclude O
# so that an O elsewhere can only be a zero.
_MDEC = re.compile(r"([CD])([0-9O]{2,3})([A-NP-Z]{2})([0-9O]{2})([0-9O]{5,6})")
# Anything else that looks like an identifier: letters and digits, dashes kept.
_OTHER = re.compile(r"[A-Z0-9]+(?:-[A-Z0-9]+)*")
# Already in canonical form (what the rules above return for it): every stored number, and
# most typed ones. Checked first, as one match, because imports normalise a million of them.
_CANONICAL = re.compile(
    r"[0-9][A-Z][0-9]{8}|1[0-9]{8}|[CD]-[0-9]{2,3}-[A-NP-Z]{2}-[0-9]{2}-[0-9]{5,6}"
)


def _zeros(text: str) -> str:
    return text.replace("O", "0")


def normalize_case_number(raw: str) -> str | None:
    """The canonical form of a typed case number, or None when it cannot be one."""
    if not isinstance(raw, str) or len(raw) > MAX_INPUT_LENGTH:
        return None
    if _CANONICAL.fullmatch(raw):
        return raw
    text = _SEPARATORS.sub("", raw).upper()
    compact = text.replace("-", "")
    if not compact:
        return None
    if _DISTRICT.fullmatch(compact):
        return _zeros(compact[0]) + compact[1] + _zeros(compact[2:])
    if _CIRCUIT.fullmatch(compact):
        return _zeros(compact)
    mdec = _MDEC.fullmatch(compact)
    if mdec:
        court, location, kind, year, sequence = mdec.groups()
        return "-".join((court, _zeros(location), kind, _zeros(year), _zeros(sequence)))
    if 6 <= len(text) <= 32 and _OTHER.fullmatch(text) and any(c.isdigit() for c in text):
        return text
    return None


def court_of(case_number: str) -> str | None:
    """The court a normalised case number's shape implies (district or circuit), if any."""
    if _DISTRICT.fullmatch(case_number):
        return "district"
    if _CIRCUIT.fullmatch(case_number):
        return "circuit"
    if case_number.startswith("C-"):
        return "circuit"
    if case_number.startswith("D-"):
        return "district"
    return None
