"""Screening a record CSV (one row per charge, DESIGN 5.4) into one result row per case.

The batch path of ``recordcheck screen``: it reads a large file once, checks every cell, and
runs the rules engine once per distinct set of facts. This module is compiled with mypyc when
the package is built with a C compiler (setup.py): keep it free of click and Flask, and keep
its annotations true, because the compiled code checks them.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import itertools
import operator
import re
from collections.abc import Callable, Container, Hashable, Iterable, Iterator, Sequence
from typing import IO, Final, NamedTuple, TypeVar, cast

from knowledge import PATHWAY_IDS, InputError
from knowledge import screen as run_screen
from knowledge.classify import classify_charge, disposition_detail
from knowledge.engine import CaseFacts, CaseKeyHead, ChargeFacts, decide, key_maker
from knowledge.model import (
    COURTS,
    CaseInput,
    Charge,
    ChargeInput,
    Note,
    PathwayResult,
    PersonInput,
    RecordStatus,
    Verdict,
)
from knowledge.render import court_name, render_note
from knowledge.rules import RULES_VERSION
from knowledge.screening import MAX_CHARGES, check_charge, parse_county, parse_date

CSV_COLUMNS = (
    "case_number", "court", "county", "case_status", "filing_date", "defendant_name",
    "date_of_birth", "charge_number", "description", "statute", "offense_date", "disposition",
    "disposition_date", "sentence_completed_on", "probation_violation", "expunged",
)  # fmt: skip
OPTIONAL_CSV_COLUMNS = ("pending_case", "later_convictions")
RESULT_COLUMNS = (
    "case_number",
    "as_of",
    "rules_version",
    "verdict",
    "summary",
    *(f"{pid}_{part}" for pid in PATHWAY_IDS for part in ("status", "eligible_on")),
    "error",
)
# `expunged` is a charge's column; it is here so that a case whose charges differ in it is
# read again by `_case_from_rows`, which leaves the expunged charges out (`_unexpunged`).
_CASE_LEVEL = (
    "court", "county", "case_status", "date_of_birth", "expunged", "pending_case",
    "later_convictions",
)  # fmt: skip
_CHARGE_CELLS = (
    "description", "statute", "disposition", "offense_date", "disposition_date",
    "sentence_completed_on", "probation_violation",
)  # fmt: skip
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


class Reporter:
    """Collects bad-input messages for stderr; any one makes the exit status 2."""

    def __init__(self, echo: Callable[[str], object]) -> None:
        self.failed = 0
        self._echo = echo

    def bad(self, where: str, field: str, message: str) -> None:
        """Report one bad input (its place, the field, what is wrong)."""
        self.failed += 1
        detail = f"{field}: {message}" if field else message
        self._echo(f"error: {where}: {detail}")


@functools.lru_cache(maxsize=65536)
def _cached_date(value: str) -> dt.date | None:
    return parse_date(value.strip(), "")


def _csv_date(value: str, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        return _cached_date(value)
    except InputError as exc:
        raise InputError(field, exc.message) from None


def _csv_bool(value: str, field: str) -> bool | None:
    v = value.strip().lower()
    if not v:
        return None
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise InputError(field, "must be true or false (or empty)")


def _csv_text(value: str, field: str, limit: int = 500) -> str | None:
    v = value.strip()
    if len(v) > limit:
        raise InputError(field, f"is longer than {limit} characters")
    return v or None


@functools.lru_cache(maxsize=256)
def _csv_court(value: str) -> str | None:
    v = value.strip().lower().removesuffix(" court")
    if not v:
        return None
    if v not in COURTS:
        raise InputError("court", f"must be one of {', '.join(COURTS)}, or empty")
    return v


@functools.lru_cache(maxsize=256)
def _csv_county(value: str) -> str | None:
    return parse_county(value)


@functools.lru_cache(maxsize=64)
def _csv_status(value: str) -> str | None:
    v = value.strip().lower()
    if not v:
        return None
    if v not in ("open", "closed"):
        raise InputError("case_status", "must be open, closed, or empty")
    return v


def _charge_from_row(row: list[str], col: _Columns) -> ChargeInput:
    """One charge from its CSV row; InputError fields are relative to the charge."""
    try:
        description, statute, disposition = _charge_texts(
            row[col.description], row[col.statute], row[col.disposition]
        )
        return ChargeInput(
            description=description,
            statute=statute,
            disposition=disposition,
            offense_date=_cached_date(row[col.offense_date]),
            disposition_date=_cached_date(row[col.disposition_date]),
            sentence_completed_on=_cached_date(row[col.sentence_completed_on]),
            probation_violation=_csv_bool(row[col.probation_violation], ""),
        )
    except InputError:
        return _named_charge_from_row(row, col)  # the same checks, naming the bad field


def _named_charge_from_row(row: list[str], col: _Columns) -> ChargeInput:
    return ChargeInput(
        description=_csv_text(row[col.description], "description"),
        statute=_csv_text(row[col.statute], "statute", 100),
        offense_date=_csv_date(row[col.offense_date], "offense_date"),
        disposition=_csv_text(row[col.disposition], "disposition", 200),
        disposition_date=_csv_date(row[col.disposition_date], "disposition_date"),
        sentence_completed_on=_csv_date(row[col.sentence_completed_on], "sentence_completed_on"),
        probation_violation=_csv_bool(row[col.probation_violation], "probation_violation"),
    )


@functools.lru_cache(maxsize=16384)
def _charge_texts(
    description: str, statute: str, disposition: str
) -> tuple[str | None, str | None, str | None]:
    """A charge's three text cells, checked (repeated a great deal in a record file)."""
    return (
        _csv_text(description, "description"),
        _csv_text(statute, "statute", 100),
        _csv_text(disposition, "disposition", 200),
    )


