"""Settings from the environment (DESIGN.md 5.5), failing fast in production."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

DEV_SECRET_KEY = "dev-secret-key-not-for-production"  # noqa: S105 - a named development default
DEV_HMAC_KEY = "dev-hmac-key-not-for-production"
DEFAULT_DATABASE_URL = "sqlite:///var/recordcheck.sqlite3"
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:5000"
DEFAULT_TELEGRAM_API_BASE = "https://api.telegram.org"
#: A century: longer retention cannot be subtracted from today (a date before year 1).
MAX_RETENTION_DAYS = 36_500

#: Variables that production refuses to start without (or with a development default).
PRODUCTION_REQUIRED = (
    "DATABASE_URL",
    "RECORDCHECK_SECRET_KEY",
    "RECORDCHECK_HMAC_KEY",
    "RECORDCHECK_PUBLIC_BASE_URL",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM_NUMBER",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
)
_DEV_DEFAULTS = {
    "RECORDCHECK_SECRET_KEY": DEV_SECRET_KEY,
    "RECORDCHECK_HMAC_KEY": DEV_HMAC_KEY,
}
#: Keys shorter than this can be guessed offline from one signed cookie or one sender hash.
MIN_KEY_LENGTH = 32
MAKE_KEY_HINT = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


class ConfigError(RuntimeError):
    """The environment cannot run the service; the message names every variable at fault."""


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment, typed once at start-up."""

    env: str
    database_url: str
    secret_key: str
    hmac_key: str
    public_base_url: str
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_from_number: str | None
    telegram_bot_token: str | None
    telegram_webhook_secret: str | None
    telegram_api_base: str
    redis_url: str | None
    retention_days: int

    @property
    def is_production(self) -> bool:
        """True when secrets must be real."""
        return self.env == "production"


def _clean(value: str | None) -> str | None:
    """Treat unset and blank variables alike: an empty secret is a missing secret."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def normalize_database_url(url: str) -> str:
    """Rewrite Heroku-style ``postgres://`` URLs to SQLAlchemy's psycopg 3 dialect."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def missing_production_settings(environ: Mapping[str, str]) -> list[str]:
    """Name each production variable that is absent, blank or left at a development default."""
    missing = []
    for name in PRODUCTION_REQUIRED:
        value = _clean(environ.get(name))
        if value is None or value == _DEV_DEFAULTS.get(name):
            missing.append(name)
    return missing


