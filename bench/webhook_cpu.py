"""Webhook CPU in one process: what one signed SMS costs, without a server or a load generator.

Run:

    .venv/bin/python bench/webhook_cpu.py [--senders 2000] [--rounds 3] [--profile]
                                          [--postgres URL | --no-postgres] [--no-sqlite]

``bench/webhooks.py`` measures the service under load, where two shared cores, gunicorn and
wrk move its figures by a factor of two from one minute to the next. This one calls the WSGI
apps of that benchmark directly, one request after another, in this process, and reads the
CPU time each request costs: this process's, plus on PostgreSQL every PostgreSQL server
process's (read from /proc). The apps are the same as under load:

- bare: Flask returning fixed TwiML (the baseline of issue #6's ratio);
- floor: bare plus one INSERT and COMMIT through a pooled SQLAlchemy connection;
- driver: bare plus one INSERT sent by the driver itself (autocommit, no SQLAlchemy);
- real: ``webhooks.app:create_app()``, requests signed by twilio's RequestValidator, each
  sender already in a conversation ("hi" sent first), each request advancing it.

Round after round (bare, floor, driver, real), it prints the microseconds of CPU per request
and the ratio bare/real. Under gunicorn every request also pays the server's own work (HTTP
parsing, the hand-off to a thread, socket calls: call it G, the bare endpoint's CPU under
``bench/webhooks.py`` less its CPU here), the same for every app; on a machine of its own
that is CPU-bound, the throughput ratio of ``bench/webhooks.py`` is then at most
(G + bare) / (G + real). The app's one log line per request goes to /dev/null (formatted and
written, as in service). ``--profile`` adds where a real request's time goes in this process,
by library (cProfile's own time, measured after the timed rounds; it inflates small Python
calls, and on PostgreSQL the driver's share includes the round trips).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.webhooks import (  # noqa: E402
    HMAC_KEY,
    PUBLIC,
    TOKEN,
    _form,
    _signed,
    add_database_options,
    bare_app,
    cpu_seconds,
    driver_floor_app,
    floor_app,
    server_pids,
)
from db.scratch import create_scratch_database, drop_database  # noqa: E402

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def environ(body: str, signature: str | None = None) -> dict[str, Any]:
    """A WSGI environ for ``POST /sms/twilio`` as gunicorn would pass it."""
    data = body.encode()
    env: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/sms/twilio",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "5000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(data)),
        "HTTP_HOST": "127.0.0.1:5000",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(data),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if signature is not None:
        env["HTTP_X_TWILIO_SIGNATURE"] = signature
    return env


def call(app: WSGIApp, env: dict[str, Any]) -> bytes:
    """One request through the app; anything but 200 stops the benchmark."""
    statuses: list[str] = []

    def start_response(status: str, _headers: Any, _exc: Any = None) -> None:
        statuses.append(status)

    body = b"".join(app(env, start_response))
    if not statuses[0].startswith("200"):
        raise SystemExit(f"request failed: {statuses[0]} {body[:200]!r}")
    return body


def timed(app: WSGIApp, envs: list[dict[str, Any]], pids: list[int]) -> float:
    """Microseconds of CPU per request: this process, plus the database server's processes."""
    server_before = cpu_seconds(pids) if pids else 0.0
    started = time.process_time()
    for env in envs:
        call(app, env)
    spent = time.process_time() - started
    if pids:
        spent += cpu_seconds(pids) - server_before
    return spent / len(envs) * 1e6


def postgres_pids() -> list[int]:
    """Every PostgreSQL server process (their CPU is part of each request's cost)."""
    return [pid for pid in server_pids(os.getpid(), True) if pid != os.getpid()]


def layers(profile: cProfile.Profile, requests: int) -> list[tuple[str, float]]:
    """Own CPU time per request by library (the package a function's file belongs to)."""
    stats = pstats.Stats(profile)
    by_layer: Counter[str] = Counter()
    for (filename, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        by_layer[_layer(filename, name)] += row[2]
    shown = [(layer, seconds / requests * 1e6) for layer, seconds in by_layer.most_common(14)]
    return [("all, under the profiler", sum(by_layer.values()) / requests * 1e6), *shown]


def _layer(filename: str, name: str) -> str:
    """The library a profiled function belongs to: its package, or a C method's type."""
    if filename == "~":  # a built-in: "<method 'execute' of 'sqlite3.Connection' objects>"
        owner = name.split(" of '")[1].split("'")[0] if " of '" in name else "builtins"
        return "C: " + owner.split(".")[0]
    parts = Path(filename).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1]
    if filename.startswith(str(ROOT)):
        return "ours: " + Path(filename).relative_to(ROOT).parts[0]
    return "stdlib: " + Path(filename).stem


