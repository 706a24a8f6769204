"""The conversation: ``advance(state, inbound, ctx) -> Transition``, a table of small steps.

Pure: no I/O and no clock. ``ctx`` carries today's date and the read-only case lookup; every
write the conversation wants (a reminder, a handoff request, erasing the person) is returned
as an *effect* for ``bot.service.handle`` to apply in the same transaction as the new state.
Replies are text keys with parameters; the words are in ``knowledge/texts/chat.*.yaml``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from bot import outcome
from bot.model import (
    CaseLookup,
    Choice,
    Effect,
    ForgetMe,
    Inbound,
    OpenHandoff,
    ProgramStatus,
    Reply,
    SaveReminder,
)
from bot.parsing import (
    Option,
    PartialDate,
    button_value,
    case_number_text,
    fold,
    is_greeting,
    is_not_sure,
    lang_from_hint,
    looks_spanish,
    mentions_probation,
    parse_command,
    parse_date,
    parse_full_date,
    parse_number,
    parse_option,
    parse_yes_no,
    split_button,
    stop_request_lang,
)
from bot.state import MAX_HISTORY, State, reply_from_json, reply_to_json

#: Idle time after which a conversation is forgotten (DESIGN.md section 3: kept 30 days).
EXPIRE_AFTER = dt.timedelta(days=30)
#: Idle time after which the person gets a short "welcome back".
WELCOME_BACK_AFTER = dt.timedelta(hours=24)
#: Misunderstandings in a row before we offer the menu and a person.
MAX_MISSES = 3


@dataclass(frozen=True)
class Context:
    """What a step may consult besides the state and the message: the date and the records."""

    today: dt.date
    lookup: CaseLookup


class Transition(NamedTuple):
    """The new state, what to say, and what to write."""

    state: State
    replies: tuple[Reply, ...]
    effects: tuple[Effect, ...] = ()


Step = Callable[[State, Inbound, Context], Transition]


def _say(state: State, *replies: Reply, effects: Sequence[Effect] = ()) -> Transition:
    return Transition(state, tuple(replies), tuple(effects))


# ---- the questions and their answers ------------------------------------------------------

YES_NO = {"yes": True, "no": False}

#: Maryland's counties other than Baltimore County, as typed (folded): "Howard county" is
#: another Maryland county, not Baltimore County. Washington County is in the court question
#: with "county" only (a bare "Washington" is DC).
OTHER_MD_COUNTIES = (
    "allegany", "anne arundel", "calvert", "caroline", "carroll", "cecil", "charles",
    "dorchester", "frederick", "garrett", "harford", "howard", "kent", "montgomery",
    "prince georges", "pg", "queen annes", "st marys", "st. marys", "saint marys", "somerset",
    "talbot", "wicomico", "worcester",
)  # fmt: skip
YES_NO_UNSURE = (
    Option("yes", ("yes", "si")),
    Option("no", ("no",)),
    Option("not_sure", ()),
)

QUESTIONS: dict[str, tuple[Option, ...]] = {
    "q_charge": (
        Option(
            "possession",
            (
                "possession",
                "posesion",
                "simple possession",
                "poss",
                "having marijuana",
                "tener marihuana",
            ),
            # What people call it: "weed", "I had weed on me", "mota". Read only when no
            # other answer's words are there ("marijuana to sell", "a weed pipe").
            loose_words=(
                "marijuana",
                "marihuana",
                "mariguana",
                "cannabis",
                "weed",
                "pot",
                "mota",
                "hierba",
                "yerba",
                "blunt",
                "joint",
            ),
        ),  # fmt: skip
        Option(
            "pwid",
            (
                "intent",
                "with intent",
                "pwid",
                "intent to distribute",
                "selling",
                "intencion",
                "intencion de distribuir",
                "distribution",
                "distribucion",
                "venta",
                # The answer labels, typed back; longer than "having marijuana" on purpose.
                "to sell",
                "having it to sell",
                "having marijuana to sell",
                "para vender",
                "tenerla para vender",
                "tener marihuana para vender",
                "sell",
                "sold",
                "dealing",
                "vendia",
                "vendiendo",
            ),
        ),  # fmt: skip
        # Not "para": in Spanish it is "for" ("para vender", "para fumar").
        Option(
            "paraphernalia",
            (
                "paraphernalia",
                "parafernalia",
                "pipe",
                "pipes",
                "pipa",
                "pipas",
                # Never "papers" or "papeles" alone: "I don't have my court papers".
                "rolling papers",
                "papel de fumar",
                "bong",
                "grinder",
            ),
        ),  # fmt: skip
        Option("other", ("something else", "other", "otro", "otra", "otra cosa", "algo mas")),
        Option("not_sure", ()),
    ),
    "q_other": YES_NO_UNSURE,
    "q_outcome": (
        Option("guilty", ("guilty", "culpable", "convicted", "condenado", "condenada")),
        Option(
            "pbj",
            (
                "pbj",
                "probation before judgment",
                "probation before judgement",
                "libertad condicional antes del fallo",
                "probatoria antes del fallo",
                # Not "libertad a prueba" alone: like "probation", it may follow a guilty finding.
                "libertad a prueba antes del fallo",
            ),
        ),  # fmt: skip
        Option(
            "dropped",
            (
                "dropped",
                "nolle",
                "nolle prosequi",
                "nol pros",
                "nolle pros",
                "dismissed",
                "retirado",
                "retiraron",
                "desestimado",
                "desestimaron",
                "archivado",
            ),
        ),  # fmt: skip
        Option("stet", ("stet", "inactive", "inactivo", "put on hold", "on hold", "en pausa")),
        Option(
            "not_guilty",
            ("not guilty", "no culpable", "acquitted", "inocente", "innocent", "absuelto"),
        ),
        Option("open", ("open", "still open", "pending", "abierto", "pendiente", "sigue abierto")),
        Option("not_sure", ()),
    ),
    # "Is your sentence over, with any probation?" answered in words: "still on probation",
    # "I finished it", "not yet". The longer phrase wins: "not over" before "over".
    "q_done": (
        Option(
            "yes",
            (
                "yes",
                "si",
                "done",
                "over",
                "finished",
                "complete",
                "completed",
                "all done",
                "its over",
                "termine",
                "terminado",
                "termino",
                "ya termino",
                "cumplido",
                "cumpli",
            ),
        ),
        Option(
            "no",
            (
                "no",
                "not yet",
                "still",
                "on probation",
                "still on probation",
                "not over",
                "not done",
                "not finished",
                "todavia",
                "todavia no",
                "aun no",
                "sigo",
                "en libertad a prueba",
                "no ha terminado",
                "no termino",
                "no termine",
            ),
        ),
        Option("not_sure", ()),
    ),
    "q_court": (
        Option("baltimore_city", ("baltimore city", "city", "ciudad", "ciudad de baltimore")),
        Option("baltimore_county", ("baltimore county", "county", "condado de baltimore")),
        Option(
            "other_md",
            (
                "another county",
                "other county",
                "otro condado",
                "maryland",
                "washington county",
                "condado de washington",
                *(
                    phrase
                    for name in OTHER_MD_COUNTIES
                    for phrase in (name, f"{name} county", f"condado de {name}")
                ),
            ),
        ),  # fmt: skip
        Option(
            "outside",
            (
                "outside maryland",
                "dc",
                "washington",
                "federal",
                "another state",
                "fuera",
                "fuera de maryland",
                "otro estado",
                "pennsylvania",
                "virginia",
                # Longer than "maryland", so "not in Maryland" is not read as Maryland.
                "outside of maryland",
                "out of maryland",
                "not maryland",
                "not in maryland",
                "out of state",
                "other state",
                "no fue en maryland",
                "fuera del estado",
            ),
        ),  # fmt: skip
        Option("not_sure", ()),
    ),
    "q_open": YES_NO_UNSURE,
}

#: The question path, in order. ``q_ended``, ``q_done``, ``q_done_when`` and ``q_open`` are
#: skipped when they do not apply (``q_ended``: see ``outcome.asks_when_ended``).
QUESTION_ORDER = ("q_charge", "q_other", "q_outcome", "q_when", "q_ended", "q_done",
                  "q_done_when", "q_court", "q_open")  # fmt: skip

MENU = ("case", "questions", "learn", "person")
MENU_OPTIONS = (
    Option("case", ("case", "case number", "check", "caso", "numero de caso")),
    Option(
        "questions",
        (
            "questions",
            "preguntas",
            "dont know",
            "no se",
            # Option 2's own words hold "case number": longer phrases, so they win.
            "dont know my case number",
            "i dont know my case number",
            "no case number",
            "dont have a case number",
            "dont have my case number",
            "no se mi numero de caso",
            "no tengo numero de caso",
            "no tengo mi numero de caso",
            "no tengo el numero de caso",
        ),
    ),  # fmt: skip
    Option("learn", ("learn", "options", "aprender", "informacion", "opciones")),
    Option(
        "person",
        ("person", "human", "talk", "persona", "hablar", "agent", "lawyer", "abogado", "abogada"),
    ),  # fmt: skip
)
LEARN = ("pardon", "expungement", "shielding", "employers", "help", "other")
#: Topics that state the law, so their explainer ends with what it rests on.
LEARN_CITED = frozenset(LEARN) - {"help"}
RESULT_NEXT = ("detail", "remind", "person")
#: With no date to wait for (relief can be asked for now, or there is none), no reminder is
#: offered: "remind me when I can file" would promise a text that never comes.
RESULT_NEXT_NOW = ("detail", "person")
RESULT_OPTIONS = {
    "detail": Option("detail", ("detail", "more", "more detail", "detalle", "mas", "mas detalle")),
    "remind": Option("remind", ("remind", "remind me", "reminder", "recordar", "recordatorio")),
    "person": Option("person", ("person", "human", "talk", "persona", "hablar")),
}
NOT_FOUND_NEXT = ("questions", "retry")


def _choices(prefix: str, values: Sequence[str], *, numbered: bool = True) -> tuple[Choice, ...]:
    return tuple(
        Choice(f"{prefix}.{value}", str(i) if numbered else value)
        for i, value in enumerate(values, start=1)
    )


def _yes_no_choices() -> tuple[Choice, ...]:
    return (Choice("chat.btn.yes", "yes"), Choice("chat.btn.no", "no"))


def _question_reply(step: str) -> Reply:
    options = QUESTIONS.get(step)
    if options is None:  # the date questions
        return Reply(f"chat.{step}", choices=(Choice("chat.btn.not_sure", "not sure"),))
    return Reply(
        f"chat.{step}",
        choices=_choices(f"chat.btn.{step}", [o.value for o in options]),
    )


# ---- prompts: how each step asks its question (used after BACK, HELP, LANG, misses) -------


def prompt(state: State) -> tuple[Reply, ...]:
    """The question the current step is waiting on."""
    step = state.step
    if step == "lang":
        return (Reply("chat.lang.ask", choices=_choices("chat.btn.lang", ["en", "es"])),)
    if step == "menu":
        return (Reply("chat.menu", choices=_choices("chat.btn.menu", MENU)),)
    if step == "case_number":
        return (Reply("chat.case.ask"),)
    if step == "dob":
        return (Reply("chat.dob.ask", choices=(Choice("chat.btn.skip", "skip"),)),)
    if step == "not_found":
        return (Reply("chat.lookup.next", choices=_choices("chat.btn.not_found", NOT_FOUND_NEXT)),)
    if step in QUESTION_ORDER:
        return (_question_reply(step),)
    if step == "found_open":
        return (_question_reply("q_open"),)
    if step == "q_month" and (asked := _month_year(state)) is not None:
        return (
            Reply(
                "chat.q_month",
                {"year": str(asked[1])},
                choices=(Choice("chat.btn.not_sure", "not sure"),),
            ),
        )
    if step == "result":
        offered = _result_next(state)
        key = "chat.result.next" if offered == RESULT_NEXT else "chat.result.next_now"
        return (Reply(key, choices=_choices("chat.btn.result", offered)),)
    if step == "remind_confirm":
        reminder = (state.result or {}).get("reminder") or {}
        return (
            Reply(
                "chat.remind.confirm",
                {"date": str(reminder.get("due_on", ""))},
                choices=_yes_no_choices(),
            ),
        )
    if step == "learn":
        return (Reply("chat.learn.menu", choices=_choices("chat.btn.learn", LEARN)),)
    if step == "handoff_confirm":
        return (
            Reply("chat.handoff.ask"),
            *_summary(state),
            Reply("chat.handoff.confirm", choices=_yes_no_choices()),
        )
    if step == "delete_confirm":
        return (Reply("chat.delete.confirm", choices=_yes_no_choices()),)
    return prompt(replace(state, step="menu"))


def _goto(state: State, step: str, *, remember: bool = True) -> State:
    """Move to ``step``; the step we leave goes on the BACK stack."""
    history = state.history
    if remember and state.step not in ("new", step, "delete_confirm", "lang"):
        history = (*history, state.step)[-MAX_HISTORY:]
    return replace(state, step=step, history=history, misses=0)


def _miss(state: State, key: str, **params: str) -> Transition:
    """Count a misunderstanding; the third in a row offers the menu and a person."""
    misses = state.misses + 1
    if misses >= MAX_MISSES:
        moved = _goto(state, "menu")
        return _say(moved, Reply("chat.miss.offer"), *prompt(moved))
    return _say(replace(state, misses=misses), Reply(key, params, choices=_asked_choices(state)))


def _asked_choices(state: State) -> tuple[Choice, ...]:
    """The buttons of the question still waiting, for the "I did not understand" reply: on
    Telegram they were only under the question, often scrolled away (SMS shows no buttons)."""
    offered = [reply.choices for reply in prompt(state) if reply.choices]
    return offered[-1] if offered else ()


def _to_menu(state: State, *before: Reply) -> Transition:
    moved = _goto(state, "menu")
    return _say(moved, *before, *prompt(moved))


# ---- steps --------------------------------------------------------------------------------


def _on_new(state: State, inbound: Inbound, ctx: Context) -> Transition:
    """First contact: welcome; ask the language unless the channel or the words tell us."""
    command = parse_command(inbound.text)
    lang = lang_from_hint(inbound.lang_hint)
    if command == "lang_es" or (lang is None and looks_spanish(inbound.text)):
        lang = "es"
    elif command == "lang_en":
        lang = "en"
    if lang is None:
        asking = replace(state, step="lang", lang=None)
        return _say(asking, Reply("chat.welcome.first"), *prompt(asking))
    chosen = replace(state, lang=lang, step="menu")
    return _say(
        chosen,
        Reply("chat.welcome.hello"),
        Reply(_privacy_key(inbound)),
        *prompt(chosen),
    )


def _privacy_key(inbound: Inbound) -> str:
    return "chat.privacy.sms" if inbound.channel == "sms" else "chat.privacy.other"


def _on_lang(state: State, inbound: Inbound, ctx: Context) -> Transition:
    """Set the language, then go on where we were (or, the first time, to the menu)."""
    command = parse_command(inbound.text)
    lang = {"lang_en": "en", "lang_es": "es"}.get(command or "")
    if lang is None:
        picked = parse_option(
            inbound.text,
            (Option("en", ("en", "eng", "english", "ingles")), Option("es", ("es", "esp"))),
        )
        lang = picked
    if lang is None:
        return _miss(state, "chat.miss.lang")
    back_to = state.pending.get("return_to")
    chosen = replace(state, lang=lang, misses=0).with_pending(return_to=None)
    if back_to is None:
        moved = replace(chosen, step="menu")
        return _say(moved, Reply(_privacy_key(inbound)), *prompt(moved))
    moved = replace(chosen, step=str(back_to))
    return _say(moved, Reply("chat.lang.set"), *prompt(moved))


def _on_menu(state: State, inbound: Inbound, ctx: Context) -> Transition:
    """Route 1-4 from the menu."""
    choice = parse_option(inbound.text, MENU_OPTIONS)
    if choice is None and is_not_sure(inbound.text):
        choice = "questions"
    if choice == "case":
        moved = _goto(state, "case_number")
        return _say(moved, *prompt(moved))
    if choice == "questions":
        return _start_questions(state)
    if choice == "learn":
        moved = _goto(state, "learn")
        return _say(moved, *prompt(moved))
    if choice == "person":
        return _ask_handoff(state)
    if is_greeting(inbound.text):
        return _say(state, *prompt(state))
    return _miss(state, "chat.miss.number", max="4")


def _on_case_number(state: State, inbound: Inbound, ctx: Context) -> Transition:
    """Take a case number in any common format and ask for the date of birth."""
    if is_not_sure(inbound.text) or parse_number(inbound.text, 2) == 2:
        return _start_questions(state)
    normalized = ctx.lookup.normalize_case_number(case_number_text(inbound.text))
    if normalized is None:
        return _miss(state, "chat.case.bad")
    moved = _goto(state.with_pending(case_number=normalized), "dob")
    return _say(moved, *prompt(moved))


_SKIP = frozenset(("skip", "saltar", "omitir", "pass", "no", "none", "ninguno", "prefiero no"))


def _on_dob(state: State, inbound: Inbound, ctx: Context) -> Transition:
    """Take the date of birth (or SKIP), then look the case up."""
    case_number = state.pending.get("case_number")
    if not case_number:
        return _to_menu(state)
    folded = fold(inbound.text)
    if folded in _SKIP or is_not_sure(inbound.text):
        dob = None
    else:
        dob = parse_full_date(inbound.text)
        if dob is None or dob >= ctx.today or dob.year < 1900:
            return _miss(state, "chat.dob.bad")
    found = ctx.lookup.lookup(
        case_number=str(case_number), date_of_birth=dob, requester=inbound.sender_hash
    )
    cleared = state.with_pending(case_number=None)
    if found.status == "locked_out":
        return _to_menu(cleared, Reply("chat.lookup.locked"))
    if found.status != "found" or found.case is None:
        moved = _goto(cleared, "not_found")
        return _say(moved, Reply("chat.lookup.not_found"), *prompt(moved))
    # Records never say whether the person has an open case now; one question settles it.
    found_case = {
        "case": dict(found.case),
        "programs": [
            [p.program, p.status, p.status_date.isoformat() if p.status_date else None]
            for p in found.programs
        ],
    }
    moved = _goto(cleared.with_pending(found=found_case), "found_open", remember=False)
    return _say(
        moved,
        Reply("chat.lookup.found", {"case_number": str(found.case.get("case_number") or "")}),
        *prompt(moved),
    )


def _on_found_open(state: State, inbound: Inbound, ctx: Context) -> Transition:
    """After a lookup: is a criminal case open now? Then the result."""
    found = state.pending.get("found")
    if not isinstance(found, dict):
        return _to_menu(state)
    if is_not_sure(inbound.text):
        value: str | None = "not_sure"
    else:
        value = parse_option(inbound.text, YES_NO_UNSURE)
        if value is None:
            yes_no = parse_yes_no(inbound.text)
            value = None if yes_no is None else ("yes" if yes_no else "no")
    if value is None:
        return _miss(state, "chat.miss.number", max="3")
    case = dict(found["case"])
    case["person"] = {**(case.get("person") or {}), "pending_case": YES_NO.get(value)}
    programs = tuple(
        ProgramStatus(str(name), str(status), dt.date.fromisoformat(day) if day else None)
        for name, status, day in found.get("programs") or ()
    )
    built = outcome.build(
        case, programs=programs, self_reported=False, lang=state.language, today=ctx.today
    )
    return _show_result(state.with_pending(found=None), built)


def _on_not_found(state: State, inbound: Inbound, ctx: Context) -> Transition:
    """After a miss: answer questions instead, or try another number."""
    choice = parse_option(
        inbound.text,
        (
            Option("questions", ("questions", "preguntas", "yes", "si")),
            Option("retry", ("retry", "try again", "again", "otra vez", "another", "otro")),
        ),
    )
    if choice is None and is_not_sure(inbound.text):
        choice = "questions"  # "I don't know" (the number): the questions need none
    if choice == "questions":
        return _start_questions(state)
    if choice == "retry":
        moved = _goto(state, "case_number")
        return _say(moved, *prompt(moved))
    normalized = ctx.lookup.normalize_case_number(case_number_text(inbound.text))
    if normalized is not None:  # they simply sent another number
        moved = _goto(state.with_pending(case_number=normalized), "dob")
        return _say(moved, *prompt(moved))
    return _miss(state, "chat.miss.number", max="2")


def _start_questions(state: State) -> Transition:
    moved = _goto(replace(state, answers={}), "q_charge")
    return _say(moved, Reply("chat.q.intro"), *prompt(moved))


def _next_question(state: State, after: str) -> str | None:
    answers = state.answers
    index = QUESTION_ORDER.index(after) + 1
    for step in QUESTION_ORDER[index:]:
        if step == "q_ended" and not outcome.asks_when_ended(answers):
            continue
        if step == "q_done" and answers.get("q_outcome") not in ("guilty", "pbj"):
            continue
        if step == "q_done_when" and answers.get("q_done") != "yes":
            continue
        if step == "q_open" and answers.get("q_outcome") == "open":
            continue  # they just said this case is open; the answer would change nothing
        return step
    return None


def _answer(state: State, step: str, value: str | None, ctx: Context) -> Transition:
    """Store one answer and ask the next question, or show the result after the last."""
    answers = {**state.answers, step: value}
    # A changed answer can make later answers meaningless (BACK, then a new outcome).
    if step == "q_outcome" and value not in ("guilty", "pbj"):
        answers.pop("q_done", None)
        answers.pop("q_done_when", None)
    if step == "q_done" and value != "yes":
        answers.pop("q_done_when", None)
    if step in ("q_outcome", "q_when") and not outcome.asks_when_ended(answers):
        answers.pop("q_ended", None)
    answered = replace(state, answers=answers)
    following = _next_question(answered, step)
    if following is not None:
        moved = _goto(answered, following)
        return _say(moved, *prompt(moved))
    return _finish_questions(answered, ctx, month_asked=False)


def _finish_questions(state: State, ctx: Context, *, month_asked: bool) -> Transition:
    """The result of the answers; first the month, once, when a year leaves it open."""
    unsure = outcome.uncertain_date(state.answers, ctx.today)
    if unsure is not None and not month_asked:
        moved = _goto(state.with_pending(month_for=unsure), "q_month")
        return _say(moved, *prompt(moved))
    built = outcome.build(
        outcome.answers_input(state.answers),
        programs=(),
        self_reported=True,
        lang=state.language,
        today=ctx.today,
    )
    if unsure is not None:
        # Still open (NOT SURE, or a month that itself straddles): say so, never guess.
        first, *rest = built.summary
        built = replace(built, summary=(first, Reply("chat.result.date_unclear"), *rest))
    return _show_result(state, built)


def _month_year(state: State) -> tuple[str, int] | None:
    """The date answer the month question is about, and its year."""
    key = state.pending.get("month_for")
    value = state.answers.get(str(key)) if key in outcome.DATE_ANSWERS else None
    return (str(key), PartialDate.from_iso(str(value)).year) if value else None


def _on_month(state: State, inbound: Inbound, ctx: Context) -> Transition:
    """The month of a year that matters ("03/2021", "March", "not sure")."""
    asked = _month_year(state)
    if asked is None:
        return _to_menu(state)
    key, year = asked
    cleared = state.with_pending(month_for=None)
    if is_not_sure(inbound.text):
        return _finish_questions(cleared, ctx, month_asked=True)
    number = parse_number(inbound.text, 12)  # "3" on a keypad: the month, March
    when = (
        PartialDate(year, number)
        if number is not None
        else parse_date(inbound.text) or parse_date(f"{inbound.text} {year}")
    )
    if when is None or when.year != year or when.earliest() > ctx.today:
        return _miss(state, "chat.miss.month", year=str(year))
    answers = {**state.answers, key: when.iso()}
    if outcome.ends_before_it_happened(answers):
        return _miss(state, "chat.miss.month_order", year=str(year))
    return _finish_questions(replace(cleared, answers=answers), ctx, month_asked=True)


def _on_question(state: State, inbound: Inbound, ctx: Context) -> Transition:
    """A multiple-choice question: a number, the words, or "not sure"."""
    step = state.step
    options = QUESTIONS[step]
    if is_not_sure(inbound.text):
        return _answer(state, step, "not_sure", ctx)
    value = parse_option(inbound.text, options)
    if value is None and {o.value for o in options} == {"yes", "no", "not_sure"}:
        yes_no = parse_yes_no(inbound.text)
        value = None if yes_no is None else ("yes" if yes_no else "no")
    if value is None:
        if is_greeting(inbound.text):
            return _say(state, *prompt(state))
        if step == "q_outcome" and mentions_probation(inbound.text):
            # "I got probation": with a guilty finding, or PBJ? Most people cannot tell.
            return _miss(state, "chat.miss.probation")
        return _miss(state, "chat.miss.number", max=str(len(options)))
    return _answer(state, step, value, ctx)


def _on_date_question(state: State, inbound: Inbound, ctx: Context) -> Transition:
    """A "when" question: a year is enough; "not sure" is fine."""
    if is_not_sure(inbound.text):
        return _answer(state, state.step, None, ctx)
    when = parse_date(inbound.text)
    if when is None or when.earliest() > ctx.today:
        return _miss(state, "chat.miss.date")
    if state.step == "q_ended" and outcome.ends_before_it_happened(
        {**state.answers, "q_ended": when.iso()}
    ):
        started = PartialDate.from_iso(str(state.answers["q_when"])).year
        return _miss(state, "chat.miss.ended_early", year=str(started))
    if state.step == "q_done_when" and outcome.sentence_ends_before_the_case(
        {**state.answers, "q_done_when": when.iso()}
    ):
        ended = PartialDate.from_iso(str(outcome.case_end_as_told(state.answers))).year
        return _miss(state, "chat.miss.sentence_early", year=str(ended))
    return _answer(state, state.step, when.iso(), ctx)


def _show_result(state: State, built: outcome.Built) -> Transition:
    stored = {
        "summary": [reply_to_json(r) for r in built.summary],
        "detail": [reply_to_json(r) for r in built.detail],
        "reminder": built.reminder,
        "verdict": built.verdict,
        "case_ref": built.case_ref,
        "self_reported": built.self_reported,
    }
    if built.self_reported:
        # The dates behind this result, kept with it: a second round of questions replaces
        # the answers, and a handoff asked during it must still describe this result.
        stored["told"] = [reply_to_json(r) for r in _told_dates(state.answers)]
    moved = _goto(replace(state, result=stored), "result")
    return _say(moved, *built.summary, *prompt(moved))


def _result_next(state: State) -> tuple[str, ...]:
    """The options after a result: the reminder only when there is a date to remind of."""
    return RESULT_NEXT if (state.result or {}).get("reminder") else RESULT_NEXT_NOW


def _on_result(state: State, inbound: Inbound, ctx: Context) -> Transition:
    """After a result: more detail, a reminder, or a person."""
    offered = _result_next(state)
    # The reminder's words still get their answer ("no date") when it is not on the list.
    words_only = tuple(RESULT_OPTIONS[v] for v in RESULT_NEXT if v not in offered)
    choice = parse_option(inbound.text, tuple(RESULT_OPTIONS[v] for v in offered))
    if choice is None and words_only and parse_number(inbound.text, 9) is None:
        choice = parse_option(inbound.text, words_only)
    result = state.result or {}
    if choice == "detail":
        return _show_detail(state, result)
    if choice == "remind":
        if not result.get("reminder"):
            return _say(state, Reply("chat.remind.none"), *prompt(state))
        moved = _goto(state, "remind_confirm")
        return _say(moved, *prompt(moved))
    if choice == "person":
        return _ask_handoff(state)
    if is_greeting(inbound.text):
        return _say(state, *prompt(state))
    return _miss(state, "chat.miss.number", max="3")


def _show_detail(state: State, result: Mapping[str, Any]) -> Transition:
    """The longer explanation once; asked again, a short line says it was sent.

    The long text again (on SMS up to several messages, each paid for) buried the next-step
    options under what the person had just read.
    """
    detail = tuple(reply_from_json(r) for r in result.get("detail") or ())
    if detail and result.get("detail_sent"):
        return _say(state, Reply("chat.result.detail_sent"), *prompt(state))
    shown = replace(state, result={**result, "detail_sent": True}) if detail else state
    return _say(shown, *detail, *prompt(shown))


def _on_remind_confirm(state: State, inbound: Inbound, ctx: Context) -> Transition:
    """Store the reminder (and the encrypted address) only after a clear yes."""
    answer = parse_yes_no(inbound.text)
    reminder = (state.result or {}).get("reminder")
    if answer is None or not reminder:
        if not reminder:
            return _to_menu(state)
        return _miss(state, "chat.miss.yes_no")
    back = _goto(state, "result", remember=False)
    if not answer:
        return _say(back, Reply("chat.remind.cancelled"), *prompt(back))
    if inbound.reply_address is None:
        return _say(back, Reply("chat.remind.no_address"), *prompt(back))
    due_on = dt.date.fromisoformat(str(reminder["due_on"]))
    effect = SaveReminder(
        due_on=due_on,
        pathway=str(reminder["pathway"]),
        case_ref=(state.result or {}).get("case_ref"),
    )
    return _say(
        back,
        Reply(_reminder_saved_key(inbound), {"date": str(reminder["due_on"])}),
        *prompt(back),
        effects=(effect,),
    )


def _reminder_saved_key(inbound: Inbound) -> str:
    """SMS people text DELETE; on Telegram the command is /delete (its "/" menu names it)."""
    return "chat.remind.saved.sms" if inbound.channel == "sms" else "chat.remind.saved.other"


def _on_learn(state: State, inbound: Inbound, ctx: Context) -> Transition:
    """The options explainer: pardon, expungement, shielding, employers, free help, and the
    relief the screening leaves out (an individual pardon, resentencing)."""
    topic = parse_option(
        inbound.text,
        (
            Option("pardon", ("pardon", "perdon", "indulto")),
            Option("expungement", ("expungement", "expunge", "borrado", "eliminar")),
            Option("shielding", ("shielding", "shield", "proteccion", "ocultar")),
            Option("employers", ("employers", "employer", "jobs", "job", "empleo", "trabajo")),
            Option("help", ("free help", "help", "lawyer", "abogado", "ayuda gratis")),
            Option("other", ("prison", "jail", "resentencing", "prision", "carcel")),
        ),
    )
    if topic is None:
        if is_greeting(inbound.text):
            return _say(state, *prompt(state))
        return _miss(state, "chat.miss.number", max=str(len(LEARN)))
    replies = [Reply(f"chat.learn.{topic}")]
    if topic in LEARN_CITED:
        replies.append(Reply(f"chat.learn.law.{topic}"))
    # The topics again as buttons; SMS shows none, and its text says to reply another number.
    more = Reply("chat.learn.more", choices=_choices("chat.btn.learn", LEARN))
    return _say(replace(state, misses=0), *replies, more)


def _ask_handoff(state: State) -> Transition:
    moved = _goto(state, "handoff_confirm")
    return _say(moved, *prompt(moved))


def _summary(state: State) -> tuple[Reply, ...]:
    """What we would share with a person: language, case number, the result in brief."""
    result = state.result or {}
    lines = [Reply(f"chat.summary.lang.{state.language}")]
    if result.get("case_ref"):
        lines.append(Reply("chat.summary.case", {"case_number": str(result["case_ref"])}))
    elif result.get("self_reported"):
        lines.append(Reply("chat.summary.self"))
        told = result.get("told")
        # A result stored before its dates were kept with it: the answers are still its own
        # unless a new round of questions has begun.
        lines.extend(
            (reply_from_json(r) for r in told) if told is not None else _told_dates(state.answers)
        )
    verdict = result.get("verdict")
    if verdict:
        lines.append(Reply(f"chat.summary.verdict.{verdict}"))
    else:
        lines.append(Reply("chat.summary.no_result"))
    return tuple(lines)


def _told_when(prefix: str, answer: object) -> Reply:
    """One date a person told us, as they told it: a year, a month or a day."""
    if not answer:
        return Reply(f"{prefix}.not_sure")
    told = PartialDate.from_iso(str(answer))
    if told.is_full:
        return Reply(f"{prefix}.day", {"date": told.earliest().isoformat()})
    if told.month is not None:
        return Reply(
            f"{prefix}.month", {"month_key": f"chat.month.m{told.month}", "year": str(told.year)}
        )
    return Reply(f"{prefix}.year", {"year": str(told.year)})


def _told_dates(answers: Mapping[str, Any]) -> tuple[Reply, ...]:
    """The dates behind a result from answers, for the team to check: when it happened and,
    when we asked it, when the case ended ("not sure" said so)."""
    lines = [_told_when("chat.summary.happened", answers.get("q_when"))]
    if outcome.asks_when_ended(answers):
        lines.append(_told_when("chat.summary.ended", answers.get("q_ended")))
    return tuple(lines)


def _on_handoff_confirm(state: State, inbound: Inbound, ctx: Context) -> Transition:
    """Open a handoff request with the summary, only if the person agrees to share it."""
    answer = parse_yes_no(inbound.text)
    if answer is None:
        return _miss(state, "chat.miss.yes_no")
    if not answer:
        return _to_menu(state, Reply("chat.handoff.declined"))
    moved = replace(_goto(state, "menu", remember=False), handoff_waiting=True)
    return _say(
        moved,
        Reply("chat.handoff.done"),
        *prompt(moved),
        effects=(OpenHandoff(summary=_summary(state)),),
    )


def _on_delete_confirm(state: State, inbound: Inbound, ctx: Context) -> Transition:
    """Erase everything on a clear yes; anything else keeps the data."""
    answer = parse_yes_no(inbound.text)
    if answer:
        return _say(State(), Reply("chat.delete.done"), effects=(ForgetMe(),))
    back_to = str(state.pending.get("return_to") or "menu")
    moved = replace(state, step=back_to, misses=0).with_pending(return_to=None)
    return _say(moved, Reply("chat.delete.kept"), *prompt(moved))


STEPS: dict[str, Step] = {
    "new": _on_new,
    "lang": _on_lang,
    "menu": _on_menu,
    "case_number": _on_case_number,
    "dob": _on_dob,
    "found_open": _on_found_open,
    "not_found": _on_not_found,
    "q_charge": _on_question,
    "q_other": _on_question,
    "q_outcome": _on_question,
    "q_when": _on_date_question,
    "q_ended": _on_date_question,
    "q_done": _on_question,
    "q_done_when": _on_date_question,
    "q_court": _on_question,
    "q_open": _on_question,
    "q_month": _on_month,
    "result": _on_result,
    "remind_confirm": _on_remind_confirm,
    "learn": _on_learn,
    "handoff_confirm": _on_handoff_confirm,
    "delete_confirm": _on_delete_confirm,
}


# ---- global commands -----------------------------------------------------------------------


def _cmd_menu(state: State, inbound: Inbound) -> Transition:
    return _to_menu(state.with_pending(case_number=None, return_to=None))


def _cmd_back(state: State, inbound: Inbound) -> Transition:
    if not state.history:
        return _say(replace(state, misses=0), Reply("chat.back.start"), *prompt(state))
    previous = replace(state, step=state.history[-1], history=state.history[:-1], misses=0)
    return _say(previous, *prompt(previous))


def _cmd_help(state: State, inbound: Inbound) -> Transition:
    key = "chat.help.sms" if inbound.channel == "sms" else "chat.help.other"
    return _say(replace(state, misses=0), Reply(key), *prompt(state))


def _return_to(state: State, asking_step: str) -> str | None:
    """Where to go after a LANG or DELETE question; sent twice, the first one's place holds."""
    if state.step == asking_step:
        back = state.pending.get("return_to")
        return str(back) if back else None
    return state.step


