"""``POST /api/mail-auth`` through the real server (``streamlit run server.py``), as a mail server calls it.

The client is plain ``requests`` with no cookie jar and no ``Origin``, as Dovecot's Lua
passdb sends it; mailboxes and tokens are written by the factories and core into the
server's own SQLite file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import select

from core.access import mail_auth_tokens
from core.access.permissions import Actor
from core.mailboxes import app_passwords
from core.platform.db import session_scope
from core.platform.models import AppPassword
from tests.factories import PASSWORD, make_brand, make_domain, make_user
from tests.live_server import new_server
from web.paths import MAIL_AUTH_PATH

ALICE = "alice@phones.example.com"
GUARDED = "guarded@phones.example.com"


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> Iterator[dict]:
    server = new_server(tmp_path_factory.mktemp("mail-auth"))
    with session_scope(server.engine, write=True) as s:
        brand = make_brand(s, "Phone Mail", allow_2fa=True, allow_app_passwords=True)
        dom = make_domain(s, brand, "phones.example.com")
        make_user(s, dom, "alice")
        make_user(s, dom, "guarded", twofa=True)
    with session_scope(server.engine, write=True) as s:
        token = mail_auth_tokens.create(s, actor=Actor.cli(), label="imap1").token
        phone = app_passwords.create(
            s, actor=Actor.customer(ALICE), email=ALICE, label="iPhone Mail", protocols="imap,smtp"
        ).password
    try:
        server.start()
        yield {"server": server, "token": token, "phone": phone}
    finally:
        server.stop()


def post(api: dict, body: object = None, *, token: str | None = "", raw: bytes | None = None, **kw):
    """POST as a mail server: the bearer token (the module's unless given), JSON, nothing else."""
    headers = dict(kw.pop("headers", {}))
    token = api["token"] if token == "" else token
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else json.dumps(body).encode()
    headers.setdefault("Content-Type", "application/json")
    return requests.post(
        api["server"].base + MAIL_AUTH_PATH,
        data=data,
        headers=headers,
        allow_redirects=False,
        timeout=10,
        **kw,
    )


def body(user: str = ALICE, password: str = PASSWORD, protocol: str = "imap", remote_ip: str = "192.0.2.10"):
    return {"user": user, "password": password, "protocol": protocol, "remote_ip": remote_ip}


def test_an_app_password_is_200_with_its_label_and_its_use_is_recorded(api):
    answer = post(api, body(password=api["phone"], protocol="smtp", remote_ip="192.0.2.44"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"result": "ok", "via": "app_password", "label": "iPhone Mail"}
    assert answer.headers["cache-control"] == "no-store"
    with session_scope(api["server"].engine) as s:
        ap = s.scalars(select(AppPassword).where(AppPassword.label == "iPhone Mail")).one()
    assert (ap.last_used_protocol, ap.last_used_ip) == ("smtp", "192.0.2.44")
    assert ap.last_used_at is not None


def test_the_mailbox_password_is_200_without_a_label_while_2fa_is_off(api):
    answer = post(api, body(protocol="pop3"))
    assert (answer.status_code, answer.json()) == (200, {"result": "ok", "via": "password", "label": None})


def test_a_refusal_is_401_with_one_sentence(api):
    outside = post(api, body(password=api["phone"], protocol="pop3"))
    assert outside.status_code == 401
    assert outside.json() == {
        "result": "refused",
        "reason": "The app password 'iPhone Mail' is not for POP3; it allows IMAP, SMTP.",
    }
    twofa = post(api, body(user=GUARDED))
    assert twofa.status_code == 401 and "2FA on" in twofa.json()["reason"]
    wrong = post(api, body(password="nope nope nope nope"))
    assert wrong.status_code == 401 and set(wrong.json()) == {"result", "reason"}
    for answer in (outside, twofa, wrong):
        assert PASSWORD not in answer.text and api["phone"] not in answer.text


@pytest.mark.parametrize(
    "header",
    [None, "Bearer ", "Bearer not-a-token", "Basic dXNlcjpwYXNz", "bearer"],
)
def test_a_missing_or_unknown_token_is_403(api, header):
    headers = {} if header is None else {"Authorization": header}
    answer = post(api, body(password=api["phone"]), token=None, headers=headers)
    assert answer.status_code == 403, answer.text
    assert answer.json()["result"] == "forbidden"


def test_a_revoked_token_is_403_from_the_next_request(api):
    with session_scope(api["server"].engine, write=True) as s:
        spare = mail_auth_tokens.create(s, actor=Actor.cli(), label="imap2").token
    assert post(api, body(password=api["phone"]), token=spare).status_code == 200
    with session_scope(api["server"].engine, write=True) as s:
        mail_auth_tokens.revoke(s, actor=Actor.cli(), label="imap2")
    assert post(api, body(password=api["phone"]), token=spare).status_code == 403


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"user=alice", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b'["alice"]', "JSON object"),
        (b'{"user": "alice@phones.example.com", "password": "x", "protocol": "imap"}', "missing remote_ip"),
        (
            b'{"user": "a", "password": "x", "protocol": "imap", "remote_ip": "", "code": "1"}',
            "unexpected 'code'",
        ),
        (b'{"user": "a", "password": 5, "protocol": "imap", "remote_ip": ""}', "password must be strings"),
        (b'{"user": "a", "password": "x", "protocol": "ftp", "remote_ip": ""}', "protocol must be one of"),
        (b'{"user": "a", "password": "x", "protocol": "imap", "remote_ip": "here"}', "remote_ip must be"),
        (b'{"user": "' + b"a" * 20_000 + b'"}', "larger than 16384 bytes"),
    ],
)
def test_a_malformed_body_is_400(api, raw, says):
    answer = post(api, raw=raw)
    assert answer.status_code == 400, answer.text
    assert answer.json()["result"] == "malformed" and says in answer.json()["reason"]


def test_a_malformed_body_without_a_token_is_403(api):
    assert post(api, raw=b"not json", token=None).status_code == 403


def test_no_cookie_or_origin_is_needed_and_none_is_read(api):
    plain = requests.post(
        api["server"].base + MAIL_AUTH_PATH,
        json=body(password=api["phone"]),
        headers={"Authorization": f"Bearer {api['token']}"},
        allow_redirects=False,
        timeout=10,
    )
    assert plain.status_code == 200 and "set-cookie" not in plain.headers
    # A browser's leftovers change nothing: another page's Origin, a forged session cookie.
    odd = post(
        api,
        body(password=api["phone"]),
        headers={"Origin": "https://elsewhere.example", "Cookie": "mac_session=forged.value"},
    )
    assert odd.status_code == 200, odd.text


def test_only_post_passes_the_gate_without_a_session(api):
    answer = requests.get(api["server"].base + MAIL_AUTH_PATH, allow_redirects=False, timeout=10)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/signin?next=")


def test_the_server_log_holds_no_password_or_token(api):
    post(api, body(password=api["phone"]))
    post(api, body(password="guessing guessing"))
    log = (api["server"].tmp / "server.log").read_text()
    for secret in (api["token"], api["phone"], PASSWORD, "guessing guessing"):
        assert secret not in log
