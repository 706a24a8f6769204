"""Streaming, idempotent import of record files and program lists (DESIGN.md 5.4).

Rows are read and written in batches (one transaction each), so memory stays flat however large
the file. Every stored row carries a content hash: re-importing a file changes nothing, a changed
row updates its case, and a row that disagrees with an earlier row of the same run is reported.
Case Harvester tables of one run are imported case tables first, then charges, then defendants.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from hashlib import blake2b
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    Column,
    Connection,
    Dialect,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy import (
    case as sql_case,
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
    CASE_HARVESTER_TYPES,
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
from knowledge.classify import classify_charge, normalize_disposition

BATCH_ROWS = 20_000
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
    defendants_updated: int = 0
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


#: A snapshot refuses (unless forced) to remove more than this share of the cases, or of the
#: charges, a case type had before it: a monthly export loses a few expunged cases, a truncated
#: download loses many.
SNAPSHOT_MAX_REMOVED_SHARE = 0.10
#: The same share as people read it ("10%"), for messages and help texts.
SNAPSHOT_MAX_REMOVED_TEXT = f"{SNAPSHOT_MAX_REMOVED_SHARE:.0%}"


@dataclass(frozen=True)
class TypeRemoval:
    """What a snapshot removes from one case type (counts only, never case numbers)."""

    case_type: str
    cases: int
    stored_cases: int
    charges: int
    stored_charges: int
    #: Vanished cannabis charges kept (Case Search hides pardoned ones: ``_keep_hidden``).
    kept_possession: int = 0

    @property
    def too_many(self) -> bool:
        """More removed than a monthly export plausibly loses: the export may be truncated."""
        limit = SNAPSHOT_MAX_REMOVED_SHARE
        return self.cases > limit * self.stored_cases or self.charges > limit * self.stored_charges

    def describe(self) -> str:
        """One line for the operator: counts and shares, no case numbers."""
        return (
            f"{self.case_type.upper()}: {self.cases:,} of {self.stored_cases:,} cases "
            f"({_percent(self.cases, self.stored_cases)}) and {self.charges:,} of "
            f"{self.stored_charges:,} charges of cases still in the export "
            f"({_percent(self.charges, self.stored_charges)})"
            + (
                f"; kept {self.kept_possession:,} cannabis charges gone from the export "
                "(Case Search hides pardoned ones, which still count in law)"
                if self.kept_possession
                else ""
            )
        )


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0.0%"


@dataclass(frozen=True)
class SnapshotOutcome:
    """What a ``--snapshot`` import removed, or would remove, and whether it was applied."""

    case_types: tuple[str, ...]
    removals: tuple[TypeRemoval, ...]
    applied: bool
    dry_run: bool
    #: Why nothing was changed (a refusal), or None.
    refused: str | None = None

    def lines(self) -> list[str]:
        """The operator's report: per case type, what was (or would be) removed."""
        verb = "removed" if self.applied else "would remove"
        lines = []
        if self.removals:
            lines.append(f"snapshot of {', '.join(t.upper() for t in self.case_types)}:")
            lines += [f"  {verb} {removal.describe()}" for removal in self.removals]
        if self.dry_run:
            lines.append("dry run: nothing was changed")
        return lines


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
    defendants_updated: int
    program_entries_added: int
    program_entries_updated: int
    unchanged: int
    skipped: int
    error_count: int
    errors: tuple[RowError, ...]
    #: Set for a ``snapshot`` import.
    snapshot: SnapshotOutcome | None = None

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
        if self.defendants_added or self.defendants_updated:
            text += (
                f"; defendants: {self.defendants_added} added, {self.defendants_updated} updated"
            )
        if self.program_entries_added or self.program_entries_updated:
            text += (
                f"; program entries: {self.program_entries_added} added, "
                f"{self.program_entries_updated} updated"
            )
        return text


_SEP = "\x1f"


def _digest(*parts: object) -> str:
    """The content hash of a row: its values as text, joined (stored hashes depend on it)."""
    return blake2b(_SEP.join(map(str, parts)).encode(), digest_size=16).hexdigest()


class _DayTexts(dict[dt.date | None, str | None]):
    """Dates as ISO text, remembered (None stays None): formatting a date costs more than a
    lookup, and the same few thousand days recur across a million charges. In a digest,
    ``f"{days[day]}"`` is ``str(day)``, None included."""

    def __init__(self) -> None:
        super().__init__({None: None})

    def __missing__(self, day: dt.date | None) -> str | None:
        text = self[day] = None if day is None else day.isoformat()
        return text


def _case_digest(case: CaseRec, days: _DayTexts) -> str:
    """``_digest(*case[1:])``, with the date's text looked up."""
    (_, court, county, status, kind, filed, source) = case
    text = f"{court}\x1f{county}\x1f{status}\x1f{kind}\x1f{days[filed]}\x1f{source}"
    return blake2b(text.encode(), digest_size=16).hexdigest()


def _charge_digest(charge: ChargeRec, days: _DayTexts) -> str:
    """``_digest(*charge)`` with the dates' text looked up (the hot path of an import)."""
    (number, position, description, statute, offense, disposition, decided, done, pv, gone) = (
        charge
    )
    text = (
        f"{number}\x1f{position}\x1f{description}\x1f{statute}\x1f{days[offense]}"
        f"\x1f{disposition}\x1f{days[decided]}\x1f{days[done]}\x1f{pv}\x1f{gone}"
    )
    return blake2b(text.encode(), digest_size=16).hexdigest()


def _iso(value: dt.date | None) -> str | None:
    """A date as the ISO text both databases read for a DATE column (SQLite stores it so)."""
    return None if value is None else value.isoformat()


