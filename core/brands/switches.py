"""Brands: the article's three switches, applied with one Update, and the login CSS.

Switch changes use optimistic concurrency: the caller names the version it loaded, and a
save against a newer version is refused with what changed in between (PRODUCT.md: no
silent overwrite of a colleague's change). The version check is one conditional UPDATE,
so it holds on SQLite and PostgreSQL without holding locks while a person reads a form.

How the switches combine: ``allow_user_disable_2fa`` is stored as set but means nothing while
``allow_2fa`` is off (PRODUCT.md). ``inert_switches`` says which switches mean nothing and
why; a form's change (``form_change``) leaves such a switch as it is, and the impact
(``preview_impact``) counts it as off.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, func, select, update
from sqlmodel import Session

from core.access.permissions import Actor, require
from core.platform import audit
from core.platform.db import first_or_missing
from core.platform.errors import BadInput, Conflict
from core.platform.events import BrandCssSaved, BrandSwitchesChanged
from core.platform.models import AuditEvent, Brand, utcnow
from core.reporting.adoption import AdoptionFilter, adoption_by_brand, brand_counts

SWITCHES = ("allow_2fa", "allow_user_disable_2fa", "allow_app_passwords")
SWITCH_LABELS = {
    "allow_2fa": "Allow two-factor auth (2FA)",
    "allow_user_disable_2fa": "Allow users to disable 2FA",
    "allow_app_passwords": "Allow app-specific passwords",
}


@dataclass(frozen=True)
class SwitchChange:
    """The switches to set; None leaves a switch as it is."""

    allow_2fa: bool | None = None
    allow_user_disable_2fa: bool | None = None
    allow_app_passwords: bool | None = None

    def as_dict(self) -> dict[str, bool]:
        return {k: getattr(self, k) for k in SWITCHES if getattr(self, k) is not None}


@dataclass
class Impact:
    """What a switch change would do, counted before it is applied."""

    brand: str
    before: dict[str, bool]
    after: dict[str, bool]
    users: int = 0
    enrolled_silenced: int = 0  # enrolled users who stop being asked for a code (dormant)
    enrolled_woken: int = 0  # dormant enrolments asked for a code again
    app_passwords_suspended: int = 0
    app_passwords_resumed: int = 0
    users_with_app_passwords: int = 0
    sentences: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _clean_name(name: str) -> str:
    return (name or "").strip()


def get_brand(session: Session, name: str, *, for_update: bool = False) -> Brand:
    return first_or_missing(
        session,
        select(Brand).where(func.lower(Brand.name) == _clean_name(name).lower()),
        for_update=for_update,
        missing=f"There is no brand {name!r}; `python -m core brands list` shows them.",
    )


def switches_of(brand: Brand) -> dict[str, bool]:
    return {k: bool(getattr(brand, k)) for k in SWITCHES}


def list_brands(session: Session) -> list[dict]:
    """Every brand with its switches, version and adoption figures."""
    versions = dict(session.execute(select(Brand.name, Brand.version)).all())
    return [
        {"name": r["brand"], "version": versions.get(r["brand"]), **r} for r in adoption_by_brand(session)
    ]


def brand_detail(session: Session, name: str) -> dict:
    brand = get_brand(session, name)
    figures = adoption_by_brand(session, AdoptionFilter(brand=brand.name))[0]
    return {
        "name": brand.name,
        **switches_of(brand),
        "custom_login_css": brand.custom_login_css,
        "version": brand.version,
        "updated_at": brand.updated_at,
        "updated_by": brand.updated_by,
        **{k: figures[k] for k in figures if k not in SWITCHES and k != "brand"},
    }


def inert_switches(switches: dict[str, bool]) -> dict[str, str]:
    """The switches that mean nothing with these settings, each with why, in words."""
    if switches.get("allow_2fa"):
        return {}
    return {
        "allow_user_disable_2fa": (
            f"Means nothing while 2FA is off: turn on “{SWITCH_LABELS['allow_2fa']}” first."
        )
    }


def form_change(loaded: dict[str, bool], form: dict[str, bool]) -> SwitchChange:
    """The change a form of the three switches asks for, against the brand as loaded.

    Only the switches that differ from ``loaded`` are set; a switch that means nothing with
    the form's settings (``inert_switches``) is left as it is, whatever its toggle shows.
    """
    inert = inert_switches(form)
    return SwitchChange(**{k: form[k] for k in SWITCHES if k not in inert and form[k] != loaded[k]})


def _effective(switches: dict[str, bool]) -> dict[str, bool]:
    inert = inert_switches(switches)
    return {k: switches[k] and k not in inert for k in SWITCHES}


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def preview_impact(session: Session, name: str, change: SwitchChange) -> Impact:
    """What ``change`` would do to the brand, in numbers and words. Changes nothing."""
    brand = get_brand(session, name)
    before = switches_of(brand)
    after = {**before, **change.as_dict()}
    users, enrolled, ap, ap_users = brand_counts(session, brand.id)
    imp = Impact(brand=brand.name, before=before, after=after, users=users, users_with_app_passwords=ap_users)
    eb, ea = _effective(before), _effective(after)
    if eb["allow_2fa"] and not ea["allow_2fa"]:
        imp.enrolled_silenced = enrolled
        imp.sentences.append(
            f"{_n(enrolled, 'enrolled user')} will no longer be asked for a code; "
            "their enrolments are kept (dormant) and wake when 2FA is allowed again."
        )
    elif not eb["allow_2fa"] and ea["allow_2fa"]:
        imp.enrolled_woken = enrolled
        imp.sentences.append(
            f"{_users_can(users)} enrol an authenticator; {_n(enrolled, 'dormant enrolment')} "
            "will be asked for a code again at the next login."
        )
    if eb["allow_user_disable_2fa"] != ea["allow_user_disable_2fa"]:
        verb = "may now turn" if ea["allow_user_disable_2fa"] else "may no longer turn"
        imp.sentences.append(f"{_n(enrolled, 'enrolled user')} {verb} their own 2FA off.")
    if before["allow_app_passwords"] and not after["allow_app_passwords"]:
        imp.app_passwords_suspended = ap
        imp.sentences.append(
            f"{_n(ap, 'app password')} of {_n(ap_users, 'user')} will stop working (suspended, not deleted)."
        )
    elif not before["allow_app_passwords"] and after["allow_app_passwords"]:
        imp.app_passwords_resumed = ap
        imp.sentences.append(
            f"{_users_can(users)} create app passwords; {_n(ap, 'suspended app password')} will work again."
        )
    if not imp.changed:
        imp.sentences.append("Nothing changes: the switches are already set this way.")
    return imp


def _users_can(users: int) -> str:
    return f"{users:,} user{' ' if users == 1 else 's '}can"


def _describe_since(session: Session, brand: Brand, version: int) -> str:
    """The changes saved since ``version``, from the brand's own audit events."""
    events = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.brand_id == brand.id,
            AuditEvent.action.in_(["brand.switches_changed", "brand.css_saved"]),
        )
        .order_by(AuditEvent.id.desc())
        .limit(max(1, brand.version - version))
    ).all()
    parts = []
    for ev in reversed(events):
        if ev.action == "brand.css_saved":
            parts.append(f"{ev.actor} saved new login CSS at {ev.at:%H:%M} UTC")
            continue
        changed = [
            f"{SWITCH_LABELS[k]} {'on' if ev.after[k] else 'off'}"
            for k in SWITCHES
            if ev.before and ev.after and k in ev.after and ev.before.get(k) != ev.after.get(k)
        ]
        parts.append(f"{ev.actor} set {', '.join(changed) or 'the switches'} at {ev.at:%H:%M} UTC")
    return "; ".join(parts) or "another change was saved"


