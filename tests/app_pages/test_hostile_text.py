"""Text from a customer, a file, the URL or another operator is shown as text, never as markup.

Every text field holds the same hostile Markdown (a tag word first, to tell the fields apart);
every page and deep link is opened; every element that Streamlit renders as Markdown is
collected (markdown, captions, alerts, headings, toasts, metric labels and values, widget
labels and help tooltips, tab labels, static-table cells). The oracle is independent of the
page code: a CommonMark + GFM renderer (markdown-it-py) must make no link and no image of
them, GFM's literal autolinks (remark-gfm finds them in the text after escapes are resolved,
which is what Streamlit's renderer does) must find nothing, no unescaped text may hold
Streamlit's own syntax (``:material/…:``, ``:red[…]``, ``:smile:``, ``$…$``), and the hostile
text must still be read word for word.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from core.access.permissions import Actor
from core.brands import preview_mailbox, switches
from core.brands.switches import SwitchChange
from core.platform import totp
from core.platform.db import session_scope
from core.platform.models import Brand
from tests.app_pages.conftest import read
from tests.factories import make_app_password, make_domain, make_operator, make_user

H = (
    "![p](http://127.0.0.1:9/x.png) [Sign in](http://127.0.0.1:9/phish) <http://127.0.0.1:9/a> "
    "http://127.0.0.1:9/bare www.evil.example :red[alert] $x$ **b** ~~s~~ # h anna@example.com "
    ':material/key: :smile: <a href="http://127.0.0.1:9/c">c</a>'
)
BRAND = f"Brandtag {H}"
DOMAIN = f"domtag {H}".lower()  # addresses are looked up in lower case
NAME = f"Nametag {H}\n# heading\n- item"
LABEL = "L ![i](http://127.0.0.1:9/i) www.evil.example a@evil.example"  # at most 64 characters
OPERATOR = f"optag {H}"
REASON = f"Reasontag {H}"
MISSING_USER = f"Nouser {H}"
MISSING_BRAND = f"Nobrand {H}"
# A notification's subject (brand and address) has at most 200 characters, and goes to one
# plain address: the 2FA reset is made for a mailbox of a brand with a shorter hostile name.
MID_BRAND = "Midtag ![p](http://127.0.0.1:9/x.png) [Sign in](http://127.0.0.1:9/phish) www.evil.example **b**"
SHORT = "![i](http://127.0.0.1:9/i) [x](http://127.0.0.1:9/p) **b**"  # a 64-character field
CSS = (
    f"/* Csstag {H} */\n"
    "#login-form .box-inner .modal { background: url(http://127.0.0.1:9/x.png); color: #000 }\n"
)

# --- the oracle ------------------------------------------------------------------------------

# markdown-it's "gfm-like" preset wants linkify-it-py; GFM's literal autolinks are checked below.
_GFM = MarkdownIt("commonmark").enable(["table", "strikethrough"])
_TOKENS = MarkdownIt("commonmark").enable(["table", "strikethrough"]).disable("text_join")
# Streamlit's own syntax in H (an icon, a colour, an emoji shortcode, math), which it reads
# only where the characters are literal, not backslash-escaped. (The pages' own icons are
# :material/ too, so only H's are looked for.)
_STREAMLIT_SYNTAX = (":material/key:", ":red[", ":smile:", "$x$")
# The CommonMark and GFM markup H holds, as a renderer makes it.
_MARKUP = ("<strong>b</strong>", "<s>s</s>", "<h1>heading</h1>", "<li>item")
# remark-gfm (mdast-util-gfm-autolink-literal), which Streamlit's renderer runs over each text
# node once escapes and character references are resolved. JavaScript's \w is ASCII.
_URL = re.compile(r"(https?://|www(?=\.))([-.\w]+)", re.IGNORECASE | re.ASCII)
_EMAIL = re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)", re.ASCII)


def _may_start(text: str, index: int, email: bool = False) -> bool:
    if index == 0:
        return True
    c = text[index - 1]
    if email and c == "/":
        return False
    return c.isspace() or unicodedata.category(c)[0] in "PS"


class _Html(HTMLParser):
    """Links, images and the text runs (outside links and code) of a rendered body."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.targets: list[tuple[str, str]] = []
        self.runs: list[str] = []
        self._inside: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("a", "img"):
            self.targets.append((tag, dict(attrs).get("href" if tag == "a" else "src") or ""))
        if tag in ("a", "code"):
            self._inside.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._inside and self._inside[-1] == tag:
            self._inside.pop()

    def handle_data(self, data: str) -> None:
        if not self._inside:
            self.runs.append(data)


