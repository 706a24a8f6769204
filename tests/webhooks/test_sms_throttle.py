"""Per-sender throttling: fixed windows in the database and in Redis, shared by all workers."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
import redis

from db.engine import make_session_factory
from webhooks.throttle import Limit, RedisThrottle, SqlThrottle, Verdict, purge_stale_counters

LIMIT = Limit(count=3, seconds=60)
T0 = dt.datetime(2026, 11, 25, 12, 0, 5, tzinfo=dt.UTC)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def test_the_limit_then_one_warning_then_silence():
    verdicts = [LIMIT.verdict(n) for n in range(1, 7)]

    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.WARN] + [Verdict.DROP] * 2


def test_windows_are_aligned_so_every_host_agrees():
    assert LIMIT.window_start(T0) == dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def _sql_hits(engine, clock, key, n):
    sessions = make_session_factory(engine)
    out = []
    for _ in range(n):
        with sessions() as session:
            out.append(SqlThrottle(session, clock=clock).hit(key, LIMIT))
            session.commit()
    return out


def test_database_counters_reset_in_the_next_window(engine, db_session):
    clock = Clock(T0)

    first = _sql_hits(engine, clock, "sms:a", 5)
    clock.now = T0 + dt.timedelta(seconds=60)
    second = _sql_hits(engine, clock, "sms:a", 1)
    other = _sql_hits(engine, clock, "sms:b", 1)

    assert first == [Verdict.ALLOW] * 3 + [Verdict.WARN, Verdict.DROP]
    assert second == [Verdict.ALLOW]
    assert other == [Verdict.ALLOW]


def test_database_counters_are_exact_under_concurrency(engine, db_session, backend):
    sessions = make_session_factory(engine)
    limit = Limit(count=10, seconds=3600)
    verdicts: list[Verdict] = []
    lock = threading.Lock()

    def hit() -> None:
        for _ in range(5):
            with sessions() as session:
                verdict = SqlThrottle(session).hit("tg:flood", limit)
                session.commit()
            with lock:
                verdicts.append(verdict)

    threads = [threading.Thread(target=hit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert verdicts.count(Verdict.ALLOW) == 10
    assert verdicts.count(Verdict.WARN) == 1
    assert verdicts.count(Verdict.DROP) == 19


def test_old_counters_are_purged(engine, db_session):
    _sql_hits(engine, Clock(T0), "sms:old", 1)
    _sql_hits(engine, Clock(T0 + dt.timedelta(hours=3)), "sms:new", 1)

    with make_session_factory(engine)() as session:
        removed = purge_stale_counters(session, older_than=T0 + dt.timedelta(hours=1))
        session.commit()

    assert removed == 1


@pytest.fixture
def redis_client():
    client = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("Redis not reachable on 127.0.0.1:6379")
    yield client
    client.close()


def test_redis_counters_behave_like_the_database(redis_client):
    prefix = f"recordcheck-test:{uuid.uuid4().hex}:"
    clock = Clock(T0)
    throttle = RedisThrottle(redis_client, prefix=prefix, clock=clock)

    first = [throttle.hit("sms:a", LIMIT) for _ in range(5)]
    clock.now = T0 + dt.timedelta(seconds=60)
    second = throttle.hit("sms:a", LIMIT)

    assert first == [Verdict.ALLOW] * 3 + [Verdict.WARN, Verdict.DROP]
    assert second == Verdict.ALLOW
    ttl = redis_client.ttl(f"{prefix}sms:a:{int(LIMIT.window_start(T0).timestamp())}")
    assert 0 < ttl <= 120


def test_a_retried_message_counts_once_in_redis_and_keeps_its_verdict(redis_client):
    """Redis is outside the request's transaction: a provider retrying a message (after a 503,
    or delivering it twice) must not use up the sender's allowance."""
    prefix = f"recordcheck-test:{uuid.uuid4().hex}:"
    throttle = RedisThrottle(redis_client, prefix=prefix, clock=Clock(T0))

    def hit(sid: str) -> Verdict:
        return throttle.hit("sms:a", LIMIT, message_id=sid)

    first = [hit("SM1"), hit("SM1"), hit("SM1"), hit("SM2"), hit("SM3")]
    warned = [hit("SM4"), hit("SM4")]
    late_retry_of_an_allowed_message = hit("SM2")
    dropped = [hit("SM5"), hit("SM5"), hit("SM6")]

    assert first == [Verdict.ALLOW] * 5
    assert warned == [Verdict.WARN, Verdict.WARN]
    assert late_retry_of_an_allowed_message == Verdict.ALLOW
    assert dropped == [Verdict.DROP] * 3


