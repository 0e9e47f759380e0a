"""Mailbox rules: effective brand, 2FA reset, app passwords (cap of four), login checks,
imports that are all or none, and adoption figures against an independent count."""

from __future__ import annotations

import random
import threading
import time

import pyotp
import pytest
from sqlalchemy import func, select

from core.access.permissions import Actor
from core.mailboxes import app_passwords, mailbox_login, twofa, users
from core.mailboxes.effective_brand import effective_brand, join_effective_brand
from core.mailboxes.state import TWOFA_STATES, twofa_state, twofa_state_is, twofa_state_sql
from core.platform.db import session_scope
from core.platform.errors import BadInput, PermissionDenied, Refused
from core.platform.models import (
    AppPassword,
    AuditEvent,
    Notification,
    SecurityEvent,
    User,
)
from core.reporting.adoption import AdoptionFilter, adoption_by_brand, adoption_by_domain
from core.reporting.search import search_users
from core.reporting.search_query import UserSearch
from tests.factories import PASSWORD, make_app_password, make_brand, make_domain, make_user, setup_basic

SUPPORT = Actor(name="support", role="support")


def test_effective_brand_is_user_then_domain_then_company(engine):
    with session_scope(engine, write=True) as s:
        company_b, domain_b, user_b = make_brand(s, "C"), make_brand(s, "D"), make_brand(s, "U")
        plain = make_domain(s, company_b, "plain.example.com")
        own = make_domain(s, company_b, "own.example.com", domain_brand=domain_b)
        u1 = make_user(s, plain, "a")
        u2 = make_user(s, own, "b")
        u3 = make_user(s, own, "c", brand=user_b)
        got = [effective_brand(s, u).name for u in (u1, u2, u3)]
    assert got == ["C", "D", "U"]
    with session_scope(engine) as s:
        rows = {r["brand"]: r["users"] for r in adoption_by_brand(s)}
    assert rows == {"C": 1, "D": 1, "U": 1}


def test_twofa_state_in_sql_and_python_agrees_with_the_rule(engine):
    """on / dormant / off as the SQL column, the SQL filter and the Python function give it,
    against the rule written out: enrolled, and the effective brand allows 2FA."""
    with session_scope(engine, write=True) as s:
        allows, forbids = make_brand(s, "Allows", allow_2fa=True), make_brand(s, "Forbids")
        d = make_domain(s, allows, "mixed.example.com")
        made = {
            make_user(s, d, "on", twofa=True).email: ("on", "company"),
            make_user(s, d, "off").email: ("off", "company"),
            make_user(s, d, "dormant", twofa=True, brand=forbids).email: ("dormant", "user"),
            make_user(s, d, "off2", brand=forbids).email: ("off", "user"),
        }
    want = {email: state for email, (state, _source) in made.items()}
    with session_scope(engine) as s:
        users_and_brand = join_effective_brand(select(User.email, twofa_state_sql()).select_from(User))
        assert dict(s.execute(users_and_brand).all()) == want
        for state in TWOFA_STATES:
            got = set(s.scalars(users_and_brand.with_only_columns(User.email).where(twofa_state_is(state))))
            assert got == {email for email, w in want.items() if w == state}, state
        for email, (state, source) in made.items():
            u = users.get_user(s, email)
            assert twofa_state(u.totp_enrolled_at is not None, effective_brand(s, u).allow_2fa) == state
            detail = users.user_detail(s, email)
            assert (detail["twofa"], detail["brand_source"]) == (state, source)


def test_reset_removes_secret_and_writes_audit_notification_event_together(engine):
    base = setup_basic(engine)
    with session_scope(engine, write=True) as s:
        u = make_user(
            s, s.scalars(select(users.Domain).where(users.Domain.name == base["d_on"])).one(), twofa=True
        )
        email = u.email
    with session_scope(engine, write=True) as s:
        result = twofa.reset(s, actor=SUPPORT, email=email, reason="Lost phone")
    assert result.reason == "lost phone" and email in result.notification_body
    with session_scope(engine) as s:
        u = users.get_user(s, email)
        assert u.totp_secret is None and u.totp_enrolled_at is None
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "user.2fa_reset")).one()
        assert ev.actor == "support" and ev.reason == "lost phone" and ev.user_id == u.id
        note = s.scalars(select(Notification)).one()
        assert note.recipient == email and note.status == "pending" and note.body == result.notification_body
        assert s.scalars(select(SecurityEvent.kind)).all() == ["2fa_reset"]
        # No secret in the audit log.
        assert "totp_secret" not in str(ev.before) and "gAAAA" not in str(ev.before)


