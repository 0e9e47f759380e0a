"""Running counts behind the adoption figures, kept by the database itself.

At a million mailboxes every adoption figure would otherwise be a full scan of ``users``
(and of ``security_events`` for the months). Two small tables hold the sums instead, and
database triggers keep them in step with every write in the same transaction, whoever
makes it (a service, the seed, an import, a hand-written UPDATE):

* ``user_group_counts`` — one row per (domain, user-level brand override, status):
  ``users``, ``enrolled`` (TOTP enrolled), ``ap_users`` (users with at least one live app
  password), ``ap_users_enrolled`` (of those, enrolled) and ``ap_count`` (live app
  passwords). ``user_brand_id`` is 0 where the user has no override. A user's effective
  brand is still resolved at read time from domain and company (PRODUCT.md), so moving a
  domain or a company to another brand needs no upkeep here; the few thousand groups are
  summed per brand in SQL (``core.reporting.adoption``).
* ``event_month_counts`` — one row per (UTC month "YYYY-MM", brand at the time, kind) of
  ``security_events``, which are only ever appended: the month report reads these.

Triggers: SQLite ``AFTER`` row triggers with UPSERTs; PostgreSQL PL/pgSQL triggers (row
triggers for users and events, statement triggers with transition tables for app
passwords). On PostgreSQL a change to a user's app passwords locks the user's row, so two
transactions that each add a user's first app password count that user once (the user row
is the lock ``core.mailboxes.app_passwords`` already takes for the cap of four).

Not kept: moving an app password from one user to another (the console never does).

A bulk load drops the triggers (``suspend``), writes, then ``resume`` rebuilds both tables
with one aggregate each and puts the triggers back. ``rebuild`` is also the repair, should
the tables ever be doubted; ``differences`` compares them with a fresh count.
"""

from __future__ import annotations

from sqlalchemy import Connection

GROUPS = "user_group_counts"
MONTHS = "event_month_counts"
GROUP_SUMS = ("users", "enrolled", "ap_users", "ap_users_enrolled", "ap_count")

# --- SQLite --------------------------------------------------------------------------------


def _sqlite_user_delta(row: str, sign: str) -> str:
    """Add (sign "+") or take away ("-") one user's contribution to its group."""
    n = f"(SELECT count(*) FROM app_passwords WHERE user_id = {row}.id AND revoked_at IS NULL)"
    enrolled = f"({row}.totp_enrolled_at IS NOT NULL)"
    return f"""
      INSERT INTO {GROUPS} (domain_id, user_brand_id, status, users, enrolled, ap_users,
                            ap_users_enrolled, ap_count)
      VALUES ({row}.domain_id, COALESCE({row}.brand_id, 0), {row}.status,
              {sign}1, {sign}{enrolled}, {sign}({n} > 0), {sign}({enrolled} AND {n} > 0), {sign}{n})
      ON CONFLICT (domain_id, user_brand_id, status) DO UPDATE SET
        users = users + excluded.users,
        enrolled = enrolled + excluded.enrolled,
        ap_users = ap_users + excluded.ap_users,
        ap_users_enrolled = ap_users_enrolled + excluded.ap_users_enrolled,
        ap_count = ap_count + excluded.ap_count;"""


def _sqlite_ap_delta(row: str, delta: int) -> str:
    """One live app password more (+1) or less (-1) for ``row.user_id``; the user counts in
    ``ap_users`` when its live count goes from 0 to 1 or back."""
    live = f"(SELECT count(*) FROM app_passwords WHERE user_id = {row}.user_id AND revoked_at IS NULL)"
    crossed = f"({live} = {1 if delta > 0 else 0})"
    return f"""
      UPDATE {GROUPS} SET
        ap_count = ap_count + ({delta}),
        ap_users = ap_users + ({delta}) * {crossed},
        ap_users_enrolled = ap_users_enrolled + ({delta}) * {crossed}
          * (SELECT totp_enrolled_at IS NOT NULL FROM users WHERE id = {row}.user_id)
      WHERE (domain_id, user_brand_id, status) =
            (SELECT domain_id, COALESCE(brand_id, 0), status FROM users WHERE id = {row}.user_id);"""


