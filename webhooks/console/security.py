"""Console guards: sign-in required, CSRF tokens, role checks, security headers.

Every console page needs a signed-in worker except the sign-in and setup-link pages and the
static files. Every state-changing request carries the session's CSRF token (or, before sign-in,
a token matching a pre-login cookie), compared in constant time.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Response, abort, current_app, g, make_response, redirect, request, url_for
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as BaseResponse

from db.base import utcnow
from db.models.console import ConsoleSession, ConsoleUser
from webhooks.app import settings_of
from webhooks.config import Settings
from webhooks.console import accounts, drafts
from webhooks.db import db_session

SESSION_COOKIE = "rc_console"
PRELOGIN_COOKIE = "rc_console_pre"
COOKIE_PATH = "/console"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Endpoints open without a session (their POSTs use the pre-login CSRF cookie).
PUBLIC_ENDPOINTS = frozenset({"console.static", "console.auth.login", "console.auth.setup"})
#: Update ``last_seen_at`` at most this often, so reading pages does not write every time.
TOUCH_EVERY_SECONDS = 60

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)

OTHER_SITE = "This form was sent from another site."
FORM_EXPIRED = "This form has expired. Go back, reload the page and try again."

F = TypeVar("F", bound=Callable[..., Any])


def current_user() -> ConsoleUser:
    """The signed-in worker of this request (guard() has run)."""
    user: ConsoleUser = g.console_user
    return user


def current_session() -> ConsoleSession:
    """The signed-in browser session of this request."""
    row: ConsoleSession = g.console_session
    return row


def admin_required(view: F) -> F:
    """Refuse a view to anyone but admins (403)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user().is_admin:
            abort(403, "Only admins can use this page.")
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


UPLOAD_LIMIT_ATTRIBUTE = "console_upload_limit"


def accepts_upload(limit: int) -> Callable[[F], F]:
    """Let a view take a request of up to ``limit`` bytes from a signed-in worker.

    ``guard`` reads the form (for the CSRF token) before the view runs, so the limit is raised
    there: set in the view, it came too late and the app's 1 MB refused every larger file.
    """

    def mark(view: F) -> F:
        setattr(view, UPLOAD_LIMIT_ATTRIBUTE, limit)
        return view

    return mark


def _allow_upload() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, UPLOAD_LIMIT_ATTRIBUTE, None)
    if isinstance(limit, int):
        request.max_content_length = limit


def _cookie_secure() -> bool:
    return settings_of_current().is_production or request.is_secure


def settings_of_current() -> Settings:
    """The settings of the app serving this request."""
    return settings_of(current_app)


