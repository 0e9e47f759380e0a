"""Sign in through the real pages in Debian's Chromium (Playwright), as a newcomer would.

The server is ``streamlit run server.py`` on a new SQLite file; the operator comes from
``python -m core operators add`` and the code from ``python -m core operators totp`` (no
phone needed). Screenshots of the login, code and enrolment pages go to tests/artifacts/.
Without Chromium the test is skipped with the reason, except when CI is set: then it fails.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pyotp
import pytest

from tests.browser.chromium import ARTIFACTS, launched, need_chromium
from tests.live_server import new_server

PASSWORD = "browser-test-password"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    need_chromium()
    server = new_server(tmp_path_factory.mktemp("browser"))
    server.must("operators", "add", "admin", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    server.must(
        *("operators", "add", "nina", "--role", "support", "--password-stdin", "--actor", "admin"),
        stdin=PASSWORD + "\n",
    )
    server.start()
    try:
        yield {"base": server.base, "cli": server.must}
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(site) -> Iterator:
    with launched() as b:
        yield b


def test_enrol_then_sign_in_with_password_and_code(site, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    base, cli = site["base"], site["cli"]
    page = browser.new_page(viewport={"width": 1100, "height": 820})

    # 1. First sign-in of an operator without an authenticator: enrolment.
    page.goto(f"{base}/users")
    page.wait_for_url(re.compile(r"/signin\?next=%2Fusers$"))
    page.screenshot(path=str(ARTIFACTS / "sign_in_login.png"), full_page=True)
    page.fill("#username", "admin")
    page.fill("#password", "wrong password")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Wrong username, password or code.")
    page.screenshot(path=str(ARTIFACTS / "sign_in_login_error.png"), full_page=True)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Set up your authenticator")
    assert page.locator(".qr svg").count() == 1
    page.screenshot(path=str(ARTIFACTS / "sign_in_enrol.png"), full_page=True)
    secret = page.inner_text("#secret").replace(" ", "")
    # The code of the step before (one step of drift is accepted): the code that
    # `operators totp` prints later is of a later step, so the replay guard lets it in.
    page.fill("#code", pyotp.TOTP(secret).at(time.time() - 30))
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/users")
    page.get_by_text("Sign out").first.wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "sign_in_dashboard.png"), full_page=True)

    # 2. Sign out: the session ends, and the dashboard sends the browser back to sign-in.
    page.goto(f"{base}/signout")
    page.wait_for_url(re.compile(r"/signin$"))
    page.goto(f"{base}/")
    page.wait_for_url(re.compile(r"/signin\?next=%2F$"))

    # 3. An enrolled operator: password, then the code that `operators totp` prints.
    code = cli("operators", "totp", "admin")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Enter your code")
    page.screenshot(path=str(ARTIFACTS / "sign_in_code.png"), full_page=True)
    page.fill("#code", code)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.get_by_text("Sign out").first.wait_for(timeout=30_000)
    page.get_by_text("admin").first.wait_for()
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["mac_session"]["httpOnly"] and cookies["mac_session"]["sameSite"] == "Strict"
    page.close()


def test_support_operator_enrols_and_sees_the_dashboard(site, browser):
    page = browser.new_page(viewport={"width": 1100, "height": 820})
    page.goto(f"{site['base']}/signin")
    page.fill("#username", "nina")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Set up your authenticator")
    secret = page.inner_text("#secret").replace(" ", "")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")
    page.wait_for_url(f"{site['base']}/")
    page.get_by_text("Sign out").first.wait_for(timeout=30_000)
    # An administrator's page is not offered to support.
    assert page.get_by_text("Operators", exact=True).count() == 0
    page.close()