def _cmd_lang(state: State, inbound: Inbound) -> Transition:
    asking = replace(state, step="lang", misses=0).with_pending(
        return_to=_return_to(state, "lang")
    )
    return _say(asking, *prompt(asking))


def _switch_lang(lang: str) -> Callable[[State, Inbound], Transition]:
    def switch(state: State, inbound: Inbound) -> Transition:
        chosen = replace(state, lang=lang, misses=0)
        return _say(chosen, Reply("chat.lang.set"), *prompt(chosen))

    return switch


def _cmd_delete(state: State, inbound: Inbound) -> Transition:
    if state.step == "new":
        # A first message can be DELETE: a reminder or a handoff outlives the 30-day chat, and
        # the reminder told the person to text DELETE. Ask in the words' language.
        lang = lang_from_hint(inbound.lang_hint) or ("es" if looks_spanish(inbound.text) else "en")
        state = replace(state, lang=lang)
    asking = replace(state, step="delete_confirm", misses=0).with_pending(
        return_to=_return_to(state, "delete_confirm")
    )
    return _say(asking, *prompt(asking))


def _cmd_restart(state: State, inbound: Inbound) -> Transition:
    # A team answer still waits for this person: starting over must not lose it.
    fresh = State(step="menu", lang=state.lang, handoff_waiting=state.handoff_waiting)
    return _say(fresh, Reply("chat.restart"), *prompt(fresh))


