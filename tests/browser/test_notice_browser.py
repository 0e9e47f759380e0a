"""A 2FA reset's customer notice, end to end: the real server sends it, the page shows it sent.

``streamlit run server.py`` (``tests.live_server``) with ``SMTP_URL`` pointing
at an aiosmtpd server this test runs on loopback; support signs in through /signin, opens a
2FA user's page in Debian's Chromium and disables 2FA through the dialog. Nothing else
sends: the message reaches the SMTP server only through the sender the server started.
Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from sqlalchemy import select

from core.platform.db import dispose_engines, session_scope
from core.platform.models import Brand, Notification
from tests.browser.chromium import ARTIFACTS, IDLE, launched, need_chromium
from tests.core.test_notify import Collector, SmtpServer, received
from tests.factories import make_domain, make_user
from tests.live_server import new_server
from tests.web.test_server import Client, fresh_operator, location, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect = pytest.importorskip("playwright.sync_api").expect

EMAIL = "ann@notice.example.com"


def as_shown(text: str) -> re.Pattern:
    """``text`` as the page shows data: an invisible word joiner may stand between characters."""
    return re.compile("\u2060?".join(map(re.escape, text)))


class Gated(Collector):
    """Takes each message only once ``gate`` is open: the test sees the notice while it is sent."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.waiting = threading.Event()
        self.taken = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        self.waiting.set()
        # The sender's SMTP timeout is 10 s a step: the test opens the gate well before.
        await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, 8)
        try:
            return await super().handle_DATA(server, session, envelope)
        finally:
            self.taken.set()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    need_chromium()
    with SmtpServer(handler=Gated()) as smtp:
        server = new_server(tmp_path_factory.mktemp("notice"))
        server.env["SMTP_URL"] = smtp.url
        server.add_operators()
        secret = fresh_operator(server, "lead", "support")
        with session_scope(server.engine, write=True) as s:
            brand = Brand(name="Notice Mail", allow_2fa=True)
            s.add(brand)
            s.flush()
            make_user(s, make_domain(s, brand, "notice.example.com"), "ann", twofa=True)
        dispose_engines()
        try:
            server.start()
            client = Client(server.base)
            assert location(sign_in(client, "lead", secret, next_path="/users")) == "/users"
            yield {"base": server.base, "cookies": client.http.cookies, "smtp": smtp, "server": server}
        finally:
            server.stop()
            dispose_engines()


@pytest.fixture
def page(site) -> Iterator:
    with launched() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1200})
        context.add_cookies(
            [{"name": c.name, "value": c.value, "url": site["base"]} for c in site["cookies"]]
        )
        yield context.new_page()
        context.close()


def test_the_reset_notice_reaches_the_smtp_server_and_shows_as_sent(site, page):
    smtp, server = site["smtp"], site["server"]
    page.goto(f"{site['base']}/users?user={quote(EMAIL)}")
    expect(page.get_by_text("Customer notices")).to_be_visible(timeout=90_000)
    expect(page.get_by_text("No notice has been queued for this mailbox.")).to_be_visible()
    expect(page.locator(IDLE)).to_be_attached(timeout=60_000)
    page.get_by_role("button", name="Disable 2FA…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(as_shown(EMAIL), timeout=30_000)
    dialog.get_by_role("button", name="Disable 2FA", exact=True).click()
    expect(dialog).to_contain_text("The customer is told", timeout=60_000)
    expect(dialog).to_contain_text(f"Notices go to the SMTP server 127.0.0.1:{smtp.port}")
    expect(dialog).to_contain_text("this server's sender delivers them within seconds")

    # The server's own sender has it at the SMTP server; the dialog shows it being sent.
    assert smtp.handler.waiting.wait(timeout=60), "the sender did not reach the SMTP server"
    expect(dialog).to_contain_text("Notice: sending (attempt 1)", timeout=5_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "notice-dialog-sending.png"))
    smtp.handler.gate.set()
    assert smtp.handler.taken.wait(timeout=60), "the SMTP server did not take the notice"
    assert received(smtp, EMAIL) == 1
    message = next(m for m in smtp.handler.messages if m["To"] == EMAIL)
    assert "two-factor authentication was turned off" in str(message["Subject"])
    # The dialog follows its notice (no click needed) until it is sent.
    expect(dialog).to_contain_text(
        re.compile(r"Notice: sent at \d{4}-\d\d-\d\d \d\d:\d\d UTC"), timeout=60_000
    )
    expect(page.locator(IDLE)).to_be_attached(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "notice-dialog-sent.png"))

    dialog.get_by_test_id("stBaseButton-primary").filter(has_text="Close").click()
    expect(dialog).to_have_count(0, timeout=30_000)
    expect(page.locator(IDLE)).to_be_attached(timeout=30_000)
    notices = page.get_by_test_id("stDataFrame").filter(has_text="Subject")
    expect(notices).to_contain_text(re.compile(r"sent at \d{4}-\d\d-\d\d \d\d:\d\d UTC"), timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "notice-user-page.png"), full_page=True)

    with session_scope(server.engine) as s:
        row = s.scalars(select(Notification).where(Notification.recipient == EMAIL)).one()
    assert (row.status, row.attempts) == ("sent", 1)
    assert received(smtp, EMAIL) == 1
