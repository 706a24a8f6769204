from __future__ import annotations

import csv
import io
import time

import pytest
from sqlalchemy import select

from db.models.console import ConsoleAuditEvent, ConsoleBatchJob
from tests.console.conftest import RECORDS_CSV, login, make_user, page_token
from webhooks.console import batch_engine


def _upload(client, data: bytes, name: str = "list.csv", **form):
    token = page_token(client, "/console/batch/")
    return client.post(
        "/console/batch/",
        data={"csrf_token": token, "file": (io.BytesIO(data), name), **form},
        content_type="multipart/form-data",
    )


def _wait(client, job_url: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        status = client.get(f"{job_url}/status").get_json()
        seen.append(status["done"])
        if status["status"] != "running":
            status["seen"] = seen
            return status
        time.sleep(0.05)
    raise AssertionError("batch job did not finish")


def _results(client, job_url: str) -> list[dict[str, str]]:
    response = client.get(f"{job_url}/results.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))


@pytest.mark.usefixtures("records")
def test_a_list_of_case_numbers_gives_a_summary_and_a_results_csv(worker_client):
    data = (
        b"case_number\n0B00000001\n0b-0000-0003\n0B07777777\nnot a case\n0B00000001\n"
        b'=HYPERLINK("http://evil")\n0B00000002\n'
    )

    response = _upload(worker_client, data)

    assert response.status_code == 302
    job_url = response.headers["Location"]
    page = worker_client.get(job_url)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="job-done"' in text
    assert 'id="download"' in text
    rows = _results(worker_client, job_url)
    assert [(r["line"], r["case_number"], r["status"]) for r in rows] == [
        ("2", "0B00000001", "screened"),
        ("3", "0B00000003", "screened"),
        ("4", "0B07777777", "not_found_or_unverified"),
        ("5", "not a case", "invalid"),
        ("6", "0B00000001", "duplicate"),
        ("7", '\'=HYPERLINK("http://evil")', "invalid"),
        ("8", "0B00000002", "not_found_or_unverified"),
    ]
    assert rows[0]["verdict"] in batch_engine.VERDICTS
    assert "bcsao-2019-vacatur: denied 2019-04-26" in rows[0]["programs"]
    assert "JOHNSON" not in page.get_data(as_text=True)


@pytest.mark.usefixtures("records")
def test_a_birth_date_column_unlocks_records_that_carry_one(worker_client):
    data = b"case_number,date_of_birth\n0B00000002,1980-05-06\n0B00000001,\n0B00000003,bad\n"

    job_url = _upload(worker_client, data).headers["Location"]

    rows = _results(worker_client, job_url)
    assert [(r["case_number"], r["status"]) for r in rows] == [
        ("0B00000002", "screened"),
        ("0B00000001", "screened"),
        ("0B00000003", "invalid"),
    ]
    assert "1980" not in worker_client.get(f"{job_url}/results.csv").get_data(as_text=True)


def test_charges_in_the_project_format_are_screened_per_case(worker_client):
    bad_row = "0B00000009,district,Baltimore City,closed,,,,x,CDS: POSS-MARIJUANA,,,,,,,\n"
    data = (RECORDS_CSV + bad_row).encode()

    job_url = _upload(worker_client, data, name="charges.csv").headers["Location"]

    rows = _results(worker_client, job_url)
    statuses = {(r["case_number"], r["status"]) for r in rows}
    assert statuses == {
        ("0B00000001", "screened"),
        ("0B00000002", "screened"),
        ("0B00000003", "screened"),
        ("0B00000009", "invalid"),
    }
    problem = next(r for r in rows if r["status"] == "invalid")
    assert problem["line"] == "6"
    assert "charge_number" in problem["problem"]
    assert "JOHNSON" not in worker_client.get(f"{job_url}/results.csv").get_data(as_text=True)


def test_a_case_with_an_unreadable_charge_row_is_not_screened_on_the_others(worker_client):
    """0B00000003 is a guilty PWID and a dropped possession charge: with the PWID row's date
    mistyped, screening the possession charge alone would call the case cleared."""
    lines = RECORDS_CSV.splitlines()
    pwid = lines[3].replace("2018-08-01,2020-08-01", "2018-13-01,2020-08-01")
    assert pwid != lines[3]
    data = "\n".join([lines[0], lines[1], pwid, lines[4]]) + "\n"

    job_url = _upload(worker_client, data.encode(), name="charges.csv").headers["Location"]

    rows = _results(worker_client, job_url)
    assert [(r["line"], r["case_number"], r["status"], r["verdict"]) for r in rows] == [
        ("2", "0B00000001", "screened", rows[0]["verdict"]),
        ("3", "0B00000003", "invalid", ""),
        ("4", "0B00000003", "invalid", ""),
    ]
    assert "disposition_date" in rows[1]["problem"]
    assert rows[2]["problem"] == "not screened: the charge on line 3 is unreadable"


def test_a_list_without_a_header_is_read_as_case_numbers(worker_client):
    job_url = _upload(worker_client, b"0B07777777\n0B07777778\n", name="list.txt").headers[
        "Location"
    ]

    assert [r["status"] for r in _results(worker_client, job_url)] == [
        "not_found_or_unverified",
        "not_found_or_unverified",
    ]


def _demo(app, cases: int) -> list[str]:
    from db.models.records import RecordCase
    from db.records import demo

    demo.load(app.extensions["recordcheck.engine"], demo.generate(cases, 11))
    with app.extensions["recordcheck.sessions"]() as session:
        return list(session.scalars(select(RecordCase.case_number).order_by(RecordCase.id)))


@pytest.mark.slow
def test_a_large_batch_is_screened_completely_with_progress(app, worker_client):
    """Speed is measured by bench/console_batch.py; here: every row comes back, with progress."""
    numbers = _demo(app, 2_200)[:2_000]
    assert len(numbers) == 2_000
    data = ("case_number\n" + "\n".join(numbers) + "\n").encode()

    response = _upload(worker_client, data)
    job_url = response.headers["Location"]
    running_page = worker_client.get(job_url).get_data(as_text=True)
    status = _wait(worker_client, job_url)

    assert status["status"] == "done"
    assert status["done"] == status["total"] == 2_000
    assert "data-status-url" in running_page or 'id="job-done"' in running_page
    rows = _results(worker_client, job_url)
    assert len(rows) == 2_000
    done_page = worker_client.get(job_url).get_data(as_text=True)
    assert 'id="count-automatic"' in done_page


@pytest.mark.usefixtures("records")
def test_a_long_list_runs_in_the_background_and_reports_progress(worker_client, monkeypatch):
    monkeypatch.setattr(batch_engine, "SYNC_LIMIT", 2)
    monkeypatch.setattr(batch_engine, "CHUNK", 1)
    data = b"case_number\n0B00000001\n0B00000003\n0B07777777\n"

    job_url = _upload(worker_client, data).headers["Location"]
    status = _wait(worker_client, job_url)

    assert status["status"] == "done"
    assert status["done"] == 3
    assert status["seen"] == sorted(status["seen"])


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "list.csv", "empty"),
        (b"   \n\n", "list.csv", "empty"),
        (b"case_number\n0B00000001\n", "list.xlsx", "Upload a .csv file"),
        (b"PK\x03\x04rest-of-a-zip", "list.csv", "Excel"),
        (b"%PDF-1.4 ...", "list.csv", "PDF"),
        (b"case_number\x00\x00\x00\n", "list.csv", "not a text file"),
        (b"\xff\xfe\xfd\n\xfa\xfb\n", "list.csv", "cannot be read as it"),
        (b"\x81\x8d\n\x8f\x90\n", "list.csv", "no readable rows"),
        (b"program,case_number,status\nx,0B00000001,ok\n", "list.csv", "program list"),
        (b"case_number\n\n\n", "list.csv", "no case numbers"),
        (b"name,age\nBob,4\n", "list.csv", "Cannot tell"),
        ((RECORDS_CSV.splitlines()[0] + "\n").encode(), "list.csv", "no charge rows"),
    ],
    ids=[
        "empty", "blank", "xlsx-name", "zip", "pdf", "nul", "broken-utf16", "not-text", "program",
        "header-only", "unknown-columns", "records-header-only",
    ],
)  # fmt: skip
def test_bad_uploads_are_refused_with_a_reason(worker_client, data, name, message):
    response = _upload(worker_client, data, name=name)

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("right", "wrong", "message"),
    [
        ("disposition,", "dispositon,", "unknown columns: dispositon"),
        ("statute,", "description,", "names a column twice: description"),
    ],
    ids=["misspelt", "repeated"],
)
def test_a_record_file_whose_header_would_be_misread_is_refused(
    worker_client, right, wrong, message
):
    header, *rows = RECORDS_CSV.splitlines()
    data = "\n".join([header.replace(right, wrong, 1), *rows]) + "\n"

    response = _upload(worker_client, data.encode(), name="charges.csv")

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_rows_that_are_not_text_are_reported_not_fatal(worker_client):
    data = b"case_number\n0B07777777\n\x81\x8d\x90\n"

    job_url = _upload(worker_client, data).headers["Location"]

    rows = _results(worker_client, job_url)
    assert [(r["status"], r["problem"]) for r in rows] == [
        ("not_found_or_unverified", ""),
        ("invalid", "line is not UTF-8 text"),
    ]


