"""The web adapter: sign-in routes and the session gate around the dashboard.

``streamlit run server.py`` finds ``app`` (an ``st.App``) and serves ``dashboard.py`` behind:

- ``/signin``: the password, then a 6-digit code (or, for an operator without an
  authenticator, enrolment: a QR code, the secret for manual entry, a code to confirm);
  with single sign-on configured, also a "Sign in with <provider>" link for each provider;
- ``/signin/sso?provider=<name>``: starts Streamlit's ``st.login`` OIDC flow (Streamlit's
  own ``/auth/login`` and ``/oauth2callback``). The provider's round trip ends at ``/``,
  which the gate sends to ``/signin``; there the identity Streamlit verified and stored in
  its cookie is exchanged, once, for the console's own session (``core.access.oidc.oidc_sign_in``)
  and Streamlit's cookie is cleared;
- ``/signout``: ends the session and clears the cookies (Streamlit's OIDC cookie too);
- ``/signin/setup``: the one-time "create the first administrator" form while no operator
  exists, 404 after;
- ``SessionGate``: a pure ASGI middleware (it sees websocket scopes too). First the
  origin (PRODUCT.md Trust: the pages and websocket answer only their own origin): a
  websocket upgrade without the console's own ``Origin``, an HTTP request with another
  ``Origin``, and a state-changing request with neither the console's Origin nor its
  Referer get 403, on every path, the sign-in forms included (login CSRF). The console's
  origin is ``MAC_PUBLIC_URL`` when set, else the request's Host with its scheme
  (``web_session.request_from_own_origin``). Then the session: the sign-in pages,
  Streamlit's OIDC routes, the health checks and the public front-end bundle pass, and
  everything else needs a valid session: a page GET goes to ``/signin?next=<path>``, the
  websocket and every other request get 403.

Every decision is a core function (``core.access``: operator_signin, sessions, oidc)
or a pure helper of ``web_session``; this file only speaks HTTP. The pages are small,
self-contained HTML under a strict Content-Security-Policy: no script, no external
asset, one stylesheet allowed by its hash.

Not supported: ``server.baseUrlPath`` (the paths here assume the app at ``/``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from html import escape
from typing import Any, Literal, TypeVar
from urllib.parse import urlencode

import segno
import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketClose
from streamlit.auth_util import (
    get_cookie_with_chunks,
    get_origin_from_redirect_uri,
    get_secrets_auth_section,
    is_authlib_installed,
    validate_auth_credentials,
)
from streamlit.errors import StreamlitAuthError
from streamlit.runtime.secrets import secrets_singleton
from streamlit.user_info import generate_login_redirect_url
from streamlit.web.server.server_util import get_cookie_secret
from streamlit.web.server.starlette.starlette_app_utils import decode_signed_value
from streamlit.web.server.starlette.starlette_server_config import TOKENS_COOKIE_NAME, USER_COOKIE_NAME

from core.access import client_limit, oidc, operator_signin, operators, sessions
from core.access.permissions import Actor
from core.notices import notify
from core.platform import totp
from core.platform.config import get_settings
from core.platform.db import get_engine, session_scope
from core.platform.errors import CoreError
from core.reporting import links
from core.reporting.exports import files
from web_session import (
    CSRF_COOKIE,
    OIDC_NEXT_COOKIE,
    PENDING_COOKIE,
    PENDING_SECONDS,
    SESSION_COOKIE,
    SETUP_PATH,
    SIGN_IN_PATH,
    SIGN_OUT_PATH,
    SSO_PATH,
    cookie_value,
    is_page_path,
    is_public_path,
    origin_text,
    own_origin,
    request_from_own_origin,
    safe_next,
    token_from_cookie,
)

CONSOLE = "MAC Security Console"
T = TypeVar("T")
log = logging.getLogger(__name__)

# --- database calls, each a short transaction in a worker thread ------------------------


def _in_session(fn: Callable[..., T], *args: Any, write: bool = True, **kwargs: Any) -> T:
    # Sign-in steps run in a write session: a failure is recorded and must be committed.
    with session_scope(get_engine(), write=write) as s:
        return fn(s, *args, **kwargs)


async def _db(fn: Callable[..., T], *args: Any, write: bool = True, **kwargs: Any) -> T:
    return await run_in_threadpool(_in_session, fn, *args, write=write, **kwargs)


async def actor_of(conn: HTTPConnection) -> Actor | None:
    """The operator behind the request's session cookie, or None (forged cookies never reach the db)."""
    token = token_from_cookie(conn.cookies.get(SESSION_COOKIE))
    if token is None:
        return None
    return await _db(sessions.session_actor, token)


