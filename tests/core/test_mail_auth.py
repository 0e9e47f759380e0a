"""A mail client's sign-in as a mail server asks it (core.mailboxes.mail_auth), and the servers' tokens.

Every test runs on SQLite and PostgreSQL. App passwords are made by the real service
(``app_passwords.create``), so their lookup keys are the ones production writes; the one
old row (argon2 only) is written as the console wrote them before the key existed.
"""

from __future__ import annotations

from dataclasses import asdict

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from core.access import mail_auth_tokens
from core.access.permissions import Actor
from core.brands import switches
from core.brands.switches import SwitchChange
from core.mailboxes import app_passwords, mail_auth
from core.mailboxes.mail_auth import ADDRESS_FAILURES, Outcome, check, failed_sign_ins
from core.platform import throttle
from core.platform.crypto import hash_password, token_digest
from core.platform.db import session_scope
from core.platform.errors import BadInput, NotFound, PermissionDenied, Refused
from core.platform.models import (
    MAIL_PROTOCOLS,
    AppPassword,
    AuditEvent,
    LoginFailure,
    MailAuthToken,
    User,
)
from tests.factories import PASSWORD, make_brand, make_domain, make_user, operator_actor

IP = "203.0.113.7"


@pytest.fixture
def world(engine: Engine) -> dict:
    """A brand with app passwords and 2FA on; mailboxes with and without 2FA; a dormant one."""
    with session_scope(engine, write=True) as s:
        on = make_brand(s, "Open Mail", allow_2fa=True, allow_app_passwords=True)
        quiet = make_brand(s, "Quiet Mail", allow_2fa=False, allow_app_passwords=True)
        dom = make_domain(s, on, "open.example.com")
        qdom = make_domain(s, quiet, "quiet.example.com")
        make_user(s, dom, "plain")
        make_user(s, dom, "guarded", twofa=True)
        make_user(s, qdom, "dormant", twofa=True)
        make_user(s, dom, "away", status="suspended")
    return {"brand": "Open Mail"}


def new_app_password(
    engine: Engine, email: str, label: str = "iPhone Mail", protocols: str | None = None
) -> str:
    with session_scope(engine, write=True) as s:
        return app_passwords.create(
            s, actor=Actor.customer(email), email=email, label=label, protocols=protocols
        ).password


def login(engine: Engine, user: str, password: str, protocol: str = "imap", remote_ip: str = IP) -> Outcome:
    with session_scope(engine, write=True) as s:
        outcome = check(s, user=user, password=password, protocol=protocol, remote_ip=remote_ip)
    return outcome


def failures(engine: Engine, subject: str) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(LoginFailure).where(LoginFailure.subject == subject))


def app_password_row(engine: Engine, label: str) -> AppPassword:
    with session_scope(engine) as s:
        return s.scalars(select(AppPassword).where(AppPassword.label == label)).one()


def set_app_passwords(engine: Engine, brand: str, on: bool) -> None:
    with session_scope(engine, write=True) as s:
        actor = operator_actor(s, "manager", "account_manager")
        switches.set_switches(s, actor=actor, name=brand, change=SwitchChange(allow_app_passwords=on))


# --- app passwords ----------------------------------------------------------------------


def test_an_app_password_signs_in_on_every_protocol_it_allows_and_records_the_use(engine, world):
    plain = new_app_password(engine, "plain@open.example.com")
    for protocol in MAIL_PROTOCOLS:
        got = login(
            engine, "Plain@Open.Example.com ", plain, protocol, remote_ip=f"198.51.100.{len(protocol)}"
        )
        assert (got.ok, got.via, got.label) == (True, "app_password", "iPhone Mail"), got
        ap = app_password_row(engine, "iPhone Mail")
        assert (ap.last_used_protocol, ap.last_used_ip) == (protocol, f"198.51.100.{len(protocol)}")
    # As a phone types it: spaced in groups, upper case.
    assert login(engine, "plain@open.example.com", plain.upper()).ok
    with session_scope(engine) as s:
        user = s.scalars(select(User).where(User.email == "plain@open.example.com")).one()
        assert user.last_login_at is not None and user.last_login_at >= ap.last_used_at


def test_an_app_password_outside_its_protocols_is_refused_and_not_counted(engine, world):
    plain = new_app_password(engine, "plain@open.example.com", protocols="imap, SMTP")
    assert app_password_row(engine, "iPhone Mail").protocols == "imap,smtp"
    assert login(engine, "plain@open.example.com", plain, "smtp").ok
    got = login(engine, "plain@open.example.com", plain, "pop3")
    assert (got.ok, got.rule) == (False, "protocol_not_allowed")
    assert got.reason == "The app password 'iPhone Mail' is not for POP3; it allows IMAP, SMTP."
    assert failures(engine, "user:plain@open.example.com") == 0
    assert app_password_row(engine, "iPhone Mail").last_used_protocol == "smtp"


