"""What the platform sees: liveness and readiness probes, and one log line per request.

Channel webhooks log their own line (``channel_runtime.logged``: channel, hashed sender,
outcome); every other request (probes, console, API, static files) gets a ``request`` line
here, so an operator sees each 4xx and 5xx, a 503 while the database is away included. The
line names the route's pattern (``/console/case/<case_number>``), never the path or query
string, which can hold a case number or a name.
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from db.migrate import current_revisions, head_revisions
from webhooks.channel_runtime import LOGS_ITS_OWN_LINE
from webhooks.db import engine

bp = Blueprint("health", __name__)
log = logging.getLogger("recordcheck.requests")


@bp.before_app_request
def _start_clock() -> None:
    g.rc_request_started = time.perf_counter()


@bp.after_app_request
def _log_request(response: Response) -> Response:
    """One JSON line per request not logged by its channel: method, route, status, latency."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, LOGS_ITS_OWN_LINE, False):
        return response
    started = g.get("rc_request_started")
    log.info(
        "request",
        extra={
            "method": request.method,
            "route": request.url_rule.rule if request.url_rule else None,
            "status": response.status_code,
            "latency_ms": (
                round((time.perf_counter() - started) * 1000, 1) if started is not None else None
            ),
        },
    )
    return response


@bp.get("/healthz")
def healthz() -> Response:
    """The process answers; no I/O, so a slow database never kills a live worker."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """Ready when the database answers and every migration is applied."""
    try:
        with engine().connect() as connection:
            connection.execute(text("SELECT 1"))
        current = current_revisions(engine())
    except SQLAlchemyError as error:
        response = jsonify(
            {"status": "unavailable", "database": "unreachable", "detail": type(error).__name__}
        )
        response.status_code = 503
        return response
    expected = head_revisions()
    if current != expected:
        response = jsonify(
            {
                "status": "unavailable",
                "database": "ok",
                "migrations": "behind",
                "current": sorted(current),
                "head": sorted(expected),
            }
        )
        response.status_code = 503
        return response
    return jsonify({"status": "ok", "database": "ok", "migrations": "head"})
