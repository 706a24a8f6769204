"""/try in real headless Chromium (Debian's), on a real HTTP server on 127.0.0.1."""
# ruff: noqa: F811 - pytest fixtures imported from tests.fakes.channels

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from tests.browser import require_chromium
from tests.fakes.channels import channel_app  # noqa: F401 - fixture

require_chromium()

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, channel_app) -> Iterator[object]:
    httpd = make_server("127.0.0.1", 0, channel_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    context = browser.new_context(base_url=f"http://127.0.0.1:{httpd.server_port}")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(str(e)))
    tab.problems = problems
    yield tab
    context.close()
    httpd.shutdown()
    thread.join(timeout=10)


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