_USER_MOVED = """OLD.domain_id IS NOT NEW.domain_id OR OLD.brand_id IS NOT NEW.brand_id
      OR OLD.status IS NOT NEW.status
      OR (OLD.totp_enrolled_at IS NULL) IS NOT (NEW.totp_enrolled_at IS NULL)"""

SQLITE_TRIGGERS = {
    "summary_users_ai": f"""CREATE TRIGGER summary_users_ai AFTER INSERT ON users BEGIN
      {_sqlite_user_delta("NEW", "+")}
    END""",
    "summary_users_ad": f"""CREATE TRIGGER summary_users_ad AFTER DELETE ON users BEGIN
      {_sqlite_user_delta("OLD", "-")}
    END""",
    "summary_users_au": f"""CREATE TRIGGER summary_users_au
    AFTER UPDATE OF domain_id, brand_id, status, totp_enrolled_at ON users
    WHEN {_USER_MOVED} BEGIN
      {_sqlite_user_delta("OLD", "-")}
      {_sqlite_user_delta("NEW", "+")}
    END""",
    "summary_ap_ai": f"""CREATE TRIGGER summary_ap_ai AFTER INSERT ON app_passwords
    WHEN NEW.revoked_at IS NULL BEGIN {_sqlite_ap_delta("NEW", 1)} END""",
    "summary_ap_ad": f"""CREATE TRIGGER summary_ap_ad AFTER DELETE ON app_passwords
    WHEN OLD.revoked_at IS NULL BEGIN {_sqlite_ap_delta("OLD", -1)} END""",
    "summary_ap_revoked": f"""CREATE TRIGGER summary_ap_revoked AFTER UPDATE OF revoked_at ON app_passwords
    WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL BEGIN {_sqlite_ap_delta("NEW", -1)} END""",
    "summary_ap_restored": f"""CREATE TRIGGER summary_ap_restored AFTER UPDATE OF revoked_at ON app_passwords
    WHEN OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS NULL BEGIN {_sqlite_ap_delta("NEW", 1)} END""",
    "summary_events_ai": f"""CREATE TRIGGER summary_events_ai AFTER INSERT ON security_events BEGIN
      INSERT INTO {MONTHS} (month, brand_id, kind, n)
      VALUES (strftime('%Y-%m', NEW.at), NEW.brand_id, NEW.kind, 1)
      ON CONFLICT (month, brand_id, kind) DO UPDATE SET n = n + 1;
    END""",
    "summary_events_ad": f"""CREATE TRIGGER summary_events_ad AFTER DELETE ON security_events BEGIN
      UPDATE {MONTHS} SET n = n - 1
      WHERE month = strftime('%Y-%m', OLD.at) AND brand_id = OLD.brand_id AND kind = OLD.kind;
    END""",
}

# --- PostgreSQL ----------------------------------------------------------------------------

PG_FUNCTIONS = {
    "summary_user_delta": f"""
CREATE OR REPLACE FUNCTION summary_user_delta(
    uid integer, dom integer, bid integer, st varchar, enr boolean, sign integer
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
  SELECT count(*) INTO n FROM app_passwords WHERE user_id = uid AND revoked_at IS NULL;
  INSERT INTO {GROUPS} AS g (domain_id, user_brand_id, status, users, enrolled, ap_users,
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
    "summary_users": """
CREATE OR REPLACE FUNCTION summary_users() RETURNS trigger LANGUAGE plpgsql AS $$
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
    "summary_events": f"""
CREATE OR REPLACE FUNCTION summary_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO {MONTHS} AS m (month, brand_id, kind, n)
    VALUES (to_char(timezone('UTC', NEW.at), 'YYYY-MM'), NEW.brand_id, NEW.kind, 1)
    ON CONFLICT (month, brand_id, kind) DO UPDATE SET n = m.n + 1;
  ELSE
    UPDATE {MONTHS} SET n = n - 1
    WHERE month = to_char(timezone('UTC', OLD.at), 'YYYY-MM') AND brand_id = OLD.brand_id
      AND kind = OLD.kind;
  END IF;
  RETURN NULL;
END $$""",
}