def markup_in(body: str) -> list[str]:
    """What in ``body`` a Markdown renderer would make into markup (empty: shown as text)."""
    found: list[str] = []
    rendered = _GFM.render(body)
    parser = _Html()
    parser.feed(rendered)
    found += [f"<{tag} {target}>" for tag, target in parser.targets]
    found += [m for m in _MARKUP if m in rendered]
    for run in parser.runs:
        found += [f"autolink {m.group()}" for m in _URL.finditer(run) if _may_start(run, m.start())]
        found += [
            f"autolink {m.group()}"
            for m in _EMAIL.finditer(run)
            if _may_start(run, m.start(), email=True) and not re.search(r"[-\d_]$", m.group(2))
        ]
    for token in _TOKENS.parse(body):
        for child in token.children or []:
            if child.type == "text":
                found += [f"streamlit syntax {m}" for m in _STREAMLIT_SYNTAX if m in child.content]
    return found


def _block_part(proto) -> object | None:
    """A container's own message (a tab's label, an expander's, a dialog's title)."""
    try:
        part = proto.WhichOneof("type")
    except (AttributeError, ValueError):  # an element, not a container
        return None
    return getattr(proto, part) if part else None


def bodies(at: AppTest) -> list[str]:
    """The source of every element of the page that Streamlit renders as Markdown."""
    found: list[str] = []
    for node in at._tree:
        kind = getattr(node, "type", "")
        proto = getattr(node, "proto", None)
        if proto is None or kind in ("text", "code", "html", "json", "exception", "latex"):
            continue
        if kind == "table":
            cells = node.value.to_numpy().ravel().tolist() + [str(c) for c in node.value.columns]
            found += [c for c in cells if isinstance(c, str)]
            continue
        for holder in (proto, _block_part(proto)):
            for name in ("body", "label", "help", "title"):
                value = getattr(holder, name, None)
                if isinstance(value, str) and value:
                    found.append(value)
    return found


def _flat(text: str) -> str:
    return " ".join(text.split())


def check(at: AppTest, *expected: str) -> None:
    """No Markdown element of the page is markup; each of ``expected`` is read as it is."""
    assert not at.exception, at.exception
    found = bodies(at)
    bad = {b: markup_in(b) for b in found if markup_in(b)}
    assert not bad, "\n\n".join(f"{b!r}\n  -> {m}" for b, m in bad.items())
    shown = _flat(" ".join(read(b) for b in found))
    for text in expected:
        assert _flat(text) in shown, f"{text!r} is not read in:\n" + "\n".join(read(b) for b in found)


def test_the_oracle_sees_markup_in_the_hostile_text_itself():
    # Without this the test could pass for an oracle that sees nothing.
    found = " ".join(markup_in(H))
    for part in (
        "<img http://127.0.0.1:9/x.png>",
        "<a http://127.0.0.1:9/phish>",
        "<a http://127.0.0.1:9/a>",
    ):
        assert part in found
    for part in (
        "autolink www.evil.example",
        "autolink anna@example.com",
        "autolink http://127.0.0.1",
    ):
        assert part in found
    for part in (":material/", ":red[", ":smile:", "$x$"):
        assert f"streamlit syntax {part}" in found
    assert "<strong>b</strong>" in found and "<s>s</s>" in found
    assert "<h1>heading</h1>" in " ".join(markup_in(NAME))
    # Escapes do not stop GFM's literal autolinks: the browser links these after all.
    escaped = "".join("\\" + c if not c.isalnum() and c.isascii() and not c.isspace() else c for c in H)
    assert "autolink www.evil.example" in markup_in(escaped)


# --- the data --------------------------------------------------------------------------------


