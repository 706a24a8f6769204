"""Webhook benchmark: the real ``POST /sms/twilio`` against a bare Flask endpoint, under wrk.

Run (needs Debian's wrk: ``apt-get install -y wrk``):

    .venv/bin/python bench/webhooks.py [--rounds 3] [--duration 5] [--connections 32]
                                       [--senders 6000] [--threads 4]
                                       [--postgres URL | --no-postgres] [--no-sqlite]

For each database (a fresh, migrated SQLite file; a fresh PostgreSQL database when reachable)
it starts five gunicorns with the Procfile's settings (gthread, WEB_CONCURRENCY=2 workers, 4
threads, timeout 30) side by side:

- bare: a Flask app whose ``POST /sms/twilio`` returns a fixed TwiML reply (no signature
  check, no database): the baseline measured in the same run;
- floor: the bare endpoint plus one INSERT and COMMIT through a pooled SQLAlchemy connection;
- driver: the bare endpoint plus one INSERT sent by the driver itself (psycopg or sqlite3, no
  SQLAlchemy, autocommit, prepared on PostgreSQL): the most a Flask webhook that durably
  stores each message can reach here, whatever its database layer;
- wsgi: the driver floor without Flask (a plain WSGI function): what a stored message costs
  when no web framework carries it;
- real: ``webhooks.app:create_app()``, with requests signed by twilio's RequestValidator from
  many distinct senders, each already in a conversation (seeded over HTTP before the run).
  Every request has its own MessageSid and advances its sender's conversation.

It drives them in turn with ``wrk -t2 -c32``, round after round (bare, floor, driver, wsgi,
real; bare, ...), so that each round's ratio compares runs seconds apart on a shared machine
whose speed drifts. For each app it prints the requests/s of each round, their median, the
median ratio to the bare endpoint's, p99, and the CPU each request cost the server side
(the gunicorn workers, plus every PostgreSQL server process on PostgreSQL), read from
/proc before and after each run: other tenants slow a run down but do not add to these
processes' CPU time, so the CPU ratio bare/real (what the throughput ratio would be on a
machine the service had to itself, CPU-bound) compares runs across minutes and sessions.
It checks after the run that no message was lost or applied
twice: every 2xx response has its processed-message row, and each sender's conversation
version moved exactly once per processed message. Targets (issue #6): ratio >= 0.4, p99 < 50
ms at 32 connections, zero errors, zero lost or double-applied messages.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import fcntl
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from flask import Flask, Response  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from db.scratch import create_scratch_database, drop_database  # noqa: E402
from webhooks.gunicorn_app import procfile_web_args  # noqa: E402

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


_driver_connections = threading.local()


def _driver_connection() -> Any:
    """This thread's own connection, straight from the driver (no SQLAlchemy, no pool),
    committing each statement by itself: the least a stored message can cost."""
    url = os.environ["DATABASE_URL"]
    connections: dict[str, Any] = _driver_connections.__dict__.setdefault("by_url", {})
    connection = connections.get(url)
    if connection is None:
        if url.startswith("postgresql"):
            import psycopg

            dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
            # Prepared at the first execution: the server plans the INSERT once.
            connection = psycopg.connect(dsn, autocommit=True, prepare_threshold=0)
        else:
            import sqlite3

            connection = sqlite3.connect(url.split(":///", 1)[1], isolation_level=None)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=15000"):
                connection.execute(f"PRAGMA {pragma}")
        connections[url] = connection
    return connection


def _driver_insert() -> Callable[[str], None]:
    """One autocommitted INSERT of a new row holding ``body``, on the driver alone."""
    postgres = os.environ["DATABASE_URL"].startswith("postgresql")
    mark = "%s" if postgres else "?"
    sql = f"INSERT INTO bench_floor (sid, body) VALUES ({mark}, {mark})"

    def insert(body: str) -> None:
        _driver_connection().execute(sql, (uuid.uuid4().hex, body))

    if postgres:
        return insert
    lock_path = os.environ["DATABASE_URL"].split(":///", 1)[1] + "-floor.lock"

    def insert_in_turn(body: str) -> None:
        """SQLite writers queue on a file lock, as the service's do (``writer_turn``): left to
        SQLite's own retries, a writer sleeps up to 100 ms for a lock that was free."""
        descriptor = getattr(_driver_connections, "lock", None)
        if descriptor is None:
            descriptor = _driver_connections.lock = os.open(lock_path, os.O_RDWR | os.O_CREAT)
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            insert(body)
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)

    return insert_in_turn


