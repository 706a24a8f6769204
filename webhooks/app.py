"""The Flask app factory: settings, database, blueprints, error handlers."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from webhooks.config import ENV_NAMES, Settings, load_settings
from webhooks.db import init_db
from webhooks.errors import register_error_handlers
from webhooks.logs import configure_logging

MAX_REQUEST_BYTES = 1024 * 1024


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment; ``config`` overrides variables (used by tests).

    Keys of ``config`` named like environment variables (``DATABASE_URL``...) override the
    environment; any other key goes to ``app.config`` as is (``TESTING``...).
    """
    overrides = dict(config or {})
    environ = {**os.environ, **{k: str(v) for k, v in overrides.items() if k in ENV_NAMES}}
    settings = load_settings(environ)
    configure_logging()

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        JSON_SORT_KEYS=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
    )
    app.config.update({k: v for k, v in overrides.items() if k not in ENV_NAMES})
    app.extensions["recordcheck.settings"] = settings
    # Behind the platform's router: trust one proxy hop for scheme and host (Twilio signs
    # the public https URL).
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    init_db(app, settings.database_url)
    register_error_handlers(app)
    _register_blueprints(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from webhooks import api, channel_runtime, health, sms, telegram, web_chat
    from webhooks.console import make_blueprint as make_console_blueprint

    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(sms.bp)
    app.register_blueprint(telegram.bp)
    app.register_blueprint(web_chat.bp)
    channel_runtime.init_channels(app)
    app.register_blueprint(make_console_blueprint())


def settings_of(app: Flask) -> Settings:
    """The typed settings an app was built with."""
    value: Settings = app.extensions["recordcheck.settings"]
    return value