#: Columns written for new rows, in the order of the tuples the batch builds.
_CASE_COLUMNS = (
    "case_number",
    "court",
    "county",
    "case_status",
    "case_type",
    "filing_date",
    "source",
    "content_hash",
    "import_run_id",
    "updated_at",
)
_CHARGE_COLUMNS = (
    "case_id",
    "charge_number",
    "description",
    "statute",
    "offense_date",
    "disposition",
    "disposition_date",
    "sentence_completed_on",
    "probation_violation",
    "content_hash",
    "import_run_id",
)
_DEFENDANT_COLUMNS = (
    "case_id",
    "source_key",
    "name",
    "name_key",
    "date_of_birth",
    "content_hash",
    "import_run_id",
)
_ENTRY_COLUMNS = (
    "case_number",
    "program_id",
    "status",
    "status_date",
    "note",
    "content_hash",
    "import_run_id",
)


class _Sql:
    """The batch statements of one database, written once per import.

    A batch's keys go to the database as one parameter (a PostgreSQL array, a JSON list on
    SQLite) rather than as an IN list of thousands of bind parameters: one statement per
    table and batch, nothing compiled per batch. New rows go in with COPY on PostgreSQL and
    the driver's executemany on SQLite; dates are sent as ISO text, which both store as is.
    """

    def __init__(self, dialect: Dialect) -> None:
        self.postgresql = dialect.name == "postgresql"
        if self.postgresql:
            texts, ints = "= ANY(%s::text[])", "= ANY(%s::int[])"
        else:
            texts = ints = "IN (SELECT value FROM json_each(?))"
        # Table and column names are ours; only the keys clause differs between databases.
        self.stored_cases = (
            "SELECT case_number, id, content_hash, import_run_id FROM record_cases "  # noqa: S608
            f"WHERE case_number {texts}"
        )
        self.case_ids = f"SELECT case_number, id FROM record_cases WHERE case_number {texts}"  # noqa: S608
        self.stored_charges = (
            "SELECT case_id, charge_number, id, content_hash, import_run_id "  # noqa: S608
            f"FROM record_charges WHERE case_id {ints}"
        )
        self.stored_defendants = (
            "SELECT case_id, source_key, id, content_hash, import_run_id "  # noqa: S608
            f"FROM record_defendants WHERE case_id {ints}"
        )
        self.stored_entries = (
            "SELECT case_number, program_id, id, content_hash, import_run_id "  # noqa: S608
            f"FROM program_entries WHERE case_number {texts}"
        )
        self.last_case_id = "SELECT COALESCE(MAX(id), 0) FROM record_cases"
        mark = "%s" if self.postgresql else "?"
        self.cases_after = f"SELECT id, case_number FROM record_cases WHERE id > {mark}"  # noqa: S608
        self.delete_charges = f"DELETE FROM record_charges WHERE id {ints}"  # noqa: S608
        self.delete_orphan_people = (
            f"DELETE FROM record_defendants WHERE case_id {ints} AND NOT EXISTS "  # noqa: S608
            "(SELECT 1 FROM record_charges c WHERE c.case_id = record_defendants.case_id)"
        )
        updated_at = _cases.c.updated_at.type.dialect_impl(dialect)
        self._timestamp = updated_at.bind_processor(dialect)

    def rows(self, conn: Connection, statement: str, values: Iterable[Any]) -> list[Any]:
        """Rows of a statement over a batch's keys (none asked, none fetched)."""
        keys = list(values)
        if not keys:
            return []
        return self.query(conn, statement, (keys if self.postgresql else json.dumps(keys),))

    def run(self, conn: Connection, statement: str, values: Iterable[Any]) -> None:
        """Run a statement over a batch's keys."""
        keys = list(values)
        if keys:
            self.query(conn, statement, (keys if self.postgresql else json.dumps(keys),))

    @staticmethod
    def query(conn: Connection, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Run one statement on the driver's cursor; its rows, if it returns any."""
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(statement, params)
            return list(cursor.fetchall()) if cursor.description else []
        finally:
            cursor.close()

    def timestamp(self, value: dt.datetime) -> Any:
        """A timestamp as the column's own type would send it."""
        return value if self._timestamp is None else self._timestamp(value)

    def insert(
        self, conn: Connection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None:
        """Insert new rows: one COPY on PostgreSQL, one executemany on SQLite."""
        if not rows:
            return
        names = ", ".join(columns)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if self.postgresql:
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    write = copy.write_row
                    for row in rows:
                        write(row)
            else:
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608 - our names
                    rows,
                )
        finally:
            cursor.close()


def _update(conn: Connection, table: Table, changes: list[dict[str, Any]]) -> None:
    """Rewrite changed rows (rare: a re-import of edited records) with one executemany."""
    if not changes:
        return
    values: dict[str, Any] = {name: bindparam(name) for name in changes[0] if name != "b_id"}
    if table is _cases:
        values["source"] = _kept_source()
    statement = update(table).where(table.c.id == bindparam("b_id")).values(values)
    conn.execute(statement, changes)


def _kept_source() -> Any:
    """A case's source after an update: Case Harvester's only while nobody else wrote it.

    A clinic's or State's Attorney's list overlaps Case Search by design. Once such a list has
    written a case (with the names and birth dates only it holds), the case stays theirs, so
    a Case Harvester snapshot never removes it (``_harvested``).
    """
    return sql_case(
        (_cases.c.source == HARVESTER_SOURCE, bindparam("source")), else_=_cases.c.source
    )


#: The keys a snapshot import has read, in temporary tables of its own connection (a set in
#: memory would grow with the export; the import keeps memory flat).
_seen_metadata = MetaData()
_seen_cases = Table(
    "snapshot_seen_cases",
    _seen_metadata,
    Column("case_number", String(32), nullable=False),
    Index("ix_snapshot_seen_cases", "case_number"),
    prefixes=["TEMPORARY"],
)
_seen_charges = Table(
    "snapshot_seen_charges",
    _seen_metadata,
    Column("case_number", String(32), nullable=False),
    Column("charge_number", Integer, nullable=False),
    Index("ix_snapshot_seen_charges", "case_number", "charge_number"),
    prefixes=["TEMPORARY"],
)
#: What a snapshot keeps although the export no longer holds it: convictions the 2024 pardon
#: covered (Case Search hides pardoned possession charges, which the law still counts: see
#: ``_keep_hidden``), and the vanished cases that hold one.
_kept_charges = Table(
    "snapshot_kept_charges",
    _seen_metadata,
    Column("charge_id", Integer, primary_key=True),
    prefixes=["TEMPORARY"],
)
_kept_cases = Table(
    "snapshot_kept_cases",
    _seen_metadata,
    Column("case_id", Integer, primary_key=True),
    prefixes=["TEMPORARY"],
)


class _Run:
    """One import invocation: the ids of its runs, to tell same-run duplicates from updates."""

    def __init__(self, sql: _Sql, *, snapshot: bool = False) -> None:
        self.sql = sql
        self.run_ids: set[int] = set()
        self.program_ids: dict[str, int] = {}
        self.day_texts = _DayTexts()
        #: A snapshot notes every case and charge key it reads (see ``_seen_cases``).
        self.snapshot = snapshot

    def note_seen(
        self,
        conn: Connection,
        case_recs: dict[str, tuple[int, CaseRec, str]],
        charge_recs: dict[tuple[str, int], tuple[int, ChargeRec, str]],
    ) -> None:
        """Remember a batch's case and charge keys (expunged charges included)."""
        self.sql.insert(conn, _seen_cases.name, ("case_number",), [(n,) for n in case_recs])
        self.sql.insert(
            conn, _seen_charges.name, ("case_number", "charge_number"), list(charge_recs)
        )


class _Writer:
    """Where an import writes: a transaction per batch (a plain import, which keeps what it
    wrote when interrupted), or one connection and one transaction for the whole import (a
    snapshot, which must never be half applied)."""

    def __init__(self, engine: Engine, single: Connection | None = None) -> None:
        self.engine = engine
        self.single = single

    @contextmanager
    def short(self) -> Iterator[Connection]:
        """A connection for a small write (an import run's row)."""
        if self.single is not None:
            yield self.single
            return
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def for_file(self) -> Iterator[Connection]:
        """The connection a file's batches are written on."""
        if self.single is not None:
            yield self.single
            return
        with _bulk_connection(self.engine) as conn:
            yield conn

    @contextmanager
    def batch(self, conn: Connection) -> Iterator[None]:
        """A batch's transaction (inside the import's own when there is one)."""
        if self.single is not None:
            yield
            return
        with conn.begin():
            yield

    def analyze(self) -> None:
        """Refresh PostgreSQL's statistics, on the import's connection when it has one (another
        connection would not see its rows yet)."""
        if self.engine.dialect.name != "postgresql":
            return
        with self.short() as conn:
            for table in (_cases, _charges, _defendants, _entries):
                conn.exec_driver_sql(f"ANALYZE {table.name}")


@dataclass
class _LineOutcomes:
    """What became of each line of a batch: rejected (with why), written, or skipped."""

    bad: dict[int, str] = field(default_factory=dict)
    changed: set[int] = field(default_factory=set)
    skipped: set[int] = field(default_factory=set)


def _batch(
    conn: Connection,
    run: _Run,
    run_id: int,
    file: str,
    rows: list[tuple[int, tuple[Record, ...]]],
    counts: _Counts,
) -> None:
    """Write one batch of parsed rows; rows that conflict are reported and left out."""
    sql = run.sql
    lines = _LineOutcomes()
    bad = lines.bad

    case_recs: dict[str, tuple[int, CaseRec, str]] = {}
    charge_recs: dict[tuple[str, int], tuple[int, ChargeRec, str]] = {}
    defendant_recs: dict[tuple[str, str], tuple[int, DefendantRec, str]] = {}
    program_recs: dict[tuple[str, str], tuple[int, ProgramRec, str]] = {}
    live: set[str] = set()  # case numbers with a charge to store
    expunged: set[str] = set()  # case numbers with an expunged charge
    days = run.day_texts

    # 1. De-duplicate within the batch; a row disagreeing with an earlier one is an error.
    # (The parser hands out the same CaseRec for consecutive rows of a case: hashed once.)
    for line, records in rows:
        for record in records:
            if type(record) is ChargeRec:
                key2 = (record.case_number, record.charge_number)
                digest = _charge_digest(record, days)
                seen = charge_recs.get(key2)
                if seen is None:
                    charge_recs[key2] = (line, record, digest)
                    (expunged if record.expunged else live).add(record.case_number)
                elif seen[2] != digest:
                    bad[line] = f"charge {record.charge_number} differs from line {seen[0]}"
            elif type(record) is CaseRec:
                seen_case = case_recs.get(record.case_number)
                if seen_case is not None and seen_case[1] is record:
                    continue
                digest = _case_digest(record, days)
                if seen_case is None:
                    case_recs[record.case_number] = (line, record, digest)
                elif seen_case[2] != digest:
                    bad[line] = f"case details differ from line {seen_case[0]}"
            elif type(record) is DefendantRec:
                key3 = (record.case_number, record.source_key)
                digest = _digest(record.name, record.date_of_birth)
                seen_def = defendant_recs.get(key3)
                if seen_def is None:
                    defendant_recs[key3] = (line, record, digest)
                elif seen_def[2] != digest:
                    bad[line] = f"defendant differs from line {seen_def[0]}"
            elif isinstance(record, ProgramRec):
                key4 = (record.case_number, record.program)
                digest = _digest(*record)
                seen_entry = program_recs.get(key4)
                if seen_entry is None:
                    program_recs[key4] = (line, record, digest)
                elif seen_entry[2] != digest:
                    bad[line] = f"program entry differs from line {seen_entry[0]}"

    if run.snapshot:
        run.note_seen(conn, case_recs, charge_recs)

    # 2. Cases: insert new ones, update changed ones, report same-run disagreements.
    stored: dict[str, tuple[int, str, int | None]] = {}
    if case_recs or charge_recs or defendant_recs:
        numbers = {*case_recs, *live, *expunged, *(n for n, _ in defendant_recs)}
        # In index order: neighbouring probes share pages.
        for number, case_id, digest, written_by in sql.rows(
            conn, sql.stored_cases, sorted(numbers)
        ):
            stored[number] = (case_id, digest, written_by)
    case_ids = {number: found[0] for number, found in stored.items()}
    expunged_only = expunged - live
    if case_recs:
        _write_cases(conn, run, run_id, case_recs, stored, expunged_only, case_ids, lines, counts)

    # 3. Charges: expunged ones are deleted (never stored); others inserted or updated.
    emptied: set[int] = set()
    if charge_recs:
        emptied = _write_charges(conn, run, run_id, charge_recs, stored, case_ids, lines, counts)

    # 4. Defendants.
    if defendant_recs:
        _write_defendants(
            conn, run, run_id, defendant_recs, stored, case_ids, expunged_only, lines, counts
        )

    # 5. Program entries.
    if program_recs:
        _write_entries(conn, run, run_id, program_recs, lines, counts)

    # 6. A case left without charges is never shown (lookups need a charge); its people go.
    # The case row itself stays, so re-importing a case table finds it unchanged.
    if emptied:
        sql.run(conn, sql.delete_orphan_people, sorted(emptied))

    for line, reason in sorted(bad.items()):
        counts.add_error(RowError(file, line, reason))
    # A line is rejected, else skipped (an expunged charge), else written, else unchanged.
    kept = {line for line, _records in rows}.difference(bad)
    skipped = kept & lines.skipped
    counts.skipped += len(skipped)
    counts.unchanged += len(kept - skipped - lines.changed)


def _write_cases(
    conn: Connection,
    run: _Run,
    run_id: int,
    case_recs: dict[str, tuple[int, CaseRec, str]],
    stored: dict[str, tuple[int, str, int | None]],
    expunged_only: set[str],
    case_ids: dict[str, int],
    lines: _LineOutcomes,
    counts: _Counts,
) -> None:
    """Insert a batch's new cases and update its changed ones; learn the new cases' ids."""
    sql = run.sql
    bad, changed = lines.bad, lines.changed
    now = utcnow()
    stamp = sql.timestamp(now)
    new: list[tuple[Any, ...]] = []
    changes: list[dict[str, Any]] = []
    for number, (line, case, digest) in case_recs.items():
        if line in bad:
            continue
        existing = stored.get(number)
        if existing is None:
            if number in expunged_only:
                continue  # every charge of this new case is expunged: never store it
            new.append(
                (
                    number,
                    case.court,
                    case.county,
                    case.case_status,
                    case.case_type,
                    run.day_texts[case.filing_date],
                    case.source,
                    digest,
                    run_id,
                    stamp,
                )
            )
            changed.add(line)
        elif existing[1] != digest:
            if existing[2] in run.run_ids:
                bad[line] = "case details differ from an earlier row of this import"
                continue
            values = dict(
                zip(_CASE_COLUMNS, (number, *case[1:], digest, run_id, now), strict=True)
            )
            values["b_id"] = existing[0]
            changes.append(values)
            changed.add(line)
    if new:
        new.sort()  # in case-number order, the unique index takes them as an append
        _insert_cases(conn, sql, new, case_ids)
    _update(conn, _cases, changes)
    counts.cases_added += len(new)
    counts.cases_updated += len(changes)


def _insert_cases(
    conn: Connection, sql: _Sql, new: list[tuple[Any, ...]], case_ids: dict[str, int]
) -> None:
    """Insert new cases and learn their ids.

    New rows get ids above the largest id before the insert: reading the rows past it (a range
    of the primary key) is cheaper than looking every number up again. Ids are taken from the
    rows read, matched by case number, so a concurrent writer cannot mix them up; any number
    not found that way (an id allocated out of order) is looked up by number.
    """
    ((before,),) = sql.query(conn, sql.last_case_id)
    sql.insert(conn, "record_cases", _CASE_COLUMNS, new)
    wanted = {row[0] for row in new}
    for case_id, number in sql.query(conn, sql.cases_after, (before,)):
        if number in wanted:
            case_ids[number] = case_id
    missing = wanted.difference(case_ids)
    if missing:
        for number, case_id in sql.rows(conn, sql.case_ids, missing):
            case_ids[number] = case_id


def _write_charges(
    conn: Connection,
    run: _Run,
    run_id: int,
    charge_recs: dict[tuple[str, int], tuple[int, ChargeRec, str]],
    stored_cases: dict[str, tuple[int, str, int | None]],
    case_ids: dict[str, int],
    lines: _LineOutcomes,
    counts: _Counts,
) -> set[int]:
    """Write a batch's charges; returns the ids of cases that had a charge expunged.

    Only cases stored before this batch can have stored charges: a new case's are all new.
    """
    sql = run.sql
    days = run.day_texts
    bad, changed, skipped = lines.bad, lines.changed, lines.skipped
    stored: dict[tuple[int, int], tuple[int, str, int | None]] = {}
    older = {stored_cases[n][0] for n, _ in charge_recs if n in stored_cases}
    for case_id, number, charge_id, digest, written_by in sql.rows(
        conn, sql.stored_charges, sorted(older)
    ):
        stored[(case_id, number)] = (charge_id, digest, written_by)
    new: list[tuple[Any, ...]] = []
    changes: list[dict[str, Any]] = []
    removed: list[int] = []
    expunged_in: set[int] = set()
    for (case_number, charge_number), (line, charge, digest) in charge_recs.items():
        case_id = case_ids.get(case_number)
        (_, _, description, statute, offense, disposition, decided, done, violated, gone) = charge
        if gone and case_id is not None:
            expunged_in.add(case_id)
        if line in bad:
            continue
        if gone:
            skipped.add(line)
            if case_id is not None and (case_id, charge_number) in stored:
                removed.append(stored[(case_id, charge_number)][0])
            continue
        if case_id is None:
            bad[line] = _NO_CASE
            continue
        existing = stored.get((case_id, charge_number)) if stored else None
        if existing is None:
            new.append(
                (
                    case_id,
                    charge_number,
                    description,
                    statute,
                    days[offense],
                    disposition,
                    days[decided],
                    days[done],
                    violated,
                    digest,
                    run_id,
                )
            )
            changed.add(line)
        elif existing[1] != digest:
            if existing[2] in run.run_ids:
                bad[line] = f"charge {charge_number} differs from an earlier row of this import"
                continue
            values = dict(
                zip(_CHARGE_COLUMNS, (case_id, *charge[1:9], digest, run_id), strict=True)
            )
            values["b_id"] = existing[0]
            changes.append(values)
            changed.add(line)
    sql.insert(conn, "record_charges", _CHARGE_COLUMNS, new)
    _update(conn, _charges, changes)
    counts.charges_added += len(new)
    counts.charges_updated += len(changes)
    if removed:
        sql.run(conn, sql.delete_charges, removed)
    return expunged_in


def _write_defendants(
    conn: Connection,
    run: _Run,
    run_id: int,
    defendant_recs: dict[tuple[str, str], tuple[int, DefendantRec, str]],
    stored_cases: dict[str, tuple[int, str, int | None]],
    case_ids: dict[str, int],
    expunged_only: set[str],
    lines: _LineOutcomes,
    counts: _Counts,
) -> None:
    sql = run.sql
    bad, changed, skipped = lines.bad, lines.changed, lines.skipped
    stored: dict[tuple[int, str], tuple[int, str, int | None]] = {}
    older = {stored_cases[n][0] for n, _ in defendant_recs if n in stored_cases}
    for case_id, key, row_id, digest, written_by in sql.rows(
        conn, sql.stored_defendants, sorted(older)
    ):
        stored[(case_id, key)] = (row_id, digest, written_by)
    new: list[tuple[Any, ...]] = []
    changes: list[dict[str, Any]] = []
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
        existing = stored.get((case_id, key)) if stored else None
        if existing is None:
            new.append(
                (
                    case_id,
                    key,
                    defendant.name,
                    name_key(defendant.name),
                    _iso(defendant.date_of_birth),
                    digest,
                    run_id,
                )
            )
            changed.add(line)
        elif existing[1] != digest:
            if existing[2] in run.run_ids:
                bad[line] = "defendant differs from an earlier row of this import"
                continue
            values = {
                "case_id": case_id,
                "source_key": key,
                "name": defendant.name,
                "name_key": name_key(defendant.name),
                "date_of_birth": defendant.date_of_birth,
                "content_hash": digest,
                "import_run_id": run_id,
                "b_id": existing[0],
            }
            changes.append(values)
            changed.add(line)
    sql.insert(conn, "record_defendants", _DEFENDANT_COLUMNS, new)
    _update(conn, _defendants, changes)
    counts.defendants_added += len(new)
    counts.defendants_updated += len(changes)


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
    lines: _LineOutcomes,
    counts: _Counts,
) -> None:
    sql = run.sql
    bad, changed = lines.bad, lines.changed
    program_ids = {name: _program_id(conn, run, name) for _, name in program_recs}
    stored: dict[tuple[str, int], tuple[int, str, int | None]] = {}
    numbers = sorted({number for number, _ in program_recs})
    for number, program_id, row_id, digest, written_by in sql.rows(
        conn, sql.stored_entries, numbers
    ):
        stored[(number, program_id)] = (row_id, digest, written_by)
    new: list[tuple[Any, ...]] = []
    changes: list[dict[str, Any]] = []
    for (case_number, name), (line, entry, digest) in program_recs.items():
        if line in bad:
            continue
        program_id = program_ids[name]
        existing = stored.get((case_number, program_id))
        if existing is None:
            new.append(
                (
                    case_number,
                    program_id,
                    entry.status,
                    _iso(entry.status_date),
                    entry.note,
                    digest,
                    run_id,
                )
            )
            changed.add(line)
        elif existing[1] != digest:
            if existing[2] in run.run_ids:
                bad[line] = "program entry differs from an earlier row of this import"
                continue
            values = {
                "case_number": case_number,
                "program_id": program_id,
                "status": entry.status,
                "status_date": entry.status_date,
                "note": entry.note,
                "content_hash": digest,
                "import_run_id": run_id,
                "b_id": existing[0],
            }
            changes.append(values)
            changed.add(line)
    sql.insert(conn, "program_entries", _ENTRY_COLUMNS, new)
    _update(conn, _entries, changes)
    counts.entries_added += len(new)
    counts.entries_updated += len(changes)


