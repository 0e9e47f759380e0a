"""core.reporting.history, at_risk and overview against a real SQLite file and a real PostgreSQL database.

Every figure is checked against a count made in Python from the rows the test inserted.
PostgreSQL runs in a database of its own (created and dropped here); it is skipped with the
reason when unreachable, and a failure when the environment variable CI is set.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, update

from core.platform.db import get_engine, session_scope
from core.platform.models import AppPassword, Brand, Company, Domain, SecurityEvent, User, utcnow

# tests/conftest.py sets MAC_SECRET_KEY and MAC_DATA_DIR before any core import.
from core.reporting import at_risk, history, overview
from tests.conftest import new_database

KIND_COL = {
    "2fa_enrolled": "enrolments",
    "2fa_reset": "resets",
    "2fa_self_disabled": "self_disables",
    "app_password_created": "app_passwords_created",
    "app_password_revoked": "app_passwords_revoked",
}


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


# --- a small world, described in Python as well as stored ----------------------------------


@dataclass
class World:
    url: str
    now: datetime
    brands: dict[str, dict] = field(default_factory=dict)
    users: list[dict] = field(default_factory=list)
    events: list[tuple[datetime, str, str]] = field(default_factory=list)  # (at, brand, kind)

    @property
    def engine(self):
        return get_engine(self.url)


def month_key(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m")


def month_start(now: datetime, back: int) -> datetime:
    y, m = now.year, now.month - back
    while m <= 0:
        y, m = y - 1, m + 12
    return datetime(y, m, 1, tzinfo=UTC)


def build_world(url: str, seed: int = 7) -> World:
    now = utcnow()
    rng = random.Random(seed)
    w = World(url=url, now=now)

    def ago(days: int) -> datetime:  # a quarter-day off the day, far from every cut-off
        return now - timedelta(days=days, hours=6)

    w.brands = {
        "Alpha": {"allow_2fa": True, "allow_user_disable_2fa": True, "allow_app_passwords": True},
        "Beta": {"allow_2fa": False, "allow_user_disable_2fa": False, "allow_app_passwords": True},
        "Gamma": {"allow_2fa": True, "allow_user_disable_2fa": False, "allow_app_passwords": False},
        "Delta": {"allow_2fa": False, "allow_user_disable_2fa": False, "allow_app_passwords": False},
    }
    companies = {"Acme": "Alpha", "Bolt": "Beta"}
    domains = {
        "acme.example": ("Acme", None),
        "beta.acme.example": ("Acme", "Beta"),
        "bolt.example": ("Bolt", None),
        "gamma.example": ("Bolt", "Gamma"),
    }
    with session_scope(w.engine, write=True) as s:
        bid = {}
        for name, sw in w.brands.items():
            b = Brand(name=name, **sw)
            s.add(b)
            s.flush()
            bid[name] = b.id
        cid = {}
        for name, brand in companies.items():
            c = Company(name=name, brand_id=bid[brand])
            s.add(c)
            s.flush()
            cid[name] = c.id
        did = {}
        for name, (company, brand) in domains.items():
            d = Domain(name=name, company_id=cid[company], brand_id=bid[brand] if brand else None)
            s.add(d)
            s.flush()
            did[name] = d.id

        def add_event(user_id: int, brand: str, kind: str, at: datetime) -> None:
            s.add(SecurityEvent(user_id=user_id, brand_id=bid[brand], kind=kind, at=at))
            w.events.append((at, brand, kind))

        for i in range(90):
            domain = rng.choice(list(domains))
            company, dom_brand = domains[domain]
            user_brand = rng.choice([None, None, None, None, "Gamma", "Alpha", "Beta"])
            eff = user_brand or dom_brand or companies[company]
            enrolled_at = None
            if rng.random() < 0.55:
                enrolled_at = ago(rng.choice([rng.randint(1, 29), rng.randint(31, 1100)]))
            u = User(
                email=f"user{i:03d}@{domain}",
                domain_id=did[domain],
                brand_id=bid[user_brand] if user_brand else None,
                display_name=f"User {i}",
                status="suspended" if i % 9 == 0 else "active",
                created_at=ago(rng.choice([2, 12, 28, 33, 200, 900])),
                last_login_at=ago(rng.randint(0, 50)) if rng.random() < 0.7 else None,
                totp_enrolled_at=enrolled_at,
            )
            s.add(u)
            s.flush()
            if enrolled_at:
                add_event(u.id, eff, "2fa_enrolled", enrolled_at)
            elif rng.random() < 0.4:  # enrolled once, then reset or turned off
                t0 = ago(rng.randint(40, 900))
                add_event(u.id, eff, "2fa_enrolled", t0)
                kind = rng.choice(["2fa_reset", "2fa_self_disabled"])
                add_event(u.id, eff, kind, t0 + timedelta(days=rng.randint(1, 35)))
            aps = []
            for n in range(rng.choice([0, 0, 1, 2, 4])):
                created = ago(rng.choice([3, 20, 60, 100, 150, 400]))
                used = rng.choice([None, ago(1), ago(45), ago(95), ago(300)])
                revoked = created + timedelta(days=1) if rng.random() < 0.2 else None
                s.add(
                    AppPassword(
                        user_id=u.id,
                        label=f"Device {n}",
                        password_hash="x",
                        created_at=created,
                        last_used_at=used,
                        revoked_at=revoked,
                    )
                )
                add_event(u.id, eff, "app_password_created", created)
                if revoked:
                    add_event(u.id, eff, "app_password_revoked", revoked)
                aps.append(
                    {"label": f"Device {n}", "created_at": created, "last_used_at": used, "revoked": revoked}
                )
            w.users.append(
                {
                    "id": u.id,
                    "email": u.email,
                    "brand": eff,
                    "status": u.status,
                    "enrolled_at": enrolled_at,
                    "created_at": u.created_at,
                    "last_login_at": u.last_login_at,
                    "aps": aps,
                }
            )
        # a user who moved from Beta to Alpha: his past stays Beta's
        mover = User(email="mover@acme.example", domain_id=did["acme.example"], totp_enrolled_at=ago(100))
        s.add(mover)
        s.flush()
        add_event(mover.id, "Beta", "2fa_enrolled", ago(100))
        w.users.append(
            {
                "id": mover.id,
                "email": mover.email,
                "brand": "Alpha",
                "status": "active",
                "enrolled_at": mover.totp_enrolled_at,
                "created_at": mover.created_at,
                "last_login_at": None,
                "aps": [],
            }
        )
    return w


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory) -> Iterator[World]:
    with new_database(request.param, tmp_path_factory.mktemp("reports")) as url:
        yield build_world(url)


@pytest.fixture(params=BACKENDS)
def empty_db(request, tmp_path_factory) -> Iterator[str]:
    with new_database(request.param, tmp_path_factory.mktemp("reports-empty")) as url:
        yield url


# --- independent expectations --------------------------------------------------------------


def expected_months(w: World, brand: str | None, keys: list[str]) -> list[dict]:
    events = [(at, k) for at, b, k in w.events if brand is None or b == brand]
    rows = []
    for key in keys:
        c = Counter(KIND_COL[k] for at, k in events if month_key(at) == key)
        upto = Counter(k for at, k in events if month_key(at) <= key)
        rows.append(
            {
                "month": key,
                "brand": brand or "All",
                **{col: c.get(col, 0) for col in KIND_COL.values()},
                "users_2fa_end": upto["2fa_enrolled"] - upto["2fa_reset"] - upto["2fa_self_disabled"],
                "app_passwords_end": upto["app_password_created"] - upto["app_password_revoked"],
            }
        )
    return rows


def window_keys(now: datetime, months: int) -> list[str]:
    return [month_key(month_start(now, back)) for back in range(months - 1, -1, -1)]


# --- adoption by month ---------------------------------------------------------------------


def test_month_rows_match_the_events_all_brands(world: World) -> None:
    with session_scope(world.engine) as s:
        rows = history.adoption_by_month(s)
    keys = window_keys(world.now, 24)
    assert [r["month"] for r in rows] == keys
    assert rows == expected_months(world, None, keys)
    assert all(tuple(r) == history.MONTH_FIELDS for r in rows)


@pytest.mark.parametrize("brand", ["Alpha", "Beta", "Gamma", "Delta"])
def test_month_rows_match_the_events_per_brand(world: World, brand: str) -> None:
    with session_scope(world.engine) as s:
        rows = history.adoption_by_month(s, brand=brand.upper(), months=36)
    assert rows == expected_months(world, brand, window_keys(world.now, 36))


def test_month_totals_count_history_before_the_window(world: World) -> None:
    # a 3-month window still starts from everything before it
    with session_scope(world.engine) as s:
        rows = history.adoption_by_month(s, months=3)
    assert rows == expected_months(world, None, window_keys(world.now, 3))
    older = [e for e in world.events if month_key(e[0]) < rows[0]["month"]]
    assert older, "the data must have events before the window"


def test_month_per_brand_sums_to_all(world: World) -> None:
    with session_scope(world.engine) as s:
        per_brand = history.adoption_by_month_per_brand(s, months=12)
        all_rows = history.adoption_by_month(s, months=12)
    keys = window_keys(world.now, 12)
    assert {r["brand"] for r in per_brand} == set(world.brands)
    assert len(per_brand) == 12 * len(world.brands)
    for brand in world.brands:
        assert [r for r in per_brand if r["brand"] == brand] == expected_months(world, brand, keys)
    for row in all_rows:
        same = [r for r in per_brand if r["month"] == row["month"]]
        for col in history.MONTH_FIELDS[2:]:
            assert sum(r[col] for r in same) == row[col]


def test_mover_past_stays_with_the_old_brand(world: World) -> None:
    with session_scope(world.engine) as s:
        beta = history.adoption_by_month(s, brand="Beta")
    beta_events = [e for e in world.events if e[1] == "Beta" and e[2] == "2fa_enrolled"]
    assert sum(r["enrolments"] for r in beta) == sum(
        1 for e in beta_events if month_key(e[0]) >= beta[0]["month"]
    )


def test_month_until_and_empty_months(world: World) -> None:
    until = world.now - timedelta(days=400)
    with session_scope(world.engine) as s:
        rows = history.adoption_by_month(s, months=6, until=until)
    assert rows == expected_months(world, None, window_keys(until, 6))


def test_month_rejects_a_bad_window(world: World) -> None:
    with session_scope(world.engine) as s, pytest.raises(ValueError, match="months"):
        history.adoption_by_month(s, months=0)


def test_reset_today_does_not_rewrite_last_month(empty_db: str) -> None:
    engine = get_engine(empty_db)
    now = utcnow()
    two_months_ago = month_start(now, 2) + timedelta(days=9, hours=12)
    with session_scope(engine, write=True) as s:
        b = Brand(name="Alpha", allow_2fa=True)
        s.add(b)
        s.flush()
        c = Company(name="Acme", brand_id=b.id)
        s.add(c)
        s.flush()
        d = Domain(name="acme.example", company_id=c.id)
        s.add(d)
        s.flush()
        u = User(email="lost.phone@acme.example", domain_id=d.id, totp_enrolled_at=two_months_ago)
        s.add(u)
        s.flush()
        s.add(SecurityEvent(user_id=u.id, brand_id=b.id, kind="2fa_enrolled", at=two_months_ago))
        uid, bid = u.id, b.id
    with session_scope(engine) as s:
        before = history.adoption_by_month(s, brand="Alpha", months=4)
    assert [r["users_2fa_end"] for r in before] == [0, 1, 1, 1]

    # support resets the lost phone today: the secret goes, the event is written
    with session_scope(engine, write=True) as s:
        s.execute(update(User).where(User.id == uid).values(totp_enrolled_at=None, totp_secret=None))
        s.add(SecurityEvent(user_id=uid, brand_id=bid, kind="2fa_reset", at=utcnow()))
    with session_scope(engine) as s:
        after = history.adoption_by_month(s, brand="Alpha", months=4)
        everyone = history.adoption_by_month(s, months=4)
    assert after[:-1] == before[:-1]  # last month's users_2fa_end unchanged by the reset
    assert after[-2]["users_2fa_end"] == 1
    assert after[-1]["resets"] == 1
    assert after[-1]["users_2fa_end"] == 0
    assert [r["users_2fa_end"] for r in everyone] == [0, 1, 1, 0]
    assert everyone[-3]["enrolments"] == 1

    # and a later brand switch of the user does not move the past either
    with session_scope(engine, write=True) as s:
        b2 = Brand(name="Beta")
        s.add(b2)
        s.flush()
        s.execute(update(User).where(User.id == uid).values(brand_id=b2.id))
    with session_scope(engine) as s:
        assert history.adoption_by_month(s, brand="Alpha", months=4) == after
        assert all(r["users_2fa_end"] == 0 for r in history.adoption_by_month(s, brand="Beta", months=4))
        s.execute(delete(SecurityEvent))


def test_month_report_of_an_empty_database(empty_db: str) -> None:
    with session_scope(get_engine(empty_db)) as s:
        rows = history.adoption_by_month(s, months=5)
        assert history.adoption_by_month_per_brand(s, months=5) == []
        assert at_risk.at_risk_counts(s) == dict.fromkeys(at_risk.AT_RISK_KEYS, 0)
        ov = overview.overview(s)
    assert len(rows) == 5
    assert all(r[c] == 0 for r in rows for c in history.MONTH_FIELDS[2:])
    assert ov["users"] == 0 and ov["new_users_30d"] == 0 and ov["users_2fa_change_30d"] == 0


# --- at risk -------------------------------------------------------------------------------


def expected_at_risk(w: World, brand: str | None = None) -> dict[str, list]:
    cutoff = utcnow() - timedelta(days=90)
    no_2fa, unused, dormant = [], [], []
    for u in w.users:
        if u["status"] != "active" or (brand and u["brand"] != brand):
            continue
        sw = w.brands[u["brand"]]
        live = [a for a in u["aps"] if a["revoked"] is None]
        protected = u["enrolled_at"] is not None and sw["allow_2fa"]
        if live and sw["allow_app_passwords"] and not protected:
            no_2fa.append(u["email"])
        for a in live:
            if (a["last_used_at"] or a["created_at"]) < cutoff:
                unused.append((u["email"], a["label"]))
        if u["enrolled_at"] is not None and not sw["allow_2fa"]:
            dormant.append(u["email"])
    return {
        "app_passwords_no_2fa": sorted(no_2fa),
        "app_passwords_unused_90d": sorted(unused),
        "dormant_2fa": sorted(dormant),
    }


@pytest.mark.parametrize("brand", [None, "Alpha", "Beta", "Gamma"])
def test_at_risk_lists_and_counts(world: World, brand: str | None) -> None:
    exp = expected_at_risk(world, brand)
    with session_scope(world.engine) as s:
        lists = at_risk.at_risk(s, brand=brand, limit=1000)
        counts = at_risk.at_risk_counts(s, brand=brand)
    assert set(lists) == set(at_risk.AT_RISK_KEYS) == set(counts)
    assert [r["email"] for r in lists["app_passwords_no_2fa"]] == exp["app_passwords_no_2fa"]
    assert (
        sorted((r["email"], r["label"]) for r in lists["app_passwords_unused_90d"])
        == exp["app_passwords_unused_90d"]
    )
    assert [r["email"] for r in lists["dormant_2fa"]] == exp["dormant_2fa"]
    assert counts == {k: len(v) for k, v in exp.items()}
    if brand is None:
        assert all(counts.values()), "the data must have users at risk of every kind"


def test_at_risk_rows_carry_brand_and_dates(world: World) -> None:
    by_email = {u["email"]: u for u in world.users}
    with session_scope(world.engine) as s:
        lists = at_risk.at_risk(s, limit=1000)
    for r in lists["app_passwords_no_2fa"]:
        u = by_email[r["email"]]
        live = [a for a in u["aps"] if a["revoked"] is None]
        assert r["brand"] == u["brand"]
        assert r["twofa"] in ("off", "dormant")
        assert r["app_passwords"] == len(live)
        assert r["oldest_created_at"] == min(a["created_at"] for a in live)
    for r in lists["app_passwords_unused_90d"]:
        ap = next(a for a in by_email[r["email"]]["aps"] if a["label"] == r["label"] and a["revoked"] is None)
        assert r["created_at"] == ap["created_at"] and r["last_used_at"] == ap["last_used_at"]
        assert r["state"] == ("active" if world.brands[r["brand"]]["allow_app_passwords"] else "suspended")
    activity = [r["last_used_at"] or r["created_at"] for r in lists["app_passwords_unused_90d"]]
    assert activity == sorted(activity)
    for r in lists["dormant_2fa"]:
        assert r["totp_enrolled_at"] == by_email[r["email"]]["enrolled_at"]
        assert r["totp_enrolled_at"].tzinfo is not None


def test_at_risk_limit(world: World) -> None:
    with session_scope(world.engine) as s:
        lists = at_risk.at_risk(s, limit=2)
        full = at_risk.at_risk(s, limit=1000)
    for key in at_risk.AT_RISK_KEYS:
        assert lists[key] == full[key][:2]


# --- overview ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("brand", "status"), [(None, "active"), (None, "all"), ("Alpha", "active"), ("beta", "all")]
)
def test_overview_matches_the_rows(world: World, brand: str | None, status: str) -> None:
    with session_scope(world.engine) as s:
        ov = overview.overview(s, brand=brand, status=status)
    since = ov["since"]
    want = (brand or "").capitalize() or None
    users = [
        u
        for u in world.users
        if (status == "all" or u["status"] == status) and (want is None or u["brand"] == want)
    ]
    on = [u for u in users if u["enrolled_at"] and world.brands[u["brand"]]["allow_2fa"]]
    ap_users = [
        u
        for u in users
        if world.brands[u["brand"]]["allow_app_passwords"] and any(a["revoked"] is None for a in u["aps"])
    ]
    assert ov["users"] == len(users)
    assert ov["users_2fa"] == len(on)
    assert ov["users_2fa_dormant"] == sum(
        1 for u in users if u["enrolled_at"] and not world.brands[u["brand"]]["allow_2fa"]
    )
    assert ov["users_app_passwords"] == len(ap_users)
    assert ov["pct_2fa"] == (round(100 * len(on) / len(users), 1) if users else 0.0)
    recent = Counter(k for at, b, k in world.events if at >= since and (want is None or b == want))
    assert (
        ov["users_2fa_change_30d"]
        == recent["2fa_enrolled"] - recent["2fa_reset"] - recent["2fa_self_disabled"]
    )
    assert ov["app_passwords_change_30d"] == recent["app_password_created"] - recent["app_password_revoked"]
    assert ov["new_users_30d"] == sum(1 for u in users if u["created_at"] >= since)
    assert ov["brands"] == (len(world.brands) if brand is None else 1)
    assert len(ov["by_brand"]) == ov["brands"]
    if brand is None:
        assert recent["2fa_enrolled"] and ov["new_users_30d"], "the data must change within 30 days"
