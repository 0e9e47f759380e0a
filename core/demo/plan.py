"""What the demo makes, decided in memory before anything is written.

``make_plan(rng, brands, users, anchor)`` decides everything small: the brands (switches,
CSS, how keen their users are on 2FA and app passwords), companies, domains, how many
mailboxes each domain holds, and the operators' history on them, as audit events. The
mailboxes themselves are drawn later, a chunk at a time (``core.demo.generate``).

Times are epoch seconds before ``anchor`` (the reference "now"); all randomness comes
from ``rng``, in a fixed order, so the same arguments give the same plan.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import NamedTuple

from core.brands.switches import SWITCHES
from core.demo.credentials import DEMO_OPERATORS
from core.demo.words import (
    BRAND_MIDDLES,
    BRAND_SUFFIXES,
    BRAND_WORDS,
    COMPANY_SECTORS,
    COMPANY_SUFFIXES,
    COMPANY_WORDS,
    OPERATOR_NAMES,
    TLDS,
    login_css,
    unique_names,
)
from core.platform.events import (
    BrandCssSaved,
    BrandSwitchesChanged,
    Event,
    MailboxesImported,
    OperatorCreated,
)

DAY = 86_400
# Every combination, the first all on and the second all off.
COMBOS = (
    (True, True, True),
    (False, False, False),
    (True, False, True),
    (True, True, False),
    (True, False, False),
    (False, False, True),
    (False, True, False),
    (False, True, True),
)
# The demo operators were created this long before the reference time, ten minutes apart.
OPERATORS_AGO = 420 * DAY


class Past(NamedTuple):
    """An audit event of the demo's history: when (epoch seconds), who, what."""

    at: int
    actor: str
    event: Event


@dataclass
class BrandPlan:
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
class Plan:
    anchor: int
    brands: list[BrandPlan]
    companies: list[tuple[int, str, int, int]]  # id, name, brand_id, created
    domains: list[tuple[int, str, int, int | None]]  # id, name, company_id, brand_id
    domain_sizes: list[int]
    domain_onboarded: list[int]
    domain_brand: list[int]  # effective brand of the domain (domain's, else company's)
    history: list[Past] = field(default_factory=list)


def imported(domain_size: int) -> int:
    """How many of a domain's mailboxes arrived with its import (the rest joined since)."""
    return (domain_size * 3 + 2) // 5


def make_plan(rng: random.Random, n_brands: int, n_users: int, anchor: int) -> Plan:
    brands = _brands(rng, n_brands, anchor)
    history = [past for b in brands for past in _brand_history(rng, b, anchor)]
    companies = _companies(rng, n_brands, anchor)
    domains, domain_brand = _domains(rng, n_brands, n_users, companies)
    sizes = _domain_sizes(rng, n_users, len(domains))
    onboarded = [anchor - (30 + int(rng.random() * 700)) * DAY + int(rng.random() * DAY) for _ in domains]
    year_ago = anchor - 365 * DAY
    for (did, dname, _c, _b), size, at in zip(domains, sizes, onboarded, strict=True):
        if at >= year_ago and size:
            event = MailboxesImported(
                source=f"{dname}.csv", rows=imported(size), brand_id=domain_brand[did - 1]
            )
            history.append(Past(at, "cli", event))
    history += _operators_created(anchor)
    return Plan(anchor, brands, companies, domains, sizes, onboarded, domain_brand, history)


def _brands(rng: random.Random, n_brands: int, anchor: int) -> list[BrandPlan]:
    r = rng.random
    combos = [f"{w} {m}{s}" for w in BRAND_WORDS for m in BRAND_MIDDLES for s in BRAND_SUFFIXES]
    names = unique_names(rng, n_brands, ["Northwind Mail", "Bluebird Webmail"], combos)
    brands: list[BrandPlan] = []
    for i, name in enumerate(names):
        if i < len(COMBOS):
            sw = COMBOS[i]
        else:
            a2 = r() < 0.7
            sw = (a2, a2 and r() < 0.5, r() < 0.6)
        css = login_css(rng) if i == 0 or r() < 0.06 else ""
        created = anchor - (900 + int(r() * 400)) * DAY + int(r() * DAY)
        if sw[0]:
            enrol_rate, enrol_until = 0.15 + r() * 0.6, anchor
        elif r() < 0.45:
            # 2FA was allowed once and turned off since: its enrolled users are dormant.
            enrol_rate, enrol_until = 0.05 + r() * 0.1, anchor - (30 + int(r() * 270)) * DAY
        else:
            enrol_rate, enrol_until = 0.0, anchor
        app_rate = 0.2 + r() * 0.3 if sw[2] else 0.05 + r() * 0.06
        brands.append(BrandPlan(i + 1, name, sw, css, created, enrol_rate, enrol_until, app_rate))
    return brands


