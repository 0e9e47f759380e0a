"""A stand-in for a brand's custom webmail login page, to preview its CSS.

The sandbox page shows the account manager how the brand's ``custom_login_css``
styles the 2FA pop-up, in an iframe fed with :func:`preview_data_url`.  The
page imitates the webmail login page: the sign-in form
(``#login-form .box-inner``) with the 2FA pop-up (``.modal`` with its
``.modalheader``) open over it.

Safety, in layers:

* the brand CSS only goes into the page after :func:`core.brands.css.check.validate_css`
  accepted it, and what goes in is the re-serialized CSS from its report, so
  no ``</style`` (nor any ``<``) can ever land in the page;
* every other value (brand name, message) is HTML-escaped with quotes
  (``html.escape(..., quote=True)``);
* the very first element of ``<head>`` is a Content-Security-Policy that allows
  inline styles, and images and fonts from ``data:`` URLs, and nothing else: no
  script, no connection, no stylesheet, image or font from any host, https
  included, and no form submission (CSP Level 3: a policy delivered by
  ``<meta>`` only governs what comes after it, hence first).  So even CSS the
  checker wrongly let through could load nothing from outside the page;
* the page has no ``<script>`` and no event-handler attributes, and its buttons
  are ``type="button"`` so nothing submits.
"""

from __future__ import annotations

import base64
import html
from html.parser import HTMLParser
from typing import Literal

from core.brands.css.check import validate_css

__all__ = [
    "PREVIEW_CSP",
    "PREVIEW_DOM_NAMES",
    "STATE_TEXTS",
    "PreviewState",
    "preview_data_url",
    "render_login_page",
]

# default-src covers script, connect, frame, media, object, worker and manifest
# requests; form-action and base-uri do not fall back to it, so they are named.
PREVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "form-action 'none'; base-uri 'none'"
)

# Written into a double-quoted attribute as it is, so it must stay free of
# characters HTML would read as markup there.
assert not set(PREVIEW_CSP) & set('"&<>'), "PREVIEW_CSP must be attribute-safe"

PreviewState = Literal["prompt", "success", "error"]

INSTRUCTION = "Enter the 6-digit code from your authenticator app."
STATE_TEXTS: dict[str, str] = {
    "prompt": "",
    "success": "Code accepted — signing in.",
    "error": "That code is not valid. Try the current code.",
}

# The preview's own look, placed before the brand CSS so the brand CSS, coming
# later with the same selectors, overrides it (CSS Cascade 4 §6.5, order of
# appearance).  The pop-up's colours match what core.brands.css.contrast assumes when the
# brand sets none: black text on white.
_DEFAULT_CSS = """\
html, body { margin: 0; padding: 0; }
body.login-page {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  font-size: 16px; background: #eef1f5; color: #1a1a1a; min-height: 100vh;
}
body.login-page.dark { background: #15181d; color: #e8eaed; }
#login-form { display: flex; justify-content: center; padding: 48px 16px; }
#login-form .box-inner {
  position: relative; width: 100%; max-width: 360px; padding: 24px;
  background: #ffffff; color: #1a1a1a; border-radius: 8px;
  box-shadow: 0 2px 12px rgba(0, 0, 0, 0.15);
}
body.dark #login-form .box-inner { background: #23272e; color: #e8eaed; }
.login-title { font-size: 20px; margin: 0 0 16px; }
.field-label { display: block; margin: 12px 0 4px; font-size: 14px; }
.field, .code-input {
  box-sizing: border-box; width: 100%; padding: 8px 10px; font-size: 16px;
  border: 1px solid #8a939c; border-radius: 4px;
}
.button {
  margin-top: 16px; padding: 8px 16px; font-size: 15px; border-radius: 4px;
  border: 1px solid #0b5cad; background: #0b5cad; color: #ffffff; cursor: pointer;
}
.modal-backdrop { position: fixed; inset: 0; background: rgba(0, 0, 0, 0.45); }
#login-form .box-inner .modal {
  position: fixed; top: 50%; left: 50%; transform: translate(-50%, -50%);
  width: 90%; max-width: 340px; background: #ffffff; color: #000000;
  border-radius: 8px; overflow: hidden; box-shadow: 0 8px 32px rgba(0, 0, 0, 0.35);
}
#login-form .box-inner .modalheader { padding: 12px 16px; font-weight: bold; font-size: 17px; }
.modalbody { padding: 12px 16px 16px; }
.instruction { margin: 0 0 12px; }
.code-input { letter-spacing: 0.3em; text-align: center; font-size: 22px; }
.status { min-height: 1.4em; margin: 10px 0 0; font-size: 14px; }
.modal.state-success .status { color: #1b5e20; }
.modal.state-error .status { color: #b00020; }
.modal.state-error .code-input { border-color: #b00020; }
.buttons { display: flex; gap: 8px; }
.button.cancel { background: #ffffff; color: #0b5cad; }
"""