@pytest.mark.usefixtures("records")
@pytest.mark.parametrize(
    "data",
    [
        "case_number,name\n0B00000001,Jos\u00e9 P\u00e9rez\n0B07777777,Zo\u00eb\n".encode(
            "cp1252"
        ),
        "case_number,name\n0B00000001,Jos\u00e9 P\u00e9rez\n0B07777777,Zo\u00eb\n".encode(
            "utf-16"
        ),
        "case_number\tname\r\n0B00000001\tJos\u00e9 P\u00e9rez\r\n0B07777777\tZo\u00eb\r\n".encode(
            "utf-16"
        ),
        "\ufeffcase_number,name\n0B00000001,Jos\u00e9 P\u00e9rez\n0B07777777,Zo\u00eb\n".encode(),
    ],
    ids=["windows-1252", "utf-16", "excel-unicode-text", "utf-8-bom"],
)
def test_lists_saved_by_excel_with_accented_names_are_screened(worker_client, data):
    """Excel saves "CSV" as Windows-1252 and "Unicode Text" as tab-separated UTF-16: a row
    with a client's accented name is screened like any other, not dropped as unreadable."""
    response = _upload(worker_client, data)

    assert response.status_code == 302, response.get_data(as_text=True)
    rows = _results(worker_client, response.headers["Location"])
    assert [(r["case_number"], r["status"], r["problem"]) for r in rows] == [
        ("0B00000001", "screened", ""),
        ("0B07777777", "not_found_or_unverified", ""),
    ]


