from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.models.records import (
    ImportRun,
    ProgramEntry,
    RecordCase,
    RecordCharge,
    RecordDefendant,
)
from db.records.formats import RECORDCHECK_COLUMNS
from db.records.importer import import_paths
from db.records.lookup import verified_lookup

FIXTURES = Path(__file__).parent / "fixtures"
HARVESTER = FIXTURES / "caseharvester"


def _row(**changes: str) -> dict[str, str]:
    row = {
        "case_number": "0B07770001",
        "court": "district",
        "county": "Baltimore City",
        "case_status": "closed",
        "filing_date": "2014-02-03",
        "defendant_name": "",
        "date_of_birth": "",
        "charge_number": "1",
        "description": "CDS: POSS-MARIJUANA",
        "statute": "CR.5.601.(a)(1)",
        "offense_date": "2014-02-01",
        "disposition": "GUILTY",
        "disposition_date": "2014-04-01",
        "sentence_completed_on": "",
        "probation_violation": "",
        "expunged": "false",
    }
    row.update(changes)
    return row


def _write(path: Path, rows: list[dict[str, str]], columns=RECORDCHECK_COLUMNS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def _charges_of(session, case_number: str) -> list[RecordCharge]:
    return list(
        session.scalars(
            select(RecordCharge)
            .join(RecordCase, RecordCase.id == RecordCharge.case_id)
            .where(RecordCase.case_number == case_number)
            .order_by(RecordCharge.charge_number)
        )
    )


# --- the project's own CSV --------------------------------------------------------------------


def test_recordcheck_csv_imports_cases_charges_and_people(engine, db_session):
    report = import_paths(engine, [FIXTURES / "records.csv"])

    assert (report.cases_added, report.charges_added, report.error_count) == (3, 4, 0)
    assert report.skipped == 1  # the expunged charge
    case = db_session.scalars(
        select(RecordCase).where(RecordCase.case_number == "0B09990001")
    ).one()
    assert (case.court, case.county, case.case_status) == ("district", "Baltimore City", "closed")
    assert case.filing_date == dt.date(2015, 3, 2)
    charges = _charges_of(db_session, "0B09990001")
    assert [c.description for c in charges] == ["CDS: POSS-MARIJUANA", "CDS:POSS PARAPHERNALIA"]
    assert charges[0].sentence_completed_on == dt.date(2015, 11, 1)
    assert charges[0].probation_violation is False
    person = db_session.scalars(
        select(RecordDefendant).where(RecordDefendant.case_id == case.id)
    ).one()
    assert (person.name, person.date_of_birth) == ("SAMPLE, JANE Q", dt.date(1980, 7, 15))


def test_charges_marked_expunged_are_never_stored(engine, db_session):
    import_paths(engine, [FIXTURES / "records.csv"])

    descriptions = [c.description for c in _charges_of(db_session, "1D09990002")]

    assert descriptions == ["POSSESSION OF MARIHUANA"]
    assert "CDS:POSSESS-NOT MARIHUANA" not in {
        c.description for c in db_session.scalars(select(RecordCharge))
    }


def test_reimporting_the_same_file_changes_nothing(engine, db_session):
    import_paths(engine, [FIXTURES / "records.csv"])
    before = [
        (c.id, c.content_hash, c.import_run_id) for c in db_session.scalars(select(RecordCharge))
    ]
    db_session.expire_all()

    again = import_paths(engine, [FIXTURES / "records.csv"])

    after = [
        (c.id, c.content_hash, c.import_run_id) for c in db_session.scalars(select(RecordCharge))
    ]
    assert (again.cases_added, again.cases_updated, again.charges_added) == (0, 0, 0)
    assert again.charges_updated == 0
    assert again.unchanged == 4
    assert after == before


def test_the_report_counts_defendants_added_and_corrected(engine, db_session, tmp_path):
    person = {"defendant_name": "SAMPLE, ALEX", "date_of_birth": "1990-01-01"}
    first = import_paths(engine, [_write(tmp_path / "a.csv", [_row(**person)])])
    corrected = {**person, "date_of_birth": "1990-01-10"}

    again = import_paths(engine, [_write(tmp_path / "a.csv", [_row(**corrected)])])

    assert (first.defendants_added, first.defendants_updated) == (1, 0)
    assert "defendants: 1 added, 0 updated" in first.summary()
    assert (again.defendants_added, again.defendants_updated, again.unchanged) == (0, 1, 0)
    assert "defendants: 0 added, 1 updated" in again.summary()
    stored = db_session.scalars(select(RecordDefendant)).one()
    assert stored.date_of_birth == dt.date(1990, 1, 10)
    unchanged = import_paths(engine, [_write(tmp_path / "a.csv", [_row(**corrected)])])
    assert "defendants" not in unchanged.summary()


def test_a_changed_row_updates_its_case(engine, db_session, tmp_path):
    first = _write(tmp_path / "a.csv", [_row(), _row(charge_number="2", description="STET ME")])
    import_paths(engine, [first])
    changed = _write(
        tmp_path / "a.csv",
        [
            _row(disposition="NOLLE PROSEQUI", case_status="closed"),
            _row(charge_number="2", description="STET ME"),
        ],
    )

    report = import_paths(engine, [changed])

    assert (report.charges_updated, report.charges_added, report.unchanged) == (1, 0, 1)
    assert [c.disposition for c in _charges_of(db_session, "0B07770001")] == [
        "NOLLE PROSEQUI",
        None if False else "GUILTY",
    ]
    assert _count(db_session, RecordCase) == 1


def test_a_charge_expunged_since_the_last_import_is_removed(engine, db_session, tmp_path):
    path = _write(tmp_path / "r.csv", [_row(), _row(charge_number="2")])
    import_paths(engine, [path])
    _write(tmp_path / "r.csv", [_row(), _row(charge_number="2", expunged="true")])

    import_paths(engine, [path])

    assert [c.charge_number for c in _charges_of(db_session, "0B07770001")] == [1]


def test_a_case_whose_every_charge_is_expunged_is_not_stored(engine, db_session, tmp_path):
    path = _write(
        tmp_path / "r.csv", [_row(expunged="true"), _row(charge_number="2", expunged="t")]
    )

    report = import_paths(engine, [path])

    assert _count(db_session, RecordCase) == 0
    assert (report.skipped, report.error_count) == (2, 0)


# --- Case Harvester tables --------------------------------------------------------------------


def test_case_harvester_tables_are_recognised_from_their_headers(engine, db_session, tmp_path):
    # Names that say nothing: the header alone must tell the table apart.
    copies = []
    for number, name in enumerate(sorted(p.name for p in HARVESTER.iterdir())):
        copy = tmp_path / f"export-{number}.csv"
        shutil.copy(HARVESTER / name, copy)
        copies.append(copy)

    report = import_paths(engine, copies)

    assert report.error_count == 0, report.errors
    tables = sorted(f.kind for f in report.files)
    assert tables == sorted(
        [
            "dscr",
            "dscr_charges",
            "defendants",
            "dsk8",
            "dsk8_charges",
            "k",
            "k_charges",
            "odycrim",
            "odycrim_charges",
        ]
    )


def test_case_harvester_export_imports_every_case_type(engine, db_session):
    report = import_paths(engine, sorted(HARVESTER.iterdir()), fmt="caseharvester")

    assert report.error_count == 0, report.errors
    cases = {c.case_number: c for c in db_session.scalars(select(RecordCase))}
    assert sorted(cases) == [
        "03K12001234",
        "0B01234567",
        "114351015",
        "1D00292923",
        "4B02220001",
        "C-24-CR-24-001234",
    ]
    # 4B02220001's only charge is expunged: nothing of it is shown, as on Case Search.
    assert _charges_of(db_session, "4B02220001") == []
    hidden = verified_lookup(
        db_session, case_number="4B02220001", date_of_birth=None, requester="t", hmac_key="k"
    )
    assert hidden.status == "not_found_or_unverified"
    assert (cases["0B01234567"].court, cases["0B01234567"].county) == (
        "district",
        "Baltimore City",
    )
    assert cases["0B01234567"].filing_date == dt.date(2016, 4, 2)
    assert (cases["114351015"].court, cases["114351015"].case_type) == ("circuit", "dsk8")
    assert cases["C-24-CR-24-001234"].case_status == "open"
    assert cases["03K12001234"].county == "Baltimore County"

    dscr = _charges_of(db_session, "0B01234567")
    assert [(c.description, c.statute, c.disposition) for c in dscr] == [
        ("CDS: POSS-MARIJUANA", "CR.5.601.(a)(1)", "NOLLE PROSEQUI"),
        ("CDS:POSS PARAPHERNALIA", "CR.5.619.(c)", "NOLLE PROSEQUI"),
    ]
    assert dscr[0].offense_date == dt.date(2016, 4, 2)
    # DSK8 has no statute column; a charge without a disposition falls back to its verdict.
    dsk8 = _charges_of(db_session, "114351015")
    assert [(c.statute, c.disposition) for c in dsk8] == [
        (None, "GUILTY"),
        (None, "NOLLE PROSEQUI"),
    ]
    assert [c.description for c in _charges_of(db_session, "1D00292923")] == [
        "CDS:POSSESSION-MARIHUANA"
    ]
    k = _charges_of(db_session, "03K12001234")
    assert (k[0].statute, k[0].offense_date) == ("CR.5.601.(a)(1)", dt.date(2011, 12, 24))
    # Public exports redact names and birth dates: nothing personal is kept.
    assert _count(db_session, RecordDefendant) == 0


def test_case_harvester_reimport_changes_nothing(engine, db_session):
    import_paths(engine, sorted(HARVESTER.iterdir()))

    again = import_paths(engine, sorted(HARVESTER.iterdir()))

    assert (
        again.cases_added,
        again.cases_updated,
        again.charges_added,
        again.charges_updated,
    ) == (
        0,
        0,
        0,
        0,
    )
    assert again.error_count == 0


def test_charges_without_their_case_table_are_reported(engine, db_session):
    report = import_paths(engine, [HARVESTER / "dsk8_charges.csv"])

    assert report.charges_added == 0
    assert [(Path(e.file).name, e.line) for e in report.errors] == [
        ("dsk8_charges.csv", 2),
        ("dsk8_charges.csv", 3),
    ]
    assert "case table" in report.errors[0].reason


# --- program lists ----------------------------------------------------------------------------


def test_program_list_imports_entries_keyed_by_normalised_case_number(engine, db_session):
    report = import_paths(engine, [FIXTURES / "program.csv"], program="bcsao-2019-vacatur")

    entries = db_session.scalars(select(ProgramEntry).order_by(ProgramEntry.case_number)).all()
    assert report.program_entries_added == 2
    assert [(e.case_number, e.status, e.status_date) for e in entries] == [
        ("0B09990001", "denied", dt.date(2019, 4, 26)),
        ("1D09990002", "denied", dt.date(2019, 4, 26)),
    ]
    assert import_paths(engine, [FIXTURES / "program.csv"]).program_entries_added == 0


def test_program_list_rows_naming_another_program_are_refused(engine, db_session, tmp_path):
    path = _write(
        tmp_path / "p.csv",
        [
            {
                "program": "other",
                "case_number": "1D09990002",
                "status": "filed",
                "status_date": "",
                "note": "",
            }
        ],
        columns=("program", "case_number", "status", "status_date", "note"),
    )

    report = import_paths(engine, [path], program="bcsao-2019-vacatur")

    assert report.program_entries_added == 0
    assert [(e.line, e.reason) for e in report.errors] == [
        (2, "program column names a different program than --program")
    ]


def test_a_program_row_given_twice_is_one_entry_and_a_disagreeing_one_is_reported(
    engine, db_session, tmp_path
):
    """A list pasted together from two exports repeats rows: the same row twice is one
    entry; the same case with another status is reported, and the first row is kept."""
    row = "bcsao-2019-vacatur,0B09990001,denied,2019-04-26,court denied"
    path = tmp_path / "program.csv"
    path.write_text(
        "program,case_number,status,status_date,note\n"
        f"{row}\n{row}\nbcsao-2019-vacatur,0b-0999-0001,granted,2019-05-01,\n",
        encoding="utf-8",
    )

    report = import_paths(engine, [path])

    entries = db_session.scalars(select(ProgramEntry)).all()
    assert [(e.case_number, e.status) for e in entries] == [("0B09990001", "denied")]
    assert [(e.line, e.reason) for e in report.errors] == [
        (4, "program entry differs from line 2")
    ]


def test_a_program_list_with_only_its_header_adds_nothing_and_says_so(
    engine, db_session, tmp_path
):
    path = tmp_path / "program.csv"
    path.write_text("program,case_number,status,status_date,note\n", encoding="utf-8")

    report = import_paths(engine, [path])

    assert (report.program_entries_added, report.error_count) == (0, 0)
    assert [(f.kind, f.rows) for f in report.files] == [("program", 0)]


# --- bad input --------------------------------------------------------------------------------


def test_bad_rows_are_reported_with_file_line_and_reason_and_the_rest_imported(
    engine, db_session, tmp_path
):
    rows = [
        _row(),  # line 2: fine
        _row(case_number="0B07770002", offense_date="2014-13-45"),  # 3: bad date
        _row(case_number="not a case"),  # 4
        _row(case_number="0B07770003", charge_number="one"),  # 5
        _row(case_number="0B07770004", expunged="maybe"),  # 6
        _row(case_number="0B07770005", court="supreme"),  # 7
        _row(case_number="0B07770006", description=""),  # 8
        _row(case_number="0B07770007", date_of_birth="2099-01-01"),  # 9
        _row(case_number="0B07770008", statute="X" * 65),  # 10
        _row(case_number="0B07770009"),  # 11: fine
    ]
    path = _write(tmp_path / "bad.csv", rows)

    report = import_paths(engine, [path])

    assert report.cases_added == 2
    assert [(Path(e.file).name, e.line, e.reason) for e in report.errors] == [
        ("bad.csv", 3, "offense_date is not a date (YYYY-MM-DD)"),
        ("bad.csv", 4, "case_number is not a case number"),
        ("bad.csv", 5, "charge_number must be a whole number"),
        ("bad.csv", 6, "expunged must be true or false"),
        ("bad.csv", 7, "court must be district, circuit or juvenile"),
        ("bad.csv", 8, "description is missing"),
        ("bad.csv", 9, "date_of_birth is in the future"),
        ("bad.csv", 10, "statute is longer than 64 characters"),
    ]
    run = db_session.scalars(select(ImportRun)).one()
    assert (run.status, run.rows, run.error_count) == ("finished", 10, 8)
    assert json.loads(run.errors)[0] == [3, "offense_date is not a date (YYYY-MM-DD)"]


def test_reasons_never_contain_the_values_of_the_row(engine, db_session, tmp_path):
    path = _write(
        tmp_path / "bad.csv",
        [
            _row(
                defendant_name="SECRET PERSON",
                date_of_birth="1980-02-31",
                case_number="0B07771234",
            )
        ],
    )

    report = import_paths(engine, [path])

    (error,) = report.errors
    assert "SECRET" not in error.reason
    assert "1980" not in error.reason
    assert "0B07771234" not in error.reason


def test_missing_columns_skip_the_file_and_the_next_file_still_imports(
    engine, db_session, tmp_path
):
    broken = tmp_path / "broken.csv"
    broken.write_text("case_number,court,description\n0B07770001,district,CDS\n")
    good = _write(tmp_path / "good.csv", [_row()])

    report = import_paths(engine, [broken, good], fmt="recordcheck")

    assert [(Path(e.file).name, e.line, e.reason) for e in report.errors] == [
        ("broken.csv", 1, "recordcheck file is missing columns: charge_number")
    ]
    assert report.cases_added == 1


def test_a_header_naming_a_column_twice_skips_the_file(engine, db_session, tmp_path):
    lines = (FIXTURES / "records.csv").read_text().splitlines()
    twice = tmp_path / "twice.csv"
    twice.write_text(
        "\n".join([lines[0] + ",Disposition ", *(line + ",NOLLE PROSEQUI" for line in lines[1:])])
    )

    report = import_paths(engine, [twice])

    assert [(e.line, e.reason) for e in report.errors] == [
        (1, "the header names a column twice: disposition")
    ]
    assert report.cases_added == 0


@pytest.mark.parametrize(
    ("fixture", "program", "right", "wrong", "reason"),
    [
        ("records.csv", None, "disposition,", "dispositon,", "recordcheck file has"),
        ("program.csv", "bcsao-2019-vacatur", "status_date", "stauts_date", "program list has"),
    ],
)
def test_a_misspelt_column_skips_the_file_instead_of_importing_it_empty(
    engine, db_session, tmp_path, fixture, program, right, wrong, reason
):
    header, *rows = (FIXTURES / fixture).read_text().splitlines()
    path = tmp_path / fixture
    path.write_text("\n".join([header.replace(right, wrong, 1), *rows]) + "\n")

    report = import_paths(engine, [path], program=program)

    (error,) = report.errors
    assert error.line == 1
    assert error.reason.startswith(f"{reason} unknown columns: {wrong.rstrip(',')}")
    assert report.cases_added == 0
    assert report.program_entries_added == 0


def test_an_unrecognised_header_names_what_was_expected(engine, db_session, tmp_path):
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b,c\n1,2,3\n")

    report = import_paths(engine, [odd])

    assert report.errors[0].line == 1
    assert "cannot tell the format" in report.errors[0].reason


def test_rows_with_too_few_or_too_many_fields_are_reported(engine, db_session, tmp_path):
    path = _write(tmp_path / "r.csv", [_row()])
    with path.open("a", encoding="utf-8") as handle:
        handle.write("0B07770002,district\n")
        handle.write(",".join(["x"] * 17) + "\n")

    report = import_paths(engine, [path])

    assert [(e.line, e.reason) for e in report.errors] == [
        (3, "row has 2 fields, the header has 16"),
        (4, "row has 17 fields, the header has 16"),
    ]
    assert report.cases_added == 1


def test_a_line_in_another_encoding_is_reported_and_the_rest_imported(
    engine, db_session, tmp_path
):
    path = _write(tmp_path / "r.csv", [_row()])
    with path.open("ab") as handle:
        latin1 = ",".join(_row(case_number="0B07770002", defendant_name="JOSÉ").values())
        handle.write(latin1.encode("latin-1") + b"\n")
        handle.write(",".join(_row(case_number="0B07770003").values()).encode() + b"\n")

    report = import_paths(engine, [path])

    assert [(e.line, e.reason) for e in report.errors] == [(3, "line is not UTF-8 text")]
    assert report.cases_added == 2


def test_a_10_mb_line_is_reported_and_the_import_continues(engine, db_session, tmp_path):
    path = _write(tmp_path / "r.csv", [_row()])
    with path.open("a", encoding="utf-8") as handle:
        handle.write(
            ",".join(_row(case_number="0B07770002", description="A" * 10_000_000).values())
        )
        handle.write("\n")
        handle.write(",".join(_row(case_number="0B07770003").values()) + "\n")

    report = import_paths(engine, [path])

    assert [(e.line, e.reason) for e in report.errors] == [(3, "line is longer than 1 MB")]
    assert report.cases_added == 2


def test_a_nul_byte_and_an_empty_file_are_reported(engine, db_session, tmp_path):
    path = _write(tmp_path / "r.csv", [_row()])
    with path.open("a", encoding="utf-8") as handle:
        handle.write(",".join(_row(case_number="0B07770002", county="Balt\x00").values()) + "\n")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    missing = tmp_path / "missing.csv"

    report = import_paths(engine, [path, empty, missing])

    reasons = {(Path(e.file).name, e.line): e.reason for e in report.errors}
    assert reasons[("r.csv", 3)] == "line contains a NUL character"
    assert reasons[("empty.csv", 1)] == "file is empty"
    assert reasons[("missing.csv", 0)].startswith("cannot read the file")
    assert report.cases_added == 1


def test_a_byte_order_mark_and_windows_line_endings_are_accepted(engine, db_session, tmp_path):
    path = tmp_path / "excel.csv"
    text = ",".join(RECORDCHECK_COLUMNS) + "\r\n" + ",".join(_row().values()) + "\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())

    report = import_paths(engine, [path])

    assert (report.cases_added, report.error_count) == (1, 0)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_file_saved_as_utf16_is_reported_with_how_to_save_it(
    engine, db_session, tmp_path, encoding
):
    """Excel's "Unicode Text" is UTF-16: the report says how to save the file, not only
    that its header is not UTF-8."""
    path = tmp_path / "excel.csv"
    text = ",".join(RECORDCHECK_COLUMNS) + "\r\n" + ",".join(_row().values()) + "\r\n"
    path.write_bytes(("\ufeff" + text).encode(encoding))

    report = import_paths(engine, [path])

    assert [(e.line, e.reason) for e in report.errors] == [
        (
            1,
            "header unusable: the file is UTF-16 text (Excel's Unicode Text); "
            "save it as CSV UTF-8",
        )
    ]
    assert report.cases_added == 0


def test_duplicate_rows_within_a_file_are_reported_when_they_disagree(
    engine, db_session, tmp_path
):
    path = _write(
        tmp_path / "r.csv",
        [_row(), _row(), _row(disposition="STET"), _row(charge_number="2", county="Harford")],
    )

    report = import_paths(engine, [path])

    assert [(e.line, e.reason) for e in report.errors] == [
        (4, "charge 1 differs from line 2"),
        (5, "case details differ from line 2"),
    ]
    assert [c.disposition for c in _charges_of(db_session, "0B07770001")] == ["GUILTY"]


def test_duplicate_case_numbers_across_files_keep_the_first_and_report_the_second(
    engine, db_session, tmp_path
):
    first = _write(tmp_path / "first.csv", [_row()])
    # The same case typed differently, with a different disposition for the same charge.
    second = _write(
        tmp_path / "second.csv", [_row(case_number="0b-0777-0001", disposition="STET")]
    )

    report = import_paths(engine, [first, second])

    assert [(Path(e.file).name, e.line) for e in report.errors] == [("second.csv", 2)]
    assert "differs from an earlier row of this import" in report.errors[0].reason
    assert [c.disposition for c in _charges_of(db_session, "0B07770001")] == ["GUILTY"]
    assert _count(db_session, RecordCase) == 1


def test_batches_split_a_case_without_losing_or_doubling_charges(
    engine, db_session, tmp_path, monkeypatch
):
    monkeypatch.setattr("db.records.importer.BATCH_ROWS", 3)
    rows = [
        _row(case_number=f"0B0777{n // 4:04d}", charge_number=str(n % 4 + 1)) for n in range(20)
    ]
    path = _write(tmp_path / "r.csv", rows)
    progress = []

    report = import_paths(engine, [path], progress=progress.append)

    assert (report.cases_added, report.charges_added, report.error_count) == (5, 20, 0)
    assert _count(db_session, RecordCharge) == 20
    assert progress
    assert progress[-1].rows == 18


def test_import_accepts_a_session_factory(engine, db_session):
    from db.engine import make_session_factory

    report = import_paths(make_session_factory(engine), [FIXTURES / "records.csv"])

    assert report.cases_added == 3


@pytest.mark.parametrize("fmt", ["xml", ""])
def test_an_unknown_format_name_is_reported(engine, db_session, fmt):
    report = import_paths(engine, [FIXTURES / "records.csv"], fmt=fmt)

    assert report.errors[0].reason == "format must be auto, recordcheck or caseharvester"


def test_a_database_filled_by_an_earlier_release_is_unchanged_on_reimport(engine, db_session):
    """Content hashes are compared across releases: these are the ones the first release wrote.

    If the hashed text changed, upgrading would rewrite every stored row on the next import.
    """
    import_paths(engine, [FIXTURES / "records.csv"])

    cases = dict(db_session.execute(select(RecordCase.case_number, RecordCase.content_hash)).all())
    charges = {
        (number, charge): digest
        for number, charge, digest in db_session.execute(
            select(
                RecordCase.case_number, RecordCharge.charge_number, RecordCharge.content_hash
            ).join(RecordCase, RecordCase.id == RecordCharge.case_id)
        )
    }
    people = dict(
        db_session.execute(
            select(RecordCase.case_number, RecordDefendant.content_hash).join(
                RecordCase, RecordCase.id == RecordDefendant.case_id
            )
        ).all()
    )
    assert cases == {
        "0B09990001": "46f01c48fc0ee263d1483cedfc781c75",
        "109990003": "0312a4138e510ef939ba1c8af940c839",
        "1D09990002": "61c4f44a4fc8c1f7c7ee9b5f62f7ef47",
    }
    assert charges == {
        ("0B09990001", 1): "82345cbd74ac7dee91dbd3c44a37b25c",
        ("0B09990001", 2): "fc82e61244a537942eb106e2f9072195",
        ("109990003", 1): "849cc23ca4eeca08c8b0371e9587bfa1",
        ("1D09990002", 1): "4d9a5721d0aa79a8bc64c84c321ed2a5",
    }
    assert people == {
        "0B09990001": "bec6cf722a066ceb4ad2b1e3a84f8438",
        "109990003": "1c4de11c9f79d736121546a610e46274",
    }


def test_bad_lines_are_reported_at_their_line_wherever_the_file_is_cut_into_blocks(
    engine, db_session, tmp_path, monkeypatch
):
    """The file is read in blocks; a bad line at any block boundary keeps its line number."""
    path = _write(tmp_path / "r.csv", [_row(case_number=f"0B077700{n:02d}") for n in range(12)])
    with path.open("ab") as handle:
        handle.write(",".join(_row(case_number="0B07770100", county="Balt\x00").values()).encode())
        handle.write(b"\n")
        latin1 = ",".join(_row(case_number="0B07770101", defendant_name="JOSÉ").values())
        handle.write(latin1.encode("latin-1") + b"\n")
        quoted = _row(case_number="0B07770102", description='"TWO\nLINES"')
        handle.write(",".join(quoted.values()).encode() + b"\n")
        handle.write(",".join(_row(case_number="0B07770103").values()).encode())  # no newline
    expected = [(14, "line contains a NUL character"), (15, "line is not UTF-8 text")]

    for block in (7, 64, 300):
        monkeypatch.setattr("db.records.csvstream._BLOCK_BYTES", block)
        report = import_paths(engine, [path])

        assert [(e.line, e.reason) for e in report.errors] == expected, block
        assert report.rows == 16
    descriptions = [c.description for c in _charges_of(db_session, "0B07770102")]
    assert descriptions == ["TWO\nLINES"]
    assert _count(db_session, RecordCase) == 14


def test_a_charge_number_in_other_digits_is_reported_not_a_crash(engine, db_session, tmp_path):
    path = _write(tmp_path / "r.csv", [_row(charge_number="²"), _row(charge_number="３")])

    report = import_paths(engine, [path])

    assert [(e.line, e.reason) for e in report.errors] == [
        (2, "charge_number must be a whole number")
    ]
    assert [c.charge_number for c in _charges_of(db_session, "0B07770001")] == [3]


def test_an_import_leaves_the_garbage_collector_as_it_found_it(engine, db_session):
    import gc

    assert gc.isenabled()
    import_paths(engine, [FIXTURES / "records.csv"])
    assert gc.isenabled()

    gc.disable()
    try:
        import_paths(engine, [FIXTURES / "records.csv"])
        assert not gc.isenabled()
    finally:
        gc.enable()
