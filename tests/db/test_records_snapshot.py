"""``records import --format caseharvester --snapshot``: a monthly export replaces the last one.

Each export here is a folder of real-shaped Case Harvester tables (``dscr.csv``,
``dscr_charges.csv`` and, when asked, ``dscr_defendants.csv``) written by the tests.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from db.models.records import ImportRun, ProgramEntry, RecordCase, RecordCharge, RecordDefendant
from db.records.importer import import_paths
from db.records.lookup import verified_lookup
from tests.db.test_records_import import _row, _write
from webhooks.cli import cli

FIXTURES = Path(__file__).parent / "fixtures"
CASES = 20
GONE = "0B05550007"  # expunged between the two exports

CASE_COLUMNS = ("id", "case_number", "court_system", "document_type", "issued_date", "case_status")
CHARGE_COLUMNS = (
    "id",
    "case_number",
    "charge_number",
    "expunged",
    "charge_description",
    "statute",
    "incident_date_from",
    "disposition",
    "disposition_date",
)
DEFENDANT_COLUMNS = ("id", "case_number", "name", "DOB")


def _number(n: int) -> str:
    return f"0B0555{n:04d}"


def _export(
    folder: Path,
    numbers: Iterable[int] = range(CASES),
    *,
    without_charge: tuple[str, int] | None = None,
    defendants: dict[str, tuple[str, str]] | None = None,
    guilty: Iterable[str] = (),
) -> list[Path]:
    """A DSCR export: two charges per case (possession, paraphernalia), all closed: nolle
    prosequi, or guilty for the case numbers in ``guilty``."""
    convicted = set(guilty)
    folder.mkdir(parents=True, exist_ok=True)
    cases, charges = [], []
    for n in numbers:
        number = _number(n)
        cases.append(
            [n, number, "District Court for Baltimore City - Criminal System", "Citation"]
            + ["2016-04-02", "CLOSED"]
        )
        for charge, description, statute in (
            (1, "CDS: POSS-MARIJUANA", "CR.5.601.(a)(1)"),
            (2, "CDS:POSS PARAPHERNALIA", "CR.5.619.(c)"),
        ):
            if without_charge == (number, charge):
                continue
            charges.append(
                [10 * n + charge, number, charge, "f", description, statute, "2016-04-02"]
                + ["GUILTY" if number in convicted else "NOLLE PROSEQUI", "2016-06-10"]
            )
    paths = [
        _table(folder / "dscr.csv", CASE_COLUMNS, cases),
        _table(folder / "dscr_charges.csv", CHARGE_COLUMNS, charges),
    ]
    if defendants:
        people = [[i, n, name, born] for i, (n, (name, born)) in enumerate(defendants.items())]
        paths.append(_table(folder / "dscr_defendants.csv", DEFENDANT_COLUMNS, people))
    return paths


def _table(path: Path, columns: Iterable[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def _snapshot(engine, paths, **options):
    return import_paths(engine, paths, fmt="caseharvester", snapshot=True, **options)


def _found(session, number: str, dob: dt.date | None = None) -> bool:
    result = verified_lookup(
        session, case_number=number, date_of_birth=dob, requester="t", hmac_key="k"
    )
    session.rollback()
    return result.status == "found"


def _charge_numbers(session, number: str) -> list[int]:
    return list(
        session.scalars(
            select(RecordCharge.charge_number)
            .join(RecordCase, RecordCase.id == RecordCharge.case_id)
            .where(RecordCase.case_number == number)
            .order_by(RecordCharge.charge_number)
        )
    )


def _count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def _state(session) -> list[object]:
    """Every stored case, charge, person and import run, to compare before and after."""
    session.expire_all()
    tables = (RecordCase, RecordCharge, RecordDefendant, ImportRun, ProgramEntry)
    state = [
        sorted(tuple(row) for row in session.execute(select(*model.__table__.c)).all())
        for model in tables
    ]
    session.rollback()
    return state


@pytest.fixture
def first(engine, db_session, tmp_path):
    """The first monthly export, imported as a snapshot; GONE has a person with a birth date."""
    paths = _export(tmp_path / "2026-10", defendants={GONE: ("SAMPLE, PAT", "1985-01-02")})
    report = _snapshot(engine, paths)
    assert report.snapshot is not None
    assert report.snapshot.applied, report
    assert _found(db_session, GONE, dt.date(1985, 1, 2))
    return report


def test_a_case_gone_from_the_next_export_is_removed_and_no_longer_found(
    engine, db_session, tmp_path, first
):
    numbers = [n for n in range(CASES) if _number(n) != GONE]

    report = _snapshot(engine, _export(tmp_path / "2026-11", numbers))

    assert report.snapshot is not None
    assert report.snapshot.applied
    assert [(r.case_type, r.cases, r.charges) for r in report.snapshot.removals] == [
        ("dscr", 1, 0)
    ]
    assert not _found(db_session, GONE, dt.date(1985, 1, 2))
    assert db_session.scalars(select(RecordCase).where(RecordCase.case_number == GONE)).all() == []
    assert _count(db_session, RecordCharge) == 2 * (CASES - 1)
    assert _count(db_session, RecordDefendant) == 0  # the person of the removed case went too
    assert _found(db_session, _number(3))


def test_a_charge_gone_from_a_reimported_case_is_removed(engine, db_session, tmp_path, first):
    number = _number(3)

    report = _snapshot(engine, _export(tmp_path / "2026-11", without_charge=(number, 2)))

    assert report.snapshot is not None
    assert report.snapshot.applied
    assert [(r.cases, r.charges) for r in report.snapshot.removals] == [(0, 1)]
    assert _charge_numbers(db_session, number) == [1]
    found = verified_lookup(
        db_session, case_number=number, date_of_birth=None, requester="t", hmac_key="k"
    )
    assert found.case is not None
    assert [c["description"] for c in found.case["charges"]] == ["CDS: POSS-MARIJUANA"]


def test_cases_from_a_clinic_list_or_another_case_type_survive_a_snapshot(
    engine, db_session, tmp_path, first
):
    clinic = _write(
        tmp_path / "clinic.csv",
        [_row(case_number="0B07770001", defendant_name="DOE, J", date_of_birth="1970-05-06")],
    )
    import_paths(engine, [clinic])
    circuit = sorted((FIXTURES / "caseharvester").glob("k*.csv"))
    import_paths(engine, circuit, fmt="caseharvester")

    report = _snapshot(engine, _export(tmp_path / "2026-11"))

    assert report.snapshot is not None
    assert report.snapshot.applied
    assert report.snapshot.case_types == ("dscr",)
    assert _found(db_session, "0B07770001", dt.date(1970, 5, 6))
    assert _charge_numbers(db_session, "0B07770001") == [1]
    assert _found(db_session, "03K12001234")


def test_a_pardoned_conviction_that_case_search_hides_is_kept(engine, db_session, tmp_path):
    """Since 2025 Case Search hides a pardoned possession charge, so it leaves the export. The
    conviction still stands in police and CJIS records (law file P7), and the person still
    needs the advice to petition: a snapshot must not take it away."""
    still_there, vanished = _number(3), GONE
    convicted = (still_there, vanished)
    _snapshot(engine, _export(tmp_path / "2026-10", guilty=convicted))
    numbers = [n for n in range(CASES) if _number(n) != vanished]

    report = _snapshot(
        engine,
        _export(tmp_path / "2026-11", numbers, without_charge=(still_there, 1), guilty=convicted),
    )

    assert report.snapshot is not None
    assert report.snapshot.applied
    (removal,) = report.snapshot.removals
    # The vanished case's possession and paraphernalia convictions (both pardoned), and the
    # possession conviction gone from the case still there.
    assert (removal.cases, removal.charges, removal.kept_possession) == (0, 0, 3)
    assert "kept 3 cannabis charges" in removal.describe()
    assert _charge_numbers(db_session, still_there) == [1, 2]  # the hidden conviction stays
    assert _charge_numbers(db_session, vanished) == [1, 2]  # a whole case that holds one too
    found = verified_lookup(
        db_session, case_number=still_there, date_of_birth=None, requester="t", hmac_key="k"
    )
    assert found.case is not None
    assert "CDS: POSS-MARIJUANA" in [c["description"] for c in found.case["charges"]]


def test_a_clinic_case_later_seen_in_case_harvester_survives_its_snapshots(
    engine, db_session, tmp_path
):
    """A clinic's list overlaps Case Search by design: the case it loaded (with the name and
    birth date only the clinic has) must survive a Case Harvester export that drops it."""
    shared = _number(5)
    clinic = _write(
        tmp_path / "clinic.csv",
        [_row(case_number=shared, defendant_name="DOE, J", date_of_birth="1970-05-06")],
    )
    import_paths(engine, [clinic])
    _snapshot(engine, _export(tmp_path / "2026-10"))  # Case Harvester updates the case
    numbers = [n for n in range(CASES) if _number(n) != shared]

    report = _snapshot(engine, _export(tmp_path / "2026-11", numbers))

    assert report.snapshot is not None
    assert report.snapshot.applied
    assert [(r.cases, r.charges) for r in report.snapshot.removals] == [(0, 0)]
    assert _found(db_session, shared, dt.date(1970, 5, 6))


@pytest.fixture
def run(database_url, db_session, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("RECORDCHECK_HMAC_KEY", "cli-test-key")

    def invoke(*args: object):
        return CliRunner().invoke(cli, [str(arg) for arg in args])

    return invoke


def _import(run, *paths: Path, options: tuple[str, ...] = ()):
    return run("records", "import", "--format", "caseharvester", "--snapshot", *options, *paths)


def test_a_dry_run_prints_counts_per_case_type_and_changes_nothing(
    run, db_session, tmp_path, first
):
    numbers = [n for n in range(CASES) if _number(n) != GONE]
    paths = _export(tmp_path / "2026-11", numbers, without_charge=(_number(3), 2))
    before = _state(db_session)

    result = _import(run, *paths, options=("--dry-run",))

    assert result.exit_code == 0, result.output
    assert "would remove DSCR: 1 of 20 cases (5.0%) and 1 of 40 charges" in result.output
    assert "dry run: nothing was changed" in result.output
    assert "0B0555" not in result.output  # counts only, never case numbers
    assert _state(db_session) == before
    assert _found(db_session, GONE, dt.date(1985, 1, 2))


def test_a_truncated_export_is_refused_unless_forced(run, db_session, tmp_path, first):
    paths = _export(tmp_path / "2026-11", range(12))  # the download stopped after 12 cases
    before = _state(db_session)

    refused = _import(run, *paths)

    assert refused.exit_code == 1
    assert (
        "snapshot refused, nothing was changed: the snapshot would remove more than 10%"
        in refused.output
    )
    assert "DSCR: 8 of 20 cases (40.0%)" in refused.output
    assert "--force" in refused.output
    assert _state(db_session) == before

    forced = _import(run, *paths, options=("--force",))

    assert forced.exit_code == 0, forced.output
    assert "removed DSCR: 8 of 20 cases" in forced.output
    assert _count(db_session, RecordCase) == 12


def test_a_failure_part_way_leaves_the_database_as_it_was(
    engine, db_session, tmp_path, monkeypatch, first
):
    monkeypatch.setattr("db.records.importer.BATCH_ROWS", 5)
    # Newest cases first: the first batch adds cases, so a committed batch would show.
    numbers = [n for n in reversed(range(CASES + 10)) if _number(n) != GONE]
    paths = _export(tmp_path / "2026-11", numbers, without_charge=(_number(3), 2))
    before = _state(db_session)

    def interrupted(_progress: object) -> None:
        raise KeyboardInterrupt  # the operator pressed Ctrl-C after the first batch

    with pytest.raises(KeyboardInterrupt):
        _snapshot(engine, paths, progress=interrupted)

    assert _state(db_session) == before
    again = _snapshot(engine, paths)  # and the next run works
    assert again.snapshot is not None
    assert again.snapshot.applied
    assert _count(db_session, RecordCase) == CASES + 9


def _empty(folder: Path) -> list[Path]:
    paths = _export(folder)
    paths[1].write_bytes(b"")
    return paths


def _latin1(folder: Path) -> list[Path]:
    paths = _export(folder)
    with paths[1].open("ab") as handle:
        handle.write(b"999,0B05550001,3,f,CDS: POSESI\xd3N,,2016-04-02,GUILTY,2016-06-10\n")
    return paths


def _utf16(folder: Path) -> list[Path]:
    paths = _export(folder)
    paths[0].write_bytes(paths[0].read_text().encode("utf-16"))
    return paths


def _disagreeing_duplicate(folder: Path) -> list[Path]:
    paths = _export(folder)
    with paths[1].open("a", encoding="utf-8") as handle:
        handle.write("998,0B05550001,1,f,CDS: POSS-MARIJUANA,,2016-04-02,GUILTY,2016-06-10\n")
    return paths


def _forged_case_table(folder: Path) -> list[Path]:
    paths = _export(folder)
    paths[0].write_text("case_number,name,whatever\n0B05550001,X,Y\n")
    return paths


def _charges_without_cases(folder: Path) -> list[Path]:
    paths = _export(folder)
    paths[0].unlink()
    return paths[1:]


def _malformed_rows(folder: Path) -> list[Path]:
    paths = _export(folder)
    with paths[0].open("a", encoding="utf-8") as handle:
        handle.write('99,0B05550099,"District Court\n')
    return paths


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(_empty, "dscr_charges.csv:1: file is empty", id="empty-file"),
        pytest.param(_latin1, "line is not UTF-8 text", id="wrong-encoding"),
        pytest.param(_utf16, "save it as CSV UTF-8", id="utf-16"),
        pytest.param(
            _disagreeing_duplicate,
            "dscr_charges.csv:42: charge 1 differs from line",
            id="duplicate",
        ),
        pytest.param(_forged_case_table, "not a Case Harvester case", id="forged-header"),
        pytest.param(
            _charges_without_cases, "came without its dscr table", id="charges-without-cases"
        ),
        pytest.param(_malformed_rows, "dscr.csv:22:", id="malformed-row"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_loses_nothing(
    run, db_session, tmp_path, first, make, reason
):
    before = _state(db_session)

    result = _import(run, *make(tmp_path / "2026-11"))

    assert result.exit_code == 1, result.output
    assert reason in result.output
    assert "snapshot refused, nothing was changed:" in result.output
    assert _state(db_session) == before


def test_identical_duplicate_rows_are_read_once_and_remove_nothing(
    run, db_session, tmp_path, first
):
    paths = _export(tmp_path / "2026-11")
    shutil.copy(paths[1], tmp_path / "copy.csv")
    with paths[1].open("a", encoding="utf-8") as handle:
        handle.writelines((tmp_path / "copy.csv").read_text().splitlines(True)[1:])

    result = _import(run, *paths)

    assert result.exit_code == 0, result.output
    assert "removed DSCR: 0 of 20 cases" in result.output
    assert _count(db_session, RecordCharge) == 2 * CASES


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--dry-run"], "--dry-run goes with --snapshot", id="dry-run-alone"),
        pytest.param(["--force"], "--force goes with --snapshot", id="force-alone"),
        pytest.param(
            ["--snapshot", "--format", "auto"],
            "--snapshot needs --format caseharvester",
            id="auto",
        ),
    ],
)
def test_snapshot_options_are_asked_for_explicitly(run, db_session, args, message):
    result = run("records", "import", *args, FIXTURES / "records.csv")

    assert result.exit_code == 2
    assert message in result.output
    assert _count(db_session, RecordCase) == 0