# --- the session gate -------------------------------------------------------------------


def _one_header(conn: HTTPConnection, name: str) -> str | None:
    # Two Origin (or Host) headers are no browser's: joined, they parse as no origin.
    values = conn.headers.getlist(name)
    return ", ".join(values) if values else None


def origin_refusal(conn: HTTPConnection) -> str | None:
    """Why the request does not come from the console's own origin, or None when it does."""
    scope = conn.scope
    public_url = get_settings().public_url
    origin = _one_header(conn, "origin")
    host = _one_header(conn, "host")
    if request_from_own_origin(
        kind=scope["type"],
        method=scope.get("method", "GET"),
        origin=origin,
        referer=_one_header(conn, "referer"),
        host=host,
        scheme=scope.get("scheme", "http"),
        public_url=public_url,
    ):
        return None
    ours = own_origin(host=host, scheme=scope.get("scheme", "http"), public_url=public_url)
    expected = origin_text(ours) if ours else "unknown (no usable Host header)"
    given = "none" if origin is None else repr(origin[:200])
    log.info("Refused %s %s: Origin %s, the console's is %s", scope["type"], scope["path"], given, expected)
    what = (
        f"Its Origin is {given}"
        if origin is not None or scope["type"] == "websocket"
        else "It changes something and has neither an Origin nor a Referer of this console"
    )
    return (
        f"Refused: this request does not come from the console's own pages. {what}; "
        f"the console's is {expected} (scheme, host and port; MAC_PUBLIC_URL sets it behind a proxy)."
    )


