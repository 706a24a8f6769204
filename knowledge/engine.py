"""The rules engine: screen one case against every relief pathway, as the law stands on as_of.

Each pathway is a small function over the classified charges. Conditions are tri-state: a
failed condition makes the pathway ``not_eligible``; a condition that time will meet (a waiting
period, a sentence still running, an open case) makes it ``eligible_later``; an unknown fact
or unsettled ([U]) law makes it ``needs_review``; only when every condition holds is it
``eligible_now`` or ``automatic``. Sources: domain/maryland-relief-law.md (section 9 wins).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
from collections.abc import Callable, Hashable, Sequence
from typing import NamedTuple, Protocol, TypeAlias

from knowledge.classify import classify_charge, disposition_detail
from knowledge.model import (
    DISPOSITIONS,
    OUTSIDE_MARYLAND,
    CaseInput,
    Charge,
    Note,
    PathwayResult,
    PersonInput,
    RecordStatus,
    ScreeningResult,
    Verdict,
)
from knowledge.rules import RULES, RULES_VERSION, Rule

# --- notes (reason and step keys; words live in knowledge/texts/) ---------------------------


def note(key: str, **params: object) -> Note:
    """Build a reason or step note with parameters."""
    items = tuple(params.items())
    if len(items) > 1:
        items = tuple(sorted(items))  # by name: names are unique, so values are never compared
    return _shared_note(key, items)


# Notes are immutable, so equal ones are shared rather than rebuilt for every case.
_shared_note = functools.lru_cache(maxsize=4096)(Note)
_N = functools.cache(Note)  # parameterless notes

FAVORABLE = frozenset({"not_guilty", "dismissed", "nolle_prosequi"})
CONVICTION = frozenset({"guilty", "pbj"})
UNSURE_DISPOSITION = frozenset({"unknown", "merged"})
UNSURE_CATEGORY = frozenset({"unknown", "drug_unspecified"})
_PARDON_CATEGORIES = frozenset(
    {"cannabis_possession", "paraphernalia", "unknown", "drug_unspecified"}
)
_P2_FAILS = frozenset({"guilty", "pbj", "stet", "ncr", "civil_violation"})
_P5_CANDIDATES = frozenset({"not_guilty", "dismissed", "nolle_prosequi", "stet", "pbj", "ncr"})
_P5_READS = _P5_CANDIDATES | UNSURE_DISPOSITION
_P6_READS = frozenset({"guilty"}) | UNSURE_DISPOSITION
NON_CANNABIS_CATEGORIES = frozenset(
    {
        "other",
        "other_drug_possession",
        "other_drug_distribution",
        "cannabis_pwid",
        "cannabis_distribution",
        "paraphernalia",
    }
)
_NON_CANNABIS_BUT_PARAPHERNALIA = NON_CANNABIS_CATEGORIES - {"paraphernalia"}
_OTHER_OR_UNSURE = frozenset({"other"}) | UNSURE_CATEGORY
SHIELDABLE = frozenset({"cannabis_possession", "other_drug_possession", "paraphernalia"})
MISDEMEANOR_LISTED = frozenset({"paraphernalia", "other_drug_possession"})

AUTOMATIC_EXPUNGEMENTS = ("auto_expungement_cannabis", "auto_expungement_favorable")
EXPUNGEMENT_PATHWAYS = frozenset(
    {
        "auto_expungement_cannabis",
        "auto_expungement_favorable",
        "petition_cannabis_possession",
        "petition_non_conviction",
        "petition_listed_conviction",
        "petition_pardoned",
        "juvenile_expungement",
    }
)


def add_years(day: dt.date, years: int) -> dt.date:
    """Add whole years; 29 February moves to 1 March (never tell someone a day too early)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


class _Acc:
    """Collects the tri-state findings of one pathway and turns them into a status."""

    __slots__ = ("fails", "later", "later_dates", "later_undated", "unknown", "info", "steps")

    def __init__(self) -> None:
        self.fails: list[Note] = []
        self.later: list[Note] = []
        self.later_dates: list[dt.date] = []
        self.later_undated = False
        self.unknown: list[Note] = []
        self.info: list[Note] = []
        self.steps: list[Note] = []

    def wait_until(self, day: dt.date, reason: Note) -> None:
        self.later.append(reason)
        self.later_dates.append(day)

    def wait_undated(self, reason: Note) -> None:
        self.later.append(reason)
        self.later_undated = True

    def finish(
        self,
        rule: Rule,
        charges: Sequence[int],
        *,
        automatic_on: dt.date | None = None,
        now_steps: Sequence[Note] = (),
    ) -> PathwayResult:
        if self.fails:
            status, on, reasons = "not_eligible", None, self.fails + self.info
        elif self.later:
            status = "eligible_later"
            on = None if self.later_undated or not self.later_dates else max(self.later_dates)
            reasons = self.later + self.unknown + self.info
        elif self.unknown:
            status, on, reasons = "needs_review", None, self.unknown + self.info
        elif automatic_on is not None:
            status, on, reasons = "automatic", automatic_on, self.info
        else:
            status, on, reasons = "eligible_now", None, self.info
        steps = self.steps  # an accumulator finishes once
        if status == "eligible_now":
            steps.extend(now_steps)
        elif status == "needs_review":
            steps.append(_STEP_LEGAL_HELP)
        # Two charges can give the same finding ("The waiting time is over."): say it once, in
        # the place it first came (notes are equal when their key and parameters are).
        return PathwayResult(
            rule.id,
            status,
            on,
            tuple(charges),
            rule.citations,
            tuple(dict.fromkeys(reasons)),
            tuple(dict.fromkeys(steps)),
        )


_STEP_LEGAL_HELP = _N("step.legal_help")
_R_JUVENILE_ROUTE = _N("reason.juvenile_other_route")
_R_OFFENSE_DATE_UNKNOWN = _N("reason.offense_date_unknown")
_R_DISPOSITION_UNKNOWN = _N("reason.disposition_unknown")
_R_DISPOSITION_DATE_UNKNOWN = _N("reason.disposition_date_unknown")
_R_CATEGORY_UNKNOWN = _N("reason.category_unknown")
_R_CASE_OPEN = _N("reason.case_open")
_R_CASE_MAYBE_OPEN = _N("reason.case_maybe_open")
_R_PENDING_CASE = _N("reason.pending_case")
_R_PENDING_UNKNOWN = _N("reason.pending_case_unknown")
_R_SENTENCE_UNKNOWN = _N("reason.sentence_unknown")
# The person says the sentence, with any probation, is not over: every clock that runs from
# its end has not started yet (S8, S22, S2, S3, S31; law file P3, P5, P6, P11, 9.2, 9.4).
_R_P3_NOT_OVER = _N("reason.p3.sentence_not_over")
_R_P5_PBJ_NOT_OVER = _N("reason.p5.pbj_not_over")
_R_SHIELD_NOT_OVER = _N("reason.shield.sentence_not_over")
_R_JUV_NOT_OVER = _N("reason.juv.sentence_not_over")
_STEP_SENTENCE_HELP = _N("step.sentence_help")
_R_VIOLATION_UNKNOWN = _N("reason.probation_violation_unknown")
_R_ABHISHEK = _N("reason.probation_violation_bar")
_R_SB432 = _N("reason.probation_violation_sb432")
_R_LATER_UNKNOWN = _N("reason.later_convictions_unknown")
_R_NO_CHARGES = _N("reason.no_charges")

