"""The Branding sandbox (app_pages/branding.py) through the entry point, over a real SQLite file."""

from __future__ import annotations

import base64
import html
import re

import pandas as pd
import pyotp
import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from core.brands import switches
from core.brands.css.check import check_css
from core.brands.css.starter import STARTER_TEMPLATE
from core.brands.login_page import PREVIEW_CSP
from core.mailboxes import mailbox_login
from core.platform.db import session_scope
from core.platform.models import AuditEvent, Brand, Domain, LoginFailure, User
from tests.app_pages.conftest import read, texts
from tests.factories import PASSWORD, make_brand, make_domain, make_user, operator_actor

SAVED = "#login-form .box-inner .modalheader { background-color: #004d40; color: #ffffff; }\n"
GOOD = (
    "/* brand colours */\n"
    "#login-form .box-inner .modal { background-color: #ffffff; color: #1f2933; }\n"
    "#login-form .box-inner .modalheader { background-color: #0b3d91; color: #ffffff; }\n"
)
SECRET = pyotp.random_base32()


@pytest.fixture
def branded(engine: Engine, basic: dict) -> dict:
    """Alpha Mail with saved CSS and ann enrolled (known secret); Beta Mail with no CSS."""
    with session_scope(engine, write=True) as s:
        s.execute(update(Brand).where(Brand.name == basic["on"]).values(custom_login_css=SAVED))
        alpha = s.scalars(select(Domain).where(Domain.name == basic["d_on"])).one()
        make_user(s, alpha, "ann", twofa=True, secret=SECRET)
    return basic


def _brand(engine: Engine, name: str) -> Brand:
    with session_scope(engine) as s:
        return s.scalars(select(Brand).where(Brand.name == name)).one()


def _css_events(engine: Engine) -> list[AuditEvent]:
    with session_scope(engine) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == "brand.css_saved")))


def table(at: AppTest, column: str) -> pd.DataFrame:
    """The first static table of the page with ``column``."""
    for t in at.table:
        if column in t.value.columns:
            return t.value.map(
                lambda cell: read(cell) if isinstance(cell, str) else cell
            )  # cells are Markdown
    raise AssertionError(f"no table with a {column!r} column")


def _editor(at: AppTest):
    return at.text_area(key="branding_css")


def _button(at: AppTest, key: str):
    return at.button(key=key)


def _preview(at: AppTest) -> tuple[str, str]:
    """(src, decoded document) of the preview iframe."""
    frames = at.get("iframe")
    assert len(frames) == 1
    src = frames[0].proto.src
    assert not frames[0].proto.srcdoc  # never an HTML string: that iframe is same-origin
    prefix = "data:text/html;base64,"
    assert src.startswith(prefix)
    return src, base64.b64decode(src[len(prefix) :]).decode("utf-8")


def _open(open_page, brand: str, as_: str = "manager") -> AppTest:
    at = open_page("branding", as_=as_, brand=brand)
    assert not at.exception, at.exception
    return at


# --- render ----------------------------------------------------------------------------------


def test_renders_for_an_account_manager_with_the_saved_css(open_page, branded):
    at = _open(open_page, branded["on"])
    assert at.title[0].value == "Branding"
    assert _editor(at).value == SAVED
    assert "Version 1" in texts(at)
    contrast = table(at, "Ratio")
    row = contrast.iloc[0]
    assert (row["Part"], row["Colours"]) == (".modalheader", "#ffffff on #004d40")
    assert row["Ratio"] == f"{check_css(SAVED).contrast[0].ratio:.2f}:1"
    assert row["AA (4.5:1)"] == "Pass"
    _, doc = _preview(at)
    assert "#004d40" in doc  # the saved CSS styles the preview
    assert _button(at, "branding_save").disabled  # nothing unsaved yet


def test_deep_link_opens_the_brand_and_an_unknown_one_says_so(open_page, branded):
    at = _open(open_page, branded["off"])
    assert at.selectbox[0].value == branded["off"]
    assert _editor(at).value == ""
    at = _open(open_page, "No Such Brand")
    assert "There is no brand 'No Such Brand'" in texts(at)


