"""Who this bot is on Telegram: learned once from ``getMe`` and kept in the database.

``recordcheck telegram set-webhook`` stores it; the webhook reads it (a row, never a call to
Telegram) to tell a mention of this bot, a command to it or a reply to it from one meant for
another bot in the same group. A database where set-webhook has not stored it yet reads None.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.base import utcnow
from db.models.channels import ChannelSetting

CHANNEL = "telegram"
USERNAME = "bot_username"
BOT_ID = "bot_id"


@dataclass(frozen=True)
class BotIdentity:
    """The bot's username (without "@") and numeric id, as Telegram's ``getMe`` gave them."""

    username: str
    bot_id: int

    def is_named(self, name: str) -> bool:
        """True when ``name`` ("@RecordCheckBot" or "RecordCheckBot") is this bot's username;
        Telegram matches usernames without regard to case."""
        return name.removeprefix("@").lower() == self.username.lower()


def load_bot_identity(session: Session) -> BotIdentity | None:
    """The stored identity, or None when set-webhook has not stored one in this database."""
    rows = session.execute(
        select(ChannelSetting.name, ChannelSetting.value).where(ChannelSetting.channel == CHANNEL)
    )
    values = {name: value for name, value in rows}
    username, bot_id = values.get(USERNAME), values.get(BOT_ID, "")
    if not username or not bot_id.isdigit():
        return None
    return BotIdentity(username, int(bot_id))


def store_bot_identity(session: Session, identity: BotIdentity) -> None:
    """Write (or overwrite: a new token may be another bot) the identity; the caller commits."""
    for name, value in ((USERNAME, identity.username), (BOT_ID, str(identity.bot_id))):
        session.merge(ChannelSetting(channel=CHANNEL, name=name, value=value, updated_at=utcnow()))
