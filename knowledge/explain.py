"""Plain-language explanation of a screening result, as short parts keyed into texts/."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from knowledge.model import Note, PathwayResult, ScreeningResult
from knowledge.render import court_name, format_date, render_note
from knowledge.resources import RESOURCES
from knowledge.texts import load_catalog


@dataclass(frozen=True, slots=True)
class ExplanationPart:
    """One short message part: a section name, its text key, parameters and rendered text."""

    section: str
    key: str
    params: tuple[tuple[str, str], ...]
    text: str


_ORDER = ("done", "coming", "now", "later", "review")


def _still_to_come(p: PathwayResult, as_of: dt.date) -> bool:
    """An automatic route whose date has not come yet: it will happen, it has not."""
    return p.eligible_on is not None and p.eligible_on > as_of


_SECTION_OF = {
    "automatic": "done",
    "already_done": "done",
    "eligible_now": "now",
    "eligible_later": "later",
    "needs_review": "review",
}


def explain(result: ScreeningResult, lang: str, *, self_reported: bool) -> list[ExplanationPart]:
    """Explain a result: what happened, what to do now and later, help, employers, the law.

    With ``self_reported`` the headline uses "likely"/"may" wording and says the answer rests
    on what the person told us.
    """
    catalog = load_catalog(lang)
    context = {"court": court_name(result.county, result.court, lang)}
    parts: list[ExplanationPart] = []

    def add(section: str, key: str, **params: str) -> None:
        text = (
            catalog[key].format_map({**context, **params})
            if params or "{" in catalog[key]
            else catalog[key]
        )
        parts.append(ExplanationPart(section, key, tuple(sorted(params.items())), text))

    def add_note(section: str, n: Note) -> None:
        params = {
            k: format_date(v, lang) if isinstance(v, dt.date) else str(v) for k, v in n.params
        }
        parts.append(
            ExplanationPart(
                section, n.key, tuple(sorted(params.items())), render_note(n, lang, context)
            )
        )

    summary = result.verdict.summary
    if self_reported:
        likely = Note(summary.key.replace("verdict.", "verdict_likely.", 1), summary.params)
        add_note("summary", likely)
        add("summary", "explain.self_reported")
    else:
        add_note("summary", summary)

    grouped: dict[str, list[PathwayResult]] = {s: [] for s in _ORDER}
    for p in result.pathways:
        section = _SECTION_OF.get(p.status)
        if section == "done" and p.status == "automatic" and _still_to_come(p, result.as_of):
            section = "coming"  # "done so far" would say it already happened
        if section:
            grouped[section].append(p)
    seen_steps: set[Note] = set()
    for section in _ORDER:
        items = grouped[section]
        if not items:
            continue
        add(section, f"explain.heading.{section}")
        for p in items:
            what = catalog[f"pathway.{p.id}"]
            if p.status == "automatic":
                day = format_date(p.eligible_on, lang) if p.eligible_on else ""
                add(section, "explain.done.automatic", what=what, date=day)
            elif p.status == "already_done":
                add(section, "explain.done.already_done", what=what)
            elif p.status == "eligible_now":
                add(section, "explain.now", what=what)
            elif p.status == "eligible_later" and p.eligible_on:
                add(
                    section,
                    "explain.later_dated",
                    what=what,
                    date=format_date(p.eligible_on, lang),
                )
            elif p.status == "eligible_later":
                add(section, "explain.later_undated", what=what)
            else:
                add(section, "explain.review", what=what)
            if p.status in ("eligible_later", "needs_review") and p.reasons:
                add_note(section, p.reasons[0])
            for step in p.next_steps:
                if step not in seen_steps and (
                    section != "review" or step.key != "step.legal_help"
                ):
                    seen_steps.add(step)
                    add_note(section, step)

    add("help", "explain.heading.help")
    for r in RESOURCES:
        add("help", r.text_key)

    add("employers", "explain.heading.employers")
    statuses = {p.id: p.status for p in result.pathways}
    verdict = result.verdict.status
    if verdict == "already_cleared" and statuses.get("shielding") == "already_done":
        add("employers", "explain.employers.shielded")
    elif verdict == "already_cleared":
        add("employers", "explain.employers.cleared")
        add("employers", "explain.employers.stale")
    else:
        if statuses.get("pardon_2024") in ("automatic", "already_done"):
            add("employers", "explain.employers.pardoned")
        add("employers", "explain.employers.visible")

    cites: list[str] = []
    for p in result.pathways:
        if p.status != "not_eligible":
            for c in p.citations:
                if c not in cites:
                    cites.append(c)
    if cites:
        add("citations", "explain.citations", citations="; ".join(cites))
    add("citations", "explain.not_advice")
    return parts
