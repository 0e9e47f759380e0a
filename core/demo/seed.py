"""Demo data: brands, companies, domains, mailboxes, app passwords and their history.

``seed_demo`` fills an empty database with a realistic, deterministic picture of a mail
reseller: the same ``(brands, users, seed, now)`` always gives the same rows (ids, names,
e-mail addresses, statuses, enrolments, switches, times). Randomness comes only from
``random.Random(seed)``, never from the global generator.

Times are derived from a reference "now": by default the start of the current UTC day,
so a seed run twice on the same day gives identical times; pass ``now`` to pin it.
Everything generated lies before that reference, except the ``demo.seeded`` audit event,
which records the real moment the data was loaded.

Shortcuts taken for speed, on purpose (a million mailboxes must load in well under a
minute), and visible to whoever inspects the demo data:

* every mailbox has the same password, ``DEMO_MAILBOX_PASSWORD``, hashed once with
  argon2 and the one hash string reused for every user (argon2 per user would take hours);
* enrolled mailboxes draw their TOTP secret from a pool of ``SECRET_POOL_SIZE`` secrets,
  each encrypted once: demo users share secrets (the plaintexts come from the system's
  random generator; only the choice from the pool is deterministic);
* app-password hashes likewise come from a small pool of hashed random passwords.

The demo operators (``DEMO_OPERATORS``) sign in with ``<username>-demo-pass`` and a fixed
TOTP secret per operator (``demo_operator_totp_secret``), so ``operators totp USERNAME``
prints a valid code.

The audit log gets a sample of history rather than every event: operators' actions
(brand switch changes and CSS saves, 2FA resets by support, app-password revocations by
support, operators created), mailbox imports of the past year, and one ``demo.seeded``
event. Customers' own actions (enrolling, creating or revoking their app passwords) are in
``security_events`` only, which is complete: each user's last ``2fa_enrolled``/``2fa_reset``
event agrees with the users table.

The load is one transaction (all or nothing). The three big tables (users, app_passwords,
security_events) are written with explicit ids, through the DBAPI driver: ``executemany``
on SQLite, ``COPY FROM STDIN`` on PostgreSQL; their secondary indexes are dropped for the
load and created again, from the database's own definitions, before the commit.
"""

from __future__ import annotations

import base64
import hashlib
import random
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import repeat
from typing import Any

import numpy as np
from sqlalchemy import Connection, func, inspect, select, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from core.mailboxes.app_passwords import MAX_PER_USER
from core.platform.crypto import encrypt_secret, hash_password
from core.platform.errors import BadInput, Refused
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
from core.platform.totp import new_secret
from core.reporting import running_counts, search_index

DEMO_MAILBOX_PASSWORD = "demo-mailbox-password"  # noqa: S105 (documented demo password)
# username -> (role, password)
DEMO_OPERATORS: dict[str, tuple[str, str]] = {
    "admin": ("admin", "admin-demo-pass"),
    "support": ("support", "support-demo-pass"),
    "manager": ("account_manager", "manager-demo-pass"),
    "analyst": ("analyst", "analyst-demo-pass"),
}
_OPERATOR_NAMES = {
    "admin": "Alex Admin",
    "support": "Sam Support",
    "manager": "Morgan Manager",
    "analyst": "Ana Analyst",
}
SECRET_POOL_SIZE = 64
APP_PASSWORD_POOL_SIZE = 4
MAX_LIVE_APP_PASSWORDS = 4
APP_PASSWORD_LABELS = (
    "iPhone Mail",
    "Outlook on laptop",
    "Thunderbird",
    "Android Mail",
    "iPad Mail",
    "Work desktop",
    "Home PC",
    "Mac Mail",
    "Scanner",
    "Calendar sync",
)
# Users are written in chunks of this many (bounded memory, regular progress).
CHUNK_USERS = 25_000

DAY = 86_400
_SWITCHES = ("allow_2fa", "allow_user_disable_2fa", "allow_app_passwords")
# Every combination, the first all on and the second all off.
_COMBOS = (
    (True, True, True),
    (False, False, False),
    (True, False, True),
    (True, True, False),
    (True, False, False),
    (False, False, True),
    (False, True, False),
    (False, True, True),
)
_BIG_TABLES = ("users", "app_passwords", "security_events")

Progress = Callable[[str, float], None]


def demo_operator_totp_secret(username: str) -> str:
    """The fixed base32 TOTP secret of a demo operator (160 bits, as ``new_secret``)."""
    digest = hashlib.sha1(f"mac-demo-{username}".encode()).digest()[:20]  # noqa: S324 (a derivation, not a hash for security)
    return base64.b32encode(digest).decode()


