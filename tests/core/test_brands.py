"""Brand switches: one Update for the whole brand, impact preview, dormant enrolments,
suspended app passwords, optimistic concurrency and all-or-none bulk changes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.access.permissions import Actor
from core.brands import switches
from core.brands.switches import SwitchChange
from core.platform.db import session_scope
from core.platform.errors import BadInput, Conflict, NotFound
from core.platform.models import AuditEvent, Brand
from core.reporting.adoption import AdoptionFilter, adoption_by_brand
from tests.factories import make_app_password, make_brand, make_domain, make_user, setup_basic

MANAGER = Actor(name="manager", role="account_manager")


def _events(engine, action="brand.switches_changed") -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def test_switches_default_off(engine):
    with session_scope(engine, write=True) as s:
        b = make_brand(s, "Fresh")
        assert (b.allow_2fa, b.allow_user_disable_2fa, b.allow_app_passwords) == (False, False, False)


def test_preview_counts_and_changes_nothing(engine):
    base = setup_basic(engine)
    with session_scope(engine, write=True) as s:
        d = make_domain(s, switches.get_brand(s, base["on"]), "gamma.example.com")
        u1 = make_user(s, d, twofa=True)
        make_user(s, d, twofa=True)
        make_user(s, d)
        make_user(s, d, twofa=True, status="suspended")  # suspended users are not counted
        make_app_password(s, u1, "iPhone Mail")
        make_app_password(s, u1, "Laptop")
        make_app_password(s, u1, "Old", revoked=True)
    with session_scope(engine) as s:
        imp = switches.preview_impact(s, base["on"], SwitchChange(allow_2fa=False, allow_app_passwords=False))
    assert imp.enrolled_silenced == 2
    assert imp.app_passwords_suspended == 2
    assert "2 enrolled users will no longer be asked for a code" in imp.sentences[0]
    assert any("2 app passwords of 1 user will stop working" in x for x in imp.sentences)
    with session_scope(engine) as s:
        b = switches.get_brand(s, base["on"])
        assert b.allow_2fa and b.allow_app_passwords and b.version == 1
    assert _events(engine) == 0


def test_turning_2fa_off_keeps_enrolments_dormant_and_on_again_wakes_them(engine):
    base = setup_basic(engine)
    with session_scope(engine, write=True) as s:
        d = switches.get_brand(s, base["on"])
        dom = make_domain(s, d)
        make_user(s, dom, twofa=True)
    with session_scope(engine, write=True) as s:
        switches.set_switches(s, actor=MANAGER, name=base["on"], change=SwitchChange(allow_2fa=False))
    with session_scope(engine) as s:
        row = adoption_by_brand(s, AdoptionFilter(brand=base["on"]))[0]
    assert (row["users_2fa"], row["users_2fa_dormant"]) == (0, 1)
    with session_scope(engine, write=True) as s:
        switches.set_switches(s, actor=MANAGER, name=base["on"], change=SwitchChange(allow_2fa=True))
    with session_scope(engine) as s:
        row = adoption_by_brand(s, AdoptionFilter(brand=base["on"]))[0]
    assert (row["users_2fa"], row["users_2fa_dormant"]) == (1, 0)


def test_update_writes_one_audit_event_with_before_and_after(engine):
    base = setup_basic(engine)
    with session_scope(engine, write=True) as s:
        switches.set_switches(
            s, actor=MANAGER, name=base["off"], change=SwitchChange(allow_2fa=True, allow_app_passwords=True)
        )
    with session_scope(engine) as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "brand.switches_changed")).one()
        b = switches.get_brand(s, base["off"])
    assert ev.actor == "manager" and ev.object_key == base["off"] and ev.brand_id == b.id
    assert ev.before["allow_2fa"] is False and ev.after["allow_2fa"] is True
    assert ev.after["allow_app_passwords"] is True and ev.after["version"] == 2
    assert b.version == 2 and b.updated_by == "manager"


def test_stale_version_is_refused_naming_what_changed(engine):
    base = setup_basic(engine)
    with session_scope(engine) as s:
        loaded = switches.get_brand(s, base["off"]).version
    with session_scope(engine, write=True) as s:
        switches.set_switches(
            s,
            actor=MANAGER,
            name=base["off"],
            change=SwitchChange(allow_app_passwords=True),
            expected_version=loaded,
        )
    with pytest.raises(Conflict) as err, session_scope(engine, write=True) as s:
        switches.set_switches(
            s,
            actor=Actor(name="admin", role="admin"),
            name=base["off"],
            change=SwitchChange(allow_2fa=True),
            expected_version=loaded,
        )
    assert "manager set Allow app-specific passwords on" in str(err.value)
    with session_scope(engine) as s:
        b = switches.get_brand(s, base["off"])
        assert b.allow_2fa is False and b.allow_app_passwords is True and b.version == loaded + 1
    assert _events(engine) == 1


def test_bulk_change_is_all_or_none(engine):
    base = setup_basic(engine)
    with session_scope(engine, write=True) as s:
        make_brand(s, "Gamma Mail")
    with pytest.raises(NotFound), session_scope(engine, write=True) as s:
        switches.bulk_set_switches(
            s,
            actor=MANAGER,
            names=[base["off"], "Gamma Mail", "No Such Brand"],
            change=SwitchChange(allow_2fa=True),
        )
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Brand).where(Brand.allow_2fa.is_(True))) == 1
    assert _events(engine) == 0
    with session_scope(engine, write=True) as s:
        impacts = switches.bulk_set_switches(
            s, actor=MANAGER, names=[base["off"], "Gamma Mail"], change=SwitchChange(allow_2fa=True)
        )
    assert len(impacts) == 2 and _events(engine) == 2


def test_bulk_conflict_on_one_brand_undoes_all(engine):
    base = setup_basic(engine)
    with session_scope(engine, write=True) as s:
        make_brand(s, "Gamma Mail")
    with pytest.raises(Conflict), session_scope(engine, write=True) as s:
        switches.bulk_set_switches(
            s,
            actor=MANAGER,
            names=["Gamma Mail", base["off"]],
            change=SwitchChange(allow_app_passwords=True),
            expected_versions={"Gamma Mail": 1, base["off"]: 7},
        )
    with session_scope(engine) as s:
        assert switches.get_brand(s, "Gamma Mail").allow_app_passwords is False
    assert _events(engine) == 0


def test_no_switch_given_is_bad_input(engine):
    base = setup_basic(engine)
    with pytest.raises(BadInput), session_scope(engine, write=True) as s:
        switches.set_switches(s, actor=MANAGER, name=base["on"], change=SwitchChange())


def test_user_disable_means_nothing_while_2fa_off(engine):
    base = setup_basic(engine)
    with session_scope(engine, write=True) as s:
        b = switches.get_brand(s, base["off"])
        make_user(s, make_domain(s, b), twofa=True)
    with session_scope(engine) as s:
        imp = switches.preview_impact(s, base["off"], SwitchChange(allow_user_disable_2fa=True))
    # 2FA is off for the brand, so letting users disable it changes nothing they can do.
    assert not any("turn their own 2FA off" in x for x in imp.sentences)


def test_css_save_refuses_script_and_keeps_good_css(engine):
    base = setup_basic(engine)
    good = "#login-form .box-inner .modalheader { color: #000000; background: #ffffff; }"
    with session_scope(engine, write=True) as s:
        brand, _warnings = switches.save_css(s, actor=MANAGER, name=base["on"], css=good)
    assert "modalheader" in brand.custom_login_css
    with pytest.raises(BadInput), session_scope(engine, write=True) as s:
        switches.save_css(s, actor=MANAGER, name=base["on"], css="</style><script>alert(1)</script>")
    with session_scope(engine) as s:
        assert switches.get_brand(s, base["on"]).custom_login_css == brand.custom_login_css
    assert _events(engine, "brand.css_saved") == 1