class SessionGate:
    """Refuse requests from another origin, then those without a valid session (pure ASGI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        # The origin first: a header comparison, before any database lookup.
        refusal = origin_refusal(conn)
        if refusal is not None:
            if scope["type"] == "websocket":
                # Closing before accepting makes the server answer the upgrade with 403.
                await WebSocketClose(code=1008, reason="Not the console's origin.")(scope, receive, send)
            else:
                await PlainTextResponse(
                    refusal, status_code=403, headers={"X-Content-Type-Options": "nosniff"}
                )(scope, receive, send)
            return
        if is_public_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        actor = await actor_of(conn)
        if actor is not None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            # Closing before accepting makes the server answer the upgrade with 403.
            await WebSocketClose(code=1008, reason="Sign in first.")(scope, receive, send)
            return
        response: Response
        if scope["method"] in ("GET", "HEAD") and is_page_path(scope["path"]):
            target = scope["path"] + (
                f"?{scope['query_string'].decode('latin-1')}" if scope["query_string"] else ""
            )
            response = RedirectResponse(
                f"{SIGN_IN_PATH}?{urlencode({'next': safe_next(target)})}", status_code=303
            )
        else:
            response = PlainTextResponse("Sign in first.", status_code=403)
        if SESSION_COOKIE in conn.cookies:
            _clear(response, SESSION_COOKIE, "/")
        await response(scope, receive, send)


# --- cookies ----------------------------------------------------------------------------


def _cookie(
    response: Response,
    key: str,
    value: str,
    *,
    path: str,
    max_age: int | None = None,
    samesite: Literal["strict", "lax"] = "strict",
) -> None:
    response.set_cookie(
        key,
        value,
        max_age=max_age,
        path=path,
        secure=get_settings().cookie_secure,
        httponly=True,
        samesite=samesite,
    )


def _clear(response: Response, key: str, path: str) -> None:
    response.delete_cookie(
        key, path=path, secure=get_settings().cookie_secure, httponly=True, samesite="strict"
    )


def _csrf_token(request: Request) -> str:
    current = request.cookies.get(CSRF_COOKIE, "")
    return current if 32 <= len(current) <= 128 else secrets.token_urlsafe(32)


def _csrf_ok(request: Request, form: Any) -> bool:
    # Double submit: the hidden field must equal the cookie, which another site can
    # neither read nor (SameSite=Strict) send along.
    cookie = request.cookies.get(CSRF_COOKIE, "")
    field = str(form.get("csrf", ""))
    return bool(cookie) and hmac.compare_digest(cookie.encode(), field.encode())


# --- the pages ----------------------------------------------------------------------------

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
    token = _csrf_token(request)
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
        _cookie(response, CSRF_COOKIE, token, path=SIGN_IN_PATH)
    return response


def _alert(message: str, kind: str = "error") -> str:
    if not message:
        return ""
    role = "alert" if kind == "error" else "status"
    return f'<div class="alert {kind}" role="{role}">{escape(message)}</div>'


def _hidden(next_url: str, step: str) -> str:
    return (
        '<input type="hidden" name="csrf" value="{csrf}">'
        f'<input type="hidden" name="next" value="{escape(next_url)}">'
        f'<input type="hidden" name="step" value="{escape(step)}">'
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
    info: str = "",
    status: int = 200,
) -> HTMLResponse:
    body = (
        "<h1>Sign in</h1>"
        '<p class="muted">For the reseller\'s staff. Your password, then a code from your '
        "authenticator app.</p>"
        + _alert(info, "info")
        + _alert(message)
        + f'<form method="post" action="{SIGN_IN_PATH}">'
        + _hidden(next_url, "password")
        + '<label for="username">Username</label>'
        f'<input type="text" id="username" name="username" value="{escape(username)}" '
        'autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="64" required'
        f"{'' if username else ' autofocus'}>"
        '<label for="password">Password</label>'
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
        + f'<form method="post" action="{SETUP_PATH}"><input type="hidden" name="csrf" value="{{csrf}}">'
        '<label for="username">Username</label>'
        f'<input type="text" id="username" name="username" value="{escape(username)}" '
        'autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="64" required autofocus>'
        '<label for="display_name">Display name</label>'
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


def _not_found() -> Response:
    return PlainTextResponse("Not found.", status_code=404, headers=_HEADERS)


def _step_url(step: str, next_url: str) -> str:
    return f"{SIGN_IN_PATH}?{urlencode({'step': step, 'next': next_url})}"


def _to_step(step: operator_signin.SignInStep, next_url: str) -> Response:
    response = RedirectResponse(_step_url(step.next, next_url), status_code=303)
    _cookie(response, PENDING_COOKIE, step.ticket, path=SIGN_IN_PATH, max_age=PENDING_SECONDS)
    return response


# --- /signin ------------------------------------------------------------------------------


async def login(request: Request) -> Response:
    if request.method == "POST":
        return await _login_post(request)
    next_url = safe_next(request.query_params.get("next"))
    if await actor_of(request) is not None:
        return RedirectResponse(next_url, status_code=303)
    if await _db(operators.operator_count, write=False) == 0:
        return RedirectResponse(SETUP_PATH, status_code=303)
    identity = sso_identity(request)
    if identity is not None:
        return await _finish_sso(request, *identity)
    step = request.query_params.get("step", "")
    ticket = request.cookies.get(PENDING_COOKIE, "")
    username = operator_signin.read_ticket(ticket) if step in ("code", "enrol") else None
    if step in ("code", "enrol") and username is None:
        return password_page(
            request, next_url, message="The sign-in took too long; enter your password again."
        )
    if username is None:
        return password_page(request, next_url)
    if step == "code":
        return code_page(request, next_url, username=username)
    try:
        secret, _uri = await _db(operator_signin.start_enrolment, ticket=ticket)
    except CoreError as exc:
        # Enrolled already: the code step is the way on.
        return code_page(request, next_url, username=username, message=str(exc))
    return enrol_page(request, next_url, username=username, secret=secret)


async def _login_post(request: Request) -> Response:
    form = await request.form()
    next_url = safe_next(str(form.get("next", "")))
    if not _csrf_ok(request, form):
        return password_page(
            request,
            next_url,
            message="The form expired or was not sent from this page; try again.",
            status=403,
        )
    step = str(form.get("step", "password"))
    if step == "password":
        username = str(form.get("username", ""))[:64]
        result = await run_in_threadpool(
            operator_signin.check_password,
            get_engine(),
            username=username,
            password=str(form.get("password", "")),
            client=request.client.host if request.client else None,
        )
        if not result.ok:
            return password_page(
                request,
                next_url,
                message=result.message,
                username=username.strip().lower()[:64],
                status=429 if result.message == client_limit.CLIENT_LIMITED else 200,
            )
        return _to_step(result, next_url)

    ticket = request.cookies.get(PENDING_COOKIE, "")
    result = await _db(operator_signin.check_code, ticket=ticket, code=str(form.get("code", ""))[:20])
    if result.ok:
        response = RedirectResponse(next_url, status_code=303)
        _cookie(response, SESSION_COOKIE, cookie_value(result.token), path="/")
        _clear(response, PENDING_COOKIE, SIGN_IN_PATH)
        return response
    username = operator_signin.read_ticket(ticket)
    if username is None:
        return password_page(request, next_url, message=result.message)
    secret = str(form.get("secret", ""))
    if step == "enrol" and secret:
        # The key shown is the one just stored (the field only redraws it; the code is
        # checked against the database).
        return enrol_page(request, next_url, username=username, secret=secret[:64], message=result.message)
    return code_page(request, next_url, username=username, message=result.message)


# --- single sign-on through Streamlit's st.login (optional) -------------------------------

# What makes a table of [auth] a provider's (as Streamlit reads it).
_PROVIDER_KEYS = frozenset({"client_id", "client_secret", "server_metadata_url"})
SSO_NEXT_SECONDS = 600


def sso_providers() -> list[tuple[str, str]]:
    """The OIDC providers ``.streamlit/secrets.toml`` configures: (name, button label).

    Streamlit's format: ``[auth]`` with ``redirect_uri`` and ``cookie_secret``, then either
    one ``[auth.NAME]`` table per provider or the provider's keys in ``[auth]`` itself (the
    "default" provider). A provider Streamlit would refuse is left out, with a warning in
    the server's log. Without an ``[auth]`` section: none.
    """
    section = get_secrets_auth_section()
    if not section:
        return []
    names = [
        str(name)
        for name, value in section.items()
        if isinstance(value, Mapping) and _PROVIDER_KEYS & set(value.keys())
    ]
    if not names and _PROVIDER_KEYS & set(section.keys()):
        names = ["default"]
    if names and not is_authlib_installed():
        log.warning("Single sign-on is configured but Authlib is missing: pip install -r requirements.txt")
        return []
    found = []
    for name in names:
        try:
            validate_auth_credentials(name)
        except StreamlitAuthError as exc:
            log.warning("Single sign-on provider %r left out: %s", name, exc)
            continue
        label = "single sign-on" if name == "default" else name.replace("-", " ").title()
        found.append((name, label))
    return found


def sso_directory() -> dict[str, str]:
    """``[mac.oidc_operators]`` of secrets.toml: which operator each provider email signs in as."""
    if not secrets_singleton.load_if_toml_exists():
        return {}
    mac = secrets_singleton.get("mac") or {}
    table = mac.get("oidc_operators") if isinstance(mac, Mapping) else None
    return oidc.oidc_directory(table if isinstance(table, Mapping) else None)


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


def _streamlit_cookie(request: Request, name: str) -> bytes | None:
    value = request.cookies.get(name)
    if value is None:
        return None
    return decode_signed_value(get_cookie_secret(), name, value.encode("latin-1"))


def sso_identity(request: Request) -> tuple[str, dict[str, Any]] | None:
    """(provider, claims) from the identity cookie Streamlit sets after the provider's callback.

    None without single sign-on, without the cookie, or when the cookie is not Streamlit's
    own (its signature with ``cookie_secret``), was made for another origin, or names a
    provider that is not configured.
    """
    if USER_COOKIE_NAME not in request.cookies:
        return None
    providers = {name for name, _label in sso_providers()}
    if not providers:
        return None
    raw = get_cookie_with_chunks(lambda name: _streamlit_cookie(request, name), USER_COOKIE_NAME)
    try:
        claims = json.loads(raw) if raw else None
    except ValueError:
        return None
    if (
        not isinstance(claims, dict)
        or claims.get("is_logged_in") is not True
        or claims.get("origin") != get_origin_from_redirect_uri()
        or claims.get("provider") not in providers
    ):
        return None
    return str(claims["provider"]), claims


def _clear_streamlit_identity(response: Response, request: Request) -> None:
    """Delete Streamlit's OIDC cookies (and their chunks): the console keeps its own session."""
    for name in request.cookies:
        for base in (USER_COOKIE_NAME, TOKENS_COOKIE_NAME):
            if name == base or (name.startswith(f"{base}_") and name[len(base) + 1 :].isdigit()):
                response.delete_cookie(name, path="/")


