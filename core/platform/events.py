"""Every audit event the console writes: one frozen dataclass per event, with a stable name.

An event's ``name`` is what the ``action`` column, the audit-log filter and the exports
show; names never change once written, so old rows keep meaning the same. Its ``label``
is the phrase a page shows for it. Its typed fields say what the event records, and
``columns()`` turns them into the audit row's columns, the one place that does:

* ``object_type`` and ``object_key()`` (the field ``key_field``) name what it is about;
* ``details()`` gives the row's ``before`` and ``after``;
* a field named ``reason``, ``brand_id`` or ``user_id`` fills the column of that name.

``core.platform.audit.record`` writes one into a session; the demo seed builds its rows in
bulk from the same ``columns()``. An event names what happened (``app_password.revoked``),
never the permission that allowed or refused it (``app_password.revoke``): the permission
is a field of ``AccessRefused``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

Details = dict[str, Any] | None

_FIELD_COLUMNS = ("reason", "brand_id", "user_id")


@dataclass(frozen=True, kw_only=True)
class Event:
    """The base of every event; a subclass sets ``name``, ``label`` and ``object_type``."""

    name: ClassVar[str]
    label: ClassVar[str]
    object_type: ClassVar[str]
    key_field: ClassVar[str]

    def object_key(self) -> str:
        """What the event is about, by default the value of its field ``key_field``."""
        return getattr(self, self.key_field)

    def details(self) -> tuple[Details, Details]:
        """The row's ``before`` and ``after``; neither by default."""
        return None, None

    def columns(self) -> dict[str, Any]:
        """The audit row's columns, except ``id``, ``at`` and ``actor``."""
        before, after = self.details()
        return {
            "action": self.name,
            "object_type": self.object_type,
            "object_key": self.object_key(),
            "before": before,
            "after": after,
            **{column: getattr(self, column, None) for column in _FIELD_COLUMNS},
        }


# --- brands ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class BrandSwitchesChanged(Event):
    """Event name: ``brand.switches_changed``. A brand's switches were set; ``version`` is the
    version the change was made against (the row shows it before, and one more after)."""

    name = "brand.switches_changed"
    label = "Brand switches changed"
    object_type = "brand"
    key_field = "brand"

    brand: str
    brand_id: int
    before: Mapping[str, bool]
    after: Mapping[str, bool]
    version: int
    reason: str | None = None

    def details(self) -> tuple[Details, Details]:
        return {**self.before, "version": self.version}, {**self.after, "version": self.version + 1}


@dataclass(frozen=True, kw_only=True)
class BrandCssSaved(Event):
    """Event name: ``brand.css_saved``. A brand's login CSS was replaced (``before`` by ``css``)."""

    name = "brand.css_saved"
    label = "Brand login CSS saved"
    object_type = "brand"
    key_field = "brand"

    brand: str
    brand_id: int
    before: str
    css: str
    version: int

    def details(self) -> tuple[Details, Details]:
        return {"css": self.before, "version": self.version}, {"css": self.css, "version": self.version + 1}


# --- mailboxes ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MailboxCreated(Event):
    """Event name: ``user.created``. One mailbox was added; ``brand`` names its own brand, if any."""

    name = "user.created"
    label = "Mailbox created"
    object_type = "user"
    key_field = "email"

    email: str
    user_id: int
    display_name: str
    status: str
    brand: str | None = None

    def details(self) -> tuple[Details, Details]:
        return None, {"display_name": self.display_name, "status": self.status, "brand": self.brand}


@dataclass(frozen=True, kw_only=True)
class MailboxesImported(Event):
    """Event name: ``user.imported``. ``rows`` mailboxes arrived from ``source`` (a file's name)."""

    name = "user.imported"
    label = "Mailboxes imported"
    object_type = "import"
    key_field = "source"

    source: str
    rows: int
    brand_id: int | None = None

    def details(self) -> tuple[Details, Details]:
        return None, {"rows": self.rows}


@dataclass(frozen=True, kw_only=True)
class _MailboxEvent(Event):
    """A change of one mailbox's protection, under the brand in effect for it."""

    object_type = "user"
    key_field = "email"

    email: str
    user_id: int
    brand_id: int


@dataclass(frozen=True, kw_only=True)
class TwoFaEnrolled(_MailboxEvent):
    """Event name: ``user.2fa_enrolled``. A mailbox enrolled an authenticator."""

    name = "user.2fa_enrolled"
    label = "2FA enrolled"

    def details(self) -> tuple[Details, Details]:
        return {"twofa": "off"}, {"twofa": "on"}


