"""The command-line contract of issue 2, checked on the real ``python -m core``.

Every test runs the command line in a subprocess against a real database (a new SQLite
file and PostgreSQL, through the ``db_url`` fixture), with the test process's
MAC_SECRET_KEY so that secrets written by the factories decrypt in the subprocess. The
contract: the commands and options, the JSON field names, exit codes 0 (done), 1
(refused by a rule) and 2 (bad input), and one plain sentence on stderr, never a
traceback. Adoption figures are checked against a count made here from the rows created.
"""

from __future__ import annotations

import csv
import email
import email.policy
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
from sqlalchemy import func, select

from core.platform import totp
from core.platform.db import get_engine, session_scope
from core.platform.models import (
    AppPassword,
    AuditEvent,
    Brand,
    Domain,
    LoginFailure,
    Notification,
    Operator,
    SecurityEvent,
    User,
)
from core.reporting.adoption import ADOPTION_FIELDS
from tests.conftest import empty_pg_database
from tests.factories import (
    PASSWORD,
    make_app_password,
    make_brand,
    make_domain,
    make_user,
    setup_basic,
)

ROOT = Path(__file__).resolve().parents[2]
APP_PASSWORD_RE = re.compile(r"^[a-z]{4} [a-z]{4} [a-z]{4} [a-z]{4}$")
SHOW_FIELDS = ["email", "display_name", "brand", "domain", "status", "twofa", "app_passwords"]
AP_FIELDS = [
    "label",
    "protocols",
    "created_at",
    "last_used_at",
    "last_used_protocol",
    "last_used_ip",
    "state",
]
BRAND_SHOW_FIELDS = {
    "name",
    "allow_2fa",
    "allow_user_disable_2fa",
    "allow_app_passwords",
    "custom_login_css",
    "version",
    "users",
    "users_2fa",
    "pct_2fa",
    "users_2fa_dormant",
    "users_app_passwords",
    "pct_app_passwords",
    "app_passwords",
}
SWITCHES = ("allow_2fa", "allow_user_disable_2fa", "allow_app_passwords")
GOOD_CSS = """\
#login-form .box-inner .modalheader { background: #003366; color: #ffffff; }
#login-form .box-inner .modal { background: #ffffff; color: #111111; }
"""
HOSTILE_CSS = """\
#login-form .box-inner .modal { background: #ffffff; color: #111111; }
</style><script>alert(document.cookie)</script>
"""


# --- running the command line ----------------------------------------------------------


@dataclass
class Run:
    args: tuple[str, ...]
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)

    def csv(self) -> list[dict]:
        return list(csv.DictReader(io.StringIO(self.out)))


