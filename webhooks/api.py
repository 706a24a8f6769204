"""``POST /api/v1/screen``: the screening JSON of DESIGN 5.3 over HTTP (object or array).

Bad input gets a 400 with ``{"error": ..., "field": ...}``; a body over the size limit gets
413. Today's date is read here, in the adapter, never in ``knowledge/``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from knowledge import InputError, parse_case
from knowledge import screen as run_screen
from knowledge.screening import parse_date
from webhooks.screen_cli import loads_strict, today_in_baltimore

bp = Blueprint("screen_api", __name__)

MAX_BODY_BYTES = 1024 * 1024
MAX_CASES = 500


def _error(status: int, message: str, field: str | None = None) -> Response:
    response = jsonify({"error": message, "field": field})
    response.status_code = status
    return response


def _screen_one(data: Any, default_as_of: dt.date) -> dict[str, object]:
    case = parse_case(data)
    return run_screen(case, case.as_of or default_as_of).to_json()


@bp.post("/api/v1/screen")
def screen_endpoint() -> Response:
    """Screen one case (JSON object) or several (JSON array); same JSON as the CLI."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return _error(413, f"The body is larger than {MAX_BODY_BYTES // 1024} KiB.")
    if not request.mimetype or request.mimetype != "application/json":
        return _error(415, "Send the case as application/json.")
    try:
        raw = request.get_data(cache=False)
    except RequestEntityTooLarge:
        return _error(413, f"The body is larger than {MAX_BODY_BYTES // 1024} KiB.")
    if len(raw) > MAX_BODY_BYTES:
        return _error(413, f"The body is larger than {MAX_BODY_BYTES // 1024} KiB.")
    if not raw.strip():
        return _error(400, "The body is empty; send a JSON object or array.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _error(400, "The body is not UTF-8 text.")
    try:
        data = loads_strict(text)
    except ValueError as exc:
        return _error(400, f"The body is not valid JSON: {exc}")
    default_as_of = today_in_baltimore()
    override = request.args.get("as_of")
    if override is not None:
        try:
            parsed = parse_date(override, "as_of")
        except InputError as exc:
            return _error(400, exc.message, "as_of")
        if parsed is not None:
            default_as_of = parsed
    if isinstance(data, list):
        if not data:
            return _error(400, "The array is empty; send at least one case.")
        if len(data) > MAX_CASES:
            return _error(413, f"Send at most {MAX_CASES} cases per request.")
        results = []
        for i, item in enumerate(data):
            try:
                results.append(_screen_one(item, default_as_of))
            except InputError as exc:
                field = f"[{i}].{exc.field}" if exc.field else f"[{i}]"
                return _error(400, exc.message, field)
        return jsonify(results)
    try:
        return jsonify(_screen_one(data, default_as_of))
    except InputError as exc:
        return _error(400, exc.message, exc.field or None)