@dataclass(frozen=True, kw_only=True)
class TwoFaReset(_MailboxEvent):
    """Event name: ``user.2fa_reset``. Support removed a mailbox's authenticator, for ``reason``.

    ``state`` is the 2FA state it had (``on``, or ``dormant`` under a brand with 2FA off);
    ``enrolled_at`` when it had enrolled (ISO 8601).
    """

    name = "user.2fa_reset"
    label = "2FA reset by support"

    state: str
    enrolled_at: str | None
    reason: str

    def details(self) -> tuple[Details, Details]:
        return {"twofa": self.state, "enrolled_at": self.enrolled_at}, {"twofa": "off"}


@dataclass(frozen=True, kw_only=True)
class TwoFaSelfDisabled(_MailboxEvent):
    """Event name: ``user.2fa_self_disabled``. A mailbox's user turned their own 2FA off."""

    name = "user.2fa_self_disabled"
    label = "2FA turned off by the user"

    def details(self) -> tuple[Details, Details]:
        return {"twofa": "on"}, {"twofa": "off"}


@dataclass(frozen=True, kw_only=True)
class _AppPasswordEvent(_MailboxEvent):
    object_type = "app_password"

    password_label: str

    def object_key(self) -> str:
        return f"{self.email}/{self.password_label}"


@dataclass(frozen=True, kw_only=True)
class AppPasswordCreated(_AppPasswordEvent):
    """Event name: ``app_password.created``. A mailbox got an app password labelled ``password_label``."""

    name = "app_password.created"
    label = "App password created"

    def details(self) -> tuple[Details, Details]:
        return None, {"label": self.password_label}


@dataclass(frozen=True, kw_only=True)
class AppPasswordRevoked(_AppPasswordEvent):
    """Event name: ``app_password.revoked``. A live app password was revoked."""

    name = "app_password.revoked"
    label = "App password revoked"

    reason: str | None = None

    def details(self) -> tuple[Details, Details]:
        return (
            {"label": self.password_label, "state": "live"},
            {"label": self.password_label, "state": "revoked"},
        )


# --- operators ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _OperatorEvent(Event):
    object_type = "operator"
    key_field = "username"

    username: str


@dataclass(frozen=True, kw_only=True)
class OperatorCreated(_OperatorEvent):
    """Event name: ``operator.created``."""

    name = "operator.created"
    label = "Operator created"

    role: str
    display_name: str

    def details(self) -> tuple[Details, Details]:
        return None, {"role": self.role, "display_name": self.display_name}


@dataclass(frozen=True, kw_only=True)
class OperatorRoleChanged(_OperatorEvent):
    """Event name: ``operator.role_changed``. The role went from ``before`` to ``role``."""

    name = "operator.role_changed"
    label = "Operator role changed"

    before: str
    role: str

    def details(self) -> tuple[Details, Details]:
        return {"role": self.before}, {"role": self.role}


@dataclass(frozen=True, kw_only=True)
class OperatorDeactivated(_OperatorEvent):
    """Event name: ``operator.deactivated``."""

    name = "operator.deactivated"
    label = "Operator deactivated"

    def details(self) -> tuple[Details, Details]:
        return {"active": True}, {"active": False}


@dataclass(frozen=True, kw_only=True)
class OperatorPasswordChanged(_OperatorEvent):
    """Event name: ``operator.password_changed``. Never carries the password."""

    name = "operator.password_changed"
    label = "Operator password changed"


@dataclass(frozen=True, kw_only=True)
class OperatorTotpReset(_OperatorEvent):
    """Event name: ``operator.totp_reset``. The operator enrols again at the next sign-in."""

    name = "operator.totp_reset"
    label = "Operator authenticator reset"

    def details(self) -> tuple[Details, Details]:
        return {"totp": "enrolled"}, {"totp": "none"}


@dataclass(frozen=True, kw_only=True)
class OperatorTotpEnrolled(_OperatorEvent):
    """Event name: ``operator.totp_enrolled``. The first code from a new authenticator was accepted."""

    name = "operator.totp_enrolled"
    label = "Operator authenticator enrolled"


@dataclass(frozen=True, kw_only=True)
class OperatorSignedIn(_OperatorEvent):
    """Event name: ``operator.sign_in``. ``ended_sessions`` older sessions were ended by it;
    ``provider`` and ``email`` are set for a single sign-on (OIDC)."""

    name = "operator.sign_in"
    label = "Operator signed in"

    ended_sessions: int = 0
    provider: str | None = None
    email: str | None = None

    def details(self) -> tuple[Details, Details]:
        ended = {"ended_sessions": self.ended_sessions} if self.ended_sessions else {}
        if self.provider is None:
            return None, ended or None
        return None, {"method": "oidc", "provider": self.provider, "email": self.email, **ended}