def test_a_flood_stores_few_ids_in_redis(redis_client):
    prefix = f"recordcheck-test:{uuid.uuid4().hex}:"
    throttle = RedisThrottle(redis_client, prefix=prefix, clock=Clock(T0))

    verdicts = [throttle.hit("sms:a", LIMIT, message_id=f"SM{n}") for n in range(500)]

    name = f"{prefix}sms:a:{int(LIMIT.window_start(T0).timestamp())}:ids"
    assert verdicts.count(Verdict.ALLOW) == LIMIT.count
    assert verdicts.count(Verdict.WARN) == 1
    assert redis_client.hlen(name) <= LIMIT.count + 2  # the ids up to the warning, and the count
    assert 0 < redis_client.ttl(name) <= 120


def test_sms_retries_do_not_use_up_the_allowance_in_redis(database_url, engine, redis_client):
    from tests.conftest import _delete_all_rows
    from tests.fakes.channels import CHANNEL_CONFIG, post_sms, sms_form, twiml_messages
    from webhooks.app import create_app
    from webhooks.throttle import CHAT_LIMIT

    app = create_app(
        {"DATABASE_URL": database_url, **CHANNEL_CONFIG, "REDIS_URL": "redis://127.0.0.1:6379/0"}
    )
    client = app.test_client()
    number = f"+1410{uuid.uuid4().int % 10**7:07d}"
    sid = "SM" + uuid.uuid4().hex
    try:
        retries = [
            twiml_messages(post_sms(client, sms_form("menu", sender=number, sid=sid)).data)
            for _ in range(CHAT_LIMIT.count + 2)
        ]
        fresh = twiml_messages(post_sms(client, sms_form("menu", sender=number)).data)
    finally:
        app.extensions["recordcheck.engine"].dispose()
        _delete_all_rows(engine)

    assert all(reply == retries[0] for reply in retries)
    assert "wait one minute" not in retries[0][0]
    assert fresh
    assert "wait one minute" not in fresh[0]


def test_the_app_throttles_in_redis_when_redis_url_is_set(database_url, engine, redis_client):
    from tests.conftest import _delete_all_rows
    from tests.fakes.channels import CHANNEL_CONFIG, post_sms, sms_form, twiml_messages
    from webhooks.app import create_app
    from webhooks.throttle import CHAT_LIMIT

    app = create_app(
        {"DATABASE_URL": database_url, **CHANNEL_CONFIG, "REDIS_URL": "redis://127.0.0.1:6379/0"}
    )
    client = app.test_client()
    number = f"+1410{uuid.uuid4().int % 10**7:07d}"
    try:
        replies = [
            twiml_messages(post_sms(client, sms_form("menu", sender=number)).data)
            for _ in range(CHAT_LIMIT.count + 2)
        ]
        from sqlalchemy import func, select
        from sqlalchemy.orm import Session

        from db.models.channels import SenderThrottle

        with Session(engine) as session:
            in_database = session.scalar(select(func.count()).select_from(SenderThrottle))
    finally:
        app.extensions["recordcheck.engine"].dispose()
        _delete_all_rows(engine)

    assert "wait one minute" in replies[CHAT_LIMIT.count][0]
    assert replies[-1] == []
    assert in_database == 0


def test_the_app_falls_back_to_the_database_when_redis_is_down(database_url, engine):
    from tests.conftest import _delete_all_rows
    from tests.fakes.channels import CHANNEL_CONFIG, post_sms, sms_form
    from webhooks.app import create_app

    app = create_app(
        {"DATABASE_URL": database_url, **CHANNEL_CONFIG, "REDIS_URL": "redis://127.0.0.1:1/0"}
    )
    try:
        response = post_sms(app.test_client(), sms_form("hi"))
    finally:
        app.extensions["recordcheck.engine"].dispose()
        _delete_all_rows(engine)

    assert response.status_code == 200