# Rules and fixed parameters looked up once (the rule table is fixed when the module loads).
_P3 = RULES["petition_cannabis_possession"]
_P5 = RULES["petition_non_conviction"]
_P6 = RULES["petition_listed_conviction"]
_P1 = RULES["auto_expungement_cannabis"]
_P2 = RULES["auto_expungement_favorable"]
_PARDON = RULES["pardon_2024"]
_P7 = RULES["petition_pardoned"]
_SHIELDING = RULES["shielding"]
_SAO = RULES["sao_motion_to_vacate"]
_JUVENILE = RULES["juvenile_expungement"]
_P1_CHARGED_BEFORE = _P1.date("charged_before")
_P1_DUE_BY = _P1.date("due_by")
_P2_CIVIL_OFFENSE_BEFORE = _P2.date("civil_offense_before")
_P2_FIRST_DAY = _P2.date("disposed_on_or_after")
_P2_WAIT = _P2.number("wait_years") or 0
_UNIT_RULE_EXCEPTION_FROM = _P3.date("unit_rule_exception_from")
_COMPLETION_OF_SENTENCE_FROM = {
    rule.id: rule.date("completion_of_sentence_from") for rule in (_P3, _P6)
}
_P5_WAIT = _P5.number("wait_years") or 0
_PARDON_CHARGED_BEFORE = _PARDON.date("charged_before")
_PARDON_SIGNED_ON = _PARDON.date("signed_on")
_CASE_SEARCH_HIDES_PARDONED = _PARDON.date("case_search_hides_possession_from")
_P7_DEADLINE_YEARS = _P7.number("deadline_years_after_pardon") or 0
_SHIELDING_WAIT = _SHIELDING.number("wait_years") or 0
_P5_BLOCKERS = frozenset({"guilty"}) | UNSURE_DISPOSITION
_P3_NOW = (_N("step.file.cannabis"), _N("step.fee.cannabis"), _N("step.timeline"))
_P5_NOW = (_N("step.file.non_conviction"), _N("step.fee.free"), _N("step.timeline"))
_P6_NOW = (_N("step.file.conviction"), _N("step.fee.conviction"), _N("step.timeline"))


@functools.lru_cache(maxsize=256)
def _dated_number(rule_id: str, name: str, day: dt.date) -> int | None:
    """A dated rule parameter as it stands on `day` (the same few dates come back)."""
    return RULES[rule_id].number(name, day)


class CaseFacts(Protocol):
    """The case-level facts the rules read: a CaseInput has them, so has a batch reader's row."""

    @property
    def court(self) -> str | None:
        """district, circuit, juvenile or None."""

    @property
    def county(self) -> str | None:
        """A Maryland county, federal, other_state or None."""

    @property
    def case_status(self) -> str | None:
        """open, closed or None."""

    @property
    def person(self) -> PersonInput:
        """Facts about the person."""

    @property
    def record_status(self) -> RecordStatus:
        """What the record already shows."""


class _Case:
    """The classified case plus the facts every pathway reads."""

    __slots__ = (
        "as_of",
        "charges",
        "juvenile",
        "open",
        "maybe_open",
        "pending",
        "later",
        "dob",
        "pardoned",
        "categories",
        "dispositions",
        "all_idx",
    )

    def __init__(self, case: CaseFacts, charges: tuple[Charge, ...], as_of: dt.date) -> None:
        self.as_of = as_of
        self.charges = charges
        self.juvenile = case.court == "juvenile"
        self.categories = frozenset([c.category for c in charges])
        self.dispositions = frozenset([c.disposition for c in charges])
        self.open = case.case_status == "open" or "pending" in self.dispositions
        # A charge whose result we do not know may still be pending (the engine already reads a
        # pending charge as an open case, whatever the case status says).
        self.maybe_open = not self.open and "unknown" in self.dispositions
        person = case.person
        self.pending = person.pending_case
        self.later = person.later_convictions
        self.dob = person.date_of_birth
        self.pardoned = case.record_status.pardoned
        self.all_idx = tuple([c.index for c in charges])


@functools.lru_cache(maxsize=512)
def _fixed(rule_id: str, reason: str, charges: tuple[int, ...] = ()) -> PathwayResult:
    """A shared result for the common one-reason answers (results are immutable)."""
    rule = RULES[rule_id]
    status = "not_eligible"
    return PathwayResult(rule.id, status, None, charges, rule.citations, (_N(reason),), ())


def _person_pending(acc: _Acc, case: _Case) -> None:
    # A defendant in a pending criminal case generally cannot expunge (S18 CBS, S50).
    if case.pending is True:
        acc.wait_undated(_R_PENDING_CASE)
    elif case.pending is None:
        acc.unknown.append(_R_PENDING_UNKNOWN)
    if case.open:
        acc.wait_undated(_R_CASE_OPEN)
    elif case.maybe_open:
        acc.unknown.append(_R_CASE_MAYBE_OPEN)


def _not_in_force(rule: Rule, case: _Case) -> PathwayResult | None:
    if rule.effective is None or rule.effective <= case.as_of:
        return None
    return _off(rule.id)


@functools.lru_cache(maxsize=16)
def _off(rule_id: str) -> PathwayResult:
    """The shared answer of a pathway that did not exist yet on as_of."""
    rule = RULES[rule_id]
    acc = _Acc()
    acc.fails.append(note("reason.not_in_force", date=rule.effective))
    return acc.finish(rule, ())


def _violation(acc: _Acc, rule: Rule, c: Charge, as_of: dt.date) -> None:
    # Abhishek I. (2022, S23) until SB 432 made "completion of the sentence" the clock (S18).
    if as_of < _COMPLETION_OF_SENTENCE_FROM[rule.id]:
        if c.probation_violation is True:
            acc.fails.append(_R_ABHISHEK)
        elif c.probation_violation is None:
            acc.unknown.append(_R_VIOLATION_UNKNOWN)
    elif c.probation_violation is True:
        acc.info.append(_R_SB432)


# --- P1: CP § 10-112, automatic expungement of cannabis-only cases ----------------------------


def auto_expungement_cannabis(case: _Case) -> PathwayResult:
    """Possession the only charge, charged before 2023-07-01: the State expunges (S10, S20)."""
    rule = _P1
    off = _not_in_force(rule, case)
    if off:
        return off
    cats = case.categories
    if cats & NON_CANNABIS_CATEGORIES and not case.juvenile:
        return _fixed(rule.id, "reason.p1.other_charge", case.all_idx)
    acc = _Acc()
    idx = case.all_idx
    if not case.charges:
        acc.unknown.append(_R_NO_CHARGES)
    elif cats & NON_CANNABIS_CATEGORIES:
        acc.fails.append(_N("reason.p1.other_charge"))
    elif cats & UNSURE_CATEGORY:
        acc.unknown.append(_R_CATEGORY_UNKNOWN)
    elif "cannabis_civil_citation" in cats:
        acc.unknown.append(_N("reason.p1.civil_unsettled"))  # law file 7.7 [U]
    cut = _P1_CHARGED_BEFORE
    for c in case.charges:
        when = c.offense_date
        if when is None:
            if c.disposition_date is None or c.disposition_date >= cut:
                acc.unknown.append(_R_OFFENSE_DATE_UNKNOWN)
        elif when >= cut:
            acc.fails.append(note("reason.p1.charged_after", date=cut))
    if case.juvenile:
        acc.unknown.append(_N("reason.p1.juvenile_unsettled"))  # law file 7.7 [U]
    if case.open:
        # "Any outcome" (P1, 9.5) says nothing of a case still open: not "already cleared".
        acc.unknown.append(_N("reason.p1.case_open"))
    elif case.maybe_open:
        acc.unknown.append(_R_CASE_MAYBE_OPEN)
    due = _P1_DUE_BY
    if not acc.fails and not case.open:
        if acc.unknown:
            # needs_review: the state may not have had to clear it, so never "do nothing".
            acc.info.append(note("reason.p1.maybe_automatic", date=due))
            acc.steps.append(_N("step.p1.ask_if_still_visible"))
        else:
            acc.info.append(note("reason.p1.automatic", date=due))
            acc.steps.append(_N("step.p1.if_still_visible"))
    return acc.finish(rule, idx, automatic_on=due)


# --- P2: CP § 10-105.1, automatic expungement when every charge ended favorably -------------


