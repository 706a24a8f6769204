"""``recordcheck chat`` (the real conversation in a terminal) and ``recordcheck purge``."""

from __future__ import annotations

import datetime as dt
import sys
from zoneinfo import ZoneInfo

import click

from webhooks.cli_db import migrated_engine
from webhooks.config import MAX_RETENTION_DAYS, ConfigError, Settings, load_settings

#: Dates in answers ("you can file from ...") are Baltimore dates.
LOCAL_ZONE = ZoneInfo("America/New_York")
SEPARATOR = "---"


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        raise click.ClickException(str(error)) from error


def local_today(now: dt.datetime) -> dt.date:
    """Today's date in Baltimore."""
    return now.astimezone(LOCAL_ZONE).date()


def decode_line(line: bytes, *, first: bool = False) -> tuple[str, bool]:
    """One stdin line as the message text (no line end, no byte-order mark on the first line)
    and whether it was UTF-8; bytes that are not become U+FFFD, so no message is dropped."""
    try:
        text, readable = line.decode("utf-8"), True
    except UnicodeDecodeError:
        text, readable = line.decode("utf-8", errors="replace"), False
    text = text.rstrip("\r\n")
    return (text.removeprefix("\ufeff") if first else text), readable


@click.command("chat")
@click.option(
    "--channel",
    type=click.Choice(["sms", "telegram", "web"]),
    default="sms",
    show_default=True,
    help="Which channel to act as (SMS text is GSM-7; Telegram and web show buttons).",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "es"]),
    default=None,
    help="Preselect the language, as Telegram does (default: the bot asks).",
)
@click.option(
    "--from",
    "from_id",
    default="terminal",
    show_default=True,
    help="The sender id (a phone number or chat id); the same id resumes the conversation.",
)
def chat(channel: str, lang: str | None, from_id: str) -> None:
    """Talk to the bot on the configured database: one message per stdin line.

    Each outbound message is printed, then a line holding only ``---``.
    """
    from bot.model import Inbound
    from bot.service import handle
    from db.base import utcnow
    from db.engine import make_session_factory
    from db.identity import encrypt_address, sender_hash
    from db.storage import SqlCaseLookup, SqlConversationStore

    settings = _settings()
    engine = migrated_engine(settings.database_url)
    try:
        sessions = make_session_factory(engine)
        sender = sender_hash(settings.hmac_key, channel, from_id)
        address = encrypt_address(settings.secret_key, from_id)
        stdin = sys.stdin
        if stdin.isatty():
            click.echo("Type a message and press Enter; Ctrl-D ends the chat.", err=True)
        for number, line in enumerate(stdin.buffer, start=1):
            text, readable = decode_line(line, first=number == 1)
            if not readable:
                click.echo(
                    f"warning: line {number} is not UTF-8 text; "
                    "its unreadable bytes were sent as \N{REPLACEMENT CHARACTER}",
                    err=True,
                )
            now = utcnow()
            inbound = Inbound(
                channel=channel,  # type: ignore[arg-type]
                sender_hash=sender,
                text=text,
                provider_message_id=None,
                received_at=now,
                lang_hint=lang,
                reply_address=address,
                kind="text" if text.strip() else "empty",
            )
            with sessions() as session:
                result = handle(
                    inbound,
                    SqlConversationStore(session),
                    SqlCaseLookup(session, hmac_key=settings.hmac_key, now=now),
                    today=local_today(now),
                )
            for message in result.messages:
                click.echo(message.text)
                if message.buttons:
                    click.echo(" ".join(f"[{b.label}]" for b in message.buttons))
                click.echo(SEPARATOR)
            sys.stdout.flush()
    finally:
        engine.dispose()


@click.command("purge")
@click.option(
    "--days",
    type=click.IntRange(1, MAX_RETENTION_DAYS),
    default=None,
    help="Retention in days (default: RECORDCHECK_RETENTION_DAYS, 30).",
)
def purge(days: int | None) -> None:
    """Delete conversations idle longer than the retention period, and old answer records."""
    from db.base import utcnow
    from db.engine import make_session_factory
    from db.storage import purge as purge_rows

    settings = _settings()
    engine = migrated_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            counts = purge_rows(
                session, now=utcnow(), retention_days=days or settings.retention_days
            )
            session.commit()
    finally:
        engine.dispose()
    click.echo(", ".join(f"{name}: {count} deleted" for name, count in counts.items()))
