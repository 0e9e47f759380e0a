"""The web adapter (server.py and web/) through the real server: ``streamlit run server.py`` in a subprocess.

Each server gets its own SQLite file, made by ``python -m core init``; operators come from
``python -m core operators add`` (and, where a test needs many quick sign-ins, from the
factories, straight into the same file). The HTTP client is ``requests`` (a Streamlit
dependency) with redirects followed by hand, so every hop is checked; like a browser, it
sends its page's ``Origin`` with every form POST.
"""

from __future__ import annotations

import os
import re
import socket
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, quote, urlsplit

import pyotp
import pytest
import requests
from sqlalchemy import select, update
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from core.access.operator_signin import PENDING_COOKIE
from core.access.sessions import SESSION_COOKIE
from core.platform import throttle, totp
from core.platform.config import SettingsError, load_settings
from core.platform.crypto import token_digest
from core.platform.db import session_scope
from core.platform.models import AuditEvent, Operator, OperatorSession, utcnow
from tests.browser.chromium import free_port
from tests.factories import PASSWORD, make_operator
from tests.live_server import Server, new_server
from web.cookies import CSRF_COOKIE, cookie_value, token_from_cookie
from web.gate import origin_allowed, request_from_own_origin
from web.paths import is_page_path, is_public_path, safe_next

pytestmark = pytest.mark.slow


# --- the pure helpers of web (no server) ---------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/users", "/users"),
        ("/users?user=a%40b.example.com", "/users?user=a%40b.example.com"),
        ("/", "/"),
        (None, "/"),
        ("", "/"),
        ("//evil.example.com/x", "/"),
        ("/\\evil.example.com", "/"),
        ("https://evil.example.com/", "/"),
        ("javascript:alert(1)", "/"),
        ("users", "/"),
        ("/users\r\nSet-Cookie: x=1", "/"),
        ("/signout", "/"),
        ("/signin", "/"),
        ("/signin/", "/"),
        ("/signin/setup", "/"),
        ("/signin/sso?provider=x", "/"),
        ("/auth", "/"),
        ("/auth/login?provider=x", "/"),
        ("/oauth2callback?code=x", "/"),
        ("/signing-policy", "/signing-policy"),
    ],
)
def test_safe_next_keeps_only_paths_of_this_site(given, expected):
    assert safe_next(given) == expected


def test_token_from_cookie_takes_only_signed_values():
    value = cookie_value("abc-DEF_123")
    assert token_from_cookie(value) == "abc-DEF_123"
    assert token_from_cookie("abc-DEF_123") is None  # a bare token is a forgery
    assert token_from_cookie(value[:-1] + ("0" if value[-1] != "0" else "1")) is None
    assert token_from_cookie("other." + value.rpartition(".")[2]) is None
    assert token_from_cookie("") is None
    assert token_from_cookie(None) is None
    assert token_from_cookie("x" * 600) is None


def test_gate_paths():
    for public in (
        "/signin",
        "/signin/setup",
        "/signin/sso",
        "/signout",
        "/auth/login",
        "/auth/logout",
        "/oauth2callback",
        "/_stcore/health",
        "/_stcore/host-config",
        "/static/js/a.js",
    ):
        assert is_public_path(public), public
    for private in (
        "/",
        "/users",
        "/signing",
        "/auth/other",
        "/_stcore/stream",
        "/_stcore/metrics",
        "/media/x.png",
        "/app/static/a",
    ):
        assert not is_public_path(private), private
    assert is_page_path("/users") and is_page_path("/")
    assert not is_page_path("/_stcore/stream") and not is_page_path("/media/x.png")


