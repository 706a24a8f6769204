from __future__ import annotations

import csv
import re

from sqlalchemy import func, select

from db.models.records import ProgramEntry, RecordCase
from db.records.demo import PROGRAM_NAME, generate, load

DISTRICT = re.compile(r"\d[A-Z]\d{8}")
CIRCUIT = re.compile(r"1\d{8}")
MDEC = re.compile(r"[CD]-24-CR-\d{2}-\d{6}")


def test_the_same_seed_gives_the_same_data_and_another_seed_differs():
    first = list(generate(50, seed=7).record_rows())

    assert first == list(generate(50, seed=7).record_rows())
    assert first != list(generate(50, seed=8).record_rows())


def test_demo_records_have_the_real_shapes():
    cases = list(generate(3000, seed=1).iter_cases())
    rows = [row for case in cases for row in case.rows]

    numbers = [case.case_number for case in cases]
    assert len(set(numbers)) == len(numbers)
    assert all(DISTRICT.fullmatch(n) or CIRCUIT.fullmatch(n) or MDEC.fullmatch(n) for n in numbers)
    assert {r["court"] for r in rows} == {"district", "circuit"}
    years = {int(r["filing_date"][:4]) for r in rows}
    assert min(years) == 2005
    assert max(years) == 2025
    descriptions = {r["description"] for r in rows}
    assert {"CDS: POSS-MARIJUANA", "CDS:POSS PARAPHERNALIA", "CDS:P W/I DIST:NARC"} <= descriptions
    assert "THEFT LESS THAN $100" in descriptions
    assert {"GUILTY", "NOLLE PROSEQUI", "STET", "PBJ SUPERVISED"} <= {
        r["disposition"] for r in rows
    }
    assert any(len(case.rows) > 1 for case in cases)
    with_people = [r for r in rows if r["date_of_birth"]]
    assert 0.1 < len(with_people) / len(rows) < 0.4
    assert any(r["expunged"] == "true" for r in rows)


def test_the_vacatur_program_has_the_2019_list_shape():
    entries = [c.program_entry for c in generate(3000, seed=1).iter_cases() if c.program_entry]

    assert entries
    assert {(e["program"], e["status"], e["status_date"]) for e in entries} == {
        (PROGRAM_NAME, "denied", "2019-04-26")
    }
    assert all("2019-01-29" in e["note"] for e in entries)


def test_csv_files_are_written_in_the_import_formats(tmp_path):
    records_path, program_path = generate(20, seed=3).write_csv(tmp_path)

    with records_path.open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert header[0] == "case_number"
    assert "expunged" in header
    assert program_path.name == f"{PROGRAM_NAME}.csv"


def test_demo_data_loads_through_the_importer(engine, db_session):
    report = load(engine, generate(200, seed=5))

    cases = db_session.execute(select(func.count()).select_from(RecordCase)).scalar_one()
    entries = db_session.execute(select(func.count()).select_from(ProgramEntry)).scalar_one()
    assert report.error_count == 0
    assert cases == report.cases_added > 150
    assert entries == report.program_entries_added


def test_the_readme_example_case_is_in_the_default_demo_data():
    from webhooks.records_cli import DEFAULT_DEMO_CASES, DEFAULT_DEMO_SEED

    cases = {
        c.case_number: c for c in generate(DEFAULT_DEMO_CASES, DEFAULT_DEMO_SEED).iter_cases()
    }

    example = cases["0B00832597"]  # README: recordcheck records lookup 0b-0083-2597
    assert example.program_entry is not None
    assert not any(row["date_of_birth"] for row in example.rows)