GLOBAL_COMMANDS: dict[str, Callable[[State, Inbound], Transition]] = {
    "menu": _cmd_menu,
    "start": _cmd_menu,
    "back": _cmd_back,
    "help": _cmd_help,
    "lang": _cmd_lang,
    "lang_en": _switch_lang("en"),
    "lang_es": _switch_lang("es"),
    "delete": _cmd_delete,
    "restart": _cmd_restart,
}


# ---- the entry point ---------------------------------------------------------------------


def advance(state: State, inbound: Inbound, ctx: Context) -> Transition:
    """Feed one message to the conversation and get the new state, replies and effects."""
    now = inbound.received_at
    idle = now - state.last_seen if state.last_seen is not None else dt.timedelta(0)
    if state.step != "new" and idle > EXPIRE_AFTER:
        state = State(handoff_waiting=state.handoff_waiting)
    welcome_back = state.step != "new" and idle > WELCOME_BACK_AFTER
    if welcome_back:
        state = _detail_not_sent(state)
    transition = _dispatch(state, inbound, ctx, welcome_back=welcome_back)
    new_state = transition.state
    if not any(isinstance(effect, ForgetMe) for effect in transition.effects):
        new_state = replace(new_state, last_seen=now)
    replies = transition.replies
    if inbound.channel != "sms":  # SMS shows no buttons: numbered lines in the text
        replies = _buttons_of_step(replies, new_state.step)
    if welcome_back and replies and replies[0].key != "chat.welcome_back":
        replies = (Reply("chat.welcome_back"), *replies)
    return Transition(new_state, replies, transition.effects)