@pytest.mark.parametrize(
    ("origin", "host", "scheme", "public_url", "allowed"),
    [
        ("http://127.0.0.1:8501", "127.0.0.1:8501", "http", None, True),
        ("http://127.0.0.1:8501", "127.0.0.1:8501", "ws", None, True),
        ("https://console.example.com", "console.example.com", "wss", None, True),
        ("http://example.com", "example.com:80", "http", None, True),  # the default port, written or not
        ("http://[::1]:8501", "[::1]:8501", "http", None, True),
        # Another port of the same host: the same site to a browser, another origin.
        ("http://127.0.0.1:9999", "127.0.0.1:8501", "ws", None, False),
        # The same port under another name is another origin too.
        ("http://localhost:8501", "127.0.0.1:8501", "ws", None, False),
        ("https://127.0.0.1:8501", "127.0.0.1:8501", "http", None, False),
        ("http://console.example.com", "console.example.com", "wss", None, False),
        # TLS ended at a proxy: the request is http, the page https; MAC_PUBLIC_URL says which.
        ("https://console.example.com", "console.example.com", "http", None, False),
        ("null", "127.0.0.1:8501", "http", None, False),
        (None, "127.0.0.1:8501", "ws", None, False),
        ("", "127.0.0.1:8501", "ws", None, False),
        ("http://127.0.0.1:8501/", "127.0.0.1:8501", "http", None, False),
        ("http://127.0.0.1:8501/signin", "127.0.0.1:8501", "http", None, False),
        ("http://user@127.0.0.1:8501", "127.0.0.1:8501", "http", None, False),
        ("http://127.0.0.1:8501 http://127.0.0.1:9999", "127.0.0.1:8501", "http", None, False),
        ("http://127.0.0.1:8501, http://127.0.0.1:9999", "127.0.0.1:8501", "http", None, False),
        ("javascript://127.0.0.1:8501", "127.0.0.1:8501", "http", None, False),
        ("http://127.0.0.1:8501", None, "http", None, False),  # no Host: no origin is ours
        ("http://127.0.0.1:8501", "127.0.0.1:8501@evil.example.com", "http", None, False),
        # Behind a proxy MAC_PUBLIC_URL is the one origin, whatever the Host says.
        ("https://console.example.com", "127.0.0.1:8501", "ws", "https://console.example.com", True),
        ("https://console.example.com:443", "10.0.0.5", "http", "https://console.example.com", True),
        ("http://127.0.0.1:8501", "127.0.0.1:8501", "ws", "https://console.example.com", False),
        ("http://console.example.com", "console.example.com", "ws", "https://console.example.com", False),
    ],
)
def test_origin_allowed_compares_scheme_host_and_port(origin, host, scheme, public_url, allowed):
    assert origin_allowed(origin, host, scheme, public_url) is allowed


def test_request_from_own_origin_rules():
    own, other = "http://127.0.0.1:8501", "http://127.0.0.1:9999"

    def ok(kind="http", method="GET", origin=None, referer=None, public_url=None) -> bool:
        return request_from_own_origin(
            kind=kind,
            method=method,
            origin=origin,
            referer=referer,
            host="127.0.0.1:8501",
            scheme="ws" if kind == "websocket" else "http",
            public_url=public_url,
        )

    # A top-level navigation: a GET without Origin.
    assert ok() and ok(method="HEAD") and ok(referer=f"{other}/page")
    assert ok(origin=own) and not ok(origin=other) and not ok(origin="null")
    # A websocket upgrade must name the console's origin; browsers always send one.
    assert ok(kind="websocket", origin=own)
    assert not ok(kind="websocket") and not ok(kind="websocket", origin=other)
    # A state-changing request: the Origin, else a Referer of this origin.
    assert ok(method="POST", origin=own)
    assert not ok(method="POST", origin=other)
    assert not ok(method="POST", origin="null", referer=f"{own}/signin")
    assert ok(method="POST", referer=f"{own}/signin?next=%2F")
    assert ok(method="POST", referer=f"{own}/users?user=a,b@example.com#top")
    assert not ok(method="POST", referer=f"{other}/signin")
    assert not ok(method="POST", referer="not a url")
    assert not ok(method="POST") and not ok(method="PUT") and not ok(method="DELETE")
    assert not ok(method="POST", origin=own, public_url="https://console.example.com")
    assert ok(method="POST", origin="https://console.example.com", public_url="https://console.example.com")


