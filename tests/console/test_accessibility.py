"""Accessibility of every console page: axe-core's WCAG 2.0/2.1 A and AA checks, and by hand.

Clinic volunteers use screen readers, keyboards only, zoom and phones. Each page below is
opened as a worker reaches it, in real headless Chromium, and checked by axe-core
(axe-playwright-python); a test fails on any "serious" or "critical" violation and names the
page and the rule. The keyboard, focus and small-screen checks are plain assertions.
"""
# ruff: noqa: F811 - pytest fixtures imported from tests.console.test_browser_console

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.browser import axe_problems, require_chromium
from tests.console.conftest import open_handoff
from tests.console.test_browser_console import _sign_in, page, server  # noqa: F401 - fixtures

require_chromium()

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("records")]


@pytest.fixture(autouse=True)
def _checked_once(backend: str) -> None:
    """A page's markup does not depend on the database: check it on SQLite only."""
    if backend != "sqlite":
        pytest.skip("the console's pages are the same on PostgreSQL; checked on SQLite")


def _add_handoff(app: Flask) -> None:
    open_handoff(app, lang="es", summary="Idioma: español\nCaso: 0B00000001")


def _look_up(tab, number: str = "0B00000001") -> None:
    tab.goto("/console/")
    tab.get_by_label("Case number", exact=True).fill(number)
    tab.get_by_role("button", name="Look up case").click()
    tab.wait_for_load_state()


def _screen(tab) -> None:
    tab.goto("/console/screen")
    tab.get_by_label("Guilty", exact=True).check()
    tab.locator("#q_when_year").fill("2016")
    tab.get_by_role("button", name="Screen", exact=True).click()
    tab.wait_for_selector("#screen-done")


def _refused_screen(tab) -> None:
    tab.goto("/console/screen")
    tab.locator("#q_when_month").select_option("3")
    tab.get_by_role("button", name="Screen", exact=True).click()
    tab.wait_for_selector("#q_when-error")


def _handout(tab, lang: str) -> None:
    _look_up(tab)
    tab.get_by_label("Language", exact=True).select_option(lang)
    tab.get_by_role("button", name="Open printable handout").click()
    tab.wait_for_selector("article.handout h1")


def _batch_done(tab, folder: Path) -> None:
    listing = folder / "clients.csv"
    listing.write_text("case_number\n0B00000001\n0B00000003\n0B09999999\njunk\n", "utf-8")
    tab.goto("/console/batch/")
    tab.get_by_label("CSV file", exact=True).set_input_files(str(listing))
    tab.get_by_role("button", name="Screen the list").click()
    tab.wait_for_selector("#job-done", timeout=30_000)
    tab.get_by_text("First 4 rows").click()


def _refused_batch(tab, folder: Path) -> None:
    wrong = folder / "clients.xlsx"
    wrong.write_bytes(b"PK\x03\x04 a spreadsheet")
    tab.goto("/console/batch/")
    tab.get_by_label("CSV file", exact=True).set_input_files(str(wrong))
    tab.get_by_role("button", name="Screen the list").click()
    tab.wait_for_selector("#batch-error")


def _handoff_page(tab) -> None:
    tab.goto("/console/handoffs/")
    tab.get_by_role("button", name="Claim").first.click()
    tab.wait_for_selector("#handoff-status")


def _refused_answer_text(tab) -> None:
    _handoff_page(tab)
    tab.locator("#answer-text").fill("   ")  # only spaces: "required" lets it through
    tab.locator("#answer-text").evaluate("box => box.form.requestSubmit()")
    tab.wait_for_selector("#handoff-error")


def _imported(tab, folder: Path) -> None:
    listing = folder / "bcsao.csv"
    listing.write_text(
        "program,case_number,status,status_date,note\n"
        "bcsao-2019-vacatur,0B00000003,motion filed,2019-01-29,\n"
        "bcsao-2019-vacatur,,motion filed,2019-01-29,\n",
        encoding="utf-8",
    )
    tab.goto("/console/admin/imports")
    tab.get_by_label("CSV files", exact=True).set_input_files(str(listing))
    tab.get_by_role("button", name="Import").click()
    tab.wait_for_selector("#import-report")


def _new_user(tab) -> None:
    tab.goto("/console/admin/users")
    tab.get_by_label("Email", exact=True).fill("new@clinic.example")
    tab.get_by_role("button", name="Add user").click()
    tab.wait_for_selector("#setup-link")


