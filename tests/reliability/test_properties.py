"""Property-based: any sequence of switch changes, enrolments, resets, self-disables,
app-password creations and revocations keeps the invariants of PRODUCT.md.

The oracle is a model the test keeps by itself (``Model``), never core's own functions."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.access.permissions import Actor
from core.brands import switches
from core.mailboxes import app_passwords, mailbox_login, twofa
from core.platform.db import get_engine, session_scope, upgrade_schema
from core.platform.errors import CoreError
from core.platform.models import AppPassword, User
from core.reporting.adoption import adoption_by_brand
from tests.conftest import _truncate
from tests.factories import PASSWORD, make_brand, make_domain, make_user, operator_actor

N_USERS = 4
SWITCHES = list(switches.SWITCHES)

switch_op = st.tuples(st.just("switch"), st.integers(0, 1), st.sampled_from(SWITCHES), st.booleans())
user_op = st.tuples(
    st.sampled_from(["enroll", "reset", "self_disable", "create_ap", "revoke_ap"]),
    st.integers(0, N_USERS - 1),
)
# A switch flip in four steps: the users' steps have states to act on between flips.
ops = st.lists(st.one_of(switch_op, user_op, user_op, user_op), min_size=10, max_size=30)
# Run first, always: each kind of step lands at least once.
EVERY_KIND_LANDS = [
    ("enroll", 0),
    ("self_disable", 0),
    ("enroll", 0),
    ("reset", 0),
    ("create_ap", 2),
    ("create_ap", 2),
    ("revoke_ap", 2),
    ("switch", 1, "allow_2fa", True),
    ("enroll", 1),
    ("switch", 1, "allow_2fa", False),
]


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


class Model:
    """What the rules of PRODUCT.md say the state is, kept by the test alone: the two brands'
    switches and, per user, whether enrolled and how many live app passwords. User i's
    effective brand is P(i % 2): its domain's company brand, as ``_setup`` makes it."""

    def __init__(self) -> None:
        on = dict.fromkeys(SWITCHES, True)
        self.brands = [on, dict.fromkeys(SWITCHES, False)]
        self.enrolled = [False] * N_USERS
        self.live = [0] * N_USERS

    def brand(self, user: int) -> dict[str, bool]:
        return self.brands[user % 2]

    def lands(self, op: tuple) -> bool:
        """Whether ``op`` changes anything; every other step is refused or changes nothing."""
        if op[0] == "switch":
            _, b, field, value = op
            return self.brands[b][field] != value
        kind, i = op
        brand = self.brand(i)
        return {
            "enroll": brand["allow_2fa"] and not self.enrolled[i],
            "reset": self.enrolled[i],
            "self_disable": brand["allow_2fa"] and brand["allow_user_disable_2fa"] and self.enrolled[i],
            "create_ap": brand["allow_app_passwords"] and self.live[i] < 4,
            "revoke_ap": self.live[i] > 0,
        }[kind]

    def apply(self, op: tuple) -> None:
        if op[0] == "switch":
            _, b, field, value = op
            self.brands[b][field] = value
            return
        kind, i = op
        if kind in ("enroll", "reset", "self_disable"):
            self.enrolled[i] = kind == "enroll"
        else:
            self.live[i] += 1 if kind == "create_ap" else -1

    def adoption(self) -> dict[str, list[int]]:
        """Per brand: users, asked for a code, dormant, users with working app passwords, those passwords."""
        out = {f"P{b}": [0, 0, 0, 0, 0] for b in range(2)}
        for i in range(N_USERS):
            brand, row = self.brand(i), out[f"P{i % 2}"]
            row[0] += 1
            if self.enrolled[i]:
                row[1 if brand["allow_2fa"] else 2] += 1
            if self.live[i] and brand["allow_app_passwords"]:
                row[3] += 1
                row[4] += self.live[i]
        return out


def _apply(engine, emails: list[str], op: tuple, counter: list[int]) -> bool:
    """Run ``op`` through core; True when it changed something, False when it was refused."""
    kind = op[0]
    try:
        with session_scope(engine, write=True) as s:
            if kind == "switch":
                _, b, field, value = op
                impact = switches.set_switches(
                    s,
                    actor=operator_actor(s, "manager", "account_manager"),
                    name=f"P{b}",
                    change=switches.SwitchChange(**{field: value}),
                )
                return impact.changed
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
                if label is None:
                    return False
                app_passwords.revoke(s, actor=me, email=email, label=label)
            return True
    except CoreError:
        return False


def _check_invariants(engine, emails: list[str], model: Model) -> None:
    with session_scope(engine) as s:
        rows = {
            u.email: u
            for u in s.scalars(select(User))  # every user, read straight from the table
        }
        live = dict(
            s.execute(
                select(User.email, func.count(AppPassword.id))
                .outerjoin(AppPassword, (AppPassword.user_id == User.id) & AppPassword.revoked_at.is_(None))
                .group_by(User.email)
            ).all()
        )
        for i, email in enumerate(emails):
            u = rows[email]
            assert (u.totp_secret is None) == (u.totp_enrolled_at is None)
            assert (u.totp_secret is not None, live[email]) == (model.enrolled[i], model.live[i])
        got = {
            r["brand"]: [
                r["users"],
                r["users_2fa"],
                r["users_2fa_dormant"],
                r["users_app_passwords"],
                r["app_passwords"],
            ]
            for r in adoption_by_brand(s)
        }
        assert got == model.adoption()
    for i, email in enumerate(emails):
        with session_scope(engine, write=True) as s:
            outcome = mailbox_login.check_login(s, email=email, secret=PASSWORD)
        # Asked for a code exactly when enrolled and the brand allows 2FA.
        assert (outcome.rule == "code_needed") == (model.enrolled[i] and model.brand(i)["allow_2fa"])


def test_any_sequence_keeps_the_invariants(prop_engine):
    """Each step lands exactly when the rules say it may (a refusal that the rules do not
    call for fails the test), the state then matches the model, and most steps land."""
    tally: Counter[str] = Counter()

    @settings(max_examples=20, deadline=None)
    @given(sequence=ops)
    @example(sequence=EVERY_KIND_LANDS)
    def run(sequence: list[tuple]) -> None:
        emails = _setup(prop_engine)
        model, counter = Model(), [0]
        for op in sequence:
            expected = model.lands(op)
            assert _apply(prop_engine, emails, op, counter) == expected, op
            if expected:
                model.apply(op)
                tally[op[0]] += 1
            tally["steps"] += 1
        _check_invariants(prop_engine, emails, model)

    run()
    landed = sum(n for kind, n in tally.items() if kind != "steps")
    assert landed >= tally["steps"] // 5, tally
    assert {"switch", "enroll", "reset", "self_disable", "create_ap", "revoke_ap"} <= set(tally), tally
