"""Mailboxes: adding one, importing many (all rows or none), and a user's whole picture."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlmodel import Session

from core.access.permissions import Actor, require
from core.mailboxes.effective_brand import brand_source, effective_brand
from core.mailboxes.state import app_password_state, twofa_state
from core.platform import audit
from core.platform.crypto import hash_password
from core.platform.db import first_or_missing
from core.platform.errors import BadInput, Refused
from core.platform.events import MailboxCreated, MailboxesImported
from core.platform.models import USER_STATUSES, AppPassword, AuditEvent, Brand, Domain, User, utcnow

# A pragmatic address check (RFC 5321 sizes, the characters mail platforms accept in a
# local part); it is for catching typos in imports, not for parsing every legal address.
_LOCAL_RE = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
IMPORT_COLUMNS = ("email", "display_name", "status")
IMPORT_OPTIONAL = ("brand",)
IMPORT_MAX_ROWS = 200_000


def normalize_email(email: str) -> str:
    """The address lowercased and trimmed, or BadInput saying what is wrong with it."""
    addr = (email or "").strip().lower()
    if addr.count("@") != 1:
        raise BadInput(f"{email!r} is not an email address: it needs exactly one @.")
    local, domain = addr.split("@")
    if not local or len(local) > 64 or not _LOCAL_RE.match(local):
        raise BadInput(f"{email!r} is not an email address: the part before @ is not valid.")
    if not _DOMAIN_RE.match(domain):
        raise BadInput(f"{email!r} is not an email address: {domain!r} is not a domain name.")
    return addr


def mailbox_for_change(
    session: Session, email: str, *, switch: str, refused: str, suspended: str
) -> tuple[User, Brand]:
    """The mailbox, locked, and its effective brand, for a change the brand must allow
    (``switch``: one of its three switches) and a suspended mailbox may not have. The refusals
    are ``refused`` (with ``{brand}``) and ``suspended`` (with ``{email}``), in that order."""
    user = get_user(session, email, for_update=True)
    brand = effective_brand(session, user)
    if not getattr(brand, switch):
        raise Refused(refused.format(brand=brand.name))
    if user.status != "active":
        raise Refused(suspended.format(email=user.email))
    return user, brand


def get_user(session: Session, email: str, *, for_update: bool = False) -> User:
    addr = (email or "").strip().lower()
    return first_or_missing(
        session,
        select(User).where(User.email == addr),
        for_update=for_update,
        missing=f"There is no mailbox {addr or email!r}.",
    )


def _check_display_name(name: str) -> str:
    clean = "".join(ch for ch in (name or "") if ch.isprintable()).strip()
    if len(clean) > 200:
        raise BadInput("A display name has at most 200 characters.")
    return clean


def add_user(
    session: Session,
    *,
    actor: Actor,
    email: str,
    display_name: str,
    password: str | None = None,
    status: str = "active",
    brand: str | None = None,
) -> User:
    """Create one mailbox in an existing domain."""
    actor = require(session, actor, "user.create")
    addr = normalize_email(email)
    if status not in USER_STATUSES:
        raise BadInput(f"Status {status!r} is not one of: {', '.join(USER_STATUSES)}.")
    domain_name = addr.split("@")[1]
    domain = session.scalars(select(Domain).where(Domain.name == domain_name)).first()
    if domain is None:
        raise Refused(f"The domain {domain_name!r} does not exist; add the domain to a company first.")
    if session.scalars(select(User.id).where(User.email == addr)).first():
        raise Refused(f"The mailbox {addr} exists already.")
    brand_id = None
    if brand:
        from core.brands.switches import get_brand

        brand_id = get_brand(session, brand).id
    user = User(
        email=addr,
        domain_id=domain.id,
        brand_id=brand_id,
        display_name=_check_display_name(display_name),
        status=status,
        password_hash=hash_password(password) if password else None,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        MailboxCreated(
            email=addr, user_id=user.id, display_name=user.display_name, status=status, brand=brand
        ),
        actor=actor.name,
    )
    return user


@dataclass(frozen=True)
class ImportResult:
    rows: int
    domains: int


def import_users(session: Session, *, actor: Actor, source: str | Path, name: str = "file") -> ImportResult:
    """Load mailboxes from CSV (``email, display_name, status`` and optional ``brand``).

    All rows or none: every problem is collected with its line and column, and BadInput
    lists them all before anything is written.
    """
    actor = require(session, actor, "user.import")
    text = Path(source).read_text(encoding="utf-8-sig") if isinstance(source, Path) else source
    if "\x00" in text:
        raise BadInput(f"{name}: the file holds NUL bytes; it is not a CSV text file.")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise BadInput(
            f"{name}: the file is empty; it needs the header {', '.join(IMPORT_COLUMNS)}."
        ) from None
    missing = [c for c in IMPORT_COLUMNS if c not in header]
    unknown = [c for c in header if c not in IMPORT_COLUMNS + IMPORT_OPTIONAL]
    if missing or unknown:
        bits = []
        if missing:
            bits.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            bits.append(f"unknown column(s) {', '.join(unknown)}")
        raise BadInput(f"{name}, line 1: {'; '.join(bits)}. Expected: email, display_name, status[, brand].")
    col = {c: header.index(c) for c in header}
    domains = dict(session.execute(select(Domain.name, Domain.id)).all())
    brands = {n.lower(): i for n, i in session.execute(select(Brand.name, Brand.id)).all()}
    problems: list[str] = []
    rows: list[dict] = []
    seen: dict[str, int] = {}

    def problem(line: int, column: str, message: str) -> None:
        problems.append(f"line {line}, column {column}: {message}")

    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(rows) + len(problems) >= IMPORT_MAX_ROWS:
            problems.append(f"line {line}: more than {IMPORT_MAX_ROWS:,} rows; split the file.")
            break
        if len(row) != len(header):
            problem(line, "-", f"{len(row)} fields where the header has {len(header)}")
            continue
        cells = {c: row[i].strip() for c, i in col.items()}
        try:
            addr = normalize_email(cells["email"])
        except BadInput as exc:
            problem(line, "email", str(exc))
            continue
        domain = addr.split("@")[1]
        if domain not in domains:
            problem(line, "email", f"unknown domain {domain!r}")
        if addr in seen:
            problem(line, "email", f"duplicate of line {seen[addr]} ({addr})")
        seen.setdefault(addr, line)
        if cells["status"].lower() not in USER_STATUSES:
            problem(line, "status", f"{cells['status']!r} is not one of {', '.join(USER_STATUSES)}")
        brand_id = None
        if cells.get("brand"):
            brand_id = brands.get(cells["brand"].lower())
            if brand_id is None:
                problem(line, "brand", f"unknown brand {cells['brand']!r}")
        try:
            display = _check_display_name(cells["display_name"])
        except BadInput as exc:
            problem(line, "display_name", str(exc))
            continue
        rows.append(
            {
                "email": addr,
                "domain_id": domains.get(domain),
                "brand_id": brand_id,
                "display_name": display,
                "status": cells["status"].lower(),
                "created_at": utcnow(),
                "line": line,
            }
        )
    if rows:
        emails = [r["email"] for r in rows]
        existing: set[str] = set()
        for i in range(0, len(emails), 10_000):  # bound the IN list; every row is checked
            existing.update(session.scalars(select(User.email).where(User.email.in_(emails[i : i + 10_000]))))
        for r in rows:
            if r["email"] in existing:
                problem(r["line"], "email", f"the mailbox {r['email']} exists already")
    if problems:
        shown = "; ".join(problems[:20]) + (f"; and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise BadInput(f"{name}: {len(problems)} problem(s), nothing imported: {shown}.", problems)
    if not rows:
        raise BadInput(f"{name}: no rows to import after the header.")
    for r in rows:
        r.pop("line")
    session.execute(insert(User), rows)
    audit.record(session, MailboxesImported(source=name, rows=len(rows)), actor=actor.name)
    return ImportResult(rows=len(rows), domains=len({r["domain_id"] for r in rows}))


def user_detail(session: Session, email: str, *, events: int = 20) -> dict:
    """A user's whole picture: brand, domain, 2FA state, app passwords, recent audit events."""
    user = get_user(session, email)
    brand = effective_brand(session, user)
    domain = session.get(Domain, user.domain_id)
    aps = session.scalars(
        select(AppPassword).where(AppPassword.user_id == user.id).order_by(AppPassword.created_at)
    ).all()
    recent = session.scalars(
        select(AuditEvent).where(AuditEvent.user_id == user.id).order_by(AuditEvent.id.desc()).limit(events)
    ).all()
    live = sum(1 for a in aps if a.revoked_at is None)
    return {
        "email": user.email,
        "display_name": user.display_name,
        "brand": brand.name,
        "brand_source": brand_source(user.brand_id, domain.brand_id),
        "domain": domain.name,
        "status": user.status,
        "twofa": twofa_state(user.totp_enrolled_at is not None, brand.allow_2fa),
        "twofa_enrolled_at": user.totp_enrolled_at,
        "created_at": user.created_at,
        "last_login_at": user.last_login_at,
        "allow_2fa": brand.allow_2fa,
        "allow_user_disable_2fa": brand.allow_user_disable_2fa,
        "allow_app_passwords": brand.allow_app_passwords,
        "app_passwords_live": live,
        "app_passwords": [
            {
                "label": a.label,
                "protocols": a.protocols,
                "created_at": a.created_at,
                "last_used_at": a.last_used_at,
                "last_used_protocol": a.last_used_protocol,
                "last_used_ip": a.last_used_ip,
                "state": app_password_state(a.revoked_at is not None, brand.allow_app_passwords),
                "revoked_at": a.revoked_at,
            }
            for a in aps
        ],
        "recent_events": [
            {"at": e.at, "actor": e.actor, "action": e.action, "reason": e.reason} for e in recent
        ],
    }


def count_all_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0