def bench_backend(label: str, url: str, args: argparse.Namespace) -> None:
    """Bare, floor, driver and real in turn, ``args.rounds`` times, on one database."""
    from db.migrate import upgrade

    upgrade(url)
    with create_engine(url).begin() as connection:
        connection.execute(
            text("CREATE TABLE bench_floor (sid VARCHAR(64) PRIMARY KEY, body VARCHAR(2000))")
        )
    os.environ.update(
        {
            "DATABASE_URL": url,
            "RECORDCHECK_PUBLIC_BASE_URL": PUBLIC,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "RECORDCHECK_HMAC_KEY": HMAC_KEY,
            "RECORDCHECK_SECRET_KEY": "bench-secret-key",
            "REDIS_URL": "",
        }
    )
    from webhooks.app import create_app

    real = create_app()
    for handler in logging.getLogger("recordcheck").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the run
    bare, floor, driver = bare_app(), floor_app(), driver_floor_app()

    senders = [f"+1410{n:07d}" for n in range(args.senders)]
    started = time.perf_counter()
    for sender in senders:
        _, signature, body = _signed(sender, "hi")
        call(real, environ(body, signature))
    seeded = time.perf_counter() - started
    messages = [environ(body, sig) for word in ("1", "2") for _, sig, body in
                (_signed(sender, word) for sender in senders)]  # fmt: skip
    size = len(messages) // (args.rounds + 1)
    warm, chunks = (
        messages[:size],
        [messages[(i + 1) * size : (i + 2) * size] for i in range(args.rounds)],
    )
    plain = _form("+14100000000", "1", "SM" + "0" * 32)

    pids = postgres_pids() if label == "postgresql" else []
    for env in warm:
        call(real, env)
    for reference in (bare, floor, driver):
        for _ in range(200):
            call(reference, environ(urlencode(plain)))
    print(f"\n== {label}: {args.senders} senders seeded in {seeded:.1f}s; "
          f"{args.rounds} rounds of {size} requests each "
          f"(bare, floor, driver, real in turn)")  # fmt: skip
    what = "CPU per request, µs" + (" (this process + PostgreSQL)" if pids else "")
    print(f"{what}\n{'round':<8}{'bare':>10}{'floor':>10}{'driver':>10}{'real':>10}"
          f"{'bare/real':>12}")  # fmt: skip
    rows: list[tuple[float, float, float, float]] = []
    for number, chunk in enumerate(chunks, start=1):
        bare_us = timed(bare, [environ(urlencode(plain)) for _ in chunk], pids)
        floor_us = timed(floor, [environ(urlencode(plain)) for _ in chunk], pids)
        driver_us = timed(driver, [environ(urlencode(plain)) for _ in chunk], pids)
        real_us = timed(real, chunk, pids)
        rows.append((bare_us, floor_us, driver_us, real_us))
        print(f"{number:<8}{bare_us:>10.0f}{floor_us:>10.0f}{driver_us:>10.0f}{real_us:>10.0f}"
              f"{bare_us / real_us:>12.2f}")  # fmt: skip
    bare_m, floor_m, driver_m, real_m = (
        statistics.median(column) for column in zip(*rows, strict=True)
    )
    print(f"median  {bare_m:>10.0f}{floor_m:>10.0f}{driver_m:>10.0f}{real_m:>10.0f}"
          f"{bare_m / real_m:>12.2f}   (bare/floor {bare_m / floor_m:.2f}, bare/driver "
          f"{bare_m / driver_m:.2f})")  # fmt: skip

    with create_engine(url).connect() as connection:
        stored = connection.execute(text("SELECT count(*) FROM processed_messages")).scalar()
    expected = len(senders) + len(warm) + sum(len(chunk) for chunk in chunks)
    print(f"check: {stored} processed messages stored, {expected} sent"
          + ("" if stored == expected else "  MISMATCH"))  # fmt: skip

    if args.profile:
        extra = [environ(body, sig) for _, sig, body in
                 (_signed(sender, "1") for sender in senders)]  # fmt: skip
        profile = cProfile.Profile()
        profile.enable()
        for env in extra:
            call(real, env)
        profile.disable()
        print("where a real request's time goes in this process (cProfile own time, µs per "
              "request; it inflates small Python calls, and on PostgreSQL the driver's share "
              "includes waiting for the server):")  # fmt: skip
        for layer, micros in layers(profile, len(extra)):
            print(f"  {micros:8.0f}  {layer}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--senders", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    add_database_options(parser)
    args = parser.parse_args()
    if args.rounds < 1 or args.senders < args.rounds + 1:
        parser.error("--rounds must be at least 1 and --senders more than --rounds")
    print(f"python {sys.version.split()[0]}, one process, requests one after another")
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="rc-cpu-") as tmp:
            bench_backend("sqlite", f"sqlite:///{tmp}/bench.sqlite3", args)
    if not args.no_postgres:
        try:
            url, name = create_scratch_database(args.postgres, "rc_cpu")
        except Exception as error:  # noqa: BLE001 - say so and carry on
            print(f"\n== postgresql: skipped ({type(error).__name__}: not reachable)")
            return
        try:
            bench_backend("postgresql", url, args)
        finally:
            drop_database(args.postgres, name)


if __name__ == "__main__":
    main()
