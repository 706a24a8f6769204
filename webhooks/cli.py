"""The ``recordcheck`` command line: serve, migrate, work, and the tools later issues add."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from knowledge.compiled import stale_compiled_modules, stale_message
from webhooks.config import ConfigError, load_settings
from webhooks.users_cli import users


def _settings_or_exit() -> Any:
    try:
        return load_settings()
    except ConfigError as error:
        raise click.ClickException(str(error)) from error


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """RecordCheck Baltimore: Maryland cannabis record relief, by text and Telegram."""
    stale = stale_compiled_modules()
    if stale:
        click.echo(f"warning: {stale_message(stale)}", err=True)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=lambda: int(os.environ.get("WEB_CONCURRENCY", "2")),
    type=click.IntRange(1, 64),
    help="gunicorn worker processes (default: WEB_CONCURRENCY or 2).",
)
@click.option("--dev", is_flag=True, help="Flask's reloading development server instead.")
def serve(host: str, port: int, workers: int, dev: bool) -> None:
    """Serve the web app (gunicorn gthread workers, like the Procfile)."""
    settings = _settings_or_exit()
    from webhooks.app import create_app
    from webhooks.cli_db import migrated_engine

    # Every page but /healthz and /readyz would fail on a database without its tables: say so
    # once here rather than on each request. (The Procfile's release phase migrates first.)
    migrated_engine(settings.database_url).dispose()

    click.echo(f"RecordCheck is serving on http://{host}:{port}", err=True)
    click.echo(f"  health: http://{host}:{port}/healthz", err=True)
    if dev:
        create_app().run(host=host, port=port, debug=True)
        return
    from webhooks.gunicorn_app import run_gunicorn

    run_gunicorn(host=host, port=port, workers=workers)


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations to the configured database (DATABASE_URL)."""
    from alembic.util import CommandError

    from db.migrate import upgrade

    if not revision.strip():
        raise click.BadParameter("name a revision, or leave the option out for head")
    settings = _settings_or_exit()
    try:
        upgrade(settings.database_url, revision)
    except CommandError as error:
        # An unknown or ambiguous revision: alembic's own words, without its traceback.
        raise click.ClickException(str(error)) from error
    click.echo(f"database is at {revision}", err=True)


@cli.command()
@click.option("--once", is_flag=True, help="Drain the outbox one time and exit.")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(0.1, 3600))
@click.option(
    "--twilio-api-base",
    envvar="TWILIO_API_BASE",
    default="https://api.twilio.com",
    show_default=True,
    help="Twilio REST base URL (a local fake in tests and benchmarks).",
)
def worker(once: bool, interval: float, twilio_api_base: str) -> None:
    """Send queued outbound messages (reminders, notices) when they are due."""
    from db.engine import make_session_factory
    from webhooks.cli_db import migrated_engine
    from webhooks.logs import configure_logging
    from webhooks.outbound import build_senders, worker_tasks
    from webhooks.outbox_signal import OutboxWaker
    from webhooks.worker import run_forever

    settings = _settings_or_exit()
    configure_logging()
    senders, notes = build_senders(settings, twilio_api_base=twilio_api_base)
    for note in notes:
        click.echo(f"worker: not sending {note}", err=True)
    engine = migrated_engine(settings.database_url)
    # Said once at start: the worker is otherwise silent until it sends something.
    wakes = " or as soon as a message is queued" if engine.dialect.name == "postgresql" else ""
    click.echo(
        f"worker: sending {', '.join(sorted(senders)) or 'nothing'}; "
        f"checking the outbox every {interval:g} s{wakes}",
        err=True,
    )
    waker = OutboxWaker(engine)
    try:
        run_forever(
            make_session_factory(engine),
            senders,
            interval=interval,
            once=once,
            tasks=worker_tasks(settings),
            wait=waker.wait,
        )
    except KeyboardInterrupt:
        sys.exit(0)
    finally:
        waker.close()
        engine.dispose()


cli.add_command(users)


from webhooks.records_cli import demo_data, records  # noqa: E402 - registered after the group

cli.add_command(records)
cli.add_command(demo_data)

from webhooks.chat_cli import chat, purge  # noqa: E402 - registered after the group

cli.add_command(chat)
cli.add_command(purge)

from webhooks.telegram_cli import telegram  # noqa: E402 - registered after the group

cli.add_command(telegram)

from webhooks.screen_cli import screen  # noqa: E402 - registered after the group

cli.add_command(screen)