async def sso_start(request: Request) -> Response:
    """``/signin/sso?provider=NAME``: on to Streamlit's ``st.login`` flow for a configured provider."""
    provider = request.query_params.get("provider", "")
    if provider not in {name for name, _label in sso_providers()}:
        return _not_found()
    next_url = safe_next(request.query_params.get("next"))
    if await actor_of(request) is not None:
        return RedirectResponse(next_url, status_code=303)
    # The same address st.login sends a browser to (a provider token valid for 2 minutes).
    response = RedirectResponse(generate_login_redirect_url(provider), status_code=303)
    # Lax: the way back comes from the provider's site, where a strict cookie stays behind.
    _cookie(response, OIDC_NEXT_COOKIE, next_url, path=SIGN_IN_PATH, max_age=SSO_NEXT_SECONDS, samesite="lax")
    return response


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


async def _finish_sso(request: Request, provider: str, claims: dict[str, Any]) -> Response:
    result = await _db(oidc.oidc_sign_in, provider=provider, claims=claims, directory=sso_directory())
    next_url = safe_next(request.cookies.get(OIDC_NEXT_COOKIE))
    response: Response
    if result.ok:
        actor = await _db(sessions.session_actor, result.token, touch=False, write=False)
        response = sso_done_page(request, next_url, username=actor.name if actor else "")
        _cookie(response, SESSION_COOKIE, cookie_value(result.token), path="/")
    else:
        response = sso_refused_page(request, result.message)
    # The identity is exchanged once: Streamlit's cookie (and its tokens) goes now.
    _clear_streamlit_identity(response, request)
    _clear(response, OIDC_NEXT_COOKIE, SIGN_IN_PATH)
    return response


