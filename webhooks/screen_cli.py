"""``recordcheck screen``: screen cases from JSON, JSON Lines or a record CSV (DESIGN 5.2).

JSON object in, object out; array in, array out; JSON Lines in, JSON Lines out; a ``.csv``
path (one row per charge, DESIGN 5.4) gives a CSV with one row per case. A bad case is
reported on stderr with its field, the others are still screened, and the exit status is 2.
"""

from __future__ import annotations

import codecs
import datetime as dt
import gc
import io
import json
import os
import sys
from typing import IO, Any
from zoneinfo import ZoneInfo

import click

from knowledge import InputError, parse_case
from knowledge import screen as run_screen
from knowledge.screening import parse_date
from webhooks.screen_csv import CSV_COLUMNS, RESULT_COLUMNS, Reporter, screen_csv_stream

BALTIMORE = ZoneInfo("America/New_York")
MAX_JSON_BYTES = 256 * 1024 * 1024


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
    """json.loads that refuses duplicate keys, NaN, Infinity and nesting too deep to parse."""

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=no_constants)
    except RecursionError:
        raise ValueError("arrays or objects are nested too deeply") from None


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


def _screen_one(
    data: object, index: int | None, as_of: dt.date, reporter: Reporter
) -> dict[str, object]:
    try:
        case = parse_case(data)
    except InputError as exc:
        number = data.get("case_number") if isinstance(data, dict) else None
        reporter.bad(_label(index, number), exc.field, exc.message)
        return _error_object(index, data, exc)
    return run_screen(case, case.as_of or as_of).to_json()


def _decode(raw: bytes, reporter: Reporter) -> str | None:
    """UTF-8 (a byte-order mark allowed); UTF-16 with its byte-order mark, as Windows
    PowerShell's ``>`` writes a file, is read too."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass  # not UTF-16 after all: report it as the UTF-8 it should be
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        reporter.bad("input", "", f"is not UTF-8 text (bad byte at position {exc.start})")
        return None


def _json_mode(
    raw: bytes, as_of: dt.date, out: IO[str], reporter: Reporter, *, lines_only: bool = False
) -> None:
    """A JSON object, array or JSON Lines (always JSON Lines for a .jsonl or .ndjson file)."""
    text = _decode(raw, reporter)
    if text is None:
        return
    if not text.strip():
        reporter.bad("input", "", "is empty; expected a JSON object, array or JSON Lines")
        return
    if lines_only:
        _write_lines(_parsed_lines(text), as_of, out, reporter)
        return
    try:
        data = loads_strict(text)
    except ValueError as whole_error:
        if text.lstrip().startswith("{"):
            parsed = _parsed_lines(text)
            # JSON Lines when some line is a whole JSON value; otherwise one broken object
            # (pretty-printed over many lines), reported once with the parser's position.
            if len(parsed) > 1 and any(not isinstance(v, ValueError) for _, v in parsed):
                _write_lines(parsed, as_of, out, reporter)
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


def _parsed_lines(text: str) -> list[tuple[int, object]]:
    """Each non-blank line's number (from 1, blank lines counted) and its value or error.

    Lines end at "\\n" only: JSON text may hold U+2028 and other breaks str.splitlines sees.
    """
    parsed: list[tuple[int, object]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            try:
                parsed.append((number, loads_strict(line)))
            except ValueError as exc:
                parsed.append((number, exc))
    return parsed


def _write_lines(
    parsed: list[tuple[int, object]], as_of: dt.date, out: IO[str], reporter: Reporter
) -> None:
    """One JSON line out per case line in; `index` counts cases, stderr names the line."""
    for i, (number, data) in enumerate(parsed):
        if isinstance(data, ValueError):
            reporter.bad(f"line {number}", "", f"is not valid JSON ({data})")
            result: dict[str, object] = {
                "case_number": None,
                "index": i,
                "error": "not valid JSON",
                "field": "",
            }
        else:
            result = _screen_one(data, i, as_of, reporter)
        out.write(json.dumps(result, ensure_ascii=False))
        out.write("\n")


def _read_limited(stream: IO[bytes], reporter: Reporter) -> bytes | None:
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
    reporter = Reporter(lambda line: click.echo(line, err=True))
    is_csv = path != "-" and path.lower().endswith(".csv")
    in_stream = _open_input(path, is_csv)  # before OUT: a missing input never empties OUT
    try:
        out_stream = _open_output(output, path)
    except click.ClickException:
        in_stream.close()
        raise
    collecting = gc.isenabled()
    # A batch makes millions of small acyclic objects and keeps many of them until the end;
    # the cyclic collector would rescan them over and over (half the run time) for nothing.
    gc.disable()
    try:
        with in_stream:
            if is_csv:
                try:
                    _screen_csv_file(in_stream, as_of, out_stream, reporter)
                except OSError as exc:
                    raise click.ClickException(f"cannot read {path}: {exc.strerror}") from None
            else:
                raw = _read_limited(in_stream, reporter)
                if raw is not None:
                    lines_only = path.lower().endswith((".jsonl", ".ndjson"))
                    _json_mode(raw, as_of, out_stream, reporter, lines_only=lines_only)
    finally:
        if collecting:
            gc.enable()
        out_stream.flush()
        if out_stream is not sys.stdout:
            out_stream.close()
    if reporter.failed:
        click.echo(f"{reporter.failed} case(s) or line(s) had bad input", err=True)
        sys.exit(2)


def _screen_csv_file(text: IO[str], as_of: dt.date, out: IO[str], reporter: Reporter) -> None:
    """Screen a record CSV; one that is not all UTF-8 (an Excel export in Windows-1252, say)
    is screened again with each such line reported and its unreadable bytes read as U+FFFD.

    The first attempt's messages wait until it succeeds, so none is printed twice.
    """
    messages: list[str] = []
    first = Reporter(messages.append)
    try:
        screen_csv_stream(text, as_of, out, first)
    except UnicodeDecodeError:
        text.seek(0)
        lenient = _lenient_text(text.buffer.read(), reporter)  # type: ignore[attr-defined]
        screen_csv_stream(io.StringIO(lenient, newline=""), as_of, out, reporter)
        return
    for message in messages:
        click.echo(message, err=True)
    reporter.failed += first.failed


def _lenient_text(raw: bytes, reporter: Reporter) -> str:
    """The file as text: each line that is not UTF-8 is reported and decoded with U+FFFD."""
    lines = raw.split(b"\n")
    for number, line in enumerate(lines, start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            reporter.bad(
                f"line {number}",
                "",
                f"is not UTF-8 text (bad byte at position {exc.start}); read with U+FFFD",
            )
    return raw.decode("utf-8", errors="replace").removeprefix("\ufeff")


def _open_input(path: str, is_csv: bool) -> IO[Any]:
    """The input: a record CSV as text, anything else as bytes (standard input for "-")."""
    try:
        if is_csv:
            return open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
        return sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror}") from None


def _open_output(output: str, path: str) -> IO[str]:
    """Where the results go: standard output for "-", else the file OUT (replaced).

    OUT may not be the input file: opening it for writing would empty it before it is read.
    """
    if output == "-":
        return sys.stdout
    if path != "-" and os.path.exists(output) and os.path.samefile(output, path):
        raise click.ClickException(f"-o {output} is the input file; write the results elsewhere")
    try:
        return open(output, "w", encoding="utf-8", newline="")  # noqa: SIM115
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None


screen = screen_command


__all__ = [
    "CSV_COLUMNS",
    "RESULT_COLUMNS",
    "loads_strict",
    "screen",
    "screen_csv_stream",
    "today_in_baltimore",
]
