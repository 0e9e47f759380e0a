"""Sign in through the real pages in Debian's Chromium (Playwright), as a newcomer would.

The server is ``streamlit run server.py`` on a new SQLite file; the operator comes from
``python -m core operators add`` and the code from ``python -m core operators totp`` (no
phone needed). Screenshots of the login, code and enrolment pages go to tests/artifacts/.
Without Chromium the test is skipped with the reason, except when CI is set: then it fails.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
import requests

from tests.browser.chromium import ARTIFACTS, CHROMIUM, launched

ROOT = Path(__file__).resolve().parents[2]
PY = str(ROOT / ".venv" / "bin" / "python")
STREAMLIT = str(ROOT / ".venv" / "bin" / "streamlit")
PASSWORD = "browser-test-password"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"The browser test must run in CI: {reason}")
    pytest.skip(f"{reason}; run `make browser` (apt-get install chromium) to run it")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    if not Path(CHROMIUM).exists():
        _missing(f"Chromium is not installed at {CHROMIUM}")
    tmp = tmp_path_factory.mktemp("browser")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp}/mac.db",
        "MAC_DATA_DIR": str(tmp),
        "MAC_SECRET_KEY": os.environ["MAC_SECRET_KEY"],
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }

    def cli(*args: str, stdin: str | None = None) -> str:
        r = subprocess.run(
            [PY, "-m", "core", *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=60,
        )
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    cli("init")
    cli("operators", "add", "admin", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    cli(
        "operators",
        "add",
        "nina",
        "--role",
        "support",
        "--password-stdin",
        "--actor",
        "admin",
        stdin=PASSWORD + "\n",
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp / "server.log").open("w")
    proc = subprocess.Popen(
        [STREAMLIT, "run", "server.py", "--server.port", str(port), "--server.headless", "true"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/_stcore/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the server did not start: {(tmp / 'server.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield {"base": base, "cli": cli}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
    page.fill("#code", pyotp.TOTP(secret).now())
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
    # (Wait for the next 30-second step: the enrolment used the current one, and a
    # code is accepted once.)
    used = cli("operators", "totp", "admin")
    deadline = time.monotonic() + 40
    while (code := cli("operators", "totp", "admin")) == used and time.monotonic() < deadline:
        time.sleep(1)
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
