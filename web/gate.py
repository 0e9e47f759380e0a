"""The gate in front of every request: the console's own origin first, then a session.

Origins (PRODUCT.md Trust: the pages and websocket answer only their own origin).
Cookies ignore ports and ``SameSite`` treats every port of a host as the same site, so a
page served on ``http://127.0.0.1:9999`` sends the operator's cookies to the console on
``:8501``. What tells them apart is the ``Origin`` header (RFC 6454): scheme, host and port,
compared exactly (``request_from_own_origin``). The console's origin is ``MAC_PUBLIC_URL``
when set, else the request's Host with its scheme.

``SessionGate`` is a pure ASGI middleware (it sees websocket scopes too). A websocket upgrade
without the console's own ``Origin``, an HTTP request with another ``Origin``, and a
state-changing request with neither the console's Origin nor its Referer get 403, on every
path, the sign-in forms included (login CSRF), except a POST to a bearer path
(``web.paths.is_bearer_path``: ``/api/mail-auth``), which a mail server sends with its
token and no cookie, and which passes untouched. Then the session: the public paths
(``web.paths.is_public_path``) pass, and everything else needs a valid session: a page GET
goes to ``/signin?next=<path>``, the websocket and every other request get 403.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode, urlsplit

from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketClose

from core.access.sessions import SESSION_COOKIE
from core.platform.config import get_settings
from web.cookies import clear_cookie
from web.db import actor_of
from web.paths import SIGN_IN_PATH, is_bearer_path, is_page_path, is_public_path, safe_next

log = logging.getLogger(__name__)

# An origin as RFC 6454 compares it: (scheme, host, port), the port always filled in.
OriginTuple = tuple[str, str, int]
_DEFAULT_PORTS = {"http": 80, "https": 443}
# The websocket scope's scheme names the page's scheme it was opened from.
_HTTP_SCHEME = {"http": "http", "https": "https", "ws": "http", "wss": "https"}
# RFC 9110 §9.2.1: methods that change nothing; a browser's top-level navigation is a GET
# without an Origin header, so only these may come without one.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _url_origin(url: str) -> OriginTuple | None:
    """(scheme, host, port) of an absolute http(s) URL without user info, else None."""
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def parse_origin(value: str | None) -> OriginTuple | None:
    """An ``Origin`` header's (scheme, host, port), or None for anything that is not one origin.

    ``null`` (a sandboxed frame, a cross-origin redirect, a ``no-referrer`` page), a list
    of origins, a path, a query or user info are not an origin of this console.
    """
    if not value or len(value) > 300 or any(c in value for c in "?#,"):
        return None
    found = _url_origin(value)
    if found is None or urlsplit(value).path:
        return None
    return found


def own_origin(*, host: str | None, scheme: str, public_url: str | None = None) -> OriginTuple | None:
    """The console's own origin: ``public_url``'s when set, else the request's Host with its scheme.

    None when it cannot be told (no or a malformed Host header): then no origin is the console's.
    """
    if public_url:
        return _url_origin(public_url)
    http_scheme = _HTTP_SCHEME.get(scheme.lower())
    if not host or http_scheme is None or any(c in host for c in "/?#@\\"):
        return None
    return _url_origin(f"{http_scheme}://{host}")


def origin_text(origin: OriginTuple) -> str:
    """An origin as a browser writes it: ``https://console.example.com``, ``http://127.0.0.1:8501``."""
    scheme, host, port = origin
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" + ("" if port == _DEFAULT_PORTS[scheme] else f":{port}")


def origin_allowed(origin: str | None, host: str | None, scheme: str, public_url: str | None = None) -> bool:
    """True when ``origin`` (an Origin header) is exactly the console's own origin.

    Scheme, host and port must all be equal (RFC 6454 §5): ``http://localhost:8501`` is not
    the origin of a request whose Host is ``127.0.0.1:8501``, and another port of the same
    host is another origin although browsers call it the same site. ``scheme`` is the
    request's (``http``, ``https``, ``ws``, ``wss``); ``public_url`` is ``MAC_PUBLIC_URL``,
    which, when set, is the one origin allowed whatever the Host says.
    """
    theirs = parse_origin(origin)
    ours = own_origin(host=host, scheme=scheme, public_url=public_url)
    return theirs is not None and theirs == ours


def request_from_own_origin(
    *,
    kind: str,
    method: str,
    origin: str | None,
    referer: str | None,
    host: str | None,
    scheme: str,
    public_url: str | None = None,
) -> bool:
    """May this request reach the console? The gate's origin rule, for every path.

    - a websocket upgrade (``kind="websocket"``) must carry the console's own Origin:
      browsers always send one on an upgrade, and without this check any page could
      open the operator's websocket and press the buttons;
    - an HTTP request carrying an Origin must carry the console's own;
    - a state-changing request (not GET, HEAD or OPTIONS) without an Origin needs a
      Referer of the console's own origin. Browsers send an Origin on every such request,
      so this only refuses clients that send neither;
    - a GET, HEAD or OPTIONS without an Origin passes: a GET without one is how a
      browser navigates to a page.
    """
    if kind == "websocket":
        return origin_allowed(origin, host, scheme, public_url)
    if origin is not None:
        return origin_allowed(origin, host, scheme, public_url)
    if method.upper() in SAFE_METHODS:
        return True
    if not referer or len(referer) > 4000:
        return False
    theirs = _url_origin(referer)
    ours = own_origin(host=host, scheme=scheme, public_url=public_url)
    return theirs is not None and theirs == ours


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
        if scope["type"] == "http" and scope["method"] == "POST" and is_bearer_path(scope["path"]):
            await self.app(scope, receive, send)  # a mail server with its token: no cookie is read
            return
        conn = HTTPConnection(scope)
        # The origin first: a header comparison, before any database lookup.
        refusal = origin_refusal(conn)
        if refusal is not None:
            if scope["type"] == "websocket":
                await _close_upgrade("Not the console's origin.", scope, receive, send)
            else:
                await PlainTextResponse(
                    refusal, status_code=403, headers={"X-Content-Type-Options": "nosniff"}
                )(scope, receive, send)
            return
        if is_public_path(scope["path"]) or await actor_of(conn) is not None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await _close_upgrade("Sign in first.", scope, receive, send)
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
            clear_cookie(response, SESSION_COOKIE, "/")
        await response(scope, receive, send)


async def _close_upgrade(reason: str, scope: Scope, receive: Receive, send: Send) -> None:
    # Closing before accepting makes the server answer the upgrade with 403.
    await WebSocketClose(code=1008, reason=reason)(scope, receive, send)
