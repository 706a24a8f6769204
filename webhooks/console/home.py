"""Look up a client, screen by hand, and print the next-steps handout.

Searches and case views are POSTs, so names, birth dates and case numbers never land in
URLs, access logs or browser history; every lookup, search, screening and handout is audited
with the worker's id (here and in the records store's own lookup audit).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from db.records.lookup import LookupResult, verified_lookup
from db.records.search import search_people
from knowledge.model import ScreeningResult
from knowledge.render import format_date
from webhooks.console import audit, drafts, pdf
from webhooks.console.screening import (
    ENDED_ASKED_FROM_YEAR,
    LANGS,
    InputError,
    ended_before,
    handout_sections,
    screen_answers,
    screen_dict,
    text,
    today,
)
from webhooks.console.security import current_user, settings_of_current
from webhooks.db import db_session

bp = Blueprint("home", __name__)

MAX_CASE_NUMBER = 40
MAX_NAME = 200
_US_DATE = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")
_YEAR = re.compile(r"[0-9]{4}")
_MONTH = re.compile(r"[0-9]{1,2}")

#: The resident's questions (DESIGN.md section 4) with the bot's answer values.
QUESTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "q_charge": (
        ("possession", "Possession of marijuana"),
        ("pwid", "Possession with intent to distribute (marijuana)"),
        ("paraphernalia", "Paraphernalia"),
        ("other", "Something else"),
        ("not_sure", "Not sure"),
    ),
    "q_other": (("no", "No, just this one"), ("yes", "Yes"), ("not_sure", "Not sure")),
    "q_outcome": (
        ("guilty", "Guilty"),
        ("pbj", "Probation before judgment (PBJ)"),
        ("dropped", "Dropped or dismissed (nolle prosequi)"),
        ("stet", "Stet"),
        ("not_guilty", "Not guilty"),
        ("open", "Still open"),
        ("not_sure", "Not sure"),
    ),
    "q_done": (("yes", "Yes"), ("no", "No"), ("not_sure", "Not sure")),
    "q_court": (
        ("baltimore_city", "Baltimore City"),
        ("baltimore_county", "Baltimore County"),
        ("other_md", "Another Maryland county"),
        ("outside", "Outside Maryland (DC, federal, another state)"),
        ("not_sure", "Not sure"),
    ),
    "q_open": (("no", "No"), ("yes", "Yes"), ("not_sure", "Not sure")),
}
QUESTION_LABELS = {
    "q_charge": "What was the charge?",
    "q_other": "Were there other charges in the same case?",
    "q_outcome": "How did the case end?",
    "q_when": "When was the client arrested or charged?",
    "q_ended": "When did the case end (dropped, stet, or the judge decided)?",
    "q_done": "Is the sentence over, with any probation?",
    "q_done_when": "When did the sentence and probation end?",
    "q_court": "Where was the case?",
    "q_open": "Does the client have an open criminal case now?",
}
DATE_QUESTIONS = ("q_when", "q_ended", "q_done_when")
MONTHS = tuple((str(i), calendar.month_name[i]) for i in range(1, 13))


@dataclass(frozen=True)
class ChargeRow:
    """One charge as the court wrote it, beside what the engine read it as."""

    number: int
    description: str | None
    statute: str | None
    offense_date: str | None
    disposition: str | None
    disposition_date: str | None
    sentence_completed_on: str | None
    category: str
    normalized: str


def _requester() -> str:
    return f"worker:{current_user().id}"


def _audit(
    action: str, kind: str | None = None, target: str | None = None, detail: str = ""
) -> None:
    audit.record(
        action,
        user_id=current_user().id,
        hmac_key=settings_of_current().hmac_key,
        target_kind=kind,
        target=target,
        detail=detail or None,
    )


def parse_dob(raw: str) -> dt.date | None:
    """A date of birth typed as YYYY-MM-DD (the date picker) or MM/DD/YYYY; None if neither."""
    value = raw.strip()
    if not value or len(value) > 10:
        return None
    try:
        if match := _US_DATE.match(value):
            month, day, year = (int(g) for g in match.groups())
            day_value = dt.date(year, month, day)
        else:
            day_value = dt.date.fromisoformat(value)
    except ValueError:
        return None
    if not dt.date(1900, 1, 1) <= day_value <= today():
        return None
    return day_value


def _clean_case_number(raw: str) -> str:
    return raw.strip()[:MAX_CASE_NUMBER]


@bp.get("/")
def index() -> str:
    """The look-up page: by case number, or by name and date of birth."""
    return render_template("console/home.html", active_nav="lookup")


def _charge_rows(case: dict[str, Any], result: ScreeningResult) -> list[ChargeRow]:
    rows = []
    for charge, read in zip(case.get("charges") or [], result.charges, strict=False):
        rows.append(
            ChargeRow(
                number=read.index + 1,
                description=charge.get("description"),
                statute=charge.get("statute"),
                offense_date=charge.get("offense_date"),
                disposition=charge.get("disposition"),
                disposition_date=charge.get("disposition_date"),
                sentence_completed_on=charge.get("sentence_completed_on"),
                category=read.category,
                normalized=read.disposition,
            )
        )
    return rows


def _lookup(case_number: str, dob: dt.date | None) -> LookupResult:
    return verified_lookup(
        db_session(),
        case_number=case_number,
        date_of_birth=dob,
        requester=_requester(),
        hmac_key=settings_of_current().hmac_key,
    )


FACT_FIELDS = ("pending_case", "later_conviction", "later_conviction_date")


def client_facts(form: MultiDict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """What the client tells the worker about themself (the record cannot say): open cases now,
    later convictions. Blank means unknown, which the engine treats as "needs review"."""
    facts: dict[str, Any] = {}
    errors: dict[str, str] = {}
    pending = form.get("pending_case", "")
    if pending not in ("", "yes", "no"):
        errors["pending_case"] = "Choose yes, no or not sure."
    elif pending:
        facts["pending_case"] = pending == "yes"
    later = form.get("later_conviction", "")
    if later not in ("", "yes", "no"):
        errors["later_conviction"] = "Choose yes, no or not sure."
    elif later == "no":
        facts["later_convictions"] = []
    elif later == "yes":
        when = parse_dob(form.get("later_conviction_date", ""))
        if when is None:
            errors["later_conviction"] = "Give the date of the later conviction."
        else:
            facts["later_convictions"] = [when.isoformat()]
    return facts, errors


def with_client_facts(case: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """The stored case with the client's own answers about themself added."""
    if not facts:
        return case
    person = {**(case.get("person") or {}), **facts}
    return {**case, "person": person}


