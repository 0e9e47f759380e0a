"""The demo's rows: tuples and dicts for bulk loading, drawn from a plan.

``mailboxes`` draws every mailbox, its app passwords and its security events a chunk of
whole domains at a time, columnar, with numpy seeded from the seed: a million mailboxes are
cheap to generate, and the same seed gives the same rows. The small tables' rows and the
audit history's rows come from the plan as it is.

``security_events`` is complete (each user's last ``2fa_enrolled``/``2fa_reset`` agrees with
the users table); the audit history is a sample: the operators' actions (support's 2FA
resets and app-password revocations among them), not the customers' own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import repeat
from typing import Any

import numpy as np

from core.demo.credentials import DEMO_OPERATORS, Hashes, demo_operator_totp_secret
from core.demo.plan import DAY, OPERATORS_AGO, Past, Plan, imported
from core.demo.words import APP_PASSWORD_LABELS, FIRST_NAMES, LAST_NAMES, OPERATOR_NAMES
from core.mailboxes.app_passwords import MAX_PER_USER
from core.platform.crypto import encrypt_secret
from core.platform.events import AppPasswordRevoked, Event, TwoFaReset
from core.platform.models import RESET_REASONS

# Users are drawn in chunks of about this many (bounded memory, regular progress).
CHUNK_USERS = 25_000
KINDS = np.array(["2fa_enrolled", "2fa_reset", "app_password_created", "app_password_revoked"], dtype=object)


class Clock:
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
class Chunk:
    """The rows of a chunk of domains (ids given explicitly), and its part of the audit history."""

    users: list[tuple]
    app_passwords: list[tuple]
    security_events: list[tuple]
    history: list[Past]
    enrolled: int
    suspended: int


def domain_chunks(sizes: list[int]) -> Iterator[tuple[int, int]]:
    """Ranges of whole domains holding about CHUNK_USERS mailboxes each."""
    start = total = 0
    for i, size in enumerate(sizes):
        total += size
        if total >= CHUNK_USERS:
            yield start, i + 1
            start, total = i + 1, 0
    if start < len(sizes):
        yield start, len(sizes)


def mailboxes(seed: int, plan: Plan, clock: Clock, hashes: Hashes, secret_pool: list[str]) -> Iterator[Chunk]:
    """The mailboxes, their app passwords and security events, a chunk of domains at a time.

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

    nf, nl = len(FIRST_NAMES), len(LAST_NAMES)
    locals_ = np.array([f"{f}.{la}".lower() for f in FIRST_NAMES for la in LAST_NAMES], dtype=object)
    displays = np.array([f"{f} {la}" for f in FIRST_NAMES for la in LAST_NAMES], dtype=object)
    at_domain = np.array(["@" + d[1] for d in plan.domains], dtype=object)
    sizes = np.array(plan.domain_sizes, dtype=i64)
    dom_first_user = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    imported_ = np.array([imported(s) for s in plan.domain_sizes], dtype=i64)
    onboarded = np.array(plan.domain_onboarded, dtype=i64)
    dom_brand = np.array(plan.domain_brand, dtype=i64)
    secrets_ = np.array(secret_pool, dtype=object)
    app_hashes = np.array(hashes.app_passwords, dtype=object)
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

    for d0, d1 in domain_chunks(plan.domain_sizes):
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
            pos < imported_[dom], (rand(n) * 3600).astype(i64), (rand(n) * span).astype(i64)
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

        history: list[Past] = []
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
                repeat(hashes.mailbox, n),
                secret.tolist(),
                clock(final_at, final).tolist(),
                repeat(None, n),
                strict=False,
            )
        )
        for i in np.flatnonzero(reset).tolist():
            event = TwoFaReset(
                email=email_list[i],
                user_id=u0 + i + 1,
                brand_id=int(brand[i]),
                state="on",  # only a brand that allows 2FA has its resets
                enrolled_at=datetime.fromtimestamp(int(t1[i]), UTC).isoformat(),
                reason=reason[i],
            )
            history.append(Past(int(t2[i]), "support", event))

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
            event = AppPasswordRevoked(
                email=email_list[u],
                user_id=u0 + u + 1,
                brand_id=int(brand[u]),
                password_label=label[i],
                reason="device lost or stolen",
            )
            history.append(Past(int(gone[i]), "support", event))

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
                KINDS[ev_kind].tolist(),
                clock(ev_at).tolist(),
                strict=False,
            )
        )
        ev_id += n_ev
        yield Chunk(users, apps, events, history, enrolled=int(final.sum()), suspended=int(suspended.sum()))


USER_COLUMNS = (
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
APP_PASSWORD_COLUMNS = ("id", "user_id", "label", "password_hash", "created_at", "last_used_at", "revoked_at")
SECURITY_EVENT_COLUMNS = ("id", "user_id", "brand_id", "kind", "at")


def ts_dt(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def brand_rows(plan: Plan) -> list[dict[str, Any]]:
    return [
        {
            "id": b.id,
            "name": b.name,
            "allow_2fa": b.switches[0],
            "allow_user_disable_2fa": b.switches[1],
            "allow_app_passwords": b.switches[2],
            "custom_login_css": b.css,
            "version": b.version,
            "created_at": ts_dt(b.created),
            "updated_at": ts_dt(b.updated),
            "updated_by": b.updated_by,
        }
        for b in plan.brands
    ]


def company_rows(plan: Plan) -> list[dict[str, Any]]:
    return [
        {"id": cid, "name": name, "brand_id": bid, "created_at": ts_dt(created)}
        for cid, name, bid, created in plan.companies
    ]


def domain_rows(plan: Plan) -> list[dict[str, Any]]:
    return [
        {"id": did, "name": name, "company_id": cid, "brand_id": bid} for did, name, cid, bid in plan.domains
    ]


def operator_rows(anchor: int, hashes: Hashes) -> list[dict[str, Any]]:
    """The demo operators, enrolled, each last signed in a day apart."""
    return [
        {
            "id": i,
            "username": username,
            "display_name": OPERATOR_NAMES[username],
            "role": role,
            "password_hash": hashes.operators[username],
            "totp_secret": encrypt_secret(demo_operator_totp_secret(username)),
            "totp_confirmed": True,
            "totp_last_step": None,
            "active": True,
            "created_at": ts_dt(anchor - OPERATORS_AGO + i * 600),
            "last_sign_in_at": ts_dt(anchor - (1 + i) * DAY + 9 * 3600),
        }
        for i, (username, (role, _password)) in enumerate(DEMO_OPERATORS.items(), start=1)
    ]


def audit_row(at: datetime, actor: str, event: Event) -> dict[str, Any]:
    """One row of the audit table, from the event's own columns."""
    return {"at": at, "actor": actor, **event.columns()}


def audit_rows(history: list[Past]) -> list[dict[str, Any]]:
    """The audit table's rows of ``history``, oldest first."""
    return [audit_row(ts_dt(p.at), p.actor, p.event) for p in sorted(history, key=lambda p: p.at)]
