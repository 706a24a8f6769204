from __future__ import annotations

import html
import io

import pytest
from sqlalchemy import func, select

from db.models.console import ConsoleAuditEvent
from db.models.records import ProgramEntry, RecordCase
from tests.console.conftest import PROGRAM_CSV, RECORDS_CSV, page_token


def _import(client, files, **form):
    token = page_token(client, "/console/admin/imports")
    data = {"csrf_token": token, **form}
    data["files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post("/console/admin/imports", data=data, content_type="multipart/form-data")


def _count(app, model):
    with app.extensions["recordcheck.sessions"]() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_admin_imports_records_and_a_program_list_and_sees_the_report(app, admin_client):
    bad = "0B00000009,district,Baltimore City,closed,,,,,CDS: POSS-MARIJUANA,,,,,,,\n"
    response = _import(
        admin_client,
        [("records.csv", (RECORDS_CSV + bad).encode()), ("program.csv", PROGRAM_CSV.encode())],
    )

    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert 'id="import-report"' in page
    assert "cases: 3 added" in page
    assert "records.csv" in page
    assert "charge_number is missing" in page
    assert _count(app, RecordCase) == 3
    assert _count(app, ProgramEntry) == 1
    again = html.unescape(
        _import(admin_client, [("records.csv", RECORDS_CSV.encode())]).get_data(as_text=True)
    )
    assert "cases: 0 added, 0 updated" in again
    with app.extensions["recordcheck.sessions"]() as session:
        actions = [e.action for e in session.scalars(select(ConsoleAuditEvent))]
    assert actions.count("import") == 2
    history = admin_client.get("/console/admin/imports").get_data(as_text=True)
    assert "recordcheck-import-" not in history


def test_a_program_list_can_be_named_on_the_form(app, admin_client):
    listing = b"case_number,status,status_date,note\n0B00000001,motion filed,2019-01-29,\n"

    response = _import(admin_client, [("list.csv", listing)], program="bcsao-2019-vacatur")

    assert response.status_code == 200
    assert _count(app, ProgramEntry) == 1


@pytest.mark.parametrize(
    ("files", "form", "message"),
    [
        ([], {}, "Choose one or more CSV files"),
        ([("r.xlsx", b"x")], {}, "CSV files only"),
        ([("r.csv", b"PK\x03\x04zip")], {}, "not a CSV file"),
        ([("r.csv", b"")], {}, "empty"),
        ([("r.csv", b"a\n")], {"format": "excel"}, "Unknown format"),
        ([("r.csv", b"a\n")], {"program": "../../etc"}, "program name"),
        ([(f"r{i}.csv", b"a\n") for i in range(11)], {}, "at most 10 files"),
    ],
    ids=["none", "xlsx", "zip", "empty", "format", "program-name", "too-many"],
)
def test_bad_imports_are_refused_with_a_reason(app, admin_client, files, form, message):
    response = _import(admin_client, files, **form)

    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))
    assert _count(app, RecordCase) == 0


def test_a_record_file_larger_than_one_megabyte_is_imported(app, admin_client):
    """The page says "up to 100 MB"; the sign-in check read the form first under the app's
    1 MB limit, and refused every larger file as "too large"."""
    header, first, *_ = RECORDS_CSV.splitlines()
    rows = [first.replace("0B00000001", f"0B1{i:07d}") for i in range(8000)]
    data = ("\n".join([header, *rows]) + "\n").encode()
    assert len(data) > 1024 * 1024

    response = _import(admin_client, [("records.csv", data)])

    assert response.status_code == 200
    assert "cases: 8000 added" in html.unescape(response.get_data(as_text=True))
    assert _count(app, RecordCase) == 8000


def test_an_unreadable_file_is_reported_by_the_importer(admin_client):
    response = _import(admin_client, [("r.csv", b"name,age\nBob,4\n")])

    assert response.status_code == 200
    assert "cannot tell the format" in response.get_data(as_text=True)


