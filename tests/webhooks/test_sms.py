"""POST /sms/twilio and /sms/twilio/status: signed by twilio's RequestValidator, real TwiML."""
# ruff: noqa: F811 - pytest fixtures imported from tests.fakes.channels

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from db.identity import sender_hash
from db.models.channels import ChannelOptOut, DeliveryStatus, SenderThrottle
from db.models.conversation import Conversation, ProcessedMessage
from tests.fakes.channels import (  # noqa: F401 - fixtures
    AUTH_TOKEN,
    CHANNEL_CONFIG,
    PUBLIC,
    channel_app,
    channel_client,
    log_lines,
    message_sid,
    post_sms,
    sign,
    sms_form,
    twiml_messages,
)
from webhooks.app import create_app
from webhooks.throttle import CHAT_LIMIT

NUMBER = "+14105550123"
HMAC_KEY = CHANNEL_CONFIG["RECORDCHECK_HMAC_KEY"]


def _count(engine, model) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _version(engine, number: str = NUMBER) -> int | None:
    with Session(engine) as session:
        return session.scalar(
            select(Conversation.version).where(
                Conversation.sender_hash == sender_hash(HMAC_KEY, "sms", number)
            )
        )


def _opted_out(engine, number: str = NUMBER) -> bool | None:
    with Session(engine) as session:
        return session.scalar(
            select(ChannelOptOut.opted_out).where(
                ChannelOptOut.sender_hash == sender_hash(HMAC_KEY, "sms", number)
            )
        )


# ---- signatures ---------------------------------------------------------------------------


def test_a_signed_first_message_gets_the_welcome_as_twiml(channel_client):
    response = post_sms(channel_client, sms_form("hi"))

    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    messages = twiml_messages(response.data)
    assert messages
    assert "not legal advice" in " ".join(messages).lower()


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"X-Twilio-Signature": ""}, id="empty"),
        pytest.param({"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}, id="garbage"),
    ],
)
def test_unsigned_requests_are_forbidden_and_write_nothing(channel_client, engine, headers):
    response = channel_client.post("/sms/twilio", data=sms_form("hi"), headers=headers)

    assert response.status_code == 403
    assert _count(engine, Conversation) == 0


def test_forged_signatures_are_forbidden(channel_client, engine):
    form = sms_form("hi")
    other_token = sign("/sms/twilio", form, token="another-account-token")
    other_url = sign("/sms/twilio", form, base="http://localhost")
    tampered = sign("/sms/twilio", {**form, "Body": "something else"})
    status_path = sign("/sms/twilio/status", form)

    for signature in (other_token, other_url, tampered, status_path):
        response = channel_client.post(
            "/sms/twilio", data=form, headers={"X-Twilio-Signature": signature}
        )
        assert response.status_code == 403
    assert _count(engine, Conversation) == 0


def test_a_parameter_added_after_signing_is_forbidden(channel_client):
    form = sms_form("hi")
    signature = sign("/sms/twilio", form)

    response = channel_client.post(
        "/sms/twilio", data={**form, "Extra": "x"}, headers={"X-Twilio-Signature": signature}
    )

    assert response.status_code == 403


def test_the_public_url_is_what_counts_behind_a_proxy(channel_client):
    """The router forwards to http://10.0.0.5:8000; Twilio signed https://recordcheck..."""
    form = sms_form("hi")

    response = channel_client.post(
        "/sms/twilio",
        data=form,
        base_url="http://10.0.0.5:8000",
        headers={
            "X-Twilio-Signature": sign("/sms/twilio", form),
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "recordcheck.example.org",
        },
    )

    assert response.status_code == 200


def test_without_an_auth_token_every_request_is_forbidden(database_url, engine):
    config = {**CHANNEL_CONFIG, "TWILIO_AUTH_TOKEN": ""}
    app = create_app({"DATABASE_URL": database_url, **config})
    form = sms_form("hi")

    response = app.test_client().post(
        "/sms/twilio", data=form, headers={"X-Twilio-Signature": sign("/sms/twilio", form)}
    )

    app.extensions["recordcheck.engine"].dispose()
    assert response.status_code == 403


# ---- idempotency --------------------------------------------------------------------------


def test_a_retry_gets_the_same_twiml_and_the_dialog_advances_once(channel_client, engine):
    post_sms(channel_client, sms_form("hi"))
    form = sms_form("1")

    first = post_sms(channel_client, form)
    version = _version(engine)
    retry = post_sms(channel_client, form)

    assert retry.status_code == 200
    assert retry.data == first.data
    assert _version(engine) == version
    assert _count(engine, ProcessedMessage) == 2