def _env(db_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SMTP_URL", "COLUMNS")}
    env.update(
        DATABASE_URL=db_url,
        MAC_SECRET_KEY=os.environ["MAC_SECRET_KEY"],
        MAC_DATA_DIR=os.environ["MAC_DATA_DIR"],
        PYTHONIOENCODING="utf-8",
        COLUMNS="200",
    )
    env.update(extra or {})
    return env


def _check(run: Run) -> Run:
    """What holds for every run: never a traceback; a failure says why in one sentence."""
    assert "Traceback" not in run.err, run
    assert "Traceback" not in run.out, run
    if run.code != 0:
        lines = [line for line in run.err.splitlines() if line.strip()]
        assert len(lines) == 1, f"stderr must be one sentence: {run}"
        assert "Unexpected error" not in run.err, run
    return run


def cli(db_url: str, *args: str, input: str | None = None, env: dict[str, str] | None = None) -> Run:
    proc = subprocess.run(
        [sys.executable, "-m", "core", *args],
        env=_env(db_url, env),
        input=input if input is not None else "",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=180,
    )
    return _check(Run(tuple(args), proc.returncode, proc.stdout, proc.stderr))


def cli_many(
    db_url: str,
    calls: Sequence[Sequence[str] | tuple[Sequence[str], str]],
    env: dict[str, str] | None = None,
) -> list[Run]:
    """Several independent runs at once (each a list of args, or (args, stdin))."""
    procs = []
    for call in calls:
        args, stdin = (call[0], call[1]) if isinstance(call, tuple) else (call, "")
        p = subprocess.Popen(
            [sys.executable, "-m", "core", *args],
            env=_env(db_url, env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        procs.append((tuple(args), p, stdin))
    runs = []
    for args, p, stdin in procs:
        out, err = p.communicate(stdin, timeout=180)
        runs.append(_check(Run(args, p.returncode, out, err)))
    return runs


def scope(db_url: str, write: bool = False):
    return session_scope(get_engine(db_url), write=write)


def audit_actions(db_url: str) -> list[str]:
    with scope(db_url) as s:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def brand_row(db_url: str, name: str) -> Brand:
    with scope(db_url) as s:
        return s.scalars(select(Brand).where(Brand.name == name)).one()


def user_row(db_url: str, email: str) -> User | None:
    with scope(db_url) as s:
        return s.scalars(select(User).where(User.email == email)).first()


def dom(s, name: str) -> Domain:
    return s.scalars(select(Domain).where(Domain.name == name)).one()


def user_count(db_url: str) -> int:
    with scope(db_url) as s:
        return s.scalar(select(func.count()).select_from(User)) or 0


# --- databases without a schema, unreachable ones, and usage errors ---------------------


@pytest.fixture(params=["sqlite", "postgres"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database that exists but has no tables at all."""
    if request.param == "sqlite":
        path = tmp_path / "empty.db"
        path.touch()
        yield f"sqlite:///{path}"
        return
    with empty_pg_database("mac_empty") as url:
        yield url


def test_every_command_on_a_database_without_schema_says_to_run_init(empty_db_url: str, tmp_path: Path):
    runs = cli_many(
        empty_db_url,
        [
            ["brands", "list"],
            ["brands", "show", "Alpha Mail", "--format", "json"],
            ["brands", "set", "Alpha Mail", "--allow-2fa", "--actor", "admin"],
            ["users", "search", "a"],
            ["users", "show", "a@alpha.example.com"],
            ["users", "add", "a@alpha.example.com", "--display-name", "A"],
            ["users", "enroll-2fa", "a@alpha.example.com"],
            ["app-passwords", "create", "a@alpha.example.com", "--label", "Phone"],
            (["login", "a@alpha.example.com"], "secret\n"),
            ["notify", "list"],
            ["notify", "send"],
            ["report", "adoption", "--by", "month"],
            ["export", "users", "--out", str(tmp_path / "users.csv")],
            ["audit"],
            ["operators", "list"],
            ["seed", "--brands", "2", "--users", "5"],
        ],
    )
    for run in runs:
        assert run.code == 1, run
        assert "python -m core init" in run.err, run
    assert not (tmp_path / "users.csv").exists()
    assert not list(tmp_path.glob("*.part"))
    # init creates the schema; after it the same commands work (and init is idempotent).
    assert cli(empty_db_url, "init").code == 0
    again = cli(empty_db_url, "init")
    assert again.code == 0 and "up to date" in again.out
    listed = cli(empty_db_url, "brands", "list", "--format", "json")
    assert listed.code == 0 and listed.json() == []


def test_init_is_idempotent_on_a_database_at_head(db_url: str):
    setup_basic(get_engine(db_url))
    first, second = cli(db_url, "init"), cli(db_url, "init")
    assert first.code == 0 and second.code == 0
    assert [b["name"] for b in cli(db_url, "brands", "list", "--format", "json").json()] == [
        "Alpha Mail",
        "Beta Mail",
    ]


def test_an_unreachable_postgresql_is_one_sentence_and_exit_1():
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    for run in cli_many(url, [["brands", "list"], ["init"], (["login", "x@y.example.com"], "pw\n")]):
        assert run.code == 1, run
        assert "cannot be reached" in run.err


def test_usage_errors_exit_2_with_one_sentence(sqlite_url: str, tmp_path: Path):
    cases = {
        "unknown option": (["brands", "list", "--bogus"], "--bogus"),
        "unknown command": (["frobnicate"], "frobnicate"),
        "bad format": (["brands", "list", "--format", "xml"], "--format"),
        "bad format show": (["users", "show", "a@alpha.example.com", "--format", "yaml"], "--format"),
        "bad format audit": (["audit", "--format", "html"], "--format"),
        "bad twofa": (["users", "search", "a", "--twofa", "maybe"], "--twofa"),
        "bad by": (["report", "adoption", "--by", "year"], "--by"),
        "bad limit": (["audit", "--limit", "0"], "--limit"),
        "limit not a number": (["audit", "--limit", "ten"], "--limit"),
        "missing actor": (["brands", "set", "Alpha Mail", "--allow-2fa"], "--actor"),
        "missing argument": (["users", "show"], "email"),
        "no switch": (["brands", "set", "Alpha Mail", "--actor", "admin"], "switch"),
        "bad export kind": (
            ["export", "brands", "--out", str(tmp_path / "x.csv")],
            "users, adoption or audit",
        ),
        "export folder missing": (["export", "users", "--out", str(tmp_path / "no" / "x.csv")], "folder"),
        "export to a folder": (["export", "users", "--out", str(tmp_path)], "folder"),
        "css file missing": (
            ["brands", "css", "Alpha Mail", "--file", str(tmp_path / "none.css"), "--actor", "admin"],
            "no such file",
        ),
        "import file missing": (["import", "users", str(tmp_path / "none.csv")], "no such file"),
        "no command": (["brands"], "command"),
        "no password on stdin": (["login", "a@alpha.example.com"], "standard input"),
    }
    runs = cli_many(sqlite_url, [args for args, _ in cases.values()])
    for (name, (_args, needle)), run in zip(cases.items(), runs, strict=True):
        assert run.code == 2, (name, run)
        assert needle.lower() in run.err.lower(), (name, run)
    help_run = cli(sqlite_url, "--help")
    assert help_run.code == 0 and "brands" in help_run.out
    bad_url = cli("not a url", "brands", "list")
    assert bad_url.code == 2 and "DATABASE_URL" in bad_url.err


# --- brands ------------------------------------------------------------------------------


def _brand_users(db_url: str) -> dict:
    """Alpha: 2 enrolled of 3 active + 1 suspended, 3 live app passwords; Beta: 1 dormant."""
    basic = setup_basic(get_engine(db_url))
    with scope(db_url, write=True) as s:
        alpha = s.scalars(select(Brand).where(Brand.name == "Alpha Mail")).one()
        d_on = make_domain(s, alpha, "alpha2.example.com")
        d_off = dom(s, "beta.example.com")
        u1 = make_user(s, d_on, "ann", twofa=True)
        u2 = make_user(s, d_on, "bob", twofa=True)
        make_user(s, d_on, "cat")
        make_user(s, d_on, "sus", twofa=True, status="suspended")
        make_app_password(s, u1, "iPhone Mail")
        make_app_password(s, u1, "Thunderbird")
        make_app_password(s, u2, "Outlook")
        make_app_password(s, u2, "Old", revoked=True)
        make_user(s, d_off, "dora", twofa=True)
    return basic


def test_brands_list_and_show_in_every_format(db_url: str):
    _brand_users(db_url)
    table, as_csv, as_json = cli_many(
        db_url,
        [["brands", "list"], ["brands", "list", "--format", "csv"], ["brands", "list", "--format", "json"]],
    )
    assert table.code == as_csv.code == as_json.code == 0
    assert "Alpha Mail" in table.out and "Beta Mail" in table.out
    rows = {r["name"]: r for r in as_json.json()}
    assert set(rows) == {"Alpha Mail", "Beta Mail"}
    for r in rows.values():
        assert {"name", *SWITCHES} <= set(r)
    assert [rows["Alpha Mail"][k] for k in SWITCHES] == [True, True, True]
    assert [rows["Beta Mail"][k] for k in SWITCHES] == [False, False, False]
    csv_rows = {r["name"]: r for r in as_csv.csv()}
    assert set(csv_rows) == {"Alpha Mail", "Beta Mail"} and {"name", *SWITCHES} <= set(as_csv.csv()[0])

    show, show_csv, show_table, missing = cli_many(
        db_url,
        [
            ["brands", "show", "Alpha Mail", "--format", "json"],
            ["brands", "show", "alpha mail", "--format", "csv"],
            ["brands", "show", "Alpha Mail"],
            ["brands", "show", "Gamma Mail"],
        ],
    )
    assert show.code == show_csv.code == show_table.code == 0
    detail = show.json()
    assert set(detail) >= BRAND_SHOW_FIELDS
    assert detail["name"] == "Alpha Mail" and detail["version"] == 1 and detail["custom_login_css"] == ""
    # Alpha: 3 active users (the suspended one is not counted), 2 of them enrolled, 2 with
    # 3 live app passwords (the revoked one is not counted).
    assert (detail["users"], detail["users_2fa"], detail["pct_2fa"]) == (3, 2, 66.7)
    assert (detail["users_app_passwords"], detail["app_passwords"], detail["pct_app_passwords"]) == (
        2,
        3,
        66.7,
    )
    assert detail["users_2fa_dormant"] == 0
    assert show_csv.csv()[0]["name"] == "Alpha Mail"
    assert "custom_login_css" in show_table.out
    assert missing.code == 1 and "Gamma Mail" in missing.err


def test_brands_set_dry_run_switches_and_actor_rules(db_url: str):
    _brand_users(db_url)
    before_events = audit_actions(db_url)

    dry = cli(db_url, "brands", "set", "Alpha Mail", "--no-allow-2fa", "--no-allow-app-passwords",
              "--dry-run", "--actor", "manager")  # fmt: skip
    assert dry.code == 0, dry
    assert "nothing was changed" in dry.out.lower()
    assert "2 enrolled users will no longer be asked for a code" in dry.out
    assert "3 app passwords of 2 users will stop working" in dry.out
    alpha = brand_row(db_url, "Alpha Mail")
    assert (alpha.allow_2fa, alpha.allow_app_passwords, alpha.version) == (True, True, 1)
    assert audit_actions(db_url) == before_events

    analyst, nobody, no_switch, unknown_brand = cli_many(
        db_url,
        [
            ["brands", "set", "Alpha Mail", "--no-allow-2fa", "--actor", "analyst"],
            ["brands", "set", "Alpha Mail", "--no-allow-2fa", "--actor", "nobody"],
            ["brands", "set", "Alpha Mail", "--actor", "manager"],
            ["brands", "set", "Gamma Mail", "--allow-2fa", "--actor", "manager"],
        ],
    )
    assert analyst.code == 1 and "analyst" in analyst.err.lower() and "Analyst" in analyst.err
    assert nobody.code == 1 and "nobody" in nobody.err
    assert no_switch.code == 2 and "switch" in no_switch.err
    assert unknown_brand.code == 1 and "Gamma Mail" in unknown_brand.err
    assert brand_row(db_url, "Alpha Mail").version == 1
    assert audit_actions(db_url) == before_events

    # Each switch flag, one at a time, by an account manager then an administrator.
    steps = [
        ("Alpha Mail", "--no-allow-2fa", "allow_2fa", False, "manager"),
        ("Alpha Mail", "--no-allow-user-disable-2fa", "allow_user_disable_2fa", False, "manager"),
        ("Alpha Mail", "--no-allow-app-passwords", "allow_app_passwords", False, "admin"),
        ("Beta Mail", "--allow-2fa", "allow_2fa", True, "manager"),
        ("Beta Mail", "--allow-user-disable-2fa", "allow_user_disable_2fa", True, "admin"),
        ("Beta Mail", "--allow-app-passwords", "allow_app_passwords", True, "manager"),
    ]
    for brand, flag, switch, value, actor in steps:
        run = cli(db_url, "brands", "set", brand, flag, "--actor", actor)
        assert run.code == 0, run
        assert f"Updated {brand}" in run.out
        assert getattr(brand_row(db_url, brand), switch) is value
    alpha, beta = brand_row(db_url, "Alpha Mail"), brand_row(db_url, "Beta Mail")
    assert [getattr(alpha, k) for k in SWITCHES] == [False, False, False] and alpha.version == 4
    assert [getattr(beta, k) for k in SWITCHES] == [True, True, True] and beta.version == 4
    assert audit_actions(db_url)[len(before_events) :] == ["brand.switches_changed"] * 6

    # Turning 2FA off kept the enrolments: they are dormant now.
    shown = cli(db_url, "users", "show", "ann@alpha2.example.com", "--format", "json").json()
    assert shown["twofa"] == "dormant"
    assert {ap["state"] for ap in shown["app_passwords"]} == {"suspended"}

    # A save against an old version is refused, naming what changed.
    stale = cli(db_url, "brands", "set", "Alpha Mail", "--allow-2fa", "--version", "1", "--actor", "admin")
    assert stale.code == 1 and "version 1" in stale.err
    assert brand_row(db_url, "Alpha Mail").allow_2fa is False


def test_brands_css_saves_good_css_and_refuses_hostile_css(db_url: str, tmp_path: Path):
    setup_basic(get_engine(db_url))
    good, hostile = tmp_path / "good.css", tmp_path / "hostile.css"
    good.write_text(GOOD_CSS, encoding="utf-8")
    hostile.write_text(HOSTILE_CSS, encoding="utf-8")

    saved = cli(db_url, "brands", "css", "Alpha Mail", "--file", str(good), "--actor", "manager")
    assert saved.code == 0, saved
    alpha = brand_row(db_url, "Alpha Mail")
    assert ".modalheader" in alpha.custom_login_css and alpha.version == 2
    assert audit_actions(db_url) == ["brand.css_saved"]

    refused, analyst, missing = cli_many(
        db_url,
        [
            ["brands", "css", "Alpha Mail", "--file", str(hostile), "--actor", "manager"],
            ["brands", "css", "Beta Mail", "--file", str(good), "--actor", "analyst"],
            ["brands", "css", "Beta Mail", "--file", str(tmp_path / "missing.css"), "--actor", "manager"],
        ],
    )
    assert refused.code == 2, refused
    assert "refused" in refused.err and "line 2" in refused.err.lower() and "</style" in refused.err
    assert "nothing was saved (2 error(s)): line 2, column 1: </style would end" in refused.err
    assert analyst.code == 1 and "Analyst" in analyst.err
    assert missing.code == 2 and "missing.css" in missing.err
    after = brand_row(db_url, "Alpha Mail")
    assert after.custom_login_css == alpha.custom_login_css and after.version == 2
    assert "script" not in after.custom_login_css
    assert brand_row(db_url, "Beta Mail").custom_login_css == ""
    # The analyst's refusal is recorded; nothing else was written.
    assert audit_actions(db_url) == ["brand.css_saved", "access.refused"]
    shown = cli(db_url, "brands", "show", "Alpha Mail", "--format", "json").json()
    assert shown["custom_login_css"] == alpha.custom_login_css and shown["version"] == 2


# --- users -------------------------------------------------------------------------------


def test_users_add_rules(db_url: str):
    setup_basic(get_engine(db_url))
    added = cli(db_url, "users", "add", "New.Person@Alpha.example.com", "--display-name", "New Person",
                "--password", "a long password")  # fmt: skip
    assert added.code == 0, added
    user = user_row(db_url, "new.person@alpha.example.com")
    assert user is not None and user.display_name == "New Person"

    no_domain, malformed, duplicate, no_at = cli_many(
        db_url,
        [
            ["users", "add", "x@nowhere.example.com", "--display-name", "X"],
            ["users", "add", "x..y@alpha.example.com", "--display-name", "X"],
            ["users", "add", "new.person@alpha.example.com", "--display-name", "Again"],
            ["users", "add", "no-at-sign", "--display-name", "X"],
        ],
    )
    assert no_domain.code == 1 and "nowhere.example.com" in no_domain.err
    assert malformed.code == 2 and "x..y@alpha.example.com" in malformed.err
    assert duplicate.code == 1 and "exists already" in duplicate.err
    assert no_at.code == 2 and "no-at-sign" in no_at.err
    assert user_count(db_url) == 1


def test_users_search_and_show(db_url: str):
    setup_basic(get_engine(db_url))
    with scope(db_url, write=True) as s:
        d_on = dom(s, "alpha.example.com")
        d_off = dom(s, "beta.example.com")
        beta = s.scalars(select(Brand).where(Brand.name == "Beta Mail")).one()
        ann = make_user(s, d_on, "ann_lee", twofa=True)
        make_user(s, d_on, "annxlee")
        make_user(s, d_on, "100%off")
        make_user(s, d_on, "100xoff")
        make_user(s, d_off, "dora", twofa=True)
        bo = make_user(s, d_off, "bo")
        over = make_user(s, d_on, "override", brand=beta)  # Alpha's domain, Beta by override
        make_app_password(s, ann, "iPhone Mail")
        make_app_password(s, ann, "Old laptop", revoked=True)
        make_app_password(s, bo, "Outlook")
        make_app_password(s, over, "Tablet")

    def emails(run: Run) -> list[str]:
        assert run.code == 0, run
        return sorted(r["email"] for r in run.json())

    j = ("--format", "json")
    runs = cli_many(
        db_url,
        [
            ["users", "search", "n_l", *j],
            ["users", "search", "0%o", *j],
            ["users", "search", "LEE", *j],
            ["users", "search", "eta.exa", *j],
            ["users", "search", "", "--brand", "Beta Mail", *j],
            ["users", "search", "", "--twofa", "on", *j],
            ["users", "search", "", "--twofa", "dormant", *j],
            ["users", "search", "off", "--twofa", "off", "--brand", "alpha mail", *j],
            ["users", "search", "%", *j],
            ["users", "search", "_", *j],
            ["users", "search", "ann", "--format", "csv"],
            ["users", "search", "ann"],
        ],
    )
    assert emails(runs[0]) == ["ann_lee@alpha.example.com"]  # _ is not a wildcard
    assert emails(runs[1]) == ["100%off@alpha.example.com"]  # % is not a wildcard
    assert emails(runs[2]) == ["ann_lee@alpha.example.com", "annxlee@alpha.example.com"]
    assert emails(runs[3]) == ["bo@beta.example.com", "dora@beta.example.com"]
    assert emails(runs[4]) == ["bo@beta.example.com", "dora@beta.example.com", "override@alpha.example.com"]
    assert emails(runs[5]) == ["ann_lee@alpha.example.com"]
    assert emails(runs[6]) == ["dora@beta.example.com"]
    assert emails(runs[7]) == ["100%off@alpha.example.com", "100xoff@alpha.example.com"]
    assert emails(runs[8]) == ["100%off@alpha.example.com"]
    assert emails(runs[9]) == ["ann_lee@alpha.example.com"]
    assert [r["email"] for r in runs[10].csv()] == ["ann_lee@alpha.example.com", "annxlee@alpha.example.com"]
    assert "ann_lee@alpha.example.com" in runs[11].out

    ann_show, bo_show, over_show, table, missing, as_csv = cli_many(
        db_url,
        [
            ["users", "show", "ANN_LEE@alpha.example.com", *j],
            ["users", "show", "bo@beta.example.com", *j],
            ["users", "show", "override@alpha.example.com", *j],
            ["users", "show", "ann_lee@alpha.example.com"],
            ["users", "show", "ghost@alpha.example.com", *j],
            ["users", "show", "ann_lee@alpha.example.com", "--format", "csv"],
        ],
    )
    for run in (ann_show, bo_show, over_show):
        assert run.code == 0, run
        assert list(run.json()) == SHOW_FIELDS
        for ap in run.json()["app_passwords"]:
            assert list(ap) == AP_FIELDS
    ann = ann_show.json()
    assert {k: ann[k] for k in SHOW_FIELDS[:6]} == {
        "email": "ann_lee@alpha.example.com",
        "display_name": "Test User",
        "brand": "Alpha Mail",
        "domain": "alpha.example.com",
        "status": "active",
        "twofa": "on",
    }
    assert {ap["label"]: ap["state"] for ap in ann["app_passwords"]} == {
        "iPhone Mail": "active",
        "Old laptop": "revoked",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", ann["app_passwords"][0]["created_at"])
    assert ann["app_passwords"][0]["last_used_at"] is None
    bo = bo_show.json()
    assert (bo["brand"], bo["twofa"], bo["app_passwords"][0]["state"]) == ("Beta Mail", "off", "suspended")
    over = over_show.json()
    assert (over["brand"], over["domain"], over["app_passwords"][0]["state"]) == (
        "Beta Mail",
        "alpha.example.com",
        "suspended",
    )
    assert table.code == 0 and "iPhone Mail" in table.out and "revoked" in table.out
    assert missing.code == 1 and "ghost@alpha.example.com" in missing.err
    assert as_csv.code == 0 and as_csv.csv()[0]["email"] == "ann_lee@alpha.example.com"


def test_enroll_reset_and_notifications(db_url: str, tmp_path: Path):
    setup_basic(get_engine(db_url))
    with scope(db_url, write=True) as s:
        d_on = dom(s, "alpha.example.com")
        d_off = dom(s, "beta.example.com")
        make_user(s, d_on, "ann")
        make_user(s, d_off, "bea")

    enrolled, refused, missing = cli_many(
        db_url,
        [
            ["users", "enroll-2fa", "ann@alpha.example.com"],
            ["users", "enroll-2fa", "bea@beta.example.com"],
            ["users", "enroll-2fa", "ghost@alpha.example.com"],
        ],
    )
    assert enrolled.code == 0, enrolled
    uri = enrolled.out.strip()
    assert uri.startswith("otpauth://totp/")
    parts = urlsplit(uri)
    query = parse_qs(parts.query)
    assert query["issuer"] == ["Alpha Mail"]
    assert unquote(parts.path).lstrip("/") == "Alpha Mail:ann@alpha.example.com"
    assert len(query["secret"][0]) >= 16
    assert refused.code == 1 and "Beta Mail" in refused.err and "2FA" in refused.err
    assert missing.code == 1
    assert user_row(db_url, "ann@alpha.example.com").totp_secret is not None
    assert user_row(db_url, "bea@beta.example.com").totp_secret is None
    again = cli(db_url, "users", "enroll-2fa", "ann@alpha.example.com")
    assert again.code == 1 and "enrolled already" in again.err

    analyst, no_reason = cli_many(
        db_url,
        [
            ["users", "reset-2fa", "ann@alpha.example.com", "--actor", "analyst", "--reason", "lost phone"],
            ["users", "reset-2fa", "ann@alpha.example.com", "--actor", "support", "--reason", " "],
        ],
    )
    assert analyst.code == 1 and "Analyst" in analyst.err
    assert no_reason.code == 2 and "reason" in no_reason.err.lower()
    assert user_row(db_url, "ann@alpha.example.com").totp_secret is not None

    reset = cli(db_url, "users", "reset-2fa", "ann@alpha.example.com", "--actor", "support",
                "--reason", "lost phone")  # fmt: skip
    assert reset.code == 0, reset
    assert "Subject: Alpha Mail: two-factor authentication was turned off" in reset.out
    assert "reason: lost phone" in reset.out
    ann = user_row(db_url, "ann@alpha.example.com")
    assert ann.totp_secret is None and ann.totp_enrolled_at is None
    with scope(db_url) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "user.2fa_reset")).one()
        assert (event.actor, event.reason, event.object_key) == ("support", "lost phone", ann.email)
        notes = s.scalars(select(Notification)).all()
        assert [(n.recipient, n.kind, n.status) for n in notes] == [(ann.email, "2fa_reset", "pending")]
        assert notes[0].body in reset.out
        kinds = list(s.scalars(select(SecurityEvent.kind).order_by(SecurityEvent.id)))
        assert kinds == ["2fa_enrolled", "2fa_reset"]
    not_enrolled = cli(db_url, "users", "reset-2fa", "ann@alpha.example.com", "--actor", "support",
                       "--reason", "new phone")  # fmt: skip
    assert not_enrolled.code == 1 and "not enrolled" in not_enrolled.err

    # notify: list the pending one, send it to the outbox, then nothing is pending.
    data_dir = {"MAC_DATA_DIR": str(tmp_path)}
    pending = cli(db_url, "notify", "list", "--pending", "--format", "json", env=data_dir)
    assert pending.code == 0
    assert [(n["recipient"], n["status"]) for n in pending.json()] == [(ann.email, "pending")]
    sent = cli(db_url, "notify", "send", env=data_dir)
    assert sent.code == 0 and "Sent 1" in sent.out, sent
    emls = list((tmp_path / "outbox").glob("*.eml"))
    assert len(emls) == 1
    message = email.message_from_bytes(emls[0].read_bytes(), policy=email.policy.default)
    assert message["To"] == ann.email and message["Subject"].startswith("Alpha Mail:")
    assert "reason: lost phone" in message.get_content()
    after, all_rows, table, resend = cli_many(
        db_url,
        [
            ["notify", "list", "--pending", "--format", "json"],
            ["notify", "list", "--format", "json"],
            ["notify", "list"],
            ["notify", "send"],
        ],
        env=data_dir,
    )
    assert after.json() == []
    assert [n["status"] for n in all_rows.json()] == ["sent"] and all_rows.json()[0]["sent_at"]
    assert table.code == 0 and ann.email in table.out
    assert resend.code == 0 and "Sent 0" in resend.out
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1


# --- imports -----------------------------------------------------------------------------


def test_import_users_all_rows_or_none(db_url: str, tmp_path: Path):
    setup_basic(get_engine(db_url))
    with scope(db_url, write=True) as s:
        make_user(s, dom(s, "alpha.example.com"), "old")
    good = tmp_path / "good.csv"
    good.write_text(
        "email,display_name,status,brand\n"
        "one@alpha.example.com,One,active,\n"
        "Two@Beta.example.com,Two,suspended,\n"
        'three@alpha.example.com,"Three, Jr",active,Beta Mail\n',
        encoding="utf-8",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "email,display_name,status,brand\n"
        "fine@alpha.example.com,Fine,active,\n"  # line 2: good, but must not be stored
        "x@unknown.example.com,X,active,\n"  # line 3: unknown domain
        "not-an-address,Y,active,\n"  # line 4: malformed
        "old@alpha.example.com,Old,active,\n"  # line 5: exists already
        "fine@alpha.example.com,Fine again,active,\n"  # line 6: duplicate of line 2
        "z@beta.example.com,Z,active,Gamma Mail\n",  # line 7: unknown brand
        encoding="utf-8",
    )
    refused = cli(db_url, "import", "users", str(bad))
    assert refused.code == 2, refused
    err = refused.err.lower()
    assert "nothing imported" in err
    for needle in (
        "line 3, column email",
        "unknown.example.com",
        "line 4, column email",
        "line 5, column email",
        "line 6, column email",
        "duplicate",
        "line 7, column brand",
        "gamma mail",
    ):
        assert needle in err, (needle, refused.err)
    assert "line 2," not in err
    assert user_count(db_url) == 1

    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    wrong_header = tmp_path / "header.csv"
    wrong_header.write_text("mail,name\nx@alpha.example.com,X\n", encoding="utf-8")
    r_empty, r_header = cli_many(
        db_url, [["import", "users", str(empty)], ["import", "users", str(wrong_header)]]
    )
    assert r_empty.code == 2 and "empty" in r_empty.err
    assert r_header.code == 2 and "line 1" in r_header.err
    assert user_count(db_url) == 1

    loaded = cli(db_url, "import", "users", str(good))
    assert loaded.code == 0, loaded
    assert "3" in loaded.out
    assert user_count(db_url) == 4
    three = cli(db_url, "users", "show", "three@alpha.example.com", "--format", "json").json()
    assert (three["display_name"], three["brand"], three["status"]) == ("Three, Jr", "Beta Mail", "active")
    assert user_row(db_url, "two@beta.example.com").status == "suspended"
    twice = cli(db_url, "import", "users", str(good))
    assert twice.code == 2 and "exists already" in twice.err
    assert user_count(db_url) == 4


# --- app passwords -----------------------------------------------------------------------


def test_app_passwords_create_cap_and_revoke(db_url: str):
    setup_basic(get_engine(db_url))
    with scope(db_url, write=True) as s:
        make_user(s, dom(s, "alpha.example.com"), "ann")
        make_user(s, dom(s, "beta.example.com"), "bea")
    ann = "ann@alpha.example.com"

    # Five requests at once: the cap of four holds.
    labels = ["iPhone Mail", "Thunderbird", "Outlook", "Tablet", "Fifth"]
    runs = cli_many(db_url, [["app-passwords", "create", ann, "--label", label] for label in labels])
    ok = [r for r in runs if r.code == 0]
    refused = [r for r in runs if r.code != 0]
    assert len(ok) == 4 and len(refused) == 1, runs
    for r in ok:
        assert APP_PASSWORD_RE.fullmatch(r.out.strip()), r.out
    assert refused[0].code == 1 and "4 app passwords" in refused[0].err
    assert len({r.out for r in ok}) == 4
    with scope(db_url) as s:
        stored = s.scalars(select(AppPassword).where(AppPassword.revoked_at.is_(None))).all()
        assert len(stored) == 4
        for ap in stored:  # only a hash is stored
            assert all(r.out.strip() not in ap.password_hash for r in ok)
    created_labels = {r.args[4] for r in ok}
    refused_label = refused[0].args[4]

    beta, empty_label, ghost = cli_many(
        db_url,
        [
            ["app-passwords", "create", "bea@beta.example.com", "--label", "Phone"],
            ["app-passwords", "create", ann, "--label", "   "],
            ["app-passwords", "create", "ghost@alpha.example.com", "--label", "Phone"],
        ],
    )
    assert beta.code == 1 and "Beta Mail does not allow app passwords" in beta.err
    assert empty_label.code == 2 and "label" in empty_label.err
    assert ghost.code == 1

    victim = sorted(created_labels)[0]
    analyst, unknown_label = cli_many(
        db_url,
        [
            ["app-passwords", "revoke", ann, "--label", victim, "--actor", "analyst"],
            ["app-passwords", "revoke", ann, "--label", refused_label, "--actor", "support"],
        ],
    )
    assert analyst.code == 1 and "Analyst" in analyst.err
    assert unknown_label.code == 1 and refused_label in unknown_label.err
    revoked = cli(db_url, "app-passwords", "revoke", ann, "--label", victim, "--actor", "support")
    assert revoked.code == 0, revoked
    shown = cli(db_url, "users", "show", ann, "--format", "json").json()
    states = {ap["label"]: ap["state"] for ap in shown["app_passwords"]}
    assert states == {label: ("revoked" if label == victim else "active") for label in created_labels}
    assert audit_actions(db_url).count("app_password.revoked") == 1
    # The slot is free again.
    fifth = cli(db_url, "app-passwords", "create", ann, "--label", refused_label)
    assert fifth.code == 0 and APP_PASSWORD_RE.fullmatch(fifth.out.strip())

    # The revoked one no longer signs in; the others still do, with or without spaces.
    by_label = {r.args[4]: r.out.strip() for r in ok}
    keep = sorted(created_labels)[1]
    signins = cli_many(
        db_url,
        [
            (["login", ann, "--app-password"], by_label[keep] + "\n"),
            (["login", ann, "--app-password"], by_label[keep].replace(" ", "") + "\n"),
            (["login", ann, "--app-password"], by_label[victim] + "\n"),
        ],
    )
    assert [r.code for r in signins] == [0, 0, 1], signins
    assert keep in signins[0].out


# --- login -------------------------------------------------------------------------------


def test_login_rules(db_url: str):
    setup_basic(get_engine(db_url))
    secret, dormant_secret = totp.new_secret(), totp.new_secret()
    with scope(db_url, write=True) as s:
        d_on = dom(s, "alpha.example.com")
        d_off = dom(s, "beta.example.com")
        make_user(s, d_on, "ann", twofa=True, secret=secret)
        make_user(s, d_on, "plain")
        make_user(s, d_on, "sus", status="suspended")
        make_user(s, d_off, "dora", twofa=True, secret=dormant_secret)
        bea = make_user(s, d_off, "bea")
        make_app_password(s, bea, "Phone")  # suspended: Beta disallows app passwords
    ann, pw = "ann@alpha.example.com", PASSWORD + "\n"
    wrong_code = f"{(int(pyotp.TOTP(secret).now()) + 500_000) % 1_000_000:06d}"

    runs = cli_many(
        db_url,
        [
            (["login", "plain@alpha.example.com"], pw),
            (["login", "plain@alpha.example.com"], "not the password\n"),
            (["login", "dora@beta.example.com"], pw),  # dormant enrolment: no code asked
            (["login", "sus@alpha.example.com"], pw),
            (["login", "bea@beta.example.com", "--app-password"], "abcd efgh ijkl mnop\n"),
            (["login", "ghost@alpha.example.com"], pw),
        ],
    )
    plain_ok, plain_wrong, dormant, suspended, ap_not_allowed, ghost = runs
    assert plain_ok.code == 0 and "would be let in" in plain_ok.out
    assert plain_wrong.code == 1 and "Wrong password" in plain_wrong.err
    assert dormant.code == 0, dormant
    assert suspended.code == 1 and "suspended" in suspended.err
    assert ap_not_allowed.code == 1 and "does not allow app passwords" in ap_not_allowed.err
    assert ghost.code == 1 and "ghost@alpha.example.com" in ghost.err

    # Enrolled in a brand that allows 2FA: the code is needed, checked and used once.
    needed = cli(db_url, "login", ann, input=pw)
    assert needed.code == 1 and "code is needed" in needed.err
    wrong = cli(db_url, "login", ann, "--code", wrong_code, input=pw)
    assert wrong.code == 1 and "code is wrong" in wrong.err
    malformed = cli(db_url, "login", ann, "--code", "12ab", input=pw)
    assert malformed.code == 1 and "6 digits" in malformed.err
    code = pyotp.TOTP(secret).now()
    good = cli(db_url, "login", ann, "--code", code, input=pw)
    assert good.code == 0, good
    replay = cli(db_url, "login", ann, "--code", code, input=pw)
    assert replay.code == 1 and "used already" in replay.err
    bad_pw_with_code = cli(db_url, "login", ann, "--code", pyotp.TOTP(secret).now(), input="nope\n")
    assert bad_pw_with_code.code == 1 and "Wrong password" in bad_pw_with_code.err
    assert user_row(db_url, ann).last_login_at is not None


def test_login_is_throttled_on_the_sixth_attempt_after_five_failures(db_url: str):
    setup_basic(get_engine(db_url))
    with scope(db_url, write=True) as s:
        make_user(s, dom(s, "alpha.example.com"), "ann")
    ann = "ann@alpha.example.com"
    # A success clears earlier failures.
    assert cli(db_url, "login", ann, input="wrong\n").code == 1
    assert cli(db_url, "login", ann, input=PASSWORD + "\n").code == 0
    failures = cli_many(db_url, [(["login", ann], f"wrong {i}\n") for i in range(5)])
    assert [r.code for r in failures] == [1] * 5
    assert all("Wrong password" in r.err for r in failures)
    with scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(LoginFailure)) == 5
    sixth = cli(db_url, "login", ann, input=PASSWORD + "\n")
    assert sixth.code == 1 and "Too many failed attempts" in sixth.err
    # Another mailbox is not affected.
    with scope(db_url, write=True) as s:
        make_user(s, dom(s, "alpha.example.com"), "other")
    assert cli(db_url, "login", "other@alpha.example.com", input=PASSWORD + "\n").code == 0


# --- reports, exports and the audit log ----------------------------------------------------


@dataclass(frozen=True)
class Spec:
    local: str
    domain: str
    brand: str | None = None  # user-level override
    status: str = "active"
    twofa: bool = False
    live_aps: int = 0
    revoked_aps: int = 0


BRANDS = {  # name: (allow_2fa, allow_user_disable_2fa, allow_app_passwords)
    "Alpha Mail": (True, True, True),
    "Beta Mail": (False, False, False),
    "Gamma Mail": (True, False, False),
    "Delta Mail": (False, False, True),
    "Empty Mail": (True, True, True),
}
DOMAINS = {  # name: (company brand, domain brand override)
    "a.example.com": ("Alpha Mail", None),
    "b.example.com": ("Beta Mail", None),
    "g.example.com": ("Alpha Mail", "Gamma Mail"),
    "d.example.com": ("Delta Mail", None),
}
SPECS = [
    Spec("a1", "a.example.com", twofa=True, live_aps=2),
    Spec("a2", "a.example.com", twofa=True, revoked_aps=1),
    Spec("a3", "a.example.com", live_aps=1, revoked_aps=2),
    Spec("a4", "a.example.com", status="suspended", twofa=True, live_aps=1),
    Spec("a5", "a.example.com", brand="Beta Mail", twofa=True, live_aps=1),
    Spec("a6", "a.example.com"),
    Spec("b1", "b.example.com", twofa=True, live_aps=3),
    Spec("b2", "b.example.com"),
    Spec("b3", "b.example.com", brand="Alpha Mail", twofa=True, live_aps=4),
    Spec("g1", "g.example.com", twofa=True, live_aps=1),
    Spec("g2", "g.example.com", twofa=True),
    Spec("g3", "g.example.com"),
    Spec("g4", "g.example.com", brand="Delta Mail", twofa=True, live_aps=2),
    Spec("d1", "d.example.com", twofa=True, live_aps=1, revoked_aps=1),
    Spec("d2", "d.example.com", live_aps=4),
    Spec("d3", "d.example.com", status="suspended", live_aps=2),
    Spec("d4", "d.example.com"),
]


def _effective(spec: Spec) -> str:
    company, domain_brand = DOMAINS[spec.domain]
    return spec.brand or domain_brand or company


def _expected_adoption(specs: list[Spec]) -> dict[str, dict]:
    """The adoption figures counted here, from the rows this test created."""
    out = {}
    for name, (a2, aud, aap) in BRANDS.items():
        mine = [x for x in specs if _effective(x) == name and x.status == "active"]
        users = len(mine)
        enrolled = sum(1 for x in mine if x.twofa)
        users_2fa = enrolled if a2 else 0
        users_ap = sum(1 for x in mine if x.live_aps) if aap else 0

        def pct(part: int, whole: int) -> float:
            return round(100 * part / whole, 1) if whole else 0.0

        out[name] = {
            "brand": name,
            "users": users,
            "users_2fa": users_2fa,
            "pct_2fa": pct(users_2fa, users),
            "users_2fa_dormant": 0 if a2 else enrolled,
            "users_app_passwords": users_ap,
            "pct_app_passwords": pct(users_ap, users),
            "app_passwords": sum(x.live_aps for x in mine) if aap else 0,
            "allow_2fa": a2,
            "allow_user_disable_2fa": aud,
            "allow_app_passwords": aap,
        }
    return out


def _load_report_data(db_url: str) -> None:
    setup_basic(get_engine(db_url))
    with scope(db_url, write=True) as s:
        brands = {b.name: b for b in s.scalars(select(Brand))}
        for name, (a2, aud, aap) in BRANDS.items():
            if name not in brands:
                brands[name] = make_brand(
                    s, name, allow_2fa=a2, allow_user_disable_2fa=aud, allow_app_passwords=aap
                )
        domains = {}
        for name, (company_brand, domain_brand) in DOMAINS.items():
            domains[name] = make_domain(
                s, brands[company_brand], name, domain_brand=brands[domain_brand] if domain_brand else None
            )
        for spec in SPECS:
            u = make_user(
                s,
                domains[spec.domain],
                spec.local,
                twofa=spec.twofa,
                status=spec.status,
                brand=brands[spec.brand] if spec.brand else None,
            )
            for i in range(spec.live_aps):
                make_app_password(s, u, f"Live {i}")
            for i in range(spec.revoked_aps):
                make_app_password(s, u, f"Old {i}", revoked=True)


def test_report_adoption_matches_an_independent_count(db_url: str):
    _load_report_data(db_url)
    expected = _expected_adoption(SPECS)
    # setup_basic's domains hold no users; their brands are Alpha and Beta (already in BRANDS).
    j = ("--format", "json")
    by_brand, default_by, one_brand, by_domain, as_csv, table, unknown = cli_many(
        db_url,
        [
            ["report", "adoption", *j],
            ["report", "adoption", "--by", "brand", *j],
            ["report", "adoption", "--brand", "gamma mail", *j],
            ["report", "adoption", "--by", "domain", *j],
            ["report", "adoption", "--format", "csv"],
            ["report", "adoption"],
            ["report", "adoption", "--brand", "Omega Mail"],
        ],
    )
    rows = by_brand.json()
    assert by_brand.code == 0
    for row in rows:
        assert (
            list(row)
            == list(ADOPTION_FIELDS)
            == [
                "brand",
                "users",
                "users_2fa",
                "pct_2fa",
                "users_2fa_dormant",
                "users_app_passwords",
                "pct_app_passwords",
                "app_passwords",
                "allow_2fa",
                "allow_user_disable_2fa",
                "allow_app_passwords",
            ]
        )
    assert {r["brand"]: r for r in rows} == expected
    # A few figures spelled out, so that a wrong count above cannot hide a wrong rule.
    assert expected["Alpha Mail"]["users"] == 5  # a1 a2 a3 a6 + b3 (override); a4 suspended
    assert expected["Alpha Mail"]["users_2fa"] == 3 and expected["Alpha Mail"]["pct_2fa"] == 60.0
    assert expected["Beta Mail"]["users_2fa_dormant"] == 2  # a5 and b1
    assert expected["Delta Mail"]["users_app_passwords"] == 3 and expected["Delta Mail"]["app_passwords"] == 7
    assert expected["Gamma Mail"]["pct_2fa"] == 66.7 and expected["Gamma Mail"]["app_passwords"] == 0
    assert expected["Empty Mail"]["users"] == 0 and expected["Empty Mail"]["pct_2fa"] == 0.0
    assert default_by.json() == rows
    assert one_brand.json() == [expected["Gamma Mail"]]

    # By domain: users counted per domain, each judged by its own effective brand.
    per_domain = {r["domain"]: r for r in by_domain.json()}
    for name in DOMAINS:
        mine = [x for x in SPECS if x.domain == name and x.status == "active"]
        row = per_domain[name]
        assert row["users"] == len(mine), name
        assert row["users_2fa"] == sum(1 for x in mine if x.twofa and BRANDS[_effective(x)][0]), name
        assert row["users_2fa_dormant"] == sum(1 for x in mine if x.twofa and not BRANDS[_effective(x)][0])
        assert row["app_passwords"] == sum(x.live_aps for x in mine if BRANDS[_effective(x)][2]), name

    csv_rows = as_csv.csv()
    assert list(csv_rows[0]) == list(ADOPTION_FIELDS)
    assert {r["brand"]: int(r["users"]) for r in csv_rows} == {k: v["users"] for k, v in expected.items()}
    assert table.code == 0 and "Gamma Mail" in table.out and "66.7" in table.out
    assert unknown.code == 1 and "Omega Mail" in unknown.err

    # By month: rebuilt from security events, so enrol one user through the command line.
    with scope(db_url, write=True) as s:
        make_user(s, dom(s, "a.example.com"), "new")
    assert cli(db_url, "users", "enroll-2fa", "new@a.example.com").code == 0
    month, month_brand = cli_many(
        db_url,
        [
            ["report", "adoption", "--by", "month", *j],
            ["report", "adoption", "--by", "month", "--brand", "Beta Mail", *j],
        ],
    )
    assert month.code == 0, month
    months = month.json()
    assert {"month", "brand", "enrolments", "users_2fa_end"} <= set(months[-1])
    from datetime import UTC, datetime

    assert months[-1]["month"] == datetime.now(UTC).strftime("%Y-%m")
    assert months[-1]["enrolments"] == 1 and months[-1]["users_2fa_end"] == 1
    assert sum(m["enrolments"] for m in months) == 1
    assert sum(m["enrolments"] for m in month_brand.json()) == 0
    after = {r["brand"]: r for r in cli(db_url, "report", "adoption", *j).json()}
    assert after["Alpha Mail"]["users"] == 6 and after["Alpha Mail"]["users_2fa"] == 4


def test_exports_write_safe_csv_files(db_url: str, tmp_path: Path):
    _load_report_data(db_url)
    with scope(db_url, write=True) as s:
        u = s.scalars(select(User).where(User.email == "a6@a.example.com")).one()
        u.display_name = '=HYPERLINK("http://evil.example")'
    assert cli(db_url, "brands", "set", "Beta Mail", "--allow-2fa", "--actor", "manager").code == 0
    users_csv, adoption_csv, audit_csv = tmp_path / "users.csv", tmp_path / "adoption.csv", tmp_path / "a.csv"
    domain_csv = tmp_path / "domain.csv"
    runs = cli_many(
        db_url,
        [
            ["export", "users", "--out", str(users_csv)],
            ["export", "adoption", "--out", str(adoption_csv)],
            ["export", "audit", "--out", str(audit_csv)],
            ["export", "adoption", "--by", "domain", "--out", str(domain_csv)],
        ],
    )
    assert [r.code for r in runs] == [0, 0, 0, 0], runs

    def read(path: Path) -> list[dict]:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh))

    users = read(users_csv)
    assert {"email", "display_name", "brand", "domain", "status", "twofa", "app_passwords"} <= set(users[0])
    assert len(users) == len(SPECS)
    by_email = {r["email"]: r for r in users}
    for spec in SPECS:
        row = by_email[f"{spec.local}@{spec.domain}"]
        assert row["brand"] == _effective(spec)
        assert row["status"] == spec.status
        assert int(row["app_passwords"]) == spec.live_aps
        a2 = BRANDS[_effective(spec)][0] or _effective(spec) == "Beta Mail"  # Beta now allows 2FA
        assert row["twofa"] == ("off" if not spec.twofa else "on" if a2 else "dormant")
    assert by_email["a6@a.example.com"]["display_name"].startswith("'=")
    assert "secret" not in users_csv.read_text(encoding="utf-8").lower()

    adoption = read(adoption_csv)
    assert list(adoption[0]) == list(ADOPTION_FIELDS)
    expected = _expected_adoption(SPECS)
    assert int(next(r for r in adoption if r["brand"] == "Delta Mail")["app_passwords"]) == 7
    assert {r["brand"]: int(r["users"]) for r in adoption} == {k: v["users"] for k, v in expected.items()}
    audit_rows = read(audit_csv)
    assert [r["action"] for r in audit_rows] == ["brand.switches_changed"]
    assert {"at", "actor", "action"} <= set(audit_rows[0]) and audit_rows[0]["actor"] == "manager"
    assert {r["domain"] for r in read(domain_csv)} == set(DOMAINS)
    assert not list(tmp_path.glob("*.part"))


def test_audit_listing(db_url: str):
    _brand_users(db_url)
    for flag in ("--no-allow-2fa", "--allow-2fa", "--no-allow-app-passwords"):
        assert cli(db_url, "brands", "set", "Alpha Mail", flag, "--actor", "manager").code == 0
    assert cli(db_url, "app-passwords", "revoke", "ann@alpha2.example.com", "--label", "Outlook",
               "--actor", "support").code == 1  # fmt: skip
    everything, limited, as_csv, table, by_actor = cli_many(
        db_url,
        [
            ["audit", "--format", "json"],
            ["audit", "--limit", "2", "--format", "json"],
            ["audit", "--format", "csv"],
            ["audit"],
            ["audit", "--actor", "nobody", "--format", "json"],
        ],
    )
    events = everything.json()
    assert len(events) == 3
    for e in events:
        assert {"at", "actor", "action", "object_key", "before", "after"} <= set(e)
    assert [e["action"] for e in events] == ["brand.switches_changed"] * 3
    newest = events[0]
    assert newest["before"]["allow_app_passwords"] is True and newest["after"]["allow_app_passwords"] is False
    assert limited.json() == events[:2]
    assert len(as_csv.csv()) == 3 and as_csv.csv()[0]["actor"] == "manager"
    assert table.code == 0 and "brand.switches_changed" in table.out
    assert by_actor.json() == []


# --- operators -----------------------------------------------------------------------------


def test_operators_commands(db_url: str):
    setup_basic(get_engine(db_url))
    new_pw = "a new long password\n"
    added = cli(db_url, "operators", "add", "carol", "--role", "support", "--display-name", "Carol",
                "--password-stdin", "--actor", "admin", input=new_pw)  # fmt: skip
    assert added.code == 0, added
    runs = cli_many(
        db_url,
        [
            (
                ["operators", "add", "carol", "--role", "support", "--password-stdin", "--actor", "admin"],
                new_pw,
            ),
            (
                ["operators", "add", "dave", "--role", "support", "--password-stdin", "--actor", "admin"],
                "short\n",
            ),
            (
                ["operators", "add", "dave", "--role", "wizard", "--password-stdin", "--actor", "admin"],
                new_pw,
            ),
            (
                ["operators", "add", "dave", "--role", "support", "--password-stdin", "--actor", "analyst"],
                new_pw,
            ),
            (
                [
                    "operators",
                    "add",
                    "Bad Name!",
                    "--role",
                    "support",
                    "--password-stdin",
                    "--actor",
                    "admin",
                ],
                new_pw,
            ),
            (["operators", "add", "dave", "--role", "support", "--actor", "admin"], new_pw),
            ["operators", "list", "--format", "json"],
            ["operators", "list", "--format", "csv"],
            ["operators", "totp", "admin"],
            ["operators", "totp", "carol"],
            ["operators", "totp", "ghost"],
        ],
    )
    dup, short, role, analyst, bad_name, no_stdin, listed, listed_csv, code, no_totp, ghost = runs
    assert dup.code == 1 and "exists already" in dup.err
    assert short.code == 2 and "10 characters" in short.err
    assert role.code == 2 and "wizard" in role.err
    assert analyst.code == 1 and "Analyst" in analyst.err
    assert bad_name.code == 2
    assert no_stdin.code == 2 and "--password-stdin" in no_stdin.err
    ops = {o["username"]: o for o in listed.json()}
    assert set(ops) == {"admin", "support", "manager", "analyst", "carol"}
    assert (ops["carol"]["role"], ops["carol"]["active"], ops["carol"]["totp_enrolled"]) == (
        "support",
        True,
        False,
    )
    assert "password_hash" not in ops["carol"] and "totp_secret" not in ops["carol"]
    assert {r["username"] for r in listed_csv.csv()} == set(ops)
    assert code.code == 0 and re.fullmatch(r"\d{6}", code.out.strip())
    assert no_totp.code == 1 and "no authenticator" in no_totp.err
    assert ghost.code == 1 and "ghost" in ghost.err

    with scope(db_url) as s:
        old_hash = s.scalars(select(Operator.password_hash).where(Operator.username == "carol")).one()
    passwd, passwd_short, reset_totp, deactivate = cli_many(
        db_url,
        [
            (["operators", "passwd", "carol", "--password-stdin"], "another long password\n"),
            (["operators", "passwd", "manager", "--password-stdin"], "short\n"),
            ["operators", "reset-totp", "manager"],
            ["operators", "deactivate", "carol"],
        ],
    )
    assert passwd.code == 0 and passwd_short.code == 2
    assert reset_totp.code == 0 and deactivate.code == 0
    with scope(db_url) as s:
        ops_rows = {o.username: o for o in s.scalars(select(Operator))}
        assert ops_rows["carol"].password_hash != old_hash and ops_rows["carol"].active is False
        assert ops_rows["manager"].totp_secret is None
    after_reset = cli(db_url, "operators", "totp", "manager")
    assert after_reset.code == 1
    acting_deactivated = cli(db_url, "users", "reset-2fa", "x@alpha.example.com", "--actor", "carol",
                             "--reason", "lost phone")  # fmt: skip
    assert acting_deactivated.code == 1 and "deactivated" in acting_deactivated.err
    last_admin = cli(db_url, "operators", "deactivate", "admin")
    assert last_admin.code == 1 and "last active administrator" in last_admin.err
    actions = audit_actions(db_url)
    for action in (
        "operator.created",
        "operator.password_changed",
        "operator.totp_reset",
        "operator.deactivated",
    ):
        assert action in actions


# --- demo data -----------------------------------------------------------------------------


def test_seed_then_refuse_then_replace(db_url: str):
    first = cli(db_url, "seed", "--brands", "5", "--users", "200")
    assert first.code == 0, first
    with scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(User)) == 200
        assert s.scalar(select(func.count()).select_from(Brand)) == 5
        usernames = set(s.scalars(select(Operator.username)))
    assert {"admin", "support", "manager", "analyst"} <= usernames
    again = cli(db_url, "seed", "--brands", "5", "--users", "200")
    assert again.code == 1 and "--replace" in again.err
    bad = cli(db_url, "seed", "--brands", "0")
    assert bad.code == 2
    replaced = cli(db_url, "seed", "--brands", "3", "--users", "50", "--replace")
    assert replaced.code == 0, replaced
    with scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(User)) == 50
        assert s.scalar(select(func.count()).select_from(Brand)) == 3
    rows = cli(db_url, "report", "adoption", "--format", "json").json()
    assert sum(r["users"] for r in rows) <= 50 and len(rows) == 3
