"""Records benchmark: import N demo charges, then look up 10,000 random case numbers.

Run:  .venv/bin/python bench/records.py [--charges 1000000] [--lookups 10000]
                                         [--postgres URL | --no-postgres] [--no-sqlite]

For each database (a fresh SQLite file; PostgreSQL when reachable) it measures, in the same run:
- baseline: the same CSV rows read with csv.reader and inserted with a bare Core ``executemany``
  (batches of ``BATCH_ROWS``, the import's own batch size, one transaction each) into a
  one-table schema;
- import: ``recordcheck records import`` of that CSV into a freshly migrated database;
- lookup: ``verified_lookup`` of random stored case numbers (right date of birth where the
  record has one), p50 and p99, with and without the commit of the audit row.
Each import and baseline runs in its own process, so its peak RSS is its own. The load average
is printed at the start and after each database: the machine is often shared, and both the
rates and their ratio move with its load.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import Column, MetaData, Table, Text, create_engine, insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from db.engine import make_engine, make_session_factory  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.records.demo import generate  # noqa: E402
from db.records.formats import RECORDCHECK_COLUMNS  # noqa: E402
from db.records.importer import BATCH_ROWS, import_paths  # noqa: E402
from db.records.lookup import verified_lookup  # noqa: E402
from db.scratch import create_scratch_database, drop_database  # noqa: E402

LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_charges(path: Path, charges: int, seed: int) -> None:
    """Exactly ``charges`` demo rows in the recordcheck CSV layout."""
    data = generate(cases=charges, seed=seed)  # more cases than needed; we stop at N rows
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=RECORDCHECK_COLUMNS)
        writer.writeheader()
        for written, row in enumerate(data.record_rows()):
            if written >= charges:
                break
            writer.writerow(row)


def child_baseline(url: str, csv_path: str) -> dict[str, float]:
    """Bare executemany of the CSV rows into one table (runs in its own process)."""
    engine = make_engine(url)
    metadata = MetaData()
    bare = Table("bare_rows", metadata, *(Column(name, Text) for name in RECORDCHECK_COLUMNS))
    metadata.drop_all(engine)
    metadata.create_all(engine)
    statement = insert(bare)
    rows = 0
    start = time.perf_counter()
    with open(csv_path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        batch: list[dict[str, str]] = []
        for fields in reader:
            batch.append(dict(zip(header, fields, strict=True)))
            if len(batch) >= BATCH_ROWS:
                with engine.begin() as conn:
                    conn.execute(statement, batch)
                rows += len(batch)
                batch = []
        if batch:
            with engine.begin() as conn:
                conn.execute(statement, batch)
            rows += len(batch)
    elapsed = time.perf_counter() - start
    metadata.drop_all(engine)
    engine.dispose()
    return {"rows": rows, "seconds": elapsed, "peak_rss_mb": _peak_rss_mb()}


def child_import(url: str, csv_path: str) -> dict[str, float]:
    """The real import into a migrated database (runs in its own process)."""
    engine = make_engine(url)
    start = time.perf_counter()
    report = import_paths(engine, [csv_path])
    elapsed = time.perf_counter() - start
    engine.dispose()
    return {
        "rows": report.rows,
        "charges": report.charges_added,
        "cases": report.cases_added,
        "errors": report.error_count,
        "seconds": elapsed,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _in_child(mode: str, url: str, csv_path: Path) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", mode, url, str(csv_path)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def measure_lookups(url: str, lookups: int, seed: int) -> dict[str, float]:
    """p50/p99 of verified_lookup on random stored case numbers."""
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.case_number, MAX(d.date_of_birth) FROM record_cases c "
                "LEFT JOIN record_defendants d ON d.case_id = c.id "
                "GROUP BY c.case_number"
            )
        ).all()
    rng = random.Random(seed)
    picks = [rng.choice(rows) for _ in range(lookups)]
    factory = make_session_factory(engine)
    bare: list[float] = []
    committed: list[float] = []
    found = 0
    with factory() as session:
        for number, (case_number, born) in enumerate(picks):
            if isinstance(born, str):
                born = dt.date.fromisoformat(born)
            start = time.perf_counter()
            result = verified_lookup(
                session,
                case_number=case_number,
                date_of_birth=born,
                requester=f"bench-{number}",
                hmac_key="bench",
            )
            middle = time.perf_counter()
            session.commit()
            end = time.perf_counter()
            bare.append(middle - start)
            committed.append(end - start)
            found += result.status == "found"
    engine.dispose()

    def pct(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000

    return {
        "lookups": lookups,
        "found": found,
        "p50_ms": pct(bare, 50),
        "p99_ms": pct(bare, 99),
        "p50_commit_ms": pct(committed, 50),
        "p99_commit_ms": pct(committed, 99),
    }


def _postgres_url(requested: str | None) -> str | None:
    url = requested or os.environ.get("BENCH_POSTGRES_URL") or LOCAL_POSTGRES
    probe = create_engine(url, connect_args={"connect_timeout": 2})
    try:
        with probe.connect():
            return url
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return None
    finally:
        probe.dispose()


def run_backend(label: str, url: str, csv_path: Path, lookups: int, seed: int) -> None:
    """Baseline, import and lookups on one database, printed as they finish."""
    baseline = _in_child("baseline", url, csv_path)
    upgrade(url)
    imported = _in_child("import", url, csv_path)
    looked = measure_lookups(url, lookups, seed)
    base_rate = baseline["rows"] / baseline["seconds"]
    rate = imported["rows"] / imported["seconds"]
    print(f"\n{label}")
    print(
        f"  baseline (csv.reader + bare executemany, 1 table): {base_rate:,.0f} rows/s "
        f"({baseline['seconds']:.1f} s, peak RSS {baseline['peak_rss_mb']:.0f} MB)"
    )
    print(
        f"  import: {rate:,.0f} charges/s ({imported['seconds']:.1f} s; "
        f"{imported['cases']:,.0f} cases, {imported['charges']:,.0f} charges, "
        f"{imported['errors']:,.0f} errors), ratio to baseline {rate / base_rate:.2f}, "
        f"peak RSS {imported['peak_rss_mb']:.0f} MB"
    )
    print(
        f"  lookup ({looked['lookups']:,} random stored cases, {looked['found']:,} found): "
        f"p50 {looked['p50_ms']:.3f} ms, p99 {looked['p99_ms']:.3f} ms; "
        f"with the audit commit p50 {looked['p50_commit_ms']:.3f} ms, "
        f"p99 {looked['p99_commit_ms']:.3f} ms"
    )
    print(f"  load average after: {_load()}")
    sys.stdout.flush()


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charges", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", default=None, help="server URL (default: local)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "URL", "CSV"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, url, csv_path = args.child
        result = (
            child_baseline(url, csv_path) if mode == "baseline" else child_import(url, csv_path)
        )
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory(prefix="rc-bench-") as tmp:
        csv_path = Path(tmp) / "charges.csv"
        start = time.perf_counter()
        write_charges(csv_path, args.charges, args.seed)
        size = csv_path.stat().st_size / 1e6
        print(
            f"records benchmark: {args.charges:,} demo charges ({size:.0f} MB CSV, "
            f"generated in {time.perf_counter() - start:.1f} s), {args.lookups:,} lookups; "
            f"load average {_load()}"
        )
        if not args.no_sqlite:
            sqlite_url = f"sqlite:///{tmp}/bench.sqlite3"
            run_backend("SQLite", sqlite_url, csv_path, args.lookups, args.seed)
        server = None if args.no_postgres else _postgres_url(args.postgres)
        if server is None:
            print("\nPostgreSQL: not reachable, skipped")
            return
        url, name = create_scratch_database(server, "rc_bench")
        try:
            run_backend("PostgreSQL", url, csv_path, args.lookups, args.seed)
        finally:
            drop_database(server, name)


if __name__ == "__main__":
    main()
