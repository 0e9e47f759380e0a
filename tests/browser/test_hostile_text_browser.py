"""Hostile text in the real console, in Debian's Chromium: shown as text, no link, no image.

The server is ``streamlit run server.py`` (``tests.live_server``); the
operator signs in through /signin with password and TOTP code, and the browser gets the
session cookie that sign-in set. A mailbox's display name, a brand's name and an app
password's label hold Markdown that would link and fetch from 127.0.0.1:9 (a closed port),
and ``?user=`` and ``?brand=`` deep links carry it too. In every page the DOM must hold no
link or image to it, no other markup of it, the browser must request nothing from it, and
the text must be there to read. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest

from core.platform.db import dispose_engines, session_scope
from core.platform.models import Brand
from tests.browser.chromium import ARTIFACTS, IDLE, launched, need_chromium
from tests.factories import make_app_password, make_domain, make_user
from tests.live_server import new_server
from tests.web.test_server import Client, fresh_operator, location, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect = pytest.importorskip("playwright.sync_api").expect

H = (
    "![p](http://127.0.0.1:9/x.png) [Sign in again](http://127.0.0.1:9/phish) <http://127.0.0.1:9/a> "
    "http://127.0.0.1:9/bare www.evil.example anna@evil.example :red[alert] $x$ **b** :material/key:"
)
NAME = f"Nametag {H}\n# heading"
BRAND = f"Brandtag {H}"
LABEL = "Labeltag [x](http://127.0.0.1:9/l) www.evil.example"  # at most 64 characters
MISSING_USER = f"Nouser {H}"
MISSING_BRAND = f"Nobrand {H}"
EMAIL = "anna@hostile.example.com"
CSS = "#login-form .box-inner .modal { background: url(http://127.0.0.1:9/css.png) }\n"

# Markup made of the hostile text, anywhere in the page (SVG links of charts included).
FORBIDDEN = {
    "link to 127.0.0.1:9": 'a[href*="127.0.0.1:9"], a[*|href*="127.0.0.1:9"]',
    "image from 127.0.0.1:9": 'img[src*="127.0.0.1:9"], image[*|href*="127.0.0.1:9"]',
    "link to evil.example": 'a[href*="evil.example"]',
    "mailto link": 'a[href^="mailto:"]',
    "colour directive": ".stMarkdownColoredText",
    "math": ".katex",
    "material icon from text": '[aria-label="key icon"]',
}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    need_chromium()
    server = new_server(tmp_path_factory.mktemp("hostile-text"))
    server.add_operators()
    secret = fresh_operator(server, "reviewer", "admin")
    with session_scope(server.engine, write=True) as s:
        brand = Brand(name=BRAND, allow_2fa=True, allow_app_passwords=True, custom_login_css=CSS)
        s.add(brand)
        s.flush()
        user = make_user(s, make_domain(s, brand, "hostile.example.com"), "anna", twofa=True)
        user.display_name = NAME
        make_app_password(s, user, LABEL)
    dispose_engines()
    try:
        server.start()
        client = Client(server.base)
        done = sign_in(client, "reviewer", secret, next_path="/users")
        assert location(done) == "/users"
        yield {"base": server.base, "cookies": client.http.cookies}
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(site) -> Iterator:
    with launched() as b:
        yield b


@pytest.fixture
def page(site, browser) -> Iterator:
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    context.add_cookies([{"name": c.name, "value": c.value, "url": site["base"]} for c in site["cookies"]])
    pg = context.new_page()
    pg.outside = []  # type: ignore[attr-defined]
    pg.on("request", lambda r: "127.0.0.1:9/" in r.url and pg.outside.append(r.url))
    yield pg
    context.close()


def _flat(text: str) -> str:
    return " ".join(text.replace("\u2060", "").split())


def visit(page, site: dict, path: str, shown: str, shot: str) -> str:
    """Open ``path``, wait until ``shown`` is on screen and the script is idle; the page's text."""
    page.goto(site["base"] + path)
    expect(page.get_by_text(shown).first).to_be_visible(timeout=90_000)  # drawn by this run
    expect(page.locator(IDLE)).to_be_attached(timeout=60_000)
    expect(page.locator("[data-testid='stSkeleton']")).to_have_count(0, timeout=30_000)
    assert not page.locator("[data-testid='stException']").count(), page.inner_text("body")[:2000]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"hostile-text-{shot}.png"), full_page=True)
    return _flat(page.inner_text("body"))


def no_markup(page) -> None:
    found = {what: page.locator(css).count() for what, css in FORBIDDEN.items()}
    assert not any(found.values()), found
    assert not page.outside, page.outside  # nothing was requested from the hostile host


def test_a_mailbox_with_a_hostile_display_name(site, page):
    text = visit(page, site, f"/users?user={quote(EMAIL)}", "Nametag", "user")
    no_markup(page)
    assert _flat(NAME) in text
    assert f"Brand {_flat(BRAND)}" in text
    page.get_by_role("button", name="Revoke…").click()
    expect(page.get_by_text("Revoke “Labeltag")).to_be_visible(timeout=30_000)
    expect(page.locator(IDLE)).to_be_attached(timeout=30_000)
    no_markup(page)
    assert f"Revoke “{LABEL}” of {EMAIL}?" in _flat(page.inner_text("body"))
    page.screenshot(path=str(ARTIFACTS / "hostile-text-user-revoke.png"), full_page=True)


def test_a_hostile_user_deep_link_that_finds_nothing(site, page):
    text = visit(page, site, f"/users?user={quote(MISSING_USER)}", "There is no mailbox", "user-missing")
    no_markup(page)
    assert f"There is no mailbox {_flat(repr(MISSING_USER))}" in text


@pytest.mark.parametrize("wanted", [MISSING_BRAND, BRAND], ids=["missing", "found"])
def test_hostile_brand_deep_links(site, page, wanted):
    if wanted == MISSING_BRAND:
        text = visit(page, site, f"/brands?brand={quote(wanted)}", "There is no brand", "brand-missing")
        assert f"There is no brand {_flat(repr(wanted))}" in text
    else:
        text = visit(page, site, f"/brands?brand={quote(wanted)}", "Brandtag", "brand")
        assert f"{_flat(BRAND)}: Services & Settings" in text
    no_markup(page)


def test_the_overview_chart_and_the_branding_findings(site, page):
    visit(page, site, "/", "Adoption per brand", "overview")
    expect(page.locator(".js-plotly-plot .ytick text").first).to_be_attached(timeout=30_000)
    no_markup(page)
    ticks = page.locator(".js-plotly-plot .ytick text").all_text_contents()
    assert any(_flat(t) == _flat(BRAND) for t in ticks), ticks
    text = visit(page, site, f"/branding?brand={quote(BRAND)}", "Brandtag", "branding")
    no_markup(page)
    assert "url(http://127.0.0.1:9/css.png) loads from another host" in text
