"""End-to-end: the console in real headless Chromium (Debian's), driven by Playwright.

A worker signs in, looks up a demo case, prints the handout, runs a batch and claims a
handoff, on a real server over HTTP. Skipped, saying so, where no Chromium is installed;
`.ci/run` installs Debian's chromium, so CI always runs these.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from db.base import utcnow
from db.models.console import ConsoleBatchJob, ConsoleUser
from db.records import demo
from tests.browser import require_chromium
from tests.console.conftest import PASSWORD, Worker, open_handoff

require_chromium()

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("records")]


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    """The real app on a real HTTP server on 127.0.0.1 (a free port)."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def page(browser, server) -> Iterator[object]:
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 720})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(str(e)))
    tab.problems = problems
    yield tab
    context.close()


def _sign_in(page, user: Worker) -> None:
    page.goto("/console/")
    assert "/console/login" in page.url
    page.get_by_label("Email", exact=True).fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password", exact=True).press("Enter")
    page.wait_for_url("**/console/")


def test_sign_in_look_up_a_demo_case_and_print_the_handout(app, page, worker):
    demo.load(app.extensions["recordcheck.engine"], demo.generate(30, 5))
    _sign_in(page, worker)

    page.get_by_label("Case number", exact=True).fill("0b 0000 0001")
    page.get_by_role("button", name="Look up case").click()
    page.wait_for_selector("h1:has-text('Case 0B00000001')")
    assert page.locator("#pathway-auto_expungement_cannabis").is_visible()
    assert "bcsao-2019-vacatur" in page.inner_text("main")
    assert "§ 10-112" in page.inner_text("main")

    page.get_by_label("Language", exact=True).select_option("es")
    page.get_by_role("button", name="Open printable handout").click()
    page.wait_for_selector("article.handout h1")
    assert page.inner_text("article.handout h1") == "Sus próximos pasos"
    assert "Ayuda gratis" in page.inner_text("article.handout")

    page.evaluate(
        "() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }"
    )
    page.get_by_role("button", name="Imprimir").click()
    assert page.evaluate("window.__printed") == 1
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert not page.get_by_role("button", name="Imprimir").is_visible()
    assert page.locator("article.handout").is_visible()
    printed = page.pdf(format="Letter")
    assert printed.startswith(b"%PDF")
    page.emulate_media(media="screen")

    with page.expect_download() as download:
        page.get_by_role("button", name="PDF").click()
    path = download.value.path()
    assert Path(path).read_bytes().startswith(b"%PDF")
    assert page.problems == []


def test_a_record_with_a_birth_date_is_found_by_name_and_opened(page, worker):
    _sign_in(page, worker)

    page.get_by_label("Client's name", exact=True).fill("maria jonson")
    page.locator("#search_date_of_birth").fill("1980-05-06")
    page.get_by_role("button", name="Search").click()
    page.wait_for_selector("#matches-heading")
    page.get_by_role("button", name="Open case 0B00000002").click()
    page.wait_for_selector("h1:has-text('Case 0B00000002')")
    assert "verified by date of birth" in page.inner_text("main")


def test_run_a_batch_and_watch_its_progress(app, page, worker, tmp_path, monkeypatch):
    from webhooks.console import batch_engine

    monkeypatch.setattr(batch_engine, "SYNC_LIMIT", 10)
    demo.load(app.extensions["recordcheck.engine"], demo.generate(400, 9))
    numbers = [f"0B0777{n:04d}" for n in range(50)] + ["0B00000001", "0B00000003", "junk"]
    listing = tmp_path / "clients.csv"
    listing.write_text("case_number\n" + "\n".join(numbers) + "\n", encoding="utf-8")
    _sign_in(page, worker)

    page.get_by_role("link", name="Batch").click()
    page.get_by_label("CSV file", exact=True).set_input_files(str(listing))
    page.get_by_role("button", name="Screen the list").click()
    page.wait_for_selector("#job-done", timeout=30_000)

    assert page.inner_text("#count-not-found strong") == "50"
    assert page.inner_text("#count-invalid strong") == "1"
    screened = sum(int(page.inner_text(f"#count-{key} strong")) for key in batch_engine.VERDICTS)
    assert screened == 2
    with page.expect_download() as download:
        page.get_by_role("link", name="Download results CSV").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + len(numbers)
    assert page.problems == []


