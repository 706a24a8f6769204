"""Streaming, idempotent import of record files and program lists (DESIGN.md 5.4).

Rows are read and written in batches (one transaction each), so memory stays flat however large
the file. Every stored row carries a content hash: re-importing a file changes nothing, a changed
row updates its case, and a row that disagrees with an earlier row of the same run is reported.
Case Harvester tables of one run are imported case tables first, then charges, then defendants.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from db.base import utcnow
from db.models.records import (
    ImportRun,
    ProgramEntry,
    RecordCase,
    RecordCharge,
    RecordDefendant,
    ReliefProgram,
)
from db.records.csvstream import read_rows
from db.records.formats import (
    CaseRec,
    ChargeRec,
    DefendantRec,
    FileKind,
    ProgramRec,
    Record,
    RowProblem,
    UnknownFormat,
    name_key,
    recognise,
)

BATCH_ROWS = 5000
#: Errors kept in the report (all are counted); each import run row keeps the first 100.
MAX_REPORTED_ERRORS = 1000
MAX_STORED_ERRORS = 100

_NO_CASE = (
    "case is not in the records (import its case table too, or all its charges are expunged)"
)

_cases = cast(Table, RecordCase.__table__)
_charges = cast(Table, RecordCharge.__table__)
_defendants = cast(Table, RecordDefendant.__table__)
_entries = cast(Table, ProgramEntry.__table__)
_programs = cast(Table, ReliefProgram.__table__)
_runs = cast(Table, ImportRun.__table__)


@dataclass(frozen=True)
class RowError:
    """A row that was not imported: which file, which line, and why (no values)."""

    file: str
    line: int
    reason: str


@dataclass(frozen=True)
class Progress:
    """Where a long import has got to, for a progress line."""

    file: str
    rows: int
    elapsed: float


@dataclass
class _Counts:
    rows: int = 0
    cases_added: int = 0
    cases_updated: int = 0
    charges_added: int = 0
    charges_updated: int = 0
    defendants_added: int = 0
    entries_added: int = 0
    entries_updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error)


@dataclass(frozen=True)
class FileReport:
    """What one file did."""

    file: str
    kind: str
    rows: int
    error_count: int


@dataclass(frozen=True)
class ImportReport:
    """The summary of an import: counts, and the first rejected rows with file, line, reason."""

    files: tuple[FileReport, ...]
    rows: int
    cases_added: int
    cases_updated: int
    charges_added: int
    charges_updated: int
    defendants_added: int
    program_entries_added: int
    program_entries_updated: int
    unchanged: int
    skipped: int
    error_count: int
    errors: tuple[RowError, ...]

    @property
    def cases(self) -> int:
        """Cases added or changed."""
        return self.cases_added + self.cases_updated

    @property
    def charges(self) -> int:
        """Charges added or changed."""
        return self.charges_added + self.charges_updated

    @property
    def errors_truncated(self) -> bool:
        """True when more errors happened than ``errors`` lists."""
        return self.error_count > len(self.errors)

    def summary(self) -> str:
        """One line for the operator."""
        text = (
            f"cases: {self.cases_added} added, {self.cases_updated} updated; "
            f"charges: {self.charges_added} added, {self.charges_updated} updated; "
            f"unchanged: {self.unchanged}; skipped: {self.skipped}; errors: {self.error_count}"
        )
        if self.program_entries_added or self.program_entries_updated:
            text += (
                f"; program entries: {self.program_entries_added} added, "
                f"{self.program_entries_updated} updated"
            )
        return text


def _digest(*parts: object) -> str:
    text = "\x1f".join(map(str, parts))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _in_chunks(values: Sequence[Any], size: int = 900) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows: COPY on PostgreSQL, the driver's executemany elsewhere.

    Values go through each column's own bind processor, so they are stored exactly as an ORM
    insert would store them; skipping SQLAlchemy's per-row parameter building is the speed-up.
    """
    names = list(rows[0])
    dialect = conn.dialect
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    ]
    active = [(i, proc) for i, proc in enumerate(processors) if proc is not None]
    tuples: list[list[Any]] = []
    for row in rows:
        values = [row[name] for name in names]
        for position, proc in active:
            value = values[position]
            if value is not None:
                values[position] = proc(value)
        tuples.append(values)
    columns = ", ".join(names)
    if dialect.name == "postgresql":
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
                for values in tuples:
                    copy.write_row(values)
        finally:
            cursor.close()
        return
    marks = ", ".join("?" if dialect.paramstyle == "qmark" else "%s" for _ in names)
    conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({columns}) VALUES ({marks})",  # noqa: S608 - our own names
        [tuple(values) for values in tuples],
    )


