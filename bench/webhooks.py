"""Webhook benchmark: the real ``POST /sms/twilio`` against a bare Flask endpoint, under wrk.

Run (needs Debian's wrk: ``apt-get install -y wrk``):

    .venv/bin/python bench/webhooks.py [--duration 10] [--connections 32] [--senders 6000]
                                       [--postgres URL | --no-postgres] [--no-sqlite]

For each database (a fresh, migrated SQLite file; a fresh PostgreSQL database when reachable)
it starts gunicorn with the Procfile's settings (gthread, WEB_CONCURRENCY=2 workers, 4
threads, timeout 30) three times, and drives each with ``wrk -t2 -c32``:

- bare: a Flask app whose ``POST /sms/twilio`` returns a fixed TwiML reply (no signature
  check, no database): the baseline measured in the same run;
- floor: the bare endpoint plus one INSERT and COMMIT on the same database (a second
  reference: what any webhook that durably stores each message pays here);
- real: ``webhooks.app:create_app()``, with requests signed by twilio's RequestValidator from
  many distinct senders, each already in a conversation (seeded over HTTP before the run).
  Every request has its own MessageSid and advances its sender's conversation.

It prints requests/s, p50 and p99 latency and errors for each, the ratios real/bare and
floor/bare, and
checks after the run that no message was lost or applied twice: every 2xx response has its
processed-message row, and each sender's conversation version moved exactly once per
processed message. Targets (issue #6): ratio >= 0.4, p99 < 50 ms at 32 connections, zero
errors, zero lost or double-applied messages.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from flask import Flask, Response  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from db.scratch import create_scratch_database, drop_database  # noqa: E402

PUBLIC = "https://recordcheck.example.org"
TOKEN = "bench-twilio-auth-token"  # noqa: S105 - a benchmark-only secret
ACCOUNT = "AC" + "b" * 32
HMAC_KEY = "bench-hmac-key"
FIXED_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Hi! This is RecordCheck '
    "Baltimore. Reply 1 for English. Responda 2 para espanol.</Message></Response>"
)
#: What each sender says during the run, after "hi" (seeded): English, "I don't know my case
#: number", possession, no other charges, guilty. Every one of them advances the dialog.
SCRIPT = ("1", "2", "1", "2", "1")
WRK_THREADS = 2


def bare_app() -> Flask:
    """The baseline: Flask returning fixed TwiML, nothing else."""
    app = Flask("bare")

    @app.post("/sms/twilio")
    def sms() -> Response:
        return Response(FIXED_TWIML, mimetype="text/xml")

    @app.get("/healthz")
    def healthz() -> Response:
        return Response('{"status":"ok"}', mimetype="application/json")

    return app


def floor_app() -> Flask:
    """A second reference: bare TwiML plus the least a durable answer needs from the database,
    one INSERT and a COMMIT (through a pooled SQLAlchemy connection, no ORM). It shows how
    much of the gap to the bare endpoint any webhook that stores each message must pay on the
    same machine, whatever else it does."""
    from db.engine import make_engine

    app = Flask("floor")
    engine = make_engine(os.environ["DATABASE_URL"])
    statement = text("INSERT INTO bench_floor (sid, body) VALUES (:sid, :body)")

    @app.post("/sms/twilio")
    def sms() -> Response:
        from flask import request

        with engine.begin() as connection:
            connection.execute(
                statement, {"sid": uuid.uuid4().hex, "body": request.form.get("Body", "")}
            )
        return Response(FIXED_TWIML, mimetype="text/xml")

    @app.get("/healthz")
    def healthz() -> Response:
        return Response('{"status":"ok"}', mimetype="application/json")

    return app


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Gunicorn:
    """gunicorn with the Procfile's settings, on 127.0.0.1, until stopped."""

    def __init__(self, app_spec: str, env: dict[str, str], log: Path, threads: int = 4) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                app_spec,
                "--worker-class",
                "gthread",
                "--workers",
                os.environ.get("WEB_CONCURRENCY", "2"),
                "--threads",
                str(threads),
                "--timeout",
                "30",
                "--bind",
                f"127.0.0.1:{self.port}",
            ],  # fmt: skip
            cwd=ROOT,
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            stdout=self._log,
            stderr=self._log,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start; see {log}")
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


@dataclass
class WrkResult:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    non_2xx: int


_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not match:
        raise ValueError(value)
    return float(match.group(1)) * _UNIT[match.group(2)]


