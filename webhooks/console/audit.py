"""The console's audit trail: every lookup, view, screening, claim, import and sign-in.

Targets are keyed hashes (an admin who knows a case number can find its events by hashing it
the same way); details are outcomes and counts, never names, birth dates or message text.
"""

from __future__ import annotations

from db.identity import value_hash
from db.models.console import ConsoleAuditEvent
from webhooks.db import db_session


def target_hash(hmac_key: str, kind: str, value: str) -> str:
    """The keyed hash the audit stores for a case number, a search or a handoff."""
    return value_hash(hmac_key, f"console-{kind}", value)


def record(
    action: str,
    *,
    user_id: int | None,
    hmac_key: str,
    target_kind: str | None = None,
    target: str | None = None,
    detail: str | None = None,
) -> None:
    """Add one audit event to the request's session (the caller commits)."""
    hashed = None
    if target_kind is not None and target is not None:
        hashed = target_hash(hmac_key, target_kind, target)
    db_session().add(
        ConsoleAuditEvent(
            user_id=user_id,
            action=action[:32],
            target_hash=hashed,
            detail=(detail or None) and detail[:200],
        )
    )