def test_duplicates_delivered_concurrently_are_applied_once(channel_app, engine):
    post_sms(channel_app.test_client(), sms_form("hi"))
    form = sms_form("1")
    results: list[tuple[int, bytes]] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            response = post_sms(channel_app.test_client(), form)
            results.append((response.status_code, response.data))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert {status for status, _ in results} == {200}
    assert len({body for _, body in results}) == 1
    assert _version(engine) == 2
    assert _count(engine, ProcessedMessage) == 2


def test_different_messages_from_one_sender_concurrently_each_apply_once(channel_app, engine):
    post_sms(channel_app.test_client(), sms_form("hi"))
    forms = [sms_form(word) for word in ("menu", "help", "menu", "help", "menu")]
    statuses: list[int] = []

    def deliver(form) -> None:
        statuses.append(post_sms(channel_app.test_client(), form).status_code)

    threads = [threading.Thread(target=deliver, args=(form,)) for form in forms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 5
    assert _version(engine) == 6
    assert _count(engine, ProcessedMessage) == 6


# ---- opt-out keywords ---------------------------------------------------------------------


def test_stop_is_recorded_and_answered_by_twilio_not_by_us(channel_client, engine):
    post_sms(channel_client, sms_form("hi"))
    version = _version(engine)

    response = post_sms(channel_client, sms_form("STOP", OptOutType="STOP"))

    assert twiml_messages(response.data) == []
    assert _opted_out(engine) is True
    assert _version(engine) == version


def test_an_opted_out_sender_gets_nothing_until_start(channel_client, engine):
    post_sms(channel_client, sms_form("hi"))
    post_sms(channel_client, sms_form("stop"))
    version = _version(engine)

    quiet = post_sms(channel_client, sms_form("menu"))
    start = post_sms(channel_client, sms_form("START", OptOutType="START"))
    back = post_sms(channel_client, sms_form("menu"))

    assert twiml_messages(quiet.data) == []
    assert _version(engine) == version + 1
    assert twiml_messages(start.data) == []
    assert twiml_messages(back.data) != []
    assert _opted_out(engine) is False


def test_yes_opts_back_in_only_someone_who_is_opted_out(channel_client, engine):
    post_sms(channel_client, sms_form("hi"))
    post_sms(channel_client, sms_form("UNSUBSCRIBE"))

    response = post_sms(channel_client, sms_form("yes"))

    assert twiml_messages(response.data) == []
    assert _opted_out(engine) is False
    assert twiml_messages(post_sms(channel_client, sms_form("yes")).data) != []


@pytest.mark.parametrize("body", ["REVOKE", "optout", "Stop.", "STOP!", " quit. "])
def test_every_opt_out_word_is_recorded_and_left_unanswered(channel_client, engine, body):
    """Twilio's default opt-out words include REVOKE and OPTOUT, and the conversation already
    stays quiet on "Stop." as on STOP: each must be recorded, or reminders still go out."""
    post_sms(channel_client, sms_form("hi"))
    version = _version(engine)

    response = post_sms(channel_client, sms_form(body))

    assert twiml_messages(response.data) == []
    assert _opted_out(engine) is True
    assert _version(engine) == version


def test_an_opted_out_sender_who_floods_is_not_told_to_slow_down(channel_client):
    post_sms(channel_client, sms_form("hi"))
    post_sms(channel_client, sms_form("STOP", OptOutType="STOP"))

    replies = [
        twiml_messages(post_sms(channel_client, sms_form("menu")).data)
        for _ in range(CHAT_LIMIT.count + 2)
    ]

    assert all(reply == [] for reply in replies)


def test_help_keyword_from_advanced_opt_out_is_left_to_twilio(channel_client, engine):
    response = post_sms(channel_client, sms_form("HELP", OptOutType="HELP"))

    assert twiml_messages(response.data) == []
    assert _opted_out(engine) is None


def test_plain_help_is_answered_by_the_conversation(channel_client):
    post_sms(channel_client, sms_form("hi"))

    response = post_sms(channel_client, sms_form("help"))

    assert "MENU" in " ".join(twiml_messages(response.data))


# ---- media, empty, bad input ------------------------------------------------------------


def test_media_only_and_empty_messages_are_answered_politely(channel_client):
    post_sms(channel_client, sms_form("hi"))
    picture = sms_form(
        "",
        NumMedia="1",
        MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME",
        MediaContentType0="image/jpeg",
    )

    media = twiml_messages(post_sms(channel_client, picture).data)
    empty = twiml_messages(post_sms(channel_client, sms_form("   ")).data)

    assert "only read text" in media[0]
    assert "only read text" in empty[0]


@pytest.mark.parametrize("missing", ["From", "MessageSid"])
def test_a_signed_form_without_sender_or_id_is_a_clear_400(channel_client, missing):
    form = sms_form("hi")
    del form[missing]
    if missing == "MessageSid":
        del form["SmsSid"]

    response = post_sms(channel_client, form)

    assert response.status_code == 400
    assert "required" in response.json["error"]["description"]


def test_an_oversized_body_is_413(channel_client):
    response = channel_client.post(
        "/sms/twilio", data={"Body": "x" * (1024 * 1024 + 10)}, headers={"X-Twilio-Signature": "x"}
    )

    assert response.status_code == 413


def test_a_long_signed_message_is_answered_not_crashed(channel_client):
    response = post_sms(channel_client, sms_form("0B0" * 3000))

    assert response.status_code == 200
    assert twiml_messages(response.data)


def test_bytes_that_are_not_utf8_never_crash(channel_client, engine):
    raw = b"Body=%FF%FE%FA&From=%2B14105550123&MessageSid=SMbad"

    response = channel_client.post(
        "/sms/twilio",
        data=raw,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": "forged"},
    )

    assert response.status_code == 403
    assert _count(engine, Conversation) == 0


def test_a_nul_in_a_signed_body_is_dropped_and_the_message_answered(channel_client, engine):
    response = post_sms(channel_client, sms_form("h\x00i"))

    assert response.status_code == 200
    assert "RecordCheck" in twiml_messages(response.data)[0]
    assert _version(engine) == 1


@pytest.mark.parametrize(
    ("field", "value", "description"),
    [
        ("MessageSid", "SM\x00" + "1" * 32, "MessageSid holds characters Twilio never sends."),
        ("From", "+1410\x005550123", "From holds characters Twilio never sends."),
        ("MessageSid", "SM" + "1" * 100_000, "MessageSid is too long."),
        ("From", "+1" * 50, "From is too long."),
    ],
    ids=["nul-in-id", "nul-in-number", "huge-id", "long-number"],
)
def test_a_signed_id_or_number_that_twilio_never_sends_is_a_clear_400(
    channel_client, engine, field, value, description
):
    """PostgreSQL refuses a NUL in text: stored as a message id it was a 500, which Twilio
    retries for hours; now the request is refused once, with a reason."""
    form = sms_form("hi")
    form[field] = value
    if field == "MessageSid":
        form["SmsSid"] = value

    response = post_sms(channel_client, form)

    assert response.status_code == 400
    assert response.json["error"]["description"] == description
    assert _count(engine, ProcessedMessage) == 0


def test_a_field_sent_twice_is_read_once_and_answered_once(channel_client, engine):
    """A form may repeat a field; the signature covers both values and the first is the
    message (the second is never applied as a second message)."""
    from twilio.request_validator import RequestValidator
    from werkzeug.datastructures import MultiDict

    form = MultiDict([*sms_form("hi").items(), ("Body", "STOP")])
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + "/sms/twilio", form)

    response = channel_client.post(
        "/sms/twilio", data=form, headers={"X-Twilio-Signature": signature}
    )

    assert response.status_code == 200
    assert "RecordCheck" in twiml_messages(response.data)[0]
    assert _opted_out(engine) is None
    assert _count(engine, ProcessedMessage) == 1


