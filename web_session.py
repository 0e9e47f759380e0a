"""The session cookie and the web adapter's small, pure decisions.

Shared by ``server.py`` (the ASGI routes and middleware) and the dashboard's guard
(``app_pages/_ui.py``), which reads the cookie through ``st.context.cookies``. Nothing here
touches the database or Streamlit: the cookie is checked here, the session in
``core.access.sessions.session_actor``.

The session cookie's value is ``<token>.<hmac>``: the random token that ``core.access.sessions``
knows by its SHA-256, and an HMAC of it with the settings key (``core.platform.crypto.sign``). A
forged or altered cookie is refused here, before any database lookup.

Origins (PRODUCT.md Trust: the pages and websocket answer only their own origin).
Cookies ignore ports and ``SameSite`` treats every port of a host as the same site, so a
page served on ``http://127.0.0.1:9999`` sends the operator's cookies to the console on
``:8501``. What tells them apart is the ``Origin`` header (RFC 6454): scheme, host and port,
compared exactly (``request_from_own_origin``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from core.access.operator_signin import PENDING_COOKIE, PENDING_SECONDS
from core.access.sessions import SESSION_COOKIE
from core.platform.crypto import sign, signature_ok

__all__ = [
    "CSRF_COOKIE",
    "OIDC_NEXT_COOKIE",
    "PENDING_COOKIE",
    "PENDING_SECONDS",
    "SESSION_COOKIE",
    "SETUP_PATH",
    "SIGN_IN_PATH",
    "SIGN_OUT_PATH",
    "SSO_PATH",
    "cookie_value",
    "is_page_path",
    "is_public_path",
    "origin_allowed",
    "origin_text",
    "own_origin",
    "parse_origin",
    "request_from_own_origin",
    "safe_next",
    "token_from_cookie",
]

CSRF_COOKIE = "mac_csrf"
# Where to go after single sign-on: the provider's round trip ends at "/", not at the link.
OIDC_NEXT_COOKIE = "mac_sso_next"

# The console's own sign-in pages. Streamlit's st.login keeps /auth/login, /auth/logout
# and /oauth2callback for its OIDC flow, so the console's pages live elsewhere.
SIGN_IN_PATH = "/signin"
SETUP_PATH = "/signin/setup"
SSO_PATH = "/signin/sso"
SIGN_OUT_PATH = "/signout"
# Streamlit's OIDC routes: they hold no data, and a browser in the middle of signing in
# has no session yet.
_STREAMLIT_AUTH = ("/auth/login", "/auth/logout", "/oauth2callback")

# Paths served without a session: the sign-in pages themselves, Streamlit's OIDC routes,
# the health checks the browser and load balancers poll, and the public front-end bundle
# (no data in it).
_PUBLIC_PREFIXES = (f"{SIGN_IN_PATH}/", "/static/")
_PUBLIC_EXACT = frozenset(
    {
        SIGN_IN_PATH,
        SIGN_OUT_PATH,
        *_STREAMLIT_AUTH,
        "/_stcore/health",
        "/_stcore/host-config",
        "/favicon.png",
        "/favicon.ico",
        "/manifest.json",
    }
)
# Streamlit's machine endpoints: never an HTML page, so no redirect to sign-in (a 403).
_API_PREFIXES = ("/_stcore/", "/media/", "/component/", "/app/static/")


def _mac(token: str) -> str:
    # A purpose prefix, so an HMAC made for another signed value never passes as this one.
    return sign(f"session|{token}")


def cookie_value(token: str) -> str:
    """The session cookie's value for a session token: ``<token>.<hmac>``."""
    return f"{token}.{_mac(token)}"


def token_from_cookie(value: str | None) -> str | None:
    """The session token in a signed cookie value, or None when it is absent or forged.

    Only signed values are accepted; a bare token is refused like any other forgery.
    The HMAC is compared in constant time (``core.platform.crypto.signature_ok``).
    """
    if not value or len(value) > 512:
        return None
    token, dot, mac = value.rpartition(".")
    if not dot or not token or not mac:
        return None
    if not signature_ok(f"session|{token}", mac):
        return None
    return token


def safe_next(value: str | None) -> str:
    """Where to go after sign-in: a path on this site, or ``/``.

    Open-redirect guard: only a path that starts with one ``/`` (never ``//`` or ``/\\``,
    which browsers read as another host), with no scheme, host or control character.
    The sign-in and sign-out pages (the console's and Streamlit's) are not a destination.
    """
    if not value or len(value) > 2000:
        return "/"
    if not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    if any(ord(c) < 0x20 or ord(c) == 0x7F or c == "\\" for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    path = parts.path.rstrip("/") or "/"
    if path in (SIGN_IN_PATH, SIGN_OUT_PATH, "/auth", *_STREAMLIT_AUTH) or path.startswith(
        (f"{SIGN_IN_PATH}/", "/auth/")
    ):
        return "/"
    return value


def is_public_path(path: str) -> bool:
    """True for the paths the middleware lets through without a session."""
    return path in _PUBLIC_EXACT or path.startswith(_PUBLIC_PREFIXES)


def is_page_path(path: str) -> bool:
    """True for a path a browser navigates to (a page), False for Streamlit's endpoints.

    A page GET without a session is sent to sign-in; an endpoint is answered 403.
    """
    return not path.startswith(_API_PREFIXES)


# --- origins ------------------------------------------------------------------------------

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
