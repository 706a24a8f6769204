"""Frozen data classes and the closed vocabularies of the screening contract (DESIGN 5.3)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

CATEGORIES: tuple[str, ...] = (
    "cannabis_possession",
    "cannabis_civil_citation",
    "cannabis_pwid",
    "cannabis_distribution",
    "paraphernalia",
    "other_drug_possession",
    "other_drug_distribution",
    "drug_unspecified",
    "other",
    "unknown",
)

DISPOSITIONS: tuple[str, ...] = (
    "guilty",
    "pbj",
    "nolle_prosequi",
    "stet",
    "not_guilty",
    "dismissed",
    "merged",
    "ncr",
    "pending",
    "civil_violation",
    "unknown",
)

PATHWAY_IDS: tuple[str, ...] = (
    "auto_expungement_cannabis",
    "auto_expungement_favorable",
    "petition_cannabis_possession",
    "petition_non_conviction",
    "petition_listed_conviction",
    "pardon_2024",
    "petition_pardoned",
    "shielding",
    "sao_motion_to_vacate",
    "juvenile_expungement",
)

PATHWAY_STATUSES: tuple[str, ...] = (
    "automatic",
    "eligible_now",
    "eligible_later",
    "not_eligible",
    "needs_review",
    "already_done",
)

VERDICT_STATUSES: tuple[str, ...] = (
    "already_cleared",
    "automatic",
    "act_now",
    "wait",
    "needs_review",
    "no_relief_found",
    "outside_maryland",
)

COURTS: tuple[str, ...] = ("district", "circuit", "juvenile")
CASE_STATUSES: tuple[str, ...] = ("closed", "open")
OUTSIDE_MARYLAND: frozenset[str] = frozenset({"federal", "other_state"})


@dataclass(frozen=True, slots=True)
class ChargeInput:
    """One charge as given: raw court words or normalised values; ``None`` means unknown."""

    description: str | None = None
    statute: str | None = None
    category: str | None = None
    offense_date: dt.date | None = None
    disposition: str | None = None
    disposition_date: dt.date | None = None
    sentence_completed_on: dt.date | None = None
    probation_violation: bool | None = None
    # The person says the sentence, with any probation, is not over yet. Not a field of the
    # DESIGN 5.3 input (its JSON has no way to say it, and keeps none): only the residents'
    # questions (bot/outcome.py) set it. Ignored when sentence_completed_on is given.
    sentence_not_over: bool = False


@dataclass(frozen=True, slots=True)
class PersonInput:
    """Facts about the person, not the case; ``None`` means unknown."""

    date_of_birth: dt.date | None = None
    pending_case: bool | None = None
    later_convictions: tuple[dt.date, ...] | None = None


@dataclass(frozen=True, slots=True)
class RecordStatus:
    """What the record already shows happened to the case."""

    expunged: bool | None = None
    pardoned: bool | None = None
    shielded: bool | None = None


@dataclass(frozen=True, slots=True)
class CaseInput:
    """One court case to screen (DESIGN 5.3 input)."""

    charges: tuple[ChargeInput, ...]
    case_number: str | None = None
    court: str | None = None
    county: str | None = None
    case_status: str | None = None
    person: PersonInput = field(default_factory=PersonInput)
    record_status: RecordStatus = field(default_factory=RecordStatus)
    as_of: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Charge:
    """A charge after classification: the engine works on these."""

    index: int
    category: str
    disposition: str
    offense_date: dt.date | None
    disposition_date: dt.date | None
    sentence_completed_on: dt.date | None
    probation_violation: bool | None
    # A nolle prosequi that required drug or alcohol treatment (CP § 10-105.1, S1).
    treatment_nolle: bool = False
    # The sentence, with any probation, is still running (ChargeInput.sentence_not_over).
    sentence_not_over: bool = False


@dataclass(frozen=True, slots=True)
class Note:
    """A reason or a next step: a text key plus its parameters (words live in texts/)."""

    key: str
    params: tuple[tuple[str, object], ...] = ()

    def kwargs(self) -> dict[str, object]:
        """Return the parameters as a dict for rendering."""
        return dict(self.params)


@dataclass(frozen=True, slots=True)
class PathwayResult:
    """The outcome of one relief pathway for one case."""

    id: str
    status: str
    eligible_on: dt.date | None
    charges: tuple[int, ...]
    citations: tuple[str, ...]
    reasons: tuple[Note, ...]
    next_steps: tuple[Note, ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The overall answer for the case."""

    status: str
    summary: Note


@dataclass(frozen=True, slots=True)
class ScreeningResult:
    """Everything the engine says about one case (DESIGN 5.3 output)."""

    as_of: dt.date
    rules_version: str
    case_number: str | None
    county: str | None
    court: str | None
    charges: tuple[Charge, ...]
    pathways: tuple[PathwayResult, ...]
    verdict: Verdict

    def pathway(self, pathway_id: str) -> PathwayResult:
        """Return the result of one pathway by its id."""
        for p in self.pathways:
            if p.id == pathway_id:
                return p
        raise KeyError(pathway_id)

    def to_json(self, lang: str = "en") -> dict[str, object]:
        """Return the contract's output object; reasons and steps rendered in `lang`."""
        from knowledge.render import result_to_json

        return result_to_json(self, lang)
