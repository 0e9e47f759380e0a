"""Single sign-on through the real server and a real OIDC provider on loopback.

``streamlit run server.py --secrets.files <tmp>/secrets.toml`` with an ``[auth.acme]``
provider (tests/web/oidc_provider.py) and a ``[mac.oidc_operators]`` table; the client is
``requests`` with every redirect followed by hand, through Streamlit's own ``/auth/login``
and ``/oauth2callback`` and the provider's authorize and token endpoints.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from urllib.parse import quote, urljoin

import pytest
import requests
from sqlalchemy import select

from core.access import sessions
from core.access.sessions import SESSION_COOKIE
from core.platform.crypto import token_digest
from core.platform.db import session_scope
from core.platform.models import AuditEvent, OperatorSession
from tests.live_server import Server, new_server
from tests.web.oidc_provider import NO_CLAIM, Provider
from tests.web.test_server import PASSWORD, Client, location
from web.cookies import token_from_cookie

pytestmark = pytest.mark.slow

STREAMLIT_USER = "_streamlit_user"
OPERATORS = {
    "Sam.Support@Example.com": "sam",
    "ana@example.com": "ana",
    "gone@example.com": "gone",
    "ghost@example.com": "nobody",
}


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    p = Provider()
    p.start()
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture(scope="module")
def sso(tmp_path_factory, provider: Provider) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("web-sso")
    s = new_server(tmp)
    secrets_file = tmp / "secrets.toml"
    secrets_file.write_text(provider.secrets_toml(s.base, "acme", OPERATORS))
    s.args = ["--secrets.files", str(secrets_file)]
    s.add_operators(("sam", "support"), ("ana", "analyst"), ("gone", "support"))
    gone = s.cli("operators", "deactivate", "gone")
    assert gone.returncode == 0, gone.stderr
    try:
        s.start()
        yield s
    finally:
        s.stop()


def follow(c: Client, url: str, hops: int = 12) -> tuple[requests.Response, list[str]]:
    """GET ``url`` and the redirects after it, at most ``hops`` requests: the last answer and the way.

    Relative locations are on the console.
    """
    way: list[str] = []
    for _ in range(hops):
        url = urljoin(c.base + "/", url)
        way.append(url)
        r = c.http.get(url, allow_redirects=False, timeout=15)
        if r.status_code not in (301, 302, 303, 307):
            break
        url = r.headers["location"]
    return r, way


def sso_link(page: requests.Response) -> str:
    found = re.search(r'<a class="sso" href="([^"]+)">Sign in with Acme</a>', page.text)
    assert found, page.text[:3000]
    return unescape(found.group(1))


def sign_in_with_acme(c: Client, provider: Provider, identity: dict, next_path: str = "/"):
    provider.identity = identity
    page = c.get(f"/signin?next={quote(next_path, safe='')}")
    assert page.status_code == 200
    return follow(c, sso_link(page))


def events(server: Server, **where) -> list[AuditEvent]:
    with session_scope(server.engine) as s:
        q = select(AuditEvent).order_by(AuditEvent.id)
        for key, value in where.items():
            q = q.where(getattr(AuditEvent, key) == value)
        return list(s.scalars(q))


def test_sign_in_page_offers_the_provider_beside_the_password(sso):
    page = Client(sso.base).get("/signin?next=%2Fusers")
    assert 'name="password"' in page.text
    link = sso_link(page)
    assert link.startswith("/signin/sso?") and "provider=acme" in link and "next=%2Fusers" in link
    assert "<script" not in page.text
    assert Client(sso.base).get("/signin/sso?provider=other").status_code == 404


def test_mapped_operator_signs_in_with_its_role(sso, provider):
    c = Client(sso.base)
    done, way = sign_in_with_acme(
        c, provider, {"sub": "s-1", "email": "sam.support@EXAMPLE.com", "email_verified": True}, "/users"
    )
    # Through st.login's routes and the provider, back home, and on to the exchange.
    assert any(u.startswith(f"{sso.base}/auth/login?provider=") for u in way), way
    assert any(u.startswith(f"{provider.issuer}/authorize?") for u in way), way
    assert any(u.startswith(f"{sso.base}/oauth2callback?") for u in way), way
    assert done.status_code == 200, done.text[:2000]
    assert "Signed in as <strong>sam</strong>" in done.text
    assert '<meta http-equiv="refresh" content="0;url=/users">' in done.text
    # The console's own session, and Streamlit's identity cookie is gone (exchanged once).
    token = token_from_cookie(c.cookie(SESSION_COOKIE))
    assert token
    assert STREAMLIT_USER not in c.http.cookies
    with session_scope(sso.engine) as s:
        actor = sessions.session_actor(s, token, touch=False)
    assert actor is not None and (actor.name, actor.role) == ("sam", "support")
    assert c.get("/users").status_code == 200
    signed = events(sso, action="operator.sign_in", object_key="sam")[-1]
    assert signed.actor == "sam"
    assert signed.after == {"method": "oidc", "provider": "acme", "email": "sam.support@example.com"}
    text = json.dumps([e.after for e in events(sso)])
    for issued in provider.tokens_issued:
        assert issued not in text


def test_unknown_email_is_refused_and_audited(sso, provider):
    c = Client(sso.base)
    done, _way = sign_in_with_acme(c, provider, {"sub": "x-1", "email": "stranger@example.com"})
    assert done.status_code == 403
    assert "There is no operator for stranger@example.com; ask an administrator to add one." in done.text
    assert c.cookie(SESSION_COOKIE) is None and STREAMLIT_USER not in c.http.cookies
    failed = events(sso, action="operator.sign_in_failed", actor="stranger@example.com")
    assert [e.after for e in failed] == [
        {"step": "oidc", "method": "oidc", "provider": "acme", "reason": "no operator"}
    ]
    # Nothing is left over: the next visit is the ordinary sign-in page.
    assert location(c.get("/")) == "/signin?next=%2F"
    assert 'name="password"' in c.get("/signin").text


def test_an_entry_naming_no_operator_is_refused(sso, provider):
    done, _way = sign_in_with_acme(Client(sso.base), provider, {"sub": "g-1", "email": "ghost@example.com"})
    assert done.status_code == 403 and "There is no operator for ghost@example.com" in done.text


def test_deactivated_operator_is_refused(sso, provider):
    c = Client(sso.base)
    done, _way = sign_in_with_acme(
        c, provider, {"sub": "d-1", "email": "gone@example.com", "email_verified": True}
    )
    assert done.status_code == 403
    assert "The operator for gone@example.com is deactivated" in done.text
    assert c.cookie(SESSION_COOKIE) is None
    assert (
        events(sso, action="operator.sign_in_failed", object_key="gone")[-1].after["reason"] == "deactivated"
    )


def test_unverified_email_is_refused(sso, provider):
    c = Client(sso.base)
    done, _way = sign_in_with_acme(
        c, provider, {"sub": "a-1", "email": "ana@example.com", "email_verified": False}
    )
    assert done.status_code == 403 and "has not verified ana@example.com" in done.text
    assert c.cookie(SESSION_COOKIE) is None
    # A provider that never sends the claim is taken at its word.
    done, _way = sign_in_with_acme(
        c, provider, {"sub": "a-1", "email": "ana@example.com", "email_verified": NO_CLAIM}
    )
    assert done.status_code == 200 and "Signed in as <strong>ana</strong>" in done.text


def test_sign_out_ends_the_session_and_streamlit_s_cookie(sso, provider):
    c = Client(sso.base)
    sign_in_with_acme(c, provider, {"sub": "s-1", "email": "sam.support@example.com"})
    token = token_from_cookie(c.cookie(SESSION_COOKIE))
    assert token
    out = c.get("/signout")
    assert location(out) == "/signin"
    with session_scope(sso.engine) as s:
        row = s.scalars(
            select(OperatorSession).where(OperatorSession.token_hash == token_digest(token))
        ).one()
        assert row.ended_at is not None
    assert location(c.get("/")) == "/signin?next=%2F"
    # Stopped right after the provider's callback, Streamlit's cookie is there; sign-out clears it.
    provider.identity = {"sub": "s-1", "email": "sam.support@example.com"}
    half = Client(sso.base)
    r, way = follow(half, sso_link(half.get("/signin")), hops=4)
    assert way[-1].startswith(f"{sso.base}/oauth2callback?") and r.status_code in (302, 303, 307)
    assert STREAMLIT_USER in half.http.cookies
    cleared = half.get("/signout")
    assert f"{STREAMLIT_USER}=" in cleared.headers["set-cookie"]
    assert STREAMLIT_USER not in half.http.cookies
    assert 'name="password"' in half.get("/signin").text and half.cookie(SESSION_COOKIE) is None


def test_a_forged_streamlit_cookie_signs_no_one_in(sso):
    c = Client(sso.base)
    claims = {
        "email": "sam.support@example.com",
        "is_logged_in": True,
        "provider": "acme",
        "origin": sso.base,
    }
    c.http.cookies.set(STREAMLIT_USER, json.dumps(claims))
    page = c.get("/signin")
    assert page.status_code == 200 and 'name="password"' in page.text
    assert c.cookie(SESSION_COOKIE) is None


def test_password_sign_in_still_works_beside_it(sso):
    c = Client(sso.base)
    page = c.get("/signin")
    step = c.submit(page, "/signin", username="ana", password=PASSWORD)
    assert "step=enrol" in location(step)
