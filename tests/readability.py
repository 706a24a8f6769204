"""One Flesch-Kincaid measure for every text test, the same on every machine and offline.

textstat counts syllables with NLTK's cmudict, which it downloads on first use; CI has no
internet. So syllables come from Pyphen's en_US dictionary, which ships in textstat's wheel.
"""

from __future__ import annotations

import textstat
from textstat.backend.counts import _count_syllables

# Never reach for the network: without cmudict textstat falls back to Pyphen.
_count_syllables.get_cmudict = lambda lang: None
_count_syllables.count_syllables.cache_clear()


def fk_grade(text: str) -> float:
    """Flesch-Kincaid grade level of ``text``."""
    return float(textstat.flesch_kincaid_grade(text))
