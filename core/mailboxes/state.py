"""A mailbox's 2FA state and an app password's state, as its effective brand's switches make them.

2FA: **on** when enrolled and the brand allows 2FA (a code is asked at login); **dormant**
when enrolled but the brand does not (the enrolment is kept and wakes when the switch
comes back); **off** when not enrolled. An app password: **revoked** once revoked, else
**active** when the brand allows app passwords and **suspended** when it does not.

Each rule is written here in Python (one mailbox), in SQL (one row a user, the effective
brand joined as ``Brand``) and as counts (groups of enrolled users, or of live app passwords,
under one brand).
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import ColumnElement, and_, case, literal

from core.platform.models import Brand, User

TwofaState = Literal["on", "off", "dormant"]
TWOFA_STATES: tuple[TwofaState, ...] = ("on", "off", "dormant")
AppPasswordState = Literal["active", "suspended", "revoked"]


def twofa_state(enrolled: bool, allow_2fa: bool) -> TwofaState:
    """on: enrolled and asked for a code; dormant: enrolled, brand disallows; off: not enrolled."""
    if not enrolled:
        return "off"
    return "on" if allow_2fa else "dormant"


def twofa_state_sql() -> ColumnElement[str]:
    """SQL for ``twofa_state`` of each user; needs ``Brand`` joined as the effective brand."""
    return case(
        (User.totp_enrolled_at.is_(None), literal("off")),
        (Brand.allow_2fa.is_(True), literal("on")),
        else_=literal("dormant"),
    )


def twofa_state_is(state: TwofaState) -> ColumnElement[bool]:
    """SQL: the user's 2FA is in ``state``; needs ``Brand`` joined as the effective brand."""
    if state == "off":
        return User.totp_enrolled_at.is_(None)
    return and_(User.totp_enrolled_at.is_not(None), Brand.allow_2fa.is_(state == "on"))


def enrolled_split(enrolled: int, allow_2fa: bool) -> tuple[int, int]:
    """(on, dormant) of ``enrolled`` users under one brand."""
    return (enrolled, 0) if allow_2fa else (0, enrolled)


def enrolled_on_sql(enrolled: ColumnElement[int], allow_2fa: ColumnElement[bool]) -> ColumnElement[int]:
    """SQL: how many of ``enrolled`` users are on (their brand's ``allow_2fa``)."""
    return case((allow_2fa.is_(True), enrolled), else_=0)


def enrolled_dormant_sql(enrolled: ColumnElement[int], allow_2fa: ColumnElement[bool]) -> ColumnElement[int]:
    """SQL: how many of ``enrolled`` users are dormant (their brand's ``allow_2fa``)."""
    return case((allow_2fa.is_(True), 0), else_=enrolled)


def active_count(live: int, allow_app_passwords: bool) -> int:
    """How many of ``live`` app passwords (or their users) under one brand are active."""
    return live if allow_app_passwords else 0


def active_count_sql(
    live: ColumnElement[int], allow_app_passwords: ColumnElement[bool]
) -> ColumnElement[int]:
    """SQL: how many of ``live`` app passwords (or their users) are active (their brand's switch)."""
    return case((allow_app_passwords.is_(True), live), else_=0)


def app_password_state(revoked: bool, allow_app_passwords: bool) -> AppPasswordState:
    """revoked once revoked; else active or suspended by the brand's switch."""
    if revoked:
        return "revoked"
    return "active" if allow_app_passwords else "suspended"


def live_app_password_state_sql() -> ColumnElement[str]:
    """SQL for ``app_password_state`` of a live app password; needs ``Brand`` joined as the
    owner's effective brand."""
    return case((Brand.allow_app_passwords.is_(True), literal("active")), else_=literal("suspended"))
