"""Small Flask fakes of the Twilio REST API and the Telegram Bot API, served on 127.0.0.1.

The real clients (twilio's ``Client`` with its URL rewritten, PTB's ``Bot(base_url=...)``) talk
to them over real HTTP. Each fake records what it received and can be told to fail.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request
from werkzeug.serving import BaseWSGIServer, make_server


class _Served:
    """Run a Flask app on a free port of 127.0.0.1 in a daemon thread."""

    app: Flask

    def start(self) -> _Served:
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class TwilioFailure:
    """One scripted failure: HTTP status, Twilio error code, optional delay before answering."""

    status: int
    code: int
    delay: float = 0.0


@dataclass
class FakeTwilio(_Served):
    """``POST /2010-04-01/Accounts/<sid>/Messages.json`` with Basic auth, like api.twilio.com."""

    account_sid: str = "AC" + "0" * 32
    auth_token: str = "test-auth-token"
    messages: list[dict[str, str]] = field(default_factory=list)
    opted_out: set[str] = field(default_factory=set)
    failures: deque[TwilioFailure] = field(default_factory=deque)
    hang_seconds: float = 0.0

    def __post_init__(self) -> None:
        self.app = Flask("fake_twilio")
        self._lock = threading.Lock()
        self.app.add_url_rule(
            "/2010-04-01/Accounts/<sid>/Messages.json", view_func=self._create, methods=["POST"]
        )

    def _error(self, status: int, code: int, message: str) -> Response:
        body = {"code": code, "message": message, "status": status, "more_info": ""}
        return Response(json.dumps(body), status=status, mimetype="application/json")

    def _create(self, sid: str) -> Response:
        expected = (
            "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        )
        if sid != self.account_sid or request.headers.get("Authorization") != expected:
            return self._error(401, 20003, "Authenticate")
        if self.hang_seconds:
            time.sleep(self.hang_seconds)
        with self._lock:
            failure = self.failures.popleft() if self.failures else None
        if failure is not None:
            time.sleep(failure.delay)
            return self._error(failure.status, failure.code, "scripted failure")
        form = request.form.to_dict()
        if form.get("To") in self.opted_out:
            return self._error(400, 21610, "Attempt to send to unsubscribed recipient")
        if not form.get("To") or not form.get("Body"):
            return self._error(400, 21604, "A 'To' phone number and a Body are required.")
        message_sid = "SM" + uuid.uuid4().hex
        with self._lock:
            self.messages.append({**form, "Sid": message_sid})
        body = {
            "sid": message_sid,
            "account_sid": sid,
            "to": form["To"],
            "from": form.get("From"),
            "body": form["Body"],
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}.json",
        }
        return Response(json.dumps(body), status=201, mimetype="application/json")


@dataclass
class FakeTelegram(_Served):
    """``POST /bot<token>/<method>`` for the Bot API methods this service calls."""

    token: str = "123456:TEST-token"
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: Scripted answers for the next calls: (HTTP status, JSON body).
    failures: deque[tuple[int, dict[str, Any]]] = field(default_factory=deque)
    blocked_chats: set[int] = field(default_factory=set)
    hang_seconds: float = 0.0

    def __post_init__(self) -> None:
        self.app = Flask("fake_telegram")
        self._lock = threading.Lock()
        self._ids = itertools.count(1000)
        self.webhook: dict[str, Any] = {}
        self.app.add_url_rule(
            "/bot<token>/<method>", view_func=self._method, methods=["POST", "GET"]
        )

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        """Parameters of every call of ``method``."""
        with self._lock:
            return [params for name, params in self.calls if name == method]

    @staticmethod
    def _params() -> dict[str, Any]:
        if request.is_json:
            return dict(request.get_json() or {})
        params: dict[str, Any] = {}
        for key, value in request.values.items():
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        return params

    def _answer(self, result: Any, status: int = 200) -> Response:
        return Response(
            json.dumps({"ok": True, "result": result}), status=status, mimetype="application/json"
        )

    def _method(self, token: str, method: str) -> Response:
        if token != self.token:
            body = {"ok": False, "error_code": 401, "description": "Unauthorized"}
            return Response(json.dumps(body), status=401, mimetype="application/json")
        params = self._params()
        if self.hang_seconds:
            time.sleep(self.hang_seconds)
        with self._lock:
            self.calls.append((method, params))
            failure = self.failures.popleft() if self.failures else None
        if failure is not None:
            status, body = failure
            return Response(json.dumps(body), status=status, mimetype="application/json")
        if method == "getMe":
            return self._answer(
                {
                    "id": 123456,
                    "is_bot": True,
                    "first_name": "RecordCheck",
                    "username": "recordcheck_test_bot",
                    "can_join_groups": False,
                    "can_read_all_group_messages": False,
                    "supports_inline_queries": False,
                }
            )
        if method == "sendMessage":
            chat_id = int(params["chat_id"])
            if chat_id in self.blocked_chats:
                body = {
                    "ok": False,
                    "error_code": 403,
                    "description": "Forbidden: bot was blocked by the user",
                }
                return Response(json.dumps(body), status=403, mimetype="application/json")
            return self._answer(
                {
                    "message_id": next(self._ids),
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private"},
                    "text": params.get("text", ""),
                }
            )
        if method in ("answerCallbackQuery", "deleteWebhook", "setMyCommands"):
            return self._answer(True)
        if method == "setWebhook":
            self.webhook = params
            return self._answer(True)
        if method == "getWebhookInfo":
            info = {
                "url": self.webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": 0,
            }
            return self._answer(info)
        body = {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
        return Response(json.dumps(body), status=404, mimetype="application/json")