@pytest.fixture
def hostile(engine: Engine) -> dict:
    """A brand, domain, mailbox, app password and operator whose every text is hostile."""
    with session_scope(engine, write=True) as s:
        brand = Brand(name=BRAND, allow_2fa=True, allow_app_passwords=True, custom_login_css=CSS)
        s.add(brand)
        s.flush()
        domain = make_domain(s, brand, DOMAIN)
        user = make_user(s, domain, "ann", twofa=True)
        user.display_name = NAME
        make_app_password(s, user, LABEL)
        make_operator(s, OPERATOR, "admin", secret=totp.new_secret()).display_name = f"Displaytag {H}"
        mid = Brand(name=MID_BRAND, allow_2fa=True)
        s.add(mid)
        s.flush()
        plain_user = make_user(s, make_domain(s, mid, "reset.example.com"), "cid", twofa=True)
        plain_user.display_name = NAME
        email, plain_email = user.email, plain_user.email
    with session_scope(engine, write=True) as s:  # the hostile operator changed the brand last
        switches.set_switches(
            s,
            actor=Actor(name=OPERATOR, role="admin"),
            name=BRAND,
            change=SwitchChange(allow_user_disable_2fa=True),
        )
    return {"email": email, "plain_email": plain_email}


def _as_hostile(open_page, page: str, **query: str) -> AppTest:
    return open_page(page, as_=OPERATOR, **query)


# --- every page ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "page", ["overview", "brands", "users", "branding", "reports", "audit_log", "operators"]
)
def test_every_page_shows_the_operator_and_brand_names_as_text(open_page, hostile, page):
    at = _as_hostile(open_page, page)
    check(at, OPERATOR)


def test_overview_of_the_hostile_brand(open_page, hostile):
    at = _as_hostile(open_page, "overview")
    at.selectbox("overview_brand").select(BRAND).run()
    check(at, OPERATOR)
    # Plotly reads tags (<a href> among them) and character references in its labels: the
    # brand's label must hold no tag, and read as the brand's name once references are decoded.
    labels = [y for trace in json.loads(at.get("plotly_chart")[0].proto.spec)["data"] for y in trace["y"]]
    assert labels and all(not re.search(r"<[a-zA-Z/!]", y) for y in labels), labels
    assert BRAND in [html.unescape(y) for y in labels]


def test_brands_deep_links_found_and_not_found(open_page, hostile, engine):
    at = _as_hostile(open_page, "brands", brand=BRAND)
    check(at, f"{BRAND}: Services & Settings", f"by {OPERATOR}")
    at.multiselect("brands_bulk_names").set_value([BRAND])
    at.selectbox("brands_bulk_allow_app_passwords").select("Off").run()
    check(at, f"{BRAND}:")
    at.toggle("brands_sw_allow_app_passwords").set_value(False).run()
    at.button("brands_update").click().run()
    check(at, f"{BRAND} updated.")  # the toast and the success line

    at = _as_hostile(open_page, "brands", brand=BRAND)
    with session_scope(engine, write=True) as s:  # a colleague saves in between
        switches.set_switches(
            s, actor=Actor(name=OPERATOR, role="admin"), name=BRAND, change=SwitchChange(allow_2fa=False)
        )
    at.toggle("brands_sw_allow_app_passwords").set_value(True).run()
    at.button("brands_update").click().run()
    check(at, f"{BRAND} was changed since you loaded it", OPERATOR)

    at = _as_hostile(open_page, "brands", brand=MISSING_BRAND)
    check(at, f"There is no brand {MISSING_BRAND!r}")


def test_users_deep_links_found_and_not_found(open_page, hostile):
    email = hostile["email"]
    at = _as_hostile(open_page, "users", user=email)
    check(at, email, _flat(NAME), f"Brand {BRAND}", f"Domain {DOMAIN}")
    at.button("users_revoke_open").click().run()
    check(at, f"Revoke “{LABEL}” of {email}?")
    at.button("users_revoke_confirm").click().run()
    check(at, f"Revoked the app password “{LABEL}” of {email}.")

    at = _as_hostile(open_page, "users", user=MISSING_USER)
    check(at, f"There is no mailbox {MISSING_USER!r}")


