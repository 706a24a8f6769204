"""CLI commands on a database that is not ready: one line that says what to do, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from db.engine import make_engine
from db.migrate import downgrade, upgrade
from webhooks.cli import cli

FIXTURES = Path(__file__).parents[1] / "db" / "fixtures"

DATABASE_COMMANDS = [
    ["records", "lookup", "0B00832597"],
    ["records", "import", str(FIXTURES / "records.csv")],
    ["demo-data", "--cases", "5"],
    ["users", "create", "--email", "new@clinic.org"],
    ["users", "list"],
    ["users", "reset", "--email", "new@clinic.org"],
    ["purge"],
    ["worker", "--once"],
    ["chat"],
]


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), input="hi\n")


def _said_no_cleanly(result: Result) -> bool:
    """Exit status 1 through click (a message), not an exception escaping the command."""
    return result.exit_code == 1 and isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("args", DATABASE_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_command_run_before_db_upgrade_names_the_database_and_the_fix(
    args, tmp_path, monkeypatch
):
    # A newcomer in a fresh clone, or in another directory: the default SQLite file is new.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)

    result = _run(*args)

    assert _said_no_cleanly(result), result.output
    expected = f"the database {tmp_path / 'var' / 'recordcheck.sqlite3'} is not migrated"
    assert expected in result.output
    assert "run: recordcheck db upgrade" in result.output


def test_a_database_one_migration_behind_is_reported_the_same_way(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/behind.sqlite3"
    upgrade(url)
    downgrade(url, "-1")
    monkeypatch.setenv("DATABASE_URL", url)

    result = _run("users", "list")

    assert _said_no_cleanly(result), result.output
    assert "is not migrated; run: recordcheck db upgrade" in result.output


def test_after_db_upgrade_the_same_command_works(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)

    upgraded = _run("db", "upgrade")
    listed = _run("users", "list")

    assert upgraded.exit_code == 0, upgraded.output
    assert listed.exit_code == 0, listed.output


def test_a_database_a_newer_release_migrated_is_still_used(tmp_path, monkeypatch):
    # During a deploy the release phase migrates before old processes stop: they keep working.
    url = f"sqlite:///{tmp_path}/newer.sqlite3"
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
    finally:
        engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)

    result = _run("users", "list")

    assert result.exit_code == 0, result.output


def test_an_unreachable_database_is_named_without_its_password(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://clinic:s3cret-pw@127.0.0.1:1/recordcheck")

    result = _run("users", "list")

    assert _said_no_cleanly(result), result.output
    assert "cannot open the database postgresql+psycopg://clinic:***@127.0.0.1:1/recordcheck" in (
        result.output
    )
    assert "s3cret-pw" not in result.output