def _setup_link(app: Flask) -> str:
    from webhooks.console import accounts

    with app.extensions["recordcheck.sessions"]() as session:
        _user, token = accounts.create_user(session, email="setup@clinic.example", role="worker")
        session.commit()
    return f"/console/setup/{token}"


def _refused_setup(tab, app: Flask) -> None:
    tab.goto(_setup_link(app))
    tab.get_by_label("New password", exact=True).fill("a long new password")
    tab.get_by_label("The same password again", exact=True).fill("another long password")
    tab.get_by_role("button", name="Set password").click()
    tab.wait_for_selector("#setup-error")


def _refused_answer(tab) -> None:
    _look_up(tab, "0B00000003")
    tab.get_by_label("Convicted of anything since?").select_option("yes")
    tab.get_by_role("button", name="Screen again").click()
    tab.wait_for_selector("#later_conviction-error")


def _refused_user(tab) -> None:
    tab.goto("/console/admin/users")
    tab.get_by_label("Email", exact=True).fill("worker@clinic.example")
    tab.get_by_role("button", name="Add user").click()
    tab.wait_for_selector("#user-error")


def _refused_sign_in(tab) -> None:
    tab.goto("/console/login")
    tab.get_by_label("Email", exact=True).fill("nobody@clinic.example")
    tab.get_by_label("Password", exact=True).fill("wrong password here")
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_selector("#login-error")


def _search_by_name(tab) -> None:
    tab.goto("/console/")
    tab.get_by_label("Client's name", exact=True).fill("maria jonson")
    tab.locator("#search_date_of_birth").fill("1980-05-06")
    tab.get_by_role("button", name="Search").click()
    tab.wait_for_selector("#matches-heading")


def _goto(path: str) -> Callable[..., None]:
    return lambda tab, **_: tab.goto(path)


# name: (who signs in: None, "worker" or "admin"; how to open the page from there)
PAGES: dict[str, tuple[str | None, Callable[..., None]]] = {
    "sign-in": (None, _goto("/console/login")),
    "sign-in refused": (None, lambda tab, **_: _refused_sign_in(tab)),
    "account setup link": (None, lambda tab, app, **_: tab.goto(_setup_link(app))),
    "account setup link used": (None, _goto("/console/setup/not-a-real-token")),
    "account setup refused": (None, lambda tab, app, **_: _refused_setup(tab, app)),
    "look up (home)": ("worker", _goto("/console/")),
    "look-up result": ("worker", lambda tab, **_: _look_up(tab)),
    "case answer refused": ("worker", lambda tab, **_: _refused_answer(tab)),
    "look-up not found": ("worker", lambda tab, **_: _look_up(tab, "0B09999999")),
    "look up by name and date of birth": ("worker", lambda tab, **_: _search_by_name(tab)),
    "screen by hand": ("worker", _goto("/console/screen")),
    "screen by hand result": ("worker", lambda tab, **_: _screen(tab)),
    "screen by hand refused": ("worker", lambda tab, **_: _refused_screen(tab)),
    "printable handout (en)": ("worker", lambda tab, **_: _handout(tab, "en")),
    "printable handout (es)": ("worker", lambda tab, **_: _handout(tab, "es")),
    "batch upload": ("worker", _goto("/console/batch/")),
    "batch upload refused": ("worker", lambda tab, folder, **_: _refused_batch(tab, folder)),
    "batch results": ("worker", lambda tab, folder, **_: _batch_done(tab, folder)),
    "handoff inbox": ("worker", _goto("/console/handoffs/")),
    "handoff request": ("worker", lambda tab, **_: _handoff_page(tab)),
    "handoff answer refused": ("worker", lambda tab, **_: _refused_answer_text(tab)),
    "admin users": ("admin", _goto("/console/admin/users")),
    "admin users refused": ("admin", lambda tab, **_: _refused_user(tab)),
    "admin users with a new link": ("admin", lambda tab, **_: _new_user(tab)),
    "admin imports": ("admin", _goto("/console/admin/imports")),
    "admin import report": ("admin", lambda tab, folder, **_: _imported(tab, folder)),
    "404 not found": ("worker", _goto("/console/no-such-page")),
    "403 admins only": ("worker", _goto("/console/admin/users")),
    "405 result address opened again": ("worker", _goto("/console/lookup")),
}