def test_a_revoke_holds_from_the_next_check(engine, world):
    plain = new_app_password(engine, "plain@open.example.com")
    assert login(engine, "plain@open.example.com", plain).ok
    with session_scope(engine, write=True) as s:
        app_passwords.revoke(
            s, actor=operator_actor(s, "sam", "support"), email="plain@open.example.com", label="iPhone Mail"
        )
    got = login(engine, "plain@open.example.com", plain)
    assert (got.ok, got.rule) == (False, "revoked")
    assert got.reason == "The app password 'iPhone Mail' of plain@open.example.com was revoked."
    assert failures(engine, "user:plain@open.example.com") == 0


def test_a_brand_switch_holds_from_the_next_check_both_ways(engine, world):
    plain = new_app_password(engine, "plain@open.example.com")
    assert login(engine, "plain@open.example.com", plain).ok
    set_app_passwords(engine, "Open Mail", False)
    got = login(engine, "plain@open.example.com", plain)
    assert (got.ok, got.rule) == (False, "app_passwords_not_allowed")
    assert got.reason == "Open Mail does not allow app passwords, so 'iPhone Mail' is suspended."
    set_app_passwords(engine, "Open Mail", True)
    assert login(engine, "plain@open.example.com", plain).ok


def test_a_suspended_mailbox_is_refused(engine, world):
    plain = new_app_password(engine, "plain@open.example.com")
    with session_scope(engine, write=True) as s:
        s.scalars(select(User).where(User.email == "plain@open.example.com")).one().status = "suspended"
    got = login(engine, "plain@open.example.com", plain)
    assert (got.ok, got.rule) == (False, "suspended")
    assert login(engine, "away@open.example.com", PASSWORD).rule == "suspended"


def test_an_unknown_mailbox_is_refused(engine, world):
    got = login(engine, "nobody@open.example.com", PASSWORD)
    assert (got.ok, got.rule, got.reason) == (
        False,
        "no_such_user",
        "There is no mailbox 'nobody@open.example.com'.",
    )
    assert failures(engine, f"ip:{IP}") == 1


def test_an_old_argon2_only_row_signs_in_once_by_hash_then_by_its_lookup_key(engine, world, monkeypatch):
    with session_scope(engine, write=True) as s:
        user = s.scalars(select(User).where(User.email == "plain@open.example.com")).one()
        s.add(
            AppPassword(user_id=user.id, label="Old Phone", password_hash=hash_password("oldphonepassword"))
        )
    assert app_password_row(engine, "Old Phone").lookup_key is None
    got = login(engine, "plain@open.example.com", "oldp hone pass word", "pop3")
    assert (got.ok, got.label) == (True, "Old Phone")
    assert app_password_row(engine, "Old Phone").lookup_key == app_passwords.lookup_key("oldphonepassword")

    # From now on one indexed lookup finds it: no argon2 verification at all.
    def no_argon2(*_args):
        raise AssertionError("argon2 was asked although the lookup key is set")

    monkeypatch.setattr(mail_auth, "verify_password", no_argon2)
    assert login(engine, "plain@open.example.com", "oldphonepassword", "pop3").ok


def test_a_new_app_password_is_found_without_argon2(engine, world, monkeypatch):
    plain = new_app_password(engine, "plain@open.example.com")
    monkeypatch.setattr(mail_auth, "verify_password", lambda *_a: pytest.fail("argon2 was asked"))
    assert login(engine, "plain@open.example.com", plain).ok


def test_another_mailboxs_app_password_does_not_sign_in(engine, world):
    plain = new_app_password(engine, "guarded@open.example.com")
    got = login(engine, "plain@open.example.com", plain)
    assert (got.ok, got.rule) == (False, "wrong_password")


# --- the mailbox password and 2FA -------------------------------------------------------


