"""What every browser test shares: Debian's Chromium, its flags, and a free port.

Chromium comes from Debian's packages (`make browser`), never from a test tool's download.
Without it the browser tests skip with the reason, except when CI is set: then they fail.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
# Headless, and quiet on this machine's closed network (no background fetches).
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Streamlit's own end-to-end tests wait for this: the script run is over.
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def as_shown(text: str) -> re.Pattern:
    """``text`` as a page shows data (``app_pages._ui.plain``): an invisible word joiner
    (U+2060) may stand between any two characters, where a link would otherwise start."""
    return re.compile("\u2060?".join(map(re.escape, text)))


def need_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    reason = f"{CHROMIUM} is missing: install Debian's chromium (`make browser`) to run the browser tests"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def launched() -> Iterator:
    """Debian's Chromium, headless, driven by Playwright; closed afterwards."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()