def auto_expungement_favorable(case: _Case) -> PathwayResult:
    """Every charge acquitted, dismissed, not guilty or nolle: expunged 3 years later (S1)."""
    rule = _P2
    off = _not_in_force(rule, case)
    if off:
        return off
    if case.dispositions & _P2_FAILS and not case.juvenile:
        return _fixed(rule.id, "reason.p2.not_all_favorable", case.all_idx)
    acc = _Acc()
    idx = case.all_idx
    if not case.charges:
        acc.unknown.append(_R_NO_CHARGES)
    if case.juvenile:
        acc.fails.append(_R_JUVENILE_ROUTE)
    civil_cut = _P2_CIVIL_OFFENSE_BEFORE
    latest: dt.date | None = None
    dates_known = True
    for c in case.charges:
        d = c.disposition
        if d == "nolle_prosequi" and c.treatment_nolle:
            acc.fails.append(_N("reason.p2.treatment_nolle"))
        elif d in FAVORABLE:
            pass
        elif d == "pending":
            acc.wait_undated(_R_CASE_OPEN)
        elif d in UNSURE_DISPOSITION:
            acc.unknown.append(_R_DISPOSITION_UNKNOWN)
        else:
            acc.fails.append(_N("reason.p2.not_all_favorable"))
        if c.category in ("cannabis_civil_citation", "unknown"):
            # An unread charge may be a post-2022 civil citation, which P2 may not reach.
            if c.offense_date is None:
                acc.unknown.append(_R_OFFENSE_DATE_UNKNOWN)
            elif c.offense_date >= civil_cut:
                acc.unknown.append(_N("reason.p2.civil_after_2022"))  # scenario 14 [U]
        if c.disposition_date is None:
            dates_known = False
        elif latest is None or c.disposition_date > latest:
            latest = c.disposition_date
    cut = _P2_FIRST_DAY
    if not acc.fails and any(
        c.disposition_date is not None and c.disposition_date < cut for c in case.charges
    ):
        acc.fails.append(note("reason.p2.before_2021", date=cut))
        acc.steps.append(_N("step.p2.use_petition"))
    if not dates_known:
        acc.unknown.append(_R_DISPOSITION_DATE_UNKNOWN)
    due = None
    if latest is not None and dates_known and not acc.fails:
        due = add_years(latest, _P2_WAIT)
        # needs_review: the law may not reach this case, so never "it clears by itself".
        acc.info.append(
            note("reason.p2.maybe_automatic" if acc.unknown else "reason.p2.automatic", date=due)
        )
        if due > case.as_of:
            acc.steps.append(_N("step.p2.file_early_with_waiver"))
    return acc.finish(rule, idx, automatic_on=due or latest or case.as_of)


# --- P3: CP § 10-105(a)(12), petition for a cannabis possession conviction or PBJ ----------


def petition_cannabis_possession(case: _Case) -> PathwayResult:
    """Possession conviction or PBJ: file once the sentence is complete (S8, S22, 9.2)."""
    rule = _P3
    off = _not_in_force(rule, case)
    if off:
        return off
    if case.juvenile:
        return _fixed(rule.id, "reason.juvenile_other_route")
    if "cannabis_possession" not in case.categories and not (case.categories & UNSURE_CATEGORY):
        return _fixed(rule.id, "reason.p3.no_possession_conviction")
    acc = _Acc()
    as_of = case.as_of
    convictions = [
        c
        for c in case.charges
        if c.category == "cannabis_possession" and c.disposition in CONVICTION
    ]
    unsure = [
        c
        for c in case.charges
        if (c.category == "cannabis_possession" and c.disposition in UNSURE_DISPOSITION)
        or (c.category in UNSURE_CATEGORY and c.disposition not in FAVORABLE)
    ]
    if not convictions:
        if unsure:
            acc.unknown.append(_R_CATEGORY_UNKNOWN)
            return acc.finish(rule, [c.index for c in unsure])
        acc.fails.append(_N("reason.p3.no_possession_conviction"))
        return acc.finish(rule, ())
    if unsure:
        # A charge we cannot read, or a possession charge whose result we do not know, may be
        # one more possession conviction whose sentence decides the petition: never a guess.
        acc.unknown.append(
            _R_CATEGORY_UNKNOWN
            if any(c.category in UNSURE_CATEGORY for c in unsure)
            else _R_DISPOSITION_UNKNOWN
        )
    wait = _dated_number(rule.id, "wait_years_after_sentence", as_of) or 0
    for c in convictions:
        _violation(acc, rule, c, as_of)
        if c.disposition == "pbj":
            acc.info.append(_N("reason.p3.pbj_counts"))  # In re Trey H. (2022), S22
        if c.sentence_completed_on is None:
            if c.sentence_not_over:
                # The petition waits for the sentence, with probation, to end (S8, 9.2).
                acc.wait_undated(
                    note("reason.p3.sentence_not_over_wait", years=str(wait))
                    if wait
                    else _R_P3_NOT_OVER
                )
                _sentence_help(acc)
            else:
                acc.unknown.append(_R_SENTENCE_UNKNOWN)
            continue
        ready = c.sentence_completed_on
        if wait:
            if c.disposition_date is None:
                acc.unknown.append(_R_DISPOSITION_DATE_UNKNOWN)
                continue
            ready = add_years(max(ready, c.disposition_date), wait)
        if ready > as_of:
            acc.wait_until(ready, note("reason.p3.wait_sentence", date=ready))
    others = [c for c in case.charges if c.category != "cannabis_possession"]
    if others:
        if as_of >= _UNIT_RULE_EXCEPTION_FROM:
            acc.info.append(_N("reason.p3.unit_exception"))  # S8, S11, 9.3
        elif any(c.disposition not in FAVORABLE for c in others):
            acc.unknown.append(_N("reason.unit_rule"))
    _person_pending(acc, case)
    acc.info.append(_N("reason.p3.later_convictions_ok"))  # Trey H. (S22)
    return acc.finish(rule, [c.index for c in convictions], now_steps=_P3_NOW)


# --- P5: CP § 10-105(a)(1)-(5), petition for cases without a conviction ---------------------


def petition_non_conviction(case: _Case) -> PathwayResult:
    """Acquittal, dismissal, nolle, stet, PBJ: petition, free, with set waits (S2, S46)."""
    rule = _P5
    if case.juvenile:
        return _fixed(rule.id, "reason.juvenile_other_route")
    if not (case.dispositions & _P5_READS) and not case.open:
        return _fixed(rule.id, "reason.p5.no_non_conviction")
    acc = _Acc()
    as_of = case.as_of
    wait = _P5_WAIT
    candidates = [
        c
        for c in case.charges
        if c.disposition in FAVORABLE or c.disposition in ("stet", "pbj", "ncr")
    ]
    if not candidates:
        if any(c.disposition in UNSURE_DISPOSITION for c in case.charges):
            acc.unknown.append(_R_DISPOSITION_UNKNOWN)
        elif case.open:
            acc.wait_undated(_R_CASE_OPEN)
        else:
            acc.fails.append(_N("reason.p5.no_non_conviction"))
        return acc.finish(rule, ())
    exception = as_of >= _UNIT_RULE_EXCEPTION_FROM
    blockers = not case.dispositions.isdisjoint(_P5_BLOCKERS)
    for c in candidates:
        if blockers and not (exception and c.category == "cannabis_possession"):
            acc.unknown.append(_N("reason.unit_rule"))
        if c.category == "cannabis_civil_citation":
            acc.unknown.append(_N("reason.p5.civil_unsettled"))  # scenario 4 [U]
        elif c.category == "unknown":
            acc.unknown.append(_R_CATEGORY_UNKNOWN)  # it may be a civil citation
        d = c.disposition
        if d in FAVORABLE:
            if c.treatment_nolle:
                acc.unknown.append(_N("reason.p5.treatment_nolle"))  # scenario 33 [U]
            elif c.disposition_date is None:
                acc.info.append(_N("reason.p5.waiver_any_time"))
            else:
                free_on = add_years(c.disposition_date, wait)
                if free_on > as_of:
                    acc.info.append(note("reason.p5.waiver_until", date=free_on))
                    acc.steps.append(_N("step.waiver"))
                else:
                    acc.info.append(_N("reason.p5.wait_over"))
        elif d == "stet":
            if c.disposition_date is None:
                acc.unknown.append(_R_DISPOSITION_DATE_UNKNOWN)
            else:
                ready = add_years(c.disposition_date, wait)
                if ready > as_of:
                    acc.wait_until(ready, note("reason.p5.stet_wait", date=ready))
        elif d == "pbj":
            _pbj(acc, case, c, wait)
        else:  # ncr: listed for 072A, timing not in the law file
            acc.unknown.append(_N("reason.p5.ncr_timing"))
    _person_pending(acc, case)
    return acc.finish(rule, [c.index for c in candidates], now_steps=_P5_NOW)


