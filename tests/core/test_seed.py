"""The demo data loader, against a real SQLite file and (when reachable) PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from core.demo.credentials import DEMO_MAILBOX_PASSWORD, DEMO_OPERATORS, demo_operator_totp_secret
from core.demo.seed import SeedSummary, seed_demo
from core.platform.crypto import decrypt_secret, verify_password
from core.platform.db import dispose_engines, get_engine, session_scope, upgrade_schema
from core.platform.errors import Refused
from core.platform.models import (
    RESET_REASONS,
    AppPassword,
    AuditEvent,
    Brand,
    Company,
    Domain,
    Operator,
    SecurityEvent,
    User,
)
from tests.core.test_events import EXAMPLES

NOW = datetime(2026, 11, 1, tzinfo=UTC)
SMALL = {"brands": 10, "users": 2000, "seed": 11, "now": NOW}


# The `engine` fixture (tests/conftest.py) gives an empty, migrated SQLite file and
# PostgreSQL database in turn.


def _count(engine: Engine, model, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _counts(engine: Engine) -> dict[str, int]:
    return {
        "brands": _count(engine, Brand),
        "companies": _count(engine, Company),
        "domains": _count(engine, Domain),
        "users": _count(engine, User),
        "users_2fa_enrolled": _count(engine, User, User.totp_enrolled_at.is_not(None)),
        "app_passwords": _count(engine, AppPassword),
        "suspended": _count(engine, User, User.status == "suspended"),
        "audit_events": _count(engine, AuditEvent),
        "security_events": _count(engine, SecurityEvent),
        "operators": _count(engine, Operator),
    }


def _users_snapshot(engine: Engine) -> list[tuple]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                User.id,
                User.email,
                User.status,
                User.totp_enrolled_at.is_not(None),
                User.brand_id,
                User.domain_id,
                User.created_at,
                User.totp_enrolled_at,
            ).order_by(User.id)
        ).all()
    return [tuple(r) for r in rows]


@pytest.fixture
def seeded(engine: Engine) -> tuple[Engine, SeedSummary]:
    return engine, seed_demo(engine=engine, **SMALL)


def test_summary_counts_equal_the_tables(seeded):
    engine, summary = seeded
    expected = summary.as_dict()
    seconds = expected.pop("seconds")
    assert seconds > 0
    assert _counts(engine) == expected
    assert summary.users == 2000 and summary.brands == 10
    assert summary.companies == 30 and summary.operators == len(DEMO_OPERATORS)
    # Realistic proportions, loosely.
    assert 0.1 < summary.users_2fa_enrolled / summary.users < 0.7
    assert 0.005 < summary.suspended / summary.users < 0.07
    users_with_ap = _distinct_app_password_users(engine)
    assert 0.12 < users_with_ap / summary.users < 0.4


def _distinct_app_password_users(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count(func.distinct(AppPassword.user_id)))).scalar_one()


def test_progress_is_reported(engine):
    seen: list[tuple[str, float]] = []
    seed_demo(engine=engine, brands=3, users=50, now=NOW, progress=lambda s, f: seen.append((s, f)))
    fractions = [f for _s, f in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)
    assert all(isinstance(s, str) and s for s, _f in seen)


def test_same_arguments_give_the_same_users(seeded):
    engine, _summary = seeded
    first = _users_snapshot(engine)
    seed_demo(engine=engine, replace=True, **SMALL)
    assert _users_snapshot(engine) == first


def test_same_arguments_give_the_same_users_in_two_sqlite_files(tmp_path):
    snapshots = []
    for name in ("a.db", "b.db"):
        url = f"sqlite:///{tmp_path / name}"
        upgrade_schema(url)
        seed_demo(engine=get_engine(url), **SMALL)
        snapshots.append(_users_snapshot(get_engine(url)))
    dispose_engines()
    assert snapshots[0] == snapshots[1]
    assert len(snapshots[0]) == SMALL["users"]


def test_another_seed_gives_other_users(engine):
    seed_demo(engine=engine, **SMALL)
    first = _users_snapshot(engine)
    seed_demo(engine=engine, replace=True, **{**SMALL, "seed": 12})
    assert _users_snapshot(engine) != first


def test_every_switch_combination_is_present(seeded):
    engine, _summary = seeded
    with engine.connect() as conn:
        rows = conn.execute(
            select(Brand.id, Brand.allow_2fa, Brand.allow_user_disable_2fa, Brand.allow_app_passwords)
        ).all()
    combos = {(bool(a), bool(b), bool(c)) for _id, a, b, c in rows}
    assert len(combos) == 8
    by_id = {r[0]: (bool(r[1]), bool(r[2]), bool(r[3])) for r in rows}
    assert by_id[1] == (True, True, True)
    assert by_id[2] == (False, False, False)


def test_brand_names_are_unique_and_some_have_login_css(seeded):
    engine, _summary = seeded
    with engine.connect() as conn:
        names = conn.execute(select(Brand.name)).scalars().all()
        css = conn.execute(select(Brand.custom_login_css).where(Brand.custom_login_css != "")).scalars().all()
    assert len(names) == len(set(names)) == 10
    assert css, "at least one brand has custom login CSS"
    for sheet in css:
        assert "#login-form .box-inner .modalheader" in sheet
        assert "#login-form .box-inner .modal {" in sheet
        assert "url(" not in sheet


def test_no_user_has_more_than_four_live_app_passwords(seeded):
    engine, _summary = seeded
    with engine.connect() as conn:
        most = conn.execute(
            select(func.max(text("n"))).select_from(
                select(func.count().label("n"))
                .where(AppPassword.revoked_at.is_(None))
                .group_by(AppPassword.user_id)
                .subquery()
            )
        ).scalar_one()
        revoked = conn.execute(
            select(func.count()).select_from(AppPassword).where(AppPassword.revoked_at.is_not(None))
        ).scalar_one()
        early = conn.execute(
            select(func.count())
            .select_from(AppPassword)
            .join(User, User.id == AppPassword.user_id)
            .where(AppPassword.created_at < User.created_at)
        ).scalar_one()
    assert most <= 4
    assert revoked > 0
    assert early == 0


def test_enrolment_and_secret_go_together(seeded):
    engine, _summary = seeded
    mismatched = _count(engine, User, User.totp_enrolled_at.is_(None) != User.totp_secret.is_(None))
    assert mismatched == 0
    with engine.connect() as conn:
        secret = conn.execute(select(User.totp_secret).where(User.totp_secret.is_not(None))).scalars().first()
    assert len(decrypt_secret(secret)) == 32


def test_security_events_agree_with_the_users_table(seeded):
    engine, _summary = seeded
    with engine.connect() as conn:
        users = {uid: at for uid, at in conn.execute(select(User.id, User.totp_enrolled_at))}
        events = conn.execute(
            select(SecurityEvent.user_id, SecurityEvent.kind, SecurityEvent.at)
            .where(SecurityEvent.kind.in_(("2fa_enrolled", "2fa_reset")))
            .order_by(SecurityEvent.user_id, SecurityEvent.at, SecurityEvent.id)
        ).all()
        kinds = set(conn.execute(select(SecurityEvent.kind).distinct()).scalars())
    last: dict[int, tuple[str, datetime]] = {}
    for uid, kind, at in events:
        last[uid] = (kind, at)
    for uid, enrolled_at in users.items():
        kind_at = last.get(uid)
        if enrolled_at is None:
            assert kind_at is None or kind_at[0] == "2fa_reset", uid
        else:
            assert kind_at == ("2fa_enrolled", enrolled_at), uid
    assert kinds == {"2fa_enrolled", "2fa_reset", "app_password_created", "app_password_revoked"}


def test_security_events_carry_the_effective_brand(seeded):
    engine, _summary = seeded
    effective = func.coalesce(User.brand_id, Domain.brand_id, Company.brand_id)
    with engine.connect() as conn:
        wrong = conn.execute(
            select(func.count())
            .select_from(SecurityEvent)
            .join(User, User.id == SecurityEvent.user_id)
            .join(Domain, Domain.id == User.domain_id)
            .join(Company, Company.id == Domain.company_id)
            .where(SecurityEvent.brand_id != effective)
        ).scalar_one()
    assert wrong == 0


def test_audit_history(seeded):
    engine, summary = seeded
    with engine.connect() as conn:
        actions = dict(
            conn.execute(select(AuditEvent.action, func.count()).group_by(AuditEvent.action)).all()
        )
        seeded_event = conn.execute(
            select(AuditEvent.actor, AuditEvent.after).where(AuditEvent.action == "demo.seeded")
        ).one()
        resets = conn.execute(
            select(AuditEvent.actor, AuditEvent.reason, AuditEvent.user_id).where(
                AuditEvent.action == "user.2fa_reset"
            )
        ).all()
        changes = conn.execute(
            select(AuditEvent.before, AuditEvent.after, AuditEvent.brand_id, AuditEvent.actor).where(
                AuditEvent.action == "brand.switches_changed"
            )
        ).all()
    assert actions["demo.seeded"] == 1
    assert seeded_event.actor == "cli"
    assert seeded_event.after["users"] == summary.users
    assert actions.get("brand.switches_changed", 0) > 0
    assert actions.get("user.imported", 0) > 0
    for actor, reason, user_id in resets:
        assert actor == "support" and reason in RESET_REASONS and user_id
    for before, after, brand_id, actor in changes:
        assert brand_id and actor in {"manager", "admin"}
        switches = {"allow_2fa", "allow_user_disable_2fa", "allow_app_passwords"}
        assert set(before) == set(after) == {*switches, "version"}
        assert after["version"] == before["version"] + 1
        assert {k: before[k] for k in switches} != {k: after[k] for k in switches}


def test_each_brand_history_counts_its_versions_up_to_the_brand(seeded):
    engine, _summary = seeded
    with engine.connect() as conn:
        versions = dict(conn.execute(select(Brand.id, Brand.version)).all())
        rows = conn.execute(
            select(AuditEvent.brand_id, AuditEvent.before, AuditEvent.after)
            .where(AuditEvent.action.in_(["brand.switches_changed", "brand.css_saved"]))
            .order_by(AuditEvent.at)
        ).all()
    steps: dict[int, list[tuple[int, int]]] = {}
    for brand_id, before, after in rows:
        steps.setdefault(brand_id, []).append((before["version"], after["version"]))
    assert rows
    for brand_id, version in versions.items():
        made = steps.get(brand_id, [])
        assert made == [(v, v + 1) for v in range(1, version)], brand_id


def test_the_history_has_the_shape_the_console_writes(seeded):
    # Each seeded row has the object type and detail keys of its event type, as a live one.
    shapes = {
        event.name: (event.object_type, _keys(row["before"]), _keys(row["after"])) for event, row in EXAMPLES
    }
    engine, _summary = seeded
    with engine.connect() as conn:
        rows = conn.execute(
            select(AuditEvent.action, AuditEvent.object_type, AuditEvent.before, AuditEvent.after)
        )
        seen = {
            (action, object_type, _keys(before), _keys(after)) for action, object_type, before, after in rows
        }
    assert {action for action, *_ in seen} >= {
        "brand.switches_changed",
        "user.imported",
        "user.2fa_reset",
        "operator.created",
        "demo.seeded",
    }
    for action, *shape in seen:
        assert tuple(shape) == shapes[action], action


def _keys(details: dict | None) -> frozenset[str] | None:
    return None if details is None else frozenset(details)


def test_seeding_again_without_replace_is_refused_and_changes_nothing(seeded):
    engine, _summary = seeded
    before_counts = _counts(engine)
    before_users = _users_snapshot(engine)
    with pytest.raises(Refused, match="--replace"):
        seed_demo(engine=engine, brands=5, users=100, now=NOW)
    assert _counts(engine) == before_counts
    assert _users_snapshot(engine) == before_users


def test_an_operator_alone_is_enough_to_refuse(engine):
    with engine.begin() as conn:
        conn.execute(
            Operator.__table__.insert(),
            {
                "username": "alice",
                "display_name": "Alice",
                "role": "admin",
                "password_hash": "x",
                "totp_confirmed": False,
                "active": True,
                "created_at": NOW,
            },
        )
    with pytest.raises(Refused):
        seed_demo(engine=engine, brands=2, users=10, now=NOW)
    assert _count(engine, Brand) == 0


def test_replace_deletes_everything_and_seeds_again(seeded):
    engine, _summary = seeded
    summary = seed_demo(engine=engine, brands=4, users=300, seed=3, now=NOW, replace=True)
    counts = _counts(engine)
    assert counts["users"] == 300 == summary.users
    assert counts["brands"] == 4
    assert counts == {k: v for k, v in summary.as_dict().items() if k != "seconds"}
    # New rows get ids after the seeded ones (sequences follow on PostgreSQL).
    with session_scope(engine, write=True) as session:
        brand = Brand(name="Brand new")
        session.add(brand)
        session.flush()
        assert brand.id == 5


def test_demo_operators_can_sign_in(seeded):
    engine, _summary = seeded
    with engine.connect() as conn:
        ops = {o.username: o for o in conn.execute(select(Operator)).all()}
    assert set(ops) == set(DEMO_OPERATORS) == {"admin", "support", "manager", "analyst"}
    for username, (role, password) in DEMO_OPERATORS.items():
        op = ops[username]
        assert op.role == role
        assert op.active and op.totp_confirmed
        assert password == f"{username}-demo-pass"
        assert verify_password(op.password_hash, password)
        assert not verify_password(op.password_hash, "wrong-password")
        assert decrypt_secret(op.totp_secret) == demo_operator_totp_secret(username)
    assert verify_password(ops["admin"].password_hash, "admin-demo-pass")


def test_demo_mailbox_password_verifies(seeded):
    engine, _summary = seeded
    with engine.connect() as conn:
        stored = conn.execute(select(User.password_hash).limit(1)).scalar_one()
    assert verify_password(stored, DEMO_MAILBOX_PASSWORD)


def test_emails_are_unique_and_lowercase(seeded):
    engine, _summary = seeded
    with engine.connect() as conn:
        emails = conn.execute(select(User.email)).scalars().all()
        domains = set(conn.execute(select(Domain.name)).scalars())
    assert len(emails) == len(set(emails)) == 2000
    for email in emails:
        assert email == email.lower()
        local, _, domain = email.partition("@")
        assert domain in domains
        assert "." in local


def test_bad_sizes_are_refused_before_anything_is_written(engine):
    from core.platform.errors import BadInput

    with pytest.raises(BadInput):
        seed_demo(engine=engine, brands=0, users=10)
    with pytest.raises(BadInput):
        seed_demo(engine=engine, brands=1, users=0)
    assert _count(engine, Brand) == 0


def test_seeded_mailboxes_are_found_by_fragment(seeded):
    """The load rebuilds the search index once: every mailbox is findable by a fragment."""
    from core.reporting.search import search_users
    from core.reporting.search_query import UserSearch

    engine, _summary = seeded
    with session_scope(engine) as s:
        emails = s.scalars(select(User.email).order_by(User.id).limit(5)).all()
        for email in emails:
            fragment = email.split("@")[0][1:6]
            found = [r["email"] for r in search_users(s, UserSearch(text=fragment), limit=500)]
            assert email in found
