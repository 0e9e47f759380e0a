"""The Operators page's mail-server tokens in a real browser: create one, see it once, see it listed.

Debian's Chromium through Playwright against ``streamlit run dashboard.py`` over its own SQLite
file with a small demo data set, signed in as the demo's administrator by a session cookie.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.access import mail_auth_tokens
from core.access.sessions import SESSION_COOKIE
from core.platform.crypto import token_digest
from core.platform.db import dispose_engines, get_engine, session_scope
from core.platform.models import MailAuthToken
from tests.browser.chromium import ARGS, ARTIFACTS, CHROMIUM, IDLE, need_chromium
from tests.factories import session_token
from tests.live_server import new_server
from web.cookies import cookie_value

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_token_created_on_the_operators_page_is_shown_once_and_listed(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    need_chromium()
    live = new_server(tmp_path, entry="dashboard.py")
    live.must("seed", "--brands", "2", "--users", "20")
    live.args = ["--server.address", "127.0.0.1"]
    live.start()
    engine = get_engine(live.url)
    try:
        with session_scope(engine, write=True) as s:
            cookie = cookie_value(session_token(s, "admin"))
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            context = browser.new_context(viewport={"width": 1400, "height": 1800})
            context.add_cookies(
                [{"name": SESSION_COOKIE, "value": cookie, "domain": "127.0.0.1", "path": "/"}]
            )
            page = context.new_page()
            page.goto(live.base + "/operators")
            page.get_by_role("heading", name="Mail servers").wait_for(timeout=90_000)
            page.get_by_label("Label", exact=True).fill("imap1")
            page.get_by_role("button", name="Create a token").click()
            page.get_by_text("it is not shown again").wait_for(timeout=30_000)
            page.wait_for_selector(IDLE, state="attached", timeout=30_000)
            token = page.locator("[data-testid='stCode'] code").first.inner_text().strip()
            tokens = page.locator("[data-testid='stDataFrame']").filter(has_text="Made by")
            expect(tokens).to_contain_text("imap1", timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "operators-mail-servers.png"), full_page=True)
            page.reload()
            page.get_by_role("heading", name="Mail servers").wait_for(timeout=30_000)
            page.wait_for_selector(IDLE, state="attached", timeout=30_000)
            expect(page.locator("[data-testid='stCode']")).to_have_count(0)  # shown once
            context.close()
            browser.close()
        with session_scope(engine, write=True) as s:
            stored = s.scalars(select(MailAuthToken).where(MailAuthToken.label == "imap1")).one()
            assert stored.token_digest == token_digest(token)
            assert mail_auth_tokens.token_ok(s, token)
    finally:
        live.stop()
        dispose_engines()