def set_session_cookie(response: BaseResponse, token: str) -> None:
    """The session cookie: HttpOnly, SameSite=Strict, scoped to /console, Secure over https."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(accounts.SESSION_ABSOLUTE.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        secure=_cookie_secure(),
        samesite="Strict",
    )


def clear_session_cookie(response: BaseResponse) -> None:
    """Forget the session cookie in the browser."""
    response.delete_cookie(
        SESSION_COOKIE, path=COOKIE_PATH, httponly=True, secure=_cookie_secure(), samesite="Strict"
    )


def prelogin_token() -> str:
    """The pre-login CSRF token for this browser, creating one when it has none."""
    token = request.cookies.get(PRELOGIN_COOKIE, "")
    if not (20 <= len(token) <= 100):
        token = g.get("new_prelogin_token") or secrets.token_urlsafe(32)
        g.new_prelogin_token = token
    return token


def csrf_token() -> str:
    """The token forms of this request must carry."""
    row = g.get("console_session")
    if row is not None:
        return str(row.csrf_token)
    return prelogin_token()


def _tokens_match(expected: str, given: str | None) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def _same_origin() -> bool:
    """Browsers send Origin on POST; when present it must be this host (defence in depth)."""
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return origin is None
    parts = urlsplit(origin)
    return parts.netloc == request.host


def csrf_problem() -> str | None:
    """Why a state-changing request must be refused (another site, a wrong token), or None."""
    if request.method in SAFE_METHODS:
        return None
    if not _same_origin():
        return OTHER_SITE
    given = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD)
    row = g.get("console_session")
    # Before sign-in: the pre-login cookie's token (double submit); after: the session's.
    expected = row.csrf_token if row is not None else request.cookies.get(PRELOGIN_COOKIE, "")
    if not _tokens_match(expected, given):
        return FORM_EXPIRED
    return None


def check_csrf() -> None:
    """Abort with 403 unless a state-changing request carries the right token."""
    problem = csrf_problem()
    if problem is not None:
        abort(403, problem)


HTTPS_ONLY = (
    "The console works only over a secure connection, so a sign-in here could never be "
    "kept (every form would say it had expired). Open {url} instead."
)


def _require_https() -> None:
    """In production the console's cookies are Secure: over plain http the browser never
    sends them back, and sign-in fails as "form expired" forever. Say what to do instead."""
    settings = settings_of_current()
    if settings.is_production and not request.is_secure:
        abort(400, HTTPS_ONLY.format(url=settings.public_base_url + "/console/"))


def recognise_signed_in() -> None:
    """Who is signed in, for a page no console view handled (a mistyped or old address), so
    its error page keeps the menu and the sign-out button. It only reads: the guard, which
    did not run, is the one that touches or drops session rows."""
    if "console_user" in g:
        return
    g.console_user = None
    g.console_session = None
    try:
        resolved = accounts.resolve_session(db_session(), request.cookies.get(SESSION_COOKIE))
    except SQLAlchemyError:
        return  # the database is away: the page still says what went wrong, without the menu
    if resolved is not None:
        g.console_session, g.console_user = resolved


def guard() -> BaseResponse | None:
    """Before every console request: resolve the session, require it, check CSRF.

    A refused form that holds typed text (``drafts.keeps``) is not a dead end: without a
    session the sign-in page carries its text back to it; with a stale token it comes back
    at once, its text in place. A form from another site is refused as always.
    """
    g.console_user = None
    g.console_session = None
    _require_https()
    session = db_session()
    resolved = accounts.resolve_session(session, request.cookies.get(SESSION_COOKIE))
    if resolved is not None:
        row, user = resolved
        g.console_session, g.console_user = row, user
        now = utcnow()
        if (now - row.last_seen_at).total_seconds() >= TOUCH_EVERY_SECONDS:
            row.last_seen_at = now
        session.commit()
    elif session.in_transaction() and (session.deleted or session.dirty):
        session.commit()  # a stale session row was dropped
    if request.endpoint in PUBLIC_ENDPOINTS:
        if request.endpoint == "console.auth.login" and csrf_problem() == FORM_EXPIRED:
            # A stale sign-in form carrying a kept form's text: show it again, text and all.
            again = drafts.sign_in_again()
            if again is not None:
                return make_response(again)
        if request.endpoint != "console.static":
            check_csrf()
        return None
    keeper = drafts.keeper_for(request.endpoint)
    view_args = request.view_args or {}
    if g.console_user is None:
        if request.method in SAFE_METHODS and not request.path.startswith("/console/api/"):
            return redirect(url_for("console.auth.login", next=request.full_path.rstrip("?")))
        if keeper is not None and request.method == "POST" and _same_origin():
            return make_response(drafts.sign_in_to_keep(keeper, view_args))
        abort(401, "Sign in first.")
    _allow_upload()
    problem = csrf_problem()
    if problem == FORM_EXPIRED and keeper is not None and request.method == "POST":
        kept = drafts.keep_here(keeper, view_args, current_user().id)
        if kept is not None:
            return make_response(kept)
    if problem is not None:
        abort(403, problem)
    return None


def add_security_headers(response: Response) -> Response:
    """CSP with no inline code and no framing, no sniffing, no caching of client data."""
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    # same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on form
    # posts, and the Origin check below needs the real one. Other sites never see our URLs.
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    if request.endpoint != "console.static":
        headers["Cache-Control"] = "no-store"
    if settings_of_current().is_production:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    new_token = g.get("new_prelogin_token")
    if new_token:
        response.set_cookie(
            PRELOGIN_COOKIE,
            new_token,
            path=COOKIE_PATH,
            httponly=True,
            secure=_cookie_secure(),
            samesite="Strict",
        )
    return response


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: only a path inside the console, never another site."""
    default = url_for("console.home.index")
    if not target or len(target) > 500:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console"):
        return default
    if "\\" in target or target.startswith("//"):
        return default
    if parts.path.startswith(("/console/login", "/console/logout", "/console/setup")):
        return default
    return target


def login_redirect() -> BaseResponse:
    """Send the browser to the sign-in page."""
    return redirect(url_for("console.auth.login"))