_TABLE_ORDER = {"program": 4, "records": 1, "defendants": 3}


def _order(kind: FileKind) -> int:
    if kind.table.endswith("_charges"):
        return 2
    if kind.table.endswith("_defendants"):
        return 3
    return _TABLE_ORDER.get(kind.table, 1)


#: PostgreSQL plans with table statistics; a bulk load into empty tables leaves them saying
#: "empty" (so lookups would scan). Refresh them as the tables grow (and at the end, with
#: VACUUM).
_ANALYZE_AFTER = frozenset({1, 4, 16, 64, 256})


#: Pages the SQLite write-ahead log may hold before it is copied into the database (1,000 by
#: default): a bulk load rewrites the same index pages batch after batch, and each copy ends
#: in an fsync. 16,384 pages is 64 MB of log during an import.
_BULK_WAL_PAGES = 16_384


@contextmanager
def _bulk_connection(engine: Engine) -> Iterator[Connection]:
    """One connection for a file's batches (one transaction each), tuned for a bulk load."""
    with engine.connect() as conn:
        if engine.dialect.name != "sqlite":
            yield conn
            return
        driver = conn.connection.dbapi_connection
        assert driver is not None  # noqa: S101 - a checked-out connection has one
        (default,) = driver.execute("PRAGMA wal_autocheckpoint").fetchone()
        driver.execute(f"PRAGMA wal_autocheckpoint={_BULK_WAL_PAGES}")
        try:
            yield conn
        finally:
            driver.execute(f"PRAGMA wal_autocheckpoint={int(default)}")