def test_the_mailbox_password_works_only_while_2fa_is_not_on(engine, world):
    ok = login(engine, "plain@open.example.com", PASSWORD, "smtp")
    assert (ok.ok, ok.via, ok.label) == (True, "password", None)
    dormant = login(engine, "dormant@quiet.example.com", PASSWORD, "pop3")  # enrolled, brand has 2FA off
    assert (dormant.ok, dormant.via) == (True, "password")
    refused = login(engine, "guarded@open.example.com", PASSWORD)
    assert (refused.ok, refused.rule) == (False, "twofa_on")
    assert "2FA on" in refused.reason and "app password" in refused.reason
    # The right password of a 2FA user is not a guess: it does not pause the owner's webmail.
    assert failures(engine, "user:guarded@open.example.com") == 0
    plain = new_app_password(engine, "guarded@open.example.com")
    assert login(engine, "guarded@open.example.com", plain).via == "app_password"


# --- throttles ----------------------------------------------------------------------------


def test_five_failures_pause_the_mailbox_and_show_on_its_page(engine, world):
    plain = new_app_password(engine, "plain@open.example.com")
    for _ in range(throttle.FAILURES):
        got = login(engine, "plain@open.example.com", "wrong wrong wrong")
        assert got.rule == "wrong_password"
    got = login(engine, "plain@open.example.com", plain)  # the right one, too late
    assert (got.ok, got.rule) == (False, "throttled")
    assert got.reason.startswith("Too many failed attempts for plain@open.example.com")
    assert failures(engine, "user:plain@open.example.com") == throttle.FAILURES  # not counted again
    with session_scope(engine) as s:
        user = s.scalars(select(User).where(User.email == "plain@open.example.com")).one()
        seen = failed_sign_ins(s, user_id=user.id)
    assert seen.count == throttle.FAILURES and seen.last_at is not None


def test_a_success_clears_the_mailboxs_failures(engine, world):
    plain = new_app_password(engine, "plain@open.example.com")
    for _ in range(throttle.FAILURES - 1):
        login(engine, "plain@open.example.com", "wrong")
    assert login(engine, "plain@open.example.com", plain).ok
    assert failures(engine, "user:plain@open.example.com") == 0
    assert login(engine, "plain@open.example.com", "wrong").rule == "wrong_password"
    assert login(engine, "plain@open.example.com", plain).ok


def test_an_address_with_many_failures_is_paused_for_every_mailbox(engine, world):
    plain = new_app_password(engine, "plain@open.example.com")
    assert login(engine, "plain@open.example.com", plain).ok  # a success does not clear the address
    for i in range(ADDRESS_FAILURES):
        assert login(engine, f"nobody{i}@open.example.com", "guess").rule == "no_such_user"
    got = login(engine, "plain@open.example.com", plain)
    assert (got.ok, got.rule) == (False, "address_throttled")
    assert got.reason.startswith(f"Too many failed sign-ins from {IP}")
    assert failures(engine, f"ip:{IP}") == ADDRESS_FAILURES
    assert login(engine, "plain@open.example.com", plain, remote_ip="198.51.100.1").ok
    assert login(engine, "plain@open.example.com", plain, remote_ip="").ok  # no address given: none to pause


# --- input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("protocol", "remote_ip", "says"),
    [
        ("IMAP", IP, "protocol must be one of imap, pop3, smtp, sieve, dav"),
        ("ftp", IP, "protocol must be one of"),
        ("imap", "not-an-address", "remote_ip must be an IPv4 or IPv6 address"),
    ],
)
def test_a_malformed_protocol_or_address_is_bad_input(engine, world, protocol, remote_ip, says):
    with pytest.raises(BadInput, match=says), session_scope(engine, write=True) as s:
        check(s, user="plain@open.example.com", password=PASSWORD, protocol=protocol, remote_ip=remote_ip)


def test_ipv6_addresses_are_kept_in_canonical_form(engine, world):
    plain = new_app_password(engine, "plain@open.example.com")
    assert login(engine, "plain@open.example.com", plain, remote_ip="2001:DB8:0:0::1").ok
    assert app_password_row(engine, "iPhone Mail").last_used_ip == "2001:db8::1"


def test_app_password_protocols_default_to_all_and_refuse_unknown_names(engine, world):
    new_app_password(engine, "plain@open.example.com", label="Laptop")
    assert app_password_row(engine, "Laptop").protocols == "imap,pop3,smtp,sieve,dav"
    with pytest.raises(BadInput, match="Name at least one protocol"):
        new_app_password(engine, "plain@open.example.com", label="Watch", protocols=" , ")
    with pytest.raises(BadInput) as err:
        new_app_password(engine, "plain@open.example.com", label="Watch", protocols="imap,ftp")
    assert str(err.value) == (
        "Unknown protocol 'ftp': an app password may allow imap, pop3, smtp, sieve, dav (a comma list)."
    )


