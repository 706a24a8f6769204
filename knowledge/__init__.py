"""RecordCheck's knowledge: Maryland relief law as data plus a pure rules engine.

No Flask, no SQLAlchemy, no network, and never the clock: callers pass ``as_of``.
"""

from knowledge.classify import classify_charge, normalize_disposition
from knowledge.engine import screen
from knowledge.model import (
    CATEGORIES,
    DISPOSITIONS,
    PATHWAY_IDS,
    PATHWAY_STATUSES,
    VERDICT_STATUSES,
    CaseInput,
    Charge,
    ChargeInput,
    PathwayResult,
    PersonInput,
    RecordStatus,
    ScreeningResult,
    Verdict,
)
from knowledge.rules import RULES, RULES_VERSION
from knowledge.screening import InputError, parse_case, screen_case, screen_json

__all__ = [
    "CATEGORIES",
    "DISPOSITIONS",
    "PATHWAY_IDS",
    "PATHWAY_STATUSES",
    "RULES",
    "RULES_VERSION",
    "VERDICT_STATUSES",
    "CaseInput",
    "Charge",
    "ChargeInput",
    "InputError",
    "PathwayResult",
    "PersonInput",
    "RecordStatus",
    "ScreeningResult",
    "Verdict",
    "classify_charge",
    "normalize_disposition",
    "parse_case",
    "screen",
    "screen_case",
    "screen_json",
]