def test_a_2fa_reset_with_a_hostile_reason_names_brand_and_mailbox_as_text(open_page, hostile):
    email = hostile["plain_email"]
    at = _as_hostile(open_page, "users", user=email)
    check(at, email, _flat(NAME), f"Brand {MID_BRAND}")
    at.button("users_reset_open").click().run()
    check(at, f"Turn off two-factor authentication for {email}?")
    at.selectbox("users_reset_reason").select("other").run()
    at.text_input("users_reset_other").input(REASON).run()
    at.button("users_reset_confirm").click().run()
    check(
        at, f"2FA is off for {email}.", f"{MID_BRAND}: two-factor authentication was turned off for {email}"
    )
    assert REASON in at.text[0].value  # the notification's body, shown with st.text


def test_users_search_and_its_report(open_page, hostile):
    at = _as_hostile(open_page, "users")
    at.text_input("users_query").input(H).run()
    check(at)
    at.switch_page("app_pages/reports.py").run()
    at.selectbox("reports_brand").select(BRAND).run()
    check(at, f"text = {H!r}", f"UTC months of {BRAND}")


def test_branding_deep_links_found_and_not_found(open_page, hostile, engine):
    at = _as_hostile(open_page, "branding", brand=BRAND)
    # The saved CSS is refused today (it loads from elsewhere): the findings quote it.
    check(
        at,
        "url(http://127.0.0.1:9/x.png) loads from another host",
        f"the demo mailbox (not a real customer) of {BRAND}",
    )
    with session_scope(engine) as s:
        demo = preview_mailbox.preview_mailbox(s, brand=BRAND).address
    at.text_input(key="branding_code").input("000000")
    at.button(key="FormSubmitter:branding_drive_form-Verify").click().run()
    check(at, f"{demo} (demo mailbox (not a real customer)):")

    at = _as_hostile(open_page, "branding", brand=MISSING_BRAND)
    check(at, f"There is no brand {MISSING_BRAND!r}")


def test_operators_confirmations_and_errors(open_page, hostile):
    at = _as_hostile(open_page, "operators")
    at.selectbox("operators_selected").select(OPERATOR).run()
    at.selectbox("operators_new_role").select("analyst").run()
    at.button("operators_role_open").click().run()
    check(at, f"Make {OPERATOR} Analyst?")
    at.button("operators_cancel").click().run()
    at.text_input("operators_add_username").input(SHORT)
    at.button(key="FormSubmitter:operators_add-Add operator").click().run()
    check(at, f"Operator username {SHORT!r} is not valid")


def test_a_mail_server_token_label_is_shown_as_text(open_page, hostile):
    at = _as_hostile(open_page, "operators")
    at.text_input("operators_token_label").input(LABEL)
    at.button(key="FormSubmitter:operators_token_add-Create a token").click().run()
    check(at, f"Made the token “{LABEL}”.")
    at.button("operators_token_revoke_open").click().run()
    check(at, f"Revoke the token “{LABEL}”?")
    at.button("operators_token_revoke_confirm").click().run()
    check(at, f"Revoked the mail-server token “{LABEL}”.")
    at.text_input("operators_token_label").input(LABEL)
    at.button(key="FormSubmitter:operators_token_add-Create a token").click().run()
    check(at, f"A mail-server token labelled {LABEL!r} exists already")


def test_an_address_copied_from_the_page_finds_its_mailbox(open_page, hostile):
    email = hostile["plain_email"]
    at = _as_hostile(open_page, "users", user=email)
    # The heading's text as a browser copies it: the invisible joiner before "@" included.
    copied = html.unescape(re.sub(r"<[^>]*>", "", _GFM.render(at.subheader[0].value))).strip()
    assert copied != email and copied.replace("\u2060", "") == email
    at.text_input("users_query").input(copied).run()
    assert at.dataframe("users_table").value["email"].tolist() == [email]
    at.switch_page("app_pages/audit_log.py").run()
    at.text_input("audit_user").input(copied).run()
    assert not at.exception and at.session_state["audit_filter"].user_email == email
