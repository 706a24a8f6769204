"""``recordcheck screen``: screen cases from JSON, JSON Lines or a record CSV (DESIGN 5.2).

JSON object in, object out; array in, array out; JSON Lines in, JSON Lines out; a ``.csv``
path (one row per charge, DESIGN 5.4) gives a CSV with one row per case. A bad case is
reported on stderr with its field, the others are still screened, and the exit status is 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import json
import sys
from collections.abc import Iterator
from typing import IO, Any
from zoneinfo import ZoneInfo

import click

from knowledge import PATHWAY_IDS, InputError, parse_case
from knowledge import screen as run_screen
from knowledge.model import COURTS, CaseInput, ChargeInput, PersonInput, RecordStatus
from knowledge.render import court_name, render_note
from knowledge.screening import MAX_CHARGES, check_charge, parse_county, parse_date

BALTIMORE = ZoneInfo("America/New_York")
MAX_JSON_BYTES = 256 * 1024 * 1024
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
_CASE_LEVEL = (
    "court", "county", "case_status", "date_of_birth", "expunged", "pending_case",
    "later_convictions",
)  # fmt: skip
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


def today_in_baltimore() -> dt.date:
    """Today's date where the courts are (the engine never reads the clock)."""
    return dt.datetime.now(tz=BALTIMORE).date()