def test_public_url_setting_is_an_origin():
    def public(value: str) -> str | None:
        return load_settings(
            {"MAC_SECRET_KEY": os.environ["MAC_SECRET_KEY"], "MAC_PUBLIC_URL": value}
        ).public_url

    assert load_settings({"MAC_SECRET_KEY": os.environ["MAC_SECRET_KEY"]}).public_url is None
    assert public("https://Console.Example.com/") == "https://console.example.com"
    assert public("https://console.example.com:443") == "https://console.example.com"
    assert public("http://127.0.0.1:8600") == "http://127.0.0.1:8600"
    assert public(" https://[2001:DB8::1]:8443 ") == "https://[2001:db8::1]:8443"
    for bad, reason in [
        ("console.example.com", "the scheme (https:// or http://) is missing"),
        ("console.example.com:8443", "the scheme (https:// or http://) is missing"),
        ("ftp://console.example.com", "the scheme must be http or https, not 'ftp'"),
        ("https://", "the host is missing"),
        ("https://console.example.com/mac", "it must not have a path"),
        ("https://console.example.com/?x=1", "it must not have a query or a fragment"),
        ("https://admin:pw@console.example.com", "it must not hold a user name or password"),
        ("https://console.example.com:99999", "the port is not a number from 1 to 65535"),
    ]:
        with pytest.raises(SettingsError) as err:
            public(bad)
        assert str(err.value).startswith(f"MAC_PUBLIC_URL is not usable: {reason}"), (bad, str(err.value))
        assert "e.g. https://console.example.com" in str(err.value)


# --- the real server --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    s = new_server(tmp_path_factory.mktemp("web"))
    s.add_operators(("sam", "support"), ("ana", "analyst"))
    try:
        s.start()
        yield s
    finally:
        s.stop()


class Client:
    """A browser-like client: a cookie jar, every redirect checked by the test, and the
    ``Origin`` of its pages on every POST (``origin``: the server's own by default).

    ``host`` sends that Host header instead of the URL's, as a reverse proxy passes it on.
    """

    def __init__(self, base: str, origin: str | None = None, host: str | None = None) -> None:
        self.base = base
        self.origin = origin or base
        self.http = requests.Session()
        if host is not None:
            self.http.headers["Host"] = host

    def get(self, path: str, **kw) -> requests.Response:
        return self.http.get(self.base + path, allow_redirects=False, timeout=10, **kw)

    def post(self, path: str, data: dict, **kw) -> requests.Response:
        headers = {"Origin": self.origin, **kw.pop("headers", {})}
        return self.http.post(
            self.base + path, data=data, headers=headers, allow_redirects=False, timeout=10, **kw
        )

    def cookie(self, name: str) -> str | None:
        return self.http.cookies.get(name)

    def submit(self, page: requests.Response, path: str, **fields: str) -> requests.Response:
        """Post a form of ``page`` with its hidden fields and ``fields``."""
        hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))
        data = {k: unescape(v) for k, v in hidden.items()}
        data.update(fields)
        return self.post(path, data)


def location(response: requests.Response) -> str:
    assert response.status_code in (302, 303, 307), (response.status_code, response.text[:500])
    return response.headers["location"]


def fresh_operator(server: Server, username: str, role: str = "support") -> str:
    """An operator with a known authenticator secret (factories: quick, many per module)."""
    secret = totp.new_secret()
    with session_scope(server.engine, write=True) as s:
        make_operator(s, username, role, secret=secret)
    return secret


def password_step(client: Client, username: str, password: str = PASSWORD, next_path: str = "/"):
    page = client.get(f"/signin?next={quote(next_path)}")
    assert page.status_code == 200
    return client.submit(page, "/signin", username=username, password=password)


def sign_in(client: Client, username: str, secret: str, *, next_path: str = "/", offset: int = 0):
    """The whole flow; returns the code step's response (303 to ``next`` on success)."""
    step = password_step(client, username, next_path=next_path)
    code_page = client.get(location(step))
    assert "Enter your code" in code_page.text
    return client.submit(code_page, "/signin", code=totp.current_code(secret, time.time() + offset))


def audit(server: Server, username: str) -> list[AuditEvent]:
    with session_scope(server.engine) as s:
        return list(
            s.scalars(select(AuditEvent).where(AuditEvent.object_key == username).order_by(AuditEvent.id))
        )


# --- the gate -------------------------------------------------------------------------------


def test_signed_out_page_goes_to_sign_in_with_next(server):
    c = Client(server.base)
    assert location(c.get("/")) == "/signin?next=%2F"
    assert (
        location(c.get("/users?user=a%40b.example.com"))
        == "/signin?next=%2Fusers%3Fuser%3Da%2540b.example.com"
    )
    assert c.get("/_stcore/metrics").status_code == 403
    assert c.post("/", {}).status_code == 403
    # What the sign-in page itself needs (nothing) and the health checks stay open.
    assert c.get("/_stcore/health").status_code == 200
    assert c.get("/_stcore/host-config").status_code == 200
    assert c.get("/favicon.png").status_code == 200


