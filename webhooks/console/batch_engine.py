"""Batch screening without Flask: read an uploaded list, screen every case, write a results CSV.

Two inputs are read: a list of case numbers (one per line, optionally with a ``date_of_birth``
column), or charges in the project's record format (DESIGN 5.4, one row per charge). Stored
cases are fetched with one query per chunk of case numbers (``IN``), never one per row, and
screened in-process by the rules engine. The privacy rule of DESIGN section 3 holds here too:
a stored record that carries a date of birth is screened only when the row gives the same date.
"""

from __future__ import annotations

import csv
import datetime as dt
import hmac
import io
import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from db.base import utcnow
from db.models.console import ConsoleBatchJob
from db.models.records import (
    ProgramEntry,
    RecordCase,
    RecordCharge,
    RecordDefendant,
    ReliefProgram,
)
from db.records.case_numbers import normalize_case_number
from db.records.csvstream import read_rows
from db.records.formats import (
    CaseRec,
    ChargeRec,
    HeaderProblem,
    RowProblem,
    UnknownFormat,
    recognise,
)
from db.records.lookup import screening_input
from knowledge.model import ScreeningResult
from knowledge.render import court_name, render_note
from knowledge.screening import InputError, parse_case, screen_case

log = logging.getLogger("recordcheck.console.batch")

MAX_UPLOAD_BYTES = 16 * 1024 * 1024
MAX_CASES = 50_000
MAX_ROWS = 250_000
CHUNK = 500
#: Lists up to this many cases are screened while the page waits; longer ones in the background.
SYNC_LIMIT = 1_000
#: A job still "running" after this long was cut off (its process stopped).
STALE_AFTER = dt.timedelta(minutes=10)

VERDICTS = (
    "automatic",
    "act_now",
    "wait",
    "needs_review",
    "already_cleared",
    "no_relief_found",
    "outside_maryland",
)
ROW_STATUSES = ("screened", "not_found_or_unverified", "invalid", "duplicate")
RESULT_COLUMNS = (
    "line",
    "case_number",
    "status",
    "verdict",
    "summary",
    "automatic",
    "eligible_now",
    "eligible_later",
    "needs_review",
    "next_date",
    "programs",
    "problem",
)
_CASE_HEADERS = ("case_number", "case number", "case", "case_no", "case no", "casenumber")
_DOB_HEADERS = ("date_of_birth", "date of birth", "dob", "birth_date")
_BINARY_MAGIC = {
    b"PK\x03\x04": "That looks like an Excel or zip file. Save it as CSV (UTF-8) first.",
    b"\xd0\xcf\x11\xe0": "That looks like an old Excel file. Save it as CSV (UTF-8) first.",
    b"%PDF": "That is a PDF. Upload a CSV file.",
}
_BAD_DOB = "date_of_birth is not a date like 1985-03-25 or 03/25/1985"
_UTF16_LE_BOM = b"\xff\xfe"
_UTF16_BE_BOM = b"\xfe\xff"
_UTF16_BROKEN = (
    "The file starts like UTF-16 text but cannot be read as it. Save it as CSV (UTF-8) first."
)


class BatchError(ValueError):
    """The upload cannot be screened; the message says why, safe to show."""


@dataclass(frozen=True)
class CaseItem:
    """One case of a case-number list: where it was, what was typed, and a date of birth."""

    line: int
    raw: str
    case_number: str | None
    date_of_birth: dt.date | None = None
    problem: str | None = None


@dataclass
class ChargeCase:
    """One case assembled from charge rows of a record-format file."""

    line: int
    case: CaseRec
    charges: list[ChargeRec] = field(default_factory=list)


@dataclass
class BatchInput:
    """A parsed upload: case numbers to fetch, or whole cases given as charges."""

    kind: str  # "case_numbers" or "charges"
    items: list[CaseItem] = field(default_factory=list)
    cases: dict[str, ChargeCase] = field(default_factory=dict)
    #: Charge rows that could not be read: line, why, and their case number when it is clear.
    problems: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        """How many result rows the job will write."""
        if self.kind == "case_numbers":
            return len(self.items)
        return len(self.cases) + len(self.problems)


# --- reading the upload ------------------------------------------------------------------------


