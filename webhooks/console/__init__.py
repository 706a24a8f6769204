"""The clinic console at ``/console``: sign-in, look-up, screening, batch, handoffs, imports.

``make_blueprint()`` builds the ``console`` blueprint from one child blueprint per page group;
the guards in ``security`` run before every console request and add its headers after.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, make_response, render_template, request
from markupsafe import Markup
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from webhooks.console import security

STATIC_DIR = Path(__file__).resolve().parents[1] / "static" / "console"


def make_blueprint() -> Blueprint:
    """The console blueprint, with its guards, error pages and child blueprints."""
    from webhooks.console import (
        admin,
        auth,
        batch,
        handoffs,
        home,
    )

    bp = Blueprint(
        "console",
        __name__,
        url_prefix="/console",
        static_folder=str(STATIC_DIR),
        static_url_path="/static",
    )
    bp.before_request(security.guard)
    bp.after_request(security.add_security_headers)
    bp.context_processor(_template_globals)
    bp.register_error_handler(HTTPException, _error_page)
    for child in (auth.bp, home.bp, batch.bp, handoffs.bp, admin.bp):
        bp.register_blueprint(child)
    return bp


def _template_globals() -> dict[str, Any]:
    from flask import g

    return {
        "console_user": g.get("console_user"),
        "csrf_token": security.csrf_token,
        "csrf_field": security.CSRF_FIELD,
        "draft_author_field": _draft_author_field,
        "pathway_name": _pathway_name,
    }


def _draft_author_field() -> Markup:
    """The hidden field that says whose text a kept form holds (see ``drafts``)."""
    from flask import g

    from webhooks.console import drafts

    user = g.get("console_user")
    if user is None:
        return Markup("")
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        drafts.AUTHOR_FIELD, drafts.author_tag(user.id)
    )


def _pathway_name(pathway_id: str) -> str:
    """A pathway's plain name from the texts ("shielding (hiding) the record")."""
    from knowledge.texts import load_catalog

    name = load_catalog("en").get(f"pathway.{pathway_id}", pathway_id.replace("_", " "))
    return name[:1].upper() + name[1:]


def _too_large_message(limit: int | None) -> str:
    """Say what fits: "too large" alone leaves the worker guessing how far to cut the file."""
    if not limit:
        return "That file is too large for this page."
    megabytes = max(1, round(limit / (1024 * 1024)))
    return f"That file is too large for this page: it takes up to {megabytes} MB."


def _error_page(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    if isinstance(error, RequestEntityTooLarge):
        message = _too_large_message(request.max_content_length)
    else:
        message = error.description or error.name
    if request.path.startswith("/console/api/"):
        from flask import jsonify

        return jsonify({"error": {"code": code, "description": message}}), code  # type: ignore[return-value]
    # Outside the blueprint's views its context processor does not run: pass the same names.
    return render_template(
        "console/error.html", code=code, title=error.name, message=message, **_template_globals()
    ), code


def is_console_page(path: str) -> bool:
    """A console address a person opens in a browser (the console's API answers in JSON)."""
    return path.startswith("/console/") and not path.startswith("/console/api/")


def error_response(error: HTTPException) -> Response:
    """The console's error page for an error met before any console view ran.

    A mistyped or old address, or a result page's address opened again (``/console/lookup``
    takes only the form's POST), would otherwise show the app's JSON, which a screen reader
    reads as punctuation and which offers no way back.
    """
    security.recognise_signed_in()
    page, code = _error_page(error)
    response = make_response(page, code)
    allow = error.get_response().headers.get("Allow") if code == 405 else None
    if allow:
        response.headers["Allow"] = allow
    return security.add_security_headers(response)