def test_login_page_is_self_contained_with_a_strict_policy(server):
    page = Client(server.base).get("/signin")
    assert page.status_code == 200
    assert "MAC Security Console" in page.text and 'name="password"' in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert "<script" not in page.text and "http://" not in page.text and "https://" not in page.text
    assert page.headers["cache-control"] == "no-store"
    csrf = page.headers["set-cookie"]
    assert CSRF_COOKIE in csrf and "HttpOnly" in csrf and "SameSite=strict" in csrf


def test_old_auth_paths_no_longer_serve_the_password_form(server):
    # /auth/login and /auth/logout are Streamlit's (st.login); without a provider they
    # only send the browser home, which the gate sends on to /signin.
    c = Client(server.base)
    for old in ("/auth/login", "/auth/logout", "/auth/setup"):
        r = c.get(old)
        assert 'name="password"' not in r.text, old
        assert r.status_code in (302, 303, 404), (old, r.status_code)
    assert location(c.get("/auth/login")) == "/"
    assert location(c.get("/auth/setup")) == "/signin?next=%2F"
    assert c.post("/auth/login", {"username": "admin", "password": PASSWORD}).status_code in (403, 405)


def test_without_an_auth_section_there_is_no_single_sign_on(server):
    page = Client(server.base).get("/signin")
    assert page.status_code == 200 and 'name="password"' in page.text
    assert "Sign in with" not in page.text and "/signin/sso" not in page.text
    assert Client(server.base).get("/signin/sso?provider=default").status_code == 404


def test_websocket_refused_without_a_session(server):
    with pytest.raises(InvalidStatus) as err:
        ws_connect(
            f"ws://127.0.0.1:{server.port}/_stcore/stream",
            additional_headers={"Origin": server.base},
            open_timeout=10,
        ).close()
    assert err.value.response.status_code == 403


def open_stream(server: Server, cookie: str | None, origin: str | None, host: str | None = None):
    """The dashboard's websocket, as a page of ``origin`` opens it (no Origin header when None).

    ``host``: the Host header a reverse proxy passes on (the socket still goes to the server).
    """
    headers = {}
    if cookie is not None:
        headers["Cookie"] = f"{SESSION_COOKIE}={cookie}"
    if origin is not None:
        headers["Origin"] = origin
    sock = None
    uri = f"ws://127.0.0.1:{server.port}/_stcore/stream"
    if host is not None:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        uri = f"ws://{host}/_stcore/stream"
    return ws_connect(uri, sock=sock, additional_headers=headers, subprotocols=["streamlit"], open_timeout=10)


def refused_status(server: Server, cookie: str | None, origin: str | None, host: str | None = None) -> int:
    with pytest.raises(InvalidStatus) as err:
        open_stream(server, cookie, origin, host).close()
    return err.value.response.status_code


def test_websocket_from_another_port_is_refused(server):
    # Cookies ignore ports: a page on another port of this host sends the operator's cookie.
    secret = fresh_operator(server, "ws-ports")
    c = Client(server.base)
    assert location(sign_in(c, "ws-ports", secret)) == "/"
    cookie = c.cookie(SESSION_COOKIE)
    assert refused_status(server, cookie, f"http://127.0.0.1:{free_port()}") == 403
    assert refused_status(server, cookie, f"https://127.0.0.1:{server.port}") == 403
    assert refused_status(server, cookie, "null") == 403
    # The same port under another host name is another origin, and refused too.
    assert refused_status(server, cookie, f"http://localhost:{server.port}") == 403
    # An upgrade without an Origin is no browser page's: refused as well.
    assert refused_status(server, cookie, None) == 403
    # The console's own page, with the same cookie, still opens it.
    with open_stream(server, cookie, server.base) as ws:
        assert ws.response.status_code == 101


def test_page_requests_from_another_origin_are_refused(server):
    secret = fresh_operator(server, "http-ports")
    c = Client(server.base)
    sign_in(c, "http-ports", secret)
    # A top-level navigation carries no Origin, and a same-origin request the console's.
    assert c.get("/").status_code == 200
    assert c.get("/", headers={"Origin": server.base}).status_code == 200
    other = f"http://127.0.0.1:{free_port()}"
    for path in ("/", "/users", "/_stcore/host-config", "/signin"):
        r = c.get(path, headers={"Origin": other})
        assert r.status_code == 403, path
        assert f"Its Origin is '{other}'; the console's is {server.base}" in r.text
    assert c.get("/_stcore/health", headers={"Origin": "null"}).status_code == 403
    # A state-changing request needs the console's Origin, or at least its Referer.
    assert c.post("/signout", {}, headers={"Origin": other}).status_code == 403
    no_origin = c.http.post(server.base + "/signout", allow_redirects=False, timeout=10)
    assert no_origin.status_code == 403
    assert "has neither an Origin nor a Referer of this console" in no_origin.text
    assert c.get("/").status_code == 200  # still signed in
    by_referer = c.http.post(
        server.base + "/signout",
        headers={"Referer": f"{server.base}/"},
        allow_redirects=False,
        timeout=10,
    )
    assert location(by_referer) == "/signin"


