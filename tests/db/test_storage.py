"""The conversation service on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import String, select, text, update
from sqlalchemy.exc import DBAPIError

from bot import conversation, service
from bot.model import Inbound
from bot.service import HandleResult, handle
from db.base import Base
from db.engine import make_session_factory
from db.identity import decrypt_address, encrypt_address, sender_hash
from db.models.conversation import Conversation, HandoffRequest, ProcessedMessage, Reminder
from db.records.importer import import_paths
from db.storage import SqlCaseLookup, SqlConversationStore, purge

FIXTURES = Path(__file__).parent / "fixtures"
KEY = "test-hmac-key"
SECRET = "test-secret-key"
NOW = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)
WITH_DOB = "0B09990001"
DOB = "07/15/1980"
#: Rows that may keep a sender's hash after DELETE, and why.
KEPT_AFTER_DELETE = {
    # The 5-tries lock-out counts these rows; erasing them would let DELETE reset the limit.
    "lookup_audit",
}


@pytest.fixture
def records(engine, db_session):
    import_paths(engine, [FIXTURES / "records.csv"])
    import_paths(engine, [FIXTURES / "program.csv"], program="bcsao-2019-vacatur")
    return engine


class Person:
    """Someone texting the service; each message is its own transaction, like a web request."""

    def __init__(self, engine, raw_id: str = "+14105550100", channel: str = "sms") -> None:
        self.sessions = make_session_factory(engine)
        self.channel = channel
        self.hash = sender_hash(KEY, channel, raw_id)
        self.address = encrypt_address(SECRET, raw_id)
        self.now = NOW
        self.count = 0

    def send(self, text: str, message_id: str | None = None, *, at=None) -> HandleResult:
        self.count += 1
        self.now = at or self.now + dt.timedelta(seconds=20)
        inbound = Inbound(
            channel=self.channel,
            sender_hash=self.hash,
            text=text,
            provider_message_id=message_id or f"SM{self.hash[:6]}{self.count}",
            received_at=self.now,
            reply_address=self.address,
        )
        with self.sessions() as session:
            return handle(
                inbound,
                SqlConversationStore(session),
                SqlCaseLookup(session, hmac_key=KEY, now=self.now),
                today=self.now.date(),
            )

    def say(self, text: str, message_id: str | None = None) -> str:
        return "\n".join(m.text for m in self.send(text, message_id).messages)

    def row(self) -> Conversation | None:
        with self.sessions() as session:
            return session.scalars(
                select(Conversation).where(Conversation.sender_hash == self.hash)
            ).one_or_none()


def test_hi_to_a_cited_answer_on_the_real_database(records):
    person = Person(records)
    person.say("hi")
    person.say("1")
    person.say("1")
    person.say("0B-0999-0001")
    assert "0B09990001" in person.say(DOB)

    answer = person.say("no")

    assert "Md. Code" in answer
    assert "410-260-1392" in answer
    row = person.row()
    assert row.state["step"] == "result"
    assert row.lang == "en"
    assert row.version == 6
    assert "1980" not in str(row.state)  # the date of birth is never kept


def test_a_provider_retry_is_answered_from_the_stored_reply(records):
    person = Person(records)
    first = person.send("hi", "SM-1")
    version = person.row().version

    again = person.send("hi", "SM-1")

    assert again.duplicate is True
    assert again.messages == first.messages
    assert person.row().version == version
    with person.sessions() as session:
        assert (
            session.scalar(
                select(ProcessedMessage.id).where(ProcessedMessage.provider_message_id == "SM-1")
            )
            is not None
        )


@pytest.fixture
def refuse_answers(records):
    """Make the database itself refuse every answered-message insert (a trigger), then undo it.

    The test database outlives the test, so the trigger is dropped afterwards.
    """
    engine = records
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'disk full'; END $$"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON processed_messages "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON processed_messages "
                    "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
                )
            )
    yield
    with engine.begin() as connection:
        connection.execute(
            text(
                "DROP TRIGGER refuse"
                + (" ON processed_messages" if engine.dialect.name == "postgresql" else "")
            )
        )
        if engine.dialect.name == "postgresql":
            connection.execute(text("DROP FUNCTION refuse()"))


def test_the_state_and_the_dedupe_row_commit_together(records, request):
    person = Person(records)
    person.send("hi", "SM-1")
    version = person.row().version
    request.getfixturevalue("refuse_answers")

    with pytest.raises(DBAPIError, match="disk full"):
        person.send("1", "SM-2")

    assert person.row().version == version
    assert person.row().state["step"] == "lang"


def test_a_crash_in_a_step_keeps_the_stored_state_and_answers(records, monkeypatch):
    person = Person(records)
    person.say("hi")
    person.say("1")
    person.say("2")
    person.say("1")

    def broken(state, inbound, ctx):
        raise ValueError("boom")

    monkeypatch.setitem(conversation.STEPS, "q_other", broken)
    reply = person.say("yes")

    assert "Sorry, something went wrong" in reply
    row = person.row()
    assert row.state["answers"] == {"q_charge": "possession"}
    assert row.state["step"] == "menu"


def test_reminder_keeps_the_encrypted_address_and_delete_erases_every_trace(records):
    person = Person(records)
    for line in ["hi", "1", "2", "1", "2", "1", "2016", "yes", "2025", "1", "no"]:
        person.say(line)
    assert person.row().state["step"] == "result"
    person.say("talk to a person")  # no reminder to offer: clearing is open now
    person.say("yes")
    with person.sessions() as session:
        session.add(
            Reminder(
                sender_hash=person.hash, channel="sms", address_encrypted=person.address,
                lang="en", due_on=dt.date(2030, 1, 1), pathway="shielding", status="scheduled",
            )
        )  # fmt: skip
        session.commit()
        handoff = session.scalars(select(HandoffRequest)).one()
        assert handoff.status == "open"
        assert "No case number" in handoff.summary
        reminder = session.scalars(select(Reminder)).first()
        assert decrypt_address(SECRET, reminder.address_encrypted) == "+14105550100"

    person.say("DELETE")
    assert "erased" in person.say("yes")

    assert _rows_naming(records, person.hash) == {}


def test_reminder_opt_in_through_the_conversation(records):
    person = Person(records)
    for line in ["hi", "1", "2", "2", "2", "1", "2022", "2022", "yes", "2025", "1", "no"]:
        person.say(line)  # intent to distribute: charged and guilty in 2022, sentence over in 2025
    assert person.row().state["result"]["reminder"] is not None

    person.say("2")
    person.say("yes")

    with person.sessions() as session:
        (reminder,) = session.scalars(select(Reminder)).all()
    assert reminder.sender_hash == person.hash
    assert reminder.status == "scheduled"
    assert reminder.due_on > NOW.date()
    assert decrypt_address(SECRET, reminder.address_encrypted) == "+14105550100"


def _rows_naming(engine, value: str) -> dict[str, int]:
    found = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name in KEPT_AFTER_DELETE:
                continue
            columns = [c for c in table.columns if isinstance(c.type, String)]
            for column in columns:
                count = connection.execute(
                    select(text("count(*)")).select_from(table).where(column == value)
                ).scalar()
                if count:
                    found[f"{table.name}.{column.name}"] = count
    return found


def _slow_advance(monkeypatch, seconds: float = 0.3) -> None:
    real = service.advance

    def slow(*args, **kwargs):
        time.sleep(seconds)
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "advance", slow)


def _at_once(*calls):
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    return results


def test_two_messages_at_once_are_applied_one_after_the_other(records, monkeypatch):
    person = Person(records)
    for line in ["hi", "1", "2"]:
        person.say(line)
    assert person.row().state["step"] == "q_charge"
    version = person.row().version
    _slow_advance(monkeypatch)

    _at_once(
        lambda: person.send("1", "SM-a", at=NOW + dt.timedelta(minutes=5)),
        lambda: person.send("1", "SM-b", at=NOW + dt.timedelta(minutes=5)),
    )

    row = person.row()
    assert row.version == version + 2
    assert row.state["step"] == "q_outcome"  # both answers landed: charge, then other charges


def test_a_first_message_twice_at_once_creates_one_conversation(records, monkeypatch):
    person = Person(records)
    _slow_advance(monkeypatch, 0.2)

    first, second = _at_once(lambda: person.send("hi", "SM-x"), lambda: person.send("hi", "SM-x"))

    assert first.messages == second.messages
    assert sorted([first.duplicate, second.duplicate]) == [False, True]
    assert person.row().version == 1


def test_purge_removes_idle_conversations_and_old_answers(records):
    old = Person(records, "+14105550111")
    old.send("hi", at=NOW - dt.timedelta(days=40))
    recent = Person(records, "+14105550122")
    recent.send("hi", at=NOW - dt.timedelta(days=3))
    sessions = make_session_factory(records)

    with sessions() as session:
        counts = purge(session, now=NOW, retention_days=30)
        session.commit()

    assert counts["conversations"] == 1
    assert counts["processed_messages"] == 2
    assert old.row() is None
    assert recent.row() is not None


# ---- team answers to handoff requests --------------------------------------------------------

TEAM_ANSWER = "Hi, this is Dana at the clinic: call us at 410-555-0142 on a weekday."


def _answer_handoffs(engine, **values) -> None:
    with make_session_factory(engine)() as session:
        session.execute(
            update(HandoffRequest).values(answer=TEAM_ANSWER, answered_by="worker:1", **values)
        )
        session.commit()


def _handoff_rows(engine) -> list[HandoffRequest]:
    with make_session_factory(engine)() as session:
        return list(session.scalars(select(HandoffRequest).order_by(HandoffRequest.id)))


def test_a_team_answer_goes_out_once_with_the_next_reply(records):
    person = Person(records)
    for line in ["hi", "1", "4", "yes"]:
        person.say(line)
    assert person.row().state["handoff_waiting"] is True
    _answer_handoffs(records)

    answered = person.say("menu")
    again = person.say("menu")

    assert answered.startswith(f"A message from our team: {TEAM_ANSWER}")
    assert TEAM_ANSWER not in again
    (row,) = _handoff_rows(records)
    assert row.answer_delivered_at is not None
    assert "handoff_waiting" not in person.row().state


def test_delete_erases_answered_requests_and_leaves_nothing_naming_the_sender(records):
    person = Person(records)
    for line in ["hi", "1", "4", "yes", "4", "yes"]:
        person.say(line)
    _answer_handoffs(records)

    person.say("DELETE")
    person.say("yes")

    assert _handoff_rows(records) == []
    assert _rows_naming(records, person.hash) == {}


def test_purge_treats_answered_requests_like_the_others(records):
    person = Person(records)
    for line in ["hi", "1", "4", "yes", "4", "yes", "4", "yes", "4", "yes"]:
        person.say(line)
    old = NOW - dt.timedelta(days=40)
    recent = NOW - dt.timedelta(days=3)
    ids = [row.id for row in _handoff_rows(records)]
    cases = {
        ids[0]: {"status": "closed", "updated_at": old},  # closed, undelivered, old: goes
        ids[1]: {"status": "closed", "updated_at": old, "answer_delivered_at": old},  # goes
        ids[2]: {"status": "claimed", "updated_at": old},  # open or claimed: stays
        ids[3]: {"status": "closed", "updated_at": recent},  # within retention: stays
    }
    with make_session_factory(records)() as session:
        for handoff_id, values in cases.items():
            session.execute(
                update(HandoffRequest)
                .where(HandoffRequest.id == handoff_id)
                .values(answer=TEAM_ANSWER, **values)
            )
        session.commit()
        counts = purge(session, now=NOW, retention_days=30)
        session.commit()

    assert counts["handoff_requests"] == 2
    assert [row.id for row in _handoff_rows(records)] == ids[2:]


# ---- what the person sees: a result's detail, a miss, the explainer (SMS) ----------------

#: (the language digit, the word for "more detail", what the second press says, the options)
DETAIL_AGAIN = {
    "en": ("1", "more detail", "We already sent you more detail. It is in a message above.",
           "What next? Reply with a number."),
    "es": ("2", "mas detalle", "Ya le enviamos mas detalles. Estan en un mensaje mas arriba.",
           "¿Y ahora? Responda con un numero."),
}  # fmt: skip


def _at_the_result(person: Person, lang: str) -> str:
    person.say("hi")
    person.say(DETAIL_AGAIN[lang][0])
    person.say("1")
    person.say("0B-0999-0001")
    person.say(DOB)
    return person.say("no")


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("how", ["number", "words"])
def test_more_detail_asked_again_says_it_was_sent_instead_of_sending_it_again(records, lang, how):
    person = Person(records)
    _at_the_result(person, lang)
    detail = person.say("1")
    _, word, already_sent, next_steps = DETAIL_AGAIN[lang]

    again = person.say("1" if how == "number" else word)

    assert already_sent not in detail
    assert again.startswith(already_sent)
    assert next_steps in again  # the same options as after the detail
    assert again[again.index(next_steps) :] == detail[detail.index(next_steps) :]
    assert len(again) < len(detail) / 2
    assert person.row().state["step"] == "result"


def test_a_new_result_sends_its_detail_again(records):
    person = Person(records)
    _at_the_result(person, "en")
    first = person.say("1")
    person.say("MENU")
    person.say("1")
    person.say("0B-0999-0001")
    person.say(DOB)
    person.say("no")

    second = person.say("1")

    assert second == first


def test_more_detail_asked_again_after_a_day_away_is_sent_again(records):
    """A basic phone keeps few texts: after a day, "it is in a message above" may point at
    nothing, so the detail itself goes out again."""
    person = Person(records)
    _at_the_result(person, "en")
    first = person.say("1")

    back = person.send("1", at=person.now + dt.timedelta(hours=25)).messages
    text = "\n".join(m.text for m in back)

    assert DETAIL_AGAIN["en"][2] not in text
    assert first in text  # the same detail, after the "welcome back" line
    assert person.say("1").startswith(DETAIL_AGAIN["en"][2])  # and only once again


def test_on_sms_a_miss_and_the_explainer_stay_numbered_text_without_buttons(records):
    person = Person(records)
    person.say("hi")
    person.say("1")
    person.say("2")  # the questions

    missed = person.send("the one with the cop").messages

    assert [(m.text, m.buttons) for m in missed] == [
        ("Sorry, I did not get that. Please reply with a number from 1 to 5.", ())
    ]
    person.say("MENU")
    topics = person.send("3").messages
    assert "\n1 Pardon\n2 Expungement\n" in topics[-1].text
    pardon = person.send("1").messages
    assert pardon[-1].text.endswith("Reply another number to learn more, or reply MENU.")
    assert [m.buttons for m in (*topics, *pardon)] == [()] * (len(topics) + len(pardon))