def _pbj(acc: _Acc, case: _Case, c: Charge, wait: int) -> None:
    # Later of discharge from probation or 3 years; no conviction in that window (S2, S22).
    if c.category == "cannabis_possession":
        acc.info.append(_N("reason.p5.cannabis_pbj_use_p3"))
    if c.sentence_completed_on is None and c.sentence_not_over:
        _pbj_not_discharged(acc, case, c)
        return
    if c.disposition_date is None:
        acc.unknown.append(_R_DISPOSITION_DATE_UNKNOWN)
        return
    if c.sentence_completed_on is None:
        acc.unknown.append(_R_SENTENCE_UNKNOWN)
        return
    ready = max(c.sentence_completed_on, add_years(c.disposition_date, wait))
    if case.later is None:
        acc.unknown.append(_R_LATER_UNKNOWN)
    elif any(c.disposition_date <= d <= ready for d in case.later):
        acc.fails.append(_N("reason.p5.pbj_conviction_within"))
        return
    if ready > case.as_of:
        acc.wait_until(ready, note("reason.p5.pbj_wait", date=ready))


def _pbj_not_discharged(acc: _Acc, case: _Case, c: Charge) -> None:
    # Probation still running: the later of discharge and 3 years is after today, so every
    # later conviction since the PBJ falls inside the window (S2, S22).
    if case.later is None:
        acc.unknown.append(_R_LATER_UNKNOWN)
    elif case.later:
        if c.disposition_date is None:
            acc.unknown.append(_R_DISPOSITION_DATE_UNKNOWN)
        elif any(d >= c.disposition_date for d in case.later):
            acc.fails.append(_N("reason.p5.pbj_conviction_within"))
            return
    acc.wait_undated(_R_P5_PBJ_NOT_OVER)
    _sentence_help(acc)


def _sentence_help(acc: _Acc) -> None:
    if _STEP_SENTENCE_HELP not in acc.steps:
        acc.steps.append(_STEP_SENTENCE_HELP)


def _sentence_running(acc: _Acc, case: _Case, c: Charge, reason: Note, later: Note) -> None:
    """A wait that starts when a sentence the person says is not over ends (P6, P11): no date
    yet; a conviction since the case still needs a lawyer's check (``later``)."""
    acc.wait_undated(reason)
    _sentence_help(acc)
    since = _later_since(case.later, c.disposition_date)
    if since is None:
        acc.unknown.append(_R_LATER_UNKNOWN if case.later is None else _R_DISPOSITION_DATE_UNKNOWN)
    elif since:
        acc.unknown.append(later)


def _later_since(later: tuple[dt.date, ...] | None, start: dt.date | None) -> bool | None:
    """Whether a later conviction came after `start` (None: we cannot tell)."""
    if later is None:
        return None
    if not later:
        return False
    if start is None:
        return None
    return any(start < d for d in later)


# --- P6: CP § 10-110, listed convictions (PWID cannabis, paraphernalia, other drugs) -------


def petition_listed_conviction(case: _Case) -> PathwayResult:
    """Listed convictions: 3 yrs (PWID cannabis) or 5 yrs (misdemeanors) after the sentence."""
    rule = _P6
    if case.juvenile:
        return _fixed(rule.id, "reason.juvenile_other_route")
    if (
        not (case.dispositions & _P6_READS) or case.categories == {"cannabis_possession"}
    ) and not case.open:
        return _fixed(rule.id, "reason.p6.no_listed_conviction")
    acc = _Acc()
    as_of = case.as_of
    candidates = [
        c
        for c in case.charges
        if c.disposition == "guilty" and c.category != "cannabis_possession"
    ]
    if not candidates:
        if any(
            c.disposition in UNSURE_DISPOSITION and c.category != "cannabis_possession"
            for c in case.charges
        ):
            acc.unknown.append(_R_DISPOSITION_UNKNOWN)
        elif case.open:
            acc.wait_undated(_R_CASE_OPEN)
        else:
            acc.fails.append(_N("reason.p6.no_listed_conviction"))
        return acc.finish(rule, ())
    for c in candidates:
        if c.category == "cannabis_pwid":
            wait = _dated_number(rule.id, "pwid_cannabis_wait_years", as_of)
            if wait is None:
                acc.unknown.append(_N("reason.p6.pwid_old_rules"))
                continue
            acc.info.append(_N("reason.p6.pwid_not_pardoned"))
        elif c.category in MISDEMEANOR_LISTED:
            wait = _dated_number(rule.id, "misdemeanor_wait_years", as_of) or 0
        else:
            acc.unknown.append(_N("reason.p6.list_unsettled"))
            continue
        _violation(acc, rule, c, as_of)
        if c.sentence_completed_on is None:
            if c.sentence_not_over:
                # The wait runs from the end of the sentence (S3, S8, 9.4): not begun yet.
                _sentence_running(
                    acc,
                    case,
                    c,
                    note("reason.p6.sentence_not_over", years=str(wait)),
                    _N("reason.p6.later_conviction"),
                )
            else:
                acc.unknown.append(_R_SENTENCE_UNKNOWN)
            continue
        ready = add_years(c.sentence_completed_on, wait)
        start = c.disposition_date or c.sentence_completed_on
        if case.later is None:
            acc.unknown.append(_R_LATER_UNKNOWN)
        elif any(start < d <= ready for d in case.later):
            # Ineligible until the new conviction is eligible too (S48, S50).
            acc.unknown.append(_N("reason.p6.later_conviction"))
        if ready > as_of:
            acc.wait_until(ready, note("reason.p6.wait", date=ready, years=str(wait)))
    _person_pending(acc, case)
    acc.info.append(_N("reason.sa_may_object"))
    return acc.finish(
        rule,
        [c.index for c in candidates],
        now_steps=_P6_NOW,
    )


# --- P7a: the Governor's pardon of 2024-06-17 ----------------------------------------------