# App passwords: statement-level triggers with transition tables. A row-level trigger on a
# multi-row INSERT runs only when the whole statement is done, so it cannot tell which row
# was a user's first; per statement, the change k per user and the live count after it
# give the count before it (after - k).
_PG_AP_CHANGES = {
    "insert": "SELECT user_id, count(*) AS k FROM new_rows WHERE revoked_at IS NULL GROUP BY user_id",
    "delete": "SELECT user_id, -count(*) AS k FROM old_rows WHERE revoked_at IS NULL GROUP BY user_id",
    "update": "SELECT user_id, sum(d) AS k FROM ("
    "SELECT user_id, 1 AS d FROM new_rows WHERE revoked_at IS NULL "
    "UNION ALL SELECT user_id, -1 AS d FROM old_rows WHERE revoked_at IS NULL"
    ") x GROUP BY user_id HAVING sum(d) <> 0",
}


def _pg_ap_function(op: str) -> str:
    changes = _PG_AP_CHANGES[op]
    crossed = "CASE WHEN p.n - p.k = 0 AND p.n > 0 THEN 1 WHEN p.n = 0 AND p.n - p.k > 0 THEN -1 ELSE 0 END"
    return f"""
CREATE OR REPLACE FUNCTION summary_ap_{op}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- The users' rows are the lock (the one core.mailboxes.app_passwords takes for the cap of four):
  -- concurrent changes to one user's app passwords queue here, and the count below, a new
  -- snapshot, sees the ones committed before.
  PERFORM 1 FROM users WHERE id IN (SELECT user_id FROM ({changes}) c) ORDER BY id FOR UPDATE;
  WITH p AS (
    SELECT c.user_id, c.k,
           (SELECT count(*) FROM app_passwords a
             WHERE a.user_id = c.user_id AND a.revoked_at IS NULL) AS n
    FROM ({changes}) c
  ), d AS (
    SELECT u.domain_id, COALESCE(u.brand_id, 0) AS bid, u.status,
           sum(p.k) AS ap_count,
           sum({crossed}) AS ap_users,
           sum(CASE WHEN u.totp_enrolled_at IS NULL THEN 0 ELSE {crossed} END) AS ap_users_enrolled
    FROM p JOIN users u ON u.id = p.user_id
    GROUP BY u.domain_id, COALESCE(u.brand_id, 0), u.status
  )
  UPDATE {GROUPS} g SET
    ap_count = g.ap_count + d.ap_count,
    ap_users = g.ap_users + d.ap_users,
    ap_users_enrolled = g.ap_users_enrolled + d.ap_users_enrolled
  FROM d
  WHERE g.domain_id = d.domain_id AND g.user_brand_id = d.bid AND g.status = d.status;
  RETURN NULL;
END $$"""


PG_FUNCTIONS.update({f"summary_ap_{op}": _pg_ap_function(op) for op in _PG_AP_CHANGES})

_PG_USER_MOVED = """OLD.domain_id IS DISTINCT FROM NEW.domain_id
      OR OLD.brand_id IS DISTINCT FROM NEW.brand_id OR OLD.status IS DISTINCT FROM NEW.status
      OR (OLD.totp_enrolled_at IS NULL) <> (NEW.totp_enrolled_at IS NULL)"""

PG_TRIGGERS = {
    ("summary_users_ai", "users"): "AFTER INSERT ON users FOR EACH ROW EXECUTE FUNCTION summary_users()",
    ("summary_users_ad", "users"): "AFTER DELETE ON users FOR EACH ROW EXECUTE FUNCTION summary_users()",
    ("summary_users_au", "users"): "AFTER UPDATE OF domain_id, brand_id, status, totp_enrolled_at "
    f"ON users FOR EACH ROW WHEN ({_PG_USER_MOVED}) EXECUTE FUNCTION summary_users()",
    ("summary_ap_ai", "app_passwords"): "AFTER INSERT ON app_passwords REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION summary_ap_insert()",
    ("summary_ap_ad", "app_passwords"): "AFTER DELETE ON app_passwords REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION summary_ap_delete()",
    ("summary_ap_au", "app_passwords"): "AFTER UPDATE ON app_passwords "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION summary_ap_update()",
    ("summary_events_ai", "security_events"): "AFTER INSERT OR DELETE ON security_events "
    "FOR EACH ROW EXECUTE FUNCTION summary_events()",
}