def _as_loaded(
    session: Session, name: str, expected_version: int | None, next_step: str
) -> tuple[Brand, int]:
    """The brand and the version the change is made against: the one the caller loaded, or
    (none named) the current one, locked. A newer version is refused with what changed since
    (PRODUCT.md: no silent overwrite of a colleague's change) and ``next_step``."""
    brand = get_brand(session, name, for_update=expected_version is None)
    version = brand.version if expected_version is None else expected_version
    if brand.version != version:
        raise Conflict(
            f"{brand.name} was changed since you loaded it (version {version} → {brand.version}): "
            f"{_describe_since(session, brand, version)}. {next_step}"
        )
    return brand, version


def set_switches(
    session: Session,
    *,
    actor: Actor,
    name: str,
    change: SwitchChange,
    expected_version: int | None = None,
    reason: str | None = None,
) -> Impact:
    """Apply ``change`` to the whole brand at once (the article's one "Update").

    ``expected_version`` is the version the caller loaded; None means "whatever is there
    now" (the command line, which shows no form). Returns the impact that was applied.
    """
    actor = require(session, actor, "brand.update")
    if not change.as_dict():
        raise BadInput("No switch was given: name at least one of the three switches to change.")
    brand, version = _as_loaded(
        session, name, expected_version, "Reload the brand, check the switches, then apply your change again."
    )
    impact = preview_impact(session, brand.name, change)
    if not impact.changed:
        return impact
    result = session.execute(
        update(Brand)
        .where(and_(Brand.id == brand.id, Brand.version == version))
        .values(**change.as_dict(), version=Brand.version + 1, updated_at=utcnow(), updated_by=actor.name)
    )
    if result.rowcount != 1:
        raise Conflict(
            f"{brand.name} was changed by another operator at the same moment; reload it and apply "
            "your change again."
        )
    audit.record(
        session,
        BrandSwitchesChanged(
            brand=brand.name,
            brand_id=brand.id,
            before=impact.before,
            after=impact.after,
            version=version,
            reason=reason,
        ),
        actor=actor.name,
    )
    session.expire(brand)
    return impact


