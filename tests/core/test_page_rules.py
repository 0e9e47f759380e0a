"""The rules the pages used to hold, now core's: a page only shows what these return.

The "other" reason of a 2FA reset and its text, who may drive the Branding preview, the
operator's one-time password, how the brand switches combine, the month report's window
(the page, the command line and the notebook all take core's default), and what each role
may do in words (held to the permission table).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from core.access import operators
from core.access.permissions import PERMISSIONS, ROLE_SUMMARIES, Actor
from core.brands import preview_mailbox, switches
from core.brands.switches import SWITCHES, SwitchChange
from core.mailboxes import twofa
from core.platform.crypto import verify_password
from core.platform.db import session_scope
from core.platform.errors import BadInput, PermissionDenied
from core.platform.models import RESET_REASONS, ROLES, AuditEvent, Brand, Domain, Operator, User
from core.reporting import history
from core.reporting.exports import files, frames
from tests.factories import make_user, operator_actor, setup_basic

EMAIL = "lost@alpha.example.com"
NOW = 1_800_000_000.0


@pytest.fixture
def world(engine: Engine) -> dict:
    base = setup_basic(engine)
    with session_scope(engine, write=True) as s:
        d = s.scalars(select(Domain).where(Domain.name == base["d_on"])).one()
        make_user(s, d, "lost", twofa=True)
    return base


def _actor(engine: Engine, username: str, role: str) -> Actor:
    with session_scope(engine, write=True) as s:
        return operator_actor(s, username, role)


# --- 1. a 2FA reset's reason ------------------------------------------------------------------


@pytest.mark.parametrize("reason", [r for r in RESET_REASONS if r != twofa.OTHER])
def test_a_listed_reason_is_kept_as_it_is_whatever_the_other_text(reason):
    assert twofa.clean_reason(reason.upper(), "ignored") == reason


def test_other_is_recorded_with_its_text():
    assert twofa.clean_reason("other", "  courier   lost it ") == "other: courier lost it"
    assert twofa.clean_reason("Other: courier lost it") == "other: courier lost it"
    assert twofa.clean_reason("courier lost it") == "other: courier lost it"  # the command line's --reason


@pytest.mark.parametrize(
    ("reason", "other"), [("other", ""), ("other", " \t "), ("other:", ""), ("OTHER", "")]
)
def test_other_without_its_text_is_refused(reason, other):
    with pytest.raises(BadInput, match=twofa.OTHER_NEEDS_TEXT):
        twofa.clean_reason(reason, other)


def test_a_reset_with_a_blank_other_changes_nothing_and_one_with_its_text_records_it(engine, world):
    support = _actor(engine, "support", "support")
    with pytest.raises(BadInput, match=twofa.OTHER_NEEDS_TEXT), session_scope(engine, write=True) as s:
        twofa.reset(s, actor=support, email=EMAIL, reason="other", other="  ")
    with session_scope(engine) as s:
        assert s.scalars(select(User).where(User.email == EMAIL)).one().totp_secret is not None
    with session_scope(engine, write=True) as s:
        result = twofa.reset(s, actor=support, email=EMAIL, reason="other", other="phone in the sea")
    assert result.reason == "other: phone in the sea"
    assert "(reason: other: phone in the sea)" in result.notification_body
    with session_scope(engine) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "user.2fa_reset")).one()
    assert event.reason == "other: phone in the sea"


# --- 2. who may drive the Branding preview --------------------------------------------------


@pytest.mark.parametrize(
    ("username", "role", "may"),
    [
        ("admin", "admin", True),
        ("manager", "account_manager", True),
        ("support", "support", False),
        ("analyst", "analyst", False),
    ],
)
def test_only_the_roles_that_work_on_a_brands_look_drive_its_preview(engine, world, username, role, may):
    actor = _actor(engine, username, role)
    with session_scope(engine) as s:
        mailbox = preview_mailbox.preview_mailbox(s, brand=world["on"])
    code = preview_mailbox.current_code(mailbox, now=NOW)
    assert actor.can(preview_mailbox.DRIVE) is may  # what the page shows: Verify enabled or not
    if may:
        assert preview_mailbox.drive(mailbox, actor=actor, code=code, now=NOW).ok
    else:
        with pytest.raises(PermissionDenied, match="drive a brand's login preview"):
            preview_mailbox.drive(mailbox, actor=actor, code=code, now=NOW)


# --- 3. the operator's one-time password ----------------------------------------------------


def test_an_invited_operator_gets_a_fresh_one_time_password_only_its_hash_is_stored(engine, world):
    admin = _actor(engine, "admin", "admin")
    with session_scope(engine, write=True) as s:
        first = operators.invite_operator(s, actor=admin, username="Jdoe", role="support", display_name="J")
        second = operators.invite_operator(s, actor=admin, username="kdoe", role="analyst")
    assert (first.username, first.role) == ("jdoe", "support")
    assert len(first.password) >= 20 and first.password != second.password
    assert first.password not in repr(first)
    with session_scope(engine) as s:
        op = s.scalars(select(Operator).where(Operator.username == "jdoe")).one()
        events = s.scalars(select(AuditEvent).where(AuditEvent.object_key == "jdoe")).all()
    assert op.password_hash != first.password and verify_password(op.password_hash, first.password)
    assert not verify_password(op.password_hash, second.password)
    assert [e.action for e in events] == ["operator.created"]
    assert all(first.password not in str(v) for e in events for v in (e.before, e.after, e.reason))


def test_only_an_administrator_invites(engine, world):
    manager = _actor(engine, "manager", "account_manager")
    with pytest.raises(PermissionDenied), session_scope(engine, write=True) as s:
        operators.invite_operator(s, actor=manager, username="jdoe", role="admin")
    with session_scope(engine) as s:
        assert s.scalars(select(Operator).where(Operator.username == "jdoe")).first() is None


# --- 4. how the switches combine ------------------------------------------------------------

ALL_ON = dict.fromkeys(SWITCHES, True)
ALL_OFF = dict.fromkeys(SWITCHES, False)


def test_letting_users_disable_2fa_means_nothing_while_2fa_is_off():
    assert switches.inert_switches(ALL_ON) == {}
    why = switches.inert_switches({**ALL_ON, "allow_2fa": False})
    assert list(why) == ["allow_user_disable_2fa"]
    assert "2FA is off" in why["allow_user_disable_2fa"]
    assert switches.SWITCH_LABELS["allow_2fa"] in why["allow_user_disable_2fa"]


def test_a_forms_change_sets_only_what_differs_and_leaves_a_switch_that_means_nothing():
    assert switches.form_change(ALL_OFF, ALL_OFF) == SwitchChange()
    assert switches.form_change(ALL_OFF, {**ALL_OFF, "allow_app_passwords": True}) == SwitchChange(
        allow_app_passwords=True
    )
    # 2FA turned on with users allowed to disable it: both are set.
    assert switches.form_change(ALL_OFF, {**ALL_OFF, "allow_2fa": True, "allow_user_disable_2fa": True}) == (
        SwitchChange(allow_2fa=True, allow_user_disable_2fa=True)
    )
    # 2FA turned off: "users may disable" stays as stored, whatever its toggle shows.
    for toggle in (True, False):
        change = switches.form_change(
            ALL_ON, {**ALL_ON, "allow_2fa": False, "allow_user_disable_2fa": toggle}
        )
        assert change == SwitchChange(allow_2fa=False)
    assert switches.form_change(ALL_OFF, {**ALL_OFF, "allow_user_disable_2fa": True}) == SwitchChange()


def test_the_impact_counts_a_switch_that_means_nothing_as_off(engine, world):
    with session_scope(engine, write=True) as s:
        s.get(Brand, s.scalars(select(Brand.id).where(Brand.name == world["on"])).one()).allow_2fa = False
    with session_scope(engine) as s:
        impact = switches.preview_impact(s, world["on"], SwitchChange(allow_user_disable_2fa=False))
    assert impact.changed  # stored as set...
    assert not any(
        "turn their own 2FA off" in sentence for sentence in impact.sentences
    )  # ...but it means nothing


# --- 5. the month report's window -----------------------------------------------------------


def test_the_month_report_has_its_default_window_everywhere(engine, world):
    assert history.DEFAULT_MONTHS == 24
    with session_scope(engine) as s:
        assert len(history.adoption_by_month(s, brand=world["on"])) == history.DEFAULT_MONTHS
        per_brand = history.adoption_by_month_per_brand(s)
    assert len(per_brand) == 2 * history.DEFAULT_MONTHS
    frame = frames.dataframe("adoption", engine=engine, by="month", brand=world["on"])
    assert len(frame) == history.DEFAULT_MONTHS
    csv = "".join(files.iter_csv("adoption", engine=engine, by="month"))
    assert len(csv.splitlines()) == 1 + 2 * history.DEFAULT_MONTHS


# --- what each role may do, in words ---------------------------------------------------------

# The permissions the words of each role name: the analyst's reads, downloads and own sign-in,
# and what each other role adds to them ("+ ..."); the administrator has every one.
ANALYST = {"read", "export", "operator.self"}
NAMED = {
    "analyst": ANALYST,
    "support": ANALYST | {"user.reset_2fa", "app_password.revoke"},
    "account_manager": ANALYST | {"brand.update", "brand.create", "brand.css", "brand.preview"},
}


def _held(role: str) -> set[str]:
    return {p for p, roles in PERMISSIONS.items() if role in roles}


def test_each_roles_words_name_what_the_permission_table_lets_it_do():
    assert ROLE_SUMMARIES == {
        "analyst": "reads and downloads",
        "support": "+ resets a user's 2FA, revokes app passwords",
        "account_manager": "+ brand switches and login CSS",
        "admin": "everything, and operators",
    }
    assert set(ROLE_SUMMARIES) == set(ROLES)
    for role, named in NAMED.items():
        assert _held(role) == named, role
    # "everything, and operators": every permission any other role has, and operator.manage.
    others = set().union(*(_held(r) for r in ROLES if r != "admin"))
    assert others | {"operator.manage"} <= _held("admin")