def unsafe_production_settings(environ: Mapping[str, str]) -> list[str]:
    """Say what is wrong with each production value that is set but cannot work or be safe.

    Each is a value .env.example's development default leads to: SQLite (the platform's disk
    is wiped on each restart and deploy), an http or local public URL (Twilio signs, and
    Telegram and the console's Secure cookies need, the public https address), a short key.
    """
    problems = []
    database_url = _clean(environ.get("DATABASE_URL"))
    if database_url and database_url.lower().startswith("sqlite"):
        problems.append(
            "DATABASE_URL is SQLite; production needs PostgreSQL (postgres://...), as the "
            "platform's disk is wiped on every restart"
        )
    public_url = _clean(environ.get("RECORDCHECK_PUBLIC_BASE_URL"))
    if public_url and not public_url.lower().startswith("https://"):
        problems.append(
            "RECORDCHECK_PUBLIC_BASE_URL must be the service's public https:// address "
            f"(Twilio signs it, Telegram calls it), not {public_url[:100]}"
        )
    short = [
        f"{name} has {len(value)}"
        for name in ("RECORDCHECK_SECRET_KEY", "RECORDCHECK_HMAC_KEY")
        if (value := _clean(environ.get(name)))
        and value != _DEV_DEFAULTS[name]
        and len(value) < MIN_KEY_LENGTH
    ]
    if short:
        problems.append(
            f"{' and '.join(short)} characters; use {MIN_KEY_LENGTH} or more random ones "
            f"(make each with: {MAKE_KEY_HINT})"
        )
    return problems


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check settings; raise ConfigError naming whatever production lacks."""
    env_vars = os.environ if environ is None else environ
    env = (_clean(env_vars.get("RECORDCHECK_ENV")) or "development").lower()
    if env not in {"development", "production", "test"}:
        raise ConfigError(f"RECORDCHECK_ENV must be development, test or production, not {env!r}")
    if env == "production":
        _check_production(env_vars)
    retention_raw = _clean(env_vars.get("RECORDCHECK_RETENTION_DAYS")) or "30"
    if not (
        retention_raw.isascii()
        and retention_raw.isdigit()
        and 1 <= int(retention_raw) <= MAX_RETENTION_DAYS
    ):
        raise ConfigError(
            "RECORDCHECK_RETENTION_DAYS must be a whole number of days "
            f"(1 to {MAX_RETENTION_DAYS:,})"
        )
    return Settings(
        env=env,
        database_url=normalize_database_url(
            _clean(env_vars.get("DATABASE_URL")) or DEFAULT_DATABASE_URL
        ),
        secret_key=_clean(env_vars.get("RECORDCHECK_SECRET_KEY")) or DEV_SECRET_KEY,
        hmac_key=_clean(env_vars.get("RECORDCHECK_HMAC_KEY")) or DEV_HMAC_KEY,
        public_base_url=(
            _clean(env_vars.get("RECORDCHECK_PUBLIC_BASE_URL")) or DEFAULT_PUBLIC_BASE_URL
        ).rstrip("/"),
        twilio_account_sid=_clean(env_vars.get("TWILIO_ACCOUNT_SID")),
        twilio_auth_token=_clean(env_vars.get("TWILIO_AUTH_TOKEN")),
        twilio_from_number=_clean(env_vars.get("TWILIO_FROM_NUMBER")),
        telegram_bot_token=_clean(env_vars.get("TELEGRAM_BOT_TOKEN")),
        telegram_webhook_secret=_clean(env_vars.get("TELEGRAM_WEBHOOK_SECRET")),
        telegram_api_base=(
            _clean(env_vars.get("TELEGRAM_API_BASE")) or DEFAULT_TELEGRAM_API_BASE
        ).rstrip("/"),
        redis_url=_clean(env_vars.get("REDIS_URL")),
        retention_days=int(retention_raw),
    )


def _check_production(environ: Mapping[str, str]) -> None:
    """Raise one ConfigError naming every variable production cannot run with, and the fix."""
    problems = []
    if missing := missing_production_settings(environ):
        problems.append("these variables need real values: " + ", ".join(missing))
    problems.extend(unsafe_production_settings(environ))
    if problems:
        raise ConfigError(
            "RECORDCHECK_ENV=production cannot start: "
            + "; ".join(problems)
            + ". Each variable is described in .env.example and docs/deploying.md."
        )


ENV_NAMES = tuple(
    {
        "env": "RECORDCHECK_ENV",
        "database_url": "DATABASE_URL",
        "secret_key": "RECORDCHECK_SECRET_KEY",
        "hmac_key": "RECORDCHECK_HMAC_KEY",
        "public_base_url": "RECORDCHECK_PUBLIC_BASE_URL",
        "twilio_account_sid": "TWILIO_ACCOUNT_SID",
        "twilio_auth_token": "TWILIO_AUTH_TOKEN",
        "twilio_from_number": "TWILIO_FROM_NUMBER",
        "telegram_bot_token": "TELEGRAM_BOT_TOKEN",
        "telegram_webhook_secret": "TELEGRAM_WEBHOOK_SECRET",
        "telegram_api_base": "TELEGRAM_API_BASE",
        "redis_url": "REDIS_URL",
        "retention_days": "RECORDCHECK_RETENTION_DAYS",
    }[f.name]
    for f in fields(Settings)
)
