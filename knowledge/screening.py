"""The screening contract (DESIGN 5.3): validate input JSON, screen, and return output JSON."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from knowledge.engine import screen
from knowledge.model import (
    CASE_STATUSES,
    CATEGORIES,
    COURTS,
    CaseInput,
    ChargeInput,
    PersonInput,
    RecordStatus,
    ScreeningResult,
)
from knowledge.rules import RULES_VERSION

__all__ = [
    "MAX_CHARGES",
    "check_charge",
    "RULES_VERSION",
    "InputError",
    "parse_case",
    "parse_county",
    "parse_date",
    "screen",
    "screen_json",
]

MAX_CHARGES = 200
MAX_TEXT = 500
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

MARYLAND_COUNTIES: tuple[str, ...] = (
    "Allegany County", "Anne Arundel County", "Baltimore City", "Baltimore County",
    "Calvert County", "Caroline County", "Carroll County", "Cecil County", "Charles County",
    "Dorchester County", "Frederick County", "Garrett County", "Harford County",
    "Howard County", "Kent County", "Montgomery County", "Prince George's County",
    "Queen Anne's County", "St. Mary's County", "Somerset County", "Talbot County",
    "Washington County", "Wicomico County", "Worcester County",
)  # fmt: skip


def _county_key(text: str) -> str:
    t = text.lower().replace("’", "'").replace(".", "").replace("saint ", "st ")
    t = " ".join(t.replace("_", " ").replace("-", " ").split())
    return t if t.startswith("baltimore") else t.removesuffix(" county")


_COUNTY_LOOKUP: dict[str, str] = {_county_key(c): c for c in MARYLAND_COUNTIES}
_COUNTY_LOOKUP.update(
    {
        "baltimore city": "Baltimore City",
        "federal": "federal",
        "other state": "other_state",
        "outside maryland": "other_state",
    }
)
_CHARGE_KEYS = frozenset(
    {
        "description", "statute", "category", "offense_date", "disposition",
        "disposition_date", "sentence_completed_on", "probation_violation",
    }
)  # fmt: skip
_CASE_KEYS = frozenset(
    {
        "as_of", "case_number", "court", "county", "case_status", "charges", "person",
        "record_status",
    }
)  # fmt: skip
_PERSON_KEYS = frozenset({"date_of_birth", "pending_case", "later_convictions"})
_RECORD_KEYS = frozenset({"expunged", "pardoned", "shielded"})


class InputError(ValueError):
    """Bad screening input: `field` names the place ("charges[0].disposition_date")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


