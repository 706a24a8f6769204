"""JSON errors for the API and health routes; channel routes answer in their own formats."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger("recordcheck.errors")


def _json_error(status: int, name: str, description: str) -> Response:
    response = jsonify({"error": {"code": status, "name": name, "description": description}})
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    """Every error leaves as JSON with a plain description, never as a trace; an address in
    the console that matches no page gets the console's own error page."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        from webhooks.console import error_response, is_console_page

        if is_console_page(request.path):
            return error_response(error)
        response = _json_error(error.code or 500, error.name, error.description or error.name)
        if error.code == 405 and (headers := error.get_response().headers.get("Allow")):
            response.headers["Allow"] = headers
        return response

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError) -> Response:
        # Nothing is half-written. Telegram resends the update; Twilio resends an SMS only when
        # its webhook URL asks for retries (docs/deploying.md, section 9).
        log.error("database unavailable: %s", type(error.orig).__name__)
        response = _json_error(503, "Service Unavailable", "The database is not reachable.")
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unhandled error: %s", type(error).__name__)
        return _json_error(500, "Internal Server Error", "Something went wrong on our side.")