@dataclass
class _RowWrites:
    """One table's rows of a batch, sorted into inserts and updates (unchanged rows dropped)."""

    new: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)

    def sort(
        self,
        values: dict[str, Any],
        existing: Any,
        *,
        line: int,
        run: _Run,
        conflict: str,
        changed: set[int],
        bad: dict[int, str],
    ) -> None:
        """File a row as new or changed; one contradicting an earlier row of this import is bad.

        ``existing`` is the stored ``(id, content_hash, import_run_id)`` or None.
        """
        if existing is None:
            self.new.append(values)
            changed.add(line)
        elif existing[1] != values["content_hash"]:
            if existing[2] in run.run_ids:
                bad[line] = conflict
                return
            values["b_id"] = existing[0]
            self.changes.append(values)
            changed.add(line)

    def apply(self, conn: Connection, table: Table) -> None:
        """Insert the new rows in bulk and update the changed ones with one executemany."""
        if self.new:
            _bulk_insert(conn, table, self.new)
        if self.changes:
            statement = (
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values({name: bindparam(name) for name in self.changes[0] if name != "b_id"})
            )
            conn.execute(statement, self.changes)


class _Run:
    """One import invocation: the ids of its runs, to tell same-run duplicates from updates."""

    def __init__(self) -> None:
        self.run_ids: set[int] = set()
        self.program_ids: dict[str, int] = {}


