"""The dashboard in a real browser: Debian's Chromium through Playwright against `streamlit run`.

The server runs in a subprocess over its own SQLite file with the small demo data set. The
browser is signed in by a session cookie made with ``tests.factories.session_token`` on the
same database (signed as the web adapter signs it, ``web.cookies.cookie_value``). A screenshot
of every page lands in tests/artifacts/ (ignored by git) for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from core.access.sessions import SESSION_COOKIE
from core.platform.db import dispose_engines, get_engine, session_scope
from core.platform.models import AuditEvent, Brand, Notification, Operator, User
from core.reporting.search import search_users
from core.reporting.search_query import UserSearch
from tests.browser.chromium import ARGS, ARTIFACTS, CHROMIUM, IDLE, as_shown, need_chromium
from tests.factories import session_token
from tests.live_server import new_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    need_chromium()
    live = new_server(tmp_path_factory.mktemp("browser-data"), entry="dashboard.py")
    live.must("seed", "--brands", "8", "--users", "300")
    live.args = ["--server.address", "127.0.0.1"]
    live.start()
    try:
        yield {"base": live.base, "url": live.url, "engine": get_engine(live.url)}
    finally:
        live.stop()
        dispose_engines()


def _cookie(engine, username: str) -> str:
    with session_scope(engine, write=True) as s:
        token = session_token(s, username)
    from web.cookies import cookie_value

    return cookie_value(token)


@pytest.fixture(scope="module")
def page(server: dict):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1800})
        context.add_cookies(
            [
                {
                    "name": SESSION_COOKIE,
                    "value": _cookie(server["engine"], "admin"),
                    "domain": "127.0.0.1",
                    "path": "/",
                }
            ]
        )
        pg = context.new_page()
        yield pg
        context.close()
        browser.close()


# No skeleton left, and every plotly chart drawn (they draw after the script run ends).
DRAWN = """() => !document.querySelector("[data-testid='stSkeleton']")
    && [...document.querySelectorAll("[data-testid='stPlotlyChart']")].every(c => c.querySelector(".main-svg"))"""


def settle(page, timeout: float = 30_000) -> None:
    """Wait as Streamlit's own e2e tests do: the script idle, no skeleton left, charts drawn.

    After a click, first wait for what the click shows: the page is idle before its rerun too.
    """
    page.wait_for_selector(IDLE, state="attached", timeout=timeout)
    page.wait_for_function(DRAWN, timeout=timeout)


def visit(page, server: dict, path: str, shot: str) -> None:
    page.goto(server["base"] + path)
    settle(page, timeout=90_000)  # a cold first run imports plotly and pandas
    assert not page.locator("[data-testid='stException']").count(), page.inner_text("body")[:2000]
    page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/", "Overview"),
        ("/brands", "Brands"),
        ("/users", "Users"),
        ("/reports", "Reports"),
        ("/audit_log", "Audit log"),
    ],
)
def test_every_page_renders(page, server, path, title):
    visit(page, server, path, f"page-{title.lower().replace(' ', '-')}")
    assert page.get_by_role("heading", name=title).first.is_visible()
    assert "admin" in page.locator("[data-testid='stSidebar']").inner_text()


def test_a_brand_change_through_the_ui(page, server):
    with session_scope(server["engine"]) as s:
        name = s.scalars(select(Brand.name).where(Brand.allow_2fa.is_(False)).order_by(Brand.name)).first()
    visit(page, server, f"/brands?brand={name}", "brand-before")
    page.get_by_text("Allow two-factor auth (2FA)", exact=True).first.click()
    page.get_by_text("will be asked for a code again").first.wait_for(timeout=30_000)
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "brand-impact.png"), full_page=True)
    page.get_by_role("button", name="Update", exact=True).click()
    page.get_by_text(f"{name} updated.").first.wait_for(timeout=30_000)
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "brand-after.png"), full_page=True)
    with session_scope(server["engine"]) as s:
        brand = s.scalars(select(Brand).where(Brand.name == name)).one()
        events = s.scalars(select(AuditEvent).where(AuditEvent.object_key == name)).all()
    assert brand.allow_2fa
    assert any(e.action == "brand.switches_changed" and e.actor == "admin" for e in events)


def test_a_2fa_reset_through_the_ui(page, server):
    from playwright.sync_api import expect

    with session_scope(server["engine"]) as s:
        email = search_users(s, UserSearch(twofa="on", status="active"), limit=1)[0]["email"]
    visit(page, server, f"/users?user={email}", "user-before")
    page.get_by_role("button", name="Disable 2FA…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(as_shown(email), timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "user-dialog.png"))
    dialog.get_by_role("button", name="Disable 2FA", exact=True).click()
    # The dialog is redrawn with the result: wait for that state, then read it.
    expect(dialog).to_contain_text(f"your mailbox {email}", timeout=60_000)
    expect(dialog).to_contain_text("The customer is told")
    page.screenshot(path=str(ARTIFACTS / "user-notification.png"))
    dialog.get_by_test_id("stBaseButton-primary").click()  # "Close" (the dialog's own × is one too)
    expect(dialog).to_have_count(0, timeout=30_000)
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "user-after.png"), full_page=True)
    with session_scope(server["engine"]) as s:
        user = s.scalars(select(User).where(User.email == email)).one()
        queued = s.scalars(select(Notification).where(Notification.recipient == email)).all()
    assert user.totp_secret is None
    assert [n.kind for n in queued] == ["2fa_reset"]


@pytest.mark.parametrize("change", ["signed out", "deactivated"])
def test_a_2fa_reset_from_a_tab_left_open_is_refused(page, server, change):
    """The dialog opened while support could act; the click comes after they may not."""
    from playwright.sync_api import expect

    from core.access import operators, sessions
    from core.access.permissions import Actor
    from web.cookies import token_from_cookie

    engine = server["engine"]
    with session_scope(engine, write=True) as s:
        email = search_users(s, UserSearch(twofa="on", status="active"), limit=3)[-1]["email"]
    cookie = _cookie(engine, "support")
    # A second browser context of the module's Chromium: its own cookie jar, as another person's browser.
    context = page.context.browser.new_context(viewport={"width": 1400, "height": 1400})
    context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "domain": "127.0.0.1", "path": "/"}])
    tab = context.new_page()
    visit(tab, server, f"/users?user={email}", f"stale-{change.replace(' ', '-')}-before")
    tab.get_by_role("button", name="Disable 2FA…").click()
    dialog = tab.get_by_role("dialog")
    expect(dialog).to_contain_text(as_shown(email), timeout=30_000)
    with session_scope(engine, write=True) as s:
        if change == "signed out":
            sessions.end_session(s, token_from_cookie(cookie))
        else:
            operators.deactivate(s, actor=Actor.cli(), username="support")
    dialog.get_by_role("button", name="Disable 2FA", exact=True).click()
    # The click reruns the dialog alone (a fragment): it says why, in the dialog.
    expect(dialog).to_contain_text("You were signed out; sign in again.", timeout=60_000)
    tab.screenshot(path=str(ARTIFACTS / f"stale-{change.replace(' ', '-')}-after.png"), full_page=True)
    context.close()
    with session_scope(engine, write=True) as s:
        user = s.scalars(select(User).where(User.email == email)).one()
        refused = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "access.refused", AuditEvent.actor == "support")
        ).all()
        # Active again for the next case (deactivation also ended the session).
        s.execute(update(Operator).where(Operator.username == "support").values(active=True))
    assert user.totp_secret is not None, "the open tab reset the user's 2FA"
    assert [e.object_key for e in refused][-1:] == ["user.reset_2fa"]