def test_workers_cannot_import(app, worker_client):
    token = page_token(worker_client)
    response = worker_client.post(
        "/console/admin/imports",
        data={"csrf_token": token, "files": [(io.BytesIO(RECORDS_CSV.encode()), "r.csv")]},
        content_type="multipart/form-data",
    )

    assert response.status_code == 403
    assert _count(app, RecordCase) == 0


def test_import_needs_the_csrf_token(admin_client):
    response = admin_client.post(
        "/console/admin/imports",
        data={"files": [(io.BytesIO(RECORDS_CSV.encode()), "r.csv")]},
        content_type="multipart/form-data",
    )

    assert response.status_code == 403


def _harvester_export(cases: range) -> list[tuple[str, bytes]]:
    """A DSCR export (case table and charges table) of ``0B0666000n`` for n in ``cases``."""
    table = ["id,case_number,court_system,document_type,issued_date,case_status"]
    charges = ["id,case_number,charge_number,expunged,charge_description,disposition"]
    for n in cases:
        number = f"0B0666{n:04d}"
        table.append(f"{n},{number},District Court for Baltimore City,Citation,2016-04-02,CLOSED")
        charges.append(f"{n},{number},1,f,CDS: POSS-MARIJUANA,NOLLE PROSEQUI")
    return [
        ("dscr.csv", ("\n".join(table) + "\n").encode()),
        ("dscr_charges.csv", ("\n".join(charges) + "\n").encode()),
    ]


def test_a_monthly_snapshot_is_checked_then_applied_from_the_form(app, admin_client):
    _import(admin_client, _harvester_export(range(20)), format="caseharvester", snapshot="apply")
    later = _harvester_export(range(19))  # 0B06660019 was expunged since

    checked = html.unescape(
        _import(admin_client, later, format="caseharvester", snapshot="dry-run").get_data(
            as_text=True
        )
    )

    assert "would remove DSCR: 1 of 20 cases (5.0%)" in checked
    assert "Nothing was changed" in checked
    assert "0B0666" not in checked
    assert _count(app, RecordCase) == 20

    applied = html.unescape(
        _import(admin_client, later, format="caseharvester", snapshot="apply").get_data(
            as_text=True
        )
    )

    assert "removed DSCR: 1 of 20 cases (5.0%)" in applied
    assert _count(app, RecordCase) == 19
    with app.extensions["recordcheck.sessions"]() as session:
        details = [e.detail for e in session.scalars(select(ConsoleAuditEvent))]
    assert details[-1].endswith("snapshot applied: dscr -1/-0")


def test_a_truncated_snapshot_is_refused_on_the_form(app, admin_client):
    _import(admin_client, _harvester_export(range(20)), format="caseharvester", snapshot="apply")

    response = _import(
        admin_client, _harvester_export(range(5)), format="caseharvester", snapshot="apply"
    )

    page = html.unescape(response.get_data(as_text=True))
    assert "Snapshot refused, nothing was changed" in page
    assert "DSCR: 15 of 20 cases (75.0%)" in page
    assert "Remove even more than 10% of a case type" in page  # the box that overrides it
    assert _count(app, RecordCase) == 20


def test_a_snapshot_refused_before_reading_says_nothing_about_what_it_would_have_made(
    app, admin_client
):
    """A case table without its charges table is refused before any row is read: the page
    says nothing was changed and why, not "the import would have made: cases: 0 added"."""
    only_cases = _harvester_export(range(3))[:1]

    response = _import(admin_client, only_cases, format="caseharvester", snapshot="apply")

    page = html.unescape(response.get_data(as_text=True))
    assert "Nothing was changed." in page
    assert "would have made" not in page
    assert "a snapshot needs both" in page
    assert _count(app, RecordCase) == 0


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"snapshot": "apply"}, "choose the caseharvester format"),
        ({"format": "caseharvester", "force": "1"}, "goes with a snapshot"),
        ({"format": "caseharvester", "snapshot": "all"}, "Unknown snapshot choice"),
    ],
    ids=["auto-format", "force-alone", "unknown"],
)
def test_snapshot_choices_that_do_not_fit_are_refused(app, admin_client, form, message):
    response = _import(admin_client, _harvester_export(range(3)), **form)

    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))
    assert _count(app, RecordCase) == 0