@bp.post("/lookup")
def lookup() -> tuple[str, int]:
    """Find a case by number (and date of birth when the record has one) and screen it."""
    case_number = _clean_case_number(request.form.get("case_number", ""))
    dob_raw = request.form.get("date_of_birth", "")
    errors = {}
    if not case_number:
        errors["case_number"] = "Enter a case number."
    dob = parse_dob(dob_raw)
    if dob_raw.strip() and dob is None:
        errors["date_of_birth"] = "Enter the date of birth as a date, like 1985-03-25."
    # An answer to "Ask the client" that needs fixing is shown on the case page, beside it.
    facts, fact_errors = client_facts(request.form)
    if errors:
        errors.update(fact_errors)
        page = render_template(
            "console/home.html", active_nav="lookup", errors=errors, form=request.form
        )
        return page, 400
    session = db_session()
    found = _lookup(case_number, dob)
    _audit("lookup", "case", case_number.upper(), found.status)
    if not found.found or found.case is None:
        session.commit()
        page = render_template(
            "console/home.html",
            active_nav="lookup",
            form=request.form,
            lookup_status=found.status,
        )
        return page, 200
    case = with_client_facts(found.case, facts)
    result = screen_dict(case)
    _audit("view", "case", str(found.case["case_number"]), result.verdict.status)
    session.commit()
    page = render_template(
        "console/case.html",
        active_nav="lookup",
        case=found.case,
        charges=_charge_rows(found.case, result),
        result=result.to_json("en"),
        programs=found.programs,
        has_personal_data=found.has_personal_data,
        facts=facts,
        fact_form=request.form,
        fact_errors=fact_errors,
        handout_fields={
            "source": "record",
            "case_number": found.case["case_number"],
            "date_of_birth": dob.isoformat() if dob else "",
            **{k: request.form.get(k, "") for k in FACT_FIELDS},
        },
    )
    return page, 400 if fact_errors else 200


