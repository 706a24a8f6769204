"""``recordcheck telegram set-webhook`` against a fake Bot API through PTB's real Bot."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.parsing import parse_command
from knowledge.texts import render as render_text
from tests.fakes.servers import FakeTelegram
from webhooks.cli import cli
from webhooks.telegram_cli import menu_commands
from webhooks.telegram_identity import BotIdentity, load_bot_identity


@pytest.fixture
def fake_telegram():
    server = FakeTelegram().start()
    yield server
    server.stop()


@pytest.fixture
def telegram_env(monkeypatch, fake_telegram, database_url, db_session):
    # The test database: set-webhook stores the bot's username there (never in var/).
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake_telegram.token)
    monkeypatch.setenv("TELEGRAM_API_BASE", fake_telegram.url)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "s3cret_token-ABC")
    monkeypatch.setenv("RECORDCHECK_PUBLIC_BASE_URL", "https://rc.example.org")
    return fake_telegram


def test_set_webhook_registers_the_public_url_the_secret_and_the_update_types(telegram_env):
    result = CliRunner().invoke(cli, ["telegram", "set-webhook", "--max-connections", "8"])

    assert result.exit_code == 0, result.output
    assert "https://rc.example.org/telegram/webhook" in result.output
    params = telegram_env.sent("setWebhook")[0]
    assert params["url"] == "https://rc.example.org/telegram/webhook"
    assert params["secret_token"] == "s3cret_token-ABC"
    assert params["allowed_updates"] == ["message", "edited_message", "callback_query"]
    assert params["max_connections"] == 8


def test_set_webhook_fills_the_slash_menu_in_english_and_spanish(telegram_env):
    """Telegram's "/" menu was empty: nobody learned that /lang or /delete exist."""
    result = CliRunner().invoke(cli, ["telegram", "set-webhook"])

    assert result.exit_code == 0, result.output
    menus = {
        params.get("language_code", ""): params["commands"]
        for params in telegram_env.sent("setMyCommands")
    }
    assert sorted(menus) == ["", "es"]
    assert [c["command"] for c in menus[""]] == ["start", "help", "lang", "delete"]
    assert [c["command"] for c in menus["es"]] == ["start", "ayuda", "idioma", "borrar"]
    assert menus["es"][3]["description"] == render_text("channels.commands.delete", "es")


def test_set_webhook_learns_the_bots_username_for_the_webhook_to_read(telegram_env, db_session):
    """In a group, the webhook answers a mention of this bot and not of another: it needs
    to know its own username without asking Telegram on every update."""
    result = CliRunner().invoke(cli, ["telegram", "set-webhook"])

    assert result.exit_code == 0, result.output
    assert "bot username stored: @recordcheck_test_bot" in result.output
    assert load_bot_identity(db_session) == BotIdentity("recordcheck_test_bot", 123456)


def test_set_webhook_on_a_database_not_yet_migrated_still_sets_the_webhook_and_warns(
    telegram_env, monkeypatch, tmp_path
):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.sqlite3'}")

    result = CliRunner().invoke(cli, ["telegram", "set-webhook"])

    assert result.exit_code == 0, result.output
    assert len(telegram_env.sent("setWebhook")) == 1
    assert "bot username @recordcheck_test_bot not stored" in result.output
    assert "recordcheck db upgrade" in result.output


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_command_in_the_menu_is_one_the_conversation_understands(lang):
    understood = [parse_command(f"/{c.command}") for c in menu_commands(lang)]

    assert understood == ["start", "help", "lang", "delete"]


def test_webhook_info_and_delete(telegram_env):
    CliRunner().invoke(cli, ["telegram", "set-webhook"])

    info = CliRunner().invoke(cli, ["telegram", "webhook-info"])
    deleted = CliRunner().invoke(cli, ["telegram", "delete-webhook"])

    assert "url: https://rc.example.org/telegram/webhook" in info.output
    assert deleted.exit_code == 0
    assert len(telegram_env.sent("deleteWebhook")) == 1


def test_set_webhook_refuses_a_plain_http_url(telegram_env, monkeypatch):
    monkeypatch.setenv("RECORDCHECK_PUBLIC_BASE_URL", "http://127.0.0.1:5000")

    result = CliRunner().invoke(cli, ["telegram", "set-webhook"])

    assert result.exit_code == 1
    assert "https" in result.output
    assert telegram_env.sent("setWebhook") == []


@pytest.mark.parametrize("missing", ["TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"])
def test_set_webhook_names_what_is_missing(telegram_env, monkeypatch, missing):
    monkeypatch.delenv(missing)

    result = CliRunner().invoke(cli, ["telegram", "set-webhook"])

    assert result.exit_code == 1
    assert missing in result.output
    assert "Traceback" not in result.output


def test_a_token_telegram_rejects_is_a_clear_error(telegram_env, monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "999:wrong")

    result = CliRunner().invoke(cli, ["telegram", "set-webhook"])

    assert result.exit_code == 1
    assert "Traceback" not in result.output
