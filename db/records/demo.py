"""Synthetic Baltimore City records and a synthetic 2019 vacatur list, for demos and benchmarks.

Everything is invented but drawn from the real shapes (domain/court-records.md): legacy District
and Circuit case numbers, MDEC numbers after 2024-05-06, the real description spellings and raw
dispositions, dates 2005-2025, cases mixing possession, intent to distribute, paraphernalia and
non-drug charges, some with a fake name and birth date. The same seed always gives the same data.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from db.records.formats import PROGRAM_COLUMNS, RECORDCHECK_COLUMNS
from db.records.importer import ImportReport, Progress, import_paths

PROGRAM_NAME = "bcsao-2019-vacatur"
PROGRAM_FILED = dt.date(2019, 1, 29)
PROGRAM_DENIED = dt.date(2019, 4, 26)
MDEC_START = dt.date(2024, 5, 6)
FIRST_DAY = dt.date(2005, 1, 1)
LAST_DAY = dt.date(2025, 6, 30)
RECORDS_FILE = "records.csv"
PROGRAM_FILE = f"{PROGRAM_NAME}.csv"

POSSESSION = (
    "CDS: POSSESSION-MARIHUANA",
    "CDS: POSS-MARIJUANA",
    "CDS:POSSESSION-MARIHUANA",
    "POSSESSION OF MARIHUANA",
    "CDS: POSS MARIJUANA L/T 10 G",
    "POSSESS MARIJ. LESS THAN 10 GR",
)
PWID_MARIJUANA = (
    "CDS POSS W/INT TO DIST",
    "CDS:P W/I DIST:MARIJUANA",
    "CDS:POSS W/I DIST-MARIHUANA",
)
OTHER_POSSESSION = ("CDS:POSSESS-NOT MARIHUANA", "CDS POSSESSION-NOT MARIJUANA")
OTHER_PWID = ("CDS:P W/I DIST:NARC", "CDS:P W/I DIST:NARC-ATT")
PARAPHERNALIA = ("CDS:POSS PARAPHERNALIA", "CDS PARA USE POS W/INT USE")
NON_DRUG = (
    ("THEFT LESS THAN $100", "CR.7.104"),
    ("TRESPASS-PRIVATE PROPERTY", "CR.6.403"),
    ("ASSAULT-SEC DEGREE", "CR.3.203"),
    ("DISORDERLY CONDUCT", "CR.10.201"),
    ("FALSE STATEMENT TO PEACE OFFICER", "CR.9.502"),
    ("MALICIOUS DESTRUCTION PROP/VALUE LESS $1,000", "CR.6.301"),
    ("RESISTING/INTERFERING WITH ARREST", "CR.9.408"),
)
# (descriptions, statute, weight)
CHARGE_KINDS = (
    (POSSESSION, "CR.5.601.(a)(1)", 40),
    (PWID_MARIJUANA, "CR.5.602", 8),
    (PARAPHERNALIA, "CR.5.619.(c)", 12),
    (OTHER_POSSESSION, "CR.5.601.(a)(1)", 10),
    (OTHER_PWID, "CR.5.602", 5),
    (None, None, 25),  # non-drug
)
DISPOSITIONS = (
    ("GUILTY", 30),
    ("NOLLE PROSEQUI", 25),
    ("STET", 18),
    ("PBJ UNSUPERVISED", 4),
    ("PBJ SUPERVISED", 2),
    ("PROBATION BEFORE JUDGMENT", 3),
    ("PROBATION BEFORE JUDGEMENT", 1),
    ("DISMISSED", 5),
    ("NOT GUILTY", 4),
    ("JUDGMENT OF ACQUITAL", 1),
    ("ACQUITTED", 1),
    ("MERGED", 2),
    ("NOLO CONTENDERE", 1),
    ("COMPROMISED", 1),
    ("TRIAL DE NOVO WAIVED", 1),
    ("OTHER", 1),
)
FIRST_NAMES = (
    "James", "Michael", "Robert", "David", "William", "Anthony", "Darnell", "Tyrone", "Kevin",
    "Marcus", "Andre", "Brian", "Jose", "Luis", "Mary", "Patricia", "Keisha", "Tanya", "Maria",
    "Angela", "Denise", "Latoya", "Jessica", "Ashley", "Sofia", "Rosa",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Davis", "Miller", "Wilson", "Moore",
    "Taylor", "Thomas", "Jackson", "White", "Harris", "Martin", "Thompson", "Garcia", "Robinson",
    "Lewis", "Walker", "Hernandez", "Green", "Carter", "Mitchell", "Perez", "Washington",
)  # fmt: skip


@dataclass(frozen=True)
class DemoCase:
    """One synthetic case: its rows in the recordcheck CSV layout and its program entry."""

    case_number: str
    rows: tuple[dict[str, str], ...]
    program_entry: dict[str, str] | None


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


class _Numbers:
    """Unique, realistic-looking case numbers (per-prefix counters, so no set of seen numbers)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.district: dict[str, int] = {}
        self.circuit: dict[tuple[int, int], int] = {}
        self.mdec_counters: dict[tuple[str, int], int] = {}

    def legacy_district(self) -> str:
        prefix = f"{self.rng.randrange(10)}{self.rng.choice('BBBBD')}"
        value = self.district.get(prefix, self.rng.randrange(10**6)) + self.rng.randint(1, 40)
        self.district[prefix] = value
        return f"{prefix}{value:08d}"

    def legacy_circuit(self, filed: dt.date) -> str:
        year, day = filed.year % 100, filed.timetuple().tm_yday
        while True:
            sequence = self.circuit.get((year, day), 0) + 1
            self.circuit[(year, day)] = sequence
            if sequence <= 999:
                return f"1{year:02d}{day:03d}{sequence:03d}"
            day = day % 366 + 1

    def mdec(self, court: str, filed: dt.date) -> str:
        key = (court, filed.year % 100)
        sequence = self.mdec_counters.get(key, 0) + self.rng.randint(1, 3)
        self.mdec_counters[key] = sequence
        return f"{court}-24-CR-{key[1]:02d}-{sequence:06d}"


