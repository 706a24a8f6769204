"""Flesch-Kincaid grade for short English texts.

textstat (a dev dependency) needs NLTK's cmudict, which it downloads at first use; offline
test runs cannot fetch it. So this uses textstat when cmudict is present and otherwise the
same formula with a standard vowel-group syllable count.
"""

from __future__ import annotations

import functools
import re

_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
_SENTENCE_END = re.compile(r"[.!?:]+(?:\s|$)")
_VOWELS = re.compile(r"[aeiouy]+")


def _syllables(word: str) -> int:
    w = word.lower().strip("'")
    if len(w) <= 3:
        return 1
    w = re.sub(r"(?:[^laeiouy]es|ed|[^laeiouy]e)$", "", w)
    w = re.sub(r"^y", "", w)
    return max(1, len(_VOWELS.findall(w)))


def _fallback_grade(text: str) -> float:
    words = _WORD.findall(text)
    if not words:
        return 0.0
    sentences = max(1, len(_SENTENCE_END.findall(text.strip() + " ")))
    syllables = sum(_syllables(w) for w in words)
    return 0.39 * len(words) / sentences + 11.8 * syllables / len(words) - 15.59


@functools.cache
def _textstat_works() -> bool:
    try:
        import textstat

        textstat.flesch_kincaid_grade("A test.")
    except LookupError:  # cmudict not downloadable offline
        return False
    return True


def fk_grade(text: str) -> float:
    """Flesch-Kincaid grade level of `text`."""
    if _textstat_works():
        import textstat

        return float(textstat.flesch_kincaid_grade(text))
    return _fallback_grade(text)
