"""The mail servers' side of the dashboard: the Operators page's tokens, and a user's mail sign-ins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from core.access import mail_auth_tokens
from core.mailboxes import mail_auth
from core.platform.crypto import token_digest
from core.platform.db import session_scope
from core.platform.models import AuditEvent, Domain, MailAuthToken, Operator, SecurityEvent, utcnow
from tests.app_pages.conftest import ROOT, frame, read, sign_in, texts
from tests.factories import make_app_password, make_user, operator_actor


@pytest.fixture
def ann(engine: Engine, basic: dict) -> str:
    """ann of Alpha Mail: one app password used over IMAP, one for SMTP only and never used."""
    with session_scope(engine, write=True) as s:
        alpha = s.scalars(select(Domain).where(Domain.name == basic["d_on"])).one()
        user = make_user(s, alpha, "ann")
        phone = make_app_password(s, user, "iPhone Mail")
        phone.last_used_at = utcnow().replace(hour=14, minute=2, second=0, microsecond=0) - timedelta(days=1)
        phone.last_used_protocol, phone.last_used_ip = "imap", "203.0.113.9"
        make_app_password(s, user, "Printer").protocols = "smtp"
        return user.email


def _token(engine: Engine, label: str) -> MailAuthToken:
    with session_scope(engine) as s:
        return s.scalars(select(MailAuthToken).where(MailAuthToken.label == label)).one()


def _create(at, label: str):
    at.text_input("operators_token_label").input(label)
    return at.button(key="FormSubmitter:operators_token_add-Create a token").click().run()


# --- the tokens ------------------------------------------------------------------------------


def test_the_admin_sees_every_token_with_its_state(open_page, engine, basic):
    with session_scope(engine, write=True) as s:
        admin = operator_actor(s, "admin", "admin")
        mail_auth_tokens.create(s, actor=admin, label="imap1")
        mail_auth_tokens.create(s, actor=admin, label="imap2")
        mail_auth_tokens.revoke(s, actor=admin, label="imap1")
    at = open_page("operators", as_="admin")
    assert not at.exception
    assert "Mail servers" in [h.value for h in at.subheader]
    tokens = frame(at, "created_by")
    assert tokens[["label", "state", "created_by"]].values.tolist() == [
        ["imap1", "revoked", "admin"],
        ["imap2", "live", "admin"],
    ]
    assert at.selectbox("operators_token_revoke_label").options == ["imap2"]  # only live ones


@pytest.mark.parametrize("role", ["support", "manager", "analyst"])
def test_other_roles_do_not_see_the_mail_servers(open_page, engine, basic, role):
    at = open_page(as_=role)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/operators.py")  # not in their navigation
    page = AppTest.from_file(str(ROOT / "app_pages" / "operators.py"), default_timeout=60)
    page.session_state["auth_token"] = sign_in(engine, role)
    page.run()  # the script itself, reached without the navigation
    assert not page.exception
    assert "may not open this page" in texts(page)
    assert "Mail servers" not in [h.value for h in page.subheader]
    assert not page.text_input and not page.dataframe


def test_a_created_token_is_shown_once_and_works(open_page, engine, basic):
    at = _create(open_page("operators", as_="admin"), "imap1")
    assert not at.exception
    assert (
        "Made the token “imap1”. Put it in the mail server's token file now: it is not shown again."
        in texts(at)
    )
    token = at.code[0].value
    assert _token(engine, "imap1").token_digest == token_digest(token)
    with session_scope(engine, write=True) as s:
        assert mail_auth_tokens.token_ok(s, token)
    assert frame(at, "created_by")["label"].tolist() == ["imap1"]
    assert at.text_input("operators_token_label").value == ""
    at.run()
    assert not at.code  # shown only once
    assert token not in texts(at)


def test_a_refused_label_is_said_and_makes_nothing(open_page, engine, basic):
    at = _create(open_page("operators", as_="admin"), "imap1")
    at = _create(at, "imap1")
    assert not at.code
    assert "A mail-server token labelled 'imap1' exists already (labels are never reused)." in [
        read(e.value) for e in at.error
    ]
    with session_scope(engine) as s:
        assert len(s.scalars(select(MailAuthToken)).all()) == 1


def test_revoke_asks_first_then_revokes(open_page, engine, basic):
    with session_scope(engine, write=True) as s:
        admin = operator_actor(s, "admin", "admin")
        kept = mail_auth_tokens.create(s, actor=admin, label="imap1").token
        gone = mail_auth_tokens.create(s, actor=admin, label="imap2").token
    at = open_page("operators", as_="admin")
    at.selectbox("operators_token_revoke_label").select("imap2")
    at.button("operators_token_revoke_open").click().run()
    assert "Revoke the token “imap2”?" in texts(at)
    at.button("operators_token_revoke_cancel").click().run()
    assert _token(engine, "imap2").revoked_at is None
    at.button("operators_token_revoke_open").click().run()
    at.button("operators_token_revoke_confirm").click().run()
    assert not at.exception
    assert "Revoked the mail-server token “imap2”." in texts(at)
    assert frame(at, "created_by")[["label", "state"]].values.tolist() == [
        ["imap1", "live"],
        ["imap2", "revoked"],
    ]
    with session_scope(engine, write=True) as s:
        assert not mail_auth_tokens.token_ok(s, gone)
        assert mail_auth_tokens.token_ok(s, kept)
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.actor == "admin")).all()
    assert actions.count("mail_auth.token_revoked") == 1


def test_a_write_of_a_demoted_admin_is_refused(open_page, engine, basic):
    at = open_page("operators", as_="admin")
    with session_scope(engine, write=True) as s:  # demoted in another tab, after the page was drawn
        s.scalars(select(Operator).where(Operator.username == "admin")).one().role = "support"
    at = _create(at, "imap1")
    assert not at.code
    assert "Made the token" not in texts(at)
    assert "Mail servers" not in [h.value for h in at.subheader]
    with session_scope(engine) as s:
        assert s.scalars(select(MailAuthToken)).all() == []


# --- a user's mail sign-ins ------------------------------------------------------------------


def test_each_app_password_shows_its_protocols_and_last_use(open_page, ann):
    at = open_page("users", user=ann)
    assert not at.exception
    aps = frame(at, "protocols").set_index("label")
    assert aps.loc["iPhone Mail", "protocols"] == "IMAP, POP3, SMTP, ManageSieve, DAV"
    assert aps.loc["Printer", "protocols"] == "SMTP"
    assert aps.loc["iPhone Mail", "last_use"].endswith(" 14:02 UTC · IMAP · 203.0.113.9")
    assert aps.loc["Printer", "last_use"] == "never"
    assert "failed mail sign-in" not in texts(at)


def test_a_burst_of_failed_mail_sign_ins_is_visible(open_page, engine, ann):
    # The mailbox's throttle stops counting after five: the seven guesses after are refused unread.
    with session_scope(engine, write=True) as s:
        for _ in range(12):
            outcome = mail_auth.check(s, user=ann, password="wrong", protocol="imap", remote_ip="203.0.113.9")
            assert outcome.rule in ("wrong_password", "throttled")
        last = s.scalars(select(SecurityEvent.at).order_by(SecurityEvent.at.desc())).first()
    at = open_page("users", user=ann)
    assert not at.exception
    assert f"5 failed mail sign-ins in the last 24 hours, the last at {last:%Y-%m-%d %H:%M} UTC" in texts(at)