def _detail_not_sent(state: State) -> State:
    """Someone back after a day may no longer have the message with the detail (a basic
    phone keeps few texts): "it is in a message above" would send them looking for nothing."""
    result = state.result or {}
    if not result.get("detail_sent"):
        return state
    return replace(state, result={k: v for k, v in result.items() if k != "detail_sent"})


def _buttons_of_step(replies: tuple[Reply, ...], step: str) -> tuple[Reply, ...]:
    """Mark each offered choice with the step now waiting for it (see ``split_button``)."""
    return tuple(_tagged(reply, step) if reply.choices else reply for reply in replies)


def _tagged(reply: Reply, step: str) -> Reply:
    choices = tuple(replace(c, value=button_value(step, c.value)) for c in reply.choices)
    return replace(reply, choices=choices)


#: Buttons that still do what they say when pressed under an old message: the menu's ("Check
#: a case number" tapped later means it, wherever the chat has got to).
STANDING_BUTTONS = frozenset({"menu"})


def _stale_button(state: State, inbound: Inbound) -> tuple[Inbound, str | None]:
    """A button's bare answer, and the earlier step it was pressed under (the step it carries
    is not the one waiting), else None: its answer is not taken for this question."""
    if inbound.kind != "button":
        return inbound, None
    asked, value = split_button(inbound.text)
    stale = asked is not None and asked != state.step and state.step != "new"
    return replace(inbound, text=value), asked if stale else None


