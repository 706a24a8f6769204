"""Headless Chromium for end-to-end tests: Debian's browser driven by Playwright.

Call ``require_chromium()`` at the top of a browser test module: where no Chromium is
installed the module is skipped and says so (`.ci/run` installs it, so CI always runs them).
The ``browser`` fixture lives in tests/conftest.py.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling out and this machine's
# closed network refuses it (see the env notes on headless Chromium).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> ModuleType:
    """Skip the calling module, saying why, unless Chromium and Playwright are here."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"Chromium not found at {CHROMIUM}: browser tests skipped", allow_module_level=True
        )
    return pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


#: axe-core's rules for WCAG 2.0 and 2.1, levels A and AA, plus its best practices (landmarks,
#: heading order, one main): https://github.com/dequelabs/axe-core/blob/develop/doc/API.md
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}
#: The impacts a test refuses; pass ("minor", "moderate", ...) to axe_problems to see the rest.
BLOCKING_IMPACTS = ("serious", "critical")


def axe_violations(page: object) -> list[dict[str, object]]:
    """Every axe-core violation on the page as it is now (its tab must bypass the CSP)."""
    axe = pytest.importorskip(
        "axe_playwright_python.sync_playwright",
        reason="axe-playwright-python is not installed (make install-dev)",
    )
    results = axe.Axe().run(page, options=AXE_OPTIONS)
    violations: list[dict[str, object]] = results.response["violations"]
    return violations


def axe_problems(page: object, impacts: tuple[str, ...] = BLOCKING_IMPACTS) -> list[str]:
    """The page's serious and critical violations, one line each: rule, impact, elements."""
    found = []
    for violation in axe_violations(page):
        if violation["impact"] not in impacts:
            continue
        nodes = violation["nodes"]
        assert isinstance(nodes, list)
        targets = "; ".join(" ".join(node["target"]) for node in nodes[:5])
        found.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}"
        )
    return found
