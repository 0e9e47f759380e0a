"""The console's own small HTML pages: password, code, enrolment, first administrator, and
the end of a single sign-on (done or refused).

Each page is self-contained under a strict Content-Security-Policy: no script, no external
asset, one stylesheet allowed by its hash. Every form carries the CSRF token
(``web.cookies``), which ``_page`` writes into the ``{csrf}`` placeholder and sets as a cookie.
Text from outside (a username, a message, a provider's label) is escaped here.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from urllib.parse import urlencode

import segno
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from core.access import operator_signin
from core.platform import totp
from web.cookies import CSRF_COOKIE, csrf_token, set_cookie
from web.paths import SETUP_PATH, SIGN_IN_PATH, SIGN_OUT_PATH, SSO_PATH
from web.sso_config import sso_providers

CONSOLE = "MAC Security Console"
# The one wording for a form whose CSRF token does not match its cookie.
FORM_EXPIRED = "The form expired or was not sent from this page; try again."
_CSRF_FIELD = '<input type="hidden" name="csrf" value="{csrf}">'

_CSS = """
*{box-sizing:border-box}
html{color-scheme:light}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
 background:#f3f5f8;color:#1c2430;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{width:100%;max-width:420px;margin:24px 16px;background:#fff;border:1px solid #dde3ea;
 border-radius:10px;padding:28px 32px;box-shadow:0 2px 10px rgba(20,30,50,.06)}
main.wide{max-width:520px}
.brand{font-size:13px;font-weight:600;letter-spacing:.06em;text-transform:uppercase;color:#3d5a80;
 margin:0 0 6px}
