"""Turn a ScreeningResult into the contract's JSON, with words from the text catalogue."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping

from knowledge.model import Note, ScreeningResult
from knowledge.texts import load_catalog

_MONTHS: dict[str, tuple[str, ...]] = {
    "en": (
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December",
    ),
    "es": (
        "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
        "septiembre", "octubre", "noviembre", "diciembre",
    ),
}  # fmt: skip


@functools.lru_cache(maxsize=4096)
def format_date(day: dt.date, lang: str) -> str:
    """Write a date the way a resident reads it ("June 17, 2024", "17 de junio de 2024")."""
    month = _MONTHS[lang][day.month - 1]
    if lang == "es":
        return f"{day.day} de {month} de {day.year}"
    return f"{month} {day.day}, {day.year}"


def court_name(county: str | None, court: str | None, lang: str) -> str:
    """Name the court to file in: the court (and county) where the case was."""
    catalog = load_catalog(lang)
    if not county or county in ("federal", "other_state"):
        return catalog["court.unknown"]
    kind = court if court in ("district", "circuit", "juvenile") else "either"
    return catalog[f"court.{kind}"].format(county=county_name(county, catalog))


def county_name(county: str, catalog: Mapping[str, str]) -> str:
    """A county as the catalog's language says it ("Baltimore City": "la Ciudad de Baltimore");
    a name of another shape is kept as it is."""
    for suffix, key in ((" City", "county.city"), (" County", "county.county")):
        if county.endswith(suffix) and len(county) > len(suffix):
            return catalog[key].format(name=county.removesuffix(suffix))
    return county


def render_note(n: Note, lang: str, context: dict[str, str]) -> str:
    """Render one reason, step or summary note in `lang`."""
    template = load_catalog(lang)[n.key]
    if not n.params and "{" not in template:
        return template
    values = dict(context)
    for name, value in n.params:
        values[name] = format_date(value, lang) if isinstance(value, dt.date) else str(value)
    return template.format_map(values)


def result_to_json(result: ScreeningResult, lang: str = "en") -> dict[str, object]:
    """Return the DESIGN 5.3 output object for one screened case."""
    context = {"court": court_name(result.county, result.court, lang)}
    return {
        "as_of": result.as_of.isoformat(),
        "rules_version": result.rules_version,
        "case_number": result.case_number,
        "charges": [
            {"index": c.index, "category": c.category, "disposition": c.disposition}
            for c in result.charges
        ],
        "pathways": [
            {
                "id": p.id,
                "status": p.status,
                "eligible_on": p.eligible_on.isoformat() if p.eligible_on else None,
                "charges": list(p.charges),
                "citations": list(p.citations),
                "reasons": [render_note(n, lang, context) for n in p.reasons],
                "next_steps": [render_note(n, lang, context) for n in p.next_steps],
            }
            for p in result.pathways
        ],
        "verdict": {
            "status": result.verdict.status,
            "summary": render_note(result.verdict.summary, lang, context),
        },
    }
