"""``python -m core mail-auth token ...``, ``app-passwords create --protocols`` and the last use
``users show`` gives, on the real command line (helpers of ``tests/cli/test_cli.py``)."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.access.mail_auth_tokens import token_ok
from core.mailboxes.mail_auth import check
from core.platform.crypto import token_digest
from core.platform.db import get_engine
from core.platform.models import AppPassword, AuditEvent, MailAuthToken
from tests.cli.test_cli import cli, dom, scope
from tests.factories import make_operator, make_user, setup_basic

ANN = "ann@alpha.example.com"


def test_token_create_prints_it_once_list_shows_it_and_revoke_ends_it(db_url: str):
    setup_basic(get_engine(db_url))
    made = cli(db_url, "mail-auth", "token", "create", "--label", "imap1")
    assert made.code == 0, made
    token = made.out.strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token), made.out
    assert "only time" in made.err and token not in made.err
    with scope(db_url, write=True) as s:
        (row,) = s.scalars(select(MailAuthToken)).all()
        assert row.token_digest == token_digest(token) and row.created_by == "cli"
        assert token_ok(s, token)

    by_admin = cli(db_url, "mail-auth", "token", "create", "--label", "smtp1", "--actor", "admin")
    assert by_admin.code == 0, by_admin
    listed = cli(db_url, "mail-auth", "token", "list", "--format", "json")
    assert listed.code == 0, listed
    rows = listed.json()
    assert [list(r) for r in rows] == [
        ["label", "state", "created_at", "created_by", "last_used_at", "revoked_at"]
    ] * 2
    assert [(r["label"], r["state"], r["created_by"]) for r in rows] == [
        ("imap1", "live", "cli"),
        ("smtp1", "live", "admin"),
    ]
    assert rows[0]["last_used_at"] is not None and rows[1]["last_used_at"] is None
    assert token not in listed.out

    revoked = cli(db_url, "mail-auth", "token", "revoke", "imap1")
    assert (revoked.code, revoked.out.strip()) == (0, "Revoked the mail-server token 'imap1'.")
    with scope(db_url, write=True) as s:
        assert not token_ok(s, token)
    again = cli(db_url, "mail-auth", "token", "revoke", "imap1")
    assert again.code == 1 and "no live mail-server token labelled 'imap1'" in again.err
    reused = cli(db_url, "mail-auth", "token", "create", "--label", "imap1")
    assert reused.code == 1 and "exists already" in reused.err
    blank = cli(db_url, "mail-auth", "token", "create", "--label", "  ")
    assert blank.code == 2 and "needs a label" in blank.err
    with scope(db_url) as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("mail_auth.%"))).all()
    assert sorted(actions) == [
        "mail_auth.token_created",
        "mail_auth.token_created",
        "mail_auth.token_revoked",
    ]


def test_only_an_administrator_manages_tokens_on_the_command_line(db_url: str):
    setup_basic(get_engine(db_url))
    for name in ("support", "manager", "analyst"):
        for args in (
            ["create", "--label", f"by-{name}"],
            ["list"],
            ["revoke", "imap1"],
        ):
            run = cli(db_url, "mail-auth", "token", *args, "--actor", name)
            assert run.code == 1 and "may not manage the mail servers' tokens" in run.err, run
    with scope(db_url) as s:
        assert s.scalars(select(MailAuthToken)).all() == []


def test_app_password_protocols_and_last_use_in_users_show(db_url: str):
    setup_basic(get_engine(db_url))
    with scope(db_url, write=True) as s:
        make_user(s, dom(s, "alpha.example.com"), "ann")
        make_operator(s, "root", "admin")
    phone = cli(db_url, "app-passwords", "create", ANN, "--label", "Phone", "--protocols", "IMAP, smtp")
    assert phone.code == 0, phone
    laptop = cli(db_url, "app-passwords", "create", ANN, "--label", "Laptop")
    assert laptop.code == 0, laptop
    bad = cli(db_url, "app-passwords", "create", ANN, "--label", "Watch", "--protocols", "imap,ftp")
    assert bad.code == 2
    assert bad.err.strip() == (
        "Unknown protocol 'ftp': an app password may allow imap, pop3, smtp, sieve, dav (a comma list)."
    )
    with scope(db_url, write=True) as s:
        assert {a.label: a.protocols for a in s.scalars(select(AppPassword))} == {
            "Phone": "imap,smtp",
            "Laptop": "imap,pop3,smtp,sieve,dav",
        }
        assert check(s, user=ANN, password=phone.out.strip(), protocol="smtp", remote_ip="192.0.2.8").ok

    shown = cli(db_url, "users", "show", ANN, "--format", "json")
    assert shown.code == 0, shown
    aps = {ap["label"]: ap for ap in shown.json()["app_passwords"]}
    assert list(aps["Phone"]) == [
        "label",
        "protocols",
        "created_at",
        "last_used_at",
        "last_used_protocol",
        "last_used_ip",
        "state",
    ]
    assert (aps["Phone"]["protocols"], aps["Phone"]["last_used_protocol"], aps["Phone"]["last_used_ip"]) == (
        "imap,smtp",
        "smtp",
        "192.0.2.8",
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", aps["Phone"]["last_used_at"])
    assert (aps["Laptop"]["last_used_at"], aps["Laptop"]["last_used_protocol"]) == (None, None)
    table = cli(db_url, "users", "show", ANN)
    assert table.code == 0 and "imap,smtp" in table.out and "192.0.2.8" in table.out