h1{font-size:24px;margin:0 0 8px}
p{margin:0 0 16px}
.muted{color:#4f5b6b;font-size:14px}
label{display:block;font-weight:600;font-size:14px;margin:14px 0 4px}
input[type=text],input[type=password]{width:100%;padding:9px 11px;font:inherit;border:1px solid #a9b4c2;
 border-radius:6px;background:#fff;color:inherit}
input:focus{outline:2px solid #3d5a80;outline-offset:1px;border-color:#3d5a80}
input.code{font-size:22px;letter-spacing:.3em;font-variant-numeric:tabular-nums;max-width:12ch}
button{margin-top:20px;width:100%;padding:10px;font:inherit;font-weight:600;color:#fff;
 background:#2f4b73;border:0;border-radius:6px;cursor:pointer}
button:hover{background:#243b5c}
a.sso{display:block;margin-top:12px;padding:9px;text-align:center;font-weight:600;text-decoration:none;
 color:#2f4b73;background:#fff;border:1px solid #2f4b73;border-radius:6px}
a.sso:hover{background:#eaf2fb}
.or{margin:20px 0 0;text-align:center;font-size:13px;color:#4f5b6b}
.alert{border-radius:6px;padding:10px 12px;margin:0 0 16px;font-size:14px}
.alert.error{background:#fdecea;border:1px solid #f1b0aa;color:#8a1c12}
.alert.info{background:#eaf2fb;border:1px solid #b3cde8;color:#1d4470}
.qr{display:flex;justify-content:center;margin:8px 0 12px}
.qr svg{width:200px;height:200px}
.secret{font:15px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f3f5f8;
 border:1px solid #dde3ea;border-radius:6px;padding:8px 10px;word-break:break-all;letter-spacing:.08em;
 user-select:all}
ol{padding-left:20px;margin:0 0 12px}
ol li{margin:0 0 4px}
a{color:#2f4b73}
footer{margin-top:20px;font-size:13px;color:#4f5b6b}
"""
_CSS_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
_CSP = (
    "default-src 'none'; "
    f"style-src 'sha256-{_CSS_HASH}'; "
    "img-src 'self'; "
    "form-action 'self'; "
    "frame-ancestors 'none'; "
    "base-uri 'none'"
)
_HEADERS = {
    "Content-Security-Policy": _CSP,
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: under no-referrer a browser sends "Origin: null" with
    # the page's own form POSTs (Fetch, "serializing a request origin"), which the gate
    # cannot tell from a foreign page's. Other origins still get no Referer.
    "Referrer-Policy": "same-origin",
}


def _page(
    request: Request, title: str, body: str, *, status: int = 200, wide: bool = False, head: str = ""
) -> HTMLResponse:
    """A complete page; ``body`` (and ``head``) is HTML already escaped by the caller. Sets the CSRF cookie."""
    token = csrf_token(request)
    html = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)} · {CONSOLE}</title>"
        '<link rel="icon" href="/favicon.png">'
        f"<style>{_CSS}</style>{head}</head><body>"
        f'<main{" class=wide" if wide else ""}><p class="brand">{CONSOLE}</p>'
        + body.replace("{csrf}", escape(token))
        + "</main></body></html>"
    )
    response = HTMLResponse(html, status_code=status, headers=_HEADERS)
    if request.cookies.get(CSRF_COOKIE) != token:
        set_cookie(response, CSRF_COOKIE, token, path=SIGN_IN_PATH)
    return response


def _alert(message: str) -> str:
    if not message:
        return ""
    return f'<div class="alert error" role="alert">{escape(message)}</div>'


def _hidden(next_url: str, step: str) -> str:
    return (
        _CSRF_FIELD + f'<input type="hidden" name="next" value="{escape(next_url)}">'
        f'<input type="hidden" name="step" value="{escape(step)}">'
    )


def _username_input(username: str, *, autofocus: bool) -> str:
    return (
        '<label for="username">Username</label>'
        f'<input type="text" id="username" name="username" value="{escape(username)}" '
        'autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="64" required'
        f"{' autofocus' if autofocus else ''}>"
    )


def _code_input(autofocus: bool = True) -> str:
    return (
        '<label for="code">6-digit code</label>'
        '<input class="code" type="text" id="code" name="code" inputmode="numeric" '
        'autocomplete="one-time-code" pattern="[0-9 ]{6,7}" maxlength="7" required'
        f"{' autofocus' if autofocus else ''}>"
    )


def password_page(
    request: Request,
    next_url: str,
    *,
    message: str = "",
    username: str = "",
    status: int = 200,
) -> HTMLResponse:
    """The password step, with a link for each single sign-on provider."""
    body = (
        "<h1>Sign in</h1>"
        '<p class="muted">For the reseller\'s staff. Your password, then a code from your '
        "authenticator app.</p>"
        + _alert(message)
        + f'<form method="post" action="{SIGN_IN_PATH}">'
        + _hidden(next_url, "password")
        + _username_input(username, autofocus=not username)
        + '<label for="password">Password</label>'
        '<input type="password" id="password" name="password" autocomplete="current-password" required'
        f"{' autofocus' if username else ''}>"
        "<button type=submit>Continue</button></form>"
        + _sso_links(next_url)
        + "<footer>No account or locked out? Ask a console administrator.</footer>"
    )
    return _page(request, "Sign in", body, status=status)


def code_page(request: Request, next_url: str, *, username: str, message: str = "") -> HTMLResponse:
    body = (
        "<h1>Enter your code</h1>"
        f'<p class="muted">Signing in as <strong>{escape(username)}</strong>. Open your authenticator '
        f"app and enter the current 6-digit code for {CONSOLE}.</p>"
        + _alert(message)
        + f'<form method="post" action="{SIGN_IN_PATH}">'
        + _hidden(next_url, "code")
        + _code_input()
        + "<button type=submit>Sign in</button></form>"
        f'<footer><a href="{SIGN_OUT_PATH}">Start again</a> · Lost your phone? An administrator can reset '
        "your authenticator.</footer>"
    )
    return _page(request, "Enter your code", body)


def enrol_page(
    request: Request, next_url: str, *, username: str, secret: str, message: str = ""
) -> HTMLResponse:
    uri = totp.provisioning_uri(secret, account=username, issuer=operator_signin.ISSUER)
    qr = segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff", border=4)
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    body = (
        "<h1>Set up your authenticator</h1>"
        f'<p class="muted">Signing in as <strong>{escape(username)}</strong>. The console asks for a code '
        "from your own authenticator app at every sign-in.</p>"
        + _alert(message)
        + "<ol><li>Scan this QR code with an authenticator app (Google Authenticator, Microsoft "
        "Authenticator, 1Password, Aegis…).</li>"
        "<li>Or type the key below into the app by hand (time-based, 6 digits, 30 seconds).</li>"
        "<li>Enter the code the app shows to confirm.</li></ol>"
        f'<div class="qr" role="img" aria-label="QR code of your authenticator key">{qr}</div>'
        '<label for="secret">Key for manual entry</label>'
        f'<div class="secret" id="secret">{escape(grouped)}</div>'
        f'<form method="post" action="{SIGN_IN_PATH}">'
        + _hidden(next_url, "enrol")
        + f'<input type="hidden" name="secret" value="{escape(secret)}">'
        + _code_input()
        + "<button type=submit>Confirm and sign in</button></form>"
        "<footer>Reloading this page makes a new key; scan the newest one. "
        f'<a href="{SIGN_OUT_PATH}">Start again</a></footer>'
    )
    return _page(request, "Set up your authenticator", body, wide=True)


def setup_page(
    request: Request, *, message: str = "", username: str = "", display_name: str = ""
) -> HTMLResponse:
    body = (
        "<h1>Create the first administrator</h1>"
        '<p class="muted">The console has no operators yet. This form works once: the account made here '
        "manages every other operator. You set up its authenticator next.</p>"
        + _alert(message)
        + f'<form method="post" action="{SETUP_PATH}">{_CSRF_FIELD}'
        + _username_input(username, autofocus=True)
        + '<label for="display_name">Display name</label>'
        f'<input type="text" id="display_name" name="display_name" value="{escape(display_name)}" '
        'autocomplete="name" maxlength="200">'
        '<label for="password">Password (at least 10 characters)</label>'
        '<input type="password" id="password" name="password" autocomplete="new-password" '
        'minlength="10" required>'
        '<label for="confirm">Password again</label>'
        '<input type="password" id="confirm" name="confirm" autocomplete="new-password" '
        'minlength="10" required>'
        "<button type=submit>Create administrator</button></form>"
    )
    return _page(request, "First administrator", body)


def not_found() -> Response:
    return PlainTextResponse("Not found.", status_code=404, headers=_HEADERS)


def _sso_links(next_url: str) -> str:
    providers = sso_providers()
    if not providers:
        return ""
    links_html = "".join(
        f'<a class="sso" href="{escape(SSO_PATH)}?{escape(urlencode({"provider": name, "next": next_url}))}">'
        f"Sign in with {escape(label)}</a>"
        for name, label in providers
    )
    return '<p class="or">or</p>' + links_html


def sso_done_page(request: Request, next_url: str, *, username: str) -> HTMLResponse:
    # A page, not a redirect: the way back from the provider is a cross-site chain of
    # redirects, on which browsers hold back SameSite=Strict cookies such as the session's.
    # A refresh started by this page is a same-site navigation that sends it.
    target = escape(next_url)
    body = (
        "<h1>Signed in</h1>"
        f'<p class="muted">Signed in as <strong>{escape(username)}</strong> through single sign-on.</p>'
        f'<p><a href="{target}">Continue to the console</a></p>'
    )
    return _page(request, "Signed in", body, head=f'<meta http-equiv="refresh" content="0;url={target}">')


def sso_refused_page(request: Request, message: str) -> HTMLResponse:
    body = (
        "<h1>Sign-in refused</h1>" + _alert(message) + f'<p><a href="{SIGN_IN_PATH}">Back to sign-in</a></p>'
        "<footer>Operators are managed by the console's administrators.</footer>"
    )
    return _page(request, "Sign-in refused", body, status=403)
