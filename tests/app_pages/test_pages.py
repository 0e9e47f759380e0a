"""Every page through the entry point, over a real SQLite file, with concrete assertions."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from core.brands import switches
from core.brands.switches import SwitchChange
from core.platform.crypto import verify_password
from core.platform.db import session_scope
from core.platform.models import AppPassword, AuditEvent, Brand, Domain, Notification, Operator, User
from core.reporting import overview
from tests.app_pages.conftest import frame, html, read, texts
from tests.factories import make_app_password, make_brand, make_domain, make_user, operator_actor

PAGES = ("overview", "brands", "users", "reports", "audit_log")


@pytest.fixture
def people(engine: Engine, basic: dict) -> dict:
    """ann (2FA, two app passwords) and bob (nothing) in Alpha Mail; cid (2FA, dormant) in Beta."""
    with session_scope(engine, write=True) as s:
        alpha = s.scalars(select(Domain).where(Domain.name == basic["d_on"])).one()
        beta = s.scalars(select(Domain).where(Domain.name == basic["d_off"])).one()
        ann = make_user(s, alpha, "ann", twofa=True)
        make_app_password(s, ann, "iPhone Mail")
        make_app_password(s, ann, "Thunderbird")
        make_user(s, alpha, "bob")
        make_user(s, beta, "cid", twofa=True)
    return {
        **basic,
        "ann": f"ann@{basic['d_on']}",
        "bob": f"bob@{basic['d_on']}",
        "cid": f"cid@{basic['d_off']}",
    }


def _brand(engine: Engine, name: str) -> Brand:
    with session_scope(engine) as s:
        return s.scalars(select(Brand).where(Brand.name == name)).one()


# --- every page ------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_its_title_and_purpose(open_page, people, page):
    at = open_page(page)
    assert not at.exception
    assert at.title[0].value == {"audit_log": "Audit log"}.get(page, page.capitalize())
    assert at.caption[0].value  # the one-line purpose
    assert "admin" in texts(at)  # the operator badge in the sidebar


def test_signed_out_shows_the_sign_in_link_and_no_data(open_page, people):
    at = open_page(as_=None)
    assert not at.exception
    assert "You are signed out." in texts(at)
    assert at.link_button[0].proto.url.startswith("/signin?next=/")
    assert not at.metric and not at.dataframe


def test_an_unknown_token_is_signed_out(engine, people):
    from streamlit.testing.v1 import AppTest

    from tests.app_pages.conftest import ENTRY

    at = AppTest.from_file(ENTRY, default_timeout=60)
    at.session_state["auth_token"] = "forged"
    at.run()
    assert "You are signed out." in texts(at)
    assert not at.metric


def test_empty_database_says_how_to_load_demo_data(open_page, engine):
    from core.platform.db import session_scope as scope
    from tests.factories import make_operator

    with scope(engine, write=True) as s:
        make_operator(s, "admin", "admin")
    at = open_page("overview")
    assert not at.exception
    assert "python -m core seed" in texts(at)


# --- overview --------------------------------------------------------------------------------


def test_overview_figures_are_what_core_computes(open_page, engine, people):
    at = open_page("overview")
    with session_scope(engine) as s:
        o = overview.overview(s)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Users"] == f"{o['users']:,}" == "3"
    assert metrics["2FA adoption"] == f"{o['pct_2fa']:.1f} %" == "33.3 %"  # ann of ann, bob, cid
    assert metrics["App-password adoption"] == "33.3 %"
    assert metrics["Brands allowing 2FA"] == "1 of 2"
    assert "Dormant 2FA (1)" in [t.label for t in at.tabs]


def test_overview_brand_filter_applies(open_page, people):
    at = open_page("overview")
    at.selectbox("overview_brand").select("Beta Mail").run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Users"] == "1"
    assert metrics["2FA adoption"] == "0.0 %"
    assert metrics["Brands allowing 2FA"] == "0 of 1"


# --- brands ----------------------------------------------------------------------------------


def test_brand_update_changes_the_database_and_the_audit_log(open_page, engine, people):
    at = open_page("brands", as_="manager", brand="Beta Mail")
    assert "Beta Mail: Services & Settings" in texts(at)
    # 2FA is off: "allow users to disable" is disabled, with its reason.
    assert at.toggle("brands_sw_allow_user_disable_2fa").disabled
    assert "turn on “Allow two-factor auth (2FA)” first" in texts(at)
    at.toggle("brands_sw_allow_2fa").set_value(True).run()
    assert "1 dormant enrolment will be asked for a code again" in texts(at)  # the impact, before Update
    assert not at.toggle("brands_sw_allow_user_disable_2fa").disabled
    at.button("brands_update").click().run()
    assert not at.exception
    assert read(at.toast[0].value) == "Beta Mail updated."
    b = _brand(engine, "Beta Mail")
    assert b.allow_2fa and b.version == 2
    with session_scope(engine) as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "brand.switches_changed")).one()
    assert ev.actor == "manager" and ev.object_key == "Beta Mail"
    assert ev.before["allow_2fa"] is False and ev.after["allow_2fa"] is True
    # The history below the form shows the change.
    history = frame(at, "before")
    assert list(history["actor"]) == ["manager"]


def test_a_stale_version_save_shows_the_conflict(open_page, engine, people):
    at = open_page("brands", as_="manager", brand="Alpha Mail")
    with session_scope(engine, write=True) as s:  # a colleague saves first
        switches.set_switches(
            s,
            actor=operator_actor(s, "admin", "admin"),
            name="Alpha Mail",
            change=SwitchChange(allow_app_passwords=False),
        )
    at.toggle("brands_sw_allow_2fa").set_value(False).run()
    at.button("brands_update").click().run()
    assert not at.exception
    error = read(at.error[0].value)
    assert "Alpha Mail was changed since you loaded it" in error
    assert "admin set Allow app-specific passwords off" in error
    b = _brand(engine, "Alpha Mail")
    assert b.allow_2fa and not b.allow_app_passwords and b.version == 2  # nothing overwritten
    at.button("brands_reload").click().run()
    assert "Version 2" in texts(at)


def test_turning_2fa_off_leaves_users_may_disable_as_stored(open_page, engine, people):
    at = open_page("brands", as_="manager", brand="Alpha Mail")
    at.toggle("brands_sw_allow_user_disable_2fa").set_value(False).run()
    at.toggle("brands_sw_allow_2fa").set_value(False).run()
    assert at.toggle("brands_sw_allow_user_disable_2fa").disabled
    assert "turn on “Allow two-factor auth (2FA)” first" in texts(at)
    at.button("brands_update").click().run()
    assert not at.exception
    b = _brand(engine, "Alpha Mail")
    assert (b.allow_2fa, b.allow_user_disable_2fa) == (False, True)  # the toggle meant nothing


def test_bulk_change_applies_to_every_selected_brand(open_page, engine, people):
    at = open_page("brands", as_="admin")
    at.multiselect("brands_bulk_names").set_value(["Alpha Mail", "Beta Mail"])
    at.selectbox("brands_bulk_allow_app_passwords").select("On").run()
    assert "<strong>Beta Mail</strong>" in html(at)
    at.button("brands_bulk_apply").click().run()
    assert not at.exception
    assert "Updated 2 brands." in texts(at)
    assert _brand(engine, "Beta Mail").allow_app_passwords
    assert _brand(engine, "Alpha Mail").allow_app_passwords


def test_an_analyst_sees_no_enabled_write_control(open_page, people):
    at = open_page("brands", as_="analyst")
    assert all(t.disabled for t in at.toggle)
    # Reloading and "Sign out everywhere" (one's own sessions) are for every role.
    assert all(b.disabled for b in at.button if b.key not in ("brands_reload", "sidebar_sign_out_everywhere"))
    assert "Needs the Account manager or Administrator role" in at.toggle("brands_sw_allow_2fa").help
    at = open_page("users", as_="analyst", user=people["ann"])
    assert at.button("users_reset_open").disabled
    assert "Support or Administrator" in at.button("users_reset_open").help
    assert at.button("users_revoke_open").disabled


# --- users -----------------------------------------------------------------------------------


def test_search_filters_and_pages_by_key(open_page, engine, people):
    with session_scope(engine, write=True) as s:
        dom = s.scalars(select(Domain).where(Domain.name == people["d_on"])).one()
        for i in range(55):
            make_user(s, dom, f"page{i:02d}")
    at = open_page("users")
    assert "58 mailboxes match; showing 1–50" in texts(at)
    first = at.dataframe("users_table").value["email"].tolist()
    at.button("users_next").click().run()
    second = at.dataframe("users_table").value["email"].tolist()
    assert len(first) == 50 and len(second) == 8 and first[-1] < second[0]
    assert at.button("users_next").disabled
    at.button("users_prev").click().run()
    assert at.dataframe("users_table").value["email"].tolist() == first
    at.text_input("users_query").input("ann@").run()
    assert at.dataframe("users_table").value["email"].tolist() == [people["ann"]]
    at.text_input("users_query").input("").run()
    at.selectbox("users_twofa").select("Dormant").run()
    assert at.dataframe("users_table").value["email"].tolist() == [people["cid"]]


def test_user_deep_link_shows_the_whole_picture(open_page, people):
    at = open_page("users", user=people["ann"])
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"2FA": "On", "Live app passwords": "2 of 4"}
    assert (
        f"<strong>Brand</strong> Alpha Mail (from the company)<br />\n<strong>Domain</strong> {people['d_on']}"
        in html(at)
    )
    assert frame(at, "label")["label"].tolist() == ["iPhone Mail", "Thunderbird"]
    at = open_page("users", user="nobody@nowhere.example")
    assert "There is no mailbox" in texts(at)


def test_disable_2fa_through_its_dialog(open_page, engine, people):
    at = open_page("users", as_="support", user=people["ann"])
    at.button("users_reset_open").click().run()
    assert f"<strong>{people['ann']}</strong>" in html(at)  # the dialog names the user
    at.selectbox("users_reset_reason").select("lost phone").run()
    at.button("users_reset_confirm").click().run()
    assert not at.exception
    body = at.text[0].value
    assert f"your mailbox {people['ann']}" in body and "(reason: lost phone)" in body
    with session_scope(engine) as s:
        user = s.scalars(select(User).where(User.email == people["ann"])).one()
        queued = s.scalars(select(Notification)).all()
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "user.2fa_reset")).one()
    assert user.totp_secret is None and user.totp_enrolled_at is None
    assert [(n.recipient, n.status) for n in queued] == [(people["ann"], "pending")]
    assert queued[0].body.strip() == body.strip()
    assert event.actor == "support" and event.reason == "lost phone"
    at.button("users_reset_close").click().run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["2FA"] == "Off"
    assert at.button("users_reset_open").disabled  # nothing left to disable


def test_disable_2fa_other_reason_needs_its_text_and_cancel_changes_nothing(open_page, engine, people):
    at = open_page("users", as_="support", user=people["ann"])
    at.button("users_reset_open").click().run()
    at.selectbox("users_reset_reason").select("other").run()
    at.button("users_reset_confirm").click().run()
    assert "Say what the other reason is." in texts(at)
    at.button("users_reset_cancel").click().run()
    assert not at.exception
    assert "users_reset_confirm" not in [b.key for b in at.button]
    with session_scope(engine) as s:
        assert s.scalars(select(User).where(User.email == people["ann"])).one().totp_secret is not None


def test_revoke_leaves_the_other_app_passwords(open_page, engine, people):
    at = open_page("users", as_="support", user=people["ann"])
    at.selectbox("users_revoke_label").select("Thunderbird").run()
    at.button("users_revoke_open").click().run()
    assert "Revoke “Thunderbird”" in texts(at)
    at.button("users_revoke_confirm").click().run()
    assert not at.exception
    assert "Revoked the app password “Thunderbird”" in texts(at)
    with session_scope(engine) as s:
        aps = {a.label: a.revoked_at for a in s.scalars(select(AppPassword)).all()}
    assert aps["Thunderbird"] is not None and aps["iPhone Mail"] is None
    assert at.selectbox("users_revoke_label").options == ["iPhone Mail"]


# --- reports and audit log -------------------------------------------------------------------


@pytest.fixture
def downloads(monkeypatch) -> dict:
    """What each download button would hand the browser: file name -> CSV text."""
    got: dict[str, str] = {}
    real_add = MemoryMediaFileStorage.load_and_get_id

    def add(self, path_or_data, mimetype, kind, filename=None):
        if filename:
            got[filename] = (
                bytes(path_or_data).decode("utf-8") if not isinstance(path_or_data, str) else path_or_data
            )
        return real_add(self, path_or_data, mimetype, kind, filename)

    def add_deferred(self, fn, mimetype, coordinates, file_name=None, element_id=""):
        data = fn()
        got[file_name] = data.decode("utf-8") if isinstance(data, bytes) else data
        return f"deferred-{file_name}"

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", add)
    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return got


def test_reports_downloads_hold_the_rows_they_say(open_page, downloads, people):
    at = open_page("reports")
    assert not at.exception
    shown = texts(at)
    by_brand = list(csv.DictReader(io.StringIO(downloads["adoption-by-brand.csv"])))
    assert [r["brand"] for r in by_brand] == ["Alpha Mail", "Beta Mail"]
    assert "2 rows\n" in shown + "\n"
    assert frame(at, "users_2fa_dormant")["users"].tolist() == [2, 1]
    users = list(csv.DictReader(io.StringIO(downloads["users.csv"])))
    assert [r["email"] for r in users] == sorted([people["ann"], people["bob"], people["cid"]])
    assert "3 rows · search: every mailbox" in shown


def test_reports_users_download_follows_the_users_search(open_page, downloads, people):
    at = open_page("users")
    at.text_input("users_query").input("ann").run()
    at.switch_page("app_pages/reports.py").run()
    assert not at.exception
    assert [r["email"] for r in csv.DictReader(io.StringIO(downloads["users.csv"]))] == [people["ann"]]
    assert "1 row · search: text = 'ann'" in texts(at)


def test_audit_log_filters_and_exports(open_page, engine, downloads, people):
    with session_scope(engine, write=True) as s:
        switches.set_switches(
            s,
            actor=operator_actor(s, "manager", "account_manager"),
            name="Beta Mail",
            change=SwitchChange(allow_2fa=True),
        )
    at = open_page("audit_log")
    table = frame(at, "object_key")
    assert table["action"].tolist() == ["Brand switches changed"]
    assert table["brand"].tolist() == ["Beta Mail"]
    rows = list(csv.DictReader(io.StringIO(downloads["audit-log.csv"])))
    assert [(r["actor"], r["action"], r["object_key"]) for r in rows] == [
        ("manager", "brand.switches_changed", "Beta Mail")
    ]
    at.selectbox("audit_actor").select("support").run()
    assert not at.dataframe and "No event matches" in texts(at)


def test_overview_chart_with_many_brands_ranks_those_that_allow_2fa(open_page, engine, basic):
    """Past 40 brands the chart holds 40: by default the lowest adoption among the brands
    that allow 2FA (elsewhere it is 0 % by the switch, not by the users)."""
    with session_scope(engine, write=True) as s:
        for i in range(45):
            allow = i % 3 != 0  # 30 brands allow 2FA, 15 do not
            b = make_brand(s, f"Brand {i:02d}", allow_2fa=allow)
            d = make_domain(s, b, f"b{i:02d}.example")
            for n in range(4):
                make_user(s, d, f"u{n}", twofa=n < i % 4 + (i >= 30))
    at = open_page("overview")
    assert not at.exception
    assert (
        "30 of the 30 brands with mailboxes that allow 2FA; every brand is in Reports › Adoption by brand."
        in texts(at)
    )
    bars = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert sorted(bars["y"]) == sorted(f"Brand {i:02d}" for i in range(45) if i % 3)
    at.segmented_control("overview_bar_order").set_value("Most users").run()
    bars = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert len(bars["y"]) == 40


# --- operators -------------------------------------------------------------------------------


def test_the_operators_table_says_what_each_role_may_do(open_page, people):
    at = open_page("operators", as_="admin")
    assert not at.exception
    assert (
        "Analyst: reads and downloads · Support: + resets a user's 2FA, revokes app passwords · "
        "Account manager: + brand switches and login CSS · Administrator: everything, and operators."
    ) in texts(at)


def test_an_added_operator_gets_a_one_time_password_shown_once(open_page, engine, people):
    at = open_page("operators", as_="admin")
    at.text_input("operators_add_username").input("jdoe")
    at.text_input("operators_add_display").input("Jo Doe")
    at.selectbox("operators_add_role").select("support")
    at.button(key="FormSubmitter:operators_add-Add operator").click().run()
    assert not at.exception
    assert "Added jdoe. Give them this one-time password by a safe channel" in texts(at)
    password = at.code[0].value
    with session_scope(engine) as s:
        op = s.scalars(select(Operator).where(Operator.username == "jdoe")).one()
    assert op.role == "support" and verify_password(op.password_hash, password)
    assert at.text_input("operators_add_username").value == ""
    at.run()
    assert not at.code  # shown only once
