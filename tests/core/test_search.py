"""The user search against an independent Python filter, on both engines, through every plan.

``search_users`` picks its plan by how many addresses match: ranked trigram candidates,
a walk in address order, or a walk that goes back to candidates further on. The caps are
lowered here so that a hundred or so users take each of those paths; every page must
still be exactly the users, in the order, that the filter below finds.
"""

from __future__ import annotations

import itertools
import random

import pytest
from sqlalchemy import select, text

from core.mailboxes.state import twofa_state
from core.platform.db import session_scope
from core.platform.models import User
from core.reporting import search_index
from core.reporting.search import search_users
from core.reporting.search_query import UserSearch
from tests.factories import make_app_password, make_brand, make_domain, make_user

FIRST = ["anna", "bob", "natalie", "leslie", "julie", "kat-rin", "o_neil", "x+tag", "zoë"]
LAST = ["smith", "nat", "rossi", "k.r", "lie", "ray"]


@pytest.fixture
def world(engine):
    """Users over three brands, with user and domain brand overrides, 2FA on and off,
    live and revoked app passwords, both statuses and punctuated addresses; returns the
    Python view of each user that the search is checked against."""
    rng = random.Random(5)
    people: dict[str, dict] = {}
    with session_scope(engine, write=True) as s:
        on = make_brand(s, "On Mail", allow_2fa=True, allow_app_passwords=True)
        off = make_brand(s, "Off Mail")
        mixed = make_brand(s, "Mixed Mail", allow_2fa=True)
        domains = [
            make_domain(s, on, "a-one.example"),
            make_domain(s, off, "b.example"),
            make_domain(s, on, "cat.example", domain_brand=mixed),
        ]
        domain_brand = {domains[0].id: on, domains[1].id: off, domains[2].id: mixed}
        for i, (first, last) in enumerate(itertools.product(FIRST, LAST)):
            for j in range(rng.randint(1, 3)):
                dom = domains[(i + j) % 3]
                user_brand = rng.choice([None, None, None, off, mixed])
                enrolled = rng.random() < 0.5
                u = make_user(
                    s,
                    dom,
                    f"{first}.{last}{j or ''}",
                    twofa=enrolled,
                    status=rng.choice(["active", "active", "suspended"]),
                    brand=user_brand,
                )
                live = 0
                for k in range(rng.choice([0, 0, 1, 2, 4, 5])):
                    revoked = rng.random() < 0.2
                    make_app_password(s, u, f"ap{k}", revoked=revoked)
                    live += not revoked
                eff = user_brand or domain_brand[dom.id]
                people[u.email] = {
                    "brand": eff.name,
                    "domain": dom.name,
                    "status": u.status,
                    "twofa": twofa_state(enrolled, eff.allow_2fa),
                    "app_passwords": live,
                }
        # An address holding one of the letters that stand for punctuation in the folded
        # index: a candidate for "k.r", never a match.
        u = make_user(s, domains[0], "kªr")
        people[u.email] = {
            "brand": "On Mail",
            "domain": domains[0].name,
            "status": "active",
            "twofa": "off",
            "app_passwords": 0,
        }
    with session_scope(engine) as s:
        order = list(s.scalars(select(User.email).order_by(User.email)))  # the engine's collation
    return people, order


def _expected(world, search: UserSearch) -> list[str]:
    people, order = world
    frag = search.text.strip().lower()

    def keep(email: str) -> bool:
        p = people[email]
        ap = p["app_passwords"]
        return (
            frag in email
            and (not search.brand or p["brand"].lower() == search.brand.lower())
            and (not search.domain or p["domain"] == search.domain)
            and (not search.status or p["status"] == search.status)
            and (not search.twofa or p["twofa"] == search.twofa)
            and (
                search.app_passwords is None
                or (search.app_passwords == "none" and ap == 0)
                or (search.app_passwords == "some" and ap > 0)
                or (search.app_passwords == "max" and ap >= 4)
            )
        )

    return [e for e in order if keep(e)]