def _page(*, brand_name: str, css: str, state: str, dark: bool, message: str | None) -> str:
    """The page markup; ``css`` must already be checked, the rest is escaped here."""
    brand = html.escape(brand_name, quote=True)
    status = html.escape(STATE_TEXTS[state] if message is None else message, quote=True)
    body_class = "login-page dark" if dark else "login-page"
    invalid = ' aria-invalid="true"' if state == "error" else ""
    # "Bluebird Webmail webmail" reads badly: name the product once.
    title = brand if brand_name.strip().lower().endswith(("webmail", "mail")) else f"{brand} webmail"
    return (
        "<!doctype html><html><head>"
        f'<meta http-equiv="Content-Security-Policy" content="{PREVIEW_CSP}">'
        '<meta charset="utf-8">'
        f"<title>Sign in — {brand}</title>"
        f"<style>\n{_DEFAULT_CSS}</style>"
        f"<style>\n{css}</style>"
        "</head>"
        f'<body class="{body_class}">'
        '<form id="login-form" method="post" novalidate>'
        '<div class="box-inner">'
        f'<h1 class="login-title">Sign in to {title}</h1>'
        '<label class="field-label" for="username">Email address</label>'
        '<input class="field" id="username" name="username" type="email" autocomplete="username">'
        '<label class="field-label" for="password">Password</label>'
        '<input class="field" id="password" name="password" type="password"'
        ' autocomplete="current-password">'
        '<button class="button login-button" type="button">Sign in</button>'
        '<div class="modal-backdrop"></div>'
        f'<div class="modal state-{state}" role="dialog" aria-modal="true"'
        ' aria-labelledby="modal-title">'
        f'<div class="modalheader" id="modal-title">{brand}</div>'
        '<div class="modalbody">'
        f'<p class="instruction">{html.escape(INSTRUCTION)}</p>'
        '<label class="field-label" for="otp-code">6-digit code</label>'
        '<input class="code-input" id="otp-code" name="otp" type="text" inputmode="numeric"'
        f' pattern="[0-9]{{6}}" maxlength="6" autocomplete="one-time-code"{invalid}>'
        f'<p class="status" role="status">{status}</p>'
        '<div class="buttons">'
        '<button class="button verify" type="button">Verify</button>'
        '<button class="button cancel" type="button">Cancel</button>'
        "</div></div></div>"
        "</div></form></body></html>"
    )


def render_login_page(
    *,
    brand_name: str,
    css: str,
    state: PreviewState = "prompt",
    dark: bool = False,
    message: str | None = None,
) -> str:
    """The preview page for ``brand_name`` styled by ``css``.

    Raises :class:`core.brands.css.report.CssRejected` for CSS that :func:`core.brands.css.check.check_css`
    refuses (defence in depth: the sandbox checks first, but the page must not
    depend on that), and ValueError for an unknown ``state``.  ``message``,
    when given, replaces the status line's default text for the state.
    """
    if state not in STATE_TEXTS:
        raise ValueError(f"unknown preview state {state!r}; expected one of {sorted(STATE_TEXTS)}")
    report = validate_css(css)
    # report.css is the re-serialized CSS the checker vetted, not the raw input.
    return _page(brand_name=brand_name, css=report.css, state=state, dark=dark, message=message)


def preview_data_url(html_text: str) -> str:
    """A ``data:text/html;base64,…`` URL (RFC 2397) of the page, for an iframe.

    Base64 keeps ``#``, ``%`` and quotes in the page from being read as URL
    syntax; the page declares its own charset (UTF-8) in a ``<meta>``.
    """
    encoded = base64.b64encode(html_text.encode("utf-8")).decode("ascii")
    return f"data:text/html;base64,{encoded}"


class _NameCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.add(tag)
        for name, value in attrs:
            if name == "id" and value:
                self.names.add("#" + value)
            elif name == "class" and value:
                self.names.update("." + c for c in value.split())


def _dom_names() -> frozenset[str]:
    collector = _NameCollector()
    for state in STATE_TEXTS:
        for dark in (False, True):
            collector.feed(_page(brand_name="Brand", css="", state=state, dark=dark, message=None))
    collector.close()
    return frozenset(collector.names)


# The ids (#x), classes (.x) and element names found in the preview markup in
# any state.  core.brands.css.selectors keeps the same set as LOGIN_PAGE_NAMES for its
# "styles nothing on the login page" warning; a test keeps the two equal.
PREVIEW_DOM_NAMES: frozenset[str] = _dom_names()