@bp.post("/search")
def search() -> tuple[str, int]:
    """Find people by name and date of birth, forgiving typos and name order."""
    name = request.form.get("name", "").strip()
    dob_raw = request.form.get("search_date_of_birth", "")
    dob = parse_dob(dob_raw)
    errors = {}
    if not (2 <= len(name) <= MAX_NAME):
        errors["name"] = "Enter the client's name (first and last)."
    if dob is None:
        errors["search_date_of_birth"] = "Enter the date of birth, like 1985-03-25."
    if errors:
        page = render_template(
            "console/home.html", active_nav="lookup", errors=errors, form=request.form
        )
        return page, 400
    session = db_session()
    matches = search_people(
        session,
        name=name,
        date_of_birth=dob,
        worker_id=_requester(),
        hmac_key=settings_of_current().hmac_key,
    )
    _audit("search", "person", f"{name.lower()}|{dob}", f"{len(matches)} matches")
    session.commit()
    page = render_template(
        "console/home.html", active_nav="lookup", form=request.form, matches=matches, searched=True
    )
    return page, 200


def _when_answer(year_raw: str, month_raw: str, now: dt.date) -> tuple[str | None, str | None]:
    """A "when" question's year and month as the bot's answer (``2015``, ``2015-03``, or None
    for "not sure"), or a message for the worker. The year alone is enough, as on the text
    line; a month without its year, a date still to come or anything else is refused, never
    dropped without a word."""
    year, month = year_raw.strip(), month_raw.strip()
    if month and (not _MONTH.fullmatch(month) or not 1 <= int(month) <= 12):
        return "Choose a month, or leave it as Not sure.", None
    if not year:
        if month:
            return (
                "Enter the year too (the year alone is enough), or set the month to Not sure.",
                None,
            )
        return None, None
    if not _YEAR.fullmatch(year) or not 1900 <= int(year) <= now.year:
        return f"Enter a year between 1900 and {now.year}, or leave it blank.", None
    if month and (int(year), int(month)) > (now.year, now.month):
        return "That month has not come yet. Check the year and the month.", None
    return None, f"{int(year):04d}" + (f"-{int(month):02d}" if month else "")


def _answers(form: MultiDict[str, str]) -> tuple[dict[str, str | None], dict[str, str]]:
    """The by-hand form as bot answers ("not sure" and blanks become unknown), and errors."""
    answers: dict[str, str | None] = {}
    errors: dict[str, str] = {}
    for question, options in QUESTIONS.items():
        value = form.get(question, "not_sure")
        if value not in {v for v, _label in options}:
            errors[question] = "Choose one of the answers."
            continue
        answers[question] = None if value == "not_sure" else value
    for question in DATE_QUESTIONS:
        problem, iso = _when_answer(
            form.get(f"{question}_year", ""), form.get(f"{question}_month", ""), today()
        )
        if problem is not None:
            errors[question] = problem
        else:
            answers[question] = iso
    if "q_when" not in errors and ended_before(answers.get("q_when"), answers.get("q_ended")):
        errors["q_ended"] = "The case cannot end before it happened. Check both dates."
    case_end = answers.get("q_ended") or answers.get("q_when")
    if not errors.keys() & {"q_when", "q_ended", "q_done_when"} and ended_before(
        case_end, answers.get("q_done_when")
    ):
        errors["q_done_when"] = (
            "A sentence starts when the case ends, so it cannot end before. Check both dates."
        )
    return answers, errors


def _screen_page(**context: Any) -> str:
    return render_template(
        "console/screen.html",
        active_nav="screen",
        questions=QUESTIONS,
        labels=QUESTION_LABELS,
        months=MONTHS,
        ended_from=ENDED_ASKED_FROM_YEAR,
        **context,
    )


@bp.route("/screen", methods=["GET", "POST"])
def screen() -> tuple[str, int]:
    """Screen by hand: the resident's questions, for someone with no record in the store."""
    if request.method == "GET":
        return _screen_page(form={}), 200
    answers, errors = _answers(request.form)
    if errors:
        return _screen_page(form=request.form, errors=errors), 400
    result = screen_answers(answers)
    _audit("screen", detail=result.verdict.status)
    db_session().commit()
    hidden = {k: request.form.get(k, "") for k in QUESTIONS}
    for question in DATE_QUESTIONS:
        for part in ("year", "month"):
            hidden[f"{question}_{part}"] = request.form.get(f"{question}_{part}", "")
    return (
        _screen_page(
            form=request.form,
            result=result.to_json("en"),
            charges=None,
            handout_fields={"source": "answers", **hidden},
        ),
        200,
    )