def test_reset_refused_for_roles_and_for_unenrolled(engine):
    base = setup_basic(engine)
    with session_scope(engine, write=True) as s:
        dom = s.scalars(select(users.Domain).where(users.Domain.name == base["d_on"])).one()
        enrolled, plain = make_user(s, dom, twofa=True).email, make_user(s, dom).email
    with pytest.raises(PermissionDenied, match="analyst"), session_scope(engine, write=True) as s:
        twofa.reset(s, actor=Actor(name="analyst", role="analyst"), email=enrolled, reason="lost phone")
    with pytest.raises(Refused, match="not enrolled"), session_scope(engine, write=True) as s:
        twofa.reset(s, actor=SUPPORT, email=plain, reason="lost phone")
    with pytest.raises(BadInput), session_scope(engine, write=True) as s:
        twofa.reset(s, actor=SUPPORT, email=enrolled, reason="   ")
    with session_scope(engine) as s:
        assert users.get_user(s, enrolled).totp_secret is not None
        assert s.scalar(select(func.count()).select_from(Notification)) == 0


def _user_in(engine, domain_name: str, **kw) -> str:
    with session_scope(engine, write=True) as s:
        dom = s.scalars(select(users.Domain).where(users.Domain.name == domain_name)).one()
        return make_user(s, dom, **kw).email


def test_app_password_cap_of_four_and_format(engine):
    base = setup_basic(engine)
    email = _user_in(engine, base["d_on"])
    me = Actor.customer(email)
    created = []
    for label in ("iPhone Mail", "iPad Mail", "Laptop", "Desktop"):
        with session_scope(engine, write=True) as s:
            created.append(app_passwords.create(s, actor=me, email=email, label=label).password)
    assert all(len(p) == 19 and p.replace(" ", "").isalpha() and p.islower() for p in created)
    assert all([len(g) for g in p.split(" ")] == [4, 4, 4, 4] for p in created)
    with pytest.raises(Refused, match="already has 4 app passwords"), session_scope(engine, write=True) as s:
        app_passwords.create(s, actor=me, email=email, label="Fifth")
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(AppPassword)) == 4
        # Only hashes are stored.
        assert not any(
            p.replace(" ", "") in h for p in created for h in s.scalars(select(AppPassword.password_hash))
        )


def test_app_password_cap_holds_under_concurrent_requests(engine):
    base = setup_basic(engine)
    email = _user_in(engine, base["d_on"])
    outcomes: list[str] = []
    barrier = threading.Barrier(12)

    def worker(i: int) -> None:
        barrier.wait()
        try:
            with session_scope(engine, write=True) as s:
                app_passwords.create(s, actor=Actor.customer(email), email=email, label=f"Device {i}")
            outcomes.append("ok")
        except Refused:
            outcomes.append("refused")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 4 and outcomes.count("refused") == 8
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(AppPassword)) == 4


def test_revoke_one_leaves_the_others(engine):
    base = setup_basic(engine)
    with session_scope(engine, write=True) as s:
        dom = s.scalars(select(users.Domain).where(users.Domain.name == base["d_on"])).one()
        u = make_user(s, dom)
        for label in ("A", "B", "C"):
            make_app_password(s, u, label)
        email = u.email
    with session_scope(engine, write=True) as s:
        app_passwords.revoke(s, actor=SUPPORT, email=email, label="B")
    with session_scope(engine) as s:
        states = {a["label"]: a["state"] for a in users.user_detail(s, email)["app_passwords"]}
    assert states == {"A": "active", "B": "revoked", "C": "active"}


def test_app_passwords_suspended_while_brand_disallows(engine):
    base = setup_basic(engine)
    with session_scope(engine, write=True) as s:
        dom = s.scalars(select(users.Domain).where(users.Domain.name == base["d_off"])).one()
        u = make_user(s, dom)
        make_app_password(s, u, "Phone")
        email = u.email
    with session_scope(engine) as s:
        assert users.user_detail(s, email)["app_passwords"][0]["state"] == "suspended"
    with session_scope(engine, write=True) as s:
        out = mailbox_login.check_login(s, email=email, secret=PASSWORD, app_password=True)
    assert out.rule == "app_passwords_not_allowed"
    with pytest.raises(Refused, match="does not allow app passwords"), session_scope(engine, write=True) as s:
        app_passwords.create(s, actor=Actor.customer(email), email=email, label="New")


