"""core.brands.login_page: the sandbox's stand-in webmail login page."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import pytest

from core.brands.css.check import check_css
from core.brands.css.report import CssRejected
from core.brands.css.selectors import LOGIN_PAGE_NAMES
from core.brands.css.starter import STARTER_TEMPLATE
from core.brands.login_page import (
    PREVIEW_CSP,
    PREVIEW_DOM_NAMES,
    preview_data_url,
    render_login_page,
)

STATES = ("prompt", "success", "error")
HOSTILE_BRAND = "Acme \"Mail\" & 'Co' <script>alert(1)</script>"


class _Elements(HTMLParser):
    """Start tags in document order, with their attributes, as a browser's
    tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.style_texts: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style_texts.append(data)


def _parse(page: str) -> _Elements:
    parser = _Elements()
    parser.feed(page)
    parser.close()
    return parser


def test_page_starts_with_doctype_and_csp_meta_first_in_head() -> None:
    page = render_login_page(brand_name="Acme", css=STARTER_TEMPLATE)
    assert page.startswith(
        f'<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="{PREVIEW_CSP}">'
    )
    tags = _parse(page).tags
    assert [t for t, _ in tags[:3]] == ["html", "head", "meta"]
    assert tags[2][1] == {"http-equiv": "Content-Security-Policy", "content": PREVIEW_CSP}


def test_csp_value() -> None:
    assert PREVIEW_CSP == (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
        "form-action 'none'; base-uri 'none'"
    )


def _directives(policy: str) -> dict[str, list[str]]:
    """CSP Level 3 §2.2.1 "parse a serialized CSP": directives split on ";", names lower-cased."""
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed.setdefault(name.lower(), values)
    return parsed


def test_csp_lets_nothing_load_from_outside_the_page() -> None:
    directives = _directives(PREVIEW_CSP)
    assert directives["default-src"] == ["'none'"]
    assert directives["img-src"] == ["data:"]
    assert directives["font-src"] == ["data:"]
    assert directives["style-src"] == ["'unsafe-inline'"]  # inline only: no stylesheet from a host
    assert directives["form-action"] == ["'none'"]
    # Nothing re-opens what default-src closes: no script, connection, frame or media.
    for name in ("script-src", "connect-src", "frame-src", "child-src", "media-src", "object-src"):
        assert name not in directives
    assert not any("http" in v or "*" in v for values in directives.values() for v in values)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("dark", [False, True])
def test_no_script_in_any_state(state: str, dark: bool) -> None:
    page = render_login_page(
        brand_name=HOSTILE_BRAND,
        css=STARTER_TEMPLATE,
        state=state,  # type: ignore[arg-type]
        dark=dark,
        message="<script>alert(2)</script>",
    )
    assert "<script" not in page.lower()
    # No event-handler attributes either.
    for _tag, attrs in _parse(page).tags:
        assert not [name for name in attrs if name.startswith("on")]


def test_brand_name_and_message_are_escaped() -> None:
    page = render_login_page(
        brand_name=HOSTILE_BRAND, css="", state="error", message='"><img src=x onerror=alert(1)>'
    )
    escaped = "Acme &quot;Mail&quot; &amp; &#x27;Co&#x27; &lt;script&gt;alert(1)&lt;/script&gt;"
    assert escaped in page
    assert HOSTILE_BRAND not in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img" not in page


def test_brand_name_is_in_the_modal_header() -> None:
    page = render_login_page(brand_name="Acme Mail", css="")
    assert '<div class="modalheader" id="modal-title">Acme Mail</div>' in page


def test_brand_css_comes_after_the_default_stylesheet() -> None:
    css = "#login-form .box-inner .modal { color: #123456 }"
    page = render_login_page(brand_name="Acme", css=css)
    styles = _parse(page).style_texts
    assert len(styles) == 2
    assert "#123456" in styles[1] and "#123456" not in styles[0]
    # What goes in is the vetted, re-serialized CSS.
    assert styles[1].strip() == check_css(css).css.strip()


