"""``recordcheck chat`` (DESIGN.md 5.2) and ``recordcheck purge`` on the configured database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from db.engine import make_session_factory
from db.models.conversation import Conversation
from db.models.records import RecordCase, RecordDefendant
from webhooks.cli import cli

FIXTURES = Path(__file__).parents[1] / "db" / "fixtures"


@pytest.fixture
def run(database_url, db_session, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("RECORDCHECK_HMAC_KEY", "cli-test-key")

    def invoke(*args: str, input: str | bytes | None = None):
        return CliRunner().invoke(cli, list(args), input=input)

    return invoke


def split(output: str) -> list[str]:
    """The printed messages: each is followed by a line holding only ``---``."""
    parts = output.split("---\n")
    assert parts[-1] == ""
    return [p.rstrip("\n") for p in parts[:-1]]


def test_a_scripted_conversation_from_hi_to_a_cited_answer(run):
    assert run("records", "import", str(FIXTURES / "records.csv")).exit_code == 0

    result = run(
        "chat", "--from", "+14105550100",
        input="hi\n1\n1\n0B-0999-0001\n07/15/1980\nno\n",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    out = split(result.output)
    assert "Reply 1 for English" in out[0]
    assert any("0B09990001" in m for m in out)
    assert any("Md. Code, Crim. Proc." in m for m in out)
    assert "1 More detail" in out[-1]
    assert all(line != "---" for m in out for line in m.splitlines())


def test_spanish_on_telegram_prints_buttons(run):
    result = run("chat", "--channel", "telegram", "--lang", "es", input="hola\n3\n")

    assert result.exit_code == 0, result.output
    out = split(result.output)
    assert "Su privacidad" in result.output
    assert "[Buscar un número de caso]" in out[0]
    assert "Indulto" in out[-1]


def test_the_same_sender_resumes_where_they_left_off(run):
    run("chat", "--from", "tester", input="hi\n1\n2\n")

    result = run("chat", "--from", "tester", input="1\n")

    assert result.exit_code == 0, result.output
    assert "Were there other charges" in result.output


def test_the_demo_data_can_be_looked_up_in_a_chat(run, engine):
    assert run("demo-data", "--cases", "40", "--seed", "7").exit_code == 0
    with make_session_factory(engine)() as session:
        case_number, dob = session.execute(
            select(RecordCase.case_number, RecordDefendant.date_of_birth)
            .join(RecordDefendant, RecordDefendant.case_id == RecordCase.id)
            .where(RecordDefendant.date_of_birth.is_not(None))
            .limit(1)
        ).one()

    script = f"hi\n2\n1\n{case_number.lower()}\n{dob:%m/%d/%Y}\nno\n"
    result = run("chat", "--from", "demo", input=script)

    assert result.exit_code == 0, result.output
    assert f"Encontramos el caso {case_number}" in result.output
    assert "Md. Code" in result.output


def test_a_line_that_is_not_utf8_is_answered_and_the_chat_goes_on(run):
    result = run("chat", "--from", "+14105550111", input=b"hola \xf1\n1\n")  # Latin-1 "ñ"

    assert result.exit_code == 0, result.output
    out = split(result.stdout)
    assert "Somos RecordCheck Baltimore" in out[0]
    assert "Envie su numero de caso" in out[-1]  # "hola" chose Spanish, then "1" a case number
    assert "line 1 is not UTF-8 text" in result.stderr


def test_empty_stdin_ends_the_chat_without_a_word_and_writes_nothing(run, engine):
    result = run("chat", "--from", "+14105550112", input="")

    assert (result.exit_code, result.stdout) == (0, "")
    with make_session_factory(engine)() as session:
        assert session.scalars(select(Conversation)).all() == []


def test_a_nul_and_a_100000_character_line_are_answered_and_the_chat_goes_on(run):
    result = run("chat", "--from", "+14105550113", input="hi\x00\n" + "x" * 100_000 + "\n1\n")

    assert result.exit_code == 0, result.output
    out = split(result.stdout)
    assert "RecordCheck Baltimore" in out[0]
    assert "Reply 1 for English" in out[-2]
    assert "case number" in out[-1]


@pytest.mark.parametrize("days", ["0", "999999999", "1000000000000"])
def test_purge_with_a_retention_no_calendar_holds_is_a_usage_error(run, days):
    result = run("purge", "--days", days)

    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "is not in the range 1<=x<=36500" in result.output


def test_chat_refuses_an_unmigrated_database(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/empty.sqlite3")

    result = CliRunner().invoke(cli, ["chat"], input="hi\n")

    assert result.exit_code == 1
    assert "recordcheck db upgrade" in result.output


def test_purge_removes_conversations_idle_past_retention(run, engine):
    run("chat", "--from", "old", input="hi\n")
    run("chat", "--from", "new", input="hi\n")
    with make_session_factory(engine)() as session:
        first = session.scalars(select(Conversation).order_by(Conversation.id)).first()
        session.execute(
            update(Conversation)
            .where(Conversation.id == first.id)
            .values(updated_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=31))
        )
        session.commit()

    result = run("purge")

    assert result.exit_code == 0, result.output
    assert "conversations: 1 deleted" in result.output
    with make_session_factory(engine)() as session:
        assert len(session.scalars(select(Conversation)).all()) == 1