def _charge(rng: random.Random) -> tuple[str, str, bool]:
    """A description, statute and whether it is marijuana possession."""
    descriptions, statute, _ = rng.choices(CHARGE_KINDS, weights=[k[2] for k in CHARGE_KINDS])[0]
    if descriptions is None:
        description, statute = rng.choice(NON_DRUG)
        return description, statute or "", False
    description = rng.choice(descriptions)
    if rng.random() < 0.03:
        description = "ATT-" + description
    return description, statute or "", descriptions is POSSESSION


def _case(rng: random.Random, numbers: _Numbers) -> DemoCase:
    span = (LAST_DAY - FIRST_DAY).days
    filed = FIRST_DAY + dt.timedelta(days=rng.randrange(span))
    if filed >= MDEC_START:
        court = rng.choice(("district", "district", "circuit"))
        case_number = numbers.mdec("D" if court == "district" else "C", filed)
    elif rng.random() < 0.7:
        court, case_number = "district", numbers.legacy_district()
    else:
        court, case_number = "circuit", numbers.legacy_circuit(filed)
    is_open = filed.year >= 2025 and rng.random() < 0.5
    name = dob = ""
    if rng.random() < 0.25:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        middle = rng.choice("ABCDEJKLMRT")
        name = (
            f"{last.upper()}, {first.upper()} {middle}"
            if rng.random() < 0.5
            else (f"{first} {last}")
        )
        born = filed - dt.timedelta(days=rng.randint(18 * 365, 60 * 365))
        dob = born.isoformat()
    charge_count = rng.choices((1, 2, 3, 4), weights=(45, 30, 15, 10))[0]
    rows = []
    possession_conviction_on: dt.date | None = None
    offense = filed - dt.timedelta(days=rng.randint(0, 30))
    for number in range(1, charge_count + 1):
        description, statute, is_possession = _charge(rng)
        if court == "circuit" and len(case_number) == 9 and rng.random() < 0.5:
            statute = ""  # Baltimore City Circuit (DSK8) records carry no statute
        disposition = decided = completed = violation = ""
        if not is_open:
            disposition = _weighted(rng, DISPOSITIONS)
            decided_on = filed + dt.timedelta(days=rng.randint(20, 400))
            decided = decided_on.isoformat()
            if disposition == "GUILTY":
                if rng.random() < 0.6:
                    completed = (decided_on + dt.timedelta(days=rng.randint(0, 730))).isoformat()
                violation = rng.choice(("", "", "false", "false", "true"))
                if is_possession and dt.date(2011, 1, 1) <= decided_on <= dt.date(2018, 12, 31):
                    possession_conviction_on = decided_on
        rows.append(
            {
                "case_number": case_number,
                "court": court,
                "county": "Baltimore City",
                "case_status": "open" if is_open else "closed",
                "filing_date": filed.isoformat(),
                "defendant_name": name,
                "date_of_birth": dob,
                "charge_number": str(number),
                "description": description,
                "statute": statute,
                "offense_date": offense.isoformat(),
                "disposition": disposition,
                "disposition_date": decided,
                "sentence_completed_on": completed,
                "probation_violation": violation,
                "expunged": "true" if rng.random() < 0.03 else "false",
            }
        )
    entry = None
    if possession_conviction_on is not None and rng.random() < 0.6:
        entry = {
            "program": PROGRAM_NAME,
            "case_number": case_number,
            "status": "denied",
            "status_date": PROGRAM_DENIED.isoformat(),
            "note": (
                f"State's Attorney's motion to vacate filed {PROGRAM_FILED.isoformat()}; "
                f"denied {PROGRAM_DENIED.isoformat()}"
            ),
        }
    return DemoCase(case_number, tuple(rows), entry)