def run_wrk(url: str, script: Path, duration: int, connections: int) -> WrkResult:
    out = subprocess.run(
        [
            "wrk",
            f"-t{WRK_THREADS}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],  # fmt: skip
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    requests = re.search(r"(\d+) requests in ", out).group(1)  # type: ignore[union-attr]
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)  # type: ignore[union-attr]
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = sum(int(x) for x in socket_errors.groups()) if socket_errors else 0
    non_2xx_match = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    non_2xx = int(non_2xx_match.group(1)) if non_2xx_match else 0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return WrkResult(int(requests), rps, _ms(p50), _ms(p99), errors + non_2xx, non_2xx)


def _form(sender: str, body: str, sid: str) -> dict[str, str]:
    return {
        "ToCountry": "US",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "To": "+14435550100",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }


def _signed(sender: str, body: str) -> tuple[str, str, str]:
    sid = "SM" + uuid.uuid4().hex
    form = _form(sender, body, sid)
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/sms/twilio", form)
    return sid, signature, urlencode(form)


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_real_script(path: Path, senders: list[str]) -> list[str]:
    """A wrk script walking pre-signed requests, round by round; returns their MessageSids.

    Each wrk thread takes every other request (its own Lua state), so no request is sent twice.
    """
    sids: list[str] = []
    lines = ["local reqs = {"]
    for word in SCRIPT:
        for sender in senders:
            sid, signature, body = _signed(sender, word)
            sids.append(sid)
            lines.append(f"{{{_lua_string(signature)},{_lua_string(body)}}},")
    lines.append("}")
    lines.append(
        f"""
local nthreads = {WRK_THREADS}
local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end
local counter = 0
local headers = {{}}
headers["Content-Type"] = "application/x-www-form-urlencoded"
function request()
  local i = tid + counter * nthreads + 1
  counter = counter + 1
  if i > #reqs then
    return wrk.format("GET", "/healthz")
  end
  headers["X-Twilio-Signature"] = reqs[i][1]
  return wrk.format("POST", "/sms/twilio", headers, reqs[i][2])
end
"""
    )
    path.write_text("\n".join(lines))
    return sids


def write_bare_script(path: Path, senders: list[str]) -> None:
    """The same request shapes, posted to the bare app."""
    _, signature, body = _signed(senders[0], "1")
    path.write_text(
        f"""
wrk.method = "POST"
wrk.body = {_lua_string(body)}
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["X-Twilio-Signature"] = {_lua_string(signature)}
wrk.path = "/sms/twilio"
"""
    )


def seed(url: str, senders: list[str]) -> None:
    """Start every sender's conversation ("hi") through the real endpoint."""
    local = threading.local()

    def one(sender: str) -> None:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=url, timeout=30)
        _, signature, body = _signed(sender, "hi")
        response = local.client.post(
            "/sms/twilio",
            content=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            },
        )
        if response.status_code != 200:
            raise SystemExit(f"seeding failed: {response.status_code}")

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(one, senders))


def verify(database_url: str, senders: list[str], sids: list[str], result: WrkResult) -> str:
    """Count lost and double-applied messages; return a one-line verdict."""
    from db.identity import sender_hash

    engine = create_engine(database_url)
    hashes = {sender_hash(HMAC_KEY, "sms", s) for s in senders}
    with engine.connect() as connection:
        processed = connection.execute(
            text("SELECT provider_message_id, sender_hash FROM processed_messages")
        ).all()
        versions = dict(
            connection.execute(text("SELECT sender_hash, version FROM conversations")).all()
        )
    engine.dispose()
    run_sids = set(sids)
    in_run = [(sid, h) for sid, h in processed if sid in run_sids]
    per_sender: dict[str, int] = {}
    for _, h in in_run:
        per_sender[h] = per_sender.get(h, 0) + 1
    double = sum(
        1 for h in hashes if versions.get(h, 0) - 1 != per_sender.get(h, 0)
    )  # seeded "hi" is version 1
    sent_ok = result.requests - result.non_2xx
    exhausted = result.requests > len(sids)
    lost = max(0, sent_ok - len(in_run)) if not exhausted else -1
    in_flight = len(in_run) - sent_ok
    return (
        f"processed {len(in_run)} of {sent_ok} acknowledged (+{max(in_flight, 0)} in flight at "
        f"the cut-off); lost {lost}; senders with a version off by any amount {double}"
        + ("; WARNING: ran out of prepared requests" if exhausted else "")
    )