@dataclass
class SeedSummary:
    brands: int = 0
    companies: int = 0
    domains: int = 0
    users: int = 0
    users_2fa_enrolled: int = 0
    app_passwords: int = 0
    suspended: int = 0
    audit_events: int = 0
    security_events: int = 0
    operators: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- word lists --------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_BRAND_WORDS = _words(
    "Northwind Bluebird Silverline Harbor Maple Summit Cedar Aurora Granite Lighthouse Meadow "
    "Riverbend Skylark Evergreen Copperleaf Starling Willow Redwood Bayside Highland Pinecrest "
    "Seabreeze Sunrise Oakridge Ironbark Kestrel Lakeside Moonstone Nimbus Orchard Pebble Quartz "
    "Rosewood Saffron Tidewater Upland Valley Westwind Yellowstone Zephyr Amber Beacon Cobalt "
    "Driftwood Emerald Falcon Glacier Hazel Indigo Juniper Kingfisher Lantern Marigold Nightjar "
    "Opal Peregrine Ridgeline Sandpiper Thistle Umber Vantage Wren Alder Birchwood Clearwater "
    "Dovecote Elmstead Foxglove"
)
_BRAND_MIDDLES = ("", "Cloud ", "Secure ", "Pro ", "Net ", "Digital ", "Business ")
_BRAND_SUFFIXES = (
    "Mail",
    "Webmail",
    "Post",
    "Mailbox",
    "Inbox",
    "Messaging",
    "Courier",
    "Connect",
    "Mail Hosting",
    "Office Mail",
    "Letters",
    "Email",
)
_COMPANY_WORDS = _words(
    "Acorn Alpine Anchor Apex Arbor Ash Atlas Bramble Brook Canyon Cascade Castle Chestnut Cliff "
    "Clover Coastal Comet Coral Crescent Crown Delta Dune Eagle Echo Fern Fjord Forge Frontier "
    "Garnet Golden Grove Harvest Hawthorn Heron Horizon Ivy Jasper Keystone Lark Laurel Linden "
    "Lotus Magnolia Mariner Meridian Mesa Mill Monarch Mosaic Oak Olive Orbit Osprey Pacific "
    "Paragon Pioneer Prairie Raven Reef Ridge Rock Sage Sequoia Shore Sierra Spruce Stone "
    "Sterling Storm Swift Terra Timber Topaz Trident Vista Walnut Wave Willowbrook"
)
_COMPANY_SECTORS = _words(
    "Logistics Dental Architects Bakery Legal Consulting Engineering Accounting Travel Studio "
    "Clinic Motors Insurance Realty Foods Printing Design Media Pharmacy Veterinary Fitness "
    "Books Builders Electric Plumbing Gardens Hotels Marine Optics Robotics Software Textiles "
    "Tutoring Vineyards Wellness Florists Catering Security Analytics Energy"
)
_COMPANY_SUFFIXES = ("Ltd", "GmbH", "Inc", "LLC", "& Co", "Group", "BV", "SARL")
_TLDS = ("com", "net", "org", "co.uk", "de", "nl", "fr", "io", "eu", "ch", "be", "at")
_FIRST_NAMES = _words(
    "James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy "
    "Matthew Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Paul Emily Andrew "
    "Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah Timothy "
    "Stephanie Ronald Rebecca Edward Sharon Jason Laura Jeffrey Cynthia Ryan Dorothy Jacob Amy "
    "Gary Kathleen Nicholas Angela Eric Shirley Jonathan Emma Stephen Brenda Larry Pamela Justin "
    "Nicole Scott Anna Brandon Samantha Benjamin Katherine Samuel Christine Gregory Debra "
    "Alexander Rachel Patrick Carolyn Frank Janet Raymond Maria Jack Olivia Dennis Heather Jerry "
    "Helen Tyler Catherine Aaron Diane Jose Julie Adam Victoria Nathan Joyce Henry Lauren "
    "Zachary Kelly Douglas Christina Peter Ruth Kyle Joan Noah Virginia Ethan Judith Jeremy "
    "Evelyn Walter Hannah Christian Andrea Keith Megan Roger Cheryl Terry Jacqueline Austin "
    "Martha Sean Madison Gerald Teresa Carl Gloria Harold Sara Dylan Janice Arthur Ann Lawrence "
    "Kathryn Jordan Abigail Jesse Sophia Bryan Frances Billy Jean Bruce Alice Gabriel Judy Joe "
    "Isabella Logan Julia Alan Grace Juan Amber Albert Denise Willie Danielle Elijah Marilyn "
    "Wayne Beverly Randy Charlotte Vincent Natalie Mason Theresa Roy Diana Ralph Brittany Bobby "
    "Doris Russell Kayla Bradley Alexis Philip Lori Eugene Marie Lars Ingrid Sven Astrid Pierre "
    "Camille Hugo Chloe Luca Giulia Matteo Sofia Jan Eva Pieter Anouk Tomas Lena Felix Clara"
)
_LAST_NAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips "
    "Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook "
    "Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward "
    "Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez "
    "Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan "
    "Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan "
    "Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant "
    "Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison "
    "Fernandez Mcdonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker "
    "Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason "
    "Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox "
    "Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan "
    "Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce Hansen Peters Santos Hart "
    "Bradley Knight Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley Andrews Ray "
    "Berry Perkins Hoffman Johnston Matthews Pena Richards Willis Carpenter Lawrence Sandoval "
    "Jensen Larsen Muller Schneider Fischer Weber Becker Bakker Visser Dubois Moreau Laurent "
    "Rossi Russo Ferrari Esposito Bianchi Novak Kowalski Nielsen Berg Lindqvist Eriksson"
)

_CSS_PALETTES = (
    ("#0b3d91", "#ffffff", "#f4f7fb", "#1d2733"),
    ("#1b5e20", "#ffffff", "#f1f8e9", "#263238"),
    ("#4a148c", "#fafafa", "#f3e5f5", "#212121"),
    ("#b71c1c", "#ffffff", "#fff8f6", "#2b2b2b"),
    ("#006064", "#ffffff", "#e0f7fa", "#102027"),
    ("#e65100", "#ffffff", "#fff3e0", "#3e2723"),
    ("#263238", "#eceff1", "#ffffff", "#263238"),
)