def _case_from_rows(rows: list[list[str]], lines: list[int], col: _Columns) -> CaseInput:
    first = rows[0]
    if len(rows) > 1:
        same = col.case_cells(first)
        if any(col.case_cells(r) != same for r in rows):
            _check_case_level(rows, lines, col)
    if len(rows) > MAX_CHARGES:
        raise InputError("charges", f"has more than {MAX_CHARGES} charges")
    seen: set[str] = set()
    charges = []
    flags: list[bool | None] = []
    for i, row in enumerate(rows):
        number = row[col.charge_number].strip()
        if number:
            if number in seen:
                raise InputError(
                    f"charges[{i}].charge_number", f"{number} appears twice (line {lines[i]})"
                )
            seen.add(number)
        try:
            charge = _charge_from_row(row, col)
            flags.append(_csv_bool(row[col.expunged], "expunged"))
        except InputError as exc:
            raise InputError(f"charges[{i}].{exc.field}", exc.message) from None
        charges.append(check_charge(charge, f"charges[{i}]"))
    kept, expunged = _unexpunged(charges, flags)
    later = _later_convictions(first[col.later_convictions])
    return CaseInput(
        charges=kept,
        case_number=_csv_text(first[col.case_number], "case_number", 64),
        court=_csv_court(first[col.court]),
        county=_csv_county(first[col.county]),
        case_status=_csv_status(first[col.case_status]),
        person=_person(
            _csv_date(first[col.date_of_birth], "date_of_birth"),
            _csv_bool(first[col.pending_case], "pending_case"),
            later,
        ),
        record_status=_record_status(expunged),
    )


def _unexpunged(
    charges: list[ChargeInput], flags: list[bool | None]
) -> tuple[tuple[ChargeInput, ...], bool | None]:
    """The charges not marked expunged, and what the record says of the case's expungement.

    `expunged` is a charge's column (DESIGN 5.4): an expunged charge is left out of the
    screening. When every charge is expunged the case is (already cleared); otherwise the
    remaining charges' flags say it, or it is unknown when they differ (false and empty).
    """
    kept = tuple(c for c, flag in zip(charges, flags, strict=True) if flag is not True)
    if not kept:
        return tuple(charges), True
    rest = {flag for flag in flags if flag is not True}
    return kept, rest.pop() if len(rest) == 1 else None


