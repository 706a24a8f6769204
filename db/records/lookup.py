"""Verified case lookup for the bot and the console, under DESIGN.md section 3's privacy rules.

- A record with a date of birth is found only when the caller gives the same date of birth; a
  record without one is found whatever date the caller gives (the flows look identical).
- "Not found" and "wrong date of birth" return the same result after the same work (the same
  queries and a constant-time comparison, against a dummy date when there is no record).
- At most 5 failed verifications per requester in 24 hours; then ``locked_out`` without looking.
- Every call writes an audit row (requester, keyed hash of the case number, outcome, time).

The caller owns the transaction: ``verified_lookup`` only adds rows to ``session`` and the
caller commits it (with the conversation state, for the bot), so the audit row and the
lock-out count are part of the caller's unit of work.
"""

from __future__ import annotations

import datetime as dt
import hmac
import os
from dataclasses import dataclass
from typing import Any, Literal, cast

from sqlalchemy import Table, and_, bindparam, exists, func, insert, select
from sqlalchemy.orm import Session

from db.base import utcnow
from db.identity import value_hash
from db.models.records import LookupAudit, RecordCase, RecordCharge, RecordDefendant, ReliefProgram
from db.models.records import ProgramEntry as ProgramEntryRow
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

_cases = cast(Table, RecordCase.__table__)
_charges = cast(Table, RecordCharge.__table__)
_defendants = cast(Table, RecordDefendant.__table__)
_entries = cast(Table, ProgramEntryRow.__table__)
_programs = cast(Table, ReliefProgram.__table__)
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
_FAILURES = select(func.count()).where(
    _audit.c.requester == bindparam("requester"),
    _audit.c.action == "lookup",
    _audit.c.outcome.in_(FAILED_OUTCOMES),
    _audit.c.created_at > bindparam("since", type_=_audit.c.created_at.type),
)
_AUDIT = insert(_audit)
_CASE_WITH_PEOPLE = (
    select(
        _cases.c.id,
        _cases.c.case_number,
        _cases.c.court,
        _cases.c.county,
        _cases.c.case_status,
        exists().where(_charges.c.case_id == _cases.c.id).label("has_charges"),
        _defendants.c.name,
        _defendants.c.date_of_birth,
    )
    .outerjoin(_defendants, _defendants.c.case_id == _cases.c.id)
    .where(_cases.c.case_number == bindparam("case_number"))
)
_CHARGES = (
    select(
        _charges.c.description,
        _charges.c.statute,
        _charges.c.offense_date,
        _charges.c.disposition,
        _charges.c.disposition_date,
        _charges.c.sentence_completed_on,
        _charges.c.probation_violation,
    )
    .where(_charges.c.case_id == bindparam("case_id"))
    .order_by(_charges.c.charge_number)
)
_PROGRAMS = (
    select(_programs.c.name, _entries.c.status, _entries.c.status_date, _entries.c.note)
    .join(_programs, _programs.c.id == _entries.c.program_id)
    .where(_entries.c.case_number == bindparam("case_number"))
    .order_by(_programs.c.name)
)


def failed_attempts(session: Session, requester: str, now: dt.datetime) -> int:
    """Failed verifications by ``requester`` in the last 24 hours."""
    params = {"requester": requester, "since": now - FAILURE_WINDOW}
    return int(session.connection().execute(_FAILURES, params).scalar_one())


def _audit_row(
    session: Session, requester: str, digest: str, outcome: str, now: dt.datetime
) -> None:
    session.connection().execute(
        _AUDIT,
        {
            "requester": requester,
            "action": "lookup",
            "case_number_hash": digest,
            "outcome": outcome,
            "created_at": now,
        },
    )


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def screening_input(case_row: Any, charge_rows: list[Any]) -> dict[str, Any]:
    """A stored case as DESIGN 5.3 screening input (``as_of`` left to the caller)."""
    return {
        "case_number": case_row.case_number,
        "court": case_row.court,
        "county": case_row.county,
        "case_status": case_row.case_status,
        "charges": [
            {
                "description": charge.description,
                "statute": charge.statute,
                "category": None,
                "offense_date": _iso(charge.offense_date),
                "disposition": charge.disposition,
                "disposition_date": _iso(charge.disposition_date),
                "sentence_completed_on": _iso(charge.sentence_completed_on),
                "probation_violation": charge.probation_violation,
            }
            for charge in charge_rows
        ],
        "person": {"date_of_birth": None, "pending_case": None, "later_convictions": None},
        "record_status": {"expunged": False, "pardoned": None, "shielded": None},
    }


def program_entries(session: Session, normalized: str) -> tuple[ProgramEntry, ...]:
    """The program entries of a case (by normalised case number)."""
    rows = session.connection().execute(_PROGRAMS, {"case_number": normalized})
    return tuple(ProgramEntry(*row) for row in rows)


def failure_limit(requester: str) -> int:
    """How many failed lookups a requester may make in 24 hours before the cool-down."""
    return WORKER_MAX_FAILURES if requester.startswith(WORKER_PREFIX) else MAX_FAILURES


def verified_lookup(
    session: Session,
    *,
    case_number: str,
    date_of_birth: dt.date | None,
    requester: str,
    now: dt.datetime | None = None,
    hmac_key: str | None = None,
) -> LookupResult:
    """Look a case up by number, verified by date of birth when the record has one.

    ``requester`` is a hashed sender id (or ``worker:<id>``). The caller commits ``session``.
    """
    now = now or utcnow()
    normalized = normalize_case_number(case_number)
    digest = case_number_hash(normalized, hmac_key)

    if failed_attempts(session, requester, now) >= failure_limit(requester):
        _audit_row(session, requester, digest, "locked_out", now)
        return LOCKED_OUT

    # One query, the same whether or not the case exists: the case by its unique normalised
    # number (a single index probe) with its people. A case without a stored charge (every
    # charge expunged) is not shown, so it counts as not found.
    connection = session.connection()
    rows = connection.execute(_CASE_WITH_PEOPLE, {"case_number": normalized or ""}).all()
    case_row = rows[0] if rows and rows[0].has_charges else None
    people = rows if case_row is not None else []
    stored_dobs = [p.date_of_birth.isoformat() for p in people if p.date_of_birth is not None]
    given = date_of_birth.isoformat() if date_of_birth is not None else ""
    # Compare with every stored date (or a dummy) in constant time; never stop early.
    matches = [
        hmac.compare_digest(expected.encode(), given.encode())
        for expected in stored_dobs or [_DUMMY_DOB]
    ]
    verified = any(matches) if stored_dobs else True

    if case_row is None or not verified:
        outcome = "not_found" if case_row is None else "not_verified"
        _audit_row(session, requester, digest, outcome, now)
        return NOT_FOUND_OR_UNVERIFIED

    charge_rows = connection.execute(_CHARGES, {"case_id": case_row.id}).all()
    programs = program_entries(session, case_row.case_number)
    _audit_row(session, requester, digest, "found", now)
    return LookupResult(
        "found",
        screening_input(case_row, list(charge_rows)),
        programs,
        has_personal_data=any(p.name or p.date_of_birth for p in people),
    )


def lookup_attempts(session: Session, requester: str) -> list[tuple[str, dt.datetime]]:
    """Outcomes and times of a requester's lookups, newest first (for the console's audit view)."""
    query = (
        select(_audit.c.outcome, _audit.c.created_at)
        .where(and_(_audit.c.requester == requester, _audit.c.action == "lookup"))
        .order_by(_audit.c.created_at.desc())
    )
    return [(outcome, created) for outcome, created in session.execute(query)]