def driver_floor_app() -> Flask:
    """The floor again, with the INSERT sent by the driver itself (psycopg or sqlite3: no
    SQLAlchemy, no pool, autocommit, prepared on PostgreSQL): the most a Flask webhook that
    stores each message can reach on this machine, whatever database layer it uses."""
    app = Flask("driver")
    insert = _driver_insert()

    @app.post("/sms/twilio")
    def sms() -> Response:
        from flask import request

        insert(request.form.get("Body", ""))
        return Response(FIXED_TWIML, mimetype="text/xml")

    @app.get("/healthz")
    def healthz() -> Response:
        return Response('{"status":"ok"}', mimetype="application/json")

    return app


def wsgi_floor_app() -> Callable[..., Iterable[bytes]]:
    """The driver floor without Flask: a plain WSGI function that parses the form with the
    standard library. What the same stored message costs when no web framework carries it."""
    insert = _driver_insert()
    twiml = FIXED_TWIML.encode()
    ok_json = b'{"status":"ok"}'

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            form = parse_qs(environ["wsgi.input"].read(size).decode(errors="replace"))
            insert(form.get("Body", [""])[0])
            body, kind = twiml, "text/xml"
        else:
            body, kind = ok_json, "application/json"
        start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(body)))])
        return [body]

    return app


#: The apps driven in each round, in this order: the references, then the real service.
APPS = {
    "bare": "bench.webhooks:bare_app()",
    "floor": "bench.webhooks:floor_app()",
    "driver": "bench.webhooks:driver_floor_app()",
    "wsgi": "bench.webhooks:wsgi_floor_app()",
    "real": "webhooks.app:create_app()",
}
REFERENCES = ("bare", "floor", "driver", "wsgi")


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
                *procfile_web_args(f"127.0.0.1:{self.port}", threads=threads)[1:],
            ],
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
    #: Server-side CPU per request (gunicorn workers, and PostgreSQL's processes), in ms.
    cpu_ms: float = 0.0


_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name, or None if it has exited."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def server_pids(master: int, postgres: bool) -> list[int]:
    """The gunicorn master and its workers, and on PostgreSQL every server process."""
    pids = [master]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields is None:
            continue
        if int(fields[1]) == master:  # ppid: a worker of this gunicorn
            pids.append(int(entry.name))
        elif postgres:
            try:
                comm = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if comm.startswith("postgres"):
                pids.append(int(entry.name))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time these processes have used so far."""
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS


_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not match:
        raise ValueError(value)
    return float(match.group(1)) * _UNIT[match.group(2)]


def run_wrk(
    url: str, script: Path, duration: int, connections: int, pids: list[int] | None = None
) -> WrkResult:
    cpu_before = cpu_seconds(pids or [])
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
    cpu_ms = (cpu_seconds(pids or []) - cpu_before) * 1000 / max(int(requests), 1)
    return WrkResult(int(requests), rps, _ms(p50), _ms(p99), errors + non_2xx, non_2xx, cpu_ms)


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


def prepare_requests(senders: list[str]) -> list[tuple[str, str, str]]:
    """(MessageSid, signature, body) for every sender's every word, word by word."""
    return [_signed(sender, word) for word in SCRIPT for sender in senders]


