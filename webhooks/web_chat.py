"""``/try``: a small web chat that runs the real conversation on the ``web`` channel.

For demos and clinics: no login, clearly marked as a demo, rate-limited per browser and per
client address. The browser keeps a random id in the signed session cookie; only its keyed
hash reaches the database, like a phone number. Messages carry a client id, so a resent
message is answered from the stored reply and never applied twice.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from flask import session as cookie

from bot.model import Inbound, InboundKind, OutboundMessage
from db.base import utcnow
from db.engine import writer_turn
from db.identity import sender_hash
from knowledge.texts import load_catalog
from webhooks.app import settings_of
from webhooks.channel_runtime import check_throttle, converse, json_body, logged, note
from webhooks.db import db_session
from webhooks.throttle import WEB_LIMIT, Verdict

bp = Blueprint("try", __name__)

MAX_TEXT = 500
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,40}$")
#: The page runs only our own script and style: no inline code, no third-party origin.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def _lang() -> str:
    value = request.args.get("lang", "")
    return value if value in ("en", "es") else "en"


def _texts(lang: str) -> dict[str, str]:
    prefix = "channels.try."
    return {k[len(prefix) :]: v for k, v in load_catalog(lang).items() if k.startswith(prefix)}


def _secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/try")
def page() -> Response:
    """The demo chat page."""
    lang = _lang()
    html = render_template("try/index.html", lang=lang, t=_texts(lang))
    return _secure(Response(html, mimetype="text/html"))


def _browser_id() -> str:
    if not isinstance(cookie.get("try_id"), str):
        cookie["try_id"] = secrets.token_urlsafe(18)
    value: str = cookie["try_id"]
    return value


def _message_json(message: OutboundMessage) -> dict[str, Any]:
    return {"text": message.text, "buttons": [[b.label, b.value] for b in message.buttons]}


def _refused(lang: str, key: str, status: int, outcome: str) -> Response:
    """A demo-page text the script shows in place of an answer."""
    note(outcome=outcome)
    response = jsonify({"error": _texts(lang)[key]})
    response.status_code = status
    return _secure(response)


def _busy(lang: str, outcome: str) -> Response:
    response = _refused(lang, "busy", 429, outcome)
    response.headers["Retry-After"] = "60"
    return response


def _cookie_refused(data: dict[str, Any]) -> bool:
    """The page already has a conversation but the browser sent no demo id: it refuses
    cookies, and answering would start the conversation over at every message."""
    return data.get("started") is True and not isinstance(cookie.get("try_id"), str)


@bp.post("/try/message")
@logged("web")
def message() -> Response:
    """One message from the demo page; the answer is JSON for the page's script."""
    if not request.is_json:
        note(outcome="bad_request")
        abort(400, description="Send JSON.")
    data = json_body()
    if not isinstance(data, dict):
        note(outcome="bad_request")
        abort(400, description="Send a JSON object.")
    text = data.get("text")
    client_id = data.get("id")
    lang: str = data["lang"] if data.get("lang") in ("en", "es") else "en"
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        note(outcome="bad_request")
        abort(400, description=f"text must be a string of at most {MAX_TEXT} characters.")
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        note(outcome="bad_request")
        abort(400, description="id must be 8 to 40 letters, digits, - or _.")

    if _cookie_refused(data):
        return _refused(lang, "cookies", 400, "cookies_refused")

    settings = settings_of(current_app)
    browser = _browser_id()
    sender = sender_hash(settings.hmac_key, "web", browser)
    note(sender=sender)
    address = sender_hash(settings.hmac_key, "web-ip", request.remote_addr or "unknown")
    kind: InboundKind = "button" if data.get("button") is True else "text"
    if not text.strip():
        kind = "empty"
    inbound = Inbound(
        channel="web",
        sender_hash=sender,
        text=text,
        provider_message_id=f"{browser}:{client_id}",
        received_at=utcnow(),
        lang_hint=lang,
        reply_address=None,
        kind=kind,
    )
    session = db_session()
    # One writer turn for the address count and the conversation: on SQLite the count takes
    # the database's write lock, which must not then wait for a turn another writer holds.
    with writer_turn(session):
        if check_throttle(f"web-ip:{address}", WEB_LIMIT) is not Verdict.ALLOW:
            session.commit()
            return _busy(lang, "throttled_ip")
        answer = converse(inbound)
    note(outcome=answer.outcome)
    if answer.outcome == "throttled":
        return _busy(lang, "throttled")
    return _secure(jsonify({"messages": [_message_json(m) for m in answer.messages]}))


@bp.post("/try/restart")
@logged("web")
def restart() -> Response:
    """Forget this browser's demo id: the next message starts a new conversation."""
    if not request.is_json:
        abort(400, description="Send JSON.")
    cookie.pop("try_id", None)
    note(outcome="restart")
    return _secure(jsonify({"ok": True}))
