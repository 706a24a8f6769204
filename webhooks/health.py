"""Liveness and readiness probes for the platform's router."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from db.migrate import current_revisions, head_revisions
from webhooks.db import engine

bp = Blueprint("health", __name__)


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
