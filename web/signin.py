"""The console's sign-in routes: ``/signin`` (a password, then a 6-digit code, or for an
operator without an authenticator its enrolment), ``/signin/setup`` (the one-time "create
the first administrator" form while no operator exists, 404 after) and ``/signout``.

Every decision is a core function (``core.access``: operator_signin for passwords, codes
and the first administrator, client_limit, sessions); this module only speaks HTTP: a
step refused by the per-client limit (``SignInStep.limited``) is a 429. Between the password and the code the
browser holds a short-lived signed ticket (``PENDING_COOKIE``), never a session.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from core.access import operator_signin, operators, sessions
from core.access.operator_signin import PENDING_COOKIE, PENDING_SECONDS
from core.access.sessions import SESSION_COOKIE
from core.platform.db import get_engine
from core.platform.errors import CoreError
from web import db
from web.cookies import OIDC_NEXT_COOKIE, clear_cookie, cookie_value, csrf_ok, set_cookie, token_from_cookie
from web.pages import FORM_EXPIRED, code_page, enrol_page, not_found, password_page, setup_page
from web.paths import SETUP_PATH, SIGN_IN_PATH, safe_next
from web.sso import clear_streamlit_identity, finish_sso, sso_identity


def _step_url(step: str, next_url: str) -> str:
    return f"{SIGN_IN_PATH}?{urlencode({'step': step, 'next': next_url})}"


def _to_step(step: operator_signin.SignInStep, next_url: str) -> Response:
    response = RedirectResponse(_step_url(step.next, next_url), status_code=303)
    set_cookie(response, PENDING_COOKIE, step.ticket, path=SIGN_IN_PATH, max_age=PENDING_SECONDS)
    return response


async def login(request: Request) -> Response:
    if request.method == "POST":
        return await _login_post(request)
    next_url = safe_next(request.query_params.get("next"))
    if await db.actor_of(request) is not None:
        return RedirectResponse(next_url, status_code=303)
    if await db.call(operators.operator_count, write=False) == 0:
        return RedirectResponse(SETUP_PATH, status_code=303)
    identity = sso_identity(request)
    if identity is not None:
        return await finish_sso(request, *identity)
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
        secret, _uri = await db.call(operator_signin.start_enrolment, ticket=ticket)
    except CoreError as exc:
        # Enrolled already: the code step is the way on.
        return code_page(request, next_url, username=username, message=str(exc))
    return enrol_page(request, next_url, username=username, secret=secret)


async def _login_post(request: Request) -> Response:
    form = await request.form()
    next_url = safe_next(str(form.get("next", "")))
    if not csrf_ok(request, form):
        return password_page(request, next_url, message=FORM_EXPIRED, status=403)
    step = str(form.get("step", "password"))
    if step == "password":
        result = await run_in_threadpool(
            operator_signin.check_password,
            get_engine(),
            username=str(form.get("username", "")),
            password=str(form.get("password", "")),
            client=request.client.host if request.client else None,
        )
        if not result.ok:
            return password_page(
                request,
                next_url,
                message=result.message,
                username=result.username,
                status=429 if result.limited else 200,
            )
        return _to_step(result, next_url)

    ticket = request.cookies.get(PENDING_COOKIE, "")
    result = await db.call(operator_signin.check_code, ticket=ticket, code=str(form.get("code", "")))
    if result.ok:
        response = RedirectResponse(next_url, status_code=303)
        set_cookie(response, SESSION_COOKIE, cookie_value(result.token), path="/")
        clear_cookie(response, PENDING_COOKIE, SIGN_IN_PATH)
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


async def logout(request: Request) -> Response:
    # GET as well as POST: the dashboard's "Sign out" is a link. SameSite=Strict keeps
    # another *site* from sending the cookie, but a page on another port of the same host
    # is the same site: a GET navigation ends the session only when the browser says it
    # came from this origin or was typed (Sec-Fetch-Site; POSTs pass the gate's origin check).
    if request.method == "GET" and request.headers.get("sec-fetch-site") not in (None, "same-origin", "none"):
        return RedirectResponse("/", status_code=303)  # nothing ended, no cookie touched
    token = token_from_cookie(request.cookies.get(SESSION_COOKIE))
    if token is not None:
        await db.call(sessions.end_session, token)
    response = RedirectResponse(SIGN_IN_PATH, status_code=303)
    clear_cookie(response, SESSION_COOKIE, "/")
    clear_cookie(response, PENDING_COOKIE, SIGN_IN_PATH)
    clear_cookie(response, OIDC_NEXT_COOKIE, SIGN_IN_PATH)
    # Streamlit's own OIDC cookie too, should one be left from an unfinished sign-in.
    clear_streamlit_identity(response, request)
    return response


async def setup(request: Request) -> Response:
    if request.method == "GET":
        if await db.call(operators.operator_count, write=False) > 0:
            return not_found()
        return setup_page(request)
    form = await request.form()
    username = str(form.get("username", ""))
    display_name = str(form.get("display_name", ""))
    if not csrf_ok(request, form):
        return setup_page(request, message=FORM_EXPIRED)
    password = str(form.get("password", ""))
    if password != str(form.get("confirm", "")):
        return setup_page(
            request,
            message="The two passwords differ; type them again.",
            username=username,
            display_name=display_name,
        )
    try:
        result = await db.call(
            operator_signin.create_first_admin,
            username=username,
            display_name=display_name,
            password=password,
        )
    except operator_signin.SetupClosed:
        return not_found()
    except CoreError as exc:
        return setup_page(request, message=str(exc), username=username, display_name=display_name)
    return _to_step(result, "/")