class DuplicateKeyError(ValueError):
    """A JSON object names the same key twice (forged or broken input)."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKeyError(f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def loads_strict(text: str | bytes) -> Any:
    """json.loads that refuses duplicate keys, NaN and Infinity."""

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=no_constants)


def _label(index: int | None, case_number: object) -> str:
    where = f"case {index + 1}" if index is not None else "case"
    if isinstance(case_number, str) and case_number.strip():
        where += f" ({case_number.strip()[:64]})"
    return where


def _error_object(index: int | None, data: object, exc: InputError) -> dict[str, object]:
    number = data.get("case_number") if isinstance(data, dict) else None
    return {
        "case_number": number if isinstance(number, str) else None,
        "index": index,
        "error": exc.message,
        "field": exc.field,
    }


class _Reporter:
    """Collects bad-input messages for stderr; any one makes the exit status 2."""

    def __init__(self) -> None:
        self.failed = 0

    def bad(self, where: str, field: str, message: str) -> None:
        self.failed += 1
        detail = f"{field}: {message}" if field else message
        click.echo(f"error: {where}: {detail}", err=True)


def _screen_one(
    data: object, index: int | None, as_of: dt.date, reporter: _Reporter
) -> dict[str, object]:
    try:
        case = parse_case(data)
    except InputError as exc:
        number = data.get("case_number") if isinstance(data, dict) else None
        reporter.bad(_label(index, number), exc.field, exc.message)
        return _error_object(index, data, exc)
    return run_screen(case, case.as_of or as_of).to_json()


def _decode(raw: bytes, reporter: _Reporter) -> str | None:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        reporter.bad("input", "", f"is not UTF-8 text (bad byte at position {exc.start})")
        return None


def _json_mode(raw: bytes, as_of: dt.date, out: IO[str], reporter: _Reporter) -> None:
    text = _decode(raw, reporter)
    if text is None:
        return
    if not text.strip():
        reporter.bad("input", "", "is empty; expected a JSON object, array or JSON Lines")
        return
    try:
        data = loads_strict(text)
    except ValueError as whole_error:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if len(lines) > 1 and text.lstrip().startswith("{"):
            _json_lines(lines, as_of, out, reporter)
            return
        reporter.bad("input", "", f"is not valid JSON ({whole_error})")
        return
    if isinstance(data, list):
        results = [_screen_one(item, i, as_of, reporter) for i, item in enumerate(data)]
        json.dump(results, out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        result = _screen_one(data, None, as_of, reporter)
        json.dump(result, out, ensure_ascii=False, indent=2)
        out.write("\n")


def _json_lines(lines: list[str], as_of: dt.date, out: IO[str], reporter: _Reporter) -> None:
    for i, line in enumerate(lines):
        try:
            data = loads_strict(line)
        except ValueError as exc:
            reporter.bad(f"line {i + 1}", "", f"is not valid JSON ({exc})")
            result: dict[str, object] = {"index": i, "error": "not valid JSON", "field": ""}
        else:
            result = _screen_one(data, i, as_of, reporter)
        out.write(json.dumps(result, ensure_ascii=False))
        out.write("\n")


# --- CSV -----------------------------------------------------------------------------------


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


def _case_from_rows(rows: list[dict[str, str]], lines: list[int]) -> CaseInput:
    first = rows[0]
    if len(rows) > 1:
        for key in _CASE_LEVEL:
            values = {r.get(key, "").strip() for r in rows}
            if len(values) > 1:
                raise InputError(
                    key, f"rows of the same case disagree (lines {lines[0]}-{lines[-1]})"
                )
    if len(rows) > MAX_CHARGES:
        raise InputError("charges", f"has more than {MAX_CHARGES} charges")
    seen: set[str] = set()
    charges = []
    for i, row in enumerate(rows):
        number = row.get("charge_number", "").strip()
        if number:
            if number in seen:
                raise InputError(
                    f"charges[{i}].charge_number", f"{number} appears twice (line {lines[i]})"
                )
            seen.add(number)
        f = f"charges[{i}]"
        charges.append(
            check_charge(
                ChargeInput(
                    description=_csv_text(row.get("description", ""), f"{f}.description"),
                    statute=_csv_text(row.get("statute", ""), f"{f}.statute", 100),
                    offense_date=_csv_date(row.get("offense_date", ""), f"{f}.offense_date"),
                    disposition=_csv_text(row.get("disposition", ""), f"{f}.disposition", 200),
                    disposition_date=_csv_date(
                        row.get("disposition_date", ""), f"{f}.disposition_date"
                    ),
                    sentence_completed_on=_csv_date(
                        row.get("sentence_completed_on", ""), f"{f}.sentence_completed_on"
                    ),
                    probation_violation=_csv_bool(
                        row.get("probation_violation", ""), f"{f}.probation_violation"
                    ),
                ),
                f,
            )
        )
    later_raw = first.get("later_convictions", "").strip()
    later: tuple[dt.date, ...] | None = None
    if later_raw:
        later = tuple(
            d
            for part in later_raw.split(";")
            if (d := _csv_date(part, "later_convictions")) is not None
        )
    return CaseInput(
        charges=tuple(charges),
        case_number=_csv_text(first.get("case_number", ""), "case_number", 64),
        court=_csv_court(first.get("court", "")),
        county=_csv_county(first.get("county", "")),
        case_status=_csv_status(first.get("case_status", "")),
        person=PersonInput(
            date_of_birth=_csv_date(first.get("date_of_birth", ""), "date_of_birth"),
            pending_case=_csv_bool(first.get("pending_case", ""), "pending_case"),
            later_convictions=later,
        ),
        record_status=RecordStatus(expunged=_csv_bool(first.get("expunged", ""), "expunged")),
    )


def _grouped_rows(
    text: IO[str], reporter: _Reporter
) -> Iterator[tuple[str, list[dict[str, str]], list[int]]]:
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        reporter.bad("input", "", "is empty; expected a CSV header row")
        return
    header = [h.strip().lstrip("\ufeff") for h in header]
    missing = [c for c in ("case_number", "description", "disposition") if c not in header]
    if missing:
        reporter.bad("input", "", f"CSV header lacks {', '.join(missing)}")
        return
    known = set(CSV_COLUMNS) | set(OPTIONAL_CSV_COLUMNS)
    unknown = [h for h in header if h not in known]
    if unknown:
        reporter.bad("input", "", f"unknown CSV columns: {', '.join(unknown)}")
        return
    width = len(header)
    groups: dict[str, tuple[list[dict[str, str]], list[int]]] = {}
    for line_no, row in enumerate(reader, start=2):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != width:
            reporter.bad(f"line {line_no}", "", f"has {len(row)} fields, expected {width}")
            continue
        record = dict(zip(header, row, strict=True))
        number = record["case_number"].strip()
        if not number:
            reporter.bad(f"line {line_no}", "case_number", "is empty")
            continue
        group = groups.get(number)
        if group is None:
            groups[number] = ([record], [line_no])
        else:
            group[0].append(record)
            group[1].append(line_no)
    for number, (rows, lines) in groups.items():
        yield number, rows, lines


@functools.lru_cache(maxsize=1024)
def _court_context(county: str | None, court: str | None) -> dict[str, str]:
    return {"court": court_name(county, court, "en")}


def screen_csv_stream(text: IO[str], as_of: dt.date, out: IO[str], reporter: _Reporter) -> None:
    """Screen a record CSV (one row per charge) and write one result row per case."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    as_of_text = as_of.isoformat()
    blank = [""] * (2 * len(PATHWAY_IDS))
    for number, rows, lines in _grouped_rows(text, reporter):
        try:
            case = _case_from_rows(rows, lines)
        except InputError as exc:
            reporter.bad(f"case {number} (line {lines[0]})", exc.field, exc.message)
            writer.writerow(
                [number, as_of_text, "", "", "", *blank, f"{exc.field}: {exc.message}"]
            )
            continue
        result = run_screen(case, as_of)
        cells = [
            number,
            as_of_text,
            result.rules_version,
            result.verdict.status,
            render_note(result.verdict.summary, "en", _court_context(case.county, case.court)),
        ]
        for p in result.pathways:
            cells.append(p.status)
            cells.append(p.eligible_on.isoformat() if p.eligible_on else "")
        cells.append("")
        writer.writerow(cells)