# --- /signout -----------------------------------------------------------------------------


async def logout(request: Request) -> Response:
    # GET as well as POST: the dashboard's "Sign out" is a link. SameSite=Strict keeps
    # another *site* from sending the cookie, but a page on another port of the same host
    # is the same site: a GET navigation ends the session only when the browser says it
    # came from this origin or was typed (Sec-Fetch-Site; POSTs pass the gate's origin check).
    if request.method == "GET" and request.headers.get("sec-fetch-site") not in (None, "same-origin", "none"):
        return RedirectResponse("/", status_code=303)  # nothing ended, no cookie touched
    token = token_from_cookie(request.cookies.get(SESSION_COOKIE))
    if token is not None:
        await _db(sessions.end_session, token)
    response = RedirectResponse(SIGN_IN_PATH, status_code=303)
    _clear(response, SESSION_COOKIE, "/")
    _clear(response, PENDING_COOKIE, SIGN_IN_PATH)
    _clear(response, OIDC_NEXT_COOKIE, SIGN_IN_PATH)
    # Streamlit's own OIDC cookie too, should one be left from an unfinished sign-in.
    _clear_streamlit_identity(response, request)
    return response


# --- /signin/setup ------------------------------------------------------------------------


def _create_first_admin(
    session: Any, *, username: str, display_name: str, password: str
) -> operator_signin.SignInStep | None:
    """The first administrator and a pending ticket for its enrolment, or None when operators exist."""
    if operators.operator_count(session) > 0:
        return None
    op = operators.add_operator(
        session,
        actor=Actor.first_run(),
        username=username,
        role="admin",
        password=password,
        display_name=display_name,
    )
    # The password was just set: on to the authenticator's enrolment.
    return operator_signin.SignInStep(
        ok=True, message="", next="enrol", ticket=operator_signin.make_ticket(op.username)
    )