def test_signed_text_with_emoji_and_accents_is_answered_in_gsm7(channel_client):
    response = post_sms(channel_client, sms_form("hola 👋 ¿qué tal?"))

    assert response.status_code == 200
    body = " ".join(twiml_messages(response.data))
    assert body
    assert "á" not in body


def test_a_json_body_is_not_a_twilio_request(channel_client):
    response = channel_client.post(
        "/sms/twilio", json={"From": NUMBER, "Body": "hi"}, headers={"X-Twilio-Signature": "x"}
    )

    assert response.status_code == 403


# ---- throttling ---------------------------------------------------------------------------


def test_a_flood_gets_one_slow_down_and_no_further_work(channel_client, engine):
    replies = [twiml_messages(post_sms(channel_client, sms_form("menu")).data) for _ in range(25)]

    served = CHAT_LIMIT.count
    assert all(replies[i] for i in range(served))
    assert len(replies[served]) == 1
    assert "wait one minute" in replies[served][0]
    assert all(r == [] for r in replies[served + 1 :])
    assert _count(engine, ProcessedMessage) == served
    assert _count(engine, SenderThrottle) == 1


def test_a_spanish_conversation_is_told_to_slow_down_in_spanish(channel_client):
    post_sms(channel_client, sms_form("hola"))

    replies = [
        twiml_messages(post_sms(channel_client, sms_form("menu")).data)
        for _ in range(CHAT_LIMIT.count)
    ]

    assert "Espere un minuto" in replies[-1][0]