def check_upload(data: bytes, filename: str) -> None:
    """Refuse files that are empty, too big, spreadsheets or PDFs, or not named .csv/.txt."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in {".csv", ".txt"}:
        raise BatchError("Upload a .csv file (or .txt with one case number per line).")
    if not data.strip():
        raise BatchError("The file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise BatchError(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    for magic, message in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise BatchError(message)


def as_utf8(data: bytes) -> bytes:
    """The upload as UTF-8, from what spreadsheets save: UTF-8 (with or without a BOM),
    Windows-1252 ("CSV" from Excel on Windows, accents and all), or UTF-16 with a BOM
    (Excel's "Unicode Text", tab-separated). Bytes that are none of these are left alone, so
    each unreadable line is reported on its own.
    """
    if data.startswith((_UTF16_LE_BOM, _UTF16_BE_BOM)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise BatchError(_UTF16_BROKEN) from None
        if "\x00" in text:
            raise BatchError("That is not a text file. Upload a CSV file.")
        return _commas(text).encode("utf-8")
    if b"\x00" in data[:8192]:
        raise BatchError("That is not a text file. Upload a CSV file.")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252").encode("utf-8")
        except UnicodeDecodeError:
            return data
    return data


def _commas(text: str) -> str:
    """Tab-separated text (as Excel saves "Unicode Text") as CSV; other text unchanged."""
    first = text.split("\n", 1)[0]
    if "\t" not in first or "," in first:
        return text
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(csv.reader(io.StringIO(text), delimiter="\t"))
    return out.getvalue()


def _header_index(fields: Sequence[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for position, name in enumerate(fields):
        index.setdefault(name.strip().lstrip("\ufeff").lower(), position)
    return index


def parse_upload(data: bytes, filename: str) -> BatchInput:
    """Read an uploaded list; raise BatchError when it cannot be read at all."""
    check_upload(data, filename)
    data = as_utf8(data)
    if not data.strip():
        raise BatchError("The file is empty.")
    rows = read_rows(io.BytesIO(data))
    first = next(rows, None)
    while first is not None and first.fields is None:
        first = next(rows, None)
    if first is None or first.fields is None:
        raise BatchError("The file has no readable rows (is it UTF-8 text?).")
    index = _header_index(first.fields)
    try:
        kind = recognise(first.fields, Path(filename))
    except HeaderProblem as problem:  # a record file we would misread: say why
        raise BatchError(f"The header cannot be used: {problem}.") from None
    except UnknownFormat:
        kind = None
    if kind is not None and kind.fmt == "program":
        raise BatchError("This is a program list. An admin can load it on the Import page.")
    if kind is not None and kind.table == "records":
        return _parse_charges(kind.parser, rows, index.get("case_number"))
    if kind is not None:
        raise BatchError(
            "Case Harvester tables are imported, not screened: ask an admin to import them, "
            "or upload a list of case numbers."
        )
    case_col = next((index[h] for h in _CASE_HEADERS if h in index), None)
    dob_col = next((index[h] for h in _DOB_HEADERS if h in index), None)
    if case_col is None:
        if normalize_case_number(first.fields[0]) is None:
            raise BatchError(
                "Cannot tell what this file is. Use a case_number column (and optionally "
                "date_of_birth), or the record format: case_number, court, charge_number, "
                "description, ..."
            )
        # No header: the first line is already a case number.
        return _parse_case_numbers(itertools_chain(first, rows), 0, None)
    return _parse_case_numbers(rows, case_col, dob_col)


def itertools_chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    """``first`` then the rest of an iterator."""
    yield first
    yield from rest


def _dob(raw: str) -> dt.date | None:
    """A date of birth as YYYY-MM-DD or MM/DD/YYYY; ValueError for anything else.

    A two-digit year ("03/25/85", as a spreadsheet may show it) is refused rather than read
    as the year 85: that date could only fail to match, reported as "not found".
    """
    value = raw.strip()
    if not value:
        return None
    if "/" in value:
        month, day, year = value.split("/")
        if len(year.strip()) != 4:
            raise ValueError("a date of birth needs a four-digit year")
        born = dt.date(int(year), int(month), int(day))
    else:
        born = dt.date.fromisoformat(value)
    if born.year < 1900:
        raise ValueError("a date of birth before 1900")
    return born


def _parse_case_numbers(rows: Iterable[Any], case_col: int, dob_col: int | None) -> BatchInput:
    batch = BatchInput("case_numbers")
    seen: set[str] = set()
    for row in rows:
        if len(batch.items) >= MAX_CASES:
            raise BatchError(f"The file has more than {MAX_CASES:,} cases; split it up.")
        if row.fields is None:
            batch.items.append(CaseItem(row.line, "", None, problem=row.problem))
            continue
        raw = row.fields[case_col].strip() if case_col < len(row.fields) else ""
        if not raw and not any(f.strip() for f in row.fields):
            continue
        normalized = normalize_case_number(raw) if raw else None
        if normalized is None:
            problem = "case number is missing" if not raw else "not a case number"
            batch.items.append(CaseItem(row.line, raw[:64], None, problem=problem))
            continue
        dob = None
        if dob_col is not None and dob_col < len(row.fields):
            try:
                dob = _dob(row.fields[dob_col])
            except (ValueError, TypeError):
                batch.items.append(CaseItem(row.line, raw[:64], normalized, problem=_BAD_DOB))
                continue
        if normalized in seen:
            batch.items.append(CaseItem(row.line, raw[:64], normalized, problem="duplicate"))
            continue
        seen.add(normalized)
        batch.items.append(CaseItem(row.line, raw[:64], normalized, dob))
    if not batch.items:
        raise BatchError("The file lists no case numbers.")
    return batch


def _parse_charges(
    parser: Callable[[Sequence[str]], tuple[Any, ...]],
    rows: Iterable[Any],
    case_col: int | None,
) -> BatchInput:
    batch = BatchInput("charges")
    count = 0
    for row in rows:
        count += 1
        if count > MAX_ROWS:
            raise BatchError(f"The file has more than {MAX_ROWS:,} charge rows; split it up.")
        if row.fields is None:
            batch.problems.append((row.line, row.problem or "unreadable row", ""))
            continue
        try:
            records = parser(row.fields)
        except RowProblem as problem:
            batch.problems.append((row.line, str(problem), _row_case(row.fields, case_col)))
            continue
        except IndexError:
            reason = "row has fewer columns than the header"
            batch.problems.append((row.line, reason, _row_case(row.fields, case_col)))
            continue
        case_rec = next(r for r in records if isinstance(r, CaseRec))
        charge = next(r for r in records if isinstance(r, ChargeRec))
        entry = batch.cases.get(case_rec.case_number)
        if entry is None:
            if len(batch.cases) >= MAX_CASES:
                raise BatchError(f"The file has more than {MAX_CASES:,} cases; split it up.")
            entry = batch.cases[case_rec.case_number] = ChargeCase(row.line, case_rec)
        if not charge.expunged:
            entry.charges.append(charge)
    if not batch.cases and not batch.problems:
        raise BatchError("The file has a header but no charge rows.")
    return batch


def _row_case(fields: Sequence[str], case_col: int | None) -> str:
    """The case number of a charge row that could not be read, or "" when it has none."""
    if case_col is None or case_col >= len(fields):
        return ""
    return normalize_case_number(fields[case_col].strip()) or ""


def incomplete_cases(problems: Iterable[tuple[int, str, str]]) -> dict[str, int]:
    """Each case with a charge row that could not be read, and that row's line (the first)."""
    lines: dict[str, int] = {}
    for line, _reason, number in problems:
        if number:
            lines.setdefault(number, line)
    return lines


# --- screening -------------------------------------------------------------------------------


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _charge_case_input(entry: ChargeCase) -> dict[str, Any]:
    case = entry.case
    charges = sorted(entry.charges, key=lambda c: c.charge_number)
    return {
        "case_number": case.case_number,
        "court": case.court,
        "county": case.county,
        "case_status": case.case_status,
        "charges": [
            {
                "description": c.description,
                "statute": c.statute,
                "offense_date": _iso(c.offense_date),
                "disposition": c.disposition,
                "disposition_date": _iso(c.disposition_date),
                "sentence_completed_on": _iso(c.sentence_completed_on),
                "probation_violation": c.probation_violation,
            }
            for c in charges
        ],
    }


def _safe_cell(value: str) -> str:
    """Defuse spreadsheet formulas in cells that echo what was uploaded."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def _pathway_list(result: ScreeningResult, status: str, *, dated: bool = False) -> str:
    items = []
    for p in result.pathways:
        if p.status == status:
            items.append(
                f"{p.id} ({p.eligible_on.isoformat()})" if dated and p.eligible_on else p.id
            )
    return "; ".join(items)


def result_row(line: int, case_number: str, result: ScreeningResult, programs: str) -> list[str]:
    """One CSV row for a screened case."""
    later = [
        p.eligible_on for p in result.pathways if p.status == "eligible_later" and p.eligible_on
    ]
    context = {"court": court_name(result.county, result.court, "en")}
    return [
        str(line),
        case_number,
        "screened",
        result.verdict.status,
        render_note(result.verdict.summary, "en", context),
        _pathway_list(result, "automatic", dated=True),
        _pathway_list(result, "eligible_now"),
        _pathway_list(result, "eligible_later", dated=True),
        _pathway_list(result, "needs_review"),
        min(later).isoformat() if later else "",
        programs,
        "",
    ]


def problem_row(line: int, case_number: str, status: str, problem: str) -> list[str]:
    """One CSV row for a case that was not screened."""
    return [str(line), _safe_cell(case_number), status] + [""] * 8 + [problem]


@dataclass
class Outcome:
    """The rows written so far and the counts for the on-page summary."""

    rows: list[list[str]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, row: list[str]) -> None:
        """Keep one result row and count it."""
        self.rows.append(row)
        status = row[2]
        self.counts[status] += 1
        if status == "screened":
            self.counts[f"verdict:{row[3]}"] += 1

    def summary(self) -> dict[str, Any]:
        """Counts by row status and by verdict."""
        return {
            "rows": len(self.rows),
            "statuses": {s: self.counts.get(s, 0) for s in ROW_STATUSES},
            "verdicts": {v: self.counts.get(f"verdict:{v}", 0) for v in VERDICTS},
        }

    def csv_text(self) -> str:
        """The results file."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(RESULT_COLUMNS)
        ordered: list[list[str]] = sorted(self.rows, key=_line_of)
        writer.writerows(ordered)
        return out.getvalue()


def _line_of(row: list[str]) -> int:
    return int(row[0])


def _screen(data: dict[str, Any], as_of: dt.date) -> ScreeningResult:
    return screen_case(parse_case(data), as_of)


_cases_t = RecordCase.__table__
_charges_t = RecordCharge.__table__
_defendants_t = RecordDefendant.__table__
_entries_t = ProgramEntry.__table__
_programs_t = ReliefProgram.__table__


def _fetch(
    session: Session, numbers: Sequence[str]
) -> tuple[dict[str, Any], dict[int, list[Any]], dict[int, list[dt.date]], dict[str, list[str]]]:
    """One query per table for a chunk of case numbers."""
    cases = {
        row.case_number: row
        for row in session.execute(
            select(
                _cases_t.c.id,
                _cases_t.c.case_number,
                _cases_t.c.court,
                _cases_t.c.county,
                _cases_t.c.case_status,
            ).where(_cases_t.c.case_number.in_(numbers))
        )
    }
    ids = [row.id for row in cases.values()]
    charges: dict[int, list[Any]] = {i: [] for i in ids}
    dobs: dict[int, list[dt.date]] = {}
    if ids:
        for row in session.execute(
            select(
                _charges_t.c.case_id,
                _charges_t.c.description,
                _charges_t.c.statute,
                _charges_t.c.offense_date,
                _charges_t.c.disposition,
                _charges_t.c.disposition_date,
                _charges_t.c.sentence_completed_on,
                _charges_t.c.probation_violation,
            )
            .where(_charges_t.c.case_id.in_(ids))
            .order_by(_charges_t.c.case_id, _charges_t.c.charge_number)
        ):
            charges[row.case_id].append(row)
        for person in session.execute(
            select(_defendants_t.c.case_id, _defendants_t.c.date_of_birth).where(
                _defendants_t.c.case_id.in_(ids), _defendants_t.c.date_of_birth.is_not(None)
            )
        ):
            dobs.setdefault(person.case_id, []).append(person.date_of_birth)
    programs: dict[str, list[str]] = {}
    for entry in session.execute(
        select(
            _entries_t.c.case_number,
            _programs_t.c.name,
            _entries_t.c.status,
            _entries_t.c.status_date,
        )
        .join(_programs_t, _programs_t.c.id == _entries_t.c.program_id)
        .where(_entries_t.c.case_number.in_(numbers))
        .order_by(_programs_t.c.name)
    ):
        when = f" {entry.status_date.isoformat()}" if entry.status_date else ""
        programs.setdefault(entry.case_number, []).append(f"{entry.name}: {entry.status}{when}")
    return cases, charges, dobs, programs


def _verified(stored: list[dt.date], given: dt.date | None) -> bool:
    if not stored:
        return True
    given_text = given.isoformat().encode() if given else b""
    matches = [hmac.compare_digest(d.isoformat().encode(), given_text) for d in stored]
    return any(matches)


def screen_batch(
    session: Session,
    batch: BatchInput,
    as_of: dt.date,
    *,
    progress: Callable[[int], None] | None = None,
) -> Outcome:
    """Screen every case of a parsed upload; ``progress`` gets the count done after each chunk."""
    outcome = Outcome()
    if batch.kind == "charges":
        for line, reason, case_number in batch.problems:
            outcome.add(problem_row(line, case_number, "invalid", reason))
        incomplete = incomplete_cases(batch.problems)
        entries = list(batch.cases.values())
        for start in range(0, len(entries), CHUNK):
            for entry in entries[start : start + CHUNK]:
                number = entry.case.case_number
                if number in incomplete:
                    # Screening the other charges alone could clear a case that is not clear.
                    reason = f"not screened: the charge on line {incomplete[number]} is unreadable"
                    outcome.add(problem_row(entry.line, number, "invalid", reason))
                    continue
                if not entry.charges:
                    outcome.add(
                        problem_row(entry.line, number, "invalid", "every charge is expunged")
                    )
                    continue
                try:
                    result = _screen(_charge_case_input(entry), as_of)
                except InputError as error:
                    outcome.add(
                        problem_row(
                            entry.line, number, "invalid", f"{error.field}: {error.message}"
                        )
                    )
                    continue
                outcome.add(result_row(entry.line, number, result, ""))
            if progress is not None:
                progress(len(outcome.rows))
        return outcome

    pending = [item for item in batch.items if item.problem is None and item.case_number]
    for item in batch.items:
        if item.problem is not None:
            status = "duplicate" if item.problem == "duplicate" else "invalid"
            outcome.add(problem_row(item.line, item.case_number or item.raw, status, item.problem))
    for start in range(0, len(pending), CHUNK):
        chunk = pending[start : start + CHUNK]
        numbers = [item.case_number for item in chunk if item.case_number]
        cases, charges, dobs, programs = _fetch(session, numbers)
        for item in chunk:
            number = item.case_number or ""
            case_row = cases.get(number)
            if case_row is None or not _verified(dobs.get(case_row.id, []), item.date_of_birth):
                outcome.add(problem_row(item.line, number, "not_found_or_unverified", ""))
                continue
            if not charges.get(case_row.id):
                outcome.add(problem_row(item.line, number, "invalid", "no charges on record"))
                continue
            data = screening_input(case_row, charges[case_row.id])
            try:
                result = _screen(data, as_of)
            except InputError as error:
                outcome.add(
                    problem_row(item.line, number, "invalid", f"{error.field}: {error.message}")
                )
                continue
            outcome.add(result_row(item.line, number, result, "; ".join(programs.get(number, []))))
        if progress is not None:
            progress(len(outcome.rows))
    return outcome


# --- jobs --------------------------------------------------------------------------------------


def finish_job(session: Session, job: ConsoleBatchJob, outcome: Outcome) -> None:
    """Store the results and summary on the job row (the caller commits)."""
    job.done = len(outcome.rows)
    job.total = max(job.total, job.done)
    job.summary_json = json.dumps(outcome.summary())
    job.result_csv = outcome.csv_text()
    job.status = "done"
    job.finished_at = utcnow()


def run_job(
    sessions: sessionmaker[Session], job_id: int, batch: BatchInput, as_of: dt.date
) -> None:
    """Screen a job's list, recording progress on its row as chunks finish."""

    def progress(done: int) -> None:
        with sessions() as progress_session:
            progress_session.execute(
                update(ConsoleBatchJob).where(ConsoleBatchJob.id == job_id).values(done=done)
            )
            progress_session.commit()

    try:
        with sessions() as session:
            outcome = screen_batch(session, batch, as_of, progress=progress)
            session.rollback()  # only reads happened; end that transaction before writing
            job = session.get(ConsoleBatchJob, job_id)
            if job is None:  # deleted while it ran
                return
            finish_job(session, job, outcome)
            session.commit()
    except Exception as error:  # noqa: BLE001 - a failed job must say so, not hang "running"
        log.exception("batch job failed", extra={"job_id": job_id, "error": type(error).__name__})
        with sessions() as session:
            session.execute(
                update(ConsoleBatchJob)
                .where(ConsoleBatchJob.id == job_id)
                .values(
                    status="failed", error="The list could not be screened.", finished_at=utcnow()
                )
            )
            session.commit()


def start_background(
    sessions: sessionmaker[Session], job_id: int, batch: BatchInput, as_of: dt.date
) -> threading.Thread:
    """Run a job in a thread of this process; the page polls the job row for progress."""
    thread = threading.Thread(
        target=run_job, args=(sessions, job_id, batch, as_of), name=f"batch-{job_id}", daemon=True
    )
    thread.start()
    return thread
