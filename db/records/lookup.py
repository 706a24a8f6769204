"""Verified case lookup for the bot and the console, under DESIGN.md section 3's privacy rules.

- A record with a date of birth is found only when the caller gives the same date of birth; a
  record without one is found whatever date the caller gives (the flows look identical).
- "Not found" and "wrong date of birth" return the same result after the same work (the same
  two statements and a constant-time comparison, against a dummy date when there is no record).
- At most 5 failed verifications per requester in 24 hours; then ``locked_out``, and the
  statement returns nothing of the case.
- Every call writes an audit row (requester, keyed hash of the case number, outcome, time).

The caller owns the transaction: ``verified_lookup`` only adds rows to ``session`` and the
caller commits it (with the conversation state, for the bot), so the audit row and the
lock-out count are part of the caller's unit of work.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import os
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, cast

from sqlalchemy import (
    Connection,
    Integer,
    String,
    Table,
    and_,
    bindparam,
    column,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Session

from db.base import utcnow
from db.identity import value_hash
from db.models.records import LookupAudit, RecordCharge
from db.records.case_numbers import normalize_case_number

MAX_FAILURES = 5
#: Signed-in clinic workers mistype case numbers all day; every attempt is audited with their
#: id, so they get a higher ceiling that still stops a stolen account from enumerating.
WORKER_MAX_FAILURES = 100
WORKER_PREFIX = "worker:"
FAILURE_WINDOW = dt.timedelta(hours=24)
FAILED_OUTCOMES = ("not_found", "not_verified")
#: Same default as webhooks.config in development; production refuses to start without a key.
_DEV_HMAC_KEY = "dev-hmac-key-not-for-production"
_DUMMY_DOB = "1900-01-01"

_charges = cast(Table, RecordCharge.__table__)
_audit = cast(Table, LookupAudit.__table__)

Status = Literal["found", "not_found_or_unverified", "locked_out"]


@dataclass(frozen=True)
class ProgramEntry:
    """A case's place on a relief program list (e.g. the 2019 vacatur motion)."""

    program: str
    status: str
    status_date: dt.date | None
    note: str | None


@dataclass(frozen=True)
class LookupResult:
    """What the caller may show: the case as DESIGN 5.3 screening input, or nothing."""

    status: Status
    case: dict[str, Any] | None = None
    programs: tuple[ProgramEntry, ...] = ()
    has_personal_data: bool = False

    @property
    def found(self) -> bool:
        """True when the case may be shown."""
        return self.status == "found"


NOT_FOUND_OR_UNVERIFIED = LookupResult("not_found_or_unverified")
LOCKED_OUT = LookupResult("locked_out")


def audit_key() -> str:
    """The HMAC key for audit hashes, from RECORDCHECK_HMAC_KEY (db/ does not import webhooks/)."""
    return os.environ.get("RECORDCHECK_HMAC_KEY", "").strip() or _DEV_HMAC_KEY


def case_number_hash(normalized: str | None, hmac_key: str | None = None) -> str:
    """The keyed hash the audit stores instead of a case number."""
    return value_hash(hmac_key or audit_key(), "case_number", normalized or "")


# Statements built once (bind parameters, no per-call construction): the lookup is the hot path.
_AUDIT = insert(_audit)