@dataclass(frozen=True, kw_only=True)
class OperatorSignInFailed(_OperatorEvent):
    """Event name: ``operator.sign_in_failed``. Which ``step`` failed, never the password or code;
    for a single sign-on, the ``provider`` and ``why``, never a token or another claim."""

    name = "operator.sign_in_failed"
    label = "Operator sign-in failed"

    step: str
    provider: str | None = None
    why: str | None = None

    def details(self) -> tuple[Details, Details]:
        if self.provider is None:
            return None, {"step": self.step}
        return None, {"step": self.step, "method": "oidc", "provider": self.provider, "reason": self.why}


@dataclass(frozen=True, kw_only=True)
class OperatorSignedOut(_OperatorEvent):
    """Event name: ``operator.sign_out``."""

    name = "operator.sign_out"
    label = "Operator signed out"


@dataclass(frozen=True, kw_only=True)
class OperatorSignedOutEverywhere(_OperatorEvent):
    """Event name: ``operator.signed_out_everywhere``. Every session of the operator ended."""

    name = "operator.signed_out_everywhere"
    label = "Operator signed out everywhere"

    ended_sessions: int

    def details(self) -> tuple[Details, Details]:
        return None, {"ended_sessions": self.ended_sessions}


# --- access, notices, demo ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AccessRefused(Event):
    """Event name: ``access.refused``. ``require`` refused ``permission`` to an actor of ``role``,
    for ``why``; written after the refused transaction was rolled back."""

    name = "access.refused"
    label = "Action refused"
    object_type = "permission"
    key_field = "permission"

    permission: str
    why: str
    role: str

    def details(self) -> tuple[Details, Details]:
        return None, {"why": self.why, "role": self.role}


@dataclass(frozen=True, kw_only=True)
class _MailAuthTokenEvent(Event):
    object_type = "mail_auth_token"
    key_field = "token_label"

    token_label: str


@dataclass(frozen=True, kw_only=True)
class MailAuthTokenCreated(_MailAuthTokenEvent):
    """Event name: ``mail_auth.token_created``. A mail server's token for ``POST /api/mail-auth``
    was made; the token itself is in no row."""

    name = "mail_auth.token_created"
    label = "Mail-server token created"

    def details(self) -> tuple[Details, Details]:
        return None, {"label": self.token_label, "state": "live"}


@dataclass(frozen=True, kw_only=True)
class MailAuthTokenRevoked(_MailAuthTokenEvent):
    """Event name: ``mail_auth.token_revoked``. The mail server holding it is refused from then on."""

    name = "mail_auth.token_revoked"
    label = "Mail-server token revoked"

    def details(self) -> tuple[Details, Details]:
        return {"label": self.token_label, "state": "live"}, {"label": self.token_label, "state": "revoked"}


@dataclass(frozen=True, kw_only=True)
class NotificationSent(Event):
    """Event name: ``notification.sent``. A queued customer notification was delivered."""

    name = "notification.sent"
    label = "Customer notification sent"
    object_type = "notification"
    key_field = "recipient"

    recipient: str
    notification_id: int
    kind: str
    attempts: int
    brand_id: int | None
    user_id: int

    def details(self) -> tuple[Details, Details]:
        return None, {"notification_id": self.notification_id, "kind": self.kind, "attempts": self.attempts}


@dataclass(frozen=True, kw_only=True)
class DemoSeeded(Event):
    """Event name: ``demo.seeded``. Demo data was loaded from these arguments."""

    name = "demo.seeded"
    label = "Demo data loaded"
    object_type = "database"

    brands: int
    users: int
    seed: int
    reference_time: str

    def object_key(self) -> str:
        return "demo"

    def details(self) -> tuple[Details, Details]:
        return None, {
            "brands": self.brands,
            "users": self.users,
            "seed": self.seed,
            "reference_time": self.reference_time,
        }


EVENT_TYPES: tuple[type[Event], ...] = (
    BrandSwitchesChanged,
    BrandCssSaved,
    MailboxCreated,
    MailboxesImported,
    TwoFaEnrolled,
    TwoFaReset,
    TwoFaSelfDisabled,
    AppPasswordCreated,
    AppPasswordRevoked,
    OperatorCreated,
    OperatorRoleChanged,
    OperatorDeactivated,
    OperatorPasswordChanged,
    OperatorTotpReset,
    OperatorTotpEnrolled,
    OperatorSignedIn,
    OperatorSignInFailed,
    OperatorSignedOut,
    OperatorSignedOutEverywhere,
    AccessRefused,
    MailAuthTokenCreated,
    MailAuthTokenRevoked,
    NotificationSent,
    DemoSeeded,
)

# Every event's name and the phrase a page shows for it, in the order above.
LABELS: dict[str, str] = {event.name: event.label for event in EVENT_TYPES}
