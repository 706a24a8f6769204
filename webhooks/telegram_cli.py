"""``recordcheck telegram set-webhook | webhook-info | delete-webhook``.

The webhook is registered from this command, never at start-up: with N web workers a start-up
hook would call ``setWebhook`` N times on every deploy. set-webhook also stores the bot's
username (``getMe``) in the database, where the webhook reads it to answer in a group only a
message meant for this bot.
"""

from __future__ import annotations

import asyncio
from typing import Any

import click
from telegram import Bot, BotCommand, Update
from telegram.error import TelegramError

from knowledge.texts import render as render_text
from webhooks.cli_db import migrated_engine
from webhooks.config import ConfigError, Settings, load_settings
from webhooks.telegram_identity import BotIdentity, store_bot_identity

WEBHOOK_PATH = "/telegram/webhook"
#: Update types the webhook handles (others are never sent to us).
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
#: The "/" menu Telegram shows, per language (English for everyone else): (command, what it
#: does, as ``channels.commands.<key>``). Each command is one the conversation reads.
MENU_COMMANDS = {
    "en": (("start", "start"), ("help", "help"), ("lang", "lang"), ("delete", "delete")),
    "es": (("start", "start"), ("ayuda", "help"), ("idioma", "lang"), ("borrar", "delete")),
}


def menu_commands(lang: str) -> list[BotCommand]:
    """The commands of the "/" menu in ``lang``, described in its words."""
    return [
        BotCommand(command, render_text(f"channels.commands.{key}", lang).strip())
        for command, key in MENU_COMMANDS[lang]
    ]


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as error:
        raise click.ClickException(str(error)) from error
    if not settings.telegram_bot_token:
        raise click.ClickException("TELEGRAM_BOT_TOKEN is not set.")
    return settings


def _call(settings: Settings, method: str, **kwargs: Any) -> Any:
    async def run() -> Any:
        bot = Bot(
            settings.telegram_bot_token or "",
            base_url=f"{settings.telegram_api_base}/bot",
        )
        async with bot:
            return await getattr(bot, method)(**kwargs)

    try:
        return asyncio.run(run())
    except TelegramError as error:
        raise click.ClickException(f"Telegram refused: {error.message}") from error


@click.group()
def telegram() -> None:
    """Telegram bot setup."""


@telegram.command("set-webhook")
@click.option(
    "--max-connections",
    default=8,
    show_default=True,
    type=click.IntRange(1, 100),
    help="At most the web worker slots (workers x threads).",
)
@click.option("--drop-pending", is_flag=True, help="Discard updates waiting at Telegram.")
def set_webhook(max_connections: int, drop_pending: bool) -> None:
    """Register RECORDCHECK_PUBLIC_BASE_URL/telegram/webhook with TELEGRAM_WEBHOOK_SECRET."""
    settings = _settings()
    if not settings.telegram_webhook_secret:
        raise click.ClickException("TELEGRAM_WEBHOOK_SECRET is not set.")
    url = settings.public_base_url + WEBHOOK_PATH
    if not url.startswith("https://"):
        raise click.ClickException(
            f"Telegram only calls https URLs; RECORDCHECK_PUBLIC_BASE_URL gives {url}"
        )
    _call(
        settings,
        "set_webhook",
        url=url,
        secret_token=settings.telegram_webhook_secret,
        allowed_updates=ALLOWED_UPDATES,
        max_connections=max_connections,
        drop_pending_updates=drop_pending,
    )
    click.echo(f"webhook set: {url} (max {max_connections} connections)")
    # Without it Telegram's "/" menu is empty: people do not learn /lang or /delete exist.
    _call(settings, "set_my_commands", commands=menu_commands("en"))
    _call(settings, "set_my_commands", commands=menu_commands("es"), language_code="es")
    click.echo("commands menu set: /start /help /lang /delete (Spanish: /ayuda /idioma /borrar)")
    _remember_bot(settings)


def _remember_bot(settings: Settings) -> None:
    """Ask Telegram who the bot is (``getMe``) and store it where the webhook reads it, so
    that in a group only a command, a mention or a reply to this bot gets the one line.

    The webhook is set either way: a database that cannot take it is a warning, and the
    webhook then answers a mention of any bot, as before.
    """
    from db.engine import make_session_factory

    me = _call(settings, "get_me")
    identity = BotIdentity(me.username or "", me.id)
    try:
        engine = migrated_engine(settings.database_url)
    except click.ClickException as error:
        click.echo(
            f"warning: bot username @{identity.username} not stored ({error.message}); until "
            "it is, a mention of any bot in a group gets the one line. Run this command again "
            "once the database is ready.",
            err=True,
        )
        return
    try:
        with make_session_factory(engine)() as session:
            store_bot_identity(session, identity)
            session.commit()
    finally:
        engine.dispose()
    click.echo(f"bot username stored: @{identity.username} (groups: only messages to it answered)")


@telegram.command("webhook-info")
def webhook_info() -> None:
    """Show what Telegram has registered (URL, pending updates, last error)."""
    info = _call(_settings(), "get_webhook_info")
    click.echo(f"url: {info.url or '(none)'}")
    click.echo(f"pending updates: {info.pending_update_count}")
    if info.last_error_message:
        click.echo(f"last error: {info.last_error_message}")


@telegram.command("delete-webhook")
def delete_webhook() -> None:
    """Stop Telegram from calling the webhook."""
    _call(_settings(), "delete_webhook")
    click.echo("webhook deleted")