# The whole read side of a lookup in one statement (one round trip, where five were needed):
# the requester's recent failures; the case by its unique normalised number (only when not
# locked out, and only if it has a charge: a case whose every charge is expunged is not
# shown); its people's birth dates; and its charges and program entries, which leave the
# database only when the given date of birth matches the record (or the record has none).
# "Not found" and "not verified" run this same statement and the same audit insert; the
# constant-time comparison in Python decides what the caller gets.
_LOOKUP_SQL = """
WITH recent AS (
    SELECT count(*) AS failures FROM lookup_audit
    WHERE requester = :requester AND action = 'lookup'
      AND outcome IN ({failed}) AND created_at > :since
),
found AS (
    SELECT c.id, c.case_number, c.court, c.county, c.case_status,
        NOT EXISTS (
            SELECT 1 FROM record_defendants d
            WHERE d.case_id = c.id AND d.date_of_birth IS NOT NULL
        ) OR EXISTS (
            SELECT 1 FROM record_defendants d
            WHERE d.case_id = c.id AND d.date_of_birth = :date_of_birth
        ) AS verified
    FROM record_cases c, recent
    WHERE c.case_number = :case_number AND recent.failures < :failure_limit
      AND EXISTS (SELECT 1 FROM record_charges g WHERE g.case_id = c.id)
)
SELECT recent.failures, found.id, found.case_number, found.court, found.county,
    found.case_status,
    (SELECT {agg}({row}(d.name IS NOT NULL, d.date_of_birth))
        FROM record_defendants d WHERE d.case_id = found.id) AS people,
    CASE WHEN found.verified THEN (
        SELECT {agg}({row}(g.charge_number, g.description, g.statute, g.offense_date,
            g.disposition, g.disposition_date, g.sentence_completed_on, g.probation_violation))
        FROM record_charges g WHERE g.case_id = found.id
    ) END AS charges,
    CASE WHEN found.verified THEN (
        SELECT {agg}({row}(p.name, e.status, e.status_date, e.note))
        FROM program_entries e JOIN relief_programs p ON p.id = e.program_id
        WHERE e.case_number = found.case_number
    ) END AS programs
FROM recent LEFT JOIN found ON true
"""
_FAILED_SQL = ", ".join(f"'{outcome}'" for outcome in FAILED_OUTCOMES)
_DIALECT_JSON = {
    "postgresql": {"agg": "json_agg", "row": "json_build_array"},
    "sqlite": {"agg": "json_group_array", "row": "json_array"},
}
_LOOKUPS = {
    name: text(_LOOKUP_SQL.format(failed=_FAILED_SQL, **functions))
    .bindparams(
        bindparam("since", type_=_audit.c.created_at.type),
        bindparam("date_of_birth", type_=_charges.c.offense_date.type),
    )
    # Typed result columns: SQLAlchemy then keeps the row layout with the compiled statement.
    .columns(
        column("failures", Integer),
        column("id", Integer),
        column("case_number", String),
        column("court", String),
        column("county", String),
        column("case_status", String),
        column("people"),
        column("charges"),
        column("programs"),
    )
    for name, functions in _DIALECT_JSON.items()
}


class _Charge(NamedTuple):
    """A stored charge as the lookup statement returns it (dates as ISO text)."""

    charge_number: int
    description: str
    statute: str | None
    offense_date: str | None
    disposition: str | None
    disposition_date: str | None
    sentence_completed_on: str | None
    probation_violation: bool | None


def _audit_row(
    connection: Connection, requester: str, digest: str, outcome: str, now: dt.datetime
) -> None:
    connection.execute(
        _AUDIT,
        {
            "requester": requester,
            "action": "lookup",
            "case_number_hash": digest,
            "outcome": outcome,
            "created_at": now,
        },
    )