def test_other_senders_are_not_slowed_by_a_flood(channel_client):
    for _ in range(CHAT_LIMIT.count + 3):
        post_sms(channel_client, sms_form("menu"))

    response = post_sms(channel_client, sms_form("hi", sender="+14105550999"))

    assert twiml_messages(response.data)


# ---- failures -----------------------------------------------------------------------------


def test_database_unreachable_is_503_so_twilio_retries():
    app = create_app(
        {
            "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1",
            **CHANNEL_CONFIG,
        }
    )
    form = sms_form("hi")

    response = app.test_client().post(
        "/sms/twilio", data=form, headers={"X-Twilio-Signature": sign("/sms/twilio", form)}
    )

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"


def test_a_database_failure_mid_request_leaves_nothing_half_written(
    channel_client, engine, backend, database_url
):
    """The throttle count is written first; a lock timeout later must roll it back too."""
    if backend != "postgresql":
        pytest.skip("needs PostgreSQL's lock_timeout")
    post_sms(channel_client, sms_form("hi"))
    before = _version(engine)
    name = engine.url.database
    with engine.connect() as admin:
        admin.execute(text(f"ALTER DATABASE \"{name}\" SET lock_timeout = '300ms'"))
        admin.commit()
    channel_client.application.extensions["recordcheck.engine"].dispose()
    try:
        with engine.connect() as blocker:
            blocker.execute(text("LOCK TABLE conversations IN ACCESS EXCLUSIVE MODE"))
            response = post_sms(channel_client, sms_form("menu"))
            blocker.rollback()
    finally:
        with engine.connect() as admin:
            admin.execute(text(f'ALTER DATABASE "{name}" RESET lock_timeout'))
            admin.commit()

    assert response.status_code == 503
    with Session(engine) as session:
        count = session.scalar(select(SenderThrottle.count))
    assert count == 1
    assert _version(engine) == before


@pytest.mark.parametrize(("greeting", "apology"), [("hi", "went wrong"), ("hola", "algo fallo")])
def test_a_broken_conversation_row_still_answers_the_person_in_their_language(
    channel_client, engine, greeting, apology
):
    """An SMS carries no language hint: the apology follows the language the person chose."""
    post_sms(channel_client, sms_form(greeting))
    with Session(engine) as session:
        session.execute(update(Conversation).values(state=[1, 2, 3]))
        session.commit()

    response = post_sms(channel_client, sms_form("menu"))

    assert response.status_code == 200
    assert apology in twiml_messages(response.data)[0]


def test_a_crash_inside_a_step_answers_with_an_apology_and_the_menu(channel_client, engine):
    post_sms(channel_client, sms_form("hi"))
    post_sms(channel_client, sms_form("1"))
    with Session(engine) as session:
        session.execute(
            update(Conversation).values(
                state={
                    "v": 1,
                    "step": "remind_confirm",
                    "lang": "en",
                    "result": {"reminder": {"due_on": "not-a-date", "pathway": "x"}},
                }
            )
        )
        session.commit()

    response = post_sms(channel_client, sms_form("yes"))

    text_out = " ".join(twiml_messages(response.data))
    assert response.status_code == 200
    assert "went wrong" in text_out
    assert "1" in text_out


# ---- logs ---------------------------------------------------------------------------------


def test_one_log_line_per_request_without_numbers_or_bodies(channel_client, log_lines):
    post_sms(channel_client, sms_form("my case 0B01234567 born 1990-01-01"))
    channel_client.post("/sms/twilio", data=sms_form("x"), headers={"X-Twilio-Signature": "bad"})

    lines = [r for r in log_lines.records() if r["msg"] == "channel request"]
    assert [(r["channel"], r["status"], r["outcome"]) for r in lines] == [
        ("sms", 200, "replied"),
        ("sms", 403, "forbidden"),
    ]
    assert lines[0]["sender"] == sender_hash(HMAC_KEY, "sms", NUMBER)[:16]
    assert isinstance(lines[0]["latency_ms"], float)
    everything = "\n".join(log_lines)
    for secret in (NUMBER, "4105550123", "0B01234567", "1990-01-01"):
        assert secret not in everything


# ---- delivery status callbacks ----------------------------------------------------------