def test_the_preview_is_a_data_url_with_the_csp_first_and_the_brand_name_escaped(engine, open_page, basic):
    with session_scope(engine, write=True) as s:
        make_brand(s, 'Rock & <b>"Roll"</b>')
    at = _open(open_page, 'Rock & <b>"Roll"</b>')
    _, doc = _preview(at)
    assert doc.startswith(
        f'<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="{PREVIEW_CSP}">'
    )
    assert html.escape('Rock & <b>"Roll"</b>', quote=True) in doc
    assert "<b>" not in doc and "<script" not in doc.lower()


def test_width_and_dark_switches_change_the_preview(open_page, branded):
    at = _open(open_page, branded["on"])
    at.toggle(key="branding_dark").set_value(True).run()
    _, doc = _preview(at)
    assert '<body class="login-page dark">' in doc
    at.segmented_control(key="branding_width").set_value("Phone").run()
    assert not at.exception
    assert at.segmented_control(key="branding_width").value == "Phone"
    _preview(at)  # (the iframe's width is layout, out of AppTest's reach: the browser test measures it)


# --- starter template ------------------------------------------------------------------------


def test_the_starter_template_loads_with_one_click_when_the_brand_has_none(open_page, branded):
    at = _open(open_page, branded["off"])
    _button(at, "branding_starter").click().run()
    assert not at.exception
    assert _editor(at).value == STARTER_TEMPLATE
    contrast = table(at, "Ratio")
    assert set(contrast["Part"]) == {".modal", ".modalheader"}
    assert set(contrast["AA (4.5:1)"]) == {"Pass"}
    _, doc = _preview(at)
    assert "#0b3d91" in doc


def test_the_starter_template_asks_first_over_unsaved_edits(open_page, branded):
    at = _open(open_page, branded["on"])
    _editor(at).set_value(GOOD).run()
    _button(at, "branding_starter").click().run()
    assert _editor(at).value == GOOD  # not replaced yet
    assert "Your unsaved changes will be lost" in texts(at)
    _button(at, "branding_starter_cancel").click().run()
    assert _editor(at).value == GOOD
    _button(at, "branding_starter").click().run()
    _button(at, "branding_starter_confirm").click().run()
    assert _editor(at).value == STARTER_TEMPLATE


# --- refused CSS -----------------------------------------------------------------------------

HOSTILE = [
    ("</style><script>alert(1)</script>", 1, "style-breakout"),
    ("#login-form .box-inner .modal { color: #000; }\n@import url(http://x);", 2, "import"),
    ("#login-form .box-inner .modal {\n  background: url(javascript:alert(1));\n}", 2, "script-url"),
]


@pytest.mark.parametrize(("css", "line", "rule"), HOSTILE)
def test_hostile_css_is_refused_with_its_line_and_never_stored(engine, open_page, branded, css, line, rule):
    before = _brand(engine, branded["on"])
    at = _open(open_page, branded["on"])
    _editor(at).set_value(css).run()
    assert not at.exception
    assert "Refused:" in texts(at)
    findings = table(at, "Rule")
    errors = findings[findings["Level"] == "Error"]
    assert findings.iloc[0]["Level"] == "Error"  # errors first
    assert check_css(css).errors[0].rule in set(errors["Rule"])
    assert line in set(errors["Line"])
    if rule != "script-url":  # the checker names this one by its own rule; the line is enough
        assert rule in set(errors["Rule"])
    # The preview keeps the saved CSS, never the refused one.
    _, doc = _preview(at)
    assert "The CSS in the editor is refused: the preview shows the saved CSS." in texts(at)
    assert "#004d40" in doc and "<script" not in doc and "http://x" not in doc
    # Save goes to the core, which refuses it: nothing is stored, no event is written.
    _button(at, "branding_save").click().run()
    assert "Not saved: the CSS was refused" in texts(at)
    after = _brand(engine, branded["on"])
    assert (after.custom_login_css, after.version) == (before.custom_login_css, before.version)
    assert _css_events(engine) == []
    assert _editor(at).value == css  # the editor keeps the text to be fixed


def test_a_megabyte_of_css_is_refused_for_its_size(engine, open_page, branded):
    at = _open(open_page, branded["off"])
    _editor(at).set_value("a{color:red}" * 90_000).run()
    assert "too-large" in set(table(at, "Rule")["Rule"])
    _button(at, "branding_save").click().run()
    assert _brand(engine, branded["off"]).custom_login_css in (None, "")


