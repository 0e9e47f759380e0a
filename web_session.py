"""The session cookie and the web adapter's small, pure decisions.

Shared by ``server.py`` (the ASGI routes and middleware) and the dashboard's guard
(``app_pages/_ui.py``), which reads the cookie through ``st.context.cookies``. Nothing here
touches the database or Streamlit: the cookie is checked here, the session in
``core.auth.session_actor``.

The session cookie's value is ``<token>.<hmac>``: the random token that ``core.auth``
knows by its SHA-256, and an HMAC of it with the settings key (``core.crypto.sign``). A
forged or altered cookie is refused here, before any database lookup.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from core.auth import PENDING_COOKIE, PENDING_SECONDS, SESSION_COOKIE
from core.crypto import sign, signature_ok

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
    The HMAC is compared in constant time (``core.crypto.signature_ok``).
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
