"""Console batch benchmark: 10,000 case numbers screened through the console's batch path.

Compares, in one run on one machine, against the in-process engine baseline (the same cases'
screening inputs screened in a loop, with no database and no CSV):

    .venv/bin/python bench/console_batch.py [--cases 10000] [--database-url URL]

Reports cases/s for the baseline, for the batch pipeline (parse the upload, one query per
500 case numbers, screen, write the results CSV), and for the whole HTTP round trip (upload
to /console/batch, background job, poll until done), and the ratio of each to the baseline.
The issue's target: 10,000 cases in under 10 s end to end.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from db.engine import make_engine, make_session_factory  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models.records import RecordCase  # noqa: E402
from db.records import demo  # noqa: E402
from db.records.lookup import screening_input  # noqa: E402
from knowledge.screening import parse_case, screen_case  # noqa: E402
from webhooks.console import accounts  # noqa: E402
from webhooks.console.batch_engine import _fetch, parse_upload, screen_batch  # noqa: E402
from webhooks.console.screening import today  # noqa: E402

PASSWORD = "benchmark password 1"  # noqa: S105 - a throwaway benchmark account


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--database-url", help="an EMPTY database to use (default: temp SQLite)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="rc-bench-") as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        upgrade(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        started = time.perf_counter()
        demo.load(engine, demo.generate(int(args.cases * 1.05) + 50, args.seed))
        print(f"demo data loaded in {time.perf_counter() - started:.1f}s")
        with sessions() as session:
            numbers = list(
                session.scalars(
                    select(RecordCase.case_number).order_by(RecordCase.id).limit(args.cases)
                )
            )
        n = len(numbers)
        upload = ("case_number\n" + "\n".join(numbers) + "\n").encode()
        as_of = today()

        # Baseline: the engine alone on the same cases' inputs (fetched beforehand, not timed).
        with sessions() as session:
            inputs = []
            for start in range(0, n, 500):
                cases, charges, _dobs, _programs = _fetch(session, numbers[start : start + 500])
                inputs.extend(
                    screening_input(c, charges[c.id]) for c in cases.values() if charges[c.id]
                )
        started = time.perf_counter()
        for data in inputs:
            screen_case(parse_case(data), as_of)
        base_s = time.perf_counter() - started
        base_rate = len(inputs) / base_s

        # The console batch pipeline, without HTTP.
        started = time.perf_counter()
        batch = parse_upload(upload, "list.csv")
        with sessions() as session:
            outcome = screen_batch(session, batch, as_of)
        csv_text = outcome.csv_text()
        pipe_s = time.perf_counter() - started
        if outcome.summary()["rows"] != n:
            raise SystemExit(f"expected {n} result rows: {outcome.summary()}")

        # The whole round trip through the Flask app: sign in, upload, poll until done.
        from webhooks.app import create_app

        app = create_app({"DATABASE_URL": url, "TESTING": True})
        with sessions() as session:
            accounts.create_user(
                session, email="bench@clinic.example", role="worker", password=PASSWORD
            )
            session.commit()
        client = app.test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/login").text)
        client.post(
            "/console/login",
            data={
                "email": "bench@clinic.example",
                "password": PASSWORD,
                "csrf_token": token.group(1),
            },
        )
        token = re.search(
            r'name="csrf_token" value="([^"]+)"', client.get("/console/batch/").text
        ).group(1)
        import io

        started = time.perf_counter()
        response = client.post(
            "/console/batch/",
            data={"csrf_token": token, "file": (io.BytesIO(upload), "list.csv")},
            content_type="multipart/form-data",
        )
        job_url = response.headers["Location"]
        status = {}
        while True:
            status = client.get(job_url + "/status").get_json()
            if status["status"] != "running":
                break
            time.sleep(0.05)
        http_s = time.perf_counter() - started
        app.extensions["recordcheck.engine"].dispose()
        engine.dispose()

    backend = engine.url.get_backend_name()
    print(f"backend: {backend}, cases: {n}, results CSV: {len(csv_text) / 1e6:.1f} MB")
    print(f"engine baseline (in-process, no DB): {base_rate:,.0f} cases/s ({base_s:.2f}s)")
    print(
        f"console batch pipeline (parse + bulk fetch + screen + CSV): {n / pipe_s:,.0f} cases/s "
        f"({pipe_s:.2f}s), {pipe_s / base_s:.2f}x the baseline's time"
    )
    print(
        f"console batch over HTTP (upload, background job, polling): {n / http_s:,.0f} cases/s "
        f"({http_s:.2f}s), {http_s / base_s:.2f}x the baseline's time; "
        f"job status {status['status']}"
    )
    print(f"target: {n} cases in under 10 s end to end: {'met' if http_s < 10 else 'NOT met'}")


if __name__ == "__main__":
    main()