def _later_convictions(cell: str) -> tuple[dt.date, ...] | None:
    """A ";"-separated list of dates; an empty cell means not known."""
    later_raw = cell.strip()
    if not later_raw:
        return None
    return tuple(
        d
        for part in later_raw.split(";")
        if (d := _csv_date(part, "later_convictions")) is not None
    )


def _check_case_level(rows: list[list[str]], lines: list[int], col: _Columns) -> None:
    """Refuse a case whose rows disagree on a case-level column (spaces aside).

    `expunged` may differ: it belongs to each charge (see `_unexpunged`).
    """
    for key, i in col.case_level:
        if key != "expunged" and len({r[i].strip() for r in rows}) > 1:
            raise InputError(key, f"rows of the same case disagree (lines {lines[0]}-{lines[-1]})")


@functools.lru_cache(maxsize=4096)
def _person(
    dob: dt.date | None, pending: bool | None, later: tuple[dt.date, ...] | None
) -> PersonInput:
    return PersonInput(date_of_birth=dob, pending_case=pending, later_convictions=later)


@functools.lru_cache(maxsize=4)
def _record_status(expunged: bool | None) -> RecordStatus:
    return RecordStatus(expunged=expunged)


class _Columns:
    """Where each known column is in a CSV row; an absent column points at an empty cell."""

    def __init__(self, header: list[str]) -> None:
        self.width = len(header)
        missing = len(header)  # every row gets one empty cell appended at this index
        where = {name: i for i, name in enumerate(header)}  # _header refuses a repeated name

        def at(name: str) -> int:
            return where.get(name, missing)

        self.case_number = at("case_number")
        self.court = at("court")
        self.county = at("county")
        self.case_status = at("case_status")
        self.date_of_birth = at("date_of_birth")
        self.expunged = at("expunged")
        self.pending_case = at("pending_case")
        self.later_convictions = at("later_convictions")
        self.charge_number = at("charge_number")
        self.description = at("description")
        self.statute = at("statute")
        self.offense_date = at("offense_date")
        self.disposition = at("disposition")
        self.disposition_date = at("disposition_date")
        self.sentence_completed_on = at("sentence_completed_on")
        self.probation_violation = at("probation_violation")
        self.case_level = tuple((key, at(key)) for key in _CASE_LEVEL)
        self.case_cells = operator.itemgetter(*(i for _, i in self.case_level))
        self.charge_cells = operator.itemgetter(*(at(key) for key in _CHARGE_CELLS))


def _header(reader: Iterator[list[str]], reporter: Reporter | None) -> _Columns | None:
    """Read and check the header row; None (reported) if the file cannot be screened."""
    try:
        header = next(reader)
    except StopIteration:
        if reporter:
            reporter.bad("input", "", "is empty; expected a CSV header row")
        return None
    except csv.Error as exc:
        if reporter:
            reporter.bad("input", "", f"CSV header row is not readable CSV ({exc})")
        return None
    header = [h.strip().lstrip("\ufeff") for h in header]
    missing = [c for c in ("case_number", "description", "disposition") if c not in header]
    if missing:
        if reporter:
            reporter.bad("input", "", f"CSV header lacks {', '.join(missing)}")
        return None
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if repeated:
        if reporter:
            reporter.bad("input", "", f"CSV header names a column twice: {', '.join(repeated)}")
        return None
    known = set(CSV_COLUMNS) | set(OPTIONAL_CSV_COLUMNS)
    unknown = [h for h in header if h not in known]
    if unknown:
        if reporter:
            reporter.bad("input", "", f"unknown CSV columns: {', '.join(unknown)}")
        return None
    return _Columns(header)


def _case_number(
    row: list[str], line_no: int, col: _Columns, reporter: Reporter | None
) -> str | None:
    """The case number of a charge row; None for a blank or bad line (reported, if asked).

    A charge row gets one empty cell appended, where absent columns point (see _Columns).
    """
    width = col.width
    if len(row) != width:
        if row and (len(row) != 1 or row[0].strip()) and reporter:
            reporter.bad(f"line {line_no}", "", f"has {len(row)} fields, expected {width}")
        return None
    if width == 1 and not row[0].strip():
        return None
    number = row[col.case_number].strip()
    if not number:
        if reporter:
            reporter.bad(f"line {line_no}", "case_number", "is empty")
        return None
    row.append("")
    return number