def _login_css(rng: random.Random) -> str:
    head_bg, head_fg, body_bg, body_fg = rng.choice(_CSS_PALETTES)
    radius = rng.choice((0, 4, 6, 8, 12))
    return (
        "#login-form .box-inner .modalheader {\n"
        f"  background-color: {head_bg};\n"
        f"  color: {head_fg};\n"
        f"  border-radius: {radius}px {radius}px 0 0;\n"
        "}\n"
        "#login-form .box-inner .modal {\n"
        f"  background-color: {body_bg};\n"
        f"  color: {body_fg};\n"
        f"  border: 1px solid {head_bg};\n"
        "}\n"
    )


# --- the plan: everything small, decided in memory before writing ------------------------


@dataclass
class _BrandPlan:
    id: int
    name: str
    switches: tuple[bool, bool, bool]
    css: str
    created: int
    enrol_rate: float  # chance that one of its users is enrolled
    enrol_until: int  # enrolments happen before this time (when 2FA was turned off)
    app_rate: float  # chance that one of its users has app passwords
    version: int = 1
    updated: int = 0
    updated_by: str | None = None


@dataclass
class _Plan:
    anchor: int
    brands: list[_BrandPlan]
    companies: list[tuple[int, str, int, int]]  # id, name, brand_id, created
    domains: list[tuple[int, str, int, int | None]]  # id, name, company_id, brand_id
    domain_sizes: list[int]
    domain_onboarded: list[int]
    domain_brand: list[int]  # effective brand of the domain (domain's, else company's)
    audit: list[dict[str, Any]] = field(default_factory=list)