def _iso(value: dt.date | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


#: The screening contract's longest description (``knowledge.screening.MAX_TEXT``); the
#: records table keeps up to 2,000 characters.
SCREENING_DESCRIPTION_LIMIT = 500
_CONTROL = {code: " " for code in range(32)}


def _court_text(value: str | None, limit: int | None = None) -> str | None:
    """Court text as the screening contract takes it: a tab or line break (kept from a
    quoted CSV cell) reads as a space, and an over-long description is cut to the limit."""
    if value is None:
        return None
    cleaned = value.translate(_CONTROL).strip()
    return (cleaned[:limit].rstrip() if limit else cleaned) or None


def _offense_date(offense: str | None, decided: str | None) -> str | None:
    """An offense date after the disposition date is a clerical error: which date is wrong is
    unknown, so the offense date is left out (null) rather than making the case unscreenable."""
    if offense is not None and decided is not None and offense > decided:
        return None
    return offense


def screening_input(case_row: Any, charge_rows: list[Any]) -> dict[str, Any]:
    """A stored case as DESIGN 5.3 screening input (``as_of`` left to the caller).

    Whatever the import accepted is valid input: court text is cleaned of control characters
    and a contradictory offense date becomes unknown (see `_court_text`, `_offense_date`).
    """
    return {
        "case_number": case_row.case_number,
        "court": case_row.court,
        "county": case_row.county,
        "case_status": case_row.case_status,
        "charges": [
            {
                "description": _court_text(charge.description, SCREENING_DESCRIPTION_LIMIT),
                "statute": _court_text(charge.statute),
                "category": None,
                "offense_date": _offense_date(
                    _iso(charge.offense_date), _iso(charge.disposition_date)
                ),
                "disposition": _court_text(charge.disposition),
                "disposition_date": _iso(charge.disposition_date),
                "sentence_completed_on": _iso(charge.sentence_completed_on),
                "probation_violation": charge.probation_violation,
            }
            for charge in charge_rows
        ],
        "person": {"date_of_birth": None, "pending_case": None, "later_convictions": None},
        "record_status": {"expunged": False, "pardoned": None, "shielded": None},
    }


def failure_limit(requester: str) -> int:
    """How many failed lookups a requester may make in 24 hours before the cool-down."""
    return WORKER_MAX_FAILURES if requester.startswith(WORKER_PREFIX) else MAX_FAILURES


def _json(value: Any) -> list[Any]:
    """A JSON array column: parsed by the driver on PostgreSQL, text on SQLite; [] for NULL."""
    if value is None:
        return []
    if isinstance(value, str):
        return list(json.loads(value))
    return list(value)


def _charges_of(value: Any) -> list[_Charge]:
    charges = []
    for number, description, statute, offense, decided_as, decided, done, violated in _json(value):
        # SQLite keeps booleans as 0 and 1.
        violation = None if violated is None else bool(violated)
        charges.append(
            _Charge(number, description, statute, offense, decided_as, decided, done, violation)
        )
    return sorted(charges, key=lambda charge: charge.charge_number)


def _programs_of(value: Any) -> tuple[ProgramEntry, ...]:
    entries = [
        ProgramEntry(name, status, None if day is None else dt.date.fromisoformat(day), note)
        for name, status, day, note in _json(value)
    ]
    return tuple(sorted(entries, key=lambda entry: entry.program))


def verified_lookup(
    session: Session,
    *,
    case_number: str,
    date_of_birth: dt.date | None,
    requester: str,
    now: dt.datetime | None = None,
    hmac_key: str | None = None,
) -> LookupResult:
    """Look a case up, verified by date of birth when the record has one.

    ``requester`` is a hashed sender id (or ``worker:<id>``). The caller commits ``session``.
    Two statements whatever the outcome: the lookup (see ``_LOOKUP_SQL``) and the audit insert.
    """
    now = now or utcnow()
    normalized = normalize_case_number(case_number)
    digest = case_number_hash(normalized, hmac_key)
    limit = failure_limit(requester)
    connection = session.connection()
    row = connection.execute(
        _LOOKUPS[connection.dialect.name],
        {
            "requester": requester,
            "since": now - FAILURE_WINDOW,
            "case_number": normalized or "",
            "failure_limit": limit,
            "date_of_birth": date_of_birth,
        },
    ).one()

    if row.failures >= limit:
        _audit_row(connection, requester, digest, "locked_out", now)
        return LOCKED_OUT

    people = _json(row.people) if row.id is not None else []
    stored_dobs = [str(born) for _named, born in people if born is not None]
    given = date_of_birth.isoformat() if date_of_birth is not None else ""
    # Compare with every stored date (or a dummy) in constant time; never stop early.
    matches = [
        hmac.compare_digest(expected.encode(), given.encode())
        for expected in stored_dobs or [_DUMMY_DOB]
    ]
    verified = any(matches) if stored_dobs else True

    if row.id is None or not verified or row.charges is None:
        outcome = "not_found" if row.id is None else "not_verified"
        _audit_row(connection, requester, digest, outcome, now)
        return NOT_FOUND_OR_UNVERIFIED

    _audit_row(connection, requester, digest, "found", now)
    return LookupResult(
        "found",
        screening_input(row, _charges_of(row.charges)),
        _programs_of(row.programs),
        has_personal_data=any(named or born is not None for named, born in people),
    )


def lookup_attempts(session: Session, requester: str) -> list[tuple[str, dt.datetime]]:
    """Outcomes and times of a requester's lookups, newest first (for the console's audit view)."""
    query = (
        select(_audit.c.outcome, _audit.c.created_at)
        .where(and_(_audit.c.requester == requester, _audit.c.action == "lookup"))
        .order_by(_audit.c.created_at.desc())
    )
    return [(outcome, created) for outcome, created in session.execute(query)]
