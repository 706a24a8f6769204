"""/try in real headless Chromium (Debian's), on a real HTTP server on 127.0.0.1."""
# ruff: noqa: F811 - pytest fixtures imported from tests.fakes.channels

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from tests.browser import axe_problems, require_chromium
from tests.fakes.channels import channel_app  # noqa: F401 - fixture

require_chromium()

pytestmark = pytest.mark.browser


@contextlib.contextmanager
def _tab(browser, app, **context_options: object) -> Iterator[object]:
    """A browser tab on ``app`` served on 127.0.0.1."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    context = browser.new_context(
        base_url=f"http://127.0.0.1:{httpd.server_port}", **context_options
    )
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    try:
        yield tab
    finally:
        context.close()
        httpd.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def page(browser, channel_app) -> Iterator[object]:
    with _tab(browser, channel_app) as tab:
        problems: list[str] = []
        tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda e: problems.append(str(e)))
        tab.problems = problems
        yield tab


def test_a_demo_chat_with_typing_and_buttons(page):
    page.goto("/try")

    assert page.locator(".demo").inner_text().startswith("DEMO")
    page.wait_for_selector(".from-bot .bubble")
    assert "not legal advice" in page.locator(".from-bot .bubble").first.inner_text()

    page.get_by_role("button", name="I don't know my case number").click()
    page.wait_for_selector(".from-bot:nth-of-type(3)")
    assert "charge" in page.locator(".from-bot .bubble").last.inner_text().lower()

    page.get_by_label("Type your message").fill("not sure")
    page.get_by_role("button", name="Send").click()
    page.wait_for_selector(".from-bot:nth-of-type(5)")
    assert page.locator(".from-you .bubble").last.inner_text() == "not sure"
    assert page.problems == []


def test_markup_in_a_message_is_shown_as_text(page):
    page.goto("/try")
    page.wait_for_selector(".from-bot .bubble")

    page.get_by_label("Type your message").fill("<img src=x onerror=alert(1)>")
    page.get_by_role("button", name="Send").click()
    page.wait_for_selector(".from-bot:nth-of-type(3)")

    assert page.locator(".from-you .bubble").last.inner_text() == "<img src=x onerror=alert(1)>"
    assert page.locator(".log img").count() == 0


def test_the_spanish_page_talks_spanish(page):
    page.goto("/try?lang=es")

    page.wait_for_selector(".from-bot .bubble")
    assert "Hola" in page.locator(".from-bot .bubble").first.inner_text()
    assert page.problems == []


@pytest.fixture
def held_page(browser, channel_app) -> Iterator[tuple[object, threading.Event]]:
    """A tab on a server that holds every /try/message until the test lets go (a slow line)."""
    release = threading.Event()

    def slow(environ, start_response):
        if environ["PATH_INFO"] == "/try/message":
            release.wait(10)
        return channel_app(environ, start_response)

    with _tab(browser, slow) as tab:
        try:
            yield tab, release
        finally:
            release.set()


def test_a_message_typed_while_a_reply_is_on_its_way_is_sent_not_lost(held_page):
    page, release = held_page
    page.goto("/try")

    page.get_by_label("Type your message").fill("menu")
    page.get_by_role("button", name="Send").click()
    release.set()

    page.wait_for_selector(".from-you .bubble", timeout=5_000)
    assert page.locator(".from-you .bubble").inner_text() == "menu"
    # The second answer arrives (a locator wait: wait_for_function's polling evaluates a
    # string, which the page's CSP, without 'unsafe-eval', refuses whenever it must poll).
    page.locator(".from-bot").nth(1).wait_for(timeout=10_000)


def test_a_browser_that_refuses_cookies_is_told_so_instead_of_starting_over(page):
    """Every message without the demo cookie would open a new conversation: the person
    would get the welcome again and again, whatever they answer."""

    def refuse_cookies(route):
        response = route.fetch()
        headers = {k: v for k, v in response.headers.items() if k.lower() != "set-cookie"}
        page.context.clear_cookies()
        route.fulfill(status=response.status, headers=headers, body=response.body())

    page.route("**/try/message", refuse_cookies)
    page.goto("/try")
    page.wait_for_selector(".from-bot .bubble")

    page.get_by_role("button", name="I don't know my case number").click()
    page.wait_for_selector(".log li:nth-of-type(3)")

    answer = page.locator(".log li").last.inner_text()
    assert "not legal advice" not in answer.lower()
    assert "cookies" in answer.lower()


# ---- Accessibility ------------------------------------------------------------------------


@pytest.fixture
def axe_page(browser, channel_app) -> Iterator[object]:
    """A tab for axe only. axe-playwright-python injects axe-core with ``page.evaluate`` of its
    source text, which the page's strict CSP (no 'unsafe-eval') refuses, so this context
    bypasses the CSP; every other test here runs under the real policy."""
    with _tab(browser, channel_app, bypass_csp=True) as tab:
        yield tab


def _one_exchange(page) -> None:
    page.wait_for_selector(".from-bot .bubble")
    page.locator(".buttons button").first.click()
    page.locator(".from-bot").nth(1).wait_for()


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("moment", ["opened", "after one exchange"])
def test_the_demo_chat_has_no_serious_accessibility_problem(axe_page, lang, moment):
    axe_page.goto(f"/try?lang={lang}")
    axe_page.wait_for_selector(".from-bot .bubble")
    if moment == "after one exchange":
        _one_exchange(axe_page)

    assert axe_page.evaluate("document.documentElement.lang") == lang
    assert axe_problems(axe_page) == [], f"/try?lang={lang}, {moment}"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_each_message_is_announced_with_who_said_it(page, lang):
    page.goto(f"/try?lang={lang}")
    page.wait_for_selector(".from-bot .bubble")
    _one_exchange(page)

    log = page.locator("#log")
    assert log.get_attribute("aria-live") == "polite"
    bot, you = ("RecordCheck", "You") if lang == "en" else ("RecordCheck", "Usted")
    assert page.locator(".from-bot").first.inner_text().startswith(f"{bot}:")
    assert page.locator(".from-you").first.inner_text().startswith(f"{you}:")


def test_the_demo_chat_is_worked_by_keyboard_alone(page):
    page.goto("/try")
    page.wait_for_selector(".from-bot .bubble")

    assert page.evaluate("document.activeElement.id") == "text"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.tagName") == "BUTTON"
    answers = page.locator(".from-bot").count()
    page.keyboard.press("Enter")
    page.locator(".from-bot").nth(answers).wait_for()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"

    assert page.evaluate("document.activeElement.id") == "text"
    page.keyboard.type("menu")
    page.keyboard.press("Enter")
    page.wait_for_selector(".from-you .bubble")
    assert page.problems == []


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_demo_chat_fits_a_320_pixel_screen_without_sideways_scrolling(page, lang):
    """320 CSS pixels is a small phone, or a 1280-pixel window zoomed to 400% (WCAG 1.4.10)."""
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"/try?lang={lang}")
    _one_exchange(page)

    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