def _ts_dt(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _unique_names(rng: random.Random, n: int, fixed: list[str], combos: list[str]) -> list[str]:
    """``n`` distinct names: ``fixed`` first, then shuffled ``combos``, then numbered ones."""
    pool = [c for c in combos if c not in fixed]
    rng.shuffle(pool)
    names = (fixed + pool)[:n]
    i = 2
    while len(names) < n:
        base = combos[(len(names) + i) % len(combos)]
        names.append(f"{base} {i}")
        i += 1
    return names


def _plan(rng: random.Random, n_brands: int, n_users: int, anchor: int) -> _Plan:
    r = rng.random
    year_ago = anchor - 365 * DAY

    # Brands.
    brand_combos = [f"{w} {m}{s}" for w in _BRAND_WORDS for m in _BRAND_MIDDLES for s in _BRAND_SUFFIXES]
    names = _unique_names(rng, n_brands, ["Northwind Mail", "Bluebird Webmail"], brand_combos)
    brands: list[_BrandPlan] = []
    for i, name in enumerate(names):
        if i < len(_COMBOS):
            sw = _COMBOS[i]
        else:
            a2 = r() < 0.7
            sw = (a2, a2 and r() < 0.5, r() < 0.6)
        css = _login_css(rng) if i == 0 or r() < 0.06 else ""
        created = anchor - (900 + int(r() * 400)) * DAY + int(r() * DAY)
        if sw[0]:
            enrol_rate, enrol_until = 0.15 + r() * 0.6, anchor
        elif r() < 0.45:
            # 2FA was allowed once and turned off since: its enrolled users are dormant.
            enrol_rate, enrol_until = 0.05 + r() * 0.1, anchor - (30 + int(r() * 270)) * DAY
        else:
            enrol_rate, enrol_until = 0.0, anchor
        app_rate = 0.2 + r() * 0.3 if sw[2] else 0.05 + r() * 0.06
        brands.append(_BrandPlan(i + 1, name, sw, css, created, enrol_rate, enrol_until, app_rate))

    # The operators' history on brands: switch changes (ending at today's switches) and CSS saves.
    audit: list[dict[str, Any]] = []
    for b in brands:
        changes: list[tuple[int, str]] = []
        if b.enrol_until < anchor:
            changes.append((b.enrol_until, "off"))  # 2FA turned off: the last change
        k = rng.choices((0, 1, 2, 3), weights=(40, 35, 17, 8))[0]
        last = b.enrol_until if b.enrol_until < anchor else anchor - DAY
        for _ in range(k):
            changes.append((year_ago + int(r() * (last - year_ago - 3600)), "flip"))
        changes.sort()
        states = [b.switches]
        for _at, kind in reversed(changes):
            cur = list(states[0])
            if kind == "off":
                cur[0] = True
            else:
                # Only the two other switches flip: 2FA itself went on before the
                # enrolment history starts, and off only in the "off" change above.
                j = 1 + int(r() * 2)
                cur[j] = not cur[j]
            states.insert(0, tuple(cur))
        for (at, _kind), before, after in zip(changes, states, states[1:], strict=False):
            actor = "manager" if r() < 0.7 else "admin"
            audit.append(
                {
                    "at": at,
                    "actor": actor,
                    "action": "brand.switches_changed",
                    "object_type": "brand",
                    "object_key": b.name,
                    "brand_id": b.id,
                    "before": dict(zip(_SWITCHES, before, strict=True)),
                    "after": dict(zip(_SWITCHES, after, strict=True)),
                }
            )
            b.version += 1
            b.updated, b.updated_by = at, actor
        if b.css:
            at = year_ago + int(r() * 300 * DAY)
            audit.append(
                {
                    "at": at,
                    "actor": "manager",
                    "action": "brand.css_saved",
                    "object_type": "brand",
                    "object_key": b.name,
                    "brand_id": b.id,
                    "before": {"custom_login_css": ""},
                    "after": {"custom_login_css": b.css},
                }
            )
            b.version += 1
            if at > b.updated:
                b.updated, b.updated_by = at, "manager"
        if not b.updated:
            b.updated = b.created

    # Companies: about three per brand, every brand with at least one.
    n_companies = max(1, n_brands * 3)
    company_combos = [
        f"{w} {s} {x}" for w in _COMPANY_WORDS for s in _COMPANY_SECTORS for x in _COMPANY_SUFFIXES
    ]
    company_names = _unique_names(rng, n_companies, [], company_combos)
    companies = []
    for i, name in enumerate(company_names):
        brand_id = i + 1 if i < n_brands else 1 + int(r() * n_brands)
        created = anchor - (760 + int(r() * 120)) * DAY + int(r() * DAY)
        companies.append((i + 1, name, brand_id, created))

    # Domains: about one per 150 mailboxes, at least one per company; ~10% name a brand.
    n_domains = max(n_companies, round(n_users / 150))
    taken: set[str] = set()
    domains = []
    domain_brand = []
    for i in range(n_domains):
        company_id = i + 1 if i < n_companies else 1 + int(r() * n_companies)
        cname = companies[company_id - 1][1]
        slug = "".join(ch for ch in cname.lower().split(" &")[0] if ch.isalnum() or ch == " ")
        words = slug.split()
        base = "".join(words[:2])
        dname = ""
        for attempt in range(8):
            stem = base if attempt < 4 else base + words[-1]
            candidate = f"{stem}.{_TLDS[int(r() * len(_TLDS))]}"
            if candidate not in taken:
                dname = candidate
                break
        if not dname:
            dname = f"{base}{i + 1}.com"
        taken.add(dname)
        company_brand = companies[company_id - 1][2]
        own_brand = None
        if n_brands > 1 and r() < 0.1:
            own_brand = 1 + int(r() * n_brands)
            if own_brand == company_brand:
                own_brand = own_brand % n_brands + 1
        domains.append((i + 1, dname, company_id, own_brand))
        domain_brand.append(own_brand or company_brand)

    # Mailboxes per domain: log-normal sizes (a few big customers, many small ones).
    weights = [rng.lognormvariate(0.0, 1.3) for _ in range(n_domains)]
    base_each = 1 if n_users >= n_domains else 0
    rest = n_users - base_each * n_domains
    total_w = sum(weights)
    sizes = [base_each + int(rest * w / total_w) for w in weights]
    short = n_users - sum(sizes)
    order = sorted(range(n_domains), key=lambda j: -weights[j])
    for j in range(short):
        sizes[order[j % n_domains]] += 1
    onboarded = [anchor - (30 + int(r() * 700)) * DAY + int(r() * DAY) for _ in range(n_domains)]
    for (_id, dname, _c, _b), size, at in zip(domains, sizes, onboarded, strict=True):
        if at >= year_ago and size:
            audit.append(
                {
                    "at": at,
                    "actor": "cli",
                    "action": "user.imported",
                    "object_type": "domain",
                    "object_key": dname,
                    "brand_id": domain_brand[_id - 1],
                    "after": {"imported": _imported(size)},
                }
            )
    return _Plan(anchor, brands, companies, domains, sizes, onboarded, domain_brand, audit)


def _imported(domain_size: int) -> int:
    """How many of a domain's mailboxes arrived with its import (the rest joined since)."""
    return (domain_size * 3 + 2) // 5


# --- the mailboxes: generated in chunks ----------------------------------------------------


class _Clock:
    """Epoch seconds (numpy int64) to the text form the database stores, vectorised."""

    def __init__(self, anchor: int, sqlite: bool) -> None:
        self.first_day = anchor // DAY - 1200
        tail = ".000000" if sqlite else "+00"
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        self.days = np.array(
            [
                (epoch + timedelta(days=d)).strftime("%Y-%m-%d ")
                for d in range(self.first_day, anchor // DAY + 2)
            ],
            dtype=object,
        )
        self.tods = np.array(
            [f"{h:02d}:{m:02d}:{s:02d}{tail}" for h in range(24) for m in range(60) for s in range(60)],
            dtype=object,
        )

    def __call__(self, ts: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
        """Object array of strings; None where ``present`` is False."""
        text_ = self.days[ts // DAY - self.first_day] + self.tods[ts % DAY]
        if present is None:
            return text_
        return np.where(present, text_, None)


@dataclass
class _Counts:
    users: int = 0
    enrolled: int = 0
    suspended: int = 0
    app_passwords: int = 0
    security_events: int = 0


_KINDS = np.array(["2fa_enrolled", "2fa_reset", "app_password_created", "app_password_revoked"], dtype=object)


def _domain_chunks(sizes: list[int]) -> Iterator[tuple[int, int]]:
    """Ranges of whole domains holding about CHUNK_USERS mailboxes each."""
    start = total = 0
    for i, size in enumerate(sizes):
        total += size
        if total >= CHUNK_USERS:
            yield start, i + 1
            start, total = i + 1, 0
    if start < len(sizes):
        yield start, len(sizes)


def _mailboxes(
    seed: int,
    plan: _Plan,
    clock: _Clock,
    password_hash: str,
    secret_pool: list[str],
    app_hash_pool: list[str],
    counts: _Counts,
) -> Iterator[tuple[list[tuple], list[tuple], list[tuple]]]:
    """Chunks of (users, app_passwords, security_events) rows, ids given explicitly.

    Columnar: every decision is drawn for a whole chunk at once with numpy (seeded with
    ``seed``), which is what makes a million mailboxes cheap to generate.
    """
    g = np.random.default_rng([seed, 20_240_601])
    anchor = plan.anchor
    start_enrol = anchor - 548 * DAY  # 18 months
    year_ago = anchor - 365 * DAY
    n_brands = len(plan.brands)
    i64 = np.int64
    enrol_rate = np.array([0.0] + [b.enrol_rate for b in plan.brands])
    enrol_until = np.array([0] + [b.enrol_until for b in plan.brands], dtype=i64)
    allow_2fa = np.array([False] + [b.switches[0] for b in plan.brands])
    app_rate = np.array([0.0] + [b.app_rate for b in plan.brands])

    nf, nl = len(_FIRST_NAMES), len(_LAST_NAMES)
    locals_ = np.array([f"{f}.{la}".lower() for f in _FIRST_NAMES for la in _LAST_NAMES], dtype=object)
    displays = np.array([f"{f} {la}" for f in _FIRST_NAMES for la in _LAST_NAMES], dtype=object)
    at_domain = np.array(["@" + d[1] for d in plan.domains], dtype=object)
    sizes = np.array(plan.domain_sizes, dtype=i64)
    dom_first_user = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    imported = np.array([_imported(s) for s in plan.domain_sizes], dtype=i64)
    onboarded = np.array(plan.domain_onboarded, dtype=i64)
    dom_brand = np.array(plan.domain_brand, dtype=i64)
    secrets_ = np.array(secret_pool, dtype=object)
    app_hashes = np.array(app_hash_pool, dtype=object)
    labels = np.array(APP_PASSWORD_LABELS, dtype=object)
    statuses = np.array(["active", "suspended"], dtype=object)
    reasons = np.array(RESET_REASONS, dtype=object)
    suffixes = np.array([""], dtype=object)
    ap_id = ev_id = 0

    def rand(n: int) -> np.ndarray:
        return g.random(n)

    def between(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """A time in [lo, hi) (lo where the range is empty)."""
        return lo + (rand(len(lo)) * np.maximum(hi - lo, 0)).astype(i64)

    for d0, d1 in _domain_chunks(plan.domain_sizes):
        dom = np.repeat(np.arange(d0, d1), sizes[d0:d1])
        n = len(dom)
        if n == 0:
            continue
        u0 = int(dom_first_user[d0])
        uid = np.arange(u0 + 1, u0 + n + 1, dtype=i64)
        pos = np.arange(u0, u0 + n, dtype=i64) - dom_first_user[dom]

        # Addresses: first.last, and first.lastNN for the second and later of a name in a domain.
        name = g.integers(0, nf, n) * nl + g.integers(0, nl, n)
        key = dom.astype(i64) * (nf * nl) + name
        order = np.argsort(key, kind="stable")
        sk = key[order]
        new_run = np.empty(n, dtype=bool)
        new_run[0] = True
        new_run[1:] = sk[1:] != sk[:-1]
        idx = np.arange(n)
        rank = np.empty(n, dtype=i64)
        rank[order] = idx - np.maximum.accumulate(np.where(new_run, idx, 0))
        top = int(rank.max())
        if top >= len(suffixes):
            suffixes = np.array([""] + [f"{k + 1:02d}" for k in range(1, top + 1)], dtype=object)
        email = locals_[name] + suffixes[rank] + at_domain[dom]

        span = anchor - onboarded[dom]
        created = onboarded[dom] + np.where(
            pos < imported[dom], (rand(n) * 3600).astype(i64), (rand(n) * span).astype(i64)
        )
        override = rand(n) < (0.01 if n_brands > 1 else 0.0)
        own = g.integers(1, n_brands + 1, n)
        brand = np.where(override, own, dom_brand[dom])
        user_brand = np.where(override, own.astype(object), None)
        suspended = rand(n) < 0.03

        x = rand(n)
        recent = between(np.maximum(created, anchor - 30 * DAY), np.full(n, anchor))
        any_time = between(created, np.full(n, anchor))
        last_login = clock(np.where(x < 0.8, recent, any_time), x < 0.92)

        # 2FA: enrolled, maybe reset by support since, maybe enrolled again.
        lo = np.maximum(created + 600, start_enrol)
        hi = enrol_until[brand]
        enrolled = (rand(n) < enrol_rate[brand]) & (lo < hi)
        # sqrt: more enrolments in recent months (adoption rises).
        t1 = lo + (np.sqrt(rand(n)) * np.maximum(hi - lo, 0)).astype(i64)
        reset = enrolled & allow_2fa[brand] & (t1 < anchor - 30 * DAY) & (rand(n) < 0.012)
        t2 = between(np.maximum(t1 + DAY, year_ago), np.full(n, anchor - DAY))
        again = reset & (rand(n) < 0.6)
        t3 = t2 + 300 + (rand(n) * np.minimum(10 * DAY, anchor - t2 - 301)).astype(i64)
        final = enrolled & (~reset | again)
        final_at = np.where(reset, t3, t1)
        secret = np.where(final, secrets_[g.integers(0, len(secrets_), n)], None)
        reason = reasons[np.minimum((rand(n) * 1.3 * len(reasons)).astype(i64), len(reasons) - 1)]

        counts.enrolled += int(final.sum())
        counts.suspended += int(suspended.sum())
        email_list = email.tolist()
        users = list(
            zip(
                uid.tolist(),
                email_list,
                (dom + 1).tolist(),
                user_brand.tolist(),
                displays[name].tolist(),
                statuses[suspended.astype(np.intp)].tolist(),
                clock(created).tolist(),
                last_login.tolist(),
                repeat(password_hash, n),
                secret.tolist(),
                clock(final_at, final).tolist(),
                repeat(None, n),
                strict=False,
            )
        )
        for i in np.flatnonzero(reset).tolist():
            plan.audit.append(
                {
                    "at": int(t2[i]),
                    "actor": "support",
                    "action": "user.2fa_reset",
                    "object_type": "user",
                    "object_key": email_list[i],
                    "brand_id": int(brand[i]),
                    "user_id": u0 + i + 1,
                    "before": {"totp": "enrolled"},
                    "after": {"totp": "none"},
                    "reason": reason[i],
                }
            )

        # App passwords: at most MAX_PER_USER live ones, labels unique per user, a few revoked.
        has = rand(n) < app_rate[brand]
        y = rand(n)
        live = np.minimum(1 + (y >= 0.5) + (y >= 0.78) + (y >= 0.92), MAX_PER_USER)
        revoked = np.where(rand(n) < 0.88, 0, 1 + (rand(n) < 0.3))
        owners = np.flatnonzero(has)
        per_owner = (live + revoked)[owners]
        total = int(per_owner.sum())
        perm = np.argsort(rand(len(owners) * len(labels)).reshape(len(owners), len(labels)), axis=1)
        row = np.repeat(np.arange(len(owners)), per_owner)
        nth = np.arange(total) - np.repeat(np.cumsum(per_owner) - per_owner, per_owner)
        owner = owners[row]
        label = labels[perm[row, nth]] if total else labels[:0]
        is_revoked = nth >= live[owner]
        made = between(created[owner], np.full(total, anchor))
        gone = between(made, np.full(total, anchor))
        z = rand(total)
        used_revoked = between(made, gone)
        used_recent = between(np.maximum(made, anchor - 7 * DAY), np.full(total, anchor))
        used_old = between(made, np.full(total, anchor - 91 * DAY))
        last_used = np.where(is_revoked, used_revoked, np.where(z < 0.55, used_recent, used_old))
        has_used = np.where(is_revoked, z < 0.7, (z < 0.55) | ((z < 0.8) & (made < anchor - 91 * DAY)))
        ap_ids = np.arange(ap_id + 1, ap_id + total + 1, dtype=i64)
        ap_id += total
        apps = list(
            zip(
                ap_ids.tolist(),
                uid[owner].tolist(),
                label.tolist(),
                app_hashes[g.integers(0, len(app_hashes), total)].tolist(),
                clock(made).tolist(),
                clock(last_used, has_used).tolist(),
                clock(gone, is_revoked).tolist(),
                strict=False,
            )
        )
        by_support = is_revoked & (rand(total) < 0.2) & (gone >= year_ago)
        for i in np.flatnonzero(by_support).tolist():
            u = int(owner[i])
            plan.audit.append(
                {
                    "at": int(gone[i]),
                    "actor": "support",
                    "action": "app_password.revoked",
                    "object_type": "app_password",
                    "object_key": f"{email_list[u]}:{label[i]}",
                    "brand_id": int(brand[u]),
                    "user_id": u0 + u + 1,
                    "reason": "device lost or stolen",
                }
            )

        # Security events, each user's in time order.
        ev_user = np.concatenate(
            (
                np.flatnonzero(enrolled),
                np.flatnonzero(reset),
                np.flatnonzero(again),
                owner,
                owner[is_revoked],
            )
        )
        ev_at = np.concatenate((t1[enrolled], t2[reset], t3[again], made, gone[is_revoked]))
        ev_kind = np.concatenate(
            (
                np.zeros(int(enrolled.sum()), dtype=np.intp),
                np.ones(int(reset.sum()), dtype=np.intp),
                np.zeros(int(again.sum()), dtype=np.intp),
                np.full(total, 2, dtype=np.intp),
                np.full(int(is_revoked.sum()), 3, dtype=np.intp),
            )
        )
        order = np.lexsort((ev_at, ev_user))
        ev_user, ev_at, ev_kind = ev_user[order], ev_at[order], ev_kind[order]
        n_ev = len(ev_user)
        events = list(
            zip(
                range(ev_id + 1, ev_id + n_ev + 1),
                uid[ev_user].tolist(),
                brand[ev_user].tolist(),
                _KINDS[ev_kind].tolist(),
                clock(ev_at).tolist(),
                strict=False,
            )
        )
        ev_id += n_ev
        counts.users, counts.app_passwords, counts.security_events = u0 + n, ap_id, ev_id
        yield users, apps, events


# --- writing ---------------------------------------------------------------------------------

_USER_COLS = (
    "id",
    "email",
    "domain_id",
    "brand_id",
    "display_name",
    "status",
    "created_at",
    "last_login_at",
    "password_hash",
    "totp_secret",
    "totp_enrolled_at",
    "totp_last_step",
)
_AP_COLS = ("id", "user_id", "label", "password_hash", "created_at", "last_used_at", "revoked_at")
_EV_COLS = ("id", "user_id", "brand_id", "kind", "at")


class _Writer:
    """Bulk rows into one table through the driver, inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.sqlite = conn.dialect.name == "sqlite"
        self.raw = conn.connection.driver_connection

    def write(self, table: str, cols: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        names = ", ".join(cols)
        if self.sqlite:
            marks = ", ".join("?" * len(cols))
            self.raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            return
        with self.raw.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)


def _secondary_indexes(conn: Connection, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the indexes of ``tables`` that can be dropped and rebuilt."""
    if conn.dialect.name == "sqlite":
        marks = ", ".join(f"'{t}'" for t in tables)
        rows = conn.exec_driver_sql(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks})"
        ).all()
    else:
        rows = conn.execute(
            text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "WHERE i.schemaname = current_schema() AND i.tablename = ANY(:tables) "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = "
                "(quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)"
            ),
            {"tables": list(tables)},
        ).all()
    return [(name, sql) for name, sql in rows]


def _pg_constraints(conn: Connection, tables: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(table, name, definition) of the foreign keys and unique constraints of ``tables``.

    PostgreSQL checks a foreign key row by row (a trigger each) and keeps a unique index
    up to date row by row; adding them back after the load checks everything in one pass.
    """
    rows = conn.execute(
        text(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c WHERE c.contype IN ('f', 'u') "
            "AND c.conrelid = ANY(SELECT to_regclass(t) FROM unnest(CAST(:tables AS text[])) AS t) "
            "ORDER BY c.contype DESC, c.conname"
        ),
        {"tables": list(tables)},
    ).all()
    return [(table, name, definition) for table, name, definition in rows]


def _existing_tables(conn: Connection) -> list[str]:
    """The tables of the schema, children first (as they must be emptied)."""
    present = set(inspect(conn).get_table_names())
    return [t.name for t in reversed(SQLModel.metadata.sorted_tables) if t.name in present]


_REFUSE_IF_ROWS = (
    ("users", User),
    ("brands", Brand),
    ("companies", Company),
    ("domains", Domain),
    ("operators", Operator),
    ("app passwords", AppPassword),
    ("security events", SecurityEvent),
)


def _ensure_empty(conn: Connection, replace: bool) -> None:
    if replace:
        tables = _existing_tables(conn)
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            for name in tables:
                conn.exec_driver_sql(f"DELETE FROM {name}")
        return
    held = []
    for label, model in _REFUSE_IF_ROWS:
        n = conn.execute(select(func.count()).select_from(model)).scalar_one()
        if n:
            held.append(f"{n:,} {label}")
    if held:
        raise Refused(
            f"The database already holds data ({', '.join(held)}); demo data is only loaded into "
            "an empty database. Pass --replace to delete every row of every table first."
        )


@lru_cache(maxsize=1)
def _password_hashes() -> tuple[str, list[str], dict[str, str]]:
    """The mailbox password's hash, the app-password hash pool and the operators' hashes.

    argon2 takes a noticeable fraction of a second a hash, so they are made once a process.
    """
    mailbox = hash_password(DEMO_MAILBOX_PASSWORD)
    app_pool = [hash_password(secrets.token_urlsafe(12)) for _ in range(APP_PASSWORD_POOL_SIZE)]
    operators = {name: hash_password(password) for name, (_role, password) in DEMO_OPERATORS.items()}
    return mailbox, app_pool, operators


def _begin(engine: Engine):
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_begin="IMMEDIATE").begin()
    return engine.begin()


def seed_demo(
    *,
    engine: Engine,
    brands: int = 40,
    users: int = 20_000,
    seed: int = 7,
    replace: bool = False,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> SeedSummary:
    """Load demo data into the database of ``engine``, in one transaction.

    Refuses (``Refused``) when the database already holds data unless ``replace`` is
    set, which deletes every row of every table first. ``now`` is the reference time
    the history is drawn back from (default: the start of the current UTC day).
    ``progress(stage, fraction)`` is called now and then with 0 <= fraction <= 1.
    """
    started = time.perf_counter()
    report: Progress = progress or (lambda _stage, _fraction: None)
    if brands < 1 or brands > 1_000_000:
        raise BadInput("The number of brands must be between 1 and 1,000,000.")
    if users < 1 or users > 50_000_000:
        raise BadInput("The number of users must be between 1 and 50,000,000.")
    if now is None:
        today = datetime.now(UTC).date()
        ref = datetime(today.year, today.month, today.day, tzinfo=UTC)
    else:
        ref = now if now.tzinfo else now.replace(tzinfo=UTC)
    anchor = int(ref.timestamp())
    sqlite = engine.dialect.name == "sqlite"

    report("Planning brands, companies and domains", 0.0)
    rng = random.Random(seed)  # noqa: S311 (demo data, reproducible on purpose)
    plan = _plan(rng, brands, users, anchor)

    report("Hashing the demo passwords", 0.02)
    password_hash, app_hash_pool, operator_hashes = _password_hashes()
    secret_pool = [encrypt_secret(new_secret()) for _ in range(SECRET_POOL_SIZE)]
    operator_rows = []
    ops_created = anchor - 420 * DAY
    for i, (username, (role, _password)) in enumerate(DEMO_OPERATORS.items(), start=1):
        operator_rows.append(
            {
                "id": i,
                "username": username,
                "display_name": _OPERATOR_NAMES[username],
                "role": role,
                "password_hash": operator_hashes[username],
                "totp_secret": encrypt_secret(demo_operator_totp_secret(username)),
                "totp_confirmed": True,
                "totp_last_step": None,
                "active": True,
                "created_at": _ts_dt(ops_created + i * 600),
                "last_sign_in_at": _ts_dt(anchor - (1 + i) * DAY + 9 * 3600),
            }
        )
        plan.audit.append(
            {
                "at": ops_created + i * 600,
                "actor": "cli" if i == 1 else "admin",
                "action": "operator.created",
                "object_type": "operator",
                "object_key": username,
                "after": {"role": role, "display_name": _OPERATOR_NAMES[username]},
            }
        )

    counts = _Counts()
    with _begin(engine) as conn:
        report("Checking the database is empty", 0.04)
        # The search index is rebuilt once after the load, not row by row (and not on the
        # deletes of --replace either).
        search_index.suspend_triggers(conn)
        running_counts.suspend(conn)  # the running counts too: one aggregate at the end
        _ensure_empty(conn, replace)
        raw_sqlite_cache = None
        if sqlite:
            raw_sqlite_cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
            conn.exec_driver_sql("PRAGMA cache_size = -262144")  # 256 MiB for the load
        try:
            report("Writing brands, companies and domains", 0.05)
            conn.execute(
                Brand.__table__.insert(),
                [
                    {
                        "id": b.id,
                        "name": b.name,
                        "allow_2fa": b.switches[0],
                        "allow_user_disable_2fa": b.switches[1],
                        "allow_app_passwords": b.switches[2],
                        "custom_login_css": b.css,
                        "version": b.version,
                        "created_at": _ts_dt(b.created),
                        "updated_at": _ts_dt(b.updated),
                        "updated_by": b.updated_by,
                    }
                    for b in plan.brands
                ],
            )
            conn.execute(
                Company.__table__.insert(),
                [
                    {"id": cid, "name": name, "brand_id": bid, "created_at": _ts_dt(created)}
                    for cid, name, bid, created in plan.companies
                ],
            )
            conn.execute(
                Domain.__table__.insert(),
                [
                    {"id": did, "name": name, "company_id": cid, "brand_id": bid}
                    for did, name, cid, bid in plan.domains
                ],
            )
            conn.execute(Operator.__table__.insert(), operator_rows)

            indexes = _secondary_indexes(conn, _BIG_TABLES)
            for name, _sql in indexes:
                conn.exec_driver_sql(f"DROP INDEX {name}")
            constraints = [] if sqlite else _pg_constraints(conn, _BIG_TABLES)
            for table, name, _definition in constraints:
                conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            if not sqlite:
                conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")

            writer = _Writer(conn)
            clock = _Clock(anchor, sqlite)
            chunks = _mailboxes(seed, plan, clock, password_hash, secret_pool, app_hash_pool, counts)
            for user_rows, ap_rows, event_rows in chunks:
                writer.write("users", _USER_COLS, user_rows)
                writer.write("app_passwords", _AP_COLS, ap_rows)
                writer.write("security_events", _EV_COLS, event_rows)
                report(
                    f"Writing mailboxes ({counts.users:,} of {users:,})",
                    0.05 + 0.75 * counts.users / users,
                )

            report("Building indexes", 0.8)
            for _name, sql in indexes:
                conn.exec_driver_sql(sql)
            search_index.resume_triggers(conn)
            running_counts.resume(conn)
            # Unique constraints first (ORDER BY above), then the foreign keys they back.
            for table, name, definition in constraints:
                conn.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')

            report("Writing the audit history", 0.92)
            seeded_at = datetime.now(UTC)
            summary_after = {
                "brands": brands,
                "users": users,
                "seed": seed,
                "reference_time": ref.isoformat(),
            }
            plan.audit.sort(key=lambda e: e["at"])
            audit_rows = [
                {
                    "at": _ts_dt(e["at"]),
                    "actor": e["actor"],
                    "action": e["action"],
                    "object_type": e["object_type"],
                    "object_key": e["object_key"],
                    "brand_id": e.get("brand_id"),
                    "user_id": e.get("user_id"),
                    "before": e.get("before"),
                    "after": e.get("after"),
                    "reason": e.get("reason"),
                }
                for e in plan.audit
            ]
            audit_rows.append(
                {
                    "at": seeded_at,
                    "actor": "cli",
                    "action": "demo.seeded",
                    "object_type": "database",
                    "object_key": "demo",
                    "brand_id": None,
                    "user_id": None,
                    "before": None,
                    "after": summary_after,
                    "reason": None,
                }
            )
            conn.execute(AuditEvent.__table__.insert(), audit_rows)

            if not sqlite:
                for table in (
                    "brands",
                    "companies",
                    "domains",
                    "users",
                    "app_passwords",
                    "security_events",
                    "operators",
                ):
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table}"
                    )

            report("Gathering statistics (ANALYZE)", 0.95)
            if sqlite:
                conn.exec_driver_sql("PRAGMA analysis_limit = 1000")
            conn.exec_driver_sql("ANALYZE")
        finally:
            if raw_sqlite_cache is not None:
                conn.exec_driver_sql(f"PRAGMA cache_size = {int(raw_sqlite_cache)}")
        report("Committing", 0.99)
    if sqlite:
        # Copy the load from the write-ahead log into the database file now, once, rather
        # than leaving every later reader to look pages up in a log of several hundred MB.
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    summary = SeedSummary(
        brands=len(plan.brands),
        companies=len(plan.companies),
        domains=len(plan.domains),
        users=counts.users,
        users_2fa_enrolled=counts.enrolled,
        app_passwords=counts.app_passwords,
        suspended=counts.suspended,
        audit_events=len(audit_rows),
        security_events=counts.security_events,
        operators=len(operator_rows),
        seconds=round(time.perf_counter() - started, 2),
    )
    report("Done", 1.0)
    return summary