def test_no_outcome_holds_a_password_hash_or_key(engine, world):
    """Outcomes of every kind, against every secret the mailbox has."""
    plain = new_app_password(engine, "plain@open.example.com")
    scoped = new_app_password(engine, "plain@open.example.com", label="Watch", protocols="imap")
    guarded = new_app_password(engine, "guarded@open.example.com")
    outcomes = [
        login(engine, "plain@open.example.com", plain),
        login(engine, "plain@open.example.com", PASSWORD),
        login(engine, "plain@open.example.com", scoped, "dav"),
        login(engine, "guarded@open.example.com", PASSWORD),
        login(engine, "nobody@open.example.com", PASSWORD),
        login(engine, "away@open.example.com", PASSWORD),
    ]
    outcomes += [login(engine, "guarded@open.example.com", "wrong wrong wrong") for _ in range(6)]
    with session_scope(engine, write=True) as s:
        app_passwords.revoke(
            s, actor=operator_actor(s, "sam", "support"), email="plain@open.example.com", label="iPhone Mail"
        )
    outcomes.append(login(engine, "plain@open.example.com", plain))
    assert {o.rule for o in outcomes} == {
        "ok",
        "protocol_not_allowed",
        "twofa_on",
        "no_such_user",
        "suspended",
        "wrong_password",
        "throttled",
        "revoked",
    }
    with session_scope(engine) as s:
        stored = [
            *s.scalars(select(User.password_hash).where(User.password_hash.is_not(None))),
            *s.scalars(select(AppPassword.password_hash)),
            *s.scalars(select(AppPassword.lookup_key)),
        ]
    typed = [plain, app_passwords.normalize(plain), scoped, guarded, PASSWORD, "wrong wrong wrong"]
    for outcome in outcomes:
        text = " ".join(str(v) for v in asdict(outcome).values())
        for secret in [*typed, *stored]:
            assert secret not in text, outcome


# --- the mail servers' tokens -------------------------------------------------------------


def test_a_token_is_shown_once_stored_hashed_and_refused_once_revoked(engine):
    with session_scope(engine, write=True) as s:
        new = mail_auth_tokens.create(s, actor=Actor.cli(), label="imap1")
    assert len(new.token) >= 43  # 32 random bytes, URL-safe base64
    with session_scope(engine) as s:
        row = s.scalars(select(MailAuthToken)).one()
        assert row.token_digest == token_digest(new.token) and new.token not in row.token_digest
        assert row.last_used_at is None
    with session_scope(engine, write=True) as s:
        assert mail_auth_tokens.token_ok(s, new.token)
        assert not mail_auth_tokens.token_ok(s, new.token + "x")
        assert not mail_auth_tokens.token_ok(s, "")
    with session_scope(engine, write=True) as s:
        mail_auth_tokens.revoke(s, actor=Actor.cli(), label="imap1")
    with session_scope(engine, write=True) as s:
        assert not mail_auth_tokens.token_ok(s, new.token)
        listed = mail_auth_tokens.list_tokens(s, actor=Actor.cli())
    assert [(t["label"], t["state"], t["created_by"]) for t in listed] == [("imap1", "revoked", "cli")]
    assert listed[0]["last_used_at"] is not None
    with pytest.raises(NotFound), session_scope(engine, write=True) as s:
        mail_auth_tokens.revoke(s, actor=Actor.cli(), label="imap1")
    with pytest.raises(Refused), session_scope(engine, write=True) as s:
        mail_auth_tokens.create(s, actor=Actor.cli(), label="imap1")
    with session_scope(engine) as s:
        actions = s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["mail_auth.token_created", "mail_auth.token_revoked"]


@pytest.mark.parametrize("role", ["analyst", "support", "account_manager"])
def test_only_an_administrator_manages_tokens(engine, role):
    with session_scope(engine, write=True) as s:
        admin = operator_actor(s, "root", "admin")
        other = operator_actor(s, f"op_{role}", role)
    with session_scope(engine, write=True) as s:
        mail_auth_tokens.create(s, actor=admin, label="smtp1")
    for call in (
        lambda s: mail_auth_tokens.create(s, actor=other, label="smtp2"),
        lambda s: mail_auth_tokens.list_tokens(s, actor=other),
        lambda s: mail_auth_tokens.revoke(s, actor=other, label="smtp1"),
    ):
        with pytest.raises(PermissionDenied), session_scope(engine, write=True) as s:
            call(s)
    with session_scope(engine) as s:
        assert [(t.label, t.revoked_at) for t in s.scalars(select(MailAuthToken))] == [("smtp1", None)]