# --- save, revert, conflict ------------------------------------------------------------------


def test_good_css_saves_with_an_audit_event_and_comes_back_after_a_reload(engine, open_page, branded):
    at = _open(open_page, branded["on"])
    _editor(at).set_value(GOOD).run()
    assert not _button(at, "branding_save").disabled
    _button(at, "branding_save").click().run()
    assert not at.exception
    stored = check_css(GOOD).css
    brand = _brand(engine, branded["on"])
    assert brand.custom_login_css == stored and brand.version == 2
    assert "Saved the login CSS of Alpha Mail (version 2)." in texts(at)
    assert "comments dropped" in texts(at)
    assert any("Saved the login CSS" in t.value for t in at.toast)
    (event,) = _css_events(engine)
    assert event.actor == "manager" and event.object_key == branded["on"]
    assert event.before == {"css": SAVED, "version": 1}
    assert event.after == {"css": stored, "version": 2}
    assert _editor(at).value == stored  # the editor shows what was stored
    assert _button(at, "branding_save").disabled  # nothing left to save
    # A new session (a reload) loads the same text, and saving it again changes nothing.
    again = _open(open_page, branded["on"])
    assert _editor(again).value == stored
    assert check_css(stored).css == stored


def test_revert_restores_the_saved_css(open_page, branded):
    at = _open(open_page, branded["on"])
    _editor(at).set_value("#login-form .box-inner .modal { color: red; }").run()
    assert "Unsaved changes." in texts(at)
    _button(at, "branding_revert").click().run()
    assert _editor(at).value == SAVED
    assert "Restored the saved CSS of Alpha Mail (version 1)." in texts(at)


def test_a_colleagues_save_in_between_is_a_conflict_with_a_reload(engine, open_page, branded):
    at = _open(open_page, branded["on"])
    colleague = "#login-form .box-inner .modal { color: #111111; }\n"
    with session_scope(engine, write=True) as s:
        switches.save_css(s, actor=operator_actor(s, "admin", "admin"), name=branded["on"], css=colleague)
    _editor(at).set_value(GOOD).run()
    _button(at, "branding_save").click().run()
    assert "was changed since you loaded it" in texts(at)
    assert _brand(engine, branded["on"]).custom_login_css == check_css(colleague).css  # not overwritten
    assert _editor(at).value == GOOD  # the editor keeps the unsaved work
    _button(at, "branding_reload").click().run()
    assert _editor(at).value == check_css(colleague).css
    assert "Version 2" in texts(at)
    assert "was changed since you loaded it" not in texts(at)


def test_an_analyst_sees_save_disabled_with_the_reason(engine, open_page, branded):
    at = _open(open_page, branded["on"], as_="analyst")
    _editor(at).set_value(GOOD).run()
    save = _button(at, "branding_save")
    assert save.disabled
    assert "Account manager or Administrator" in save.proto.help
    assert "Analyst" in save.proto.help
    _, doc = _preview(at)
    assert "#0b3d91" in doc  # the sandbox itself is open to every role
    assert _brand(engine, branded["on"]).version == 1


# --- drive the preview -----------------------------------------------------------------------


DEMO = "preview@alpha-mail.invalid"
_SHOWN_CODE = re.compile(r"Its current code is (\d{6})")


def _shown_code(at: AppTest) -> str:
    """The demo mailbox's current code, as the page shows it."""
    match = _SHOWN_CODE.search(texts(at))
    assert match, "the page shows no code of the demo mailbox"
    return match.group(1)


def _verify(at: AppTest, code: str) -> None:
    at.text_input(key="branding_code").input(code)
    at.button(key="FormSubmitter:branding_drive_form-Verify").click().run()
    assert not at.exception, at.exception


def _wrong_code(at: AppTest) -> str:
    """A code that is not the shown one (nor, by a margin of 1 in 10^6, its neighbours)."""
    match = _SHOWN_CODE.search(texts(at))
    return "111111" if match and match.group(1) == "000000" else "000000"


def _customer_rows(engine: Engine) -> tuple[list[dict], list[dict], int]:
    """Every users row, every login_failures row, and the number of audit events."""
    with session_scope(engine) as s:
        users = [u.model_dump() for u in s.scalars(select(User).order_by(User.id))]
        failures = [f.model_dump() for f in s.scalars(select(LoginFailure).order_by(LoginFailure.id))]
        events = len(s.scalars(select(AuditEvent)).all())
    return users, failures, events