def test_claim_a_handoff_add_a_note_and_close_it(app, page, worker):
    open_handoff(
        app,
        channel="telegram",
        address="123456",
        lang="es",
        summary="Idioma: español\nCaso: 0B00000001",
    )
    _sign_in(page, worker)

    page.get_by_role("link", name="Handoffs").click()
    page.get_by_role("button", name="Claim").first.click()
    page.wait_for_selector("#handoff-status")
    assert "claimed by you" in page.inner_text("#handoff-status")
    assert "0B00000001" in page.inner_text("main")
    page.get_by_label("Add a note", exact=True).fill("Llamé; cita el martes.")
    page.get_by_role("button", name="Add note").click()
    page.wait_for_selector("#notes")
    assert "Llamé; cita el martes." in page.inner_text("#notes")
    page.get_by_role("button", name="Close (done)").click()
    page.wait_for_url("**/console/handoffs/")
    assert "Nothing here right now." in page.inner_text("main")


def test_keyboard_labels_focus_and_a_small_screen(page, admin):
    page.set_viewport_size({"width": 1024, "height": 600})
    page.goto("/console/login")
    assert page.evaluate("document.activeElement.id") == "email"  # autofocus
    page.keyboard.type(admin.email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Sign in"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    unlabeled_script = """() => [...document.querySelectorAll('input, select, textarea')]
        .filter(e => e.type !== 'hidden')
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
        .map(e => e.name)"""
    for path in (
        "/console/",
        "/console/screen",
        "/console/batch/",
        "/console/handoffs/",
        "/console/admin/users",
        "/console/admin/imports",
    ):
        page.goto(path)
        assert page.evaluate(unlabeled_script) == [], path
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 1024px"
    assert page.problems == []


def test_admin_imports_a_program_list_in_the_browser(page, admin, tmp_path):
    listing = tmp_path / "bcsao.csv"
    listing.write_text(
        "program,case_number,status,status_date,note\n"
        "bcsao-2019-vacatur,0B00000003,motion filed,2019-01-29,\n"
        "bcsao-2019-vacatur,,motion filed,2019-01-29,\n",
        encoding="utf-8",
    )
    _sign_in(page, admin)

    page.get_by_role("link", name="Import").click()
    page.get_by_label("CSV files", exact=True).set_input_files(str(listing))
    page.get_by_role("button", name="Import").click()
    page.wait_for_selector("#import-report")
    report = page.inner_text("#import-report")
    assert "program entries: 1 added" in report
    assert "bcsao.csv" in report
    assert "case_number" in report  # the bad row's reason names the column


def test_a_worker_does_not_see_admin_pages(page, worker):
    _sign_in(page, worker)

    assert page.get_by_role("link", name="Users").count() == 0
    response = page.goto("/console/admin/users")
    assert response.status == 403
    assert "Only admins" in page.inner_text("main")


def _claimed_handoff(app, page, worker, notes: str | None = None) -> None:
    """A request the worker has claimed, its page open (with ``notes`` already on it)."""
    open_handoff(app, notes=notes)
    _sign_in(page, worker)
    page.get_by_role("link", name="Handoffs").click()
    page.get_by_role("button", name="Claim").first.click()
    page.wait_for_selector("#handoff-status")


def test_a_note_as_long_as_the_box_allows_is_saved_with_its_line_breaks(app, page, worker):
    """The box lets a worker type 2,000 characters counting each line break as one; the form
    sends each as two (CR LF). Such a note is saved, not refused and wiped."""
    _claimed_handoff(app, page, worker)
    lines = [f"Step {n}: called the client back, left a message." for n in range(40)]
    note = "\n".join(lines)
    note = note + " " + "x" * (2000 - len(note) - 1)

    box = page.get_by_label("Add a note", exact=True)
    box.fill(note)
    assert page.evaluate("document.getElementById('note').value.length") == 2000
    page.get_by_role("button", name="Add note").click()
    page.wait_for_load_state()

    assert page.locator("#handoff-error").count() == 0
    assert "Step 39: called the client back" in page.inner_text("#notes")


def test_a_refused_note_stays_in_the_box_tied_to_its_error(app, page, worker):
    _claimed_handoff(app, page, worker, notes="n" * 19_990)

    page.get_by_label("Add a note", exact=True).fill("Client asked for a callback on Tuesday.")
    page.get_by_role("button", name="Add note").click()
    page.wait_for_selector("#handoff-error")

    box = page.get_by_label("Add a note", exact=True)
    assert box.input_value() == "Client asked for a callback on Tuesday."
    assert "handoff-error" in (box.get_attribute("aria-describedby") or "")
    assert "too many notes" in page.inner_text("#handoff-error")


def test_a_refused_upload_keeps_the_screening_date(page, worker, tmp_path):
    """Choosing the wrong file must not quietly reset "Screen as of" to today for the retry."""
    wrong = tmp_path / "clients.xlsx"
    wrong.write_bytes(b"PK\x03\x04 a spreadsheet")
    listing = tmp_path / "clients.csv"
    listing.write_text("case_number\n0B00000001\n", encoding="utf-8")
    _sign_in(page, worker)
    page.get_by_role("link", name="Batch").click()

    page.get_by_label("Screen as of", exact=False).fill("2025-01-15")
    page.get_by_label("CSV file", exact=True).set_input_files(str(wrong))
    page.get_by_role("button", name="Screen the list").click()
    page.wait_for_selector("#batch-error")

    assert page.get_by_label("Screen as of", exact=False).input_value() == "2025-01-15"
    page.get_by_label("CSV file", exact=True).set_input_files(str(listing))
    page.get_by_role("button", name="Screen the list").click()
    page.wait_for_selector("#job-done")
    assert "screened as of 2025-01-15" in page.inner_text("#job-heading")


def test_a_refused_new_user_keeps_the_role_chosen(app, page, admin, worker):
    """After "already exists", fixing the email and adding again must not make a worker of
    someone the admin meant to make an admin."""
    _sign_in(page, admin)
    page.get_by_role("link", name="Users").click()

    page.get_by_label("Role", exact=True).select_option("admin")
    page.get_by_label("Email", exact=True).fill(worker.email)
    page.get_by_role("button", name="Add user").click()
    page.wait_for_selector("#user-error")

    assert page.get_by_label("Role", exact=True).input_value() == "admin"
    assert page.get_by_label("Email", exact=True).input_value() == worker.email
    page.get_by_label("Email", exact=True).fill("lead@clinic.example")
    page.get_by_role("button", name="Add user").click()
    page.wait_for_selector("#setup-link")
    with app.extensions["recordcheck.sessions"]() as session:
        role = session.scalar(
            select(ConsoleUser.role).where(ConsoleUser.email == "lead@clinic.example")
        )
    assert role == "admin"


def test_a_client_answer_to_fix_stays_on_the_case_page(page, worker):
    """ "Convicted since? Yes" without a date used to drop the worker back on the look-up page
    with every answer gone; the case stays open and the problem is shown at its field."""
    _sign_in(page, worker)
    page.get_by_label("Case number", exact=True).fill("0B00000003")
    page.get_by_role("button", name="Look up case").click()
    page.wait_for_selector("h1:has-text('Case 0B00000003')")

    page.get_by_label("Open criminal case now?").select_option("no")
    page.get_by_label("Convicted of anything since?").select_option("yes")
    page.get_by_role("button", name="Screen again").click()
    page.wait_for_selector("#later_conviction-error")

    assert page.inner_text("h1") == "Case 0B00000003"
    assert page.get_by_label("Open criminal case now?").input_value() == "no"
    assert page.get_by_label("Convicted of anything since?").input_value() == "yes"
    when = page.get_by_label("If yes, when")
    assert "later_conviction-error" in (when.get_attribute("aria-describedby") or "")
    assert "Give the date" in page.inner_text("#later_conviction-error")

    when.fill("2021-03-04")
    page.get_by_role("button", name="Screen again").click()
    page.wait_for_selector("h1:has-text('Case 0B00000003')")
    assert page.locator("#later_conviction-error").count() == 0
    assert page.get_by_label("If yes, when").input_value() == "2021-03-04"


def test_an_upload_says_it_has_started_and_cannot_be_sent_twice(app, page, worker, tmp_path):
    """A large list on clinic Wi-Fi takes a while to upload: the page says so at once, and a
    second click while it uploads is not a second submission."""
    listing = tmp_path / "clients.csv"
    listing.write_text("case_number\n0B00000001\n", encoding="utf-8")
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    _sign_in(page, worker)
    page.get_by_role("link", name="Batch").click()
    # The page's script sets up the button when the page has loaded; on a busy machine the
    # form is there before that.
    page.wait_for_load_state()
    page.get_by_label("CSV file", exact=True).set_input_files(str(listing))
    posts.clear()

    # Click, then click again, before the upload can finish (in one task of the page).
    disabled, said = page.evaluate(
        """() => {
            const button = document.getElementById('file').form.querySelector('button');
            button.click();
            const note = document.getElementById('batch-busy');
            const after = [button.disabled, note ? note.textContent : ''];
            button.click();
            return after;
        }"""
    )

    assert disabled
    assert "Uploading and reading the list" in said
    page.wait_for_selector("#job-done")
    assert len(posts) == 1
    with app.extensions["recordcheck.sessions"]() as session:
        assert len(session.scalars(select(ConsoleBatchJob)).all()) == 1


def test_a_note_typed_while_the_session_ran_out_is_kept_through_sign_in_and_saved_once(
    app, page, worker
):
    """The worker writes a long note, the session times out meanwhile, and Add note meets the
    sign-in page: after signing in the note is back in its box, and it is saved once."""
    from db.models.console import ConsoleSession
    from db.models.conversation import HandoffRequest
    from webhooks.console import accounts

    _claimed_handoff(app, page, worker)
    lines = [f"Line {n}: spoke with the client about the 2016 case papers." for n in range(12)]
    note = "\n".join(lines)
    page.get_by_label("Add a note", exact=True).fill(note)
    with app.extensions["recordcheck.sessions"]() as session:
        for row in session.scalars(select(ConsoleSession)):
            row.last_seen_at = utcnow() - accounts.SESSION_IDLE - dt.timedelta(minutes=1)
        session.commit()

    page.get_by_role("button", name="Add note").click()
    page.wait_for_selector("#kept-notice")
    assert "before your note went through" in page.inner_text("#kept-notice")
    assert "Line 3" not in page.url
    page.get_by_label("Email", exact=True).fill(worker.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#note")

    assert "signed in again" in page.inner_text("#kept-notice")
    assert page.get_by_label("Add a note", exact=True).input_value() == note
    page.get_by_role("button", name="Add note").click()
    page.wait_for_selector("#notes")
    assert page.inner_text("#notes").count("Line 11: spoke with the client") == 1
    assert page.get_by_label("Add a note", exact=True).input_value() == ""
    with app.extensions["recordcheck.sessions"]() as session:
        notes = session.scalars(select(HandoffRequest.notes)).one()
    assert notes.count("Line 0: spoke with the client") == 1
    assert "Line 5: spoke with the client about the 2016 case papers.\nLine 6" in notes
    # The refused send answered 401, as it should; nothing else went wrong (no CSP breach).
    assert [p for p in page.problems if "status of 401" not in p] == []


def test_a_month_without_its_year_is_shown_at_its_question(page, worker):
    _sign_in(page, worker)
    page.get_by_role("link", name="Screen by hand").click()
    page.get_by_label("Guilty", exact=True).check()
    page.locator("#q_when_month").select_option("3")
    page.get_by_role("button", name="Screen", exact=True).click()
    page.wait_for_selector("#q_when-error")

    assert "Enter the year too" in page.inner_text("#q_when-error")
    assert page.locator("#q_when_year").get_attribute("aria-invalid") == "true"
    assert page.locator("#q_when_month").input_value() == "3"
    assert page.get_by_label("Guilty", exact=True).is_checked()
    assert page.locator("#screen-done").count() == 0
    assert [p for p in page.problems if "status of 400" not in p] == []


def test_an_end_before_the_arrest_is_shown_at_its_question_then_screened(page, worker):
    _sign_in(page, worker)
    page.get_by_role("link", name="Screen by hand").click()
    page.get_by_label("Stet", exact=True).check()
    page.locator("#q_when_year").fill("2023")
    page.locator("#q_when_month").select_option("6")
    page.locator("#q_ended_year").fill("2022")
    page.get_by_role("button", name="Screen", exact=True).click()
    page.wait_for_selector("#q_ended-error")

    assert "cannot end before it happened" in page.inner_text("#q_ended-error")
    assert page.locator("#q_ended_year").get_attribute("aria-invalid") == "true"
    assert page.locator("#q_ended_year").input_value() == "2022"
    assert page.locator("#q_when_month").input_value() == "6"
    assert page.locator("#screen-done").count() == 0

    page.locator("#q_ended_year").fill("2024")
    page.locator("#q_ended_month").select_option("1")
    page.get_by_role("button", name="Screen", exact=True).click()
    page.wait_for_selector("#screen-done")

    assert page.locator("#q_ended-error").count() == 0
    assert page.locator("#q_ended_month").input_value() == "1"
    assert [p for p in page.problems if "status of 400" not in p] == []