def _login(engine, email, secret=PASSWORD, **kw):
    with session_scope(engine, write=True) as s:
        return mailbox_login.check_login(s, email=email, secret=secret, **kw)


def test_login_password_then_code_replay_and_drift(engine):
    base = setup_basic(engine)
    secret = pyotp.random_base32()
    email = _user_in(engine, base["d_on"], twofa=True, secret=secret)
    totp = pyotp.TOTP(secret)
    now = time.time()
    assert _login(engine, email, "wrong").rule == "wrong_password"
    assert _login(engine, email).rule == "code_needed"
    assert _login(engine, email, code="12ab56").rule == "code_malformed"
    assert _login(engine, email, code=totp.at(now - 30), now=now).ok  # one step of drift back
    assert _login(engine, email, code=totp.at(now - 30), now=now).rule == "code_reused"
    assert _login(engine, email, code=totp.at(now), now=now).ok
    assert _login(engine, email, code=totp.at(now + 30), now=now).ok  # one step ahead
    assert _login(engine, email, code=totp.at(now + 90), now=now).rule == "code_wrong"


def test_dormant_enrolment_needs_no_code(engine):
    base = setup_basic(engine)
    email = _user_in(engine, base["d_off"], twofa=True)
    assert _login(engine, email).ok


def test_sixth_attempt_is_throttled_even_with_the_right_password(engine):
    base = setup_basic(engine)
    email = _user_in(engine, base["d_on"])
    for _ in range(5):
        assert _login(engine, email, "nope").rule == "wrong_password"
    out = _login(engine, email)
    assert out.rule == "throttled" and "UTC" in out.message


def test_suspended_mailbox_is_refused(engine):
    base = setup_basic(engine)
    email = _user_in(engine, base["d_on"], status="suspended")
    assert _login(engine, email).rule == "suspended"


def test_app_password_login_with_or_without_separators_never_asks_for_code(engine):
    base = setup_basic(engine)
    email = _user_in(engine, base["d_on"], twofa=True)
    with session_scope(engine, write=True) as s:
        new = app_passwords.create(s, actor=Actor.customer(email), email=email, label="Thunderbird")
    assert _login(engine, email, new.password, app_password=True).ok
    assert _login(engine, email, new.password.replace(" ", ""), app_password=True).ok
    assert _login(engine, email, "aaaa bbbb cccc dddd", app_password=True).rule == "wrong_app_password"
    with session_scope(engine, write=True) as s:
        app_passwords.revoke(s, actor=Actor.customer(email), email=email, label="Thunderbird")
    assert _login(engine, email, new.password, app_password=True).rule == "wrong_app_password"


def test_import_is_all_or_none_with_line_and_column(engine):
    base = setup_basic(engine)
    bad = (
        "email,display_name,status,brand\n"
        f"ok1@{base['d_on']},One,active,\n"
        "not-an-address,Two,active,\n"
        f"ok3@nowhere.example.org,Three,active,\n"
        f"ok1@{base['d_on']},Dup,active,\n"
        f"ok5@{base['d_on']},Five,active,No Such Brand\n"
        f"ok6@{base['d_on']},Six,sleeping,\n"
    )
    with pytest.raises(BadInput) as err, session_scope(engine, write=True) as s:
        users.import_users(s, actor=Actor.cli(), source=bad, name="users.csv")
    problems = err.value.problems
    assert "line 3, column email" in problems[0]
    assert any("line 4, column email: unknown domain" in p for p in problems)
    assert any("line 5, column email: duplicate of line 2" in p for p in problems)
    assert any("line 6, column brand: unknown brand" in p for p in problems)
    assert any("line 7, column status" in p for p in problems)
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(User)) == 0
    good = (
        "email,display_name,status\n"
        f"New1@{base['d_on']},New One,active\n"
        f"new2@{base['d_off']},New Two,suspended\n"
    )
    with session_scope(engine, write=True) as s:
        assert users.import_users(s, actor=Actor.cli(), source=good).rows == 2
    with session_scope(engine) as s:
        assert users.get_user(s, f"new1@{base['d_on']}").display_name == "New One"