def _read_limited(stream: IO[bytes], reporter: _Reporter) -> bytes | None:
    raw = stream.read(MAX_JSON_BYTES + 1)
    if len(raw) > MAX_JSON_BYTES:
        reporter.bad("input", "", f"is larger than {MAX_JSON_BYTES // (1024 * 1024)} MiB")
        return None
    return raw


def _parse_as_of(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date:
    if value is None:
        return today_in_baltimore()
    try:
        day = parse_date(value, "--as-of")
    except InputError as exc:
        raise click.BadParameter(exc.message) from None
    if day is None:
        raise click.BadParameter("must be a date written YYYY-MM-DD")
    return day


@click.command("screen")
@click.argument("path", required=False, default="-", type=click.Path(allow_dash=True))
@click.option(
    "--as-of",
    "as_of",
    callback=_parse_as_of,
    metavar="YYYY-MM-DD",
    help="Screen as the law stands on this date (default: today in Baltimore).",
)
@click.option(
    "-o", "--output", "output", default="-", type=click.Path(allow_dash=True, dir_okay=False),
    help="Write results here (default: standard output).",
)  # fmt: skip
def screen_command(path: str, as_of: dt.date, output: str) -> None:
    """Screen cases: a JSON object, array or JSON Lines, or a record CSV (one row per charge)."""
    reporter = _Reporter()
    out_stream: IO[str]
    close_out = output != "-"
    out_stream = (
        open(output, "w", encoding="utf-8", newline="")  # noqa: SIM115
        if close_out
        else sys.stdout
    )
    try:
        if path != "-" and path.lower().endswith(".csv"):
            try:
                with open(path, encoding="utf-8-sig", newline="") as fh:
                    screen_csv_stream(fh, as_of, out_stream, reporter)
            except UnicodeDecodeError as exc:
                reporter.bad("input", "", f"is not UTF-8 text (bad byte at position {exc.start})")
            except OSError as exc:
                raise click.ClickException(f"cannot read {path}: {exc.strerror}") from None
        else:
            try:
                stream: IO[bytes] = (
                    sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
                )
            except OSError as exc:
                raise click.ClickException(f"cannot read {path}: {exc.strerror}") from None
            with stream:
                raw = _read_limited(stream, reporter)
            if raw is not None:
                _json_mode(raw, as_of, out_stream, reporter)
    finally:
        out_stream.flush()
        if close_out:
            out_stream.close()
    if reporter.failed:
        click.echo(f"{reporter.failed} case(s) or line(s) had bad input", err=True)
        sys.exit(2)


screen = screen_command


__all__ = ["loads_strict", "screen", "screen_csv_stream", "today_in_baltimore"]
