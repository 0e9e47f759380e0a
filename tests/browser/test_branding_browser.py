"""The Branding sandbox in Debian's Chromium (Playwright), against a real server.

The server is ``streamlit run dashboard.py`` over a new SQLite file loaded with
``python -m core seed``; the browser carries a signed ``mac_session`` cookie for the demo
account manager (``tests.factories.session_token`` + ``web_session.cookie_value``), so no
sign-in pages are involved. Screenshots go to tests/artifacts/branding-*.png.
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
from urllib.parse import quote

import pyotp
import pytest
import requests
from sqlalchemy import select

from core.crypto import decrypt_secret
from core.db import get_engine, session_scope
from core.models import Brand, User
from core.queries import UserSearch, brand_names, enrolled_user_of_brand, search_users
from tests.browser.chromium import ARTIFACTS, CHROMIUM, IDLE, launched
from tests.factories import make_brand, session_token

ROOT = Path(__file__).resolve().parents[2]
PY = str(ROOT / ".venv" / "bin" / "python")
STREAMLIT = str(ROOT / ".venv" / "bin" / "streamlit")
HOSTILE_NAME = "<script>alert('name')</script> Mail"
HEADER_BG = "rgb(16, 42, 92)"  # #102a5c, a dark blue
BRANDED_CSS = """\
#login-form .box-inner .modal {
  background-color: #ffffff;
  color: #1f2933;
  border: 2px solid #102a5c;
  border-radius: 10px;
}

