from __future__ import annotations

import pytest

from webhooks.app import create_app
from webhooks.config import (
    DEV_HMAC_KEY,
    PRODUCTION_REQUIRED,
    ConfigError,
    load_settings,
    normalize_database_url,
)

PRODUCTION_ENV = {
    "RECORDCHECK_ENV": "production",
    "DATABASE_URL": "postgres://app:pw@db.internal:5432/recordcheck",
    "RECORDCHECK_SECRET_KEY": "s3cr3t-from-vault-0123456789abcdef",
    "RECORDCHECK_HMAC_KEY": "hmac-from-vault-0123456789abcdefgh",
    "RECORDCHECK_PUBLIC_BASE_URL": "https://recordcheck.example.org/",
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "tw-token",
    "TWILIO_FROM_NUMBER": "+14105550100",
    "TELEGRAM_BOT_TOKEN": "123456:ABC-DEF",
    "TELEGRAM_WEBHOOK_SECRET": "tg_secret-1",
}


def test_development_starts_with_no_environment_at_all():
    settings = load_settings({})

    assert settings.env == "development"
    assert settings.database_url == "sqlite:///var/recordcheck.sqlite3"
    assert settings.retention_days == 30


def test_production_with_every_secret_starts():
    settings = load_settings(PRODUCTION_ENV)

    assert settings.is_production
    assert settings.database_url == "postgresql+psycopg://app:pw@db.internal:5432/recordcheck"
    assert settings.public_base_url == "https://recordcheck.example.org"


@pytest.mark.parametrize("name", PRODUCTION_REQUIRED)
def test_production_refuses_to_start_without_each_secret_and_names_it(name):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != name}

    with pytest.raises(ConfigError) as raised:
        load_settings(env)

    assert name in str(raised.value)


def test_production_names_every_missing_variable_at_once():
    with pytest.raises(ConfigError) as raised:
        load_settings({"RECORDCHECK_ENV": "production"})

    for name in PRODUCTION_REQUIRED:
        assert name in str(raised.value)


@pytest.mark.parametrize("blank", ["", "   "])
def test_production_treats_a_blank_secret_as_missing(blank):
    env = {**PRODUCTION_ENV, "TWILIO_AUTH_TOKEN": blank}

    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN"):
        load_settings(env)


def test_production_refuses_the_development_default_key():
    env = {**PRODUCTION_ENV, "RECORDCHECK_HMAC_KEY": DEV_HMAC_KEY}

    with pytest.raises(ConfigError, match="RECORDCHECK_HMAC_KEY"):
        load_settings(env)


@pytest.mark.parametrize(
    "url", ["sqlite:///var/recordcheck.sqlite3", "sqlite:////srv/data/recordcheck.db"]
)
def test_production_refuses_sqlite_and_asks_for_postgresql(url):
    # .env.example's development value: on the platform the file vanishes at each restart.
    env = {**PRODUCTION_ENV, "DATABASE_URL": url}

    with pytest.raises(ConfigError) as raised:
        load_settings(env)

    assert "DATABASE_URL is SQLite" in str(raised.value)
    assert "PostgreSQL" in str(raised.value)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:5000", "http://recordcheck.example.org", "recordcheck.example.org"]
)
def test_production_refuses_a_public_url_twilio_and_telegram_cannot_use(url):
    env = {**PRODUCTION_ENV, "RECORDCHECK_PUBLIC_BASE_URL": url}

    with pytest.raises(ConfigError) as raised:
        load_settings(env)

    assert "RECORDCHECK_PUBLIC_BASE_URL must be the service's public https://" in str(raised.value)


@pytest.mark.parametrize("name", ["RECORDCHECK_SECRET_KEY", "RECORDCHECK_HMAC_KEY"])
def test_production_refuses_a_short_key_and_says_how_to_make_one(name):
    env = {**PRODUCTION_ENV, name: "changeme"}

    with pytest.raises(ConfigError) as raised:
        load_settings(env)

    assert f"{name} has 8 characters; use 32 or more random ones" in str(raised.value)
    assert "secrets.token_urlsafe(32)" in str(raised.value)


def test_production_names_every_problem_at_once_and_where_they_are_described():
    env = {
        **PRODUCTION_ENV,
        "DATABASE_URL": "sqlite:///var/recordcheck.sqlite3",
        "RECORDCHECK_PUBLIC_BASE_URL": "http://127.0.0.1:5000",
        "RECORDCHECK_SECRET_KEY": "short",
        "RECORDCHECK_HMAC_KEY": "shorter",
        "TWILIO_AUTH_TOKEN": "",
    }

    with pytest.raises(ConfigError) as raised:
        load_settings(env)

    message = str(raised.value)
    assert message.count("secrets.token_urlsafe") == 1
    for fragment in (
        "TWILIO_AUTH_TOKEN",
        "DATABASE_URL is SQLite",
        "RECORDCHECK_PUBLIC_BASE_URL",
        "RECORDCHECK_SECRET_KEY has 5 and RECORDCHECK_HMAC_KEY has 7 characters",
        ".env.example",
        "docs/deploying.md",
    ):
        assert fragment in message


def test_development_keeps_its_sqlite_and_local_defaults():
    settings = load_settings({"RECORDCHECK_SECRET_KEY": "short"})

    assert settings.database_url == "sqlite:///var/recordcheck.sqlite3"
    assert settings.public_base_url == "http://127.0.0.1:5000"


def test_create_app_fails_fast_in_production(monkeypatch):
    monkeypatch.setenv("RECORDCHECK_ENV", "production")
    for name in PRODUCTION_REQUIRED:
        monkeypatch.delenv(name, raising=False)

    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
        create_app()


@pytest.mark.parametrize("value", ["staging", "prod", "x" * 10_000])
def test_unknown_environment_name_is_refused_clearly(value):
    with pytest.raises(ConfigError, match="RECORDCHECK_ENV"):
        load_settings({"RECORDCHECK_ENV": value})


@pytest.mark.parametrize("value", ["0", "-3", "thirty", "", "\u00b2", "999999999"])
def test_bad_retention_is_refused_or_defaulted(value):
    if value == "":
        assert load_settings({"RECORDCHECK_RETENTION_DAYS": value}).retention_days == 30
    else:
        with pytest.raises(ConfigError, match="RECORDCHECK_RETENTION_DAYS"):
            load_settings({"RECORDCHECK_RETENTION_DAYS": value})


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///var/x.db", "sqlite:///var/x.db"),
    ],
)
def test_database_urls_are_rewritten_for_psycopg3(url, expected):
    assert normalize_database_url(url) == expected


def test_env_example_lists_every_variable_the_service_reads():
    from pathlib import Path

    from webhooks.config import ENV_NAMES

    example = (Path(__file__).parents[2] / ".env.example").read_text()
    names = {line.split("=", 1)[0] for line in example.splitlines() if "=" in line}

    assert set(ENV_NAMES) <= names
