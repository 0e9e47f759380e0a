"""Audit events: stable names, the columns each one fills, and one way to write them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.access.permissions import PERMISSIONS
from core.platform import audit, events
from core.platform.db import session_scope
from core.platform.models import AuditEvent

# The names the audit log, its exports and old rows rely on: never renamed.
STABLE = {
    "brand.switches_changed": "Brand switches changed",
    "brand.css_saved": "Brand login CSS saved",
    "user.created": "Mailbox created",
    "user.imported": "Mailboxes imported",
    "user.2fa_enrolled": "2FA enrolled",
    "user.2fa_reset": "2FA reset by support",
    "user.2fa_self_disabled": "2FA turned off by the user",
    "app_password.created": "App password created",
    "app_password.revoked": "App password revoked",
    "operator.created": "Operator created",
    "operator.role_changed": "Operator role changed",
    "operator.deactivated": "Operator deactivated",
    "operator.password_changed": "Operator password changed",
    "operator.totp_reset": "Operator authenticator reset",
    "operator.totp_enrolled": "Operator authenticator enrolled",
    "operator.sign_in": "Operator signed in",
    "operator.sign_in_failed": "Operator sign-in failed",
    "operator.sign_out": "Operator signed out",
    "operator.signed_out_everywhere": "Operator signed out everywhere",
    "access.refused": "Action refused",
    "mail_auth.token_created": "Mail-server token created",
    "mail_auth.token_revoked": "Mail-server token revoked",
    "notification.sent": "Customer notification sent",
    "demo.seeded": "Demo data loaded",
}

SWITCHES = {"allow_2fa": True, "allow_user_disable_2fa": False, "allow_app_passwords": True}


def _row(
    action, object_type, object_key, before=None, after=None, reason=None, brand_id=None, user_id=None
) -> dict:
    return {
        "action": action,
        "object_type": object_type,
        "object_key": object_key,
        "before": before,
        "after": after,
        "reason": reason,
        "brand_id": brand_id,
        "user_id": user_id,
    }


# One example of every event, and the row it makes, written out by hand.
EXAMPLES = [
    (
        events.BrandSwitchesChanged(
            brand="North",
            brand_id=3,
            before=SWITCHES,
            after={**SWITCHES, "allow_2fa": False},
            version=4,
            reason="ticket 12",
        ),
        _row(
            "brand.switches_changed",
            "brand",
            "North",
            {**SWITCHES, "version": 4},
            {**SWITCHES, "allow_2fa": False, "version": 5},
            "ticket 12",
            brand_id=3,
        ),
    ),
    (
        events.BrandCssSaved(brand="North", brand_id=3, before="", css="a {}", version=1),
        _row(
            "brand.css_saved",
            "brand",
            "North",
            {"css": "", "version": 1},
            {"css": "a {}", "version": 2},
            brand_id=3,
        ),
    ),
    (
        events.MailboxCreated(email="ann@x.example", user_id=7, display_name="Ann", status="active"),
        _row(
            "user.created",
            "user",
            "ann@x.example",
            after={"display_name": "Ann", "status": "active", "brand": None},
            user_id=7,
        ),
    ),
    (
        events.MailboxesImported(source="people.csv", rows=20),
        _row("user.imported", "import", "people.csv", after={"rows": 20}),
    ),
    (
        events.TwoFaEnrolled(email="ann@x.example", user_id=7, brand_id=3),
        _row("user.2fa_enrolled", "user", "ann@x.example", {"twofa": "off"}, {"twofa": "on"}, None, 3, 7),
    ),
    (
        events.TwoFaReset(
            email="ann@x.example",
            user_id=7,
            brand_id=3,
            state="dormant",
            enrolled_at="2026-01-02T03:04:05+00:00",
            reason="lost phone",
        ),
        _row(
            "user.2fa_reset",
            "user",
            "ann@x.example",
            {"twofa": "dormant", "enrolled_at": "2026-01-02T03:04:05+00:00"},
            {"twofa": "off"},
            "lost phone",
            3,
            7,
        ),
    ),
    (
        events.TwoFaSelfDisabled(email="ann@x.example", user_id=7, brand_id=3),
        _row(
            "user.2fa_self_disabled", "user", "ann@x.example", {"twofa": "on"}, {"twofa": "off"}, None, 3, 7
        ),
    ),
    (
        events.AppPasswordCreated(email="ann@x.example", user_id=7, brand_id=3, password_label="Phone"),
        _row(
            "app_password.created",
            "app_password",
            "ann@x.example/Phone",
            None,
            {"label": "Phone"},
            None,
            3,
            7,
        ),
    ),
    (
        events.AppPasswordRevoked(email="ann@x.example", user_id=7, brand_id=3, password_label="Phone"),
        _row(
            "app_password.revoked",
            "app_password",
            "ann@x.example/Phone",
            {"label": "Phone", "state": "live"},
            {"label": "Phone", "state": "revoked"},
            None,
            3,
            7,
        ),
    ),
    (
        events.OperatorCreated(username="sam", role="support", display_name="Sam"),
        _row("operator.created", "operator", "sam", after={"role": "support", "display_name": "Sam"}),
    ),
    (
        events.OperatorRoleChanged(username="sam", before="support", role="admin"),
        _row("operator.role_changed", "operator", "sam", {"role": "support"}, {"role": "admin"}),
    ),
    (
        events.OperatorDeactivated(username="sam"),
        _row("operator.deactivated", "operator", "sam", {"active": True}, {"active": False}),
    ),
    (events.OperatorPasswordChanged(username="sam"), _row("operator.password_changed", "operator", "sam")),
    (
        events.OperatorTotpReset(username="sam"),
        _row("operator.totp_reset", "operator", "sam", {"totp": "enrolled"}, {"totp": "none"}),
    ),
    (events.OperatorTotpEnrolled(username="sam"), _row("operator.totp_enrolled", "operator", "sam")),
    (events.OperatorSignedIn(username="sam"), _row("operator.sign_in", "operator", "sam")),
    (
        events.OperatorSignedIn(username="sam", ended_sessions=2),
        _row("operator.sign_in", "operator", "sam", after={"ended_sessions": 2}),
    ),
    (
        events.OperatorSignedIn(username="sam", provider="corp", email="sam@corp.example"),
        _row(
            "operator.sign_in",
            "operator",
            "sam",
            after={"method": "oidc", "provider": "corp", "email": "sam@corp.example"},
        ),
    ),
    (
        events.OperatorSignedIn(username="sam", ended_sessions=1, provider="corp", email="sam@corp.example"),
        _row(
            "operator.sign_in",
            "operator",
            "sam",
            after={"method": "oidc", "provider": "corp", "email": "sam@corp.example", "ended_sessions": 1},
        ),
    ),
    (
        events.OperatorSignInFailed(username="sam", step="password"),
        _row("operator.sign_in_failed", "operator", "sam", after={"step": "password"}),
    ),
    (
        events.OperatorSignInFailed(username="sam", step="oidc", provider="corp", why="deactivated"),
        _row(
            "operator.sign_in_failed",
            "operator",
            "sam",
            after={"step": "oidc", "method": "oidc", "provider": "corp", "reason": "deactivated"},
        ),
    ),
    (events.OperatorSignedOut(username="sam"), _row("operator.sign_out", "operator", "sam")),
    (
        events.OperatorSignedOutEverywhere(username="sam", ended_sessions=3),
        _row("operator.signed_out_everywhere", "operator", "sam", after={"ended_sessions": 3}),
    ),
    (
        events.AccessRefused(permission="brand.update", why="role", role="analyst"),
        _row("access.refused", "permission", "brand.update", after={"why": "role", "role": "analyst"}),
    ),
    (
        events.MailAuthTokenCreated(token_label="imap1"),
        _row(
            "mail_auth.token_created", "mail_auth_token", "imap1", after={"label": "imap1", "state": "live"}
        ),
    ),
    (
        events.MailAuthTokenRevoked(token_label="imap1"),
        _row(
            "mail_auth.token_revoked",
            "mail_auth_token",
            "imap1",
            before={"label": "imap1", "state": "live"},
            after={"label": "imap1", "state": "revoked"},
        ),
    ),
    (
        events.NotificationSent(
            recipient="ann@x.example", notification_id=9, kind="2fa_reset", attempts=1, brand_id=3, user_id=7
        ),
        _row(
            "notification.sent",
            "notification",
            "ann@x.example",
            after={"notification_id": 9, "kind": "2fa_reset", "attempts": 1},
            brand_id=3,
            user_id=7,
        ),
    ),
    (
        events.DemoSeeded(brands=4, users=100, seed=7, reference_time="2026-11-01T00:00:00+00:00"),
        _row(
            "demo.seeded",
            "database",
            "demo",
            after={"brands": 4, "users": 100, "seed": 7, "reference_time": "2026-11-01T00:00:00+00:00"},
        ),
    ),
]


def _concrete(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= _concrete(sub)
        if "name" in vars(sub):
            found.add(sub)
    return found


def test_event_names_and_labels_are_stable():
    assert events.LABELS == STABLE
    assert len({cls.name for cls in events.EVENT_TYPES}) == len(events.EVENT_TYPES)


def test_every_event_class_is_listed():
    assert _concrete(events.Event) == set(events.EVENT_TYPES)


def test_every_event_type_has_an_example():
    assert {type(event) for event, _row in EXAMPLES} == set(events.EVENT_TYPES)


@pytest.mark.parametrize(("event", "row"), EXAMPLES, ids=lambda v: getattr(v, "name", ""))
def test_each_event_fills_the_columns_as_written(event, row):
    assert event.columns() == row


def test_a_permission_is_not_an_event_name():
    assert not set(PERMISSIONS) & set(events.LABELS)


def test_record_writes_the_event_in_the_callers_transaction(engine):
    with session_scope(engine, write=True) as s:
        written = audit.record(s, events.OperatorSignedOut(username="sam"), actor="sam")
        assert written in s.new
    with session_scope(engine) as s:
        got = s.scalars(select(AuditEvent)).one()
    assert (got.actor, got.action, got.object_key, got.after) == ("sam", "operator.sign_out", "sam", None)


class _Stray:
    """Looks like an event, but is not one of the listed types."""

    name = "operator.stray"

    def columns(self) -> dict:
        return {**events.OperatorSignedOut(username="sam").columns(), "action": self.name}


def test_record_refuses_an_event_that_is_not_listed(engine):
    with pytest.raises(ValueError, match="_Stray"), session_scope(engine, write=True) as s:
        audit.record(s, _Stray(), actor="sam")
    with session_scope(engine) as s:
        assert s.scalars(select(AuditEvent)).all() == []