def pardon_2024(case: _Case) -> PathwayResult:
    """Misdemeanor possession (guilty or PBJ) charged before 2023-01-01 (S12, S13, 9.1)."""
    rule = _PARDON
    off = _not_in_force(rule, case)
    if off:
        return off
    if case.juvenile:
        return _fixed(rule.id, "reason.pardon.not_juvenile")
    if not (case.categories & _PARDON_CATEGORIES) or not (
        case.dispositions & (CONVICTION | UNSURE_DISPOSITION)
    ):
        return _fixed(rule.id, "reason.pardon.not_covered")
    acc = _Acc()
    cut = _PARDON_CHARGED_BEFORE
    cats = case.categories
    covered: list[int] = []
    unsure = False
    para_ok = "cannabis_possession" in cats and cats <= {"cannabis_possession", "paraphernalia"}
    para_unsure = not (cats & _NON_CANNABIS_BUT_PARAPHERNALIA) and bool(cats & UNSURE_CATEGORY)
    for c in case.charges:
        if c.category not in _PARDON_CATEGORIES:
            continue
        disposition_unsure = c.disposition in UNSURE_DISPOSITION
        if c.disposition not in CONVICTION and not disposition_unsure:
            continue
        # 9.1(a): only conduct before 2023-01-01, whatever the charge was and however it ended.
        before: bool | None = None
        if c.offense_date is not None:
            before = c.offense_date < cut
        elif c.disposition_date is not None and c.disposition_date < cut:
            before = True
        if before is False:
            acc.fails.append(note("reason.pardon.charged_after", date=cut))
            continue
        if disposition_unsure or c.category in UNSURE_CATEGORY or before is None:
            unsure = True
            if disposition_unsure:
                acc.unknown.append(_R_DISPOSITION_UNKNOWN)
            if c.category in UNSURE_CATEGORY:
                acc.unknown.append(_R_CATEGORY_UNKNOWN)
            if before is None:
                acc.unknown.append(_R_OFFENSE_DATE_UNKNOWN)
            continue
        if c.category == "cannabis_possession" or para_ok:
            covered.append(c.index)
        elif cats & _NON_CANNABIS_BUT_PARAPHERNALIA:
            acc.fails.append(_N("reason.pardon.para_other_charges"))
        elif para_unsure:
            unsure = True
            acc.unknown.append(_R_CATEGORY_UNKNOWN)
        else:
            unsure = True
            acc.unknown.append(_N("reason.pardon.para_only_unsettled"))  # 9.1 (d) [U]
    signed = _PARDON_SIGNED_ON
    if covered:
        acc.fails.clear()
        acc.unknown.clear()
        if unsure:
            acc.info.append(_N("reason.pardon.other_charges_unclear"))
        if case.pardoned is False:
            acc.unknown.append(_N("reason.pardon.not_shown"))
            acc.steps.append(_N("step.pardon.apply_individually"))
        acc.info.append(
            note(
                "reason.pardon.maybe_automatic" if acc.unknown else "reason.pardon.automatic",
                date=signed,
            )
        )
        acc.info.append(_N("reason.pardon.not_expungement"))
        # SB 432: Case Search hides a pardoned possession charge, not (as far as the law file
        # says) a pardoned paraphernalia charge, whose pardon note may still show there.
        hidden = case.as_of >= _CASE_SEARCH_HIDES_PARDONED
        if hidden and any(case.charges[i].category == "cannabis_possession" for i in covered):
            acc.steps.append(_N("step.pardon.case_search_hidden"))
        if not hidden or any(case.charges[i].category != "cannabis_possession" for i in covered):
            acc.steps.append(_N("step.pardon.check_case_search"))
        return acc.finish(rule, covered, automatic_on=signed)
    if acc.unknown:
        # The pardon is charge by charge (9.1(b)): a charge it may cover outweighs one it does
        # not, whose reason is still shown after what we do not know.
        acc.info.extend(acc.fails)
        acc.fails.clear()
    elif not acc.fails:
        acc.fails.append(_N("reason.pardon.not_covered"))
    return acc.finish(rule, ())


# --- P7b: CP § 10-105(a)(8), expungement of a pardoned conviction --------------------------


def petition_pardoned(case: _Case, pardon: PathwayResult) -> PathwayResult:
    """One criminal act, not violent, fully pardoned: petition within 10 years (S2, S46)."""
    rule = _P7
    if pardon.status == "not_eligible" and case.pardoned is not True:
        return _fixed(rule.id, "reason.p7.needs_pardon")
    acc = _Acc()
    if case.pardoned is True or pardon.status in ("automatic", "already_done"):
        charges = pardon.charges
        if pardon.status == "automatic":
            deadline = add_years(_PARDON_SIGNED_ON, _P7_DEADLINE_YEARS)
            if case.as_of > deadline:
                acc.unknown.append(note("reason.p7.deadline_passed", date=deadline))
            else:
                acc.info.append(note("reason.p7.deadline", date=deadline))
        if case.later:
            acc.fails.append(_N("reason.p7.more_than_one_act"))
        else:
            acc.unknown.append(_N("reason.p7.one_act_unknown"))
        acc.info.append(_N("reason.p7.p3_simpler"))
        _person_pending(acc, case)
        return acc.finish(rule, charges)
    if pardon.status == "needs_review":
        acc.unknown.append(_N("reason.p7.pardon_unclear"))
        return acc.finish(rule, pardon.charges)
    acc.fails.append(_N("reason.p7.needs_pardon"))
    return acc.finish(rule, ())


# --- P11: CP §§ 10-301 to 10-306, shielding -------------------------------------------------


def shielding(case: _Case) -> PathwayResult:
    """Listed convictions hidden 3 years after the sentence; once per lifetime (S31, S32)."""
    rule = _SHIELDING
    if case.juvenile:
        return _fixed(rule.id, "reason.juvenile_other_route")
    guilty = [c for c in case.charges if c.disposition == "guilty"]
    candidates = [c for c in guilty if c.category in SHIELDABLE]
    if not candidates:
        return _fixed(rule.id, "reason.shield.no_listed_conviction")
    acc = _Acc()
    if len(candidates) != len(guilty):
        acc.unknown.append(_N("reason.shield.other_convictions"))
    wait = _SHIELDING_WAIT
    for c in candidates:
        if c.category == "cannabis_possession":
            acc.info.append(_N("reason.shield.expungement_better"))
        if c.sentence_completed_on is None:
            if c.sentence_not_over:
                # Shielding opens 3 years after the sentence (S31): not begun yet.
                _sentence_running(
                    acc, case, c, _R_SHIELD_NOT_OVER, _N("reason.shield.later_conviction")
                )
            else:
                acc.unknown.append(_R_SENTENCE_UNKNOWN)
            continue
        ready = add_years(c.sentence_completed_on, wait)
        start = c.disposition_date or c.sentence_completed_on
        if case.later is None:
            acc.unknown.append(_R_LATER_UNKNOWN)
        elif any(start < d <= ready for d in case.later):
            acc.unknown.append(_N("reason.shield.later_conviction"))
        if ready > case.as_of:
            acc.wait_until(ready, note("reason.shield.wait", date=ready))
    acc.unknown.append(_N("reason.shield.once_per_lifetime"))
    acc.info.append(_N("reason.shield.employers"))
    _person_pending(acc, case)
    return acc.finish(rule, [c.index for c in candidates])


# --- P9: CP § 8-301.1, the State's Attorney's motion to vacate -------------------------------


def sao_motion_to_vacate(case: _Case) -> PathwayResult:
    """Only the State files, on new evidence or integrity grounds; not a cannabis tool (S7)."""
    rule = _SAO
    off = _not_in_force(rule, case)
    if off:
        return off
    return _sao(tuple(c.index for c in case.charges if c.disposition in CONVICTION))


@functools.lru_cache(maxsize=256)
def _sao(convicted: tuple[int, ...]) -> PathwayResult:
    acc = _Acc()
    if convicted:
        acc.fails.append(_N("reason.sao.only_state_files"))
        acc.fails.append(_N("reason.sao.not_for_cannabis"))
        acc.steps.append(_N("step.sao.use_expungement"))
    else:
        acc.fails.append(_N("reason.sao.needs_conviction"))
    return acc.finish(RULES["sao_motion_to_vacate"], convicted)


# --- P12: CJ § 3-8A-27.1, juvenile records ---------------------------------------------------


