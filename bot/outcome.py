"""From a case (looked up, or built from answers) to the replies of a result, via knowledge/.

This is the bot's one boundary with the rules engine: build the DESIGN.md 5.3 input, screen
it, and turn ``knowledge.explain``'s parts into replies: what happened on its own, what to do
now, what opens later and when, free help, and the citations; employers wait for "more detail".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.model import ProgramStatus, Reply
from bot.parsing import PartialDate, fold
from knowledge.engine import EXPUNGEMENT_PATHWAYS
from knowledge.explain import explain
from knowledge.model import (
    CaseInput,
    ChargeInput,
    PersonInput,
    RecordStatus,
    ScreeningResult,
)
from knowledge.render import court_name
from knowledge.rules import RULES
from knowledge.screening import parse_case, screen_case
from knowledge.texts import load_catalog

CHARGE_CATEGORY = {
    "possession": "cannabis_possession",
    "pwid": "cannabis_pwid",
    "paraphernalia": "paraphernalia",
    "other": "other",
}
OUTCOME_DISPOSITION = {
    "guilty": "guilty",
    "pbj": "pbj",
    "dropped": "nolle_prosequi",
    "stet": "stet",
    "not_guilty": "not_guilty",
    "open": "pending",
}
COURT_COUNTY = {
    "baltimore_city": "Baltimore City",
    "baltimore_county": "Baltimore County",
    # Which Maryland county does not change the law; the court is named "in Maryland".
    "other_md": "Maryland",
    "outside": "other_state",
}
YES_NO = {"yes": True, "no": False}


@dataclass(frozen=True)
class Built:
    """A result ready for the conversation: replies now, replies for "more detail", and more."""

    summary: tuple[Reply, ...]
    detail: tuple[Reply, ...]
    reminder: dict[str, str] | None
    verdict: str
    case_ref: str | None
    self_reported: bool


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _latest(answer: Any) -> str | None:
    """A year or month answer as its last day: the cautious reading for waiting periods."""
    if not answer:
        return None
    return PartialDate.from_iso(str(answer)).latest().isoformat()


#: The answers to "How did the case end?" that say it has ended (not open, not "not sure").
DECIDED_OUTCOMES = frozenset(("guilty", "pbj", "dropped", "stet", "not_guilty"))

#: From which offense year "When did the case end?" is asked (law file section 0: use the
#: offense date and the disposition date separately). The offense date decides the pardon
#: (conduct before 2023-01-01) and P1 (charged before 2023-07-01); the disposition date
#: starts the waits and decides P2. A case ends a year or more after the arrest often enough
#: to matter only where that later year moves a date we tell the person:
#: - P2 covers dispositions from 2021-10-01 on (rules.yaml ``disposed_on_or_after``): an
#:   offense in 2020 can end after that day; one from 2019 ending a year later, in 2020, is
#:   still before it.
#: - The waits counted from the disposition are 3 years (P2, and P5 for dismissals, stets and
#:   PBJs; P3's 4-year wait ended 2023-07-01; P6 and shielding count from the sentence's
#:   end): a 2020 disposition of a 2019 offense ended its wait in 2023, before this question
#:   existed.
#: So the threshold is the year before P2's first day: 2020. Older cases keep one date
#: for both, as before; asking more (a threshold too low) would only cost a question.
ENDED_ASKED_FROM_YEAR = RULES["auto_expungement_favorable"].date("disposed_on_or_after").year - 1


def asks_when_ended(answers: Mapping[str, Any]) -> bool:
    """Whether "When did the case end?" is asked (and its answer used): the case has ended
    and it happened recently enough for the end's own date to change what we say."""
    if answers.get("q_outcome") not in DECIDED_OUTCOMES or not answers.get("q_when"):
        return False
    return PartialDate.from_iso(str(answers["q_when"])).year >= ENDED_ASKED_FROM_YEAR


def ended_before(happened: str | None, ended: str | None) -> bool:
    """True when a case that ended on ``ended`` (a year, a month or a day, as answered) surely
    ended before it happened on ``happened``; False when either is unknown."""
    if not happened or not ended:
        return False
    return PartialDate.from_iso(ended).latest() < PartialDate.from_iso(happened).earliest()


def ends_before_it_happened(answers: Mapping[str, Any]) -> bool:
    """True when the end of the case, as told, is surely before the arrest or charge."""
    if not asks_when_ended(answers):
        return False
    happened, ended = answers.get("q_when"), answers.get("q_ended")
    return ended_before(str(happened) if happened else None, str(ended) if ended else None)


def case_end_as_told(answers: Mapping[str, Any]) -> str | None:
    """When the case ended, as answered: ``q_ended`` for a recent case, else ``q_when``."""
    told = answers.get("q_ended") if asks_when_ended(answers) else answers.get("q_when")
    return str(told) if told else None


def sentence_ends_before_the_case(answers: Mapping[str, Any]) -> bool:
    """True when the sentence, as told, surely ended before the case that gave it ended."""
    done = answers.get("q_done_when")
    return ended_before(case_end_as_told(answers), str(done) if done else None)


