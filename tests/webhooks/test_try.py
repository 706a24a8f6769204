"""/try: the demo web chat runs the real conversation on the web channel."""
# ruff: noqa: F811 - pytest fixtures imported from tests.fakes.channels

from __future__ import annotations

import json
import re
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models.conversation import Conversation, ProcessedMessage
from tests.fakes.channels import channel_app, channel_client  # noqa: F401 - fixtures
from webhooks.throttle import CHAT_LIMIT, WEB_LIMIT


def _say(client, text: str, *, button: bool = False, message_id: str | None = None, **extra):
    payload = {"text": text, "id": message_id or uuid.uuid4().hex, "lang": "en", "button": button}
    return client.post("/try/message", json={**payload, **extra})


def _count(engine, model) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_page_is_marked_as_a_demo_and_loads_nothing_from_elsewhere(channel_client):
    response = channel_client.get("/try")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Demo only" in html
    assert "legal advice" in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    assert all(s.startswith("/") for s in sources), sources
    assert "<script>" not in html


def test_the_page_in_spanish(channel_client):
    html = channel_client.get("/try?lang=es").get_data(as_text=True)

    assert 'lang="es"' in html
    assert "Solo es una prueba" in html


def test_the_script_and_style_are_served_locally(channel_client):
    script = channel_client.get("/static/try/chat.js")
    style = channel_client.get("/static/try/chat.css")

    assert (script.status_code, style.status_code) == (200, 200)
    assert "textContent" in script.get_data(as_text=True)
    assert "innerHTML" not in script.get_data(as_text=True)
    script.close()
    style.close()


def test_a_conversation_with_buttons(channel_client, engine):
    welcome = _say(channel_client, "hi").get_json()["messages"]
    offered = [value for _, value in welcome[-1]["buttons"]]
    questions = _say(channel_client, offered[1], button=True).get_json()["messages"]

    assert "not legal advice" in welcome[0]["text"].lower()
    assert offered == ["menu:1", "menu:2", "menu:3", "menu:4"]
    assert "charge" in questions[-1]["text"].lower()
    assert questions[-1]["buttons"]
    assert _count(engine, Conversation) == 1


def test_a_resent_message_is_answered_again_but_applied_once(channel_client, engine):
    _say(channel_client, "hi")
    message_id = uuid.uuid4().hex

    first = _say(channel_client, "1", message_id=message_id).get_json()
    again = _say(channel_client, "1", message_id=message_id).get_json()

    assert again == first
    assert _count(engine, ProcessedMessage) == 2


def test_the_same_message_id_from_another_browser_is_answered_as_its_own(channel_app, engine):
    """Message ids come from the page; another browser sending one (by chance or on purpose)
    gets its own answer, never the stored reply of this browser's conversation."""
    mine, theirs = channel_app.test_client(), channel_app.test_client()
    _say(mine, "hi")
    _say(theirs, "hi")
    message_id = uuid.uuid4().hex

    first = _say(mine, "1", message_id=message_id).get_json()
    other = _say(theirs, "3", message_id=message_id).get_json()

    assert "case number" in first["messages"][-1]["text"]
    assert other != first
    assert _count(engine, ProcessedMessage) == 4


@pytest.mark.parametrize("text", ["hi \ud800", "\u0000"], ids=["lone-surrogate", "nul"])
def test_a_lone_surrogate_or_a_nul_in_the_text_is_answered(channel_client, text):
    response = channel_client.post(
        "/try/message",
        data=json.dumps({"text": text, "id": uuid.uuid4().hex, "lang": "en"}),
        content_type="application/json",
    )

    assert response.status_code == 200
    assert "RecordCheck" in response.get_json()["messages"][0]["text"]


def test_the_browser_id_is_kept_only_as_a_hash(channel_client, engine):
    response = _say(channel_client, "hi")

    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    with Session(engine) as session:
        (row,) = session.scalars(select(Conversation)).all()
    assert row.channel == "web"
    assert re.fullmatch(r"[0-9a-f]{64}", row.sender_hash)


def test_restart_starts_a_new_conversation(channel_client, engine):
    _say(channel_client, "hi")

    channel_client.post("/try/restart", json={})
    _say(channel_client, "hi")

    assert _count(engine, Conversation) == 2


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        pytest.param({"data": "text=hi", "content_type": "text/plain"}, 400, id="not-json"),
        pytest.param({"json": ["hi"]}, 400, id="array"),
        pytest.param({"json": {"text": "hi"}}, 400, id="no-id"),
        pytest.param({"json": {"text": "hi", "id": "../../x"}}, 400, id="bad-id"),
        pytest.param({"json": {"text": 5, "id": "abcdefgh1"}}, 400, id="text-not-string"),
        pytest.param({"json": {"text": "x" * 501, "id": "abcdefgh1"}}, 400, id="too-long"),
        pytest.param(
            {"data": b'{"text": "\xff", "id": "abcdefgh1"}', "content_type": "application/json"},
            400,
            id="not-utf8",
        ),
        pytest.param(
            {"data": "[" * 200_000, "content_type": "application/json"}, 400, id="nested-too-deep"
        ),
    ],
)
def test_bad_input_is_a_clear_400(channel_client, engine, kwargs, status):
    response = channel_client.post("/try/message", **kwargs)

    assert response.status_code == status
    assert response.json["error"]["code"] == status
    assert _count(engine, Conversation) == 0


def test_a_flooding_browser_gets_one_slow_down_then_429(channel_client):
    replies = [_say(channel_client, "menu") for _ in range(CHAT_LIMIT.count + 2)]

    slow = replies[CHAT_LIMIT.count].get_json()["messages"][0]["text"]
    assert "wait one minute" in slow
    assert replies[-1].status_code == 429
    assert replies[-1].headers["Retry-After"] == "60"


def test_many_browsers_from_one_address_are_limited_too(channel_app):
    statuses = [
        _say(channel_app.test_client(), "hi").status_code for _ in range(WEB_LIMIT.count + 2)
    ]

    assert statuses[: WEB_LIMIT.count] == [200] * WEB_LIMIT.count
    assert statuses[WEB_LIMIT.count :] == [429, 429]