@pytest.mark.parametrize(
    "css",
    [
        "</style><script>alert(1)</script>",
        '.modal { content: "\\3c /style>" }',
        "@import url(https://evil.example/x.css);",
        ".modal { background: url(javascript:alert(1)) }",
        ".modal { background: url(http://evil.example/x.png) }",
        ".modal { background: url(https://evil.example/x.png) }",
        "@font-face { font-family: X; src: url(https://evil.example/x.woff2) }",
        '.modal { background: image-set("https://evil.example/x.png" 1x) }',
        "input[value^=a] { color: red }",
        ".modal { color: red",
    ],
)
def test_hostile_css_is_refused(css: str) -> None:
    with pytest.raises(CssRejected):
        render_login_page(brand_name="Acme", css=css)


def test_warnings_do_not_stop_the_preview() -> None:
    page = render_login_page(brand_name="Acme", css=".footer-banner { color: #777 }")
    assert ".footer-banner" in page


@pytest.mark.parametrize(
    ("state", "text"),
    [
        ("success", "Code accepted — signing in."),
        ("error", "That code is not valid. Try the current code."),
    ],
)
def test_states_render_their_texts(state: str, text: str) -> None:
    page = render_login_page(brand_name="Acme", css="", state=state)  # type: ignore[arg-type]
    assert f'<div class="modal state-{state}"' in page
    assert f'<p class="status" role="status">{text}</p>' in page
    (modal_class,) = [
        a["class"] for t, a in _parse(page).tags if t == "div" and "modal" in (a["class"] or "").split()
    ]
    assert modal_class == f"modal state-{state}"
    other_text = {"success": "not valid", "error": "Code accepted"}[state]
    assert other_text not in page


def test_prompt_state_has_an_empty_status_and_the_instruction() -> None:
    page = render_login_page(brand_name="Acme", css="")
    assert '<div class="modal state-prompt"' in page
    assert '<p class="status" role="status"></p>' in page
    assert "Enter the 6-digit code from your authenticator app." in page
    assert "Code accepted" not in page and "not valid" not in page


def test_message_replaces_the_status_text() -> None:
    page = render_login_page(brand_name="Acme", css="", state="error", message="Code expired.")
    assert '<p class="status" role="status">Code expired.</p>' in page


def test_code_input_attributes() -> None:
    page = render_login_page(brand_name="Acme", css="")
    (code,) = [attrs for tag, attrs in _parse(page).tags if tag == "input" and attrs.get("id") == "otp-code"]
    assert code["inputmode"] == "numeric"
    assert code["maxlength"] == "6"
    assert code["autocomplete"] == "one-time-code"


def test_buttons_and_form_structure() -> None:
    page = render_login_page(brand_name="Acme", css="")
    tags = _parse(page).tags
    buttons = [attrs for tag, attrs in tags if tag == "button"]
    assert all(b["type"] == "button" for b in buttons)  # nothing submits
    assert re.search(r'<form id="login-form"[^>]*><div class="box-inner">', page)
    for label in ("Sign in", "Verify", "Cancel"):
        assert f">{label}</button>" in page


def test_dark_switches_the_body_class() -> None:
    light = render_login_page(brand_name="Acme", css="")
    dark = render_login_page(brand_name="Acme", css="", dark=True)
    assert '<body class="login-page">' in light
    assert '<body class="login-page dark">' in dark


def test_unknown_state_is_refused() -> None:
    with pytest.raises(ValueError):
        render_login_page(brand_name="Acme", css="", state="maybe")  # type: ignore[arg-type]


def test_preview_data_url_round_trips() -> None:
    page = render_login_page(brand_name="Acmé — 2FA", css=STARTER_TEMPLATE, state="success")
    url = preview_data_url(page)
    prefix = "data:text/html;base64,"
    assert url.startswith(prefix)
    assert base64.b64decode(url[len(prefix) :], validate=True).decode("utf-8") == page


def test_dom_names_match_what_css_checks_against() -> None:
    assert PREVIEW_DOM_NAMES == LOGIN_PAGE_NAMES
    for name in ("#login-form", ".box-inner", ".modal", ".modalheader", ".state-success", ".dark", "input"):
        assert name in PREVIEW_DOM_NAMES
