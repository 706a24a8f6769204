"""Sign in, sign out, and set a password from a one-time link."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from webhooks.console import accounts, audit, drafts
from webhooks.console.security import (
    clear_session_cookie,
    current_session,
    current_user,
    safe_next,
    set_session_cookie,
    settings_of_current,
)
from webhooks.db import db_session

bp = Blueprint("auth", __name__)

#: One message for every failure, so the page never says which accounts exist or are locked.
LOGIN_FAILED = (
    "That email and password did not match, or the account is paused for 15 minutes "
    "after too many tries."
)


def _audit(action: str, user_id: int | None, detail: str | None = None) -> None:
    audit.record(action, user_id=user_id, hmac_key=settings_of_current().hmac_key, detail=detail)


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | str | tuple[str, int]:
    """Show the sign-in form, or check it and open a session."""
    if request.method == "GET":
        if g.console_user is not None:
            return redirect(safe_next(request.args.get("next")))
        return render_template("console/login.html", next=request.args.get("next", ""))
    email = request.form.get("email", "")[: accounts.MAX_EMAIL_LENGTH + 1]
    password = request.form.get("password", "")
    session = db_session()
    outcome = accounts.verify_login(session, email, password)
    if outcome.user is None:
        known = accounts.find_user(session, email)
        _audit("login_failed", known.id if known else None, outcome.reason)
        session.commit()
        return (
            render_template(
                "console/login.html",
                next=request.form.get("next", ""),
                error=LOGIN_FAILED,
                email=email[: accounts.MAX_EMAIL_LENGTH],
                **drafts.still_carried(),
            ),
            401,
        )
    if g.console_session is not None:
        accounts.end_session(session, g.console_session)
    token, row = accounts.start_session(session, outcome.user)
    _audit("login", outcome.user.id)
    session.commit()
    g.console_session, g.console_user = row, outcome.user
    # A form refused when the session ended comes back with its text, to check and send.
    response = drafts.back_after_sign_in(outcome.user.id) or redirect(
        safe_next(request.form.get("next"))
    )
    set_session_cookie(response, token)
    return response


@bp.post("/logout")
def logout() -> BaseResponse:
    """End this browser's session and go back to the sign-in page."""
    session = db_session()
    _audit("logout", current_user().id)
    accounts.end_session(session, current_session())
    session.commit()
    response = redirect(url_for("console.auth.login", signed_out=1))
    clear_session_cookie(response)
    return response


@bp.route("/setup/<token>", methods=["GET", "POST"])
def setup(token: str) -> BaseResponse | str | tuple[str, int]:
    """Choose a password from a one-time link (printed by ``recordcheck users create``)."""
    session = db_session()
    user = accounts.user_for_setup_token(session, token)
    if user is None:
        return render_template("console/setup.html", invalid=True), 404
    if request.method == "GET":
        return render_template("console/setup.html", email=user.email)
    password = request.form.get("password", "")
    confirm = request.form.get("confirm", "")
    error = None
    if password != confirm:
        error = "The two passwords are not the same."
    else:
        try:
            accounts.set_password(session, user, password)
        except accounts.AccountError as exc:
            error = str(exc)
    if error is not None:
        return render_template("console/setup.html", email=user.email, error=error), 400
    _audit("password_set", user.id)
    session.commit()
    return redirect(url_for("console.auth.login", password_set=1))
