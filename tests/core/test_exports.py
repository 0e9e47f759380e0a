"""core.reporting.exports against a real SQLite file and a real PostgreSQL database.

Round trips of every export through csv.reader and pandas, the formula-injection corpus,
the byte-order mark, chunked streaming and the DataFrame previews. PostgreSQL runs in a
database of its own; skipped with the reason when unreachable, a failure when CI is set.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.platform.audit import AuditFilter
from core.platform.db import get_engine, session_scope
from core.platform.models import (
    AppPassword,
    AuditEvent,
    Brand,
    Company,
    Domain,
    SecurityEvent,
    User,
    utcnow,
)

# tests/conftest.py sets MAC_SECRET_KEY and MAC_DATA_DIR before any core import.
from core.reporting.adoption import ADOPTION_FIELDS
from core.reporting.exports import cells, files, frames, registry
from core.reporting.search_query import UserSearch
from tests.conftest import new_database

# Text that a spreadsheet would run, or that must come back untouched.
PAYLOADS = [
    '=HYPERLINK("http://x","y")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3",
    "\tTAB",
    "\rCR",
    "\nLF",
    "=1+1",
    "+1",
    "-1",
    "@x",
    "=cmd|' /C notepad'!'A1'",
    "＝1+1",  # full-width equals sign: escaped too (decision, see core.reporting.exports)
    "＋1",
    "－1",
    "＠x",
    '=DDE("cmd";"/C calc";"!A0")',
    " =1+1",  # hidden behind a space: escaped (some importers trim)
    "\u3000=1+1",  # ideographic space
    "-",
    "=",
    " \t=1",  # lstrip() takes the tab too: what follows is the formula
    "\u00a0-1",  # no-break space
    "\u2003+x",  # em space
    "\x1c=1",  # a separator that str.isspace() counts as whitespace
    "\x85@x",  # next line (NEL)
    '=1,"2"',  # escaped, then quoted
]
HARMLESS = [
    "Zoë Ångström 日本語 🙂",
    "Normal text",
    "'already quoted",
    "a=b",
    "1+1",
    "user-name",
    " \tx",  # leading whitespace, then text
    "   ",
    "!bang",
    "0=1",
    "~x",
    "ｘ=1",  # full-width letter: not a trigger
    'say "hi", ok',  # quoted, not escaped
    "#hash",
]


def must_escape(text: str) -> bool:
    return text in PAYLOADS


@dataclass
class World:
    url: str
    now: datetime
    brands: list[str] = field(default_factory=list)
    users: list[dict] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    audit: list[dict] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    @property
    def engine(self):
        return get_engine(self.url)


def build_world(url: str, now: datetime | None = None) -> World:
    now = now or utcnow().replace(microsecond=0)
    w = World(url=url, now=now)
    texts = PAYLOADS + HARMLESS
    assert len(texts) % 2 == 1  # users with a brand of their own (odd i) then meet every brand
    with session_scope(w.engine, write=True) as s:
        brands = []
        # brand names: payloads and harmless text; even ones allow 2FA and app passwords
        for i, name in enumerate(texts):
            b = Brand(name=name, allow_2fa=i % 2 == 0, allow_app_passwords=i % 2 == 0)
            s.add(b)
            s.flush()
            brands.append(b)
        w.brands = [b.name for b in brands]
        comp = Company(name='=HYPERLINK("http://evil","co")', brand_id=brands[0].id)
        s.add(comp)
        s.flush()
        domains = []
        for i in range(4):
            d = Domain(name=f"d{i}.example", company_id=comp.id, brand_id=brands[i * 5].id if i else None)
            s.add(d)
            s.flush()
            domains.append(d)
        w.domains = [d.name for d in domains]
        locals_ = ["=cmd", "-x", "+1", "@at", "plain"]
        for i, display in enumerate(texts * 2):
            d = domains[i % 4]
            local = locals_[i % len(locals_)]
            enrolled = now - timedelta(days=40 + i) if i % 3 == 0 else None
            u = User(
                email=f"{local}.{i}@{d.name}",
                domain_id=d.id,
                brand_id=brands[i % len(brands)].id if i % 2 else None,
                display_name=display,
                status="suspended" if i % 7 == 0 else "active",
                created_at=now - timedelta(days=i, seconds=i),
                last_login_at=now - timedelta(hours=i) if i % 2 else None,
                totp_enrolled_at=enrolled,
            )
            s.add(u)
            s.flush()
            label = texts[i % len(texts)][:64]
            live = 0
            if i % 4 != 3:
                s.add(AppPassword(user_id=u.id, label=label, password_hash="x", created_at=now))
                live = 1
                w.labels.append(label)
                s.add(SecurityEvent(user_id=u.id, brand_id=brands[0].id, kind="app_password_created", at=now))
            if enrolled:
                s.add(SecurityEvent(user_id=u.id, brand_id=brands[1].id, kind="2fa_enrolled", at=enrolled))
            w.users.append(
                {
                    "email": u.email,
                    "display_name": display,
                    "status": u.status,
                    "app_passwords": live,
                    "enrolled": enrolled,
                }
            )
        # a reset of a user enrolled before history began: that brand's month total goes negative
        s.add(SecurityEvent(user_id=u.id, brand_id=brands[2].id, kind="2fa_reset", at=now))
        for i, text in enumerate(texts):
            ev = AuditEvent(
                at=now - timedelta(minutes=i),
                actor=text if i % 2 else "alice",
                action="user.2fa_reset",
                object_type="user",
                object_key=text,
                brand_id=brands[i].id,
                user_id=None,
                before={"enrolled": True, "note": text},
                after={"enrolled": False},
                reason=text,
            )
            s.add(ev)
            w.audit.append({"actor": ev.actor, "reason": text, "brand": text})
    return w


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request, tmp_path_factory) -> Iterator[World]:
    with new_database(request.param, tmp_path_factory.mktemp("exports")) as url:
        yield build_world(url)


def export_text(w: World, kind: str, **kw) -> str:
    return "".join(files.iter_csv(kind, engine=w.engine, **kw))


def read_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def is_safe(cell: str) -> bool:
    return not cell or (
        cell[0] not in cells.FORMULA_TRIGGERS and cell.lstrip()[:1] not in cells.FORMULA_TRIGGERS
    )


# Where a reader with ";" as its separator may start a field (";") or a row (CR, LF) in a
# text, whatever the quotes around it.
BREAKS = re.compile("([;\r\n])")


def first_solid(text: str) -> str:
    """The first character that is neither whitespace nor a double quote ("" if none)."""
    return next((c for c in text if not (c.isspace() or c == '"')), "")


def piece_is_safe(piece: str, *, last: bool) -> bool:
    """A piece after a ";", CR or LF that no ";" reader could make a formula of: it starts
    with no trigger, also past whitespace and quotes, and is not an empty end of the text."""
    if not piece:
        return not last
    # A ";" reader may drop any of the double quotes a piece begins with, and some readers
    # trim spaces: no trigger in that leading run either.
    lead = "".join(itertools.takewhile(lambda c: c.isspace() or c == '"', piece))
    return not (set(lead) & cells.FORMULA_TRIGGERS) and first_solid(piece) not in cells.FORMULA_TRIGGERS


def is_guarded_form(cell: str, original: str) -> bool:
    """``cell`` is ``original`` with a "'" before some of its pieces, nothing else changed."""
    got, want = BREAKS.split(cell), BREAKS.split(original)
    return len(got) == len(want) and all(g in (w, "'" + w) for g, w in zip(got, want, strict=True))


def starts_formula(field: str) -> bool:
    return bool(field) and not is_safe(field)


def semicolon_fields(text: str) -> list[str]:
    """Every field of ``text`` read with ";" as the separator: by a reader that takes a lone
    CR for a line end (newline=""), and by ``csv.reader(io.StringIO(text), delimiter=";")``,
    which splits lines at LF only and raises on a CR inside an unquoted field ("new-line
    character seen"): it refuses the file, so that reading holds nothing, and only a text
    with a lone CR may make it refuse."""
    fields = [f for row in csv.reader(io.StringIO(text, newline=""), delimiter=";") for f in row]
    try:
        fields += [f for row in csv.reader(io.StringIO(text), delimiter=";") for f in row]
    except csv.Error as exc:
        assert "new-line character" in str(exc) and re.search("\r(?!\n)", text), exc
    return fields


REPORTS = [
    ("users", {}, registry.USERS_COLUMNS),
    ("adoption", {"by": "brand"}, registry.ADOPTION_BRAND_COLUMNS),
    ("adoption", {"by": "domain"}, registry.ADOPTION_DOMAIN_COLUMNS),
    ("adoption", {"by": "month"}, registry.ADOPTION_MONTH_COLUMNS),
    ("audit", {}, registry.AUDIT_COLUMNS),
]
NUMERIC = {
    "app_passwords",
    "users",
    "users_2fa",
    "pct_2fa",
    "users_2fa_dormant",
    "users_app_passwords",
    "pct_app_passwords",
    "enrolments",
    "resets",
    "self_disables",
    "app_passwords_created",
    "app_passwords_revoked",
    "users_2fa_end",
    "app_passwords_end",
}


def expected_rows(w: World, kind: str, by: str | None) -> int:
    if kind == "users":
        return len(w.users)
    if kind == "audit":
        return len(w.audit)
    if by == "brand":
        return len(w.brands)
    if by == "domain":
        return len(w.domains)
    return 24 * len(w.brands)


# --- round trips ---------------------------------------------------------------------------


def test_column_constants() -> None:
    assert registry.ADOPTION_BRAND_COLUMNS == ADOPTION_FIELDS
    assert registry.USERS_COLUMNS[0] == "email" and len(registry.USERS_COLUMNS) == 10
    assert registry.AUDIT_COLUMNS == (
        "at", "actor", "action", "object_type", "object_key", "brand", "user", "reason", "before", "after"
    )  # fmt: skip
    assert registry.columns_for("adoption", "month") == registry.ADOPTION_MONTH_COLUMNS
    with pytest.raises(ValueError, match="unknown export"):
        registry.columns_for("passwords")
    with pytest.raises(ValueError, match="adoption by"):
        list(files.iter_csv("adoption", engine=None, by="planet"))  # type: ignore[arg-type]


@pytest.mark.parametrize(("kind", "kw", "columns"), REPORTS, ids=lambda v: v if isinstance(v, str) else None)
def test_round_trip_csv_reader_and_pandas(world: World, kind: str, kw: dict, columns: tuple) -> None:
    text = export_text(world, kind, **kw)
    rows = read_rows(text)
    assert tuple(rows[0]) == columns
    n = expected_rows(world, kind, kw.get("by"))
    assert len(rows) - 1 == n
    assert all(len(r) == len(columns) for r in rows)
    df = pd.read_csv(io.StringIO(text), keep_default_na=False)
    assert tuple(df.columns) == columns
    assert len(df) == n
    for col in columns:
        if col in NUMERIC:
            assert pd.api.types.is_numeric_dtype(df[col]), col  # numbers stay numbers
    # written through write_csv too: same bytes, the right count
    buf = io.BytesIO()
    assert files.write_csv(buf, kind, engine=world.engine, **kw) == n
    assert buf.getvalue().decode("utf-8") == text


def test_users_export_matches_the_rows(world: World) -> None:
    rows = read_rows(export_text(world, "users"))[1:]
    escaped = [cells.safe_cell(u["email"]) for u in world.users]
    assert sorted(r[0] for r in rows) == sorted(escaped)
    # In creation order (the primary key), the same on both engines.
    assert [r[0] for r in rows] == escaped
    by_email = {cells.safe_cell(u["email"]): u for u in world.users}
    for r in rows:
        u = by_email[r[0]]
        assert r[1] == cells.safe_cell(u["display_name"])
        assert r[4] == u["status"]
        assert int(r[6]) == u["app_passwords"]
        assert r[7] == (u["enrolled"].strftime("%Y-%m-%dT%H:%M:%SZ") if u["enrolled"] else "")
        assert r[8].endswith("Z") and len(r[8]) == 20
        datetime.strptime(r[8], "%Y-%m-%dT%H:%M:%SZ")


def test_users_export_follows_the_search(world: World) -> None:
    search = UserSearch(text="=cmd", status="active")
    rows = read_rows(export_text(world, "users", search=search))[1:]
    want = sorted(u["email"] for u in world.users if "=cmd" in u["email"] and u["status"] == "active")
    assert sorted(r[0] for r in rows) == ["'" + e for e in want]
    assert files.write_csv(io.BytesIO(), "users", engine=world.engine, search=UserSearch(text="nobody")) == 0


def test_audit_export_matches_the_rows(world: World) -> None:
    rows = read_rows(export_text(world, "audit"))[1:]
    assert [r[7] for r in rows] == [cells.safe_cell(a["reason"]) for a in world.audit]  # newest first
    for r in rows:
        assert json.loads(r[9]) == {"enrolled": False}
        assert r[9] == '{"enrolled":false}'  # compact JSON
        assert json.loads(r[8])["enrolled"] is True
        assert r[0].endswith("Z")
    only_alice = read_rows(export_text(world, "audit", audit_filter=AuditFilter(actor="alice")))[1:]
    assert len(only_alice) == sum(1 for a in world.audit if a["actor"] == "alice")


def test_adoption_month_export_keeps_negative_numbers(world: World) -> None:
    df = pd.read_csv(io.StringIO(export_text(world, "adoption", by="month")), keep_default_na=False)
    assert pd.api.types.is_integer_dtype(df["users_2fa_end"])
    assert df["users_2fa_end"].min() == -1  # a reset of a user enrolled before history began
    assert df["resets"].sum() == 1
    assert pd.api.types.is_float_dtype(
        pd.read_csv(io.StringIO(export_text(world, "adoption", by="brand")))["pct_2fa"]
    )


# --- formula injection ---------------------------------------------------------------------


def test_every_text_cell_of_every_export_is_safe(world: World) -> None:
    seen = set()
    for kind, kw, columns in REPORTS:
        for row in read_rows(export_text(world, kind, **kw))[1:]:
            for col, cell in zip(columns, row, strict=True):
                if col in NUMERIC:
                    float(cell)  # a number, never text
                    continue
                assert is_safe(cell), (kind, col, cell)
                if cell.startswith("'") and cell[1:] in PAYLOADS:
                    seen.add(cell[1:])
    assert seen == set(PAYLOADS)  # every payload went through, escaped


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_come_back_escaped_in_each_place(world: World, payload: str) -> None:
    users = read_rows(export_text(world, "users"))[1:]
    assert "'" + payload in {r[1] for r in users}  # display names
    assert "'" + payload in {r[2] for r in users}  # brand names
    brands = read_rows(export_text(world, "adoption", by="brand"))[1:]
    assert "'" + payload in {r[0] for r in brands}
    audit = read_rows(export_text(world, "audit"))[1:]
    assert "'" + payload in {r[7] for r in audit}  # reasons
    assert "'" + payload in {r[5] for r in audit}  # brands
    domains = read_rows(export_text(world, "adoption", by="domain"))[1:]
    assert {r[1] for r in domains} == {'\'=HYPERLINK("http://evil","co")'}  # company names


@pytest.mark.parametrize("text", HARMLESS)
def test_harmless_text_comes_back_unchanged(world: World, text: str) -> None:
    users = read_rows(export_text(world, "users"))[1:]
    assert text in {r[1] for r in users}
    audit = read_rows(export_text(world, "audit"))[1:]
    assert text in {r[7] for r in audit}


def test_safe_cell_values() -> None:
    for payload in PAYLOADS:
        assert cells.safe_cell(payload) == "'" + payload
    for text in HARMLESS:
        assert cells.safe_cell(text) == text
    assert cells.safe_cell(-5) == -5
    assert cells.safe_cell(-2.5) == -2.5
    assert cells.safe_cell(Decimal("-1.5")) == Decimal("-1.5")
    assert cells.safe_cell(False) is False
    assert cells.safe_cell(None) == ""
    assert cells.safe_cell("") == ""
    assert cells.safe_cell(datetime(2024, 3, 1, 12, 30, 5, 999, tzinfo=UTC)) == "2024-03-01T12:30:05Z"
    cet = datetime(2024, 3, 1, 13, 30, 5, tzinfo=UTC).astimezone(
        __import__("zoneinfo").ZoneInfo("Europe/Paris")
    )
    assert cells.safe_cell(cet) == "2024-03-01T13:30:05Z"
    assert cells.safe_cell({"a": "=1"}) == '{"a":"=1"}'
    assert cells.safe_cell(["=1"]) == '["=1"]'


# Text rich in what the cell rule looks at, mixed with any other character.
TRICKY_TEXT = st.text(st.one_of(st.sampled_from(list(';\r\n"=+-@\t ,\u3000＝x')), st.characters()))


@given(TRICKY_TEXT)
def test_safe_cell_never_starts_a_formula(text: str) -> None:
    out = cells.safe_cell(text)
    # The old rule held only the first piece; the pieces after ";", CR, LF are guarded too.
    assert is_guarded_form(out, text)
    assert is_safe(out)
    pieces = BREAKS.split(out)[2::2]
    assert all(piece_is_safe(p, last=i == len(pieces) - 1) for i, p in enumerate(pieces))


@given(TRICKY_TEXT, TRICKY_TEXT)
@settings(max_examples=500)
@example('x;"\tx', "=1")  # the quote a ";" reader drops
@example("a", 'x;""\t-1')
def test_no_reader_finds_a_formula_in_two_lines_of_any_text(first: str, second: str) -> None:
    # Each text in the first column and in a later one, between numbers and empty cells.
    text = cells.csv_line([first, second, -1, None]) + cells.csv_line([None, second, first, 2.5])
    assert not [f for f in semicolon_fields(text) if starts_formula(f)]
    one, two = cells.safe_cell(first), cells.safe_cell(second)
    assert read_rows(text) == [[one, two, "-1", ""], ["", two, one, "2.5"]]
    assert is_guarded_form(one, first) and is_guarded_form(two, second)


@given(st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans()))
def test_safe_cell_leaves_numbers_alone(value) -> None:
    assert cells.safe_cell(value) == value
    assert type(cells.safe_cell(value)) is type(value)


# --- read with ";" as the separator, and with "," ---------------------------------------

# (text, what a "," reader must read back). A ";" reader (Excel in most of Europe) splits a
# line at every ";" and a row at every CR or LF once the first cell is behind it, quotes
# or not; what starts each piece it makes must not start a formula.
HOSTILE = [
    ("x;=cmd|' /C calc'!A0;", "x;'=cmd|' /C calc'!A0;'"),
    ("a,=1+1", "a,=1+1"),  # a comma: quoted, nothing to guard
    ('"quoted";=x', '"quoted";\'=x'),
    ("tab\t=x", "tab\t=x"),  # a tab splits nothing
    ("lf\n=x", "lf\n'=x"),
    ("cr\r+x", "cr\r'+x"),
    ("crlf\r\n-x", "crlf\r\n'-x"),
    ("=1+1", "'=1+1"),
    ("+1", "'+1"),
    ("-1", "'-1"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("  =1", "'  =1"),  # whitespace before "="
    ("\t=1", "'\t=1"),
    (";=", ";'="),
    ("a; =1", "a;' =1"),
    ('a;"=1', "a;'\"=1"),  # after ;" a ";" reader quotes, and the quote hides nothing
    ('a; ""@1', 'a;\' ""@1'),
    ('a;"\tb', "a;'\"\tb"),  # a ";" reader drops the quote: the tab would start the field
    ("a; \tb", "a;' \tb"),  # a reader that trims spaces would start the field with the tab
    ("a;\tb", "a;'\tb"),  # a tab right after ";"
    ("Zoë;＝1", "Zoë;'＝1"),  # full-width equals sign
    ("日本\n－1", "日本\n'－1"),  # full-width minus after a line feed
    ("a;\u3000@x", "a;'\u3000@x"),  # ideographic space
    ("ends;", "ends;'"),  # an empty end: the closing quote would open a ";" field
    ("a;b; c;1", "a;b; c;1"),  # harmless pieces stay as they are
    ('say "hi"; ok', 'say "hi"; ok'),
    ("Zoë Ångström 🙂", "Zoë Ångström 🙂"),
]
HOSTILE_AT = datetime(2026, 2, 1, 12, 0, 0, tzinfo=UTC)


def build_hostile(url: str) -> list[dict]:
    """A brand, a domain, a mailbox (display name) and an audit event (reason) per hostile
    text, and an app password labelled with it where a label may hold it."""
    from core.access.operators import Actor
    from core.mailboxes.app_passwords import clean_label, create
    from tests.factories import make_brand, make_domain

    made = []
    with session_scope(get_engine(url), write=True) as s:
        for i, (text, want) in enumerate(HOSTILE):
            brand = make_brand(s, text, allow_2fa=True, allow_app_passwords=True)
            domain = make_domain(s, brand, f"h{i}.example")
            user = User(email=f"u{i}@h{i}.example", domain_id=domain.id, display_name=text)
            s.add(user)
            s.flush()
            s.add(
                AuditEvent(
                    at=HOSTILE_AT - timedelta(minutes=i),
                    actor="alice",
                    action="user.2fa_reset",
                    object_type="user",
                    object_key=user.email,
                    brand_id=brand.id,
                    user_id=user.id,
                    reason=text,
                )
            )
            label = text if " ".join(text.split()) == text and clean_label(text) == text else None
            if label:
                create(s, actor=Actor.cli(), email=user.email, label=label)
            made.append({"email": user.email, "text": text, "want": want, "label": label})
    return made


def test_hostile_text_is_safe_read_with_either_separator(db_url: str) -> None:
    made = build_hostile(db_url)
    engine = get_engine(db_url)
    texts = {
        "users": "".join(files.iter_csv("users", engine=engine)),
        "adoption": "".join(files.iter_csv("adoption", engine=engine, by="brand")),
        "audit": "".join(files.iter_csv("audit", engine=engine)),
    }
    for kind, text in texts.items():
        bad = [f for f in semicolon_fields(text) if starts_formula(f)]
        assert not bad, (kind, bad)  # the old export: ['=cmd|\' /C calc\'!A0', ...]

    # Read with ",": every row whole, every text back as it was, after the guard's "'".
    users = read_rows(texts["users"])[1:]
    assert [r[0] for r in users] == [m["email"] for m in made]
    assert [r[1] for r in users] == [m["want"] for m in made]  # display names
    assert [r[2] for r in users] == [m["want"] for m in made]  # brand names
    assert all(len(r) == len(registry.USERS_COLUMNS) for r in users)
    brands = read_rows(texts["adoption"])[1:]
    assert sorted(r[0] for r in brands) == sorted(m["want"] for m in made)
    audit = read_rows(texts["audit"])[1:]
    resets = [r for r in audit if r[2] == "user.2fa_reset"]  # newest first: in the order made
    assert [r[7] for r in resets] == [m["want"] for m in made]  # reasons
    assert [r[5] for r in resets] == [m["want"] for m in made]  # brands

    # Device labels: in the audit log (object key, JSON after) and the command line's CSV.
    labelled = [m for m in made if m["label"]]
    assert len(labelled) > 15
    created = {r[6]: r for r in audit if r[2] == "app_password.created"}
    for m in labelled:
        row = created[m["email"]]
        assert is_guarded_form(row[4], f"{m['email']}/{m['label']}"), row[4]
        assert is_guarded_form(
            row[9], json.dumps({"label": m["label"]}, ensure_ascii=False, separators=(",", ":"))
        )
    from core.cli.output import emit

    out = io.StringIO(newline="")
    emit(
        [{"email": m["email"], "label": m["label"], "n": -1} for m in labelled],
        "csv",
        ["email", "label", "n"],
        out,
    )
    assert not [f for f in semicolon_fields(out.getvalue()) if starts_formula(f)]
    assert read_rows(out.getvalue())[1:] == [[m["email"], m["want"], "-1"] for m in labelled]


def test_a_small_users_export_as_literal_text(db_url: str) -> None:
    from tests.factories import make_brand, make_domain

    def at(*args: int) -> datetime:
        return datetime(*args, tzinfo=UTC)

    with session_scope(get_engine(db_url), write=True) as s:
        brand = make_brand(s, "=Brand;@x", allow_2fa=True, allow_app_passwords=True)
        domain = make_domain(s, brand, "lit.example")
        ann = User(
            email="ann@lit.example",
            domain_id=domain.id,
            display_name="x;=cmd|' /C calc'!A0;",
            created_at=at(2026, 1, 1),
            totp_enrolled_at=at(2026, 1, 2, 3, 4, 5),
        )
        bob = User(
            email="-bob@lit.example",
            domain_id=domain.id,
            display_name='say "hi"\n=2',
            status="suspended",
            created_at=at(2026, 1, 5, 6, 7, 8, 123456),
            last_login_at=at(2026, 1, 6),
        )
        cy = User(email="cy@lit.example", domain_id=domain.id, display_name="", created_at=at(2026, 1, 7))
        s.add_all([ann, bob, cy])
        s.flush()
        s.add(AppPassword(user_id=ann.id, label="phone", password_hash="x", created_at=at(2026, 1, 3)))
    want = (
        "email,display_name,brand,domain,status,twofa,app_passwords,twofa_enrolled_at,created_at,last_login_at\r\n"
        '"ann@lit.example","x;\'=cmd|\' /C calc\'!A0;\'","\'=Brand;\'@x","lit.example","active","on",1,'
        "2026-01-02T03:04:05Z,2026-01-01T00:00:00Z,\r\n"
        '"\'-bob@lit.example","say ""hi""\n\'=2","\'=Brand;\'@x","lit.example","suspended","off",0,,'
        "2026-01-05T06:07:08Z,2026-01-06T00:00:00Z\r\n"
        '"cy@lit.example","","\'=Brand;\'@x","lit.example","active","off",0,,2026-01-07T00:00:00Z,\r\n'
    )
    engine = get_engine(db_url)
    assert "".join(files.iter_csv("users", engine=engine)) == want
    assert "".join(files.iter_csv("users", engine=engine, chunk_rows=1)) == want
    buf = io.BytesIO()
    assert files.write_csv(buf, "users", engine=engine, bom=True) == 3
    assert buf.getvalue() == ("\ufeff" + want).encode("utf-8")


def test_a_small_audit_export_as_literal_text(db_url: str) -> None:
    from tests.factories import make_brand, make_domain

    with session_scope(get_engine(db_url), write=True) as s:
        brand = make_brand(s, "=Brand;@x")
        domain = make_domain(s, brand, "lit.example")
        ann = User(email="ann@lit.example", domain_id=domain.id)
        s.add(ann)
        s.flush()
        s.add_all(
            [
                AuditEvent(
                    at=datetime(2026, 2, 1, 10, tzinfo=UTC),
                    actor="alice",
                    action="user.2fa_reset",
                    object_type="user",
                    object_key=ann.email,
                    brand_id=brand.id,
                    user_id=ann.id,
                    before={"enrolled": True},
                    after={"enrolled": False},
                    reason="a,=1+1; -x",
                ),
                AuditEvent(
                    at=datetime(2026, 2, 1, 9, tzinfo=UTC),
                    actor="=evil",
                    action="brand.switches_changed",
                    object_type="brand",
                    object_key="b;@x",
                    after={"note": "x;=1"},
                ),
            ]
        )
    want = (
        "at,actor,action,object_type,object_key,brand,user,reason,before,after\r\n"
        '2026-02-01T10:00:00Z,"alice","user.2fa_reset","user","ann@lit.example","\'=Brand;\'@x",'
        '"ann@lit.example","a,=1+1;\' -x","{""enrolled"":true}","{""enrolled"":false}"\r\n'
        '2026-02-01T09:00:00Z,"\'=evil","brand.switches_changed","brand","b;\'@x",,,,,"{""note"":""x;\'=1""}"\r\n'
    )
    assert "".join(files.iter_csv("audit", engine=get_engine(db_url))) == want


# --- bytes, streaming, files ---------------------------------------------------------------


def test_bom_for_excel(world: World) -> None:
    buf = io.BytesIO()
    n = files.write_csv(buf, "users", engine=world.engine, bom=True)
    data = buf.getvalue()
    assert data[:3] == b"\xef\xbb\xbf"
    assert data[3:].startswith(b"email,")
    df = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert tuple(df.columns) == registry.USERS_COLUMNS and len(df) == n == len(world.users)
    assert not export_text(world, "users").startswith("\ufeff")


def test_write_csv_to_a_path_and_a_text_stream(world: World, tmp_path) -> None:
    path = tmp_path / "audit.csv"
    n = files.write_csv(path, "audit", engine=world.engine, bom=True)
    assert n == len(world.audit)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        assert len(list(csv.reader(fh))) == n + 1
    text = io.StringIO(newline="")
    assert files.write_csv(text, "adoption", engine=world.engine, by="domain") == len(world.domains)
    assert text.getvalue() == export_text(world, "adoption", by="domain")
    with pytest.raises(TypeError, match="unexpected"):
        files.write_csv(io.BytesIO(), "users", engine=world.engine, colour="red")


def test_streams_in_chunks(world: World) -> None:
    chunks = list(files.iter_csv("users", engine=world.engine, chunk_rows=7))
    assert chunks[0] == ",".join(registry.USERS_COLUMNS) + "\r\n"
    body = chunks[1:]
    assert len(body) == -(-len(world.users) // 7)
    assert all(len(read_rows(c)) == 7 for c in body[:-1])
    assert "".join(chunks) == export_text(world, "users")


@pytest.mark.parametrize("kind, kw", [("users", {}), ("audit", {}), ("adoption", {"by": "domain"})])
def test_a_limit_keeps_the_header_and_the_first_rows(world: World, kind: str, kw: dict) -> None:
    whole = export_text(world, kind, **kw)
    rows = read_rows(whole)
    assert len(rows) > 4  # more rows than the largest limit below
    for limit in (0, 1, 3):
        text = "".join(files.iter_csv(kind, engine=world.engine, limit=limit, chunk_rows=2, **kw))
        assert whole.startswith(text)
        assert read_rows(text) == rows[: limit + 1]


# --- the same bytes on both engines --------------------------------------------------------

# Cells that take every branch of the users export: the cell rule (SQL) and the quoting
# (a chunk checked as a whole, else csv.writer).
EDGE_TEXTS = (
    PAYLOADS
    + HARMLESS
    + [
        "",
        "cr\ronly",  # a plain address and brand around it: only the CR asks for quotes
        "two\r\nlines",
        "lf\nonly",
        "a,b",
        '"',
        " \t",  # whitespace only, a tab included: not escaped
        "\u3000",
        "\u202f@x",
        "\u205f=x",
        "\u2028=x",
        "\u1680-x",
        "\x0b@x",
        "🙂=1",
        "{brace",
        "A",
        "@",
        "＠,x",
    ]
    + [text for text, _ in HOSTILE]  # the pieces a ";" reader makes: the guard in Python
)
TWIN_NOW = datetime(2026, 3, 1, 12, 30, 5, 987654, tzinfo=UTC)  # microseconds are cut, not rounded


def build_twin(url: str) -> None:
    """The same users, brands, domains and app passwords in any database."""
    with session_scope(get_engine(url), write=True) as s:
        brands = []
        for i, name in enumerate(["=Brand", "Plain brand", " -brand", 'Brand, "Inc"', "Brand;@x"]):
            brands.append(Brand(name=name, allow_2fa=i % 2 == 0, allow_app_passwords=True))
            s.add(brands[-1])
        s.flush()
        company = Company(name="Co", brand_id=brands[0].id)
        s.add(company)
        s.flush()
        domains = []
        for i, name in enumerate(["plain.example", "-dash.example", "@at.example"]):
            domains.append(Domain(name=name, company_id=company.id, brand_id=brands[i].id if i else None))
            s.add(domains[-1])
        s.flush()
        locals_ = ["plain", "=eq", "-dash", " sp", "a,b", '"q"', "9nine"]
        for i, text in enumerate(EDGE_TEXTS):
            u = User(
                email=f"{locals_[i % len(locals_)]}.{i}@{domains[i % 3].name}",
                domain_id=domains[i % 3].id,
                brand_id=brands[(i // 5) % 5].id if i % 5 == 0 else None,
                display_name=text,
                status="suspended" if i % 6 == 0 else "active",
                created_at=TWIN_NOW - timedelta(days=i, seconds=i),
                last_login_at=TWIN_NOW - timedelta(hours=i) if i % 2 else None,
                totp_enrolled_at=TWIN_NOW - timedelta(days=3 * i) if i % 3 == 0 else None,
            )
            s.add(u)
            s.flush()
            for k in range(i % 6):  # 0..5 app passwords, the fifth one revoked
                revoked = TWIN_NOW if k == 4 else None
                s.add(
                    AppPassword(
                        user_id=u.id,
                        label=f"l{k}",
                        password_hash="x",
                        created_at=TWIN_NOW,
                        revoked_at=revoked,
                    )
                )


def reference_users_csv(url: str, search: UserSearch | None = None, bom: bool = False) -> bytes:
    """The users export the slow, plain way: ORM rows, ``safe_cell`` and the quoting rule
    (every text cell quoted, numbers, times and empty times bare)."""
    from sqlalchemy import select

    from core.reporting.search import search_users

    with session_scope(get_engine(url)) as s:
        wanted = None
        if search is not None:
            wanted = {r["email"] for r in search_users(s, search, limit=500)}
        rows = []
        for u in s.scalars(select(User).order_by(User.id)):
            if wanted is not None and u.email not in wanted:
                continue
            domain = s.get(Domain, u.domain_id)
            company = s.get(Company, domain.company_id)
            brand = s.get(Brand, u.brand_id or domain.brand_id or company.brand_id)
            live = sum(
                1
                for ap in s.scalars(select(AppPassword).where(AppPassword.user_id == u.id))
                if not ap.revoked_at
            )
            twofa = "off" if u.totp_enrolled_at is None else ("on" if brand.allow_2fa else "dormant")
            texts = [u.email, u.display_name, brand.name, domain.name, u.status, twofa]
            line = [quoted(cells.safe_cell(c)) for c in texts] + [str(live)]
            line += [cells.safe_cell(t) for t in (u.totp_enrolled_at, u.created_at, u.last_login_at)]
            rows.append(",".join(line) + "\r\n")
    header = ",".join(registry.USERS_COLUMNS) + "\r\n"
    return (("\ufeff" if bom else "") + header + "".join(rows)).encode("utf-8")


def quoted(text: str) -> str:
    """A text cell as the exports write it: always between quotes, inner quotes doubled."""
    return '"' + text.replace('"', '""') + '"'


@pytest.fixture(scope="module")
def twins(tmp_path_factory) -> Iterator[dict[str, str]]:
    """The twin data set in SQLite and in PostgreSQL: {"sqlite": url, "postgres": url}."""
    tmp = tmp_path_factory.mktemp("twins")
    with new_database("sqlite", tmp) as lite, new_database("postgres", tmp) as pg:
        build_twin(lite)
        build_twin(pg)
        yield {"sqlite": lite, "postgres": pg}


TWIN_SEARCHES = [
    None,
    UserSearch(text="dash"),
    UserSearch(brand="=brand"),
    UserSearch(domain="-dash.example", status="active"),
    UserSearch(twofa="dormant"),
    UserSearch(twofa="on", app_passwords="some"),
    UserSearch(app_passwords="none"),
    UserSearch(app_passwords="max"),
    UserSearch(status="suspended"),
    UserSearch(text="nobody at all"),
]


@pytest.mark.postgres
@pytest.mark.parametrize(
    "search",
    TWIN_SEARCHES,
    ids=lambda s: ",".join(f"{k}={v}" for k, v in vars(s or UserSearch()).items() if v) or "all",
)
def test_users_export_is_byte_identical_on_both_engines(twins: dict[str, str], search) -> None:
    want = reference_users_csv(twins["sqlite"], search)
    assert want == reference_users_csv(twins["postgres"], search)  # the same data on both
    for url in twins.values():
        engine = get_engine(url)
        buf = io.BytesIO()
        n = files.write_csv(buf, "users", engine=engine, search=search)
        assert buf.getvalue() == want, url.split(":")[0]
        assert n == len(read_rows(want.decode("utf-8"))) - 1
        # chunk by chunk: chunks that need quoting and chunks that do not, side by side
        for chunk_rows in (1, 2, 7):
            text = "".join(files.iter_csv("users", engine=engine, search=search, chunk_rows=chunk_rows))
            assert text.encode("utf-8") == want


@pytest.mark.postgres
def test_users_export_bom_and_every_edge_text_on_both_engines(twins: dict[str, str]) -> None:
    want = reference_users_csv(twins["sqlite"], bom=True)
    for url in twins.values():
        buf = io.BytesIO()
        files.write_csv(buf, "users", engine=get_engine(url), bom=True)
        assert buf.getvalue() == want
        rows = list(csv.reader(io.StringIO(want[3:].decode("utf-8"), newline="")))[1:]
        assert [r[1] for r in rows] == [cells.safe_cell(t) for t in EDGE_TEXTS]
        assert all(is_safe(c) for r in rows for c in r[:5])
        assert {r[6] for r in rows} == {"0", "1", "2", "3", "4"}  # the revoked fifth is not counted
        assert rows[0][8] == "2026-03-01T12:30:05Z"


@pytest.mark.postgres
def test_users_export_closed_early_leaves_the_connection_usable(twins: dict[str, str]) -> None:
    for url in twins.values():
        engine = get_engine(url)
        chunks = files.iter_csv("users", engine=engine, chunk_rows=2)
        assert next(chunks).startswith("email,") and next(chunks)
        chunks.close()  # a download cancelled half way
        assert files.write_csv(io.BytesIO(), "users", engine=engine) == len(EDGE_TEXTS)


def test_the_cell_rule_in_sql_knows_every_whitespace() -> None:
    # _guard_sql trims what str.lstrip() trims: every whitespace character lies below U+3001.
    spaces = {chr(c) for c in range(0x110000) if chr(c).isspace()}
    assert max(map(ord, spaces)) <= 0x3000
    assert spaces == set(cells._SPACES)
    assert not any(65 <= ord(c) <= 126 for c in spaces | cells.FORMULA_TRIGGERS)


# --- DataFrames ----------------------------------------------------------------------------


def test_dataframe_users_needs_a_limit(world: World) -> None:
    with pytest.raises(ValueError, match="limit"):
        frames.dataframe("users", engine=world.engine)
    df = frames.dataframe("users", engine=world.engine, limit=10)
    assert tuple(df.columns) == registry.USERS_COLUMNS and len(df) == 10
    assert pd.api.types.is_integer_dtype(df["app_passwords"])
    assert all(is_safe(v) for col in ("email", "display_name", "brand") for v in df[col])
    assert list(df["email"]) == [r[0] for r in read_rows(export_text(world, "users"))[1:11]]


@pytest.mark.parametrize("by", ["brand", "domain", "month"])
def test_dataframe_adoption(world: World, by: str) -> None:
    df = frames.dataframe("adoption", engine=world.engine, by=by)
    assert tuple(df.columns) == registry.columns_for("adoption", by)
    assert len(df) == expected_rows(world, "adoption", by)
    text_cols = df.select_dtypes(include=["object", "str"]).columns
    assert all(is_safe(v) for c in text_cols for v in df[c] if isinstance(v, str))
    numeric = [c for c in df.columns if c in NUMERIC]
    assert numeric and all(pd.api.types.is_numeric_dtype(df[c]) for c in numeric)


def test_dataframe_audit(world: World) -> None:
    df = frames.dataframe("audit", engine=world.engine, limit=5)
    assert tuple(df.columns) == registry.AUDIT_COLUMNS and len(df) == 5
    assert list(df["reason"]) == [cells.safe_cell(a["reason"]) for a in world.audit[:5]]
    assert df["after"].iloc[0] == '{"enrolled":false}'
    assert len(frames.dataframe("audit", engine=world.engine)) == len(world.audit)


def _cli_csv(rows: list[dict], fields: list[str]) -> list[list[str]]:
    from core.cli.output import emit

    out = io.StringIO(newline="")
    emit(rows, "csv", fields, out=out)
    return read_rows(out.getvalue())[1:]


def test_labels_through_the_command_line_csv(world: World) -> None:
    # cli_format's CSV uses safe_cell: app-password labels (payloads) come back escaped
    from sqlalchemy import select

    with session_scope(world.engine) as s:
        labels = [x for x in s.scalars(select(AppPassword.label)) if "\r" not in x]
    rows = _cli_csv([{"label": label, "n": -3} for label in labels], ["label", "n"])
    assert sorted(r[0] for r in rows) == sorted(cells.safe_cell(label) for label in labels)
    escaped = {p for p in PAYLOADS if p in labels}
    assert len(escaped) > 10 and {"'" + p for p in escaped} <= {r[0] for r in rows}
    assert all(is_safe(r[0]) for r in rows) and {r[1] for r in rows} == {"-3"}


def test_cli_csv_quotes_a_carriage_return() -> None:
    assert _cli_csv([{"label": "\rCR", "n": 1}], ["label", "n"]) == [["'\rCR", "1"]]