def _batch(
    conn: Connection,
    run: _Run,
    run_id: int,
    file: str,
    rows: list[tuple[int, tuple[Record, ...]]],
    counts: _Counts,
) -> None:
    """Write one batch of parsed rows; rows that conflict are reported and left out."""
    bad: dict[int, str] = {}
    changed: set[int] = set()
    skipped: set[int] = set()
    now = utcnow()

    case_recs: dict[str, tuple[int, CaseRec, str]] = {}
    charge_recs: dict[tuple[str, int], tuple[int, ChargeRec, str]] = {}
    defendant_recs: dict[tuple[str, str], tuple[int, DefendantRec, str]] = {}
    program_recs: dict[tuple[str, str], tuple[int, ProgramRec, str]] = {}
    numbers: set[str] = set()

    # 1. De-duplicate within the batch; a row disagreeing with an earlier one is an error.
    for line, records in rows:
        for record in records:
            if isinstance(record, ChargeRec):
                key2 = (record.case_number, record.charge_number)
                digest = _digest(*record)
                seen = charge_recs.get(key2)
                if seen is None:
                    charge_recs[key2] = (line, record, digest)
                elif seen[2] != digest:
                    bad[line] = f"charge {record.charge_number} differs from line {seen[0]}"
            elif isinstance(record, CaseRec):
                digest = _digest(*record[1:])
                seen_case = case_recs.get(record.case_number)
                if seen_case is None:
                    case_recs[record.case_number] = (line, record, digest)
                elif seen_case[2] != digest:
                    bad[line] = f"case details differ from line {seen_case[0]}"
            elif isinstance(record, DefendantRec):
                key3 = (record.case_number, record.source_key)
                digest = _digest(record.name, record.date_of_birth)
                seen_def = defendant_recs.get(key3)
                if seen_def is None:
                    defendant_recs[key3] = (line, record, digest)
                elif seen_def[2] != digest:
                    bad[line] = f"defendant differs from line {seen_def[0]}"
            else:
                key4 = (record.case_number, record.program)
                digest = _digest(*record)
                seen_entry = program_recs.get(key4)
                if seen_entry is None:
                    program_recs[key4] = (line, record, digest)
                elif seen_entry[2] != digest:
                    bad[line] = f"program entry differs from line {seen_entry[0]}"
            numbers.add(record.case_number)

    # 2. Cases: insert new ones, update changed ones, report same-run disagreements.
    case_ids: dict[str, int] = {}
    stored: dict[str, tuple[int, str, int | None]] = {}
    if case_recs or charge_recs or defendant_recs:
        for chunk in _in_chunks(sorted(numbers)):
            query = select(
                _cases.c.case_number, _cases.c.id, _cases.c.content_hash, _cases.c.import_run_id
            ).where(_cases.c.case_number.in_(chunk))
            for number, case_id, digest, written_by in conn.execute(query):
                stored[number] = (case_id, digest, written_by)
                case_ids[number] = case_id
    live = {n for (n, _), (_, charge, _) in charge_recs.items() if not charge.expunged}
    expunged_only = {n for (n, _), (_, c, _) in charge_recs.items() if c.expunged} - live
    case_writes = _RowWrites()
    for number, (line, case, digest) in case_recs.items():
        if line in bad:
            continue
        values = {
            "case_number": number,
            "court": case.court,
            "county": case.county,
            "case_status": case.case_status,
            "case_type": case.case_type,
            "filing_date": case.filing_date,
            "source": case.source,
            "content_hash": digest,
            "import_run_id": run_id,
            "updated_at": now,
        }
        existing = stored.get(number)
        if existing is None and number in expunged_only:
            continue  # every charge of this new case is expunged: never store it
        case_writes.sort(
            values,
            existing,
            line=line,
            run=run,
            conflict="case details differ from an earlier row of this import",
            changed=changed,
            bad=bad,
        )
    case_writes.apply(conn, _cases)
    counts.cases_added += len(case_writes.new)
    counts.cases_updated += len(case_writes.changes)
    if case_writes.new:
        for chunk in _in_chunks([c["case_number"] for c in case_writes.new]):
            query = select(_cases.c.case_number, _cases.c.id).where(
                _cases.c.case_number.in_(chunk)
            )
            for number, case_id in conn.execute(query):
                case_ids[str(number)] = int(case_id)

    # 3. Charges: expunged ones are deleted (never stored); others inserted or updated.
    touched: set[int] = set()
    if charge_recs:
        touched = _write_charges(
            conn, run, run_id, charge_recs, case_ids, bad, changed, skipped, counts
        )

    # 4. Defendants.
    if defendant_recs:
        _write_defendants(
            conn,
            run,
            run_id,
            defendant_recs,
            case_ids,
            expunged_only,
            bad,
            changed,
            skipped,
            counts,
        )

    # 5. Program entries.
    if program_recs:
        _write_entries(conn, run, run_id, program_recs, bad, changed, counts)

    # 6. A case left without charges is never shown (lookups need a charge); its people go.
    # The case row itself stays, so re-importing a case table finds it unchanged.
    for chunk in _in_chunks(sorted(touched)):
        has_charges = exists().where(_charges.c.case_id == _defendants.c.case_id)
        conn.execute(delete(_defendants).where(_defendants.c.case_id.in_(chunk), ~has_charges))

    for line, reason in sorted(bad.items()):
        counts.add_error(RowError(file, line, reason))
    for line, _records in rows:
        if line in bad:
            continue
        if line in skipped:
            counts.skipped += 1
        elif line not in changed:
            counts.unchanged += 1


