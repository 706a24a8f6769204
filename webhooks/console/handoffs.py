"""The handoff inbox: residents who asked for a person; claim, add notes, release, close.

A resident appears only as a short form of their keyed hash plus the summary they agreed to
share (language, case number or "from answers", the result in brief). Claims are made with a
conditional UPDATE, so two workers clicking at once cannot both get the same request.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy import func, select, update
from werkzeug.wrappers import Response as BaseResponse

from db.base import utcnow
from db.models.console import ConsoleUser
from db.models.conversation import HandoffRequest
from webhooks.console import audit
from webhooks.console.security import current_user, settings_of_current
from webhooks.db import db_session

bp = Blueprint("handoffs", __name__, url_prefix="/handoffs")

STATUSES = ("open", "claimed", "closed")
VIEWS = {
    "active": ("open", "claimed"),
    "open": ("open",),
    "mine": ("claimed",),
    "closed": ("closed",),
}
MAX_NOTE = 2000
MAX_NOTES_TOTAL = 20_000
PAGE_SIZE = 100


def _me() -> str:
    return f"worker:{current_user().id}"


def _audit(action: str, handoff_id: int, detail: str | None = None) -> None:
    audit.record(
        action,
        user_id=current_user().id,
        hmac_key=settings_of_current().hmac_key,
        target_kind="handoff",
        target=str(handoff_id),
        detail=detail,
    )


def _claimers(rows: list[HandoffRequest]) -> dict[str, str]:
    """Worker emails for the ``worker:<id>`` values in ``claimed_by``."""
    ids = set()
    for row in rows:
        if row.claimed_by and row.claimed_by.startswith("worker:"):
            tail = row.claimed_by.split(":", 1)[1]
            if tail.isdigit():
                ids.add(int(tail))
    if not ids:
        return {}
    users = db_session().execute(
        select(ConsoleUser.id, ConsoleUser.email).where(ConsoleUser.id.in_(ids))
    )
    return {f"worker:{uid}": email for uid, email in users}


@bp.get("/")
def index() -> tuple[str, int]:
    """Requests in the chosen view: active (open and claimed), open, mine, closed."""
    view = request.args.get("view", "active")
    if view not in VIEWS:
        view = "active"
    session = db_session()
    query = select(HandoffRequest).where(HandoffRequest.status.in_(VIEWS[view]))
    if view == "mine":
        query = query.where(HandoffRequest.claimed_by == _me())
    order = HandoffRequest.updated_at.desc() if view == "closed" else HandoffRequest.created_at
    rows = list(session.scalars(query.order_by(order).limit(PAGE_SIZE)))
    counts = dict(
        session.execute(
            select(HandoffRequest.status, func.count()).group_by(HandoffRequest.status)
        ).all()
    )
    _audit_list(view, len(rows))
    session.commit()
    page = render_template(
        "console/handoffs.html",
        active_nav="handoffs",
        rows=rows,
        view=view,
        counts={s: counts.get(s, 0) for s in STATUSES},
        claimers=_claimers(rows),
        me=_me(),
    )
    return page, 200


def _audit_list(view: str, shown: int) -> None:
    audit.record(
        "handoff_list",
        user_id=current_user().id,
        hmac_key=settings_of_current().hmac_key,
        detail=f"{view} {shown}",
    )


def _handoff(handoff_id: int) -> HandoffRequest:
    row = db_session().get(HandoffRequest, handoff_id)
    if row is None:
        abort(404, "That request no longer exists (the person may have deleted their data).")
    return row


def _may_change(row: HandoffRequest) -> bool:
    return row.claimed_by == _me() or current_user().is_admin


@bp.get("/<int:handoff_id>")
def detail(handoff_id: int) -> tuple[str, int]:
    """One request: what the person shared, its notes, and the actions."""
    row = _handoff(handoff_id)
    _audit("handoff_view", row.id)
    db_session().commit()
    return _detail_page(row)


def _detail_page(row: HandoffRequest, status: int = 200, **context: Any) -> tuple[str, int]:
    page = render_template(
        "console/handoff.html",
        active_nav="handoffs",
        row=row,
        claimers=_claimers([row]),
        me=_me(),
        may_change=_may_change(row),
        max_note=MAX_NOTE,
        **context,
    )
    return page, status


@bp.post("/<int:handoff_id>/claim")
def claim(handoff_id: int) -> BaseResponse | tuple[str, int]:
    """Take an open request; refused when someone else got it first."""
    session = db_session()
    row = _handoff(handoff_id)
    now = utcnow()
    result = session.execute(
        update(HandoffRequest)
        .where(HandoffRequest.id == row.id, HandoffRequest.status == "open")
        .values(status="claimed", claimed_by=_me(), claimed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        session.rollback()
        session.refresh(row)
        return _detail_page(row, 409, error="Someone else has this request, or it is closed.")
    _audit("handoff_claim", row.id)
    session.commit()
    return redirect(url_for("console.handoffs.detail", handoff_id=row.id))


@bp.post("/<int:handoff_id>/note")
def note(handoff_id: int) -> BaseResponse | tuple[str, int]:
    """Add a note (kept with the request, deleted with it)."""
    session = db_session()
    row = _handoff(handoff_id)
    if not _may_change(row):
        abort(403, "Claim the request before adding notes.")
    text = request.form.get("note", "").strip()
    if not text:
        return _detail_page(row, 400, error="Write a note first.")
    if len(text) > MAX_NOTE:
        return _detail_page(row, 400, error=f"Notes can be at most {MAX_NOTE} characters.")
    stamp = utcnow().strftime("%Y-%m-%d %H:%M UTC")
    entry = f"[{stamp}, {current_user().email}] {text}"
    combined = f"{row.notes}\n\n{entry}" if row.notes else entry
    if len(combined) > MAX_NOTES_TOTAL:
        return _detail_page(row, 400, error="This request has too many notes; close it instead.")
    row.notes = combined
    row.updated_at = utcnow()
    _audit("handoff_note", row.id)
    session.commit()
    return redirect(url_for("console.handoffs.detail", handoff_id=row.id))


@bp.post("/<int:handoff_id>/release")
def release(handoff_id: int) -> BaseResponse:
    """Give a claimed request back to the queue."""
    session = db_session()
    row = _handoff(handoff_id)
    if row.status != "claimed" or not _may_change(row):
        abort(403, "Only the person who claimed it (or an admin) can release it.")
    row.status, row.claimed_by, row.claimed_at, row.updated_at = "open", None, None, utcnow()
    _audit("handoff_release", row.id)
    session.commit()
    return redirect(url_for("console.handoffs.detail", handoff_id=row.id))


@bp.post("/<int:handoff_id>/close")
def close(handoff_id: int) -> BaseResponse:
    """Mark a claimed request done."""
    session = db_session()
    row = _handoff(handoff_id)
    if row.status != "claimed" or not _may_change(row):
        abort(403, "Claim the request before closing it.")
    now = utcnow()
    row.status, row.closed_at, row.updated_at = "closed", now, now
    _audit("handoff_close", row.id)
    session.commit()
    return redirect(url_for("console.handoffs.index"))
