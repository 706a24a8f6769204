"""Screening throughput: `recordcheck screen` on a record CSV against a plain csv.DictReader parse.

Generates N synthetic Baltimore charges (default 200,000) as a DESIGN 5.4 record CSV, then in
one run times (a) parsing the file with csv.DictReader and (b) the `screen` command on it, and
prints charges per second for both and their ratio. Targets (issue #3): screening at least
100,000 charges/s and at least 25% of the raw parse rate, on one core.

    .venv/bin/python bench/screening.py [--charges N] [--seed S] [--subprocess]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge.compiled import running_compiled  # noqa: E402
from webhooks.screen_cli import CSV_COLUMNS, screen  # noqa: E402

AS_OF = "2026-11-25"
DESCRIPTIONS = [
    ("CDS: POSS-MARIJUANA", "CR.5.601.(a)(1)", 40),
    ("CDS: POSSESSION-MARIHUANA", "CR.5.601.(a)(1)", 20),
    ("CDS:POSSESS-NOT MARIHUANA", "CR.5.601.(a)(1)", 12),
    ("CDS:P W/I DIST:NARC", "CR.5.602", 5),
    ("CDS:POSS W/I DIST-MARIJUANA", "CR.5.602", 4),
    ("CDS:POSS PARAPHERNALIA", "CR.5.619", 8),
    ("ASSAULT-SEC DEGREE", "CR.3.203", 4),
    ("TRESPASS: PRIVATE PROPERTY", "CR.6.403", 3),
    ("HANDGUN ON PERSON", "CR.4.203", 2),
    ("POSSESS MARIJ. LESS THAN 10 GR", "", 2),
]
DISPOSITIONS = [
    ("NOLLE PROSEQUI", 35),
    ("GUILTY", 25),
    ("STET", 12),
    ("PROBATION BEFORE JUDGMENT", 10),
    ("DISMISSED", 8),
    ("NOT GUILTY", 5),
    ("MERGED", 2),
    ("", 3),
]


def _weighted(rng: random.Random, items: list[tuple[object, ...]]) -> tuple[object, ...]:
    return rng.choices(items, weights=[int(str(i[-1])) for i in items])[0]


def generate(path: Path, charges: int, seed: int) -> int:
    """Write `charges` synthetic charges (1-4 per case); return the number of cases."""
    rng = random.Random(seed)
    cases = 0
    written = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        while written < charges:
            cases += 1
            n = min(rng.choice((1, 1, 1, 2, 2, 3, 4)), charges - written)
            year = rng.randint(2008, 2025)
            offense = dt.date(year, 1, 1) + dt.timedelta(days=rng.randint(0, 364))
            court = rng.choice(("district", "district", "district", "circuit"))
            county = "Baltimore City" if rng.random() < 0.9 else "Baltimore County"
            number = f"{cases % 10}B{cases:08d}"
            status = "open" if year >= 2025 and rng.random() < 0.3 else "closed"
            for k in range(n):
                desc, statute, _ = _weighted(rng, DESCRIPTIONS)
                disp = str(_weighted(rng, DISPOSITIONS)[0]) if status == "closed" else ""
                disp_date = offense + dt.timedelta(days=rng.randint(20, 400))
                done = disp_date + dt.timedelta(days=rng.choice((0, 0, 180, 365, 1095)))
                w.writerow(
                    [
                        number, court, county, status, offense.isoformat(), "", "", k + 1,
                        desc, statute, offense.isoformat(), disp,
                        disp_date.isoformat() if disp else "",
                        done.isoformat() if disp in ("GUILTY", "PROBATION BEFORE JUDGMENT")
                        else "",
                        "false", "false",
                    ]
                )  # fmt: skip
                written += 1
    return cases


def time_parse(path: Path) -> tuple[float, int]:
    """Seconds to read every row with csv.DictReader."""
    start = time.perf_counter()
    rows = 0
    with path.open(encoding="utf-8", newline="") as fh:
        for _row in csv.DictReader(fh):
            rows += 1
    return time.perf_counter() - start, rows


def time_screen(path: Path, out: Path, use_subprocess: bool) -> float:
    """Seconds for `recordcheck screen PATH --as-of ... -o OUT`."""
    args = [str(path), "--as-of", AS_OF, "-o", str(out)]
    start = time.perf_counter()
    if use_subprocess:
        cmd = [sys.executable, "-c", "from webhooks.screen_cli import screen; screen()", *args]
        subprocess.run(cmd, check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    else:
        screen.main(args, standalone_mode=False)
    return time.perf_counter() - start


def main() -> None:
    """Generate, time both, print the figures and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charges", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--subprocess", action="store_true", help="time a fresh process")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "records.csv"
        out = Path(tmp) / "results.csv"
        cases = generate(src, opts.charges, opts.seed)
        parse_s, rows = time_parse(src)
        screen_s = time_screen(src, out, opts.subprocess)
        with out.open(encoding="utf-8") as fh:
            screened_cases = sum(1 for _ in fh) - 1
    parse_rate = rows / parse_s
    screen_rate = rows / screen_s
    compiled = running_compiled()
    build = f"compiled with mypyc ({', '.join(compiled)})" if compiled else "plain Python"
    print(f"screening code: {build}")
    print(f"charges: {rows:,} in {cases:,} cases ({screened_cases:,} result rows)")
    print(f"(a) csv.DictReader parse: {parse_s:.3f} s = {parse_rate:,.0f} charges/s")
    print(f"(b) recordcheck screen:   {screen_s:.3f} s = {screen_rate:,.0f} charges/s")
    print(f"ratio screen/parse: {screen_rate / parse_rate:.1%}")
    target_ok = screen_rate >= 100_000 and screen_rate / parse_rate >= 0.25
    print("targets (>=100,000 charges/s and >=25% of parse):", "met" if target_ok else "NOT met")


if __name__ == "__main__":
    main()
