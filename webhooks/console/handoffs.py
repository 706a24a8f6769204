"""The handoff inbox: residents who asked for a person; claim, note, answer, release, close.

A resident appears only as a short form of their keyed hash plus the summary they agreed to
share (language, case number or "from answers", the result in brief). Claims are made with a
conditional UPDATE, so two workers clicking at once cannot both get the same request.

No address is kept (DESIGN.md section 3), so an answer cannot be sent: it waits in the request
and ``bot.service`` delivers it, once, with the reply to the person's next message. It can be
changed until then; the conditional UPDATE refuses a change once it has gone out.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select, update
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from db.base import utcnow
from db.models.console import ConsoleUser
from db.models.conversation import HandoffRequest
from knowledge.texts import render as render_text
from webhooks.console import audit, drafts
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
NOTE_STAMP = "%Y-%m-%d %H:%M UTC"
#: The same note by the same person within this long is the same form sent twice.
NOTE_RESENT_WITHIN = dt.timedelta(minutes=2)
NOTE_BAD_TEXT = (
    "The note has characters that cannot be stored (a control character or broken text, as "
    "after pasting from some programs). Retype those parts and save again."
)
#: An answer goes out as SMS too: 1,000 characters is three messages of three segments.
MAX_ANSWER = 1000
PAGE_SIZE = 100
#: The console is in English; its words live in knowledge/texts/console.*.yaml.
CONSOLE_LANG = "en"
#: Line breaks and tabs are the only control characters an answer may hold.
_ALLOWED_CONTROLS = frozenset("\n\t")


def words(key: str, **params: object) -> str:
    """A console text (``console.handoff.<key>``) in the console's language."""
    return render_text(f"console.handoff.{key}", CONSOLE_LANG, **params).strip()


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def state_words(row: HandoffRequest) -> tuple[str, str | None]:
    """The request's state in plain words: its status, and where its answer is (if any)."""
    status = words(f"state.{row.status}") if row.status in STATUSES else row.status
    if row.answer_delivered_at is not None:
        return status, words("state.delivered", date=_stamp(row.answer_delivered_at))
    if row.answer:
        return status, words("state.answered")
    return status, None


def clean_answer(raw: str) -> str:
    """An answer or note as stored: Windows line ends made plain, outer blanks removed."""
    return raw.replace("\r\n", "\n").replace("\r", "\n").strip()


def answer_problem(text: str) -> str | None:
    """Why an answer cannot be saved (a message for the worker), or None.

    Refused: nothing to say; over ``MAX_ANSWER``; control characters (NUL...), surrogates,
    and U+FFFD, which is what a form's broken UTF-8 decodes to: SMS and Telegram would carry
    them as garbage or refuse the message.
    """
    if not text:
        return words("answer.empty")
    if len(text) > MAX_ANSWER:
        return words("answer.too_long", max=MAX_ANSWER, length=len(text))
    if has_broken_text(text):
        return words("answer.bad_text")
    return None


def has_broken_text(text: str) -> bool:
    """True when text holds a control character other than a line end or tab, a surrogate, or
    U+FFFD (what a form's broken UTF-8 decodes to): nothing a person typed on purpose, and
    PostgreSQL refuses to store a NUL at all."""
    return any(
        ch == "\ufffd"
        or (unicodedata.category(ch) in ("Cc", "Cs") and ch not in _ALLOWED_CONTROLS)
        for ch in text
    )


