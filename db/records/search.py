"""Search by name and date of birth for outreach workers, forgiving typos and name order.

Only records loaded with names (an organisation's own lists) can match; public exports have
names redacted. Every search is audited with the worker's id and a keyed hash of the query.
"""

from __future__ import annotations

import datetime as dt
import heapq
from dataclasses import dataclass
from typing import cast

from rapidfuzz import fuzz
from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from db.base import utcnow
from db.identity import value_hash
from db.models.records import LookupAudit, RecordCase, RecordDefendant
from db.records.formats import name_key
from db.records.lookup import audit_key

#: Scores run 0-100; below this a name is not offered as a match.
MIN_SCORE = 85.0
MAX_LIMIT = 200
_SCAN_CHUNK = 5000

_cases = cast(Table, RecordCase.__table__)
_defendants = cast(Table, RecordDefendant.__table__)
_audit = cast(Table, LookupAudit.__table__)


@dataclass(frozen=True)
class PersonMatch:
    """One person on a case whose name (and date of birth, when given) matches the search."""

    case_number: str
    name: str
    date_of_birth: dt.date | None
    score: float
    court: str
    case_status: str | None


def _without_initials(key: str) -> str:
    tokens = [t for t in key.split() if len(t) > 1]
    return " ".join(tokens) if tokens else key


def name_score(query_key: str, candidate_key: str) -> float:
    """How alike two folded names are, ignoring order (LAST, FIRST) and middle initials."""
    left, right = _without_initials(query_key), _without_initials(candidate_key)
    score = fuzz.token_sort_ratio(left, right)
    # "John Smith" vs "John Quincy Smith": every query name present, plus a middle name.
    shared = set(left.split()) & set(right.split())
    if len(shared) >= 2:
        score = max(score, fuzz.token_set_ratio(left, right))
    return float(score)


def search_people(
    session: Session,
    *,
    name: str,
    date_of_birth: dt.date | None,
    worker_id: str,
    limit: int = 20,
    hmac_key: str | None = None,
) -> list[PersonMatch]:
    """People whose name is like ``name`` (and born on ``date_of_birth``), best first.

    The search is audited with ``worker_id``; the caller commits ``session``.
    """
    if not worker_id or not worker_id.strip():
        raise ValueError("a worker id is needed to search by name")
    requester = worker_id if worker_id.startswith("worker:") else f"worker:{worker_id}"
    if len(requester) > 128:
        raise ValueError("worker id is too long")
    limit = max(1, min(limit, MAX_LIMIT))
    query_key = name_key(name[:200]) if name else None
    matches: list[tuple[float, int, PersonMatch]] = []
    if query_key:
        statement = (
            select(
                _defendants.c.id,
                _defendants.c.name,
                _defendants.c.name_key,
                _defendants.c.date_of_birth,
                _cases.c.case_number,
                _cases.c.court,
                _cases.c.case_status,
            )
            .join(_cases, _cases.c.id == _defendants.c.case_id)
            .where(_defendants.c.name_key.is_not(None))
        )
        if date_of_birth is not None:
            statement = statement.where(_defendants.c.date_of_birth == date_of_birth)
        result = session.execute(statement.execution_options(yield_per=_SCAN_CHUNK))
        for row in result:
            score = name_score(query_key, row.name_key)
            if score < MIN_SCORE:
                continue
            match = PersonMatch(
                row.case_number, row.name, row.date_of_birth, score, row.court, row.case_status
            )
            entry = (score, -row.id, match)
            if len(matches) < limit:
                heapq.heappush(matches, entry)
            else:
                heapq.heappushpop(matches, entry)
    found = [match for _score, _id, match in sorted(matches, reverse=True)]
    digest = value_hash(
        hmac_key or audit_key(),
        "person_search",
        f"{query_key or ''}|{date_of_birth.isoformat() if date_of_birth else ''}",
    )
    session.execute(
        insert(_audit).values(
            requester=requester,
            action="search",
            query_hash=digest,
            outcome="matches" if found else "no_matches",
            result_count=len(found),
            created_at=utcnow(),
        )
    )
    return found