#login-form .box-inner .modalheader {
  background-color: #102a5c;
  color: #ffffff;
  font-weight: bold;
  letter-spacing: 0.04em;
  padding: 14px 18px;
}
"""

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"The browser test must run in CI: {reason}")
    pytest.skip(f"{reason}; run `make browser` (apt-get install chromium) to run it")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    if not Path(CHROMIUM).exists():
        _missing(f"Chromium is not installed at {CHROMIUM}")
    from web_session import cookie_value

    tmp = tmp_path_factory.mktemp("branding-browser")
    url = f"sqlite:///{tmp}/mac.db"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "MAC_DATA_DIR": str(tmp),
        "MAC_SECRET_KEY": os.environ["MAC_SECRET_KEY"],  # the same key signs the cookie here
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    for args in (["init"], ["seed", "--brands", "6", "--users", "200"]):
        r = subprocess.run(
            [PY, "-m", "core", *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300
        )
        assert r.returncode == 0, r.stderr
    engine = get_engine(url)
    with session_scope(engine, write=True) as s:
        make_brand(s, HOSTILE_NAME, allow_2fa=True)
        token = session_token(s, "manager")
    with session_scope(engine) as s:
        brand = next(n for n in brand_names(s) if n != HOSTILE_NAME)
        # The mailbox the page drives the preview with: the brand's enrolled one that core picks.
        first = search_users(s, UserSearch(twofa="on", status="active"), limit=1)[0]
        brand_id = s.scalars(select(Brand.id).where(Brand.name == first["brand"])).one()
        demo = {"brand": first["brand"], "email": enrolled_user_of_brand(s, brand_id)}
        user = s.scalars(select(User).where(User.email == demo["email"])).one()
        demo_secret = decrypt_secret(user.totp_secret)
    engine.dispose()

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [STREAMLIT, "run", "dashboard.py", "--server.port", str(port), "--server.headless", "true"],
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
                    pytest.fail(f"the server did not start: {log_path.read_text()[-2000:]}")
                time.sleep(0.3)
            yield {
                "base": base,
                "cookie": cookie_value(token),
                "brand": brand,
                "log": log_path,
                "demo": {"brand": demo["brand"], "email": demo["email"], "secret": demo_secret},
            }
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


@pytest.fixture
def page(site, browser) -> Iterator:
    context = browser.new_context(viewport={"width": 1440, "height": 1300})
    context.add_cookies([{"name": "mac_session", "value": site["cookie"], "url": site["base"]}])
    pg = context.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs  # type: ignore[attr-defined]
    yield pg
    context.close()


def _open(page, site: dict, brand: str) -> None:
    page.goto(f"{site['base']}/branding?brand={quote(brand)}")
    page.get_by_role("heading", name="Branding").wait_for(timeout=60_000)
    page.locator("iframe[title^='Preview of']").wait_for(timeout=30_000)


def _editor(page):
    return page.get_by_label("CSS", exact=True)


def _preview(page):
    return page.frame_locator("iframe[title^='Preview of']")


def _header_bg(page) -> str:
    return _preview(page).locator(".modalheader").evaluate("e => getComputedStyle(e).backgroundColor")


def _wait_for(fn, expected, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        try:
            value = fn()
        except Exception as exc:  # the iframe is being replaced: try again
            value = exc
        if value == expected:
            return
        time.sleep(0.25)
    raise AssertionError(f"expected {expected!r}, last saw {value!r}")


def _paste(page, css: str) -> None:
    _editor(page).fill(css)
    page.get_by_role("button", name="Check").click()  # blurs the editor: Streamlit takes its value


def test_a_branded_pop_up_at_both_widths(site, page):
    ARTIFACTS.mkdir(exist_ok=True)
    _open(page, site, site["brand"])
    _paste(page, BRANDED_CSS)
    _wait_for(lambda: _header_bg(page), HEADER_BG)
    header = _preview(page).locator(".modalheader")
    assert header.evaluate("e => getComputedStyle(e).color") == "rgb(255, 255, 255)"
    assert header.inner_text() == site["brand"]
    page.locator(IDLE).wait_for()
    page.wait_for_timeout(500)  # let the table and the iframe settle before the picture
    page.screenshot(path=str(ARTIFACTS / "branding-desktop.png"))
    iframe = page.locator("iframe[title^='Preview of']")
    desktop_width = iframe.bounding_box()["width"]
    assert desktop_width > 390 + 100

    page.locator("[data-testid='stButtonGroup']").get_by_text("Phone", exact=True).click()
    _wait_for(lambda: round(iframe.bounding_box()["width"]), 390)
    _wait_for(lambda: _header_bg(page), HEADER_BG)
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "branding-phone.png"))

    # The pop-up fits the phone width (no horizontal overflow inside the frame).
    modal_width = _preview(page).locator(".modal").evaluate("e => e.getBoundingClientRect().width")
    assert modal_width <= 390
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_the_preview_is_an_opaque_origin_without_script(site, page):
    _open(page, site, site["brand"])
    frame = page.frame_locator("iframe[title^='Preview of']")
    src = page.locator("iframe[title^='Preview of']").get_attribute("src")
    assert src and src.startswith("data:text/html;base64,")
    assert frame.locator("script").count() == 0
    # An opaque origin: the preview cannot read the dashboard's page.
    reach = frame.locator("body").evaluate(
        "() => { try { return window.parent.document.title } catch (e) { return 'blocked' } }"
    )
    assert reach == "blocked"
    assert frame.locator("body").evaluate("() => window.origin") == "null"


def test_script_in_the_brand_name_or_the_css_never_runs(site, page):
    _open(page, site, HOSTILE_NAME)
    header = _preview(page).locator(".modalheader")
    assert header.inner_text() == HOSTILE_NAME  # shown as text, not run
    _paste(page, "</style><script>alert('css')</script>\n#login-form .box-inner .modal { color: red; }")
    page.get_by_text(re.compile(r"^Refused: \d+ error")).first.wait_for(timeout=30_000)
    page.get_by_text(
        re.compile(r"^The CSS in the editor is refused: the preview shows the page without")
    ).wait_for()
    assert _preview(page).locator("script").count() == 0
    page.locator(IDLE).wait_for()
    page.wait_for_timeout(1500)  # time for any script to have fired
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "branding-refused.png"))
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert "Traceback" not in site["log"].read_text()


def test_a_code_from_the_demo_users_authenticator_drives_the_pop_up(site, page):
    demo = site["demo"]
    _open(page, site, demo["brand"])
    _paste(page, BRANDED_CSS)
    _wait_for(lambda: _header_bg(page), HEADER_BG)
    page.get_by_text(demo["email"]).first.wait_for()
    page.get_by_label("6-digit code").fill(pyotp.TOTP(demo["secret"]).now())
    page.get_by_role("button", name="Verify").click()
    modal = _preview(page).locator(".modal.state-success")
    modal.wait_for(timeout=30_000)
    assert _header_bg(page) == HEADER_BG  # the same CSS styles the success state
    assert "Code accepted" in modal.locator(".status").inner_text()
    page.locator(IDLE).wait_for()
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "branding-success.png"))
    assert page.dialogs == []  # type: ignore[attr-defined]
