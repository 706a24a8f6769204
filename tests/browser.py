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