def test_sign_in_post_from_another_origin_is_refused(server):
    # Login CSRF: a page on another port can plant its own CSRF cookie for this host
    # (cookies ignore ports), so the double-submit token alone cannot tell the pages apart.
    fresh_operator(server, "login-csrf")
    for origin in (f"http://127.0.0.1:{free_port()}", f"http://localhost:{server.port}", "null"):
        c = Client(server.base, origin=origin)
        r = password_step(c, "login-csrf")
        assert r.status_code == 403, origin
        assert "does not come from the console's own pages" in r.text
        assert c.cookie(PENDING_COOKIE) is None
    assert audit(server, "login-csrf") == []  # refused before any check of the password
    # The console's own page, or a form whose Origin a browser left out but its Referer kept.
    assert "step=code" in location(password_step(Client(server.base), "login-csrf"))
    c = Client(server.base)
    page = c.get("/signin")
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))
    r = c.http.post(
        server.base + "/signin",
        data={**hidden, "username": "login-csrf", "password": PASSWORD},
        headers={"Referer": f"{server.base}/signin"},
        allow_redirects=False,
        timeout=10,
    )
    assert "step=code" in location(r)


def test_websocket_opens_with_a_session(server):
    secret = fresh_operator(server, "ws-user")
    c = Client(server.base)
    assert location(sign_in(c, "ws-user", secret)) == "/"
    cookie = f"{SESSION_COOKIE}={c.cookie(SESSION_COOKIE)}"
    with ws_connect(
        f"ws://127.0.0.1:{server.port}/_stcore/stream",
        additional_headers={"Cookie": cookie, "Origin": server.base},
        subprotocols=["streamlit"],
        open_timeout=10,
    ) as ws:
        assert ws.response.status_code == 101


def test_direct_link_lands_on_its_page_after_sign_in(server):
    secret = fresh_operator(server, "linker")
    c = Client(server.base)
    to_login = location(c.get("/users"))
    assert to_login == "/signin?next=%2Fusers"
    login = c.get(to_login)
    assert 'name="next" value="/users"' in login.text
    step = c.submit(login, "/signin", username="linker", password=PASSWORD)
    assert parse_qs(urlsplit(location(step)).query) == {"step": ["code"], "next": ["/users"]}
    pending = step.headers["set-cookie"]
    assert PENDING_COOKIE in pending and "HttpOnly" in pending and "Max-Age=300" in pending
    done = c.submit(c.get(location(step)), "/signin", code=totp.current_code(secret))
    assert location(done) == "/users"
    session_cookie = done.headers["set-cookie"]
    assert "HttpOnly" in session_cookie and "SameSite=strict" in session_cookie and "Path=/" in session_cookie
    landed = c.get("/users")
    assert landed.status_code == 200 and '<div id="root">' in landed.text.replace("'", '"')


def test_open_redirect_is_refused(server):
    secret = fresh_operator(server, "redirected")
    c = Client(server.base)
    assert location(sign_in(c, "redirected", secret, next_path="//evil.example.com/")) == "/"


def test_forged_cookie_is_refused(server):
    c = Client(server.base)
    c.http.cookies.set(SESSION_COOKIE, "made-up-token.0123abcd")
    assert location(c.get("/")).startswith("/signin")
    # A real token with a wrong signature is refused too (before any lookup).
    secret = fresh_operator(server, "forger")
    c2 = Client(server.base)
    sign_in(c2, "forger", secret)
    token = token_from_cookie(c2.cookie(SESSION_COOKIE))
    assert token
    c.http.cookies.set(SESSION_COOKIE, f"{token}.{'0' * 64}")
    assert location(c.get("/")).startswith("/signin")
    c.http.cookies.set(SESSION_COOKIE, token)
    assert location(c.get("/")).startswith("/signin")