class _CsvCase:
    """One case of a record CSV after the first pass: what the rules read of each row.

    The rows themselves are not kept (holding every row of a large file costs more than
    screening it); a case whose cells need a closer look is read again (see _rows_of).
    """

    __slots__ = ("number", "cells", "facts", "charge_numbers", "agree")

    def __init__(self, number: str, cells: tuple[str, ...]) -> None:
        self.number = number
        self.cells = cells  # the case-level cells of its first row
        self.facts: list[ChargeFacts | None] = []  # None: a cell failed its check
        self.charge_numbers: list[str] = []
        self.agree = True  # every row has the same case-level cells as the first


def _read_cases(lines: Iterable[str], reporter: Reporter) -> tuple[list[_CsvCase], _Columns]:
    """First pass: every case, in the order its first row appears, and the columns."""
    reader = csv.reader(lines)
    col = _header(reader, reporter)
    if col is None:
        return [], _Columns([])
    cases: dict[str, _CsvCase] = {}
    memo = _CellMemo()
    case_cells, charge_number = col.case_cells, col.charge_number
    line_no = 1
    while True:  # the same reader goes on after a row it cannot read (see _unreadable)
        try:
            for row in reader:
                line_no += 1
                number = _case_number(row, line_no, col, reporter)
                if number is None:
                    continue
                facts = memo.facts(row, col)
                case = cases.get(number)
                if case is None:
                    case = cases[number] = _CsvCase(number, case_cells(row))
                elif case.agree and case_cells(row) != case.cells:
                    case.agree = False
                case.facts.append(facts)
                case.charge_numbers.append(row[charge_number])
            break
        except csv.Error as exc:
            line_no += 1
            _unreadable(line_no, exc, reporter)
    return list(cases.values()), col


def _unreadable(line_no: int, exc: csv.Error, reporter: Reporter | None) -> None:
    """Report a row the csv module refuses (a cell over its 128 KiB limit, say).

    csv.reader drops that row and reads on from the next line, so the rest of the file is
    still screened; both passes count the dropped row, so their line numbers agree.
    """
    if reporter:
        reporter.bad(f"line {line_no}", "", f"is not readable CSV ({exc})")


_BAD_DATE: Final = dt.date.min  # parse_date never returns it (years before 1900 are refused)
_UNSEEN: Final = ("", "", False)  # not in the memo yet (no category is empty)