def juvenile_expungement(case: _Case) -> PathwayResult:
    """Juvenile court records: 18+, 2 years since the last action, and more (S33)."""
    rule = _JUVENILE
    if not case.juvenile and case.dob is None:
        return _fixed(rule.id, "reason.juv.not_juvenile")
    acc = _Acc()
    idx = case.all_idx
    if not case.juvenile:
        minor = False
        if case.dob is not None:
            for c in case.charges:
                if c.offense_date is not None and c.offense_date < add_years(case.dob, 18):
                    minor = True
        if minor:
            acc.unknown.append(_N("reason.juv.maybe_juvenile"))
            return acc.finish(rule, idx)
        acc.fails.append(_N("reason.juv.not_juvenile"))
        return acc.finish(rule, ())
    if case.dob is None:
        acc.unknown.append(_N("reason.juv.age_unknown"))
    else:
        adult = add_years(case.dob, rule.number("min_age") or 18)
        if adult > case.as_of:
            acc.wait_until(adult, note("reason.juv.until_18", date=adult))
    last: dt.date | None = None
    for c in case.charges:
        for d in (c.disposition_date, c.sentence_completed_on):
            if d is not None and (last is None or d > last):
                last = d
    if any(c.sentence_not_over for c in case.charges):
        # The end of the sentence is the last action the engine counts (as a completion date
        # is above): the 2 years have not begun.
        acc.wait_undated(_R_JUV_NOT_OVER)
        _sentence_help(acc)
    elif last is None:
        acc.unknown.append(_R_DISPOSITION_DATE_UNKNOWN)
    else:
        ready = add_years(last, rule.number("wait_years_after_last_action") or 2)
        if ready > case.as_of:
            acc.wait_until(ready, note("reason.juv.wait", date=ready))
    if case.later is None:
        acc.unknown.append(_R_LATER_UNKNOWN)
    elif case.later:
        acc.fails.append(_N("reason.juv.later_conviction"))
    if case.categories & _OTHER_OR_UNSURE:
        acc.unknown.append(_N("reason.juv.offense_check"))
    acc.unknown.append(_N("reason.juv.other_conditions"))
    _person_pending(acc, case)
    return acc.finish(rule, idx)


# --- the case --------------------------------------------------------------------------------

_SIMPLE: tuple[Callable[[_Case], PathwayResult], ...] = (
    auto_expungement_cannabis,
    auto_expungement_favorable,
    petition_cannabis_possession,
    petition_non_conviction,
    petition_listed_conviction,
)


def classify_charges(case: CaseInput) -> tuple[Charge, ...]:
    """Classify every charge (category override wins) and normalise its disposition."""
    out = []
    for i, ch in enumerate(case.charges):
        disposition, treatment = disposition_detail(ch.disposition)
        out.append(
            Charge(
                i,
                ch.category or classify_charge(ch.description, ch.statute),
                disposition,
                ch.offense_date,
                ch.disposition_date,
                ch.sentence_completed_on,
                ch.probation_violation,
                treatment,
                ch.sentence_not_over and ch.sentence_completed_on is None,
            )  # positional: the hot path of batch screening
        )
    return tuple(out)


def _blanket(status: str, reason: Note, charges: tuple[int, ...]) -> tuple[PathwayResult, ...]:
    return tuple(
        PathwayResult(rule.id, status, None, charges, rule.citations, (reason,), ())
        for rule in RULES.values()
    )


def _pathways(case: CaseFacts, charges: tuple[Charge, ...], as_of: dt.date) -> list[PathwayResult]:
    ctx = _Case(case, charges, as_of)
    results = [fn(ctx) for fn in _SIMPLE]
    pardon = pardon_2024(ctx)
    if case.record_status.pardoned is True:
        pardon = PathwayResult(
            pardon.id,
            "already_done",
            None,
            pardon.charges,
            pardon.citations,
            (_N("reason.record.pardoned"), _N("reason.pardon.not_expungement")),
            (),
        )
    results.append(pardon)
    results.append(petition_pardoned(ctx, pardon))
    shield = shielding(ctx)
    if case.record_status.shielded is True:
        shield = PathwayResult(
            shield.id, "already_done", None, shield.charges, shield.citations,
            (_N("reason.record.shielded"),), (),
        )  # fmt: skip
    results.append(shield)
    results.append(sao_motion_to_vacate(ctx))
    results.append(juvenile_expungement(ctx))
    return results


def _expunged(charges: tuple[Charge, ...], case: CaseFacts) -> tuple[PathwayResult, ...]:
    idx = tuple(c.index for c in charges)
    out = []
    done = _N("reason.record.expunged")
    for rule in RULES.values():
        if (
            rule.id in EXPUNGEMENT_PATHWAYS
            or (rule.id == "pardon_2024" and case.record_status.pardoned is True)
            or (rule.id == "shielding" and case.record_status.shielded is True)
        ):
            status = "already_done"
        else:
            status = "not_eligible"
        out.append(PathwayResult(rule.id, status, None, idx, rule.citations, (done,), ()))
    return tuple(out)


_DOWNGRADE = frozenset({"automatic", "eligible_now", "eligible_later"})
_R_COUNTY_UNKNOWN = _N("reason.county_unknown")
# What an automatic answer says, and what it says once a missing fact leaves it in review.
_UNSURE_WORDING = {
    "reason.p1.automatic": "reason.p1.maybe_automatic",
    "reason.p2.automatic": "reason.p2.maybe_automatic",
    "reason.pardon.automatic": "reason.pardon.maybe_automatic",
}


def _in_review(reason: Note) -> Note:
    """A reason as it reads when the pathway needs review (never "do nothing")."""
    key = _UNSURE_WORDING.get(reason.key)
    return reason if key is None else _shared_note(key, reason.params)


def screen(case: CaseInput, as_of: dt.date) -> ScreeningResult:
    """Screen one case against every pathway as the law stands on `as_of`."""
    charges = classify_charges(case)
    pathways, answer = _decided(case, charges, as_of)
    return ScreeningResult(
        as_of=as_of,
        rules_version=RULES_VERSION,
        case_number=case.case_number,
        county=case.county,
        court=case.court,
        charges=charges,
        pathways=pathways,
        verdict=answer,
    )


Decision: TypeAlias = tuple[tuple[PathwayResult, ...], Verdict]