def is_resent_note(notes: str | None, email: str, text: str, now: dt.datetime) -> bool:
    """True when the last note is this text, by this person, from moments ago: a double
    click or a form the browser sent again, which must not store the note twice."""
    if not notes:
        return False
    last = notes.rsplit("\n\n[", 1)[-1].removeprefix("[")
    head, separator, body = last.partition("] ")
    stamp, _, author = head.partition(", ")
    if not separator or author != email or body != text:
        return False
    try:
        written = dt.datetime.strptime(stamp, NOTE_STAMP).replace(tzinfo=dt.UTC)
    except ValueError:
        return False
    return now - written < NOTE_RESENT_WITHIN


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
    """Worker emails for the ``worker:<id>`` values in ``claimed_by`` and ``answered_by``."""
    ids = set()
    for who in [w for row in rows for w in (row.claimed_by, row.answered_by)]:
        if who and who.startswith("worker:"):
            tail = who.split(":", 1)[1]
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
        state_words=state_words,
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
        max_answer=MAX_ANSWER,
        may_answer=_may_change(row) and _answerable(row),
        state_words=state_words,
        words=words,
        stamp=_stamp,
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
    # Line ends as the browser counts them for maxlength (a form sends each as CR LF).
    text = clean_answer(request.form.get("note", ""))
    if not text:
        return _detail_page(row, 400, error="Write a note first.")
    if len(text) > MAX_NOTE:
        return _detail_page(
            row, 400, error=f"Notes can be at most {MAX_NOTE} characters.", note_draft=text
        )
    if has_broken_text(text):
        return _detail_page(row, 400, error=NOTE_BAD_TEXT, note_draft=text)
    now = utcnow()
    if is_resent_note(row.notes, current_user().email, text, now):
        return redirect(url_for("console.handoffs.detail", handoff_id=row.id))
    stamp = now.strftime(NOTE_STAMP)
    entry = f"[{stamp}, {current_user().email}] {text}"
    combined = f"{row.notes}\n\n{entry}" if row.notes else entry
    if len(combined) > MAX_NOTES_TOTAL:
        return _detail_page(
            row, 400, error="This request has too many notes; close it instead.", note_draft=text
        )
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


def _handoff_page(view_args: Mapping[str, Any]) -> str:
    return url_for("console.handoffs.detail", handoff_id=view_args["handoff_id"])


@drafts.keeps("console.handoffs.note", ("note",), "note", _handoff_page)
def _kept_note(
    view_args: Mapping[str, Any], form: MultiDict[str, str], notice: str, status: int
) -> tuple[str, int]:
    """The request again with an unsent note in its box (see ``drafts``); nothing is saved."""
    text = clean_answer(form.get("note", ""))
    return _detail_page(
        _handoff(view_args["handoff_id"]), status, kept_notice=notice, kept_note=text
    )


@drafts.keeps("console.handoffs.answer", ("answer",), "answer", _handoff_page)
def _kept_answer(
    view_args: Mapping[str, Any], form: MultiDict[str, str], notice: str, status: int
) -> tuple[str, int]:
    """The request again with an unsent answer in its box (see ``drafts``); nothing is saved."""
    text = clean_answer(form.get("answer", ""))
    context: dict[str, Any] = {"kept_notice": notice}
    if text:
        context.update(answer_draft=text, kept_answer=text)
    return _detail_page(_handoff(view_args["handoff_id"]), status, **context)


def _answerable(row: HandoffRequest) -> bool:
    """Not delivered yet, and not closed without one (that person waits for nothing now)."""
    return row.answer_delivered_at is None and (row.status != "closed" or bool(row.answer))


def _answer_refusal(row: HandoffRequest) -> str:
    if row.answer_delivered_at is not None:
        return words("answer.delivered", date=_stamp(row.answer_delivered_at))
    if row.status == "closed":
        return words("answer.closed")
    return words("answer.not_yours")


@bp.post("/<int:handoff_id>/answer")
def answer(handoff_id: int) -> BaseResponse | tuple[str, int]:
    """Write or change the answer the person gets the next time they write to us.

    The audit records who and when, never the text (as for notes). Saving the same text again
    (a double click, a resubmitted form) changes nothing and records nothing.
    """
    session = db_session()
    row = _handoff(handoff_id)
    if not _may_change(row):
        abort(403, words("answer.not_yours"))
    if not _answerable(row):
        return _detail_page(row, 409, error=_answer_refusal(row))
    text = clean_answer(request.form.get("answer", ""))
    problem = answer_problem(text)
    if problem is not None:
        return _detail_page(row, 400, error=problem, answer_draft=text)
    if text == row.answer:
        return redirect(url_for("console.handoffs.detail", handoff_id=row.id))
    first = row.answer is None
    now = utcnow()
    allowed = [
        HandoffRequest.id == row.id,
        HandoffRequest.answer_delivered_at.is_(None),
        or_(HandoffRequest.status != "closed", HandoffRequest.answer.is_not(None)),
    ]
    if not current_user().is_admin:
        allowed.append(HandoffRequest.claimed_by == _me())
    result = session.execute(
        update(HandoffRequest)
        .where(*allowed)
        .values(answer=text, answered_by=_me(), answered_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        # Delivered (or closed, or taken) between the page and the click.
        session.rollback()
        session.refresh(row)
        return _detail_page(row, 409, error=_answer_refusal(row), answer_draft=text)
    _audit("handoff_answer", row.id, "new" if first else "changed")
    session.commit()
    return redirect(url_for("console.handoffs.detail", handoff_id=row.id))
