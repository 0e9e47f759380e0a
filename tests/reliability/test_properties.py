"""Property-based: any sequence of switch changes, enrolments, resets, self-disables,
app-password creations and revocations keeps the invariants of PRODUCT.md."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.access.permissions import Actor
from core.brands import switches
from core.mailboxes import app_passwords, mailbox_login, twofa
from core.mailboxes.effective_brand import effective_brand
from core.platform.db import get_engine, session_scope, upgrade_schema
from core.platform.errors import CoreError
from core.platform.models import AppPassword, User
from core.reporting.adoption import adoption_by_brand
from tests.conftest import _truncate
from tests.factories import PASSWORD, make_brand, make_domain, make_user, operator_actor

N_USERS = 4
SWITCHES = list(switches.SWITCHES)

ops = st.lists(
    st.one_of(
        st.tuples(st.just("switch"), st.integers(0, 1), st.sampled_from(SWITCHES), st.booleans()),
        st.tuples(
            st.sampled_from(["enroll", "reset", "self_disable", "create_ap", "revoke_ap"]),
            st.integers(0, N_USERS - 1),
        ),
    ),
    min_size=1,
    max_size=25,
)


@pytest.fixture(scope="module")
def prop_engine(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('props')}/props.db"
    upgrade_schema(url)
    return get_engine(url)


def _setup(engine) -> list[str]:
    _truncate(engine)
    with session_scope(engine, write=True) as s:
        b0 = make_brand(s, "P0", allow_2fa=True, allow_user_disable_2fa=True, allow_app_passwords=True)
        b1 = make_brand(s, "P1")
        d0, d1 = make_domain(s, b0, "p0.example.com"), make_domain(s, b1, "p1.example.com")
        return [make_user(s, d0 if i % 2 == 0 else d1, f"u{i}").email for i in range(N_USERS)]


def _apply(engine, emails: list[str], op: tuple, counter: list[int]) -> None:
    kind = op[0]
    try:
        with session_scope(engine, write=True) as s:
            if kind == "switch":
                _, b, field, value = op
                switches.set_switches(
                    s,
                    actor=operator_actor(s, "manager", "account_manager"),
                    name=f"P{b}",
                    change=switches.SwitchChange(**{field: value}),
                )
                return
            email = emails[op[1]]
            me = Actor.customer(email)
            if kind == "enroll":
                twofa.enroll(s, actor=me, email=email)
            elif kind == "reset":
                twofa.reset(s, actor=operator_actor(s, "support", "support"), email=email, reason="new phone")
            elif kind == "self_disable":
                twofa.self_disable(s, actor=me, email=email)
            elif kind == "create_ap":
                counter[0] += 1
                app_passwords.create(s, actor=me, email=email, label=f"Device {counter[0]}")
            elif kind == "revoke_ap":
                label = s.scalars(
                    select(AppPassword.label)
                    .join(User, User.id == AppPassword.user_id)
                    .where(User.email == email, AppPassword.revoked_at.is_(None))
                ).first()
                if label:
                    app_passwords.revoke(s, actor=me, email=email, label=label)
    except CoreError:
        pass  # a refusal by a rule is a fine outcome; the invariants must hold either way


def _check_invariants(engine, emails: list[str]) -> None:
    with session_scope(engine) as s:
        live = s.execute(
            select(AppPassword.user_id, func.count())
            .where(AppPassword.revoked_at.is_(None))
            .group_by(AppPassword.user_id)
        ).all()
        assert all(n <= 4 for _, n in live)
        expect: dict[str, list[int]] = {}
        for u in s.scalars(select(User)):
            b = effective_brand(s, u)
            assert (u.totp_secret is None) == (u.totp_enrolled_at is None)
            row = expect.setdefault(b.name, [0, 0, 0])
            row[0] += 1
            if u.totp_enrolled_at:
                row[1 if b.allow_2fa else 2] += 1
        got = {r["brand"]: [r["users"], r["users_2fa"], r["users_2fa_dormant"]] for r in adoption_by_brand(s)}
        assert got == expect
    for email in emails:
        with session_scope(engine, write=True) as s:
            outcome = mailbox_login.check_login(s, email=email, secret=PASSWORD)
            u = s.scalars(select(User).where(User.email == email)).one()
            asked = outcome.rule == "code_needed"
            # Asked for a code exactly when enrolled and the brand allows 2FA.
            assert asked == bool(u.totp_secret and effective_brand(s, u).allow_2fa)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=ops)
def test_any_sequence_keeps_the_invariants(prop_engine, sequence):
    emails = _setup(prop_engine)
    counter = [0]
    for op in sequence:
        _apply(prop_engine, emails, op, counter)
    _check_invariants(prop_engine, emails)