def _status(client, sid: str, status: str, **extra: str):
    form = {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": CHANNEL_CONFIG["TWILIO_ACCOUNT_SID"],
        "From": CHANNEL_CONFIG["TWILIO_FROM_NUMBER"],
        "To": NUMBER,
        "ApiVersion": "2010-04-01",
        **extra,
    }
    return post_sms(client, form, path="/sms/twilio/status")


def _stored_status(engine, sid: str) -> tuple[str, int | None] | None:
    with Session(engine) as session:
        row = session.scalars(
            select(DeliveryStatus).where(DeliveryStatus.provider_message_id == sid)
        ).one_or_none()
        return None if row is None else (row.status, row.error_code)


def test_delivery_status_only_moves_forward(channel_client, engine):
    sid = message_sid()

    statuses = [_status(channel_client, sid, s).status_code for s in ("sent", "delivered")]
    late = _status(channel_client, sid, "sent")
    repeat = _status(channel_client, sid, "delivered")

    assert statuses == [204, 204]
    assert (late.status_code, repeat.status_code) == (204, 204)
    assert _stored_status(engine, sid) == ("delivered", None)
    assert _count(engine, DeliveryStatus) == 1


def test_undelivered_keeps_its_error_code(channel_client, engine):
    sid = message_sid()

    _status(channel_client, sid, "undelivered", ErrorCode="30003")

    assert _stored_status(engine, sid) == ("undelivered", 30003)


def test_every_status_twilio_sends_for_an_outbound_sms_is_stored(channel_client, engine):
    """Twilio's list of message statuses; a refused callback is an error on Twilio's side and
    a status that stays stale here."""
    statuses = ("accepted", "scheduled", "queued", "sending", "sent", "delivered",
                "undelivered", "failed", "partially_delivered", "read", "canceled")  # fmt: skip
    stored = []
    for status in statuses:
        sid = message_sid()
        response = _status(channel_client, sid, status)
        stored.append((response.status_code, _stored_status(engine, sid)))

    assert stored == [(204, (status, None)) for status in statuses]


def test_error_21610_marks_the_recipient_opted_out(channel_client, engine):
    _status(channel_client, message_sid(), "failed", ErrorCode="21610")

    assert _opted_out(engine) is True


def test_forged_or_malformed_status_callbacks_are_refused(channel_client, engine):
    forged = channel_client.post(
        "/sms/twilio/status",
        data={"MessageSid": "SMx", "MessageStatus": "delivered"},
        headers={"X-Twilio-Signature": sign("/sms/twilio", {"MessageSid": "SMx"})},
    )
    unknown = _status(channel_client, message_sid(), "teleported")
    no_sid = post_sms(channel_client, {"MessageStatus": "sent"}, path="/sms/twilio/status")

    assert forged.status_code == 403
    assert unknown.status_code == 400
    assert no_sid.status_code == 400
    assert _count(engine, DeliveryStatus) == 0


@pytest.mark.parametrize(
    "error_code", ["\u00b2", "9999999999"], ids=["superscript-digit", "too-big-for-the-column"]
)
def test_an_error_code_that_is_no_storable_number_still_stores_the_status(
    channel_client, engine, error_code
):
    """A superscript two passes ``str.isdigit`` but not ``int`` (a 500), and ten nines
    overflow the PostgreSQL integer column (a 500): the status matters, and it is kept."""
    sid = message_sid()

    response = _status(channel_client, sid, "undelivered", ErrorCode=error_code)

    assert response.status_code == 204
    assert _stored_status(engine, sid) == ("undelivered", None)


def test_a_status_callback_with_a_nul_in_its_id_is_a_clear_400(channel_client, engine):
    response = _status(channel_client, "SM\x00" + "1" * 32, "delivered")

    assert response.status_code == 400
    assert "never sends" in response.json["error"]["description"]
    assert _count(engine, DeliveryStatus) == 0


def test_signature_covers_the_query_string(channel_client):
    form = sms_form("hi")
    signature = RequestValidatorFor(PUBLIC + "/sms/twilio?x=1", form)

    ok = channel_client.post(
        "/sms/twilio?x=1", data=form, headers={"X-Twilio-Signature": signature}
    )
    moved = channel_client.post(
        "/sms/twilio", data=form, headers={"X-Twilio-Signature": signature}
    )

    assert ok.status_code == 200
    assert moved.status_code == 403


def RequestValidatorFor(url: str, form) -> str:  # noqa: N802 - reads like the library call
    from twilio.request_validator import RequestValidator

    return RequestValidator(AUTH_TOKEN).compute_signature(url, dict(form))