def _disposition_date(answers: Mapping[str, Any], disposition: str) -> str | None:
    """When the case ended: its own answer for a recent case ("not sure" stays unknown),
    the offense's answer for an older one (the one date asked before there were two)."""
    if disposition in ("pending", "unknown"):
        return None
    if asks_when_ended(answers):
        return _latest(answers.get("q_ended"))
    return _latest(answers.get("q_when"))


def case_from_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    """The screening input (DESIGN.md 5.3) for what a person told us; "not sure" is null."""
    outcome = answers.get("q_outcome")
    disposition = OUTCOME_DISPOSITION.get(str(outcome), "unknown")
    when = _latest(answers.get("q_when"))
    ended = _disposition_date(answers, disposition)
    if when is not None and ended is not None:
        # Both read as their last day: "2023" then "March 2023" must not put the arrest
        # after the end of the case.
        when = min(when, ended)
    main = {
        "category": CHARGE_CATEGORY.get(str(answers.get("q_charge")), "unknown"),
        "offense_date": when,
        "disposition": disposition,
        "disposition_date": ended,
        "sentence_completed_on": (
            _latest(answers.get("q_done_when")) if answers.get("q_done") == "yes" else None
        ),
        "probation_violation": None,
    }
    charges = [main]
    other = answers.get("q_other")
    if other == "yes":
        charges.append({"category": "other", "disposition": "unknown"})
    elif other != "no":
        charges.append({"category": "unknown", "disposition": "unknown"})
    return {
        "case_number": None,
        "court": None,
        "county": COURT_COUNTY.get(str(answers.get("q_court"))),
        "case_status": "open" if disposition == "pending" else None,
        "charges": charges,
        "person": {
            "date_of_birth": None,
            "pending_case": YES_NO.get(str(answers.get("q_open"))),
            "later_convictions": None,
        },
        "record_status": {"expunged": None, "pardoned": None, "shielded": None},
    }


def answers_input(answers: Mapping[str, Any]) -> CaseInput:
    """What a person told us, for the engine: the 5.3 input of ``case_from_answers`` plus
    what that JSON cannot say. "No, my sentence is not over" is not "not sure": the charge
    says so (``sentence_not_over``), so the result can tell them the clock has not started."""
    case = case_input(case_from_answers(answers))
    if answers.get("q_done") != "no" or not case.charges:
        return case
    main, *others = case.charges
    return replace(case, charges=(replace(main, sentence_not_over=True), *others))


#: The answers a person may give as a year or a month, read as their last day by default.
DATE_ANSWERS = ("q_when", "q_ended", "q_done_when")


def uncertain_date(answers: Mapping[str, Any], today: dt.date) -> str | None:
    """The date answer (a year or a month) whose first and last days give different results:
    the law or a waiting period changes inside it, so reading it as its last day could give
    a wrong answer. Asking for the month settles it, or the result says it needs review."""
    reading = _result_signature(answers, today)
    for key in DATE_ANSWERS:
        value = answers.get(key)
        if not value:
            continue
        told = PartialDate.from_iso(str(value))
        if told.is_full:
            continue
        first = told.earliest()
        if key == "q_ended" and answers.get("q_when"):
            # The case cannot end before it started: "2023" after "November 2023" starts
            # in November.
            first = max(first, PartialDate.from_iso(str(answers["q_when"])).earliest())
        first_day = {**answers, key: first.isoformat()}
        if _result_signature(first_day, today) != reading:
            return key
    return None


def _result_signature(answers: Mapping[str, Any], today: dt.date) -> tuple[object, ...]:
    """What a resident would be told: the verdict and each pathway's status."""
    result = screen_case(answers_input(answers), today)
    return (result.verdict.status, tuple(sorted((p.id, p.status) for p in result.pathways)))


def case_input(data: Mapping[str, Any]) -> CaseInput:
    """Read a DESIGN.md 5.3 input object (trusted: built by us or by the records store)."""
    person = data.get("person") or {}
    status = data.get("record_status") or {}
    later = person.get("later_convictions")
    return CaseInput(
        charges=tuple(
            ChargeInput(
                description=c.get("description"),
                statute=c.get("statute"),
                category=c.get("category"),
                offense_date=_date(c.get("offense_date")),
                disposition=c.get("disposition"),
                disposition_date=_date(c.get("disposition_date")),
                sentence_completed_on=_date(c.get("sentence_completed_on")),
                probation_violation=c.get("probation_violation"),
            )
            for c in data.get("charges") or ()
        ),
        case_number=data.get("case_number"),
        court=data.get("court"),
        county=data.get("county"),
        case_status=data.get("case_status"),
        person=PersonInput(
            date_of_birth=_date(person.get("date_of_birth")),
            pending_case=person.get("pending_case"),
            later_convictions=(
                tuple(d for d in (_date(x) for x in later) if d) if later is not None else None
            ),
        ),
        record_status=RecordStatus(
            expunged=status.get("expunged"),
            pardoned=status.get("pardoned"),
            shielded=status.get("shielded"),
        ),
    )