class _CellMemo:
    """The checked value of each distinct cell of one file, for the first pass.

    A record file repeats a few descriptions, dispositions and dates a great deal, so each is
    checked (as `_charge_from_row` checks it) and classified once. Plain dicts rather than
    lru_cache: cheaper per row, and they live only as long as the file; a memory that
    reaches LIMIT entries (a forged file of all-different cells) starts again.
    """

    LIMIT: Final = 65_536

    def __init__(self) -> None:
        self.kinds: dict[tuple[str, str, str], tuple[str, str, bool] | None] = {}
        self.dates: dict[str, dt.date | None] = {}
        self.flags: dict[str, bool | None] = {}

    def facts(self, row: list[str], col: _Columns) -> ChargeFacts | None:
        """What the rules read of one charge row (`knowledge.engine.charge_facts`).

        None when a cell fails its check; the second pass then names the field.
        """
        kind = self.kind(row[col.description], row[col.statute], row[col.disposition])
        offense = self.date(row[col.offense_date])
        disposed = self.date(row[col.disposition_date])
        done = self.date(row[col.sentence_completed_on])
        if kind is None or offense is _BAD_DATE or disposed is _BAD_DATE or done is _BAD_DATE:
            return None
        flags = self.flags
        flag = row[col.probation_violation]
        if flag in flags:
            violation = flags[flag]
        else:
            try:
                violation = _csv_bool(flag, "")
            except InputError:
                return None
            if len(flags) >= self.LIMIT:
                flags.clear()
            flags[flag] = violation
        if offense is not None and disposed is not None and offense > disposed:
            return None
        category, normal, treatment = kind
        return (category, normal, treatment, violation, offense, disposed, done)

    def kind(
        self, description: str, statute: str, disposition: str
    ) -> tuple[str, str, bool] | None:
        """Category, normalised disposition and treatment nolle; None if a cell is bad."""
        key = (description, statute, disposition)
        kinds = self.kinds
        found = kinds.get(key, _UNSEEN)
        if found is None or found[0]:  # a bad cell, or a category: seen before
            return found
        try:
            text, cite, raw = _charge_texts(description, statute, disposition)
        except InputError:
            found = None
        else:
            normal, treatment = disposition_detail(raw)
            found = (classify_charge(text, cite), normal, treatment)
        if len(kinds) >= self.LIMIT:
            kinds.clear()
        kinds[key] = found
        return found

    def date(self, cell: str) -> dt.date | None:
        """The date in a cell, None for an empty one, _BAD_DATE for one that fails its check."""
        if not cell:
            return None
        dates = self.dates
        day = dates.get(cell, _BAD_DATE)
        if day is _BAD_DATE and cell not in dates:
            try:
                day = parse_date(cell.strip(), "") or None
            except InputError:
                day = _BAD_DATE
            if len(dates) >= self.LIMIT:
                dates.clear()
            dates[cell] = day
        return day


def _rows_of(
    lines: Iterable[str], col: _Columns, wanted: Container[str]
) -> dict[str, tuple[list[list[str]], list[int]]]:
    """Second pass, over the same lines: the rows and line numbers of the wanted cases."""
    reader = csv.reader(lines)
    next(reader)  # the header, checked in the first pass
    found: dict[str, tuple[list[list[str]], list[int]]] = {}
    line_no = 1
    while True:
        try:
            for row in reader:
                line_no += 1
                number = _case_number(row, line_no, col, None)
                if number is not None and number in wanted:
                    rows, numbers = found.setdefault(number, ([], []))
                    rows.append(row)
                    numbers.append(line_no)
            break
        except csv.Error:
            line_no += 1  # reported in the first pass
    return found


def _keeping(text: IO[str], kept: list[str]) -> Iterator[str]:
    """The lines of `text`, each also added to `kept` (for a second pass)."""
    for line in text:
        kept.append(line)
        yield line


@functools.lru_cache(maxsize=1024)
def _court_context(county: str | None, court: str | None) -> dict[str, str]:
    return {"court": court_name(county, court, "en")}


@functools.lru_cache(maxsize=4096)
def _summary_cell(summary: Note, county: str | None, court: str | None) -> str:
    return _csv_cell(render_note(summary, "en", _court_context(county, court)))


@functools.lru_cache(maxsize=65536)
def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def screen_csv_stream(text: IO[str], as_of: dt.date, out: IO[str], reporter: Reporter) -> None:
    """Screen a record CSV (one row per charge) and write one result row per case.

    Cases come out in the order their first row appears. A case whose cells all pass their
    checks is screened from what the first pass kept; any other is read again and goes
    through `_case_from_rows`, which names the first bad field (exit status 2).
    """
    seekable = text.seekable()
    start = text.tell() if seekable else 0
    kept: list[str] = []  # the lines, when the file cannot be read again
    cases, col = _read_cases(text if seekable else _keeping(text, kept), reporter)
    out.write(_csv_line(RESULT_COLUMNS))  # after the first pass: a decoding error writes nothing
    batch = _CsvBatch(as_of)
    lines_out = [batch.screen(case) for case in cases]
    again = {case.number: i for i, case in enumerate(cases) if lines_out[i] is None}
    if again:
        if seekable:
            text.seek(start)
        found = _rows_of(text if seekable else kept, col, again)
        for number, i in again.items():  # in case order, so errors are reported in order
            rows, numbers = found[number]
            lines_out[i] = batch.screen_or_explain(number, rows, numbers, col, reporter)
    for first in range(0, len(lines_out), 1024):
        out.write("".join(line or "" for line in lines_out[first : first + 1024]))