async def setup(request: Request) -> Response:
    if request.method == "GET":
        if await _db(operators.operator_count, write=False) > 0:
            return _not_found()
        return setup_page(request)
    form = await request.form()
    username = str(form.get("username", ""))[:64]
    display_name = str(form.get("display_name", ""))[:200]
    if not _csrf_ok(request, form):
        return setup_page(request, message="The form expired or was not sent from this page; try again.")
    password = str(form.get("password", ""))
    if password != str(form.get("confirm", "")):
        return setup_page(
            request,
            message="The two passwords differ; type them again.",
            username=username,
            display_name=display_name,
        )
    try:
        result = await _db(
            _create_first_admin, username=username, display_name=display_name, password=password
        )
    except CoreError as exc:
        return setup_page(request, message=str(exc), username=username, display_name=display_name)
    if result is None:
        return _not_found()
    return _to_step(result, "/")


async def download(request: Request) -> Response:
    """A large CSV export, streamed from a server-side cursor (core.reporting.links, core.reporting.exports.files).

    The gate has checked the session already; the link must also be genuine, fresh and
    made for this operator. The CSV is produced in a worker thread chunk by chunk, so
    other operators' pages stay responsive and memory stays flat.
    """
    actor = await actor_of(request)
    try:
        wanted = links.read_link(request.url.query, actor)
        search, audit_filter = wanted.search(), wanted.audit_filter()
    except CoreError as exc:
        return PlainTextResponse(str(exc), status_code=403 if exc.exit_code == 1 else 400)
    chunks = files.iter_csv(
        wanted.kind,
        engine=get_engine(),
        search=search,
        audit_filter=audit_filter,
        by=wanted.by,
        brand=wanted.brand or None,
        bom=wanted.bom,
    )
    return StreamingResponse(
        (chunk.encode("utf-8") for chunk in chunks),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{wanted.filename()}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@asynccontextmanager
async def lifespan(_app: st.App) -> AsyncIterator[None]:
    """The customer-notification sender runs beside the server, once a process
    (``core.notices.notify.start_sender``; none with ``MAC_SENDER=off``), and stops with it."""
    notify.start_sender()
    try:
        yield
    finally:
        await run_in_threadpool(notify.stop_sender)


app = st.App(
    "dashboard.py",
    lifespan=lifespan,
    routes=[
        Route(links.DOWNLOAD_PATH, download, methods=["GET"]),
        Route(SIGN_IN_PATH, login, methods=["GET", "POST"]),
        Route(SSO_PATH, sso_start, methods=["GET"]),
        Route(SETUP_PATH, setup, methods=["GET", "POST"]),
        Route(SIGN_OUT_PATH, logout, methods=["GET", "POST"]),
    ],
    middleware=[Middleware(SessionGate)],
)

__all__ = ["SessionGate", "app", "origin_refusal"]
