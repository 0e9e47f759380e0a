"""Independent answers to check core's figures against: plain SQL written here, never core's code.

PRODUCT.md's rules, restated once for the tests: a user's effective brand is the first of
the user's, the domain's and the company's brand; a user counts with 2FA when enrolled and
the effective brand allows 2FA (dormant when it does not); an app password counts while it
is not revoked and the effective brand allows app passwords. The figures count active users.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

# One row per user: walks every mailbox, unlike core's queries (which read kept counts).
_USERS = text(
    """
    SELECT u.email, u.status, u.totp_enrolled_at IS NOT NULL AS enrolled,
           (SELECT COUNT(*) FROM app_passwords a WHERE a.user_id = u.id AND a.revoked_at IS NULL) AS live,
           b.name AS brand, b.allow_2fa, b.allow_user_disable_2fa, b.allow_app_passwords
    FROM users u
    JOIN domains d ON d.id = u.domain_id
    JOIN companies c ON c.id = d.company_id
    JOIN brands b ON b.id = COALESCE(u.brand_id, d.brand_id, c.brand_id)
    """
)
_BRANDS = text("SELECT name, allow_2fa, allow_user_disable_2fa, allow_app_passwords FROM brands")


def users_by_sql(conn: Connection) -> dict[str, dict]:
    """Every user by address: status, enrolled, live app passwords and the effective brand's switches."""
    return {row.email: dict(row._mapping) for row in conn.execute(_USERS)}


def adoption_by_sql(conn: Connection) -> dict[str, dict]:
    """Per brand name (brands without users too): the figures of ``adoption_by_brand``."""
    out = {
        r.name: {
            "users": 0,
            "users_2fa": 0,
            "users_2fa_dormant": 0,
            "users_app_passwords": 0,
            "app_passwords": 0,
            "allow_2fa": bool(r.allow_2fa),
            "allow_user_disable_2fa": bool(r.allow_user_disable_2fa),
            "allow_app_passwords": bool(r.allow_app_passwords),
        }
        for r in conn.execute(_BRANDS)
    }
    for u in users_by_sql(conn).values():
        if u["status"] != "active":
            continue
        row = out[u["brand"]]
        row["users"] += 1
        if u["enrolled"]:
            row["users_2fa" if u["allow_2fa"] else "users_2fa_dormant"] += 1
        if u["live"] and u["allow_app_passwords"]:
            row["users_app_passwords"] += 1
            row["app_passwords"] += u["live"]
    for row in out.values():
        row["pct_2fa"] = pct(row["users_2fa"], row["users"])
        row["pct_app_passwords"] = pct(row["users_app_passwords"], row["users"])
    return out


def pct(part: int, whole: int) -> float:
    """A share in per cent with one decimal (0.0 of nothing), as every figure shows it."""
    return round(100 * part / whole, 1) if whole else 0.0
