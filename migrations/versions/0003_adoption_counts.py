"""running counts for adoption (users per group, security events per month), kept by triggers;
indexes for the Overview's 30-day changes and at-risk lists

Two tables of sums, filled once from the rows already there, then kept in step by
triggers in the same transaction as every write: SQLite ``AFTER`` row triggers with
UPSERTs; PostgreSQL PL/pgSQL functions behind row triggers (users, security events) and
statement triggers with transition tables (app passwords).

Every statement below is this revision's own, frozen as it ran when it was written. The
console keeps today's copy of the triggers (for bulk loads and repairs) in its
running-counts module; changing that copy never changes what this revision does.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GROUP_SUMS = ("users", "enrolled", "ap_users", "ap_users_enrolled", "ap_count")

# --- the counts of the rows already there --------------------------------------------------

GROUPS_FROM_ROWS = """SELECT u.domain_id, COALESCE(u.brand_id, 0) AS user_brand_id, u.status,
       count(*) AS users,
       count(u.totp_enrolled_at) AS enrolled,
       count(ap.user_id) AS ap_users,
       count(CASE WHEN ap.user_id IS NOT NULL AND u.totp_enrolled_at IS NOT NULL THEN 1 END)
         AS ap_users_enrolled,
       COALESCE(sum(ap.n), 0) AS ap_count
FROM users u
LEFT JOIN (SELECT user_id, count(*) AS n FROM app_passwords WHERE revoked_at IS NULL
           GROUP BY user_id) ap ON ap.user_id = u.id