def _write_charges(
    conn: Connection,
    run: _Run,
    run_id: int,
    charge_recs: dict[tuple[str, int], tuple[int, ChargeRec, str]],
    case_ids: dict[str, int],
    bad: dict[int, str],
    changed: set[int],
    skipped: set[int],
    counts: _Counts,
) -> set[int]:
    """Write a batch's charges; returns the ids of cases that had a charge expunged."""
    stored: dict[tuple[int, int], tuple[int, str, int | None]] = {}
    wanted_ids = sorted({case_ids[n] for n, _ in charge_recs if n in case_ids})
    for chunk in _in_chunks(wanted_ids):
        query = select(
            _charges.c.case_id,
            _charges.c.charge_number,
            _charges.c.id,
            _charges.c.content_hash,
            _charges.c.import_run_id,
        ).where(_charges.c.case_id.in_(chunk))
        for case_id, number, charge_id, digest, written_by in conn.execute(query):
            stored[(case_id, number)] = (charge_id, digest, written_by)
    writes = _RowWrites()
    removed: list[int] = []
    emptied: set[int] = set()
    for (case_number, charge_number), (line, charge, digest) in charge_recs.items():
        if line in bad:
            continue
        case_id = case_ids.get(case_number)
        if charge.expunged:
            skipped.add(line)
            if case_id is not None and (case_id, charge_number) in stored:
                removed.append(stored[(case_id, charge_number)][0])
                emptied.add(case_id)
            continue
        if case_id is None:
            bad[line] = _NO_CASE
            continue
        existing = stored.get((case_id, charge_number))
        values = {
            "case_id": case_id,
            "charge_number": charge_number,
            "description": charge.description,
            "statute": charge.statute,
            "offense_date": charge.offense_date,
            "disposition": charge.disposition,
            "disposition_date": charge.disposition_date,
            "sentence_completed_on": charge.sentence_completed_on,
            "probation_violation": charge.probation_violation,
            "content_hash": digest,
            "import_run_id": run_id,
        }
        writes.sort(
            values,
            existing,
            line=line,
            run=run,
            conflict=f"charge {charge_number} differs from an earlier row of this import",
            changed=changed,
            bad=bad,
        )
    writes.apply(conn, _charges)
    counts.charges_added += len(writes.new)
    counts.charges_updated += len(writes.changes)
    if removed:
        for chunk in _in_chunks(removed):
            conn.execute(delete(_charges).where(_charges.c.id.in_(chunk)))
    expunged_in = {case_ids.get(n) for (n, _), (_, c, _) in charge_recs.items() if c.expunged}
    return emptied | {case_id for case_id in expunged_in if case_id is not None}


def _write_defendants(
    conn: Connection,
    run: _Run,
    run_id: int,
    defendant_recs: dict[tuple[str, str], tuple[int, DefendantRec, str]],
    case_ids: dict[str, int],
    expunged_only: set[str],
    bad: dict[int, str],
    changed: set[int],
    skipped: set[int],
    counts: _Counts,
) -> None:
    stored: dict[tuple[int, str], tuple[int, str, int | None]] = {}
    wanted_ids = sorted({case_ids[n] for n, _ in defendant_recs if n in case_ids})
    for chunk in _in_chunks(wanted_ids):
        query = select(
            _defendants.c.case_id,
            _defendants.c.source_key,
            _defendants.c.id,
            _defendants.c.content_hash,
            _defendants.c.import_run_id,
        ).where(_defendants.c.case_id.in_(chunk))
        for case_id, key, row_id, digest, written_by in conn.execute(query):
            stored[(case_id, key)] = (row_id, digest, written_by)
    writes = _RowWrites()
    for (case_number, key), (line, defendant, digest) in defendant_recs.items():
        if line in bad:
            continue
        if defendant.name is None and defendant.date_of_birth is None:
            skipped.add(line)  # redacted in public exports: nothing to keep
            continue
        case_id = case_ids.get(case_number)
        if case_id is None:
            if case_number in expunged_only:
                skipped.add(line)  # its case was not stored: every charge is expunged
            else:
                bad[line] = _NO_CASE
            continue
        values = {
            "case_id": case_id,
            "source_key": key,
            "name": defendant.name,
            "name_key": name_key(defendant.name),
            "date_of_birth": defendant.date_of_birth,
            "content_hash": digest,
            "import_run_id": run_id,
        }
        existing = stored.get((case_id, key))
        writes.sort(
            values,
            existing,
            line=line,
            run=run,
            conflict="defendant differs from an earlier row of this import",
            changed=changed,
            bad=bad,
        )
    writes.apply(conn, _defendants)
    counts.defendants_added += len(writes.new)


def _program_id(conn: Connection, run: _Run, name: str) -> int:
    known = run.program_ids.get(name)
    if known is not None:
        return known
    found = conn.execute(select(_programs.c.id).where(_programs.c.name == name)).scalar()
    if found is None:
        conn.execute(insert(_programs).values(name=name, created_at=utcnow()))
        found = conn.execute(select(_programs.c.id).where(_programs.c.name == name)).scalar_one()
    run.program_ids[name] = int(found)
    return int(found)