@dataclass(frozen=True)
class DemoData:
    """A deterministic synthetic data set: ``cases`` cases drawn from ``seed``."""

    cases: int
    seed: int

    def iter_cases(self) -> Iterator[DemoCase]:
        """The cases, generated on the fly (constant memory)."""
        rng = random.Random(self.seed)  # noqa: S311 - synthetic data, not security
        numbers = _Numbers(rng)
        for _ in range(self.cases):
            yield _case(rng, numbers)

    def record_rows(self) -> Iterator[dict[str, str]]:
        """Every charge row in the recordcheck CSV layout."""
        for case in self.iter_cases():
            yield from case.rows

    def write_csv(self, out_dir: Path) -> tuple[Path, Path]:
        """Write ``records.csv`` and ``bcsao-2019-vacatur.csv`` into ``out_dir``."""
        out_dir.mkdir(parents=True, exist_ok=True)
        records_path, program_path = out_dir / RECORDS_FILE, out_dir / PROGRAM_FILE
        with (
            records_path.open("w", newline="", encoding="utf-8") as records_file,
            program_path.open("w", newline="", encoding="utf-8") as program_file,
        ):
            records = csv.DictWriter(records_file, fieldnames=RECORDCHECK_COLUMNS)
            program = csv.DictWriter(program_file, fieldnames=PROGRAM_COLUMNS)
            records.writeheader()
            program.writeheader()
            for case in self.iter_cases():
                records.writerows(case.rows)
                if case.program_entry is not None:
                    program.writerow(case.program_entry)
        return records_path, program_path


def generate(cases: int, seed: int) -> DemoData:
    """The synthetic data set for ``cases`` and ``seed`` (generated lazily)."""
    if cases < 0:
        raise ValueError("cases must not be negative")
    return DemoData(cases, seed)


def load(
    engine: Engine,
    data: DemoData,
    *,
    progress: Callable[[Progress], None] | None = None,
) -> ImportReport:
    """Load a data set through the real importer (so demo data exercises the import path)."""
    with tempfile.TemporaryDirectory(prefix="recordcheck-demo-") as tmp:
        records_path, program_path = data.write_csv(Path(tmp))
        return import_paths(engine, [records_path, program_path], progress=progress)
