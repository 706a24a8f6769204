"""``recordcheck users``: console accounts from the command line (the first admin starts here)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models.console import ROLES, ConsoleUser
from webhooks.cli_db import migrated_engine
from webhooks.config import ConfigError, Settings, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        raise click.ClickException(str(error)) from error


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    from db.engine import make_session_factory

    engine = migrated_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _link(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url}/console/setup/{token}"


def _read_password_from_stdin() -> str:
    data = sys.stdin.buffer.read(4096)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise click.UsageError("the password on stdin is not UTF-8 text") from error
    # One line: the password; a trailing newline (echo, a file) is not part of it.
    password = text.splitlines()[0] if text.splitlines() else ""
    if not password:
        raise click.UsageError("--password-stdin was given but stdin held no password")
    return password


@click.group()
def users() -> None:
    """Console accounts: create, list, reset (which also unlocks a locked account)."""


@users.command("create")
@click.option("--email", required=True, help="The person's email; it is their sign-in name.")
@click.option("--role", type=click.Choice(ROLES), default="worker", show_default=True)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of stdin instead of printing a one-time link.",
)
def create(email: str, role: str, password_stdin: bool) -> None:
    """Create a console account.

    Without --password-stdin, prints a one-time link (valid 72 hours) where the person chooses
    their own password; the link is printed only this once.
    """
    from webhooks.console import accounts

    settings = _settings()
    password = _read_password_from_stdin() if password_stdin else None
    with _session(settings) as session:
        try:
            user, token = accounts.create_user(session, email=email, role=role, password=password)
        except accounts.AccountError as error:
            raise click.ClickException(str(error)) from error
        session.commit()
        click.echo(f"created {user.role} {user.email} (id {user.id})", err=True)
        if token is not None:
            click.echo(
                "one-time link (works once, for 72 hours; it will not be shown again):", err=True
            )
            click.echo(_link(settings, token))


@users.command("list")
def list_users() -> None:
    """List accounts: id, email, role, state."""
    settings = _settings()
    with _session(settings) as session:
        for user in session.scalars(select(ConsoleUser).order_by(ConsoleUser.id)):
            if not user.active:
                state = "deactivated"
            elif user.password_hash is None:
                state = "waiting-for-setup"
            elif user.locked_until is not None:
                state = "locked"
            else:
                state = "active"
            click.echo(f"{user.id}\t{user.email}\t{user.role}\t{state}")


@users.command("reset")
@click.option("--email", required=True)
def reset(email: str) -> None:
    """Print a new one-time link for an account (for a forgotten password) and unlock it."""
    from webhooks.console import accounts

    settings = _settings()
    with _session(settings) as session:
        user = accounts.find_user(session, email)
        if user is None:
            raise click.ClickException("no account with that email")
        token = accounts.issue_setup_token(user)
        user.failed_attempts = 0
        user.locked_until = None
        session.commit()
        click.echo(_link(settings, token))