@pytest.fixture
def axe_tab(browser, server) -> Iterator[object]:
    """A tab for axe only. axe-playwright-python injects axe-core with ``page.evaluate`` of its
    source text, which the console's strict CSP (no 'unsafe-eval') refuses, so this context
    bypasses the CSP; every other browser test runs under the real policy."""
    context = browser.new_context(
        base_url=server, viewport={"width": 1280, "height": 720}, bypass_csp=True
    )
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.mark.parametrize("name", list(PAGES))
def test_each_console_page_has_no_serious_accessibility_problem_and_fits_a_phone(
    name, app, axe_tab, worker, admin, tmp_path
):
    """axe's serious and critical findings fail; then the page at 320 CSS pixels wide (a small
    phone, or a 1280-pixel window zoomed to 400%, WCAG 1.4.10) must not scroll sideways (a
    wide table scrolls inside its own box, which WCAG allows)."""
    who, open_page = PAGES[name]
    _add_handoff(app)
    if who is not None:
        _sign_in(axe_tab, worker if who == "worker" else admin)
    open_page(axe_tab, app=app, folder=tmp_path)

    assert axe_problems(axe_tab) == [], name
    axe_tab.set_viewport_size({"width": 320, "height": 640})
    assert axe_tab.evaluate(SIDEWAYS) <= 0, f"{name} scrolls sideways at 320px"


def _focused(tab, what: str = "id") -> str:
    return tab.evaluate(f"document.activeElement.{what}")


def _tab_to(tab, script: str, expected: str, most: int = 40) -> bool:
    """Press Tab until ``script`` (run on the focused element) gives ``expected``."""
    for _ in range(most):
        tab.keyboard.press("Tab")
        if tab.evaluate(f"(e => {script})(document.activeElement)") == expected:
            return True
    return False


def _scrolled_sideways(tab) -> bool:
    """Whether the focused box has scrolled (the browser scrolls smoothly: give it a moment)."""
    for _ in range(20):
        if tab.evaluate("document.activeElement.scrollLeft") > 0:
            return True
        tab.wait_for_timeout(100)
    return False


def test_a_case_is_looked_up_read_and_handed_out_by_keyboard_alone_on_a_phone(page, worker):
    page.set_viewport_size({"width": 320, "height": 640})
    _sign_in(page, worker)
    page.keyboard.press("Tab")
    assert _focused(page, "className") == "skip-link"
    page.keyboard.press("Enter")
    assert _focused(page) == "main"

    page.keyboard.press("Tab")
    assert _focused(page) == "case_number"
    page.keyboard.type("0B00000001")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('Case 0B00000001')")

    # The charges table is wider than the phone: it takes focus and scrolls by arrow keys.
    charges = "e.getAttribute('aria-labelledby')"
    assert _tab_to(page, charges, "charges-heading")
    for _ in range(8):
        page.keyboard.press("ArrowRight")
    assert _scrolled_sideways(page)
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"

    assert _tab_to(page, "e.textContent", "Open printable handout")
    page.keyboard.press("Space")
    page.wait_for_selector("article.handout h1")
    assert page.problems == []


# A refused form takes the focus to the first answer to fix, which names its error.
FOCUS_AFTER_REFUSAL: dict[str, tuple[str, str]] = {
    "sign-in refused": ("email", "login-error"),
    "account setup refused": ("password", "setup-error"),
    "case answer refused": ("later_conviction", "later_conviction-error"),
    "screen by hand refused": ("q_when_year", "q_when-error"),
    "batch upload refused": ("file", "batch-error"),
    "handoff answer refused": ("answer-text", "handoff-error"),
    "admin users refused": ("new-email", "user-error"),
}


@pytest.mark.parametrize("name", list(FOCUS_AFTER_REFUSAL))
def test_a_refused_form_puts_focus_on_the_first_answer_to_fix(
    name, app, page, worker, admin, tmp_path
):
    who, open_page = PAGES[name]
    _add_handoff(app)
    if who is not None:
        _sign_in(page, worker if who == "worker" else admin)
    open_page(page, app=app, folder=tmp_path)

    field, error = FOCUS_AFTER_REFUSAL[name]
    # Polled: the page's script moves the focus once the document is parsed, which may come
    # after the error is on the page.
    expect(page.locator(f"#{field}")).to_be_focused()
    assert error in page.locator(f"#{field}").get_attribute("aria-describedby")