# --- both ----------------------------------------------------------------------------------


def _month_of(conn: Connection, column: str) -> str:
    if conn.dialect.name == "postgresql":
        return f"to_char(timezone('UTC', {column}), 'YYYY-MM')"
    return f"strftime('%Y-%m', {column})"


FRESH_GROUPS = """
SELECT u.domain_id, COALESCE(u.brand_id, 0) AS user_brand_id, u.status,
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


def _fresh_months(conn: Connection) -> str:
    month = _month_of(conn, "at")
    return f"SELECT {month} AS month, brand_id, kind, count(*) AS n FROM security_events GROUP BY {month}, brand_id, kind"


def create_triggers(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        for ddl in PG_FUNCTIONS.values():
            conn.exec_driver_sql(ddl)
        for (name, table), body in PG_TRIGGERS.items():
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            conn.exec_driver_sql(f"CREATE TRIGGER {name} {body}")
    else:
        for name, ddl in SQLITE_TRIGGERS.items():
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
            conn.exec_driver_sql(ddl)


def drop_triggers(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        for name, table in PG_TRIGGERS:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    else:
        for name in SQLITE_TRIGGERS:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


def drop_functions(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS summary_users()")
        for op in _PG_AP_CHANGES:
            conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS summary_ap_{op}()")
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS summary_events()")
        conn.exec_driver_sql(
            "DROP FUNCTION IF EXISTS summary_user_delta(integer, integer, integer, varchar, boolean, integer)"
        )


def rebuild(conn: Connection) -> None:
    """Count both tables afresh from ``users``, ``app_passwords`` and ``security_events``."""
    conn.exec_driver_sql(f"DELETE FROM {GROUPS}")
    conn.exec_driver_sql(
        f"INSERT INTO {GROUPS} (domain_id, user_brand_id, status, {', '.join(GROUP_SUMS)}) {FRESH_GROUPS}"
    )
    conn.exec_driver_sql(f"DELETE FROM {MONTHS}")
    conn.exec_driver_sql(f"INSERT INTO {MONTHS} (month, brand_id, kind, n) {_fresh_months(conn)}")


def suspend(conn: Connection) -> None:
    """Before a bulk load: no per-row upkeep (``resume`` counts once at the end)."""
    drop_triggers(conn)


def resume(conn: Connection) -> None:
    """After a bulk load: count both tables once, then put the triggers back."""
    rebuild(conn)
    create_triggers(conn)


def differences(conn: Connection) -> list[str]:
    """Where the kept counts differ from a fresh count (empty when they agree)."""
    keep = {
        (r[0], r[1], r[2]): tuple(int(v) for v in r[3:])
        for r in conn.exec_driver_sql(
            f"SELECT domain_id, user_brand_id, status, {', '.join(GROUP_SUMS)} FROM {GROUPS}"
        )
    }
    fresh = {(r[0], r[1], r[2]): tuple(int(v) for v in r[3:]) for r in conn.exec_driver_sql(FRESH_GROUPS)}
    zero = (0,) * len(GROUP_SUMS)
    out = [
        f"group {key}: kept {keep.get(key, zero)}, counted {fresh.get(key, zero)}"
        for key in sorted(set(keep) | set(fresh), key=str)
        if keep.get(key, zero) != fresh.get(key, zero)
    ]
    kept_months = {(r[0], r[1], r[2]): int(r[3]) for r in conn.exec_driver_sql(f"SELECT * FROM {MONTHS}")}
    fresh_months = {(r[0], r[1], r[2]): int(r[3]) for r in conn.exec_driver_sql(_fresh_months(conn))}
    out += [
        f"month {key}: kept {kept_months.get(key, 0)}, counted {fresh_months.get(key, 0)}"
        for key in sorted(set(kept_months) | set(fresh_months), key=str)
        if kept_months.get(key, 0) != fresh_months.get(key, 0)
    ]
    return out