class _CsvBatch:
    """Screens the cases of one record CSV, reusing answers and result rows between cases.

    The engine gives the same pathways and verdict to cases with the same key
    (`knowledge.engine.case_key`); the statuses, dates and verdict do not depend on the
    order of the charges; the summary adds only the court's name. So the engine runs once
    per key with its charges in any order (its statuses and dates kept as ready CSV text),
    and a result row (all but the case number) is made once per (that key, county, court).
    The key comes from the checked cells; charges are built only for a new key.
    """

    MAX_ROWS: Final = 50_000  # result rows kept (about 1 KB each with their keys), and answers

    def __init__(self, as_of: dt.date) -> None:
        self.as_of = as_of
        self.as_of_text = as_of.isoformat()
        self.head = f",{self.as_of_text},{_csv_cell(RULES_VERSION)}"
        self.tails: dict[Hashable, str] = {}
        self.answers: dict[Hashable, tuple[Verdict, str]] = {}
        self.keys = key_maker(as_of)
        # Per distinct set of case-level cells: the checked head, its part of the key, and a
        # number for that part (unique in this batch: cheaper to hash than the part itself).
        self.heads: dict[tuple[str, ...], tuple[_CaseHead, CaseKeyHead, int]] = {}
        self.head_numbers: dict[CaseKeyHead, int] = {}
        self.next_head_number = 0
        self.bad_heads: set[tuple[str, ...]] = set()

    def screen(self, case: _CsvCase) -> str | None:
        """The result line of a case whose cells all pass their checks; else None."""
        if not _fault_free(case):
            return None
        heads = self.heads.get(case.cells) or self.case_head(case.cells)
        if heads is None:
            return None
        head, key_head, head_number = heads
        checked = cast("list[ChargeFacts]", case.facts)
        key = self.keys.key(key_head, checked)
        any_order = (head_number, _in_any_order(key[1]))
        row_key = (any_order, head.county, head.court)
        tail = self.tails.get(row_key)
        if tail is None:
            answer = self.answers.get(any_order)
            if answer is None:
                charges = tuple(
                    Charge(i, category, disposition, offense, disposed, done, violation, treat)
                    for i, (category, disposition, treat, violation, offense, disposed, done) in (
                        enumerate(checked)
                    )
                )
                pathways, verdict = decide(head, charges, self.as_of)
                answer = _remember(self.answers, any_order, (verdict, _pathway_cells(pathways)))
            tail = _remember(self.tails, row_key, self.tail(head, *answer))
        return _csv_cell(case.number) + tail

    def case_head(self, cells: tuple[str, ...]) -> tuple[_CaseHead, CaseKeyHead, int] | None:
        """The checked case-level cells and their part of the key; None if a cell is bad."""
        if cells in self.bad_heads:
            return None
        try:
            head = _CaseHead(*_case_level(cells))
        except InputError:
            self.bad_heads.add(cells)
            return None
        key_head = self.keys.head(
            head.court, head.county, head.case_status, head.person, head.record_status
        )
        number = self.head_numbers.get(key_head)
        if number is None:  # never reused, so a number stands for one head even after eviction
            number = _remember(self.head_numbers, key_head, self.next_head_number)
            self.next_head_number += 1
        return _remember(self.heads, cells, (head, key_head, number))

    def screen_or_explain(
        self,
        number: str,
        rows: list[list[str]],
        lines: list[int],
        col: _Columns,
        reporter: Reporter,
    ) -> str:
        """The slow path: `_case_from_rows` names the first bad field, as it always has."""
        try:
            case = _case_from_rows(rows, lines, col)
        except InputError as exc:
            reporter.bad(f"case {number} (line {lines[0]})", exc.field, exc.message)
            blank = [""] * (2 * len(PATHWAY_IDS))
            error = f"{exc.field}: {exc.message}"
            return _csv_line([number, self.as_of_text, "", "", "", *blank, error])
        result = run_screen(case, self.as_of)  # rows that differ only in spaces, say
        return _csv_cell(number) + self.tail(case, result.verdict, _pathway_cells(result.pathways))

    def tail(self, case: CaseFacts, verdict: Verdict, pathway_cells: str) -> str:
        """A result row without the case number (from its first comma on), as csv.writer.

        The summary is the one cell that may need quoting; the last cell, the error, is empty.
        """
        summary = _summary_cell(verdict.summary, case.county, case.court)
        return f"{self.head},{verdict.status},{summary},{pathway_cells},\n"