def test_adoption_matches_an_independent_count(engine):
    """The expected figures are counted from what the test makes, as it makes it: the effective
    brand is the user's own, else the domain's, else the company's (PRODUCT.md)."""
    rnd = random.Random(5)
    switches = {"On": (True, True), "Off": (False, False)}  # (allow_2fa, allow_app_passwords)
    expect: dict[str, dict] = {"On": _zero(), "Off": _zero()}
    with session_scope(engine, write=True) as s:
        on = make_brand(s, "On", allow_2fa=True, allow_app_passwords=True)
        off = make_brand(s, "Off")
        # (domain, the brand its users get without their own): company, then domain override.
        domains = [
            (make_domain(s, on, "one.example.com"), "On"),
            (make_domain(s, off, "two.example.com"), "Off"),
            (make_domain(s, off, "three.example.com", domain_brand=on), "On"),
            (make_domain(s, on, "four.example.com", domain_brand=off), "Off"),
        ]
        for i in range(80):
            dom, inherited = domains[i % len(domains)]
            own = (on, "On") if i % 13 == 0 else (off, "Off") if i % 11 == 0 else (None, None)
            enrolled = rnd.random() < 0.5
            active = rnd.random() >= 0.1
            u = make_user(s, dom, twofa=enrolled, status="active" if active else "suspended", brand=own[0])
            revoked = [rnd.random() < 0.2 for _ in range(rnd.randint(0, 3))]
            for k, gone in enumerate(revoked):
                make_app_password(s, u, f"L{k}", revoked=gone)
            if not active:
                continue
            brand = own[1] or inherited
            allow_2fa, allow_ap = switches[brand]
            live = revoked.count(False)
            e = expect[brand]
            e["users"] += 1
            if enrolled:
                e["users_2fa" if allow_2fa else "users_2fa_dormant"] += 1
            if live and allow_ap:
                e["users_app_passwords"] += 1
                e["app_passwords"] += live
    assert all(e["users"] and e["users_2fa"] + e["users_2fa_dormant"] for e in expect.values())
    assert expect["On"]["users_app_passwords"]
    with session_scope(engine) as s:
        got = {r["brand"]: r for r in adoption_by_brand(s)}
        by_domain = {r["domain"]: r for r in adoption_by_domain(s)}
    for name, e in expect.items():
        assert {k: got[name][k] for k in e} == e
        assert got[name]["pct_2fa"] == round(100 * e["users_2fa"] / e["users"], 1)
    assert sum(r["users"] for r in by_domain.values()) == sum(e["users"] for e in expect.values())
    assert sum(r["users_2fa"] for r in by_domain.values()) == sum(e["users_2fa"] for e in expect.values())
    for figure in ("users_2fa_dormant", "users_app_passwords", "app_passwords"):
        assert sum(r[figure] for r in by_domain.values()) == sum(e[figure] for e in expect.values()), figure
    with session_scope(engine) as s:
        assert adoption_by_brand(s, AdoptionFilter(brand="on"))[0]["brand"] == "On"


def _zero() -> dict:
    return {"users": 0, "users_2fa": 0, "users_2fa_dormant": 0, "users_app_passwords": 0, "app_passwords": 0}


@pytest.mark.parametrize("text", ["%", "_", "' OR 1=1 --", "x" * 10_000, "😀", "ab\x00c", "Ωmega"])
def test_search_with_hostile_text_gives_an_answer(engine, text):
    base = setup_basic(engine)
    _user_in(engine, base["d_on"], local="plain")
    with session_scope(engine) as s:
        assert search_users(s, UserSearch(text=text)) == []


def test_search_fragment_and_keyset_pages(engine):
    base = setup_basic(engine)
    with session_scope(engine, write=True) as s:
        dom = s.scalars(select(users.Domain).where(users.Domain.name == base["d_on"])).one()
        for i in range(7):
            make_user(s, dom, f"anna.{i}")
        make_user(s, dom, "bob")
    with session_scope(engine) as s:
        first = search_users(s, UserSearch(text="NNA."), limit=4)
        second = search_users(s, UserSearch(text="nna."), limit=4, after_email=first[-1]["email"])
    emails = [r["email"] for r in first + second]
    assert len(emails) == 7 and emails == sorted(emails) and all("anna." in e for e in emails)