# --- sign-in -------------------------------------------------------------------------------


def test_wrong_password(server):
    fresh_operator(server, "wrongpw")
    c = Client(server.base)
    r = password_step(c, "wrongpw", password="not the password")
    assert r.status_code == 200
    assert "Wrong username, password or code." in r.text
    assert c.cookie(PENDING_COOKIE) is None
    assert location(c.get("/")).startswith("/signin")


def test_unknown_operator_reads_like_a_wrong_password(server):
    r = password_step(Client(server.base), "nobody-here")
    assert "Wrong username, password or code." in r.text


def test_wrong_code_then_right_code(server):
    secret = fresh_operator(server, "wrongcode")
    c = Client(server.base)
    page = c.get(location(password_step(c, "wrongcode")))
    good = totp.current_code(secret)
    bad = f"{(int(good) + 1) % 1_000_000:06d}"
    r = c.submit(page, "/signin", code=bad)
    assert r.status_code == 200 and "That code is not valid" in r.text
    assert c.cookie(SESSION_COOKIE) is None
    assert "exactly 6 digits" in c.submit(page, "/signin", code="12ab").text
    assert location(c.submit(page, "/signin", code=good)) == "/"


def test_replayed_code_is_refused(server):
    secret = fresh_operator(server, "replayer")
    code = totp.current_code(secret)
    first = Client(server.base)
    page = first.get(location(password_step(first, "replayer")))
    assert location(first.submit(page, "/signin", code=code)) == "/"
    second = Client(server.base)
    page = second.get(location(password_step(second, "replayer")))
    r = second.submit(page, "/signin", code=code)
    assert r.status_code == 200 and "That code is not valid" in r.text
    assert second.cookie(SESSION_COOKIE) is None


def test_sixth_attempt_within_15_minutes_is_throttled(server):
    fresh_operator(server, "throttled")
    c = Client(server.base)
    for _ in range(5):
        assert "Wrong username, password or code." in password_step(c, "throttled", password="guess").text
    r = password_step(c, "throttled")  # the right password, but too late
    assert "Too many failed attempts for throttled" in r.text
    with session_scope(server.engine) as s:
        until = throttle.throttled_until(s, "operator:throttled")
    assert until is not None and timedelta(minutes=14) < until - utcnow() <= timedelta(minutes=15)
    assert f"until {until:%H:%M} UTC" in r.text
    assert c.cookie(PENDING_COOKIE) is None
    # A reload (a new browser) does not reset the count: it lives in the database.
    assert "Too many failed attempts" in password_step(Client(server.base), "throttled").text