def _vacuum_analyze(engine: Engine) -> None:
    """After an import on PostgreSQL: statistics, and the rows' hint bits and visibility map.

    Without it, the first lookups after a bulk load each stop to check and mark the rows they
    read as committed (dirtying pages), and autovacuum does the same work later, beside them.
    VACUUM skips pages it already marked, so after a small import it costs little.
    """
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in (_cases, _charges, _defendants, _entries):
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {table.name}")


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
        problem = first.problem
        if _starts_as_utf16(path):
            problem = "the file is UTF-16 text (Excel's Unicode Text); save it as CSV UTF-8"
        return None, RowError(str(path), first.line, f"header unusable: {problem}")
    try:
        return recognise(first.fields, path, fmt=fmt, program=program), None
    except UnknownFormat as error:
        return None, RowError(str(path), first.line, str(error))


_UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")


def _starts_as_utf16(path: Path) -> bool:
    """A UTF-16 byte-order mark: the file is readable text, only in an encoding we do not
    import, so the report says how to save it rather than "not UTF-8"."""
    try:
        with path.open("rb") as stream:
            return stream.read(2) in _UTF16_MARKS
    except OSError:
        return False


def _engine_of(target: Engine | sessionmaker[Session]) -> Engine:
    if isinstance(target, Engine):
        return target
    bind = target.kw.get("bind")
    if not isinstance(bind, Engine):
        raise TypeError("import_paths needs an Engine or a sessionmaker bound to one")
    return bind