def test_the_drive_names_the_demo_mailbox_and_its_right_code_shows_success(open_page, branded):
    at = _open(open_page, branded["on"])
    shown = texts(at)
    assert f"Driving {DEMO}, the demo mailbox (not a real customer) of Alpha Mail." in shown
    assert "ann@alpha.example.com" not in shown  # no customer's address is on the page
    _verify(at, _wrong_code(at))
    _, doc = _preview(at)
    assert 'class="modal state-error"' in doc
    assert "That code is not valid. Try the current code." in doc
    assert f"{DEMO} (demo mailbox (not a real customer))" in texts(at)
    _verify(at, _shown_code(at))
    _, doc = _preview(at)
    assert 'class="modal state-success"' in doc
    assert "#004d40" in doc  # the same CSS styles the state
    _button(at, "branding_prompt").click().run()
    _, doc = _preview(at)
    assert 'class="modal state-prompt"' in doc


def test_ten_wrong_codes_in_the_preview_touch_no_customer(engine, open_page, branded):
    """Before, the preview checked codes of ann, a real mailbox of the brand: five wrong
    ones locked her out of webmail and a right one used up her code."""
    at = _open(open_page, branded["on"])
    before = _customer_rows(engine)
    wrong = _wrong_code(at)
    for _ in range(10):
        _verify(at, wrong)
    _, doc = _preview(at)
    assert 'class="modal state-error"' in doc
    assert _customer_rows(engine) == before
    _verify(at, _shown_code(at))
    assert 'class="modal state-success"' in _preview(at)[1]
    assert _customer_rows(engine) == before
    # ann signs in to webmail with her password and her authenticator's current code.
    with session_scope(engine, write=True) as s:
        outcome = mailbox_login.check_login(
            s, email="ann@alpha.example.com", secret=PASSWORD, code=pyotp.TOTP(SECRET).now()
        )
    assert outcome.ok, outcome


def test_drive_says_when_the_brand_has_2fa_off_and_any_brand_has_its_demo_mailbox(engine, open_page, branded):
    at = _open(open_page, branded["off"])
    assert "2FA is off for Beta Mail" in texts(at)
    assert [t for t in at.text_input if t.key == "branding_code"] == []  # nothing to verify
    with session_scope(engine, write=True) as s:
        lone = make_brand(s, "Gamma Mail", allow_2fa=True)
        make_user(s, make_domain(s, lone, "gamma.example.com"), "gus")  # no one enrolled
    at = _open(open_page, "Gamma Mail")
    assert "Driving preview@gamma-mail.invalid, the demo mailbox (not a real customer)" in texts(at)
    _verify(at, _shown_code(at))
    assert 'class="modal state-success"' in _preview(at)[1]


def test_an_analyst_cannot_drive_the_preview(open_page, branded):
    at = _open(open_page, branded["on"], as_="analyst")
    assert at.text_input(key="branding_code").disabled


def test_low_contrast_is_a_warning_with_its_ratio_not_a_refusal(open_page, branded):
    at = _open(open_page, branded["off"])
    _editor(at).set_value(
        "#login-form .box-inner .modal {\n  color: #777;\n  background-color: #fff;\n}"
    ).run()
    row = table(at, "Ratio").iloc[0]
    assert (row["Part"], row["Ratio"], row["AA (4.5:1)"]) == (".modal", "4.48:1", "Fail")
    findings = table(at, "Rule")
    assert list(findings["Level"]) == ["Warning"] and "low-contrast" in set(findings["Rule"])
    assert "Refused:" not in texts(at)
    assert not _button(at, "branding_save").disabled


def test_saving_the_saved_css_with_other_comments_changes_nothing(engine, open_page, branded):
    at = _open(open_page, branded["on"])
    _editor(at).set_value(GOOD).run()
    _button(at, "branding_save").click().run()
    _editor(at).set_value("/* another comment */\n" + check_css(GOOD).css).run()
    _button(at, "branding_save").click().run()
    assert "Nothing to save: apart from comments and spacing, this is the saved CSS." in texts(at)
    assert _brand(engine, branded["on"]).version == 2
    assert len(_css_events(engine)) == 1