def test_enrolment_for_an_operator_without_authenticator(server):
    c = Client(server.base)
    step = password_step(c, "sam", next_path="/brands")
    assert parse_qs(urlsplit(location(step)).query)["step"] == ["enrol"]
    page = c.get(location(step))
    assert page.status_code == 200 and "Set up your authenticator" in page.text
    assert "<svg" in page.text  # the QR code, inline
    shown = re.search(r'<div class="secret" id="secret">([A-Z2-7 ]+)</div>', page.text)
    assert shown, page.text[:2000]
    secret = shown.group(1).replace(" ", "")
    wrong = c.submit(page, "/signin", code="000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    assert "That code is not valid" in wrong.text and secret[:4] in wrong.text  # the same key, again
    done = c.submit(page, "/signin", code=pyotp.TOTP(secret).now())
    assert location(done) == "/brands"
    assert c.get("/brands").status_code == 200
    # The command line now shows the same authenticator's code.
    shown_code = server.cli("operators", "totp", "sam")
    assert shown_code.returncode == 0, shown_code.stderr
    now = time.time()
    assert shown_code.stdout.strip() in {totp.current_code(secret, now + d) for d in (-30, 0, 30)}
    with session_scope(server.engine) as s:
        op = s.scalars(select(Operator).where(Operator.username == "sam")).one()
        assert op.totp_confirmed and op.last_sign_in_at is not None
    assert [e.action for e in audit(server, "sam")][-2:] == ["operator.totp_enrolled", "operator.sign_in"]


def test_an_enrolled_operator_cannot_enrol_again(server):
    secret = fresh_operator(server, "enrolled")
    c = Client(server.base)
    step = password_step(c, "enrolled")
    page = c.get("/signin?step=enrol&next=%2F")
    assert "has an authenticator already" in page.text and "<svg" not in page.text
    assert location(c.submit(page, "/signin", code=totp.current_code(secret))) == "/"
    assert "step=code" in location(step)


def test_form_without_the_csrf_token_is_refused(server):
    fresh_operator(server, "csrf-user")
    c = Client(server.base)
    c.get("/signin")
    r = c.post("/signin", {"step": "password", "username": "csrf-user", "password": PASSWORD, "csrf": "x"})
    assert r.status_code == 403 and "The form expired" in r.text
    bare = requests.post(
        server.base + "/signin", data={"step": "password"}, allow_redirects=False, timeout=10
    )
    assert bare.status_code == 403


def test_pending_ticket_is_needed_for_the_code_step(server):
    c = Client(server.base)
    page = c.get("/signin?step=code")
    assert "took too long" in page.text
    r = c.submit(c.get("/signin"), "/signin", step="code", code="123456")
    assert "took too long" in r.text and c.cookie(SESSION_COOKIE) is None


def test_sign_out_ends_the_session(server):
    secret = fresh_operator(server, "leaver")
    c = Client(server.base)
    sign_in(c, "leaver", secret)
    old = c.cookie(SESSION_COOKIE)
    assert c.get("/").status_code == 200
    out = c.get("/signout")
    assert location(out) == "/signin"
    assert f'{SESSION_COOKIE}="";' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    other = Client(server.base)
    other.http.cookies.set(SESSION_COOKIE, old)
    assert location(other.get("/")).startswith("/signin")
    with session_scope(server.engine) as s:
        row = s.scalars(
            select(OperatorSession).where(OperatorSession.token_hash == token_digest(token_from_cookie(old)))
        ).one()
        assert row.ended_at is not None
    assert audit(server, "leaver")[-1].action == "operator.sign_out"


def test_idle_session_expires(server):
    secret = fresh_operator(server, "idler")
    c = Client(server.base)
    sign_in(c, "idler", secret)
    assert c.get("/").status_code == 200
    token = token_from_cookie(c.cookie(SESSION_COOKIE))
    with session_scope(server.engine, write=True) as s:
        s.execute(
            update(OperatorSession)
            .where(OperatorSession.token_hash == token_digest(token))
            .values(last_seen_at=utcnow() - timedelta(minutes=31))
        )
    assert location(c.get("/")).startswith("/signin")
    with pytest.raises(InvalidStatus):
        ws_connect(
            f"ws://127.0.0.1:{server.port}/_stcore/stream",
            additional_headers={
                "Cookie": f"{SESSION_COOKIE}={c.cookie(SESSION_COOKIE)}",
                "Origin": server.base,
            },
            open_timeout=10,
        ).close()


def test_signed_in_visit_to_login_goes_on(server):
    secret = fresh_operator(server, "returner")
    c = Client(server.base)
    sign_in(c, "returner", secret)
    assert location(c.get("/signin?next=%2Freports")) == "/reports"


def test_sign_ins_are_audited_without_secrets(server):
    secret = fresh_operator(server, "audited")
    c = Client(server.base)
    password_step(c, "audited", password="wrong-password-123")
    page = c.get(location(password_step(c, "audited")))
    good = totp.current_code(secret)
    bad = f"{(int(good) + 7) % 1_000_000:06d}"
    c.submit(page, "/signin", code=bad)
    c.submit(page, "/signin", code=good)
    events = audit(server, "audited")
    assert [e.action for e in events] == [
        "operator.sign_in_failed",
        "operator.sign_in_failed",
        "operator.sign_in",
    ]
    assert [e.after for e in events[:2]] == [{"step": "password"}, {"step": "code"}]
    text = " ".join(f"{e.before} {e.after} {e.reason} {e.object_key} {e.actor}" for e in events)
    for secret_text in ("wrong-password-123", PASSWORD, good, bad, secret):
        assert secret_text not in text


# --- first run ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory) -> Iterator[Server]:
    s = new_server(tmp_path_factory.mktemp("web-empty"))
    try:
        s.start()
        yield s
    finally:
        s.stop()


def test_first_run_setup_refuses_another_origin(empty_server):
    # A page on another port must not create the first administrator (it would own the console).
    c = Client(empty_server.base, origin=f"http://127.0.0.1:{free_port()}")
    form = c.get("/signin/setup")
    assert form.status_code == 200
    made = c.submit(form, "/signin/setup", username="intruder", password=PASSWORD, confirm=PASSWORD)
    assert made.status_code == 403 and "does not come from the console's own pages" in made.text
    with session_scope(empty_server.engine) as s:
        assert s.scalars(select(Operator)).all() == []


def test_first_run_setup_works_once(empty_server):
    c = Client(empty_server.base)
    assert location(c.get("/signin")) == "/signin/setup"
    form = c.get("/signin/setup")
    assert form.status_code == 200 and "Create the first administrator" in form.text
    differ = c.submit(form, "/signin/setup", username="boss", password=PASSWORD, confirm="something else")
    assert "The two passwords differ" in differ.text
    short = c.submit(form, "/signin/setup", username="boss", password="short", confirm="short")
    assert "at least 10 characters" in short.text
    made = c.submit(
        form, "/signin/setup", username="boss", display_name="The Boss", password=PASSWORD, confirm=PASSWORD
    )
    assert "step=enrol" in location(made)
    enrol = c.get(location(made))
    secret = re.search(r'name="secret" value="([A-Z2-7]+)"', enrol.text).group(1)
    assert location(c.submit(enrol, "/signin", code=pyotp.TOTP(secret).now())) == "/"
    assert c.get("/").status_code == 200
    # Once an operator exists the form is gone, for everyone.
    assert c.get("/signin/setup").status_code == 404
    later = Client(empty_server.base)
    page = later.get("/signin")
    again = later.submit(page, "/signin/setup", username="intruder", password=PASSWORD, confirm=PASSWORD)
    assert again.status_code == 404
    with session_scope(empty_server.engine) as s:
        ops = s.scalars(select(Operator)).all()
        assert [(o.username, o.role, o.display_name) for o in ops] == [("boss", "admin", "The Boss")]
        created = s.scalars(select(AuditEvent).where(AuditEvent.action == "operator.created")).one()
        assert created.actor == "first-run setup" and PASSWORD not in str(created.after)


# --- behind a reverse proxy: MAC_PUBLIC_URL ------------------------------------------------

PUBLIC_URL = "https://console.example.test"


@pytest.fixture(scope="module")
def proxied_server(tmp_path_factory) -> Iterator[Server]:
    s = new_server(tmp_path_factory.mktemp("web-proxied"))
    s.env["MAC_PUBLIC_URL"] = PUBLIC_URL
    s.add_operators()
    try:
        s.start()
        yield s
    finally:
        s.stop()


def test_with_a_public_url_only_that_origin_passes(proxied_server):
    # A proxy that ends TLS and passes the browser's Host on: the request is plain http
    # with Host console.example.test, the page https://console.example.test.
    server = proxied_server
    proxy_host = urlsplit(PUBLIC_URL).netloc
    secret = fresh_operator(server, "proxied")
    c = Client(server.base, origin=PUBLIC_URL, host=proxy_host)
    assert location(sign_in(c, "proxied", secret)) == "/"
    cookie = c.cookie(SESSION_COOKIE)
    with open_stream(server, cookie, PUBLIC_URL, host=proxy_host) as ws:
        assert ws.response.status_code == 101
    assert c.get("/", headers={"Origin": PUBLIC_URL}).status_code == 200
    # What the Host and scheme alone would make the origin is not the console's any more.
    assert refused_status(server, cookie, f"http://{proxy_host}", host=proxy_host) == 403
    assert refused_status(server, cookie, server.base) == 403
    assert c.get("/", headers={"Origin": f"http://{proxy_host}"}).status_code == 403
    refused = password_step(Client(server.base, origin=f"http://{proxy_host}", host=proxy_host), "proxied")
    assert refused.status_code == 403
    assert f"the console's is {PUBLIC_URL} (scheme, host and port" in refused.text
    assert password_step(Client(server.base), "proxied").status_code == 403


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-v"]))


def test_a_page_on_another_port_cannot_sign_an_operator_out(server):
    """Another port is the same site, so the strict cookie goes along; Sec-Fetch-Site says where from."""
    secret = fresh_operator(server, "stayer")
    c = Client(server.base)
    sign_in(c, "stayer", secret)
    cross = c.get("/signout", headers={"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate"})
    assert location(cross) == "/" and "set-cookie" not in cross.headers
    assert c.get("/").status_code == 200  # still signed in
    own = c.get("/signout", headers={"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate"})
    assert location(own) == "/signin"
    assert location(c.get("/")).startswith("/signin")
