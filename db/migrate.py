"""Alembic, driven from code: upgrade, and compare the database's revision with head."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic Config pointing at our migrations, with no alembic.ini needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database to ``revision`` (head by default)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    """Step the database back to ``revision``; used by the round-trip test."""
    command.downgrade(alembic_config(database_url), revision)


def head_revisions(database_url: str = "sqlite://") -> set[str]:
    """The revisions the code expects."""
    script = ScriptDirectory.from_config(alembic_config(database_url))
    return set(script.get_heads())


def current_revisions(engine: Engine) -> set[str]:
    """The revisions the database says it is at (empty for a fresh database)."""
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def is_at_head(engine: Engine) -> bool:
    """True when every migration has been applied."""
    return current_revisions(engine) == head_revisions(engine.url.render_as_string(False))


def needs_upgrade(engine: Engine) -> bool:
    """True when a migration of this code is missing: a fresh database, or one behind head.

    A database at a revision this code does not know (a newer release migrated it during a
    deploy) is not reported: `recordcheck db upgrade` could not help there.
    """
    current = current_revisions(engine)
    if not current:
        return True
    script = ScriptDirectory.from_config(alembic_config(engine.url.render_as_string(False)))
    if current == set(script.get_heads()):
        return False
    known = {revision.revision for revision in script.walk_revisions()}
    return current <= known
