"""The console's cookies: the signed session value, the CSRF double submit, and setting and
clearing a cookie with the console's flags.

The session cookie's value is ``<token>.<hmac>``: the random token that
``core.access.sessions`` knows by its SHA-256, and an HMAC of it with the settings key
(``core.platform.crypto.sign``). A forged or altered cookie is refused here, before any
database lookup. Every cookie is HttpOnly, SameSite=Strict unless a caller needs Lax, and
Secure when ``MAC_COOKIE_SECURE`` is on. The cookies' names: ``SESSION_COOKIE``
(``core.access.sessions``), ``PENDING_COOKIE`` (``core.access.operator_signin``),
``CSRF_COOKIE`` and ``OIDC_NEXT_COOKIE``.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import Response

from core.platform.config import get_settings
from core.platform.crypto import sign, signature_ok

CSRF_COOKIE = "mac_csrf"
# Where to go after single sign-on: the provider's round trip ends at "/", not at the link.
OIDC_NEXT_COOKIE = "mac_sso_next"


def _session_message(token: str) -> str:
    # A purpose prefix, so an HMAC made for another signed value never passes as this one.
    return f"session|{token}"


def cookie_value(token: str) -> str:
    """The session cookie's value for a session token: ``<token>.<hmac>``."""
    return f"{token}.{sign(_session_message(token))}"


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
    if not signature_ok(_session_message(token), mac):
        return None
    return token


def set_cookie(
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


def clear_cookie(response: Response, key: str, path: str) -> None:
    response.delete_cookie(
        key, path=path, secure=get_settings().cookie_secure, httponly=True, samesite="strict"
    )


def csrf_token(request: Request) -> str:
    """The request's CSRF token when it has a plausible one, else a new one."""
    current = request.cookies.get(CSRF_COOKIE, "")
    return current if 32 <= len(current) <= 128 else secrets.token_urlsafe(32)


def csrf_ok(request: Request, form: Any) -> bool:
    """Double submit: the hidden field must equal the cookie, which another site can
    neither read nor (SameSite=Strict) send along. Compared in constant time."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    field = str(form.get("csrf", ""))
    return bool(cookie) and hmac.compare_digest(cookie.encode(), field.encode())