def _import_file(
    writer: _Writer,
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
    with writer.short() as conn:
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
    batch_rows = BATCH_ROWS
    width = 0
    pending: list[tuple[int, tuple[Record, ...]]] = []
    batches = 0
    with path.open("rb") as stream, writer.for_file() as conn:
        rows = read_rows(stream)
        header = next(rows)
        assert header.fields is not None  # noqa: S101 - checked by _recognise_file
        width = len(header.fields)
        for line, fields, problem in rows:
            counts.rows += 1
            if fields is None:
                counts.add_error(RowError(file, line, problem or "unreadable row"))
                continue
            if len(fields) != width:
                counts.add_error(
                    RowError(file, line, f"row has {len(fields)} fields, the header has {width}")
                )
                continue
            try:
                pending.append((line, parse(fields)))
            except RowProblem as error:
                counts.add_error(RowError(file, line, str(error)))
                continue
            if len(pending) >= batch_rows:
                with writer.batch(conn):
                    _batch(conn, run, run_id, file, pending, counts)
                pending = []
                batches += 1
                if batches in _ANALYZE_AFTER:
                    writer.analyze()
                if progress is not None:
                    progress(Progress(file, counts.rows - before[0], time.monotonic() - started))
        if pending:
            with writer.batch(conn):
                _batch(conn, run, run_id, file, pending, counts)
    file_errors = [e for e in counts.errors[before[2] :] if e.file == file][:MAX_STORED_ERRORS]
    with writer.short() as conn:
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


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while rows are imported (as ``screen`` does).

    A batch makes tens of thousands of small acyclic objects (rows, records, tuples to write)
    and keeps them until it is written; the collector would rescan them over and over for
    nothing (a sixth of the import's time). Reference counting still frees every batch.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def import_paths(
    target: Engine | sessionmaker[Session],
    paths: Iterable[str | Path],
    *,
    fmt: str = "auto",
    program: str | None = None,
    progress: Callable[[Progress], None] | None = None,
    snapshot: bool = False,
    dry_run: bool = False,
    force: bool = False,
) -> ImportReport:
    """Import record files or program lists; bad rows are reported and the rest imported.

    Each batch commits on its own, so an interrupted import keeps what it wrote and running it
    again finishes the job (rows already stored are unchanged).

    With ``snapshot``, the files are a complete Case Harvester export of their case types (see
    :func:`_import_snapshot`); ``dry_run`` and ``force`` apply to snapshots only.
    """
    engine = _engine_of(target)
    counts = _Counts()
    started = time.monotonic()
    kinds = _recognised_files(paths, fmt, program, counts)
    if snapshot:
        return _import_snapshot(engine, kinds, counts, progress, started, dry_run, force)
    run = _Run(_Sql(engine.dialect))
    reports = _import_files(_Writer(engine), run, kinds, program, counts, progress, started)
    if reports:
        _vacuum_analyze(engine)
    return _report(counts, reports)


_Kinds = list[tuple[int, int, Path, FileKind]]


def _recognised_files(
    paths: Iterable[str | Path], fmt: str, program: str | None, counts: _Counts
) -> _Kinds:
    """Each readable file with its kind and import order; the others are reported."""
    kinds: _Kinds = []
    for position, raw in enumerate(paths):
        path = Path(raw)
        kind, error = _recognise_file(path, fmt, program)
        if error is not None:
            counts.add_error(error)
            continue
        assert kind is not None  # noqa: S101 - one of the two is always set
        kinds.append((_order(kind), position, path, kind))
    return kinds


def _import_files(
    writer: _Writer,
    run: _Run,
    kinds: _Kinds,
    program: str | None,
    counts: _Counts,
    progress: Callable[[Progress], None] | None,
    started: float,
) -> list[FileReport]:
    reports = []
    with _collector_paused():
        for _order_key, _position, path, kind in sorted(kinds, key=lambda item: item[:2]):
            reports.append(
                _import_file(writer, run, path, kind, program, counts, progress, started)
            )
    return reports


def _report(
    counts: _Counts, reports: list[FileReport], snapshot: SnapshotOutcome | None = None
) -> ImportReport:
    return ImportReport(
        files=tuple(reports),
        rows=counts.rows,
        cases_added=counts.cases_added,
        cases_updated=counts.cases_updated,
        charges_added=counts.charges_added,
        charges_updated=counts.charges_updated,
        defendants_added=counts.defendants_added,
        defendants_updated=counts.defendants_updated,
        program_entries_added=counts.entries_added,
        program_entries_updated=counts.entries_updated,
        unchanged=counts.unchanged,
        skipped=counts.skipped,
        error_count=counts.error_count,
        errors=tuple(counts.errors),
        snapshot=snapshot,
    )


# --- snapshots -------------------------------------------------------------------------------

_REJECTED = (
    "{count:,} rows or files were rejected (listed above) and a snapshot must read the whole "
    "export. Fix the export, or import it without --snapshot to add its good rows."
)


def _snapshot_case_types(kinds: _Kinds) -> tuple[tuple[str, ...], str | None]:
    """The case types a snapshot covers, or why the files are not a whole export of them.

    A type is covered when its case table and its charges table are both imported: with only
    one of the two, every case (or every charge) of the type would look gone.
    """
    case_tables: set[str] = set()
    charge_tables: set[str] = set()
    for _order_key, _position, path, kind in kinds:
        if kind.fmt != "caseharvester":
            return (), f"{path.name}: a snapshot reads Case Harvester tables only"
        if kind.table in CASE_HARVESTER_TYPES:
            case_tables.add(kind.table)
        elif kind.table.endswith("_charges"):
            charge_tables.add(kind.table.removesuffix("_charges"))
    for missing, present, name in (
        (case_tables - charge_tables, "case table", "{}_charges"),
        (charge_tables - case_tables, "charges table", "{}"),
    ):
        if missing:
            case_type = sorted(missing)[0]
            return (), (
                f"the {case_type.upper()} {present} came without its "
                f"{name.format(case_type)} table; a snapshot needs both"
            )
    if not case_tables:
        return (), "no Case Harvester case table to take a snapshot of"
    return tuple(sorted(case_tables)), None


#: ``record_cases.source`` of a case Case Harvester's export wrote (and no other list since).
HARVESTER_SOURCE = "caseharvester"


def _harvested(case_types: Sequence[str]) -> Any:
    """Stored cases a snapshot of these types may remove: imported from Case Harvester."""
    return and_(_cases.c.source == HARVESTER_SOURCE, _cases.c.case_type.in_(case_types))


def _in_export() -> Any:
    return exists().where(_seen_cases.c.case_number == _cases.c.case_number)


def _charge_in_export() -> Any:
    return exists().where(
        _seen_charges.c.case_number == _cases.c.case_number,
        _seen_charges.c.charge_number == _charges.c.charge_number,
    )


def _vanished_cases(case_types: Sequence[str]) -> Any:
    """Conditions on ``_cases``: of the snapshot's types, no longer in the export."""
    return and_(_harvested(case_types), ~_in_export())


def _vanished_charges(case_types: Sequence[str]) -> Any:
    """Conditions on ``_charges`` joined to ``_cases``: gone from a case the export holds."""
    return and_(_harvested(case_types), _in_export(), ~_charge_in_export())


def _not_kept_case() -> Any:
    return ~exists().where(_kept_cases.c.case_id == _cases.c.id)


def _not_kept_charge() -> Any:
    return ~exists().where(_kept_charges.c.charge_id == _charges.c.id)


def _gone_cases(case_types: Sequence[str]) -> Any:
    """Cases of the snapshot's types that the export no longer holds, and that we drop."""
    return select(_cases.c.id).where(_vanished_cases(case_types), _not_kept_case())


def _gone_charges(case_types: Sequence[str]) -> Any:
    """Charges the export no longer holds, of cases it still holds, that we drop."""
    return (
        select(_charges.c.id)
        .join(_cases, _cases.c.id == _charges.c.case_id)
        .where(_vanished_charges(case_types), _not_kept_charge())
    )


#: Charges the 2024 pardon covered (law file P7): possession, which Case Search now hides,
#: and paraphernalia, whose hiding the law file marks unsettled [U], so it is kept too.
PARDONED_CATEGORIES = frozenset({"cannabis_possession", "paraphernalia"})
#: Dispositions of a possession charge the 2024 pardon may have covered, so Case Search may
#: hide it (law file P7): a conviction, a PBJ (kept to be safe: the hiding law's reach over
#: PBJs is not settled in the law file) and an outcome we cannot read.
PARDON_MAY_HIDE = frozenset({"guilty", "pbj", "unknown"})


def _keep_hidden(conn: Connection, case_types: Sequence[str]) -> None:
    """Keep every vanished conviction the 2024 pardon covered, and a vanished case holding one.

    Since 2025 Case Search hides a possession charge the Governor pardoned, so it drops out
    of the export. That is hiding, not expungement: the conviction stays in police and CJIS
    records (law file P7, S18), and the person still needs the advice to petition for its
    expungement. Removing it would leave, say, a case's theft charge alone on screen. Only a
    conviction was pardoned; a possession charge that ended otherwise and vanished was
    expunged, and goes. A pardoned one that was also expunged stays, as before snapshots.
    """
    vanished = (
        select(
            _charges.c.id,
            _charges.c.case_id,
            _charges.c.description,
            _charges.c.statute,
            _charges.c.disposition,
        )
        .join(_cases, _cases.c.id == _charges.c.case_id)
        .where(or_(_vanished_cases(case_types), _vanished_charges(case_types)))
    )
    gone_case_ids = set(conn.scalars(select(_cases.c.id).where(_vanished_cases(case_types))))
    kept_charges: list[dict[str, int]] = []
    kept_cases: set[int] = set()
    for charge_id, case_id, description, statute, disposition in conn.execute(vanished):
        if classify_charge(description, statute) not in PARDONED_CATEGORIES:
            continue
        if normalize_disposition(disposition) not in PARDON_MAY_HIDE:
            continue  # not a conviction, so never pardoned nor hidden: it was expunged
        kept_charges.append({"charge_id": charge_id})
        if case_id in gone_case_ids:
            kept_cases.add(case_id)
    if kept_charges:
        conn.execute(insert(_kept_charges), kept_charges)
    if kept_cases:
        conn.execute(insert(_kept_cases), [{"case_id": case_id} for case_id in kept_cases])


def _per_type(conn: Connection, statement: Any) -> dict[str, int]:
    return {str(kind): int(n) for kind, n in conn.execute(statement)}


def _stored_per_type(conn: Connection, case_types: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Cases and charges each type holds before the snapshot (the base of the share)."""
    kind = _cases.c.case_type
    cases = _per_type(
        conn, select(kind, func.count()).where(_harvested(case_types)).group_by(kind)
    )
    charges = _per_type(
        conn,
        select(kind, func.count())
        .select_from(_charges.join(_cases, _cases.c.id == _charges.c.case_id))
        .where(_harvested(case_types))
        .group_by(kind),
    )
    return {t: (cases.get(t, 0), charges.get(t, 0)) for t in case_types}


def _removals(
    conn: Connection, case_types: Sequence[str], stored: dict[str, tuple[int, int]]
) -> tuple[TypeRemoval, ...]:
    kind = _cases.c.case_type
    by_charge = _charges.join(_cases, _cases.c.id == _charges.c.case_id)
    gone_cases = _per_type(
        conn,
        select(kind, func.count())
        .where(_vanished_cases(case_types), _not_kept_case())
        .group_by(kind),
    )
    gone_charges = _per_type(
        conn,
        select(kind, func.count())
        .select_from(by_charge)
        .where(_vanished_charges(case_types), _not_kept_charge())
        .group_by(kind),
    )
    kept = _per_type(
        conn,
        select(kind, func.count())
        .select_from(by_charge.join(_kept_charges, _kept_charges.c.charge_id == _charges.c.id))
        .group_by(kind),
    )
    return tuple(
        TypeRemoval(
            t,
            gone_cases.get(t, 0),
            stored[t][0],
            gone_charges.get(t, 0),
            stored[t][1],
            kept_possession=kept.get(t, 0),
        )
        for t in case_types
    )


def _remove_gone(conn: Connection, case_types: Sequence[str]) -> None:
    """Remove what the export no longer holds, with everything that hangs off it.

    Charges and people are deleted explicitly rather than left to ON DELETE CASCADE, so the
    result does not depend on SQLite's foreign-key pragma. Program entries are kept: they are
    an organisation's own list (keyed by case number, not by our row), not Case Harvester's.
    """
    conn.execute(delete(_charges).where(_charges.c.id.in_(_gone_charges(case_types))))
    gone = _gone_cases(case_types)
    conn.execute(delete(_defendants).where(_defendants.c.case_id.in_(gone)))
    conn.execute(delete(_charges).where(_charges.c.case_id.in_(gone)))
    conn.execute(delete(_cases).where(_cases.c.id.in_(gone)))
    # A case left without charges is never shown; its people go (as for expunged charges).
    conn.execute(
        delete(_defendants).where(
            _defendants.c.case_id.in_(select(_cases.c.id).where(_harvested(case_types))),
            ~exists().where(_charges.c.case_id == _defendants.c.case_id),
        )
    )


def _too_many(removals: Sequence[TypeRemoval]) -> str | None:
    over = [removal for removal in removals if removal.too_many]
    if not over:
        return None
    share = SNAPSHOT_MAX_REMOVED_TEXT
    listed = "; ".join(removal.describe() for removal in over)
    return (
        f"the snapshot would remove more than {share} of the stored cases or charges of a "
        f"case type ({listed}). Was the download cut short? Check the export, or run again "
        "with --force to remove them."
    )


def _import_snapshot(
    engine: Engine,
    kinds: _Kinds,
    counts: _Counts,
    progress: Callable[[Progress], None] | None,
    started: float,
    dry_run: bool,
    force: bool,
) -> ImportReport:
    """Import a whole Case Harvester export, then remove what it no longer holds.

    Cases imported from Case Harvester for the export's case types that are not in it (an
    expunged case), and the charges it no longer lists for the cases it still holds, are
    removed, except the pardoned convictions Case Search hides (``_keep_hidden``). A case
    another list has written is never touched (``_kept_source``). The import is one transaction:
    a rejected row, a refusal, a dry run or an error leaves the database as it was.
    """
    case_types, problem = _snapshot_case_types(kinds)
    if counts.error_count:
        problem = _REJECTED.format(count=counts.error_count)
    if problem is not None:
        outcome = SnapshotOutcome(case_types, (), applied=False, dry_run=dry_run, refused=problem)
        return _report(counts, [], outcome)
    run = _Run(_Sql(engine.dialect), snapshot=True)
    with _bulk_connection(engine) as conn, conn.begin() as transaction:
        _seen_metadata.create_all(conn)
        for table in _seen_metadata.sorted_tables:
            conn.execute(delete(table))
        stored = _stored_per_type(conn, case_types)
        writer = _Writer(engine, conn)
        reports = _import_files(writer, run, kinds, None, counts, progress, started)
        if engine.dialect.name == "postgresql":  # autovacuum never analyses temporary tables
            for table in (_seen_cases, _seen_charges):
                conn.exec_driver_sql(f"ANALYZE {table.name}")
        _keep_hidden(conn, case_types)
        removals = _removals(conn, case_types, stored)
        if counts.error_count:
            problem = _REJECTED.format(count=counts.error_count)
        elif not force:
            problem = _too_many(removals)
        apply = problem is None and not dry_run
        if apply:
            _remove_gone(conn, case_types)
        _seen_metadata.drop_all(conn)
        if not apply:
            transaction.rollback()
    if apply:
        _vacuum_analyze(engine)
    outcome = SnapshotOutcome(case_types, removals, apply, dry_run, problem)
    return _report(counts, reports, outcome)


def count_cases(session_or_conn: Session | Connection) -> int:
    """How many cases the store holds (used by ``demo-data --if-empty``)."""
    return int(session_or_conn.execute(select(func.count()).select_from(_cases)).scalar_one())
