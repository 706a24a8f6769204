"""``recordcheck records import|lookup`` and ``recordcheck demo-data`` (DESIGN.md 5.2)."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from webhooks.cli_db import migrated_engine
from webhooks.config import ConfigError, Settings, load_settings

#: Exit status for "not found or not verified" (and for a locked-out requester).
EXIT_NOT_FOUND = 3
DEFAULT_DEMO_CASES = 2000
DEFAULT_DEMO_SEED = 2019
_PROGRESS_EVERY = 2.0


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        raise click.ClickException(str(error)) from error


def _iso_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD, e.g. 1990-03-15") from None


class _ProgressLine:
    """A progress line on stderr every couple of seconds (long imports only)."""

    def __init__(self) -> None:
        self.last = time.monotonic()

    def __call__(self, progress: Any) -> None:
        now = time.monotonic()
        if now - self.last < _PROGRESS_EVERY:
            return
        self.last = now
        rate = progress.rows / progress.elapsed if progress.elapsed else 0.0
        click.echo(
            f"  {Path(progress.file).name}: {progress.rows:,} rows ({rate:,.0f} rows/s)",
            err=True,
        )


def _print_report(report: Any) -> None:
    for error in report.errors:
        click.echo(f"{error.file}:{error.line}: {error.reason}", err=True)
    if report.errors_truncated:
        hidden = report.error_count - len(report.errors)
        click.echo(f"... and {hidden:,} more bad rows not listed", err=True)
    outcome = report.snapshot
    if outcome is None:
        click.echo(report.summary())
        return
    if outcome.applied:
        click.echo(report.summary())
    elif report.files:
        click.echo(f"nothing was changed; the import would have made: {report.summary()}")
    for line in outcome.lines():
        click.echo(line)
    if outcome.refused:
        refused = "would be refused" if outcome.dry_run else "refused, nothing was changed"
        click.echo(f"snapshot {refused}: {outcome.refused}", err=True)


@click.group()
def records() -> None:
    """Court records: import files and program lists, look a case up."""


@records.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "recordcheck", "caseharvester"]),
    default="auto",
    show_default=True,
    help="File format; auto recognises it from the header.",
)
@click.option("--program", default=None, help="Import the files as this relief program's list.")
@click.option(
    "--snapshot",
    is_flag=True,
    help="With --format caseharvester: the files are the whole current export of their case "
    "types; cases imported from Case Harvester for those types that are not in it (expunged) "
    "are removed, and so are charges it no longer lists, except pardoned cannabis "
    "convictions, which Case Search hides but the law still counts. One transaction.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="With --snapshot: report what would be removed; change nothing.",
)
@click.option(
    "--force",
    is_flag=True,
    help="With --snapshot: remove even more than 10% of a case type's stored cases or charges.",
)
def import_command(
    paths: tuple[Path, ...],
    fmt: str,
    program: str | None,
    snapshot: bool,
    dry_run: bool,
    force: bool,
) -> None:
    """Import record files (recordcheck CSV, Case Harvester tables) or a program list.

    Bad rows are listed with file, line and reason; the good rows are imported. Exit status 1
    when any row was rejected, 0 otherwise. A --snapshot with any rejected row, or one that
    would remove too much, changes nothing and exits with status 1.
    """
    from db.records.formats import PROGRAM_NAME
    from db.records.importer import import_paths

    if program is not None and not PROGRAM_NAME.fullmatch(program):
        raise click.BadParameter(
            "use letters, digits, '.', '_' and '-' (at most 64)", param_hint="--program"
        )
    _check_snapshot_options(fmt, program, snapshot=snapshot, dry_run=dry_run, force=force)
    engine = migrated_engine(_settings().database_url)
    try:
        report = import_paths(
            engine,
            paths,
            fmt=fmt,
            program=program,
            progress=_ProgressLine(),
            snapshot=snapshot,
            dry_run=dry_run,
            force=force,
        )
    finally:
        engine.dispose()
    _print_report(report)
    if report.error_count or (report.snapshot is not None and report.snapshot.refused):
        sys.exit(1)


def _check_snapshot_options(
    fmt: str, program: str | None, *, snapshot: bool, dry_run: bool, force: bool
) -> None:
    """A snapshot removes cases: it is asked for explicitly, of Case Harvester tables only."""
    if not snapshot:
        for flag, given in (("--dry-run", dry_run), ("--force", force)):
            if given:
                raise click.UsageError(f"{flag} goes with --snapshot")
        return
    if fmt != "caseharvester":
        raise click.UsageError("--snapshot needs --format caseharvester")
    if program is not None:
        raise click.UsageError("--snapshot imports records, not a program list")


def _screen(case: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """The rules engine's answer for a found case (DESIGN 5.3), as of today in Baltimore
    (as `recordcheck screen`, the bot and the console read it), whatever the host's zone;
    or None and why the record cannot be screened (more charges than the engine takes)."""
    from knowledge.screening import InputError, screen_json
    from webhooks.screen_cli import today_in_baltimore

    try:
        return screen_json(case, today_in_baltimore()), None
    except InputError as error:
        return None, str(error)


@records.command("lookup")
@click.argument("case_number")
@click.option(
    "--dob", callback=_iso_date, help="Date of birth, YYYY-MM-DD (needed when the record has one)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def lookup_command(case_number: str, dob: dt.date | None, as_json: bool) -> None:
    """Look a case up, verified by date of birth; exit status 3 when not found or not verified."""
    from db.engine import make_session_factory
    from db.identity import sender_hash
    from db.records.lookup import verified_lookup

    settings = _settings()
    requester = "cli:" + sender_hash(settings.hmac_key, "cli", getpass.getuser())[:32]
    engine = migrated_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            result = verified_lookup(
                session,
                case_number=case_number,
                date_of_birth=dob,
                requester=requester,
                hmac_key=settings.hmac_key,
            )
            session.commit()
    finally:
        engine.dispose()
    screening, problem = _screen(result.case) if result.case is not None else (None, None)
    if as_json:
        payload = {
            "status": result.status,
            "case": result.case,
            "programs": [
                {
                    "program": p.program,
                    "status": p.status,
                    "status_date": p.status_date.isoformat() if p.status_date else None,
                    "note": p.note,
                }
                for p in result.programs
            ],
            "screening": screening,
        }
        click.echo(json.dumps(payload, indent=2))
    elif result.status == "locked_out":
        click.echo("Too many failed lookups in the last 24 hours; try again later.", err=True)
    elif result.case is None:
        click.echo(
            "Not found, or the date of birth does not match. Our records may not include "
            "every case.",
            err=True,
        )
    else:
        _print_case(result, screening, problem)
    if result.status != "found":
        sys.exit(EXIT_NOT_FOUND)


def _print_case(result: Any, screening: dict[str, Any] | None, problem: str | None) -> None:
    case = result.case
    county = case["county"] or "county unknown"
    status = case["case_status"] or "status unknown"
    click.echo(f"Case {case['case_number']}: {case['court']} court, {county}, {status}")
    for number, charge in enumerate(case["charges"], start=1):
        outcome = charge["disposition"] or "no disposition"
        when = f" on {charge['disposition_date']}" if charge["disposition_date"] else ""
        statute = charge["statute"] or "no statute"
        click.echo(f"  {number}. {charge['description']} ({statute}): {outcome}{when}")
    for entry in result.programs:
        when = f" on {entry.status_date.isoformat()}" if entry.status_date else ""
        click.echo(
            f"  Program {entry.program}: {entry.status}{when}"
            + (f" ({entry.note})" if entry.note else "")
        )
    if screening is not None:
        verdict = screening.get("verdict") or {}
        click.echo(f"Screening: {verdict.get('status')}: {verdict.get('summary')}")
    else:
        click.echo(f"Screening: this record cannot be screened ({problem}); ask a lawyer.")


@click.command("demo-data")
@click.option(
    "--cases", type=click.IntRange(0, 10_000_000), default=DEFAULT_DEMO_CASES, show_default=True
)
@click.option("--seed", type=int, default=DEFAULT_DEMO_SEED, show_default=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write CSV files here instead of loading the database.",
)
@click.option("--if-empty", is_flag=True, help="Load only when the database holds no cases.")
def demo_data(cases: int, seed: int, out_dir: Path | None, if_empty: bool) -> None:
    """Synthetic Baltimore City records and a synthetic bcsao-2019-vacatur program."""
    from db.records.demo import generate, load

    data = generate(cases, seed)
    if out_dir is not None:
        records_path, program_path = data.write_csv(out_dir)
        click.echo(f"wrote {records_path} and {program_path}")
        return
    from db.records.importer import count_cases

    settings = _settings()
    if settings.is_production:
        # Invented cases with real-looking numbers: a resident could be told about a case
        # that does not exist.
        raise click.ClickException(
            "demo-data does not load invented records into a production database "
            "(RECORDCHECK_ENV=production). Use --out DIR to write them as CSV files instead."
        )
    engine = migrated_engine(settings.database_url)
    try:
        if if_empty:
            with engine.connect() as connection:
                existing = count_cases(connection)
            if existing:
                click.echo(
                    f"demo data not loaded: the database already holds {existing:,} cases",
                    err=True,
                )
                return
        report = load(engine, data, progress=_ProgressLine())
    finally:
        engine.dispose()
    click.echo(f"demo data loaded (seed {seed}): {report.summary()}")