GROUP BY u.domain_id, COALESCE(u.brand_id, 0), u.status"""
MONTHS_FROM_ROWS = {
    "sqlite": "SELECT strftime('%Y-%m', at) AS month, brand_id, kind, count(*) AS n FROM security_events "
    "GROUP BY strftime('%Y-%m', at), brand_id, kind",
    "postgresql": "SELECT to_char(timezone('UTC', at), 'YYYY-MM') AS month, brand_id, kind, count(*) AS n "
    "FROM security_events GROUP BY to_char(timezone('UTC', at), 'YYYY-MM'), brand_id, kind",
}

# --- SQLite --------------------------------------------------------------------------------

SQLITE_TRIGGERS = {
    "summary_users_ai": """CREATE TRIGGER summary_users_ai AFTER INSERT ON users BEGIN
      INSERT INTO user_group_counts (domain_id, user_brand_id, status, users, enrolled, ap_users,
                            ap_users_enrolled, ap_count)
      VALUES (NEW.domain_id, COALESCE(NEW.brand_id, 0), NEW.status,
              +1, +(NEW.totp_enrolled_at IS NOT NULL), +((SELECT count(*) FROM app_passwords WHERE user_id = NEW.id AND revoked_at IS NULL) > 0), +((NEW.totp_enrolled_at IS NOT NULL) AND (SELECT count(*) FROM app_passwords WHERE user_id = NEW.id AND revoked_at IS NULL) > 0), +(SELECT count(*) FROM app_passwords WHERE user_id = NEW.id AND revoked_at IS NULL))
      ON CONFLICT (domain_id, user_brand_id, status) DO UPDATE SET
        users = users + excluded.users,
        enrolled = enrolled + excluded.enrolled,
        ap_users = ap_users + excluded.ap_users,
        ap_users_enrolled = ap_users_enrolled + excluded.ap_users_enrolled,
        ap_count = ap_count + excluded.ap_count;
    END""",
    "summary_users_ad": """CREATE TRIGGER summary_users_ad AFTER DELETE ON users BEGIN
      INSERT INTO user_group_counts (domain_id, user_brand_id, status, users, enrolled, ap_users,
                            ap_users_enrolled, ap_count)
      VALUES (OLD.domain_id, COALESCE(OLD.brand_id, 0), OLD.status,
              -1, -(OLD.totp_enrolled_at IS NOT NULL), -((SELECT count(*) FROM app_passwords WHERE user_id = OLD.id AND revoked_at IS NULL) > 0), -((OLD.totp_enrolled_at IS NOT NULL) AND (SELECT count(*) FROM app_passwords WHERE user_id = OLD.id AND revoked_at IS NULL) > 0), -(SELECT count(*) FROM app_passwords WHERE user_id = OLD.id AND revoked_at IS NULL))
      ON CONFLICT (domain_id, user_brand_id, status) DO UPDATE SET
        users = users + excluded.users,
        enrolled = enrolled + excluded.enrolled,
        ap_users = ap_users + excluded.ap_users,
        ap_users_enrolled = ap_users_enrolled + excluded.ap_users_enrolled,
        ap_count = ap_count + excluded.ap_count;
    END""",
    "summary_users_au": """CREATE TRIGGER summary_users_au
    AFTER UPDATE OF domain_id, brand_id, status, totp_enrolled_at ON users
    WHEN OLD.domain_id IS NOT NEW.domain_id OR OLD.brand_id IS NOT NEW.brand_id
      OR OLD.status IS NOT NEW.status
      OR (OLD.totp_enrolled_at IS NULL) IS NOT (NEW.totp_enrolled_at IS NULL) BEGIN
      INSERT INTO user_group_counts (domain_id, user_brand_id, status, users, enrolled, ap_users,
                            ap_users_enrolled, ap_count)
      VALUES (OLD.domain_id, COALESCE(OLD.brand_id, 0), OLD.status,
              -1, -(OLD.totp_enrolled_at IS NOT NULL), -((SELECT count(*) FROM app_passwords WHERE user_id = OLD.id AND revoked_at IS NULL) > 0), -((OLD.totp_enrolled_at IS NOT NULL) AND (SELECT count(*) FROM app_passwords WHERE user_id = OLD.id AND revoked_at IS NULL) > 0), -(SELECT count(*) FROM app_passwords WHERE user_id = OLD.id AND revoked_at IS NULL))
      ON CONFLICT (domain_id, user_brand_id, status) DO UPDATE SET
        users = users + excluded.users,
        enrolled = enrolled + excluded.enrolled,
        ap_users = ap_users + excluded.ap_users,
        ap_users_enrolled = ap_users_enrolled + excluded.ap_users_enrolled,
        ap_count = ap_count + excluded.ap_count;
      INSERT INTO user_group_counts (domain_id, user_brand_id, status, users, enrolled, ap_users,
                            ap_users_enrolled, ap_count)
      VALUES (NEW.domain_id, COALESCE(NEW.brand_id, 0), NEW.status,
              +1, +(NEW.totp_enrolled_at IS NOT NULL), +((SELECT count(*) FROM app_passwords WHERE user_id = NEW.id AND revoked_at IS NULL) > 0), +((NEW.totp_enrolled_at IS NOT NULL) AND (SELECT count(*) FROM app_passwords WHERE user_id = NEW.id AND revoked_at IS NULL) > 0), +(SELECT count(*) FROM app_passwords WHERE user_id = NEW.id AND revoked_at IS NULL))
      ON CONFLICT (domain_id, user_brand_id, status) DO UPDATE SET
        users = users + excluded.users,
        enrolled = enrolled + excluded.enrolled,
        ap_users = ap_users + excluded.ap_users,
        ap_users_enrolled = ap_users_enrolled + excluded.ap_users_enrolled,
        ap_count = ap_count + excluded.ap_count;
    END""",
    "summary_ap_ai": """CREATE TRIGGER summary_ap_ai AFTER INSERT ON app_passwords
    WHEN NEW.revoked_at IS NULL BEGIN
      UPDATE user_group_counts SET
        ap_count = ap_count + (1),
        ap_users = ap_users + (1) * ((SELECT count(*) FROM app_passwords WHERE user_id = NEW.user_id AND revoked_at IS NULL) = 1),
        ap_users_enrolled = ap_users_enrolled + (1) * ((SELECT count(*) FROM app_passwords WHERE user_id = NEW.user_id AND revoked_at IS NULL) = 1)
          * (SELECT totp_enrolled_at IS NOT NULL FROM users WHERE id = NEW.user_id)
      WHERE (domain_id, user_brand_id, status) =
            (SELECT domain_id, COALESCE(brand_id, 0), status FROM users WHERE id = NEW.user_id); END""",
    "summary_ap_ad": """CREATE TRIGGER summary_ap_ad AFTER DELETE ON app_passwords
    WHEN OLD.revoked_at IS NULL BEGIN
      UPDATE user_group_counts SET
        ap_count = ap_count + (-1),
        ap_users = ap_users + (-1) * ((SELECT count(*) FROM app_passwords WHERE user_id = OLD.user_id AND revoked_at IS NULL) = 0),
        ap_users_enrolled = ap_users_enrolled + (-1) * ((SELECT count(*) FROM app_passwords WHERE user_id = OLD.user_id AND revoked_at IS NULL) = 0)
          * (SELECT totp_enrolled_at IS NOT NULL FROM users WHERE id = OLD.user_id)
      WHERE (domain_id, user_brand_id, status) =
            (SELECT domain_id, COALESCE(brand_id, 0), status FROM users WHERE id = OLD.user_id); END""",
    "summary_ap_revoked": """CREATE TRIGGER summary_ap_revoked AFTER UPDATE OF revoked_at ON app_passwords
    WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL BEGIN
      UPDATE user_group_counts SET
        ap_count = ap_count + (-1),
        ap_users = ap_users + (-1) * ((SELECT count(*) FROM app_passwords WHERE user_id = NEW.user_id AND revoked_at IS NULL) = 0),
        ap_users_enrolled = ap_users_enrolled + (-1) * ((SELECT count(*) FROM app_passwords WHERE user_id = NEW.user_id AND revoked_at IS NULL) = 0)
          * (SELECT totp_enrolled_at IS NOT NULL FROM users WHERE id = NEW.user_id)
      WHERE (domain_id, user_brand_id, status) =
            (SELECT domain_id, COALESCE(brand_id, 0), status FROM users WHERE id = NEW.user_id); END""",
    "summary_ap_restored": """CREATE TRIGGER summary_ap_restored AFTER UPDATE OF revoked_at ON app_passwords
    WHEN OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS NULL BEGIN
      UPDATE user_group_counts SET
        ap_count = ap_count + (1),
        ap_users = ap_users + (1) * ((SELECT count(*) FROM app_passwords WHERE user_id = NEW.user_id AND revoked_at IS NULL) = 1),
        ap_users_enrolled = ap_users_enrolled + (1) * ((SELECT count(*) FROM app_passwords WHERE user_id = NEW.user_id AND revoked_at IS NULL) = 1)
          * (SELECT totp_enrolled_at IS NOT NULL FROM users WHERE id = NEW.user_id)
      WHERE (domain_id, user_brand_id, status) =
            (SELECT domain_id, COALESCE(brand_id, 0), status FROM users WHERE id = NEW.user_id); END""",
    "summary_events_ai": """CREATE TRIGGER summary_events_ai AFTER INSERT ON security_events BEGIN
      INSERT INTO event_month_counts (month, brand_id, kind, n)
      VALUES (strftime('%Y-%m', NEW.at), NEW.brand_id, NEW.kind, 1)
      ON CONFLICT (month, brand_id, kind) DO UPDATE SET n = n + 1;
    END""",
    "summary_events_ad": """CREATE TRIGGER summary_events_ad AFTER DELETE ON security_events BEGIN
      UPDATE event_month_counts SET n = n - 1
      WHERE month = strftime('%Y-%m', OLD.at) AND brand_id = OLD.brand_id AND kind = OLD.kind;
    END""",
}

# --- PostgreSQL ----------------------------------------------------------------------------

POSTGRESQL_FUNCTIONS = {
    "summary_user_delta": """CREATE OR REPLACE FUNCTION summary_user_delta(
    uid integer, dom integer, bid integer, st varchar, enr boolean, sign integer
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
  SELECT count(*) INTO n FROM app_passwords WHERE user_id = uid AND revoked_at IS NULL;
  INSERT INTO user_group_counts AS g (domain_id, user_brand_id, status, users, enrolled, ap_users,
                             ap_users_enrolled, ap_count)
  VALUES (dom, COALESCE(bid, 0), st, sign, sign * enr::int, sign * (n > 0)::int,
          sign * (enr AND n > 0)::int, sign * n)
  ON CONFLICT (domain_id, user_brand_id, status) DO UPDATE SET
    users = g.users + excluded.users,
    enrolled = g.enrolled + excluded.enrolled,
    ap_users = g.ap_users + excluded.ap_users,
    ap_users_enrolled = g.ap_users_enrolled + excluded.ap_users_enrolled,
    ap_count = g.ap_count + excluded.ap_count;
END $$""",
    "summary_users": """CREATE OR REPLACE FUNCTION summary_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM summary_user_delta(OLD.id, OLD.domain_id, OLD.brand_id, OLD.status,
                               OLD.totp_enrolled_at IS NOT NULL, -1);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM summary_user_delta(NEW.id, NEW.domain_id, NEW.brand_id, NEW.status,
                               NEW.totp_enrolled_at IS NOT NULL, 1);
  END IF;
  RETURN NULL;
END $$""",
    "summary_events": """CREATE OR REPLACE FUNCTION summary_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO event_month_counts AS m (month, brand_id, kind, n)
    VALUES (to_char(timezone('UTC', NEW.at), 'YYYY-MM'), NEW.brand_id, NEW.kind, 1)
    ON CONFLICT (month, brand_id, kind) DO UPDATE SET n = m.n + 1;
  ELSE
    UPDATE event_month_counts SET n = n - 1
    WHERE month = to_char(timezone('UTC', OLD.at), 'YYYY-MM') AND brand_id = OLD.brand_id
      AND kind = OLD.kind;
  END IF;
  RETURN NULL;
END $$""",
    "summary_ap_insert": """CREATE OR REPLACE FUNCTION summary_ap_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- The users' rows are the lock (the one core.app_passwords takes for the cap of four):
  -- concurrent changes to one user's app passwords queue here, and the count below, a new
  -- snapshot, sees the ones committed before.
  PERFORM 1 FROM users WHERE id IN (SELECT user_id FROM (SELECT user_id, count(*) AS k FROM new_rows WHERE revoked_at IS NULL GROUP BY user_id) c) ORDER BY id FOR UPDATE;
  WITH p AS (
    SELECT c.user_id, c.k,
           (SELECT count(*) FROM app_passwords a
             WHERE a.user_id = c.user_id AND a.revoked_at IS NULL) AS n
    FROM (SELECT user_id, count(*) AS k FROM new_rows WHERE revoked_at IS NULL GROUP BY user_id) c
  ), d AS (
    SELECT u.domain_id, COALESCE(u.brand_id, 0) AS bid, u.status,
           sum(p.k) AS ap_count,
           sum(CASE WHEN p.n - p.k = 0 AND p.n > 0 THEN 1 WHEN p.n = 0 AND p.n - p.k > 0 THEN -1 ELSE 0 END) AS ap_users,
           sum(CASE WHEN u.totp_enrolled_at IS NULL THEN 0 ELSE CASE WHEN p.n - p.k = 0 AND p.n > 0 THEN 1 WHEN p.n = 0 AND p.n - p.k > 0 THEN -1 ELSE 0 END END) AS ap_users_enrolled
    FROM p JOIN users u ON u.id = p.user_id
    GROUP BY u.domain_id, COALESCE(u.brand_id, 0), u.status
  )
  UPDATE user_group_counts g SET
    ap_count = g.ap_count + d.ap_count,
    ap_users = g.ap_users + d.ap_users,
    ap_users_enrolled = g.ap_users_enrolled + d.ap_users_enrolled
  FROM d
  WHERE g.domain_id = d.domain_id AND g.user_brand_id = d.bid AND g.status = d.status;
  RETURN NULL;
END $$""",
    "summary_ap_delete": """CREATE OR REPLACE FUNCTION summary_ap_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- The users' rows are the lock (the one core.app_passwords takes for the cap of four):
  -- concurrent changes to one user's app passwords queue here, and the count below, a new
  -- snapshot, sees the ones committed before.
  PERFORM 1 FROM users WHERE id IN (SELECT user_id FROM (SELECT user_id, -count(*) AS k FROM old_rows WHERE revoked_at IS NULL GROUP BY user_id) c) ORDER BY id FOR UPDATE;
  WITH p AS (
    SELECT c.user_id, c.k,
           (SELECT count(*) FROM app_passwords a
             WHERE a.user_id = c.user_id AND a.revoked_at IS NULL) AS n
    FROM (SELECT user_id, -count(*) AS k FROM old_rows WHERE revoked_at IS NULL GROUP BY user_id) c
  ), d AS (
    SELECT u.domain_id, COALESCE(u.brand_id, 0) AS bid, u.status,
           sum(p.k) AS ap_count,
           sum(CASE WHEN p.n - p.k = 0 AND p.n > 0 THEN 1 WHEN p.n = 0 AND p.n - p.k > 0 THEN -1 ELSE 0 END) AS ap_users,
           sum(CASE WHEN u.totp_enrolled_at IS NULL THEN 0 ELSE CASE WHEN p.n - p.k = 0 AND p.n > 0 THEN 1 WHEN p.n = 0 AND p.n - p.k > 0 THEN -1 ELSE 0 END END) AS ap_users_enrolled
    FROM p JOIN users u ON u.id = p.user_id
    GROUP BY u.domain_id, COALESCE(u.brand_id, 0), u.status
  )
  UPDATE user_group_counts g SET
    ap_count = g.ap_count + d.ap_count,
    ap_users = g.ap_users + d.ap_users,
    ap_users_enrolled = g.ap_users_enrolled + d.ap_users_enrolled
  FROM d
  WHERE g.domain_id = d.domain_id AND g.user_brand_id = d.bid AND g.status = d.status;
  RETURN NULL;
END $$""",
    "summary_ap_update": """CREATE OR REPLACE FUNCTION summary_ap_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- The users' rows are the lock (the one core.app_passwords takes for the cap of four):
  -- concurrent changes to one user's app passwords queue here, and the count below, a new
  -- snapshot, sees the ones committed before.
  PERFORM 1 FROM users WHERE id IN (SELECT user_id FROM (SELECT user_id, sum(d) AS k FROM (SELECT user_id, 1 AS d FROM new_rows WHERE revoked_at IS NULL UNION ALL SELECT user_id, -1 AS d FROM old_rows WHERE revoked_at IS NULL) x GROUP BY user_id HAVING sum(d) <> 0) c) ORDER BY id FOR UPDATE;
  WITH p AS (
    SELECT c.user_id, c.k,
           (SELECT count(*) FROM app_passwords a
             WHERE a.user_id = c.user_id AND a.revoked_at IS NULL) AS n
    FROM (SELECT user_id, sum(d) AS k FROM (SELECT user_id, 1 AS d FROM new_rows WHERE revoked_at IS NULL UNION ALL SELECT user_id, -1 AS d FROM old_rows WHERE revoked_at IS NULL) x GROUP BY user_id HAVING sum(d) <> 0) c
  ), d AS (
    SELECT u.domain_id, COALESCE(u.brand_id, 0) AS bid, u.status,
           sum(p.k) AS ap_count,
           sum(CASE WHEN p.n - p.k = 0 AND p.n > 0 THEN 1 WHEN p.n = 0 AND p.n - p.k > 0 THEN -1 ELSE 0 END) AS ap_users,
           sum(CASE WHEN u.totp_enrolled_at IS NULL THEN 0 ELSE CASE WHEN p.n - p.k = 0 AND p.n > 0 THEN 1 WHEN p.n = 0 AND p.n - p.k > 0 THEN -1 ELSE 0 END END) AS ap_users_enrolled
    FROM p JOIN users u ON u.id = p.user_id
    GROUP BY u.domain_id, COALESCE(u.brand_id, 0), u.status
  )
  UPDATE user_group_counts g SET
    ap_count = g.ap_count + d.ap_count,
    ap_users = g.ap_users + d.ap_users,
    ap_users_enrolled = g.ap_users_enrolled + d.ap_users_enrolled
  FROM d
  WHERE g.domain_id = d.domain_id AND g.user_brand_id = d.bid AND g.status = d.status;
  RETURN NULL;
END $$""",
}
# name: (table, statement)
POSTGRESQL_TRIGGERS = {
    "summary_users_ai": (
        "users",
        """CREATE TRIGGER summary_users_ai AFTER INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION summary_users()""",
    ),
    "summary_users_ad": (
        "users",
        """CREATE TRIGGER summary_users_ad AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION summary_users()""",
    ),
    "summary_users_au": (
        "users",
        """CREATE TRIGGER summary_users_au AFTER UPDATE OF domain_id, brand_id, status, totp_enrolled_at
    ON users FOR EACH ROW WHEN (OLD.domain_id IS DISTINCT FROM NEW.domain_id
      OR OLD.brand_id IS DISTINCT FROM NEW.brand_id OR OLD.status IS DISTINCT FROM NEW.status
      OR (OLD.totp_enrolled_at IS NULL) <> (NEW.totp_enrolled_at IS NULL)) EXECUTE FUNCTION summary_users()""",
    ),
    "summary_ap_ai": (
        "app_passwords",
        """CREATE TRIGGER summary_ap_ai AFTER INSERT ON app_passwords REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION summary_ap_insert()""",
    ),
    "summary_ap_ad": (
        "app_passwords",
        """CREATE TRIGGER summary_ap_ad AFTER DELETE ON app_passwords REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION summary_ap_delete()""",
    ),
    "summary_ap_au": (
        "app_passwords",
        """CREATE TRIGGER summary_ap_au AFTER UPDATE ON app_passwords
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION summary_ap_update()""",
    ),
    "summary_events_ai": (
        "security_events",
        """CREATE TRIGGER summary_events_ai AFTER INSERT OR DELETE ON security_events
    FOR EACH ROW EXECUTE FUNCTION summary_events()""",
    ),
}
POSTGRESQL_FUNCTION_SIGNATURES = (
    "summary_users()",
    "summary_ap_insert()",
    "summary_ap_delete()",
    "summary_ap_update()",
    "summary_events()",
    "summary_user_delta(integer, integer, integer, varchar, boolean, integer)",
)


def upgrade() -> None:
    op.create_table(
        "user_group_counts",
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("user_brand_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        *(sa.Column(c, sa.Integer(), nullable=False) for c in GROUP_SUMS),
        sa.PrimaryKeyConstraint("domain_id", "user_brand_id", "status"),
    )
    op.create_table(
        "event_month_counts",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "brand_id", "kind"),
    )
    # "new mailboxes in the last 30 days" reads a range of this, not the whole table.
    op.create_index("ix_users_created_at", "users", ["created_at"])
    # the last 30 days' events by kind, read from the index alone
    op.create_index("ix_security_events_at_kind", "security_events", ["at", "kind"])
    op.drop_index("ix_security_events_at", table_name="security_events")
    # live app passwords, least recently active first ("unused for 90 days")
    op.create_index(
        "ix_app_passwords_live_activity",
        "app_passwords",
        [sa.text("coalesce(last_used_at, created_at)")],
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    conn = op.get_bind()
    dialect = conn.dialect.name
    conn.exec_driver_sql(
        f"INSERT INTO user_group_counts (domain_id, user_brand_id, status, {', '.join(GROUP_SUMS)}) "
        f"{GROUPS_FROM_ROWS}"
    )
    conn.exec_driver_sql(
        f"INSERT INTO event_month_counts (month, brand_id, kind, n) {MONTHS_FROM_ROWS[dialect]}"
    )
    if dialect == "postgresql":
        for ddl in POSTGRESQL_FUNCTIONS.values():
            conn.exec_driver_sql(ddl)
        for _table, ddl in POSTGRESQL_TRIGGERS.values():
            conn.exec_driver_sql(ddl)
    else:
        for ddl in SQLITE_TRIGGERS.values():
            conn.exec_driver_sql(ddl)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        for name, (table, _ddl) in POSTGRESQL_TRIGGERS.items():
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for signature in POSTGRESQL_FUNCTION_SIGNATURES:
            conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {signature}")
    else:
        for name in SQLITE_TRIGGERS:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_app_passwords_live_activity", table_name="app_passwords")
    op.create_index("ix_security_events_at", "security_events", ["at"])
    op.drop_index("ix_security_events_at_kind", table_name="security_events")
    op.drop_index("ix_users_created_at", table_name="users")
    op.drop_table("event_month_counts")
    op.drop_table("user_group_counts")
