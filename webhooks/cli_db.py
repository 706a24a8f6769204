"""The database for a CLI command: a clear message, not a traceback, when it is not ready.

A newcomer's first mistake is a command run before ``recordcheck db upgrade`` (or from another
directory, where the default SQLite path ``var/recordcheck.sqlite3`` names a new, empty file).
"""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError

UPGRADE_HINT = "run: recordcheck db upgrade"


def describe(url: URL) -> str:
    """Where the database is, for a message: a SQLite file's full path, else the URL with no
    password."""
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return str(Path(url.database).resolve())
    return url.render_as_string(hide_password=True)


def migrated_engine(database_url: str) -> Engine:
    """An engine on the configured database, which must hold every migration of this code.

    Raises click.ClickException (exit status 1, one line on stderr) when the database cannot be
    opened or a migration is missing; the caller disposes of the engine it gets.
    """
    from db.engine import make_engine
    from db.migrate import needs_upgrade

    engine = make_engine(database_url)
    where = describe(engine.url)
    try:
        missing = needs_upgrade(engine)
    except OperationalError as error:
        engine.dispose()
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        raise click.ClickException(f"cannot open the database {where}: {reason}") from None
    if missing:
        engine.dispose()
        raise click.ClickException(f"the database {where} is not migrated; {UPGRADE_HINT}")
    return engine