def _pathway_cells(pathways: Sequence[PathwayResult]) -> str:
    """Each pathway's status and date as CSV cells (closed words and ISO dates: never quoted)."""
    cells = []
    for p in pathways:
        cells.append(p.status)
        cells.append(_iso(p.eligible_on))
    return ",".join(cells)


def _in_any_order(charges: tuple[Hashable, ...]) -> tuple[Hashable, ...]:
    """The charges' facts in an order that does not depend on the order of the rows.

    A result row does not depend on the order of the charges (the statuses and dates of the
    pathways and the verdict look at them as a set: tests/knowledge/test_properties.py), so
    cases that list the same charges in another order share it. Sorting by hash is enough:
    equal facts have equal hashes; facts whose hashes collide keep their row order, which at
    worst misses a row to share, and the facts themselves stay in the key.
    """
    return charges if len(charges) < 2 else tuple(sorted(charges, key=hash))


_K = TypeVar("_K", bound=Hashable)
_T = TypeVar("_T")


def _remember(memory: dict[_K, _T], key: _K, value: _T) -> _T:
    """Keep `value` under `key`; when full, forget the oldest half (bounded memory)."""
    if len(memory) >= _CsvBatch.MAX_ROWS:
        for old in list(itertools.islice(memory, _CsvBatch.MAX_ROWS // 2)):
            del memory[old]
    memory[key] = value
    return value


class _CaseHead(NamedTuple):
    """The case-level facts of a CSV case (`knowledge.engine.CaseFacts`)."""

    court: str | None
    county: str | None
    case_status: str | None
    person: PersonInput
    record_status: RecordStatus


def _fault_free(case: _CsvCase) -> bool:
    """Every cell passed its check, the rows agree and no charge number repeats.

    Otherwise `_case_from_rows` looks again: it names the problem, or accepts rows that
    differ only in spaces.
    """
    facts = case.facts
    if not case.agree or len(facts) > MAX_CHARGES or len(case.number) > 64 or None in facts:
        return False
    if len(facts) > 1:
        numbers = [n for cell in case.charge_numbers if (n := cell.strip())]
        if len(set(numbers)) != len(numbers):
            return False
    return True


def _case_level(
    cells: tuple[str, ...],
) -> tuple[str | None, str | None, str | None, PersonInput, RecordStatus]:
    """The case-level cells (`_CASE_LEVEL` order), checked as `_case_from_rows` checks them.

    `_CsvBatch.case_head` keeps the answer per distinct set of cells.
    """
    court, county, status, dob, expunged, pending, later = cells
    return (
        _csv_court(court),
        _csv_county(county),
        _csv_status(status),
        _person(
            _csv_date(dob, "date_of_birth"),
            _csv_bool(pending, "pending_case"),
            _later_convictions(later),
        ),
        _record_status(_csv_bool(expunged, "expunged")),
    )


def _csv_line(cells: Sequence[str]) -> str:
    """One row exactly as csv.writer writes it (QUOTE_MINIMAL, "\\n" line ends)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


_PLAIN_CELL = re.compile(r"[A-Za-z0-9 ._/-]+")


def _csv_cell(value: str) -> str:
    """One cell as csv.writer writes it inside a row of several (quoted only when needed)."""
    if not value or value.isalnum() or _PLAIN_CELL.fullmatch(value):
        return value  # letters and digits (any script) never need quoting
    return _csv_line([value])[:-1]
