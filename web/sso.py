"""Single sign-on through Streamlit's ``st.login`` (optional): the start of the flow, and the
exchange of the identity Streamlit verified for the console's own session. The providers
come from ``web.sso_config``.

``/signin/sso?provider=<name>`` starts Streamlit's OIDC flow (Streamlit's own ``/auth/login``
and ``/oauth2callback``). The provider's round trip ends at ``/``, which the gate sends to
``/signin``; there the identity Streamlit verified and stored in its cookie is exchanged,
once, for the console's own session (``core.access.oidc.oidc_sign_in``) and
Streamlit's cookie is cleared.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from streamlit.auth_util import get_cookie_with_chunks, get_origin_from_redirect_uri
from streamlit.user_info import generate_login_redirect_url
from streamlit.web.server.server_util import get_cookie_secret
from streamlit.web.server.starlette.starlette_app_utils import decode_signed_value
from streamlit.web.server.starlette.starlette_server_config import TOKENS_COOKIE_NAME, USER_COOKIE_NAME

from core.access import oidc, sessions
from core.access.sessions import SESSION_COOKIE
from web import db
from web.cookies import OIDC_NEXT_COOKIE, clear_cookie, cookie_value, set_cookie
from web.pages import not_found, sso_done_page, sso_refused_page
from web.paths import SIGN_IN_PATH, safe_next
from web.sso_config import sso_directory, sso_providers

SSO_NEXT_SECONDS = 600


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


def clear_streamlit_identity(response: Response, request: Request) -> None:
    """Delete Streamlit's OIDC cookies (and their chunks): the console keeps its own session."""
    for name in request.cookies:
        for base in (USER_COOKIE_NAME, TOKENS_COOKIE_NAME):
            if name == base or (name.startswith(f"{base}_") and name[len(base) + 1 :].isdigit()):
                response.delete_cookie(name, path="/")


async def sso_start(request: Request) -> Response:
    """``/signin/sso?provider=NAME``: on to Streamlit's ``st.login`` flow for a configured provider."""
    provider = request.query_params.get("provider", "")
    if provider not in {name for name, _label in sso_providers()}:
        return not_found()
    next_url = safe_next(request.query_params.get("next"))
    if await db.actor_of(request) is not None:
        return RedirectResponse(next_url, status_code=303)
    # The same address st.login sends a browser to (a provider token valid for 2 minutes).
    response = RedirectResponse(generate_login_redirect_url(provider), status_code=303)
    # Lax: the way back comes from the provider's site, where a strict cookie stays behind.
    set_cookie(
        response, OIDC_NEXT_COOKIE, next_url, path=SIGN_IN_PATH, max_age=SSO_NEXT_SECONDS, samesite="lax"
    )
    return response


async def finish_sso(request: Request, provider: str, claims: dict[str, Any]) -> Response:
    result = await db.call(oidc.oidc_sign_in, provider=provider, claims=claims, directory=sso_directory())
    next_url = safe_next(request.cookies.get(OIDC_NEXT_COOKIE))
    response: Response
    if result.ok:
        actor = await db.call(sessions.session_actor, result.token, touch=False, write=False)
        response = sso_done_page(request, next_url, username=actor.name if actor else "")
        set_cookie(response, SESSION_COOKIE, cookie_value(result.token), path="/")
    else:
        response = sso_refused_page(request, result.message)
    # The identity is exchanged once: Streamlit's cookie (and its tokens) goes now.
    clear_streamlit_identity(response, request)
    clear_cookie(response, OIDC_NEXT_COOKIE, SIGN_IN_PATH)
    return response