def bench_backend(label: str, database_url: str, args: argparse.Namespace, work: Path) -> None:
    from db.migrate import upgrade

    upgrade(database_url)
    senders = [f"+1410{n:07d}" for n in range(args.senders)]
    real_script = work / f"real-{label}.lua"
    bare_script = work / "bare.lua"
    sids = write_real_script(real_script, senders)
    write_bare_script(bare_script, senders)
    env = {
        "DATABASE_URL": database_url,
        "RECORDCHECK_PUBLIC_BASE_URL": PUBLIC,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "RECORDCHECK_HMAC_KEY": HMAC_KEY,
        "RECORDCHECK_SECRET_KEY": "bench-secret-key",
        "REDIS_URL": "",
    }

    bare = Gunicorn("bench.webhooks:bare_app()", env, work / "gunicorn-bare.log", args.threads)
    try:
        run_wrk(bare.url, bare_script, 2, args.connections)  # warm-up
        bare_result = run_wrk(bare.url, bare_script, args.duration, args.connections)
    finally:
        bare.stop()

    with create_engine(database_url).begin() as connection:
        connection.execute(
            text("CREATE TABLE bench_floor (sid VARCHAR(64) PRIMARY KEY, body VARCHAR(2000))")
        )
    floor = Gunicorn(
        "bench.webhooks:floor_app()", env, work / f"gunicorn-floor-{label}.log", args.threads
    )
    try:
        run_wrk(floor.url, bare_script, 2, args.connections)  # warm-up
        floor_result = run_wrk(floor.url, bare_script, args.duration, args.connections)
    finally:
        floor.stop()

    real = Gunicorn("webhooks.app:create_app()", env, work / f"gunicorn-{label}.log", args.threads)
    try:
        started = time.perf_counter()
        seed(real.url, senders)
        seeded = time.perf_counter() - started
        real_result = run_wrk(real.url, real_script, args.duration, args.connections)
    finally:
        real.stop()
    verdict = verify(database_url, senders, sids, real_result)

    ratio = real_result.rps / bare_result.rps if bare_result.rps else 0.0
    print(f"\n== {label}: {args.senders} senders seeded in {seeded:.1f}s, "
          f"wrk -t{WRK_THREADS} -c{args.connections} -d{args.duration}s")  # fmt: skip
    print(f"{'endpoint':<28}{'requests/s':>12}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    rows = (
        ("bare Flask TwiML", bare_result),
        ("floor: TwiML + 1 INSERT", floor_result),
        ("real /sms/twilio", real_result),
    )
    for name, result in rows:
        print(
            f"{name:<28}{result.rps:>12.0f}{result.p50_ms:>9.2f}{result.p99_ms:>9.2f}"
            f"{result.errors:>8}"
        )
    targets = [
        ("ratio >= 0.4", ratio >= 0.4),
        ("p99 < 50 ms", real_result.p99_ms < 50),
        ("zero errors", real_result.errors == 0),
        ("nothing lost or applied twice", " lost 0;" in verdict and verdict.endswith(" 0")),
    ]
    floor_ratio = floor_result.rps / bare_result.rps if bare_result.rps else 0.0
    print(f"ratio real/bare: {ratio:.2f} (floor/bare {floor_ratio:.2f}: the most any webhook "
          f"that stores each message reaches here; real/floor "
          f"{real_result.rps / floor_result.rps if floor_result.rps else 0:.2f})")  # fmt: skip
    print(f"check: {verdict}")
    print("targets: " + ", ".join(f"{name} {'MET' if ok else 'NOT MET'}" for name, ok in targets))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--senders", type=int, default=6000)
    parser.add_argument(
        "--threads", type=int, default=4, help="gunicorn threads per worker (Procfile: 4)"
    )
    default_postgres = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    parser.add_argument(
        "--postgres", default=os.environ.get("BENCH_POSTGRES_URL", default_postgres)
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    workers = os.environ.get("WEB_CONCURRENCY", "2")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"WEB_CONCURRENCY={workers} x {args.threads} threads")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="rc-bench-") as tmp:
        work = Path(tmp)
        if not args.no_sqlite:
            bench_backend("sqlite", f"sqlite:///{work}/bench.sqlite3", args, work)
        if not args.no_postgres:
            try:
                url, name = create_scratch_database(args.postgres, "rc_bench")
            except Exception as error:  # noqa: BLE001 - say so and carry on
                print(f"\n== postgresql: skipped ({type(error).__name__}: not reachable)")
            else:
                try:
                    bench_backend("postgresql", url, args, work)
                finally:
                    drop_database(args.postgres, name)


if __name__ == "__main__":
    main()