def _decided(case: CaseFacts, charges: tuple[Charge, ...], as_of: dt.date) -> Decision:
    """`decide`, from the cache when a case with the same `fact_key` was decided before.

    The cache keeps at most _DECIDED_MAX answers and drops the oldest half when full.
    """
    key: Hashable = fact_key(case, charges, as_of)
    if any(c.sentence_not_over for c in charges):
        # Not one of the contract's facts, so not in fact_key (the batch reader builds keys
        # from those alone): keyed apart here.
        key = (key, tuple([c.index for c in charges if c.sentence_not_over]))
    decided = _DECIDED.get(key)
    if decided is None:
        decided = decide(case, charges, as_of)
        if len(_DECIDED) >= _DECIDED_MAX:
            for old in list(itertools.islice(_DECIDED, _DECIDED_MAX // 2)):
                del _DECIDED[old]
        _DECIDED[key] = decided
    return decided


def decide(case: CaseFacts, charges: tuple[Charge, ...], as_of: dt.date) -> Decision:
    """Run every pathway and the verdict for classified charges (no cache).

    Cases with the same `fact_key` get the same answer, so a caller may keep answers by it.
    """
    county = case.county
    pathways: Sequence[PathwayResult]
    if case.record_status.expunged is True:
        pathways = _expunged(charges, case)
    elif county in OUTSIDE_MARYLAND:
        pathways = _blanket("not_eligible", _N("reason.outside_maryland"), ())
    else:
        pathways = _pathways(case, charges, as_of)
        if not county:
            pathways = [
                PathwayResult(
                    p.id,
                    "needs_review",
                    None,
                    p.charges,
                    p.citations,
                    (_R_COUNTY_UNKNOWN, *[_in_review(r) for r in p.reasons]),
                    (_STEP_LEGAL_HELP,),
                )  # fmt: skip
                if p.status in _DOWNGRADE
                else p
                for p in pathways
            ]
    pathways = tuple(pathways)
    return pathways, verdict(case, pathways, charges, as_of)


# --- memoising whole cases on the facts the rules read ----------------------------------------
#
# Most cases differ only in dates that can no longer change the answer. The rules read a
# charge's dates in four ways: against fixed cut-off dates; plus a waiting period (or as the
# later of two such sums), against `as_of`, showing the result only when it is after `as_of`;
# P2 shows "latest disposition + wait" whenever it applies; and against the person's date of
# birth and later convictions. Of the court, county and status they only ask whether it is
# juvenile, outside Maryland, unknown or open. So, when the person gives neither:
# - an offense date is only compared with a few cut-offs: it is keyed on its side of each;
# - a disposition or sentence date so old that every waiting period added to it for this kind
#   of charge (its category and disposition, the tables below) ends before `as_of` is keyed
#   the same way (a sentence date meets no cut-off; whichever of two such dates is later,
#   the answer is the same), unless P2 could still apply (no charge ends in a disposition
#   P2 refuses) and it is on or after P2's first day; any other date is keyed on itself.
#   In juvenile court every date counts towards the last action, so there the longest wait
#   of all applies to every charge;
# - the rules test not guilty, dismissed and nolle prosequi only together (FAVORABLE), and
#   merged and unknown only together (UNSURE_DISPOSITION): each group is keyed as one
#   disposition, except a treatment nolle, which keeps its own.
# Two cases with the same key therefore get identical pathways and verdict.


class Wait(NamedTuple):
    """A waiting period a rule adds to a charge's date, and the charges it is added for."""

    rule: str
    years: str | None  # the rule parameter; None: the date itself is compared with as_of
    categories: frozenset[str] | None  # None: any category
    dispositions: frozenset[str]

    def applies(self, category: str, disposition: str) -> bool:
        """Whether the rule adds this wait to a charge of this kind."""
        return disposition in self.dispositions and (
            self.categories is None or category in self.categories
        )


_ANY_DISPOSITION = frozenset(DISPOSITIONS)
# Every wait the engine adds to a disposition date, and to a sentence date (P2's "latest
# disposition + wait" is handled apart, above).
DISPOSITION_DATE_WAITS: tuple[Wait, ...] = (
    Wait(
        "petition_cannabis_possession",
        "wait_years_after_sentence",  # later of sentence and disposition, plus the wait
        frozenset({"cannabis_possession"}),
        CONVICTION,
    ),
    Wait("petition_non_conviction", "wait_years", None, _P5_CANDIDATES),
    Wait("juvenile_expungement", "wait_years_after_last_action", None, _ANY_DISPOSITION),
)
SENTENCE_DATE_WAITS: tuple[Wait, ...] = (
    Wait(
        "petition_cannabis_possession",
        "wait_years_after_sentence",
        frozenset({"cannabis_possession"}),
        CONVICTION,
    ),
    Wait("petition_non_conviction", None, None, frozenset({"pbj"})),  # later of discharge, 3 yrs
    Wait(
        "petition_listed_conviction",
        "pwid_cannabis_wait_years",
        frozenset({"cannabis_pwid"}),
        frozenset({"guilty"}),
    ),
    Wait(
        "petition_listed_conviction",
        "misdemeanor_wait_years",
        MISDEMEANOR_LISTED,
        frozenset({"guilty"}),
    ),
    Wait("shielding", "wait_years", SHIELDABLE, frozenset({"guilty"})),
    Wait("juvenile_expungement", "wait_years_after_last_action", None, _ANY_DISPOSITION),
)
_JUVENILE_WAIT = ("juvenile_expungement", "wait_years_after_last_action")
# Every (rule, parameter) cut-off date the engine compares an offense date, and a disposition
# date, with (a sentence date is compared with none).
OFFENSE_DATE_CUTOFFS: tuple[tuple[str, str], ...] = (
    ("auto_expungement_cannabis", "charged_before"),
    ("auto_expungement_favorable", "civil_offense_before"),
    ("pardon_2024", "charged_before"),
)
DISPOSITION_DATE_CUTOFFS: tuple[tuple[str, str], ...] = (
    ("auto_expungement_cannabis", "charged_before"),
    ("auto_expungement_favorable", "disposed_on_or_after"),
    ("pardon_2024", "charged_before"),
)
# Dispositions the rules only ever test as a group (see the comment above). "unknown" and
# "merged" are not grouped: an unknown result may be a charge still pending, a merged one not.
_DISPOSITION_GROUP = {d: "favorable" for d in FAVORABLE}


def _cutoffs(names: tuple[tuple[str, str], ...]) -> tuple[dt.date, ...]:
    return tuple(sorted({RULES[r].date(name) for r, name in names}))


def _side(day: dt.date, cutoffs: tuple[dt.date, ...]) -> int | dt.date:
    """How many of `cutoffs` fall before `day` (the day itself if it is one of them)."""
    return day if day in cutoffs else bisect.bisect_left(cutoffs, day)


_OFFENSE_CUTOFFS = _cutoffs(OFFENSE_DATE_CUTOFFS)
_DISPOSITION_CUTOFFS = _cutoffs(DISPOSITION_DATE_CUTOFFS)
_OLD_SENTENCE = 0
_NEVER = dt.date.max
_DECIDED: dict[Hashable, Decision] = {}
_DECIDED_MAX = 20_000  # about 2.4 KB each: under 50 MB in each web worker


def _live_after_waits(as_of: dt.date, waits: Sequence[Wait]) -> dt.date:
    """The first day to which adding the longest of `waits` does not end before `as_of`."""
    if not waits:
        return _NEVER  # no rule adds a wait: the date is only compared with cut-offs
    longest = max(
        0 if w.years is None else RULES[w.rule].number(w.years, as_of) or 0 for w in waits
    )
    day = dt.date(max(as_of.year - longest - 1, dt.MINYEAR), 1, 1)
    while add_years(day, longest) < as_of:
        day += dt.timedelta(days=1)
    return day


def live_from(
    as_of: dt.date, category: str | None = None, disposition: str | None = None
) -> tuple[dt.date, dt.date]:
    """First disposition date and first sentence date that can still matter on `as_of`.

    For a charge of the given kind; without one, for any charge (juvenile court). Not cached:
    KeyMaker keeps the answer for each kind.
    """
    if category is None or disposition is None:
        return (
            _live_after_waits(as_of, DISPOSITION_DATE_WAITS),
            _live_after_waits(as_of, SENTENCE_DATE_WAITS),
        )
    return (
        _live_after_waits(
            as_of,
            [
                w
                for w in DISPOSITION_DATE_WAITS
                if w.applies(category, disposition) and (w.rule, w.years) != _JUVENILE_WAIT
            ],
        ),
        _live_after_waits(
            as_of,
            [
                w
                for w in SENTENCE_DATE_WAITS
                if w.applies(category, disposition) and (w.rule, w.years) != _JUVENILE_WAIT
            ],
        ),
    )


def offense_side(day: dt.date) -> int | dt.date:
    """An offense date as the rules see it: its side of each offense cut-off."""
    return _side(day, _OFFENSE_CUTOFFS)


def disposition_side(day: dt.date) -> int | dt.date:
    """An old disposition date as the rules see it: its side of each disposition cut-off."""
    return _side(day, _DISPOSITION_CUTOFFS)


# A charge as the rules see it: category, disposition, treatment nolle, probation violation,
# offense date, disposition date, sentence completed on (the index is its position).
ChargeFacts: TypeAlias = tuple[
    str, str, bool, bool | None, dt.date | None, dt.date | None, dt.date | None
]


# What the case says (see KeyMaker.head), then what each charge says, in charge order.
CaseKeyHead: TypeAlias = tuple[
    dt.date,
    bool,
    bool,
    bool,
    bool,
    dt.date | None,
    bool | None,
    tuple[dt.date, ...] | None,
    bool | None,
    bool | None,
    bool | None,
]
FactKey: TypeAlias = tuple[CaseKeyHead, tuple[Hashable, ...]]


def charge_facts(c: Charge) -> ChargeFacts:
    """The facts of one classified charge that any rule reads."""
    return (
        c.category,
        c.disposition,
        c.treatment_nolle,
        c.probation_violation,
        c.offense_date,
        c.disposition_date,
        c.sentence_completed_on,
    )


def fact_key(case: CaseFacts, charges: tuple[Charge, ...], as_of: dt.date) -> FactKey:
    """Everything the pathways and the verdict read, with dates reduced as explained above."""
    return case_key(
        as_of,
        case.court,
        case.county,
        case.case_status,
        case.person,
        case.record_status,
        [charge_facts(c) for c in charges],
    )


def case_key(
    as_of: dt.date,
    court: str | None,
    county: str | None,
    case_status: str | None,
    person: PersonInput,
    record_status: RecordStatus,
    charges: Sequence[ChargeFacts],
) -> FactKey:
    """`fact_key` from plain facts, so a batch reader can find an answer without the objects."""
    keys = key_maker(as_of)
    return keys.key(keys.head(court, county, case_status, person, record_status), charges)


@functools.lru_cache(maxsize=16)
def key_maker(as_of: dt.date) -> KeyMaker:
    """The KeyMaker of one `as_of` (a batch screens every case as of the same day)."""
    return KeyMaker(as_of)


class KeyMaker:
    """Makes `case_key`s for one `as_of`, with each date's reduction worked out once.

    A batch makes a key for every case; the waits of each kind of charge and the side of each
    date are the same for all of them, so they are kept here (bounded: dates run from 1900 to
    2100, kinds are categories times dispositions).
    """

    def __init__(self, as_of: dt.date) -> None:
        self.as_of = as_of
        self.juvenile_live = live_from(as_of)
        self.live: dict[tuple[str, str], tuple[dt.date, dt.date]] = {}
        self.offense_sides: dict[dt.date, int | dt.date] = {}
        self.disposition_sides: dict[dt.date, int | dt.date] = {}

    def head(
        self,
        court: str | None,
        county: str | None,
        case_status: str | None,
        person: PersonInput,
        record_status: RecordStatus,
    ) -> CaseKeyHead:
        """The case's part of the key; the rules read no more of the court or the county."""
        return (
            self.as_of,
            court == "juvenile",
            county in OUTSIDE_MARYLAND,
            not county,
            case_status == "open",
            person.date_of_birth,  # fields rather than the objects: cheaper to hash and compare
            person.pending_case,
            person.later_convictions,
            record_status.expunged,
            record_status.pardoned,
            record_status.shielded,
        )

    def key(self, head: CaseKeyHead, charges: Sequence[ChargeFacts]) -> FactKey:
        """The key of a case with this head and these charges (see the comment above)."""
        if head[5] is not None or head[7]:  # a date of birth or later convictions
            return head, tuple(charges)
        p2_open = _P2_FAILS.isdisjoint([c[1] for c in charges])
        juvenile = head[1]
        return head, tuple([self.charge_key(c, p2_open, juvenile) for c in charges])

    def charge_key(self, c: ChargeFacts, p2_open: bool, juvenile: bool) -> Hashable:
        """One charge's part of the key: its facts with dates reduced as explained above."""
        category, disposition, treatment, violation, o, d, s = c
        if juvenile:
            disposed, sentenced = self.juvenile_live
        else:
            kind = (category, disposition)
            live = self.live.get(kind)
            if live is None:
                live = self.live[kind] = live_from(self.as_of, category, disposition)
            disposed, sentenced = live
        if p2_open and disposed > _P2_FIRST_DAY:
            disposed = _P2_FIRST_DAY
        if o is not None:
            side = self.offense_sides.get(o)
            if side is None:
                side = self.offense_sides[o] = offense_side(o)
            o_key: int | dt.date | None = side
        else:
            o_key = None
        d_key: int | dt.date | None = d
        if d is not None and d < disposed:
            side = self.disposition_sides.get(d)
            if side is None:
                side = self.disposition_sides[d] = disposition_side(d)
            d_key = side
        return (
            category,
            disposition if treatment else _DISPOSITION_GROUP.get(disposition, disposition),
            treatment,
            violation,
            o_key,
            d_key,
            None if s is None else s if s >= sentenced else _OLD_SENTENCE,
        )


_NOT_OVER_KEYS = frozenset(
    {
        "reason.p3.sentence_not_over",
        "reason.p3.sentence_not_over_wait",
        "reason.p5.pbj_not_over",
        "reason.p6.sentence_not_over",
        "reason.juv.sentence_not_over",
    }
)


def _waits_for_sentence(pathways: Sequence[PathwayResult]) -> bool:
    """Whether a clearing route waits, first of all, for a sentence that is not over."""
    return any(
        p.status == "eligible_later"
        and p.id in EXPUNGEMENT_PATHWAYS
        and p.reasons
        and p.reasons[0].key in _NOT_OVER_KEYS
        for p in pathways
    )


def verdict(
    case: CaseFacts,
    pathways: Sequence[PathwayResult],
    charges: Sequence[Charge],
    as_of: dt.date,
) -> Verdict:
    """Pick the overall answer. Precedence (first that applies wins).

    1. outside_maryland: the case is federal or in another state.
    2. already_cleared: the record shows it was expunged.
    3. automatic: an automatic expungement covers every charge and is still to come.
    4. act_now: some pathway is eligible now.
    5. automatic: an automatic expungement covering every charge is already due.
    6. wait: the case itself is still open.
    7. needs_review: some pathway needs a lawyer's look (it may be possible sooner).
    8. wait: some pathway becomes possible later.
    In 7 and 8 the summary says so when a clearing route waits for a sentence the person
    says is not over (``Charge.sentence_not_over``).
    9. already_cleared: the record is shielded and nothing else applies.
    10. no_relief_found.
    """
    if case.county in OUTSIDE_MARYLAND:
        return Verdict("outside_maryland", _N("verdict.outside_maryland"))
    if case.record_status.expunged is True:
        return Verdict("already_cleared", _N("verdict.already_cleared"))
    n_charges = len(charges)
    case_open = case.case_status == "open" or any(c.disposition == "pending" for c in charges)
    auto: PathwayResult | None = None
    for p in pathways:
        if (
            p.id in AUTOMATIC_EXPUNGEMENTS
            and p.status == "automatic"
            and len(p.charges) == n_charges
            and (auto is None or (p.eligible_on or as_of) < (auto.eligible_on or as_of))
        ):
            auto = p
    if auto is not None and auto.eligible_on is not None and auto.eligible_on > as_of:
        return Verdict("automatic", note("verdict.automatic_future", date=auto.eligible_on))
    statuses = {p.status for p in pathways}
    if "eligible_now" in statuses:
        if auto is not None:
            return Verdict(
                "act_now", note("verdict.act_now_after_automatic", date=auto.eligible_on)
            )
        return Verdict("act_now", _N("verdict.act_now"))
    if auto is not None:
        return Verdict("automatic", note("verdict.automatic_past", date=auto.eligible_on))
    if case_open:
        return Verdict("wait", _N("verdict.case_open"))
    if "needs_review" in statuses:
        if _waits_for_sentence(pathways):
            return Verdict("needs_review", _N("verdict.needs_review_sentence"))
        return Verdict("needs_review", _N("verdict.needs_review"))
    if "eligible_later" in statuses:
        # "You can ask to clear this record starting ..." names the day a clearing route opens:
        # shielding only hides the record (law file P11), so its date is not that day.
        clearing = [
            p for p in pathways if p.status == "eligible_later" and p.id in EXPUNGEMENT_PATHWAYS
        ]
        dates = [p.eligible_on for p in clearing if p.eligible_on]
        if dates and len(dates) == len(clearing):
            return Verdict("wait", note("verdict.wait_until", date=min(dates)))
        if _waits_for_sentence(clearing):
            return Verdict("wait", _N("verdict.wait_sentence"))
        return Verdict("wait", _N("verdict.wait"))
    if case.record_status.shielded is True:
        return Verdict("already_cleared", _N("verdict.shielded"))
    return Verdict("no_relief_found", _N("verdict.no_relief_found"))