def _all_pages(engine, search: UserSearch, limit: int) -> list[dict]:
    rows: list[dict] = []
    after = None
    with session_scope(engine) as s:
        while True:
            page = search_users(s, search, after_email=after, limit=limit)
            rows += page
            if len(page) < limit:
                return rows
            after = page[-1]["email"]


FRAGMENTS = [
    "nat",
    "k.r",
    "K.R",
    "lie",
    "a.s",
    "ie.",
    "@b.ex",
    "-rin",
    "o_n",
    "_ne",
    "x+t",
    "zoë.",
    "th@",
    "ray2@",
    "qqq",
    "%at",
    "\\na",
    "'; --",
]
FILTERS = [
    UserSearch(),
    UserSearch(brand="on mail"),
    UserSearch(brand="Mixed Mail", twofa="on"),
    UserSearch(domain="cat.example"),
    UserSearch(twofa="dormant"),
    UserSearch(twofa="off", status="active"),
    UserSearch(app_passwords="none"),
    UserSearch(app_passwords="some", status="suspended"),
    UserSearch(app_passwords="max", brand="On Mail"),
]


@pytest.mark.parametrize(("cap", "walk_slice"), [(5_000, 10_000), (6, 5), (1, 2)])
def test_search_pages_match_an_independent_filter(engine, world, monkeypatch, cap, walk_slice):
    monkeypatch.setattr(search_index, "CANDIDATE_CAP", cap)
    monkeypatch.setattr(search_index, "WALK_SLICE", walk_slice)
    people, _ = world
    for frag, base in itertools.product(FRAGMENTS, FILTERS):
        search = UserSearch(**{**vars(base), "text": frag})
        expected = _expected(world, search)
        for limit in (4, 50):
            rows = _all_pages(engine, search, limit)
            assert [r["email"] for r in rows] == expected, (search, limit)
        for r in rows:
            p = people[r["email"]]
            got = {k: r[k] for k in ("brand", "domain", "status", "twofa", "app_passwords")}
            assert got == p, r["email"]


# The page without any plan: one query written here, a scan of every user in address order.
PLAIN_PAGE = text(
    """
    SELECT u.email FROM users u
    JOIN domains d ON d.id = u.domain_id
    JOIN companies c ON c.id = d.company_id
    JOIN brands b ON b.id = COALESCE(u.brand_id, d.brand_id, c.brand_id)
    WHERE lower(u.email) LIKE :pattern
      AND (:on_only = 0 OR (u.totp_enrolled_at IS NOT NULL AND b.allow_2fa))
      AND u.email > COALESCE(:after, '')
    ORDER BY u.email
    LIMIT :limit
    """
)


def test_search_plans_agree_with_the_plain_query(engine, world, monkeypatch):
    """Whatever the caps, a page is the one a plain scan of every user gives."""
    asked = [
        (f, t, a)
        for f in ("nat", "lie", ".r", "e.k")  # no LIKE wildcard among them
        for t in (None, "on")
        for a in (None, "julie", "natalie.z")
    ]
    with engine.connect() as conn:
        plain = [
            list(
                conn.execute(
                    PLAIN_PAGE, {"pattern": f"%{f}%", "on_only": int(t == "on"), "after": a, "limit": 7}
                ).scalars()
            )
            for f, t, a in asked
        ]
    assert any(len(p) == 7 for p in plain) and any(0 < len(p) < 7 for p in plain)
    pages = {}
    for cap, walk_slice in ((5_000, 10_000), (3, 4), (1, 1)):
        monkeypatch.setattr(search_index, "CANDIDATE_CAP", cap)
        monkeypatch.setattr(search_index, "WALK_SLICE", walk_slice)
        with session_scope(engine) as s:
            pages[cap] = [
                search_users(s, UserSearch(text=f, twofa=t), limit=7, after_email=a) for f, t, a in asked
            ]
        assert [[r["email"] for r in page] for page in pages[cap]] == plain, cap
    assert pages[5_000] == pages[3] == pages[1]