def parse_date(value: object, field: str) -> dt.date | None:
    """Parse an optional YYYY-MM-DD date."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _DATE.match(value):
        raise InputError(field, "must be a date written YYYY-MM-DD, or null")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(field, "is not a real calendar date") from None
    if day.year < 1900 or day.year > 2100:
        raise InputError(field, "must be between 1900 and 2100")
    return day


def _text(value: object, field: str, limit: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(field, "must be text, or null")
    value = value.strip()
    if len(value) > limit:
        raise InputError(field, f"is longer than {limit} characters")
    if any(ord(ch) < 32 for ch in value):
        raise InputError(field, "contains control characters")
    return value or None


def _bool(value: object, field: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise InputError(field, "must be true, false or null")


def _choice(value: object, field: str, allowed: tuple[str, ...]) -> str | None:
    text = _text(value, field, 40)
    if text is None:
        return None
    key = text.lower().removesuffix(" court").strip()
    if key not in allowed:
        raise InputError(field, f"must be one of {', '.join(allowed)}, or null")
    return key


def parse_county(value: object, field: str = "county") -> str | None:
    """Return the canonical county name, "federal", "other_state" or None."""
    text = _text(value, field, 60)
    if text is None:
        return None
    found = _COUNTY_LOOKUP.get(_county_key(text))
    if found is None:
        raise InputError(
            field, "must be a Maryland county, Baltimore City, federal, other_state, or null"
        )
    return found


def _mapping(value: object, field: str, keys: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InputError(field, "must be a JSON object")
    for key in value:
        if key not in keys:
            name = f"{field}.{key}" if field else str(key)
            raise InputError(name, "is not a known field")
    return value


def check_charge(charge: ChargeInput, field: str) -> ChargeInput:
    """Refuse a charge whose dates cannot all be true."""
    if (
        charge.offense_date is not None
        and charge.disposition_date is not None
        and charge.offense_date > charge.disposition_date
    ):
        raise InputError(f"{field}.offense_date", "is after the disposition_date")
    return charge


def _charge(value: object, field: str) -> ChargeInput:
    data = _mapping(value, field, _CHARGE_KEYS)
    category = _text(data.get("category"), f"{field}.category", 40)
    if category is not None and category not in CATEGORIES:
        raise InputError(f"{field}.category", "is not a known category")
    return check_charge(_charge_fields(data, field, category), field)


def _charge_fields(data: Mapping[str, Any], field: str, category: str | None) -> ChargeInput:
    return ChargeInput(
        description=_text(data.get("description"), f"{field}.description"),
        statute=_text(data.get("statute"), f"{field}.statute", 100),
        category=category,
        offense_date=parse_date(data.get("offense_date"), f"{field}.offense_date"),
        disposition=_text(data.get("disposition"), f"{field}.disposition", 200),
        disposition_date=parse_date(data.get("disposition_date"), f"{field}.disposition_date"),
        sentence_completed_on=parse_date(
            data.get("sentence_completed_on"), f"{field}.sentence_completed_on"
        ),
        probation_violation=_bool(data.get("probation_violation"), f"{field}.probation_violation"),
    )


def _person(value: object) -> PersonInput:
    if value is None:
        return PersonInput()
    data = _mapping(value, "person", _PERSON_KEYS)
    later_raw = data.get("later_convictions")
    later: tuple[dt.date, ...] | None = None
    if later_raw is not None:
        if not isinstance(later_raw, list) or len(later_raw) > 100:
            raise InputError("person.later_convictions", "must be a list of dates, or null")
        days = []
        for i, item in enumerate(later_raw):
            day = parse_date(item, f"person.later_convictions[{i}]")
            if day is None:
                raise InputError(f"person.later_convictions[{i}]", "must be a date")
            days.append(day)
        later = tuple(days)
    return PersonInput(
        date_of_birth=parse_date(data.get("date_of_birth"), "person.date_of_birth"),
        pending_case=_bool(data.get("pending_case"), "person.pending_case"),
        later_convictions=later,
    )


def _record(value: object) -> RecordStatus:
    if value is None:
        return RecordStatus()
    data = _mapping(value, "record_status", _RECORD_KEYS)
    return RecordStatus(
        expunged=_bool(data.get("expunged"), "record_status.expunged"),
        pardoned=_bool(data.get("pardoned"), "record_status.pardoned"),
        shielded=_bool(data.get("shielded"), "record_status.shielded"),
    )


def parse_case(data: object) -> CaseInput:
    """Validate one case of the DESIGN 5.3 input and build a CaseInput; raise InputError."""
    case = _mapping(data, "", _CASE_KEYS)
    charges_raw = case.get("charges")
    if not isinstance(charges_raw, list) or not charges_raw:
        raise InputError("charges", "must be a list with at least one charge")
    if len(charges_raw) > MAX_CHARGES:
        raise InputError("charges", f"has more than {MAX_CHARGES} charges")
    return CaseInput(
        charges=tuple(_charge(c, f"charges[{i}]") for i, c in enumerate(charges_raw)),
        case_number=_text(case.get("case_number"), "case_number", 64),
        court=_choice(case.get("court"), "court", COURTS),
        county=parse_county(case.get("county")),
        case_status=_choice(case.get("case_status"), "case_status", CASE_STATUSES),
        person=_person(case.get("person")),
        record_status=_record(case.get("record_status")),
        as_of=parse_date(case.get("as_of"), "as_of"),
    )


def screen_case(case: CaseInput, default_as_of: dt.date) -> ScreeningResult:
    """Screen a parsed case; its own as_of wins over the caller's date."""
    return screen(case, case.as_of or default_as_of)


def screen_json(data: object, default_as_of: dt.date, lang: str = "en") -> dict[str, object]:
    """Validate, screen and return the output JSON for one case (input as_of wins)."""
    return screen_case(parse_case(data), default_as_of).to_json(lang)