def test_the_results_file_opens_in_excel_with_its_accents(worker_client):
    data = "case_number\nJos\u00e9 P\u00e9rez\n".encode("cp1252")

    job_url = _upload(worker_client, data).headers["Location"]

    body = worker_client.get(f"{job_url}/results.csv").get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with this mark
    assert "Jos\u00e9 P\u00e9rez".encode() in body


@pytest.mark.usefixtures("records")
def test_charge_rows_in_windows_1252_are_screened(worker_client):
    lines = RECORDS_CSV.splitlines()
    data = "\n".join([*lines[:2], lines[2].replace("JOHNSON, MARIA K", "P\u00c9REZ, JOS\u00c9")])
    response = _upload(worker_client, (data + "\n").encode("cp1252"))

    rows = _results(worker_client, response.headers["Location"])
    assert [(r["case_number"], r["status"]) for r in rows] == [
        ("0B00000001", "screened"),
        ("0B00000002", "screened"),
    ]


@pytest.mark.usefixtures("records")
def test_a_birth_date_with_a_two_digit_year_is_reported_not_unmatched(worker_client):
    data = b"case_number,date_of_birth\n0B00000002,05/06/80\n0B00000002,05/06/1980\n"

    job_url = _upload(worker_client, data).headers["Location"]

    rows = _results(worker_client, job_url)
    assert [(r["status"], r["problem"]) for r in rows] == [
        ("invalid", "date_of_birth is not a date like 1985-03-25 or 03/25/1985"),
        ("screened", ""),
    ]


def test_no_file_and_a_bad_date_are_refused(worker_client):
    token = page_token(worker_client, "/console/batch/")

    no_file = worker_client.post("/console/batch/", data={"csrf_token": token})
    bad_date = _upload(worker_client, b"0B07777777\n", as_of="someday")

    assert no_file.status_code == 400
    assert bad_date.status_code == 400
    page = bad_date.get_data(as_text=True)
    assert 'id="as_of-error"' in page
    assert 'aria-describedby="as_of-error"' in page
    assert 'value="someday"' in page


