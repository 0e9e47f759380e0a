"""The console's own paths, which of them pass the gate without a session, and where a
sign-in may go next.

Streamlit's ``st.login`` keeps ``/auth/login``, ``/auth/logout`` and ``/oauth2callback`` for
its OIDC flow, so the console's sign-in pages live elsewhere. ``server.baseUrlPath`` is not
supported: these paths assume the app at ``/``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

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
# Called by mail servers, not browsers (web.mail_auth): a bearer token proves the caller,
# no cookie is read, so the gate's origin and session checks, which guard what a browser's
# cookies can do, do not apply to its POST; without the token the route answers 403.
# Any other method goes through the gate like every other path.
MAIL_AUTH_PATH = "/api/mail-auth"
_BEARER_EXACT = frozenset({MAIL_AUTH_PATH})
# Streamlit's machine endpoints: never an HTML page, so no redirect to sign-in (a 403).
_API_PREFIXES = ("/_stcore/", "/media/", "/component/", "/app/static/")


def is_public_path(path: str) -> bool:
    """True for the paths the gate lets through without a session."""
    return path in _PUBLIC_EXACT or path.startswith(_PUBLIC_PREFIXES)


def is_bearer_path(path: str) -> bool:
    """True for the paths that answer a bearer token instead of a browser's session and origin."""
    return path in _BEARER_EXACT


def is_page_path(path: str) -> bool:
    """True for a path a browser navigates to (a page), False for Streamlit's endpoints.

    A page GET without a session is sent to sign-in; an endpoint is answered 403.
    """
    return not path.startswith(_API_PREFIXES)


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