def _dispatch(state: State, inbound: Inbound, ctx: Context, *, welcome_back: bool) -> Transition:
    inbound, stale = _stale_button(state, inbound)
    if stale in STANDING_BUTTONS:
        return STEPS[stale](replace(state, step=stale, misses=0), inbound, ctx)
    if stale is not None:
        return _say(state, Reply("chat.button_stale"), *prompt(state))
    if inbound.kind in ("media", "empty") or (
        inbound.kind != "button" and not inbound.text.strip()
    ):
        if state.step == "new":
            return _on_new(state, inbound, ctx)
        return _say(state, Reply("chat.media"), *prompt(state))
    command = parse_command(inbound.text)
    if command in ("stop", "unstop"):
        if inbound.channel == "sms":
            # Twilio answers its opt-out keywords itself (DESIGN.md section 4); we stay quiet.
            return _say(state)
        if command == "stop":
            # Nothing to switch off: we write only when written to, or for a reminder; say
            # so, and how to erase (it used to show the menu, as if STOP meant nothing).
            asked = state.lang or lang_from_hint(inbound.lang_hint) or "en"
            return _stop_hint(state, inbound, asked)
        command = None
    if inbound.kind == "text" and (asked_in := stop_request_lang(inbound.text)) is not None:
        return _stop_hint(state, inbound, asked_in)
    if state.step == "new" and command != "delete":
        return _on_new(state, inbound, ctx)
    # In the language step "english"/"español" are answers, not switches.
    answers_lang = state.step == "lang" and command in ("lang_en", "lang_es")
    if command is not None and command in GLOBAL_COMMANDS and not answers_lang:
        return GLOBAL_COMMANDS[command](state, inbound)
    if welcome_back and is_greeting(inbound.text):
        return _say(state, Reply("chat.welcome_back"), *prompt(state))
    step = STEPS.get(state.step)
    if step is None:
        return _to_menu(state)
    return step(state, inbound, ctx)


def _stop_hint(state: State, inbound: Inbound, asked_in: str) -> Transition:
    """ "Please stop texting me" is not the STOP keyword: tell the person the word that works
    (and how to erase), in their words' language, without counting a miss or asking more."""
    hint = "chat.stop_hint.sms" if inbound.channel == "sms" else "chat.stop_hint.chat"
    return _say(replace(state, lang=state.lang or asked_in), Reply(hint))


def error_transition(state: State, inbound: Inbound) -> Transition:
    """What to say when a step crashed: a short apology and the menu; the old state is kept."""
    if state.step in ("new", "lang") or state.lang is None:
        kept = replace(state, step="menu", lang=state.lang or lang_from_hint(inbound.lang_hint))
    else:
        kept = replace(state, step="menu", misses=0)
    return _say(replace(kept, last_seen=inbound.received_at), Reply("chat.error"), *prompt(kept))
