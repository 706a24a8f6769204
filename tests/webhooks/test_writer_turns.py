"""On SQLite every webhook write waits for its writer turn before it takes the database's
write lock: a request that took the lock first and then queued for a turn would stall the
writer holding the turn (SQLite makes it poll for up to 15 s, then the person gets a 503)."""
# ruff: noqa: F811 - pytest fixtures imported from tests.fakes.channels

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db.engine import writer_turn
from db.models.channels import ChannelOptOut, DeliveryStatus
from db.models.conversation import ProcessedMessage
from tests.fakes.channels import (  # noqa: F401 - fixtures
    channel_app,
    channel_client,
    message_sid,
    post_sms,
    post_update,
    sms_form,
    tg_message_update,
)


def _blocked_on(path: str) -> bool:
    """True when some process waits for a lock on ``path`` (Linux lists waiters with ->)."""
    inode = os.stat(path).st_ino
    with open("/proc/locks") as locks:
        return any("->" in line and f":{inode} " in line for line in locks)


def _can_write_now(database: str) -> bool:
    """Whether a writer gets SQLite's write lock at once (nobody else holds it)."""
    connection = sqlite3.connect(database, timeout=0.2, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        connection.close()


def _while_turn_is_held(engine: Engine, request: Callable[[], Any]) -> tuple[Any, bool]:
    """Hold the writer turn, send ``request`` from another thread, and report whether the
    database stayed writable while the request waited; then let it finish."""
    database = str(engine.url.database)
    outcome: dict[str, Any] = {}
    with Session(engine) as holder, writer_turn(holder):
        worker = threading.Thread(target=lambda: outcome.update(response=request()))
        worker.start()
        deadline = time.monotonic() + 10
        while not _blocked_on(database + "-writer.lock"):
            assert time.monotonic() < deadline, "the request never waited for its turn"
            assert worker.is_alive(), "the request finished without waiting for its turn"
            time.sleep(0.01)
        writable = _can_write_now(database)
    worker.join(20)
    return outcome["response"], writable


def _opted_out(engine: Engine) -> bool | None:
    with Session(engine) as session:
        return session.scalar(select(ChannelOptOut.opted_out))


def test_stop_waits_for_its_turn_before_it_writes(sqlite_only, channel_client, engine):
    response, writable = _while_turn_is_held(
        engine, lambda: post_sms(channel_client, sms_form("STOP", OptOutType="STOP"))
    )

    assert writable
    assert response.status_code == 200
    assert _opted_out(engine) is True


def test_a_delivery_status_waits_for_its_turn_before_it_writes(
    sqlite_only, channel_client, engine
):
    sid = message_sid()
    form = {"MessageSid": sid, "MessageStatus": "delivered", "To": "+14105550123"}

    response, writable = _while_turn_is_held(
        engine, lambda: post_sms(channel_client, form, path="/sms/twilio/status")
    )

    assert writable
    assert response.status_code == 204
    with Session(engine) as session:
        assert session.scalar(select(DeliveryStatus.status)) == "delivered"


def test_the_demo_page_counts_its_visitor_only_in_its_turn(sqlite_only, channel_client, engine):
    payload = {"text": "hi", "id": uuid.uuid4().hex, "lang": "en"}

    response, writable = _while_turn_is_held(
        engine, lambda: channel_client.post("/try/message", json=payload)
    )

    assert writable
    assert response.status_code == 200
    assert response.get_json()["messages"]
    with Session(engine) as session:
        assert session.scalar(select(ProcessedMessage.channel)) == "web"


def test_an_edited_telegram_message_waits_for_its_turn(sqlite_only, channel_client, engine):
    update = tg_message_update("hi again", edited=True)

    response, writable = _while_turn_is_held(engine, lambda: post_update(channel_client, update))

    assert writable
    assert response.status_code == 200
    assert response.get_json()["method"] == "sendMessage"