def _brand_history(rng: random.Random, b: BrandPlan, anchor: int) -> list[Past]:
    """The operators' changes to a brand in the past year: switch changes that end at today's
    switches, and a CSS save if it has CSS; each made against the brand's version then."""
    r = rng.random
    year_ago = anchor - 365 * DAY
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
    # (at, actor, switches before and after, or None for the CSS save)
    saves: list[tuple[int, str, tuple | None, tuple | None]] = []
    for (at, _kind), before, after in zip(changes, states, states[1:], strict=False):
        actor = "manager" if r() < 0.7 else "admin"
        saves.append((at, actor, before, after))
        b.updated, b.updated_by = at, actor
    if b.css:
        at = year_ago + int(r() * 300 * DAY)
        saves.append((at, "manager", None, None))
        if at > b.updated:
            b.updated, b.updated_by = at, "manager"
    if not b.updated:
        b.updated = b.created
    saves.sort(key=lambda s: s[0])
    history = []
    for at, actor, before, after in saves:
        if before is None:
            event: Event = BrandCssSaved(brand=b.name, brand_id=b.id, before="", css=b.css, version=b.version)
        else:
            event = BrandSwitchesChanged(
                brand=b.name,
                brand_id=b.id,
                before=dict(zip(SWITCHES, before, strict=True)),
                after=dict(zip(SWITCHES, after, strict=True)),
                version=b.version,
            )
        history.append(Past(at, actor, event))
        b.version += 1
    return history


def _companies(rng: random.Random, n_brands: int, anchor: int) -> list[tuple[int, str, int, int]]:
    """About three per brand, every brand with at least one."""
    r = rng.random
    n_companies = max(1, n_brands * 3)
    combos = [f"{w} {s} {x}" for w in COMPANY_WORDS for s in COMPANY_SECTORS for x in COMPANY_SUFFIXES]
    companies = []
    for i, name in enumerate(unique_names(rng, n_companies, [], combos)):
        brand_id = i + 1 if i < n_brands else 1 + int(r() * n_brands)
        created = anchor - (760 + int(r() * 120)) * DAY + int(r() * DAY)
        companies.append((i + 1, name, brand_id, created))
    return companies


def _domains(
    rng: random.Random, n_brands: int, n_users: int, companies: list[tuple[int, str, int, int]]
) -> tuple[list[tuple[int, str, int, int | None]], list[int]]:
    """About one per 150 mailboxes, at least one per company; about one in ten names a brand."""
    r = rng.random
    n_companies = len(companies)
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
            candidate = f"{stem}.{TLDS[int(r() * len(TLDS))]}"
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
    return domains, domain_brand


def _domain_sizes(rng: random.Random, n_users: int, n_domains: int) -> list[int]:
    """Mailboxes per domain: log-normal sizes (a few big customers, many small ones)."""
    weights = [rng.lognormvariate(0.0, 1.3) for _ in range(n_domains)]
    base_each = 1 if n_users >= n_domains else 0
    rest = n_users - base_each * n_domains
    total_w = sum(weights)
    sizes = [base_each + int(rest * w / total_w) for w in weights]
    short = n_users - sum(sizes)
    order = sorted(range(n_domains), key=lambda j: -weights[j])
    for j in range(short):
        sizes[order[j % n_domains]] += 1
    return sizes


def _operators_created(anchor: int) -> list[Past]:
    """The command line created the first administrator; it created the others."""
    return [
        Past(
            anchor - OPERATORS_AGO + i * 600,
            "cli" if i == 1 else "admin",
            OperatorCreated(username=username, role=role, display_name=OPERATOR_NAMES[username]),
        )
        for i, (username, (role, _password)) in enumerate(DEMO_OPERATORS.items(), start=1)
    ]