def test_a_list_larger_than_one_megabyte_is_screened(worker_client):
    """The page takes lists up to 16 MB; the sign-in check read the form first under the
    app's 1 MB limit, and refused any larger list as "too large"."""
    rows = [f"0B0{i:07d},{'Client with a long name ' * 250}" for i in range(200)]
    data = ("case_number,name\n" + "\n".join(rows) + "\n").encode()
    assert len(data) > 1024 * 1024

    response = _upload(worker_client, data)

    assert response.status_code == 302, response.status_code
    results = _results(worker_client, response.headers["Location"])
    assert len(results) == 200
    assert {r["status"] for r in results} == {"not_found_or_unverified"}


def test_too_big_an_upload_is_refused_before_it_is_read(worker_client):
    data = b"case_number\n" + b"0B07777777\n" * (batch_engine.MAX_UPLOAD_BYTES // 11 + 10_000)

    response = _upload(worker_client, data)

    assert response.status_code == 413
    assert "too large for this page: it takes up to 16 MB" in response.get_data(as_text=True)


def test_a_file_just_over_the_limit_is_refused_with_the_limit(worker_client):
    data = b"case_number\n" + b"0B07777777\n" * (batch_engine.MAX_UPLOAD_BYTES // 11 + 10)

    response = _upload(worker_client, data)

    assert response.status_code == 400
    assert "The file is larger than 16 MB." in response.get_data(as_text=True)


def test_too_many_cases_are_refused(worker_client, monkeypatch):
    monkeypatch.setattr(batch_engine, "MAX_CASES", 3)

    response = _upload(worker_client, b"0B07777771\n0B07777772\n0B07777773\n0B07777774\n")

    assert response.status_code == 400
    assert "more than 3 cases" in response.get_data(as_text=True)


def test_upload_needs_the_csrf_token(worker_client):
    response = worker_client.post(
        "/console/batch/",
        data={"file": (io.BytesIO(b"0B07777777\n"), "l.csv")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 403


def test_other_workers_cannot_see_a_job_but_admins_can(app, worker_client, admin_client):
    job_url = _upload(worker_client, b"0B07777777\n").headers["Location"]
    other = app.test_client()
    make_user(app, "other@clinic.example")
    login(other, "other@clinic.example")

    for suffix in ("", "/status", "/results.csv"):
        assert other.get(job_url + suffix).status_code == 404
    token = page_token(other, "/console/batch/")
    assert other.post(job_url + "/delete", data={"csrf_token": token}).status_code == 404
    assert admin_client.get(job_url).status_code == 200


def test_a_job_can_be_deleted_and_every_step_is_audited(app, worker_client, worker):
    job_url = _upload(worker_client, b"0B07777777\n").headers["Location"]
    worker_client.get(job_url + "/results.csv")
    token = page_token(worker_client, "/console/batch/")

    response = worker_client.post(job_url + "/delete", data={"csrf_token": token})

    assert response.status_code == 302
    assert worker_client.get(job_url).status_code == 404
    with app.extensions["recordcheck.sessions"]() as session:
        assert list(session.scalars(select(ConsoleBatchJob))) == []
        actions = [e.action for e in session.scalars(select(ConsoleAuditEvent))]
    assert [a for a in actions if "batch" in a] == ["batch", "batch_download", "batch_delete"]


def test_a_job_cut_off_by_a_restart_says_so(app, worker_client, worker):
    import datetime as dt

    from db.base import utcnow

    with app.extensions["recordcheck.sessions"]() as session:
        job = ConsoleBatchJob(
            user_id=worker.id,
            kind="case_numbers",
            status="running",
            as_of="2026-01-01",
            total=5,
            done=1,
            created_at=utcnow() - dt.timedelta(hours=1),
        )
        session.add(job)
        session.commit()
        job_id = job.id

    status = worker_client.get(f"/console/batch/{job_id}/status").get_json()

    assert status["status"] == "failed"
    assert worker_client.get(f"/console/batch/{job_id}/results.csv").status_code == 409
