"""Demo data: brands, companies, domains, mailboxes, app passwords and their history.

``seed_demo`` fills an empty database with a realistic, deterministic picture of a mail
reseller: the same ``(brands, users, seed, now)`` always gives the same rows (ids, names,
e-mail addresses, statuses, enrolments, switches, times). Randomness comes only from
``random.Random(seed)`` (the plan) and numpy seeded with ``seed`` (the mailboxes), never
from a global generator.

Times are derived from a reference "now": by default the start of the current UTC day,
so a seed run twice on the same day gives identical times; pass ``now`` to pin it.
Everything generated lies before that reference, except the ``demo.seeded`` audit event,
which records the real moment the data was loaded.

A million mailboxes load in well under a minute: the shortcuts this takes are in
``core.demo.credentials``, the bulk load in ``core.demo.load``. The load is one
transaction (all or nothing).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from core.demo import credentials, generate, load
from core.demo.plan import make_plan
from core.platform.errors import BadInput
from core.platform.events import DemoSeeded
from core.platform.models import AuditEvent, Brand, Company, Domain, Operator
from core.reporting import running_counts, search_index

Progress = Callable[[str, float], None]


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


def _reference_time(now: datetime | None) -> datetime:
    if now is None:
        today = datetime.now(UTC).date()
        return datetime(today.year, today.month, today.day, tzinfo=UTC)
    return now if now.tzinfo else now.replace(tzinfo=UTC)


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
    ref = _reference_time(now)
    anchor = int(ref.timestamp())

    report("Planning brands, companies and domains", 0.0)
    plan = make_plan(random.Random(seed), brands, users, anchor)  # noqa: S311 (demo data, reproducible on purpose)

    report("Hashing the demo passwords", 0.02)
    hashes = credentials.password_hashes()
    secret_pool = credentials.secret_pool()
    operator_rows = generate.operator_rows(anchor, hashes)
    summary = SeedSummary(
        brands=len(plan.brands),
        companies=len(plan.companies),
        domains=len(plan.domains),
        operators=len(operator_rows),
    )
    history = list(plan.history)

    with load.begin(engine) as conn:
        report("Checking the database is empty", 0.04)
        # The search index is rebuilt once after the load, not row by row (and not on the
        # deletes of --replace either).
        search_index.suspend_triggers(conn)
        running_counts.suspend(conn)  # the running counts too: one aggregate at the end
        load.ensure_empty(conn, replace)
        with load.big_cache(conn):
            report("Writing brands, companies and domains", 0.05)
            conn.execute(Brand.__table__.insert(), generate.brand_rows(plan))
            conn.execute(Company.__table__.insert(), generate.company_rows(plan))
            conn.execute(Domain.__table__.insert(), generate.domain_rows(plan))
            conn.execute(Operator.__table__.insert(), operator_rows)

            dropped = load.drop_for_load(conn, load.BIG_TABLES)
            writer = load.Writer(conn)
            clock = generate.Clock(anchor, conn.dialect.name == "sqlite")
            for chunk in generate.mailboxes(seed, plan, clock, hashes, secret_pool):
                writer.write("users", generate.USER_COLUMNS, chunk.users)
                writer.write("app_passwords", generate.APP_PASSWORD_COLUMNS, chunk.app_passwords)
                writer.write("security_events", generate.SECURITY_EVENT_COLUMNS, chunk.security_events)
                history += chunk.history
                summary.users += len(chunk.users)
                summary.app_passwords += len(chunk.app_passwords)
                summary.security_events += len(chunk.security_events)
                summary.users_2fa_enrolled += chunk.enrolled
                summary.suspended += chunk.suspended
                report(
                    f"Writing mailboxes ({summary.users:,} of {users:,})",
                    0.05 + 0.75 * summary.users / users,
                )

            report("Building indexes", 0.8)
            load.rebuild_indexes(conn, dropped)
            search_index.resume_triggers(conn)
            running_counts.resume(conn)
            load.restore_constraints(conn, dropped)

            report("Writing the audit history", 0.92)
            seeded = DemoSeeded(brands=brands, users=users, seed=seed, reference_time=ref.isoformat())
            audit_rows = generate.audit_rows(history)
            audit_rows.append(generate.audit_row(datetime.now(UTC), "cli", seeded))
            conn.execute(AuditEvent.__table__.insert(), audit_rows)
            load.follow_sequences(conn)

            report("Gathering statistics (ANALYZE)", 0.95)
            load.analyze(conn)
        report("Committing", 0.99)
    load.checkpoint(engine)

    summary.audit_events = len(audit_rows)
    summary.seconds = round(time.perf_counter() - started, 2)
    report("Done", 1.0)
    return summary