SCREEN_FIELDS = (
    *QUESTIONS,
    *(f"{question}_{part}" for question in DATE_QUESTIONS for part in ("year", "month")),
)


def _page_of(endpoint: str) -> drafts.Page:
    return lambda _view_args: url_for(endpoint)


@drafts.keeps("console.home.screen", SCREEN_FIELDS, "answers", _page_of("console.home.screen"))
def _kept_screen(
    _view_args: Mapping[str, Any], form: MultiDict[str, str], notice: str, status: int
) -> tuple[str, int]:
    """The by-hand form again with the answers given (see ``drafts``); nothing is screened."""
    return _screen_page(form=form, kept_notice=notice), status


@drafts.keeps(
    "console.home.lookup",
    ("case_number", "date_of_birth", *FACT_FIELDS),
    "look-up",
    _page_of("console.home.index"),
)
@drafts.keeps(
    "console.home.search",
    ("name", "search_date_of_birth"),
    "search",
    _page_of("console.home.index"),
)
def _kept_lookup(
    _view_args: Mapping[str, Any], form: MultiDict[str, str], notice: str, status: int
) -> tuple[str, int]:
    """The look-up page again with what was typed (see ``drafts``); nothing is looked up.
    The client's answers from a case page ride along, hidden, with the case number."""
    page = render_template(
        "console/home.html",
        active_nav="lookup",
        form=form,
        fact_fields=FACT_FIELDS,
        kept_notice=notice,
    )
    return page, status


def _handout_result() -> tuple[ScreeningResult, bool, str | None]:
    """Screen again from the handout form: a stored case (re-verified) or the answers."""
    source = request.form.get("source")
    if source == "record":
        case_number = _clean_case_number(request.form.get("case_number", ""))
        dob_raw = request.form.get("date_of_birth", "")
        dob = parse_dob(dob_raw)
        if not case_number or (dob_raw and dob is None):
            abort(400, "The handout form is incomplete.")
        facts, fact_errors = client_facts(request.form)
        if fact_errors:
            abort(400, "The handout form is incomplete.")
        found = _lookup(case_number, dob)
        if not found.found or found.case is None:
            db_session().commit()
            abort(404, "That case was not found (or not verified) any more.")
        result = screen_dict(with_client_facts(found.case, facts))
        return result, False, str(found.case["case_number"])
    if source == "answers":
        answers, errors = _answers(request.form)
        if errors:
            abort(400, "The handout form is incomplete.")
        return screen_answers(answers), True, None
    abort(400, "The handout form is incomplete.")
    raise AssertionError("unreachable")  # abort() raises; this line keeps type checkers calm


@bp.post("/handout")
def handout() -> Response | tuple[str, int]:
    """The client's one-page next steps, in English or Spanish, to print or download as PDF."""
    lang = request.form.get("lang", "en")
    if lang not in LANGS:
        abort(400, "Choose English or Spanish.")
    as_pdf = request.form.get("format") == "pdf"
    try:
        result, self_reported, case_number = _handout_result()
    except InputError:
        abort(400, "The case could not be screened.")
    sections = handout_sections(result, lang, self_reported=self_reported)
    _audit(
        "handout",
        "case" if case_number else None,
        case_number,
        f"{lang} {'pdf' if as_pdf else 'html'}",
    )
    db_session().commit()
    title = text("console.handout.title", lang)
    meta = [
        text("console.handout.prepared", lang, date=format_date(result.as_of, lang)),
    ]
    if case_number:
        meta.insert(0, text("console.handout.case", lang, case_number=case_number))
    if as_pdf:
        body = pdf.render_handout(title, meta, sections)
        response = Response(body, mimetype="application/pdf")
        response.headers["Content-Disposition"] = f'attachment; filename="next-steps-{lang}.pdf"'
        return response
    page = render_template(
        "console/handout.html",
        handout_lang=lang,
        title=title,
        meta=meta,
        sections=sections,
        print_label=text("console.handout.print", lang),
        fields=request.form,
    )
    return page, 200
