"""Twenty signed-in browser sessions at once, reading and writing: no exception, and each
page shows its own operator (no cross-session leak of who is signed in).

The real web adapter (``streamlit run server.py``, so the signed-cookie gate is in the
path) and Debian's Chromium, one browser context per operator.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from core.platform import totp
from core.platform.db import session_scope
from core.platform.models import AuditEvent, Brand
from tests.browser.chromium import ARGS, CHROMIUM, IDLE, need_chromium
from tests.factories import make_operator
from tests.live_server import Server, new_server
from web.cookies import cookie_value

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect = pytest.importorskip("playwright.async_api").expect
SESSIONS = 20
WRITERS = 5


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory):
    need_chromium()
    server = new_server(tmp_path_factory.mktemp("sessions"))
    seeded = server.cli("seed", "--brands", "8", "--users", "300")
    assert seeded.returncode == 0, seeded.stderr
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _operators(server: Server) -> list[tuple[str, str]]:
    """(username, signed cookie) for 20 new operators: 5 account managers, 15 analysts."""
    from tests.factories import session_token

    out = []
    with session_scope(server.engine, write=True) as s:
        for i in range(SESSIONS):
            name = f"op{i:02d}"
            make_operator(s, name, "account_manager" if i < WRITERS else "analyst", secret=totp.new_secret())
        s.flush()
        for i in range(SESSIONS):
            out.append((f"op{i:02d}", cookie_value(session_token(s, f"op{i:02d}"))))
    return out


async def _session(browser, base: str, name: str, cookie: str, brand: str | None, delay: float) -> str:
    # Two cores serve twenty browsers: a generous wait, and arrivals spread over a few seconds.
    await asyncio.sleep(delay)
    context = await browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(240_000)
    context.set_default_navigation_timeout(240_000)
    await context.add_cookies([{"name": "mac_session", "value": cookie, "domain": "127.0.0.1", "path": "/"}])
    page = await context.new_page()
    try:
        for path in ("/", "/users", f"/brands?brand={brand}" if brand else "/reports"):
            await page.goto(base + path)
            await page.wait_for_selector(IDLE, state="attached", timeout=240_000)
            await page.wait_for_function(
                "!document.querySelector(\"[data-testid='stSkeleton']\")", timeout=240_000
            )
            if await page.locator("[data-testid='stException']").count():
                return f"{name}: exception on {path}"
            sidebar = await page.locator("[data-testid='stSidebar']").inner_text()
            if name not in sidebar or any(
                f"op{i:02d}" in sidebar for i in range(SESSIONS) if f"op{i:02d}" != name
            ):
                return f"{name}: the sidebar shows someone else: {sidebar[:200]!r}"
        if brand:
            await page.get_by_text("Allow app-specific passwords", exact=True).first.click()
            update = page.get_by_role("button", name="Update", exact=True)
            await expect(update).to_be_enabled(timeout=120_000)  # the rerun has taken the flip
            await update.click()
            await page.get_by_text(f"{brand} updated.").first.wait_for(timeout=120_000)
        return "ok"
    finally:
        await context.close()


def test_twenty_sessions_read_and_write_without_leaks(busy_server):
    from playwright.async_api import async_playwright

    ops = _operators(busy_server)
    with session_scope(busy_server.engine) as s:
        brands = list(s.scalars(select(Brand.name).order_by(Brand.name).limit(WRITERS)))
        before = {b: s.scalar(select(Brand.allow_app_passwords).where(Brand.name == b)) for b in brands}

    async def main() -> list[str]:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                return await asyncio.gather(
                    *(
                        _session(
                            browser,
                            busy_server.base,
                            name,
                            cookie,
                            brands[i] if i < WRITERS else None,
                            i * 0.5,
                        )
                        for i, (name, cookie) in enumerate(ops)
                    )
                )
            finally:
                await browser.close()

    results = asyncio.run(main())
    assert results == ["ok"] * SESSIONS, [r for r in results if r != "ok"]
    with session_scope(busy_server.engine) as s:
        for i, b in enumerate(brands):
            assert s.scalar(select(Brand.allow_app_passwords).where(Brand.name == b)) is (not before[b])
            events = s.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "brand.switches_changed", AuditEvent.actor == f"op{i:02d}")
            )
            assert events == 1