def bulk_set_switches(
    session: Session,
    *,
    actor: Actor,
    names: list[str],
    change: SwitchChange,
    expected_versions: dict[str, int] | None = None,
) -> list[Impact]:
    """The same change on several brands, all or none (one transaction: any refusal undoes all)."""
    actor = require(session, actor, "brand.update")
    if not names:
        raise BadInput("Select at least one brand for a bulk change.")
    expected_versions = expected_versions or {}
    seen: set[str] = set()
    impacts = []
    for name in names:
        key = _clean_name(name).lower()
        if key in seen:
            continue
        seen.add(key)
        impacts.append(
            set_switches(
                session,
                actor=actor,
                name=name,
                change=change,
                expected_version=expected_versions.get(name),
            )
        )
    return impacts


def save_css(
    session: Session,
    *,
    actor: Actor,
    name: str,
    css: str,
    expected_version: int | None = None,
) -> tuple[Brand, list]:
    """Check and store a brand's login CSS; returns the brand and the warnings found.

    The CSS goes through ``core.brands.css.check.validate_css``: refused CSS raises its
    ``CssRejected`` (a ``BadInput`` carrying the report, each finding with its rule and line)
    when it could run script or load from elsewhere. It is stored as re-serialized.
    """
    from core.brands.css.check import validate_css

    actor = require(session, actor, "brand.css")
    report = validate_css(css or "")
    brand, version = _as_loaded(session, name, expected_version, "Reload to see it before saving your CSS.")
    before = brand.custom_login_css
    if before == report.css:
        return brand, list(report.warnings)
    result = session.execute(
        update(Brand)
        .where(and_(Brand.id == brand.id, Brand.version == version))
        .values(
            custom_login_css=report.css, version=Brand.version + 1, updated_at=utcnow(), updated_by=actor.name
        )
    )
    if result.rowcount != 1:
        raise Conflict(f"{brand.name} was changed by another operator at the same moment; reload it.")
    audit.record(
        session,
        BrandCssSaved(brand=brand.name, brand_id=brand.id, before=before, css=report.css, version=version),
        actor=actor.name,
    )
    session.expire(brand)
    return get_brand(session, brand.name), list(report.warnings)


def create_brand(session: Session, *, actor: Actor, name: str, **switches: bool) -> Brand:
    """A new brand (demo data, imports and tests); switches off unless given."""
    require(session, actor, "brand.create")
    clean = _clean_name(name)
    if not clean or len(clean) > 120:
        raise BadInput("A brand name needs 1 to 120 characters.")
    if session.scalars(select(Brand.id).where(func.lower(Brand.name) == clean.lower())).first():
        raise BadInput(f"Brand {clean!r} exists already.")
    brand = Brand(name=clean, **{k: bool(switches.get(k, False)) for k in SWITCHES})
    session.add(brand)
    session.flush()
    return brand