def _write_entries(
    conn: Connection,
    run: _Run,
    run_id: int,
    program_recs: dict[tuple[str, str], tuple[int, ProgramRec, str]],
    bad: dict[int, str],
    changed: set[int],
    counts: _Counts,
) -> None:
    program_ids = {name: _program_id(conn, run, name) for _, name in program_recs}
    stored: dict[tuple[str, int], tuple[int, str, int | None]] = {}
    for chunk in _in_chunks(sorted({number for number, _ in program_recs})):
        query = select(
            _entries.c.case_number,
            _entries.c.program_id,
            _entries.c.id,
            _entries.c.content_hash,
            _entries.c.import_run_id,
        ).where(_entries.c.case_number.in_(chunk))
        for number, program_id, row_id, digest, written_by in conn.execute(query):
            stored[(number, program_id)] = (row_id, digest, written_by)
    writes = _RowWrites()
    for (case_number, name), (line, entry, digest) in program_recs.items():
        if line in bad:
            continue
        program_id = program_ids[name]
        values = {
            "case_number": case_number,
            "program_id": program_id,
            "status": entry.status,
            "status_date": entry.status_date,
            "note": entry.note,
            "content_hash": digest,
            "import_run_id": run_id,
        }
        existing = stored.get((case_number, program_id))
        writes.sort(
            values,
            existing,
            line=line,
            run=run,
            conflict="program entry differs from an earlier row of this import",
            changed=changed,
            bad=bad,
        )
    writes.apply(conn, _entries)
    counts.entries_added += len(writes.new)
    counts.entries_updated += len(writes.changes)


_TABLE_ORDER = {"program": 4, "records": 1, "defendants": 3}


def _order(kind: FileKind) -> int:
    if kind.table.endswith("_charges"):
        return 2
    if kind.table.endswith("_defendants"):
        return 3
    return _TABLE_ORDER.get(kind.table, 1)


#: PostgreSQL plans with table statistics; a bulk load into empty tables leaves them saying
#: "empty" (so lookups would scan). Refresh them as the tables grow, and at the end.
_ANALYZE_AFTER = frozenset({1, 4, 16, 64, 256})


