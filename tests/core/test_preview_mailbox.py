"""core.brands.preview_mailbox: the Branding sandbox drives its preview with a demo mailbox, never a customer's."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from core.brands import preview_mailbox
from core.mailboxes import mailbox_login
from core.platform.db import session_scope
from core.platform.errors import NotFound
from core.platform.models import LoginFailure, User
from tests.factories import PASSWORD, make_brand, make_domain, make_user

NOW = 1_800_000_000.0  # a fixed clock, in the middle of a 30-second step


def _rows(engine: Engine) -> tuple[list[dict], list[dict]]:
    """Every users row and every login_failures row, as plain values."""
    with session_scope(engine) as s:
        users = [u.model_dump() for u in s.scalars(select(User).order_by(User.id))]
        failures = [f.model_dump() for f in s.scalars(select(LoginFailure).order_by(LoginFailure.id))]
    return users, failures


@pytest.fixture
def brand_with_customer(engine: Engine) -> dict:
    secret = pyotp.random_base32()
    with session_scope(engine, write=True) as s:
        brand = make_brand(s, "Alpha Mail", allow_2fa=True)
        make_brand(s, "Beta Mail", allow_2fa=True)
        make_brand(s, "Off Mail")
        make_user(s, make_domain(s, brand, "alpha.example.com"), "ann", twofa=True, secret=secret)
    return {"brand": "Alpha Mail", "email": "ann@alpha.example.com", "secret": secret}


def _mailbox(engine: Engine, name: str) -> preview_mailbox.PreviewMailbox:
    with session_scope(engine) as s:
        return preview_mailbox.preview_mailbox(s, brand=name)


def test_the_demo_mailbox_is_no_customer_and_is_stable(engine, brand_with_customer):
    mailbox = _mailbox(engine, "alpha mail")
    assert mailbox.brand == "Alpha Mail" and mailbox.asks_for_code
    assert mailbox.address == "preview@alpha-mail.invalid"  # .invalid: RFC 2606, never a real mailbox
    assert "not a real customer" in mailbox.label and "Alpha Mail" in mailbox.label
    with session_scope(engine) as s:
        assert s.scalars(select(User).where(User.email == mailbox.address)).first() is None
    # The same code on every read; another brand's demo mailbox has another secret.
    assert preview_mailbox.current_code(_mailbox(engine, "Alpha Mail"), now=NOW) == (
        preview_mailbox.current_code(mailbox, now=NOW)
    )
    beta = _mailbox(engine, "Beta Mail")
    assert beta.address == "preview@beta-mail.invalid"
    codes = [preview_mailbox.current_code(m, now=NOW + 30 * i) for i in range(4) for m in (mailbox, beta)]
    assert codes[0::2] != codes[1::2]
    with pytest.raises(NotFound):
        _mailbox(engine, "No Such Brand")


def test_the_current_code_passes_and_others_do_not(engine, brand_with_customer):
    mailbox = _mailbox(engine, "Alpha Mail")
    code = preview_mailbox.current_code(mailbox, now=NOW)
    assert preview_mailbox.verify(mailbox, code=code, now=NOW).ok
    assert preview_mailbox.verify(mailbox, code=code, now=NOW + 30).ok  # one step of drift (RFC 6238 §5.2)
    late = preview_mailbox.verify(mailbox, code=code, now=NOW + 90)
    assert (late.ok, late.rule) == (False, "code_wrong")
    # The customer's own code is not the demo mailbox's.
    theirs = pyotp.TOTP(brand_with_customer["secret"]).at(NOW)
    if theirs not in {preview_mailbox.current_code(mailbox, now=NOW + d) for d in (-30, 0, 30)}:
        assert not preview_mailbox.verify(mailbox, code=theirs, now=NOW).ok
    malformed = preview_mailbox.verify(mailbox, code="12ab", now=NOW)
    assert (malformed.ok, malformed.rule) == (False, "code_malformed")
    assert "6 digits" in malformed.message


def test_a_brand_with_2fa_off_asks_for_no_code(engine, brand_with_customer):
    mailbox = _mailbox(engine, "Off Mail")
    assert not mailbox.asks_for_code
    outcome = preview_mailbox.verify(mailbox, code=preview_mailbox.current_code(mailbox, now=NOW), now=NOW)
    assert (outcome.ok, outcome.rule) == (False, "2fa_off")


def test_ten_wrong_codes_touch_no_customer_who_still_signs_in(engine, brand_with_customer):
    mailbox = _mailbox(engine, "Alpha Mail")
    right = {preview_mailbox.current_code(mailbox, now=NOW + d) for d in (-30, 0, 30)}
    wrong = next(c for c in (f"{n:06d}" for n in range(0, 1_000_000, 111_111)) if c not in right)
    before = _rows(engine)
    for _ in range(10):
        assert not preview_mailbox.verify(mailbox, code=wrong, now=NOW).ok
    assert _rows(engine) == before
    with session_scope(engine, write=True) as s:
        outcome = mailbox_login.check_login(
            s,
            email=brand_with_customer["email"],
            secret=PASSWORD,
            code=pyotp.TOTP(brand_with_customer["secret"]).now(),
        )
    assert outcome.ok, outcome