def write_real_script(path: Path, requests: list[tuple[str, str, str]]) -> None:
    """A wrk script walking these pre-signed requests in order, each sent once.

    Each wrk thread takes every other request (its own Lua state), so no request is sent twice.
    """
    lines = ["local reqs = {"]
    for _, signature, body in requests:
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


def verify(
    database_url: str,
    senders: list[str],
    sids: list[str],
    results: list[WrkResult],
    exhausted: bool,
) -> str:
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
    sent_ok = sum(r.requests - r.non_2xx for r in results)
    lost = max(0, sent_ok - len(in_run)) if not exhausted else -1
    in_flight = len(in_run) - sent_ok
    return (
        f"processed {len(in_run)} of {sent_ok} acknowledged (+{max(in_flight, 0)} in flight at "
        f"the cut-off); lost {lost}; senders with a version off by any amount {double}"
        + ("; WARNING: ran out of prepared requests" if exhausted else "")
    )


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def bench_backend(label: str, database_url: str, args: argparse.Namespace, work: Path) -> None:
    """Bare, floor and real side by side, driven in turn for `args.rounds` rounds.

    Interleaving cancels most of the drift of a shared machine (other jobs come and go): each
    round's ratio compares runs a few seconds apart, and the medians are reported.
    """
    from db.migrate import upgrade

    upgrade(database_url)
    senders = [f"+1410{n:07d}" for n in range(args.senders)]
    requests = prepare_requests(senders)
    sids = [sid for sid, _, _ in requests]
    size = -(-len(requests) // args.rounds)
    chunks = [requests[i * size : (i + 1) * size] for i in range(args.rounds)]
    real_scripts = [work / f"real-{label}-{i}.lua" for i in range(args.rounds)]
    for script, chunk in zip(real_scripts, chunks, strict=True):
        write_real_script(script, chunk)
    bare_script = work / "bare.lua"
    write_bare_script(bare_script, senders)
    env = {
        "DATABASE_URL": database_url,
        "RECORDCHECK_PUBLIC_BASE_URL": PUBLIC,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "RECORDCHECK_HMAC_KEY": HMAC_KEY,
        "RECORDCHECK_SECRET_KEY": "bench-secret-key",
        "REDIS_URL": "",
    }
    with create_engine(database_url).begin() as connection:
        connection.execute(
            text("CREATE TABLE bench_floor (sid VARCHAR(64) PRIMARY KEY, body VARCHAR(2000))")
        )
    servers: dict[str, Gunicorn] = {}
    try:
        for name, spec in APPS.items():
            log = work / f"gunicorn-{name}-{label}.log"
            servers[name] = Gunicorn(spec, env, log, args.threads)
        started = time.perf_counter()
        seed(servers["real"].url, senders)
        seeded = time.perf_counter() - started
        for name in REFERENCES:  # warm-up
            run_wrk(servers[name].url, bare_script, 2, args.connections)
        postgres = label == "postgresql"
        pids = {
            name: server_pids(server.process.pid, postgres and name != "bare")
            for name, server in servers.items()
        }
        runs: dict[str, list[WrkResult]] = {name: [] for name in APPS}
        exhausted = False  # a round sent more requests than were prepared for it
        duration, connections = args.duration, args.connections
        for i in range(args.rounds):
            for name in REFERENCES:
                runs[name].append(
                    run_wrk(servers[name].url, bare_script, duration, connections, pids[name])
                )
            real_run = run_wrk(
                servers["real"].url, real_scripts[i], duration, connections, pids["real"]
            )
            runs["real"].append(real_run)
            exhausted = exhausted or real_run.requests > len(chunks[i])
    finally:
        for server in servers.values():
            server.stop()
    verdict = verify(database_url, senders, sids, runs["real"], exhausted)
    _report(label, args, seeded, runs, verdict)


#: What each app is, for the report.
ROLES = {
    "bare": "Flask, fixed TwiML: the baseline",
    "floor": "bare + INSERT/COMMIT via SQLAlchemy",
    "driver": "bare + INSERT on the driver alone",
    "wsgi": "driver floor without Flask",
    "real": "the service, signed SMS",
}


def _ratios(runs: dict[str, list[WrkResult]], name: str) -> list[float]:
    """Round by round, this app's requests/s over the bare endpoint's in the same round."""
    return [r.rps / b.rps if b.rps else 0.0 for r, b in zip(runs[name], runs["bare"], strict=True)]


def _report(
    label: str,
    args: argparse.Namespace,
    seeded: float,
    runs: dict[str, list[WrkResult]],
    verdict: str,
) -> None:
    print(f"\n== {label}: {args.senders} senders seeded in {seeded:.1f}s; {args.rounds} rounds "
          f"of {', '.join(runs)}, each wrk -t{WRK_THREADS} -c{args.connections} "
          f"-d{args.duration}s")  # fmt: skip
    print(f"{'app':<8}{'what it is':<38}{'req/s by round':>22}{'median':>8}{'/bare':>7}"
          f"{'p99 ms':>8}{'cpu ms':>8}")  # fmt: skip
    for name, results in runs.items():
        by_round = " ".join(f"{r.rps:.0f}" for r in results)
        print(f"{name:<8}{ROLES[name]:<38}{by_round:>22}{_median([r.rps for r in results]):>8.0f}"
              f"{_median(_ratios(runs, name)):>7.2f}{_median([r.p99_ms for r in results]):>8.1f}"
              f"{_median([r.cpu_ms for r in results]):>8.3f}")  # fmt: skip
    real = runs["real"]
    p99 = _median([r.p99_ms for r in real])
    errors = sum(r.errors for r in real)
    ratio = _median(_ratios(runs, "real"))
    print(f"median: real {_median([r.rps for r in real]):.0f} req/s, p50 "
          f"{_median([r.p50_ms for r in real]):.1f} ms, p99 {p99:.1f} ms (worst round "
          f"{max(r.p99_ms for r in real):.1f} ms), errors {errors}; "
          f"ratio real/bare {ratio:.2f}")  # fmt: skip
    print(f"references: a Flask webhook that stores each message reaches at most "
          f"{_median(_ratios(runs, 'driver')):.2f} of bare here (driver), "
          f"{_median(_ratios(runs, 'floor')):.2f} through SQLAlchemy (floor), "
          f"{_median(_ratios(runs, 'wsgi')):.2f} without Flask (wsgi)")  # fmt: skip
    cpu = {name: _median([r.cpu_ms for r in results]) for name, results in runs.items()}
    cpu_ratio = cpu["bare"] / cpu["real"] if cpu["real"] else 0.0
    print(f"server CPU per request (median): bare {cpu['bare']:.3f} ms, real {cpu['real']:.3f} "
          f"ms; CPU ratio bare/real {cpu_ratio:.2f} (the throughput ratio on a machine of its "
          f"own)")  # fmt: skip
    print(f"check: {verdict}")
    targets = [
        ("ratio >= 0.4", ratio >= 0.4),
        ("p99 < 50 ms", p99 < 50),
        ("zero errors", errors == 0),
        ("nothing lost or applied twice", " lost 0;" in verdict and verdict.endswith(" 0")),
    ]
    print("targets: " + ", ".join(f"{name} {'MET' if ok else 'NOT MET'}" for name, ok in targets))


def add_database_options(parser: argparse.ArgumentParser) -> None:
    """--postgres URL (or BENCH_POSTGRES_URL), --no-postgres and --no-sqlite."""
    default_postgres = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    parser.add_argument(
        "--postgres", default=os.environ.get("BENCH_POSTGRES_URL", default_postgres)
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="bare, floor, real in turn")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--senders", type=int, default=6000)
    parser.add_argument(
        "--threads", type=int, default=4, help="gunicorn threads per worker (Procfile: 4)"
    )
    add_database_options(parser)
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