def _analyze(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        for table in (_cases, _charges, _defendants, _entries):
            conn.exec_driver_sql(f"ANALYZE {table.name}")


def _recognise_file(
    path: Path, fmt: str, program: str | None
) -> tuple[FileKind | None, RowError | None]:
    try:
        with path.open("rb") as stream:
            first = next(read_rows(stream), None)
    except OSError as error:
        return None, RowError(str(path), 0, f"cannot read the file ({error.strerror})")
    if first is None:
        return None, RowError(str(path), 1, "file is empty")
    if first.fields is None:
        return None, RowError(str(path), first.line, f"header unusable: {first.problem}")
    try:
        return recognise(first.fields, path, fmt=fmt, program=program), None
    except UnknownFormat as error:
        return None, RowError(str(path), first.line, str(error))


def _engine_of(target: Engine | sessionmaker[Session]) -> Engine:
    if isinstance(target, Engine):
        return target
    bind = target.kw.get("bind")
    if not isinstance(bind, Engine):
        raise TypeError("import_paths needs an Engine or a sessionmaker bound to one")
    return bind


def _import_file(
    engine: Engine,
    run: _Run,
    path: Path,
    kind: FileKind,
    program: str | None,
    counts: _Counts,
    progress: Callable[[Progress], None] | None,
    started: float,
) -> FileReport:
    file = str(path)
    before = (counts.rows, counts.error_count, len(counts.errors))
    with engine.begin() as conn:
        run_id = conn.execute(
            insert(_runs)
            .values(
                file=file[-500:],
                fmt=kind.table,
                program=program,
                status="running",
                started_at=utcnow(),
                rows=0,
                cases_added=0,
                cases_updated=0,
                charges_added=0,
                charges_updated=0,
                unchanged=0,
                skipped=0,
                error_count=0,
            )
            .returning(_runs.c.id)
        ).scalar_one()
    run.run_ids.add(run_id)
    snapshot = _Counts(**{k: v for k, v in vars(counts).items() if k != "errors"})
    parse = kind.parser
    width = 0
    pending: list[tuple[int, tuple[Record, ...]]] = []
    batches = 0
    with path.open("rb") as stream:
        rows = read_rows(stream)
        header = next(rows)
        assert header.fields is not None  # noqa: S101 - checked by _recognise_file
        width = len(header.fields)
        for row in rows:
            counts.rows += 1
            if row.fields is None:
                counts.add_error(RowError(file, row.line, row.problem or "unreadable row"))
                continue
            if len(row.fields) != width:
                counts.add_error(
                    RowError(
                        file,
                        row.line,
                        f"row has {len(row.fields)} fields, the header has {width}",
                    )
                )
                continue
            try:
                pending.append((row.line, parse(row.fields)))
            except RowProblem as problem:
                counts.add_error(RowError(file, row.line, str(problem)))
                continue
            if len(pending) >= BATCH_ROWS:
                with engine.begin() as conn:
                    _batch(conn, run, run_id, file, pending, counts)
                pending = []
                batches += 1
                if batches in _ANALYZE_AFTER:
                    _analyze(engine)
                if progress is not None:
                    progress(Progress(file, counts.rows - before[0], time.monotonic() - started))
    if pending:
        with engine.begin() as conn:
            _batch(conn, run, run_id, file, pending, counts)
    file_errors = [e for e in counts.errors[before[2] :] if e.file == file][:MAX_STORED_ERRORS]
    with engine.begin() as conn:
        conn.execute(
            update(_runs)
            .where(_runs.c.id == run_id)
            .values(
                status="finished",
                finished_at=utcnow(),
                rows=counts.rows - snapshot.rows,
                cases_added=counts.cases_added - snapshot.cases_added,
                cases_updated=counts.cases_updated - snapshot.cases_updated,
                charges_added=counts.charges_added - snapshot.charges_added,
                charges_updated=counts.charges_updated - snapshot.charges_updated,
                unchanged=counts.unchanged - snapshot.unchanged,
                skipped=counts.skipped - snapshot.skipped,
                error_count=counts.error_count - snapshot.error_count,
                errors=json.dumps([[e.line, e.reason] for e in file_errors]) or None,
            )
        )
    return FileReport(file, kind.table, counts.rows - before[0], counts.error_count - before[1])


def import_paths(
    target: Engine | sessionmaker[Session],
    paths: Iterable[str | Path],
    *,
    fmt: str = "auto",
    program: str | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> ImportReport:
    """Import record files or program lists; bad rows are reported and the rest imported.

    Each batch commits on its own, so an interrupted import keeps what it wrote and running it
    again finishes the job (rows already stored are unchanged).
    """
    engine = _engine_of(target)
    counts = _Counts()
    run = _Run()
    started = time.monotonic()
    kinds: list[tuple[int, int, Path, FileKind]] = []
    for position, raw in enumerate(paths):
        path = Path(raw)
        kind, error = _recognise_file(path, fmt, program)
        if error is not None:
            counts.add_error(error)
            continue
        assert kind is not None  # noqa: S101 - one of the two is always set
        kinds.append((_order(kind), position, path, kind))
    reports = []
    for _order_key, _position, path, kind in sorted(kinds, key=lambda item: item[:2]):
        reports.append(_import_file(engine, run, path, kind, program, counts, progress, started))
    if reports:
        _analyze(engine)
    return ImportReport(
        files=tuple(reports),
        rows=counts.rows,
        cases_added=counts.cases_added,
        cases_updated=counts.cases_updated,
        charges_added=counts.charges_added,
        charges_updated=counts.charges_updated,
        defendants_added=counts.defendants_added,
        program_entries_added=counts.entries_added,
        program_entries_updated=counts.entries_updated,
        unchanged=counts.unchanged,
        skipped=counts.skipped,
        error_count=counts.error_count,
        errors=tuple(counts.errors),
    )


def count_cases(session_or_conn: Session | Connection) -> int:
    """How many cases the store holds (used by ``demo-data --if-empty``)."""
    return int(session_or_conn.execute(select(func.count()).select_from(_cases)).scalar_one())