def _program_status(program: ProgramStatus) -> dict[str, str]:
    """The parameters naming a program status: its words in the person's language when we
    know the status (``chat.program.status.*``), the list's own words otherwise, and the date
    (written out when the reply is rendered)."""
    slug = "_".join(fold(program.status).split())
    known = f"chat.program.status.{slug}"
    label = {"label_key": known} if known in load_catalog("en") else {"label": program.status}
    if program.status_date is None:
        return {**label, "status_key": "chat.program.undated"}
    return {**label, "date": program.status_date.isoformat(), "status_key": "chat.program.dated"}


def _program_replies(programs: Iterable[ProgramStatus]) -> list[Reply]:
    out = []
    for program in programs:
        status = _program_status(program)
        if program.program == "bcsao-2019-vacatur":
            out.append(Reply("chat.program.bcsao_2019_vacatur", status))
        else:
            out.append(Reply("chat.program.other", {"program": program.program, **status}))
    return out


#: Sections of ``knowledge.explain`` shown with the result; the rest wait for "more detail".
RESULT_SECTIONS = frozenset(
    {"summary", "done", "coming", "now", "later", "review", "help", "citations"}
)


def _review_in_brief(review: list[Reply]) -> list[Reply]:
    """The review section as its heading and each reason once, without the routes.

    When the whole answer is "a lawyer should check", every route carried its reason, often
    the same one ("We do not know how a charge ended." four times): someone who was not sure
    of anything got nine texts before the phone numbers. The full list waits for "more
    detail".
    """
    brief: list[Reply] = []
    for reply in review:
        is_heading_or_reason = reply.key.startswith(("explain.heading.", "reason."))
        if is_heading_or_reason and reply not in brief:
            brief.append(reply)
    return brief


def result_replies(
    result: ScreeningResult, lang: str, *, self_reported: bool
) -> tuple[tuple[Reply, ...], tuple[Reply, ...]]:
    """The replies of a result, and those of its "more detail" (built by knowledge.explain)."""
    court = court_name(result.county, result.court, lang)
    in_brief = result.verdict.status == "needs_review"
    summary: list[Reply] = []
    review: list[Reply] = []
    detail: list[Reply] = []
    for part in explain(result, lang, self_reported=self_reported):
        reply = Reply(part.key, {"court": court, **dict(part.params)})
        if in_brief and part.section == "review":
            review.append(reply)
        else:
            (summary if part.section in RESULT_SECTIONS else detail).append(reply)
    if review:
        # The section's place: after the routes, before the free help.
        at = next((i for i, r in enumerate(summary) if r.key == "explain.heading.help"), None)
        at = len(summary) if at is None else at
        summary[at:at] = _review_in_brief(review)
        detail[0:0] = review
    return tuple(summary), tuple(detail)


def reminder_for(result: ScreeningResult, today: dt.date) -> dict[str, str] | None:
    """The first future date a route opens, if any (what a reminder would be for).

    A clearing route's date, as the verdict names (``verdict.wait_until``). Shielding only
    hides a record, once in a life, and for cannabis clearing is better (law file P11, S31):
    a reminder for it, offered beside a clearing route, sent people to shield a record they
    could clear, on a day other than the one the result named.
    """
    clearing_in_play = any(
        p.id in EXPUNGEMENT_PATHWAYS and p.status != "not_eligible" for p in result.pathways
    )
    later = [
        p
        for p in result.pathways
        if p.status == "eligible_later"
        and p.eligible_on is not None
        and p.eligible_on > today
        and (p.id in EXPUNGEMENT_PATHWAYS or not clearing_in_play)
    ]
    if not later:
        return None
    first = min(later, key=lambda p: p.eligible_on or today)
    assert first.eligible_on is not None  # noqa: S101 - filtered above
    return {"due_on": first.eligible_on.isoformat(), "pathway": first.id}


def build(
    case: Mapping[str, Any] | CaseInput,
    *,
    programs: Sequence[ProgramStatus],
    self_reported: bool,
    lang: str,
    today: dt.date,
) -> Built:
    """Screen a case as of today and compose its result.

    `case` is a looked-up record's 5.3 input (checked here), or a person's answers already
    read by ``answers_input``."""
    if isinstance(case, CaseInput):
        parsed = case
    else:
        parsed = case_input(case) if self_reported else parse_case(dict(case))
    result = screen_case(parsed, today)
    summary, detail = result_replies(result, lang, self_reported=self_reported)
    case_number = parsed.case_number
    intro = [Reply("chat.result.likely")] if self_reported else []
    return Built(
        summary=(*intro, *_program_replies(programs), *summary),
        detail=detail,
        reminder=reminder_for(result, today),
        verdict=result.verdict.status,
        case_ref=str(case_number) if case_number else None,
        self_reported=self_reported,
    )
