"""The command line: ``python -m core``. A thin adapter over the same services as the pages.

Exit codes: 0 done; 1 refused by a rule (cap reached, conflict, role, not found); 2 bad
input. The reason goes to stderr as one plain sentence, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session
from typer._click.exceptions import NoArgsIsHelpError
from typer.exceptions import TyperException

from core.access import operators, permissions
from core.access.permissions import Actor
from core.brands import switches
from core.cli.output import FORMATS, emit
from core.mailboxes import app_passwords, twofa, users
from core.platform.config import SettingsError
from core.platform.db import get_engine, session_scope, upgrade_schema
from core.platform.errors import BadInput, CoreError
from core.reporting import adoption
from core.reporting.search import SEARCH_LIMIT_MAX, search_users
from core.reporting.search_query import UserSearch

if TYPE_CHECKING:
    from core.brands.css.report import CssFinding

app = typer.Typer(add_completion=False, no_args_is_help=True, help="MAC Security Console command line.")
brands_app = typer.Typer(no_args_is_help=True, help="Brands and their security switches.")
users_app = typer.Typer(no_args_is_help=True, help="Mailboxes, their 2FA and sign-in.")
import_app = typer.Typer(no_args_is_help=True, help="Load data from files.")
ap_app = typer.Typer(no_args_is_help=True, help="App-specific passwords.")
notify_app = typer.Typer(no_args_is_help=True, help="Customer notifications.")
report_app = typer.Typer(no_args_is_help=True, help="Reports on screen.")
ops_app = typer.Typer(no_args_is_help=True, help="Operators of the console and their roles.")
app.add_typer(brands_app, name="brands")
app.add_typer(users_app, name="users")
app.add_typer(import_app, name="import")
app.add_typer(ap_app, name="app-passwords")
app.add_typer(notify_app, name="notify")
app.add_typer(report_app, name="report")
app.add_typer(ops_app, name="operators")

FormatOpt = Annotated[str, typer.Option("--format", help="table, csv or json.")]
ActorOpt = Annotated[str, typer.Option("--actor", help="The acting operator's username.")]


class Exit(Exception):
    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def fail(message: str, code: int = 2) -> None:
    raise Exit(code, message)


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}.")
    return fmt


@contextmanager
def session(write: bool = False) -> Iterator[Session]:
    with session_scope(get_engine(), write=write) as s:
        yield s


def acting(s: Session, username: str | None) -> Actor:
    """The operator named by --actor (existing and active), or the CLI itself."""
    if username is None:
        return Actor.cli()
    return operators.actor_for(s, username)


def read_stdin_secret(what: str) -> str:
    if sys.stdin is None or sys.stdin.closed:
        fail(f"Give the {what} on standard input.")
    text = sys.stdin.readline().rstrip("\r\n")
    if not text:
        fail(f"No {what} on standard input: pipe it in, e.g. `echo ... | python -m core ...`.")
    return text


# --- schema and demo data -----------------------------------------------------------------


@app.command()
def init() -> None:
    """Create or upgrade the schema to the newest version (SQLite or PostgreSQL)."""
    upgrade_schema()
    typer.echo("Schema is up to date.")


@app.command()
def keygen() -> None:
    """Print a new key for MAC_SECRET_KEY."""
    from cryptography.fernet import Fernet

    typer.echo(Fernet.generate_key().decode())


@app.command()
def seed(
    brands_n: Annotated[int, typer.Option("--brands", min=1, max=100_000)] = 40,
    users_n: Annotated[int, typer.Option("--users", min=0, max=20_000_000)] = 20_000,
    seed_n: Annotated[int, typer.Option("--seed")] = 7,
    replace: Annotated[bool, typer.Option("--replace", help="Delete all data first.")] = False,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing when users exist.")] = False,
) -> None:
    """Load the deterministic demo data set."""
    from core.demo.seed import seed_demo

    engine = get_engine()
    if if_empty:
        with session() as s:
            if users.count_all_users(s) > 0:
                typer.echo("The database has data already; demo data not loaded.")
                return
    if not sys.stderr.isatty():  # scripts and cron: no progress bar, stderr keeps to the reason
        summary = seed_demo(engine=engine, brands=brands_n, users=users_n, seed=seed_n, replace=replace)
    else:
        with typer.progressbar(length=100, label="Loading demo data", file=sys.stderr) as bar:
            done = [0]

            def progress(_stage: str, fraction: float) -> None:
                step = int(fraction * 100) - done[0]
                if step > 0:
                    bar.update(step)
                    done[0] += step

            summary = seed_demo(
                engine=engine,
                brands=brands_n,
                users=users_n,
                seed=seed_n,
                replace=replace,
                progress=progress,
            )
    typer.echo(
        f"Loaded {summary.users:,} users in {summary.brands:,} brands "
        f"({summary.users_2fa_enrolled:,} enrolled in 2FA, {summary.app_passwords:,} app passwords) "
        f"in {summary.seconds:.1f} s."
    )


# --- brands --------------------------------------------------------------------------------

BRAND_LIST_FIELDS = (
    "name",
    *switches.SWITCHES,
    "version",
    "users",
    "users_2fa",
    "pct_2fa",
    "pct_app_passwords",
)


@brands_app.command("list")
def brands_list(fmt: FormatOpt = "table") -> None:
    """Every brand with its switches and adoption."""
    check_format(fmt)
    with session() as s:
        emit(switches.list_brands(s), fmt, BRAND_LIST_FIELDS)


@brands_app.command("show")
def brands_show(brand: str, fmt: FormatOpt = "table") -> None:
    """One brand: switches, login CSS, version and adoption figures."""
    check_format(fmt)
    with session() as s:
        emit(switches.brand_detail(s, brand), fmt)


@brands_app.command("set")
def brands_set(
    brand: str,
    actor: ActorOpt,
    allow_2fa: Annotated[bool | None, typer.Option("--allow-2fa/--no-allow-2fa")] = None,
    allow_user_disable_2fa: Annotated[
        bool | None, typer.Option("--allow-user-disable-2fa/--no-allow-user-disable-2fa")
    ] = None,
    allow_app_passwords: Annotated[
        bool | None, typer.Option("--allow-app-passwords/--no-allow-app-passwords")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the impact, change nothing.")] = False,
    version: Annotated[
        int | None, typer.Option("--version", help="Refuse if the brand is not at this version.")
    ] = None,
) -> None:
    """Set a brand's switches, applied to the whole brand at once."""
    change = switches.SwitchChange(allow_2fa, allow_user_disable_2fa, allow_app_passwords)
    if not change.as_dict():
        fail(
            "Name at least one switch: --allow-2fa, --allow-user-disable-2fa or "
            "--allow-app-passwords (or their --no- forms)."
        )
    with session(write=not dry_run) as s:
        who = acting(s, actor)
        permissions.authorize(who, "brand.update")
        if dry_run:
            impact = switches.preview_impact(s, brand, change)
            typer.echo(f"Dry run for {impact.brand}; nothing was changed.")
        else:
            impact = switches.set_switches(s, actor=who, name=brand, change=change, expected_version=version)
            typer.echo(f"Updated {impact.brand}." if impact.changed else f"{impact.brand} unchanged.")
    for line in impact.sentences:
        typer.echo(f"- {line}")


@brands_app.command("css")
def brands_css(
    brand: str,
    actor: ActorOpt,
    file: Annotated[Path, typer.Option("--file", help="The CSS file; - for standard input.")],
) -> None:
    """Check and save a brand's custom login CSS (styles the 2FA pop-up)."""
    if str(file) == "-":
        css = sys.stdin.read()
    else:
        if not file.is_file():
            fail(f"{file}: no such file.")
        try:
            css = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            fail(f"{file}: not UTF-8 text.")
    from core.brands.css.report import CssRejected

    try:
        with session(write=True) as s:
            who = acting(s, actor)
            _brand, warnings = switches.save_css(s, actor=who, name=brand, css=css)
    except CssRejected as exc:
        errors = exc.report.errors
        reasons = "; ".join(_css_reason(f) for f in errors)
        fail(f"The CSS was refused, nothing was saved ({len(errors)} error(s)): {reasons}.")
    typer.echo(f"Saved the login CSS of {_brand.name} (version {_brand.version}).")
    for w in warnings:
        typer.echo(f"warning: {_css_reason(w)}.", err=True)


def _css_reason(finding: CssFinding) -> str:
    """One finding as "line L, column C: message", on one line, without its full stop."""
    message = " ".join(finding.message.split()).removesuffix(".")
    return f"line {finding.line}, column {finding.column}: {message}"


# --- users ---------------------------------------------------------------------------------

SEARCH_FIELDS = ("email", "display_name", "brand", "domain", "status", "twofa", "app_passwords")
SHOW_FIELDS = ("email", "display_name", "brand", "domain", "status", "twofa", "app_passwords")


@users_app.command("add")
def users_add(
    email: str,
    display_name: Annotated[str, typer.Option("--display-name")],
    password: Annotated[str | None, typer.Option("--password")] = None,
    brand: Annotated[str | None, typer.Option("--brand", help="Brand override for this mailbox.")] = None,
    actor: Annotated[str | None, typer.Option("--actor")] = None,
) -> None:
    """Add a mailbox to an existing domain."""
    with session(write=True) as s:
        user = users.add_user(
            s, actor=acting(s, actor), email=email, display_name=display_name, password=password, brand=brand
        )
    typer.echo(f"Added {user.email}.")


@users_app.command("search")
def users_search(
    text: Annotated[str, typer.Argument(help="Any fragment of an address.")] = "",
    brand: Annotated[str | None, typer.Option("--brand")] = None,
    domain: Annotated[str | None, typer.Option("--domain")] = None,
    twofa: Annotated[str | None, typer.Option("--twofa", help="on, off or dormant.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=SEARCH_LIMIT_MAX)] = 50,
    fmt: FormatOpt = "table",
) -> None:
    """Find mailboxes by any fragment of the address."""
    check_format(fmt)
    if twofa is not None and twofa not in ("on", "off", "dormant"):
        fail(f"--twofa must be on, off or dormant, not {twofa!r}.")
    with session() as s:
        rows = search_users(s, UserSearch(text=text, brand=brand, domain=domain, twofa=twofa), limit=limit)
    emit(rows, fmt, SEARCH_FIELDS)


@users_app.command("show")
def users_show(email: str, fmt: FormatOpt = "table") -> None:
    """One mailbox: brand, 2FA state and app passwords."""
    check_format(fmt)
    with session() as s:
        d = users.user_detail(s, email)
    d["app_passwords"] = [
        {k: ap[k] for k in ("label", "created_at", "last_used_at", "state")} for ap in d["app_passwords"]
    ]
    if fmt == "table":
        emit({k: d[k] for k in SHOW_FIELDS if k != "app_passwords"}, fmt)
        typer.echo("app passwords:")
        emit(d["app_passwords"], fmt, ("label", "created_at", "last_used_at", "state"))
    else:
        emit(d, fmt, SHOW_FIELDS)


@users_app.command("enroll-2fa")
def users_enroll(email: str) -> None:
    """Enrol a mailbox in 2FA and print its otpauth:// URI once."""
    with session(write=True) as s:
        enrolment = twofa.enroll(s, actor=Actor.customer(email.strip().lower()), email=email)
    typer.echo(enrolment.uri)


@users_app.command("reset-2fa")
def users_reset(
    email: str,
    actor: ActorOpt,
    reason: Annotated[
        str, typer.Option("--reason", help="lost phone, new phone, reset authenticator, other")
    ],
) -> None:
    """Disable 2FA for a user who lost their device, and queue the customer's notice."""
    with session(write=True) as s:
        result = twofa.reset(s, actor=acting(s, actor), email=email, reason=reason)
    typer.echo(f"2FA is off for {result.email} (reason: {result.reason}). The customer's notice is queued:")
    typer.echo(f"Subject: {result.notification_subject}\n\n{result.notification_body}")


# --- imports -------------------------------------------------------------------------------


@import_app.command("users")
def import_users_cmd(
    file: Path,
    actor: Annotated[str | None, typer.Option("--actor")] = None,
) -> None:
    """Load mailboxes from a CSV (email, display_name, status[, brand]): all rows or none."""
    if not file.is_file():
        fail(f"{file}: no such file.")
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        fail(f"{file}: not UTF-8 text (byte {exc.start}).")
    with session(write=True) as s:
        result = users.import_users(s, actor=acting(s, actor), source=text, name=str(file))
    typer.echo(f"Imported {result.rows:,} mailboxes into {result.domains:,} domains.")


# --- app passwords -------------------------------------------------------------------------


@ap_app.command("create")
def ap_create(email: str, label: Annotated[str, typer.Option("--label")]) -> None:
    """Create an app password for a device and print it once."""
    with session(write=True) as s:
        new = app_passwords.create(s, actor=Actor.customer(email.strip().lower()), email=email, label=label)
    typer.echo(new.password)
    typer.echo(f"This is the only time the app password for '{new.label}' is shown.", err=True)


@ap_app.command("revoke")
def ap_revoke(email: str, label: Annotated[str, typer.Option("--label")], actor: ActorOpt) -> None:
    """Revoke one app password; the others keep working."""
    with session(write=True) as s:
        app_passwords.revoke(s, actor=acting(s, actor), email=email, label=label)
    typer.echo(f"Revoked the app password '{label}' of {email.strip().lower()}.")


# --- login ---------------------------------------------------------------------------------


@app.command()
def login(
    email: str,
    code: Annotated[str | None, typer.Option("--code")] = None,
    app_password: Annotated[
        bool, typer.Option("--app-password", help="Check an app password (IMAP/SMTP).")
    ] = False,
) -> None:
    """Would the platform let this user in? The password (or app password) comes on stdin."""
    from core.mailboxes.mailbox_login import check_login

    secret = read_stdin_secret("app password" if app_password else "password")
    with session(write=True) as s:
        outcome = check_login(s, email=email, secret=secret, code=code, app_password=app_password)
    if not outcome.ok:
        fail(outcome.message, 1)
    typer.echo(outcome.message)


# --- notifications -------------------------------------------------------------------------


@notify_app.command("send")
def notify_send() -> None:
    """Deliver the queued customer notifications (SMTP_URL, or .eml files in data/outbox/)."""
    from core.notices import notify

    report = notify.send_pending()
    typer.echo(f"Sent {report.sent}, failed {report.failed} (will retry later), skipped {report.skipped}.")
    if report.failed:
        raise Exit(1, "Some notifications could not be sent; they stay queued and are retried later.")


@notify_app.command("list")
def notify_list(
    pending: Annotated[bool, typer.Option("--pending", help="Only those not sent yet.")] = False,
    fmt: FormatOpt = "table",
) -> None:
    """The queued and sent customer notifications."""
    from core.notices import notify

    check_format(fmt)
    with session() as s:
        rows = notify.list_notifications(s, pending_only=pending)
    emit(rows, fmt, ("id", "created_at", "recipient", "kind", "status", "attempts", "sent_at", "last_error"))


# --- reports, exports and the audit log ----------------------------------------------------

BY_CHOICES = ("brand", "domain", "month")


def _adoption_rows(s: Session, by: str, brand: str | None) -> tuple[list[dict], tuple[str, ...]]:
    from core.reporting import history

    if by == "brand":
        return adoption.adoption_by_brand(s, adoption.AdoptionFilter(brand=brand)), adoption.ADOPTION_FIELDS
    if by == "domain":
        return adoption.adoption_by_domain(
            s, adoption.AdoptionFilter(brand=brand)
        ), adoption.ADOPTION_DOMAIN_FIELDS
    return history.adoption_by_month(s, brand=brand), history.MONTH_FIELDS


@report_app.command("adoption")
def report_adoption(
    by: Annotated[str, typer.Option("--by", help="brand, domain or month.")] = "brand",
    brand: Annotated[str | None, typer.Option("--brand")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """2FA and app-password adoption by brand, domain or month."""
    check_format(fmt)
    if by not in BY_CHOICES:
        fail(f"--by must be one of {', '.join(BY_CHOICES)}, not {by!r}.")
    with session() as s:
        if brand:
            switches.get_brand(s, brand)
        rows, fields = _adoption_rows(s, by, brand)
    emit(rows, fmt, fields)


@app.command()
def export(
    kind: Annotated[str, typer.Argument(help="users, adoption or audit.")],
    out: Annotated[Path, typer.Option("--out", help="The CSV file to write.")],
    by: Annotated[str, typer.Option("--by", help="For adoption: brand, domain or month.")] = "brand",
    text: Annotated[str, typer.Option("--search", help="For users: an address fragment.")] = "",
    brand: Annotated[str | None, typer.Option("--brand")] = None,
    twofa: Annotated[str | None, typer.Option("--twofa")] = None,
    since: Annotated[str | None, typer.Option("--since", help="For audit: YYYY-MM-DD (UTC).")] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="For audit: YYYY-MM-DD (UTC), exclusive.")
    ] = None,
    bom: Annotated[bool, typer.Option("--bom", help="Start with a byte-order mark, for Excel.")] = False,
) -> None:
    """Write a CSV report that opens safely in a spreadsheet."""
    from core.platform.audit import AuditFilter
    from core.reporting.exports import files

    if kind not in ("users", "adoption", "audit"):
        fail(f"The report must be users, adoption or audit, not {kind!r}.")
    if by not in BY_CHOICES:
        fail(f"--by must be one of {', '.join(BY_CHOICES)}, not {by!r}.")
    if twofa is not None and twofa not in ("on", "off", "dormant"):
        fail(f"--twofa must be on, off or dormant, not {twofa!r}.")
    if not out.parent.is_dir():
        fail(f"{out.parent}: no such folder for --out.")
    if out.is_dir():
        fail(f"{out}: --out names a folder; give a file name.")
    search = UserSearch(text=text, brand=brand, twofa=twofa)
    audit_filter = AuditFilter(brand=brand, since=_date(since, "--since"), until=_date(until, "--until"))
    if brand and kind == "adoption":
        with session() as s:
            switches.get_brand(s, brand)
    tmp = out.with_name(out.name + ".part")
    try:
        with tmp.open("wb") as fh:
            rows = files.write_csv(
                fh,
                kind,
                engine=get_engine(),
                search=search,
                audit_filter=audit_filter,
                by=by,
                brand=brand if kind == "adoption" else None,
                bom=bom,
            )
        tmp.replace(out)
    except OSError as exc:
        fail(f"{out}: cannot write the file ({exc.strerror or exc}).", 1)
    finally:
        tmp.unlink(missing_ok=True)
    typer.echo(f"Wrote {rows:,} rows to {out}.")


def _date(value: str | None, option: str) -> Any:
    from datetime import UTC, datetime

    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        fail(f"{option} must be a date as YYYY-MM-DD, not {value!r}.")


@app.command("audit")
def audit_cmd(
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000)] = 50,
    actor: Annotated[str | None, typer.Option("--actor", help="Only this operator's events.")] = None,
    action: Annotated[str | None, typer.Option("--action")] = None,
    brand: Annotated[str | None, typer.Option("--brand")] = None,
    user: Annotated[str | None, typer.Option("--user")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """The newest audit events."""
    from core.platform.audit import AuditFilter, list_events

    check_format(fmt)
    with session() as s:
        rows = list_events(
            s, AuditFilter(actor=actor, action=action, brand=brand, user_email=user), limit=limit
        )
    fields = ("id", "at", "actor", "action", "object_type", "object_key", "brand", "user", "reason")
    emit(rows, fmt, (*fields, "before", "after") if fmt != "table" else fields)


# --- operators -----------------------------------------------------------------------------


def _new_password(password_stdin: bool) -> str:
    if password_stdin:
        return read_stdin_secret("password")
    if not sys.stdin.isatty():
        fail("No terminal to ask for the password: use --password-stdin.")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@ops_app.command("add")
def ops_add(
    username: str,
    role: Annotated[str, typer.Option("--role", help="analyst, support, account_manager or admin.")],
    display_name: Annotated[str, typer.Option("--display-name")] = "",
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
    actor: Annotated[str | None, typer.Option("--actor")] = None,
) -> None:
    """Add an operator (the first one needs no --actor)."""
    operators.check_username(username)
    operators.check_role(role)
    password = _new_password(password_stdin)
    with session(write=True) as s:
        op = operators.add_operator(
            s,
            actor=acting(s, actor),
            username=username,
            role=role,
            password=password,
            display_name=display_name,
        )
    typer.echo(f"Added operator {op.username} ({role}); they set up their authenticator at first sign-in.")


@ops_app.command("list")
def ops_list(fmt: FormatOpt = "table") -> None:
    """Every operator with role and state."""
    check_format(fmt)
    with session() as s:
        emit(operators.list_operators(s), fmt)


@ops_app.command("passwd")
def ops_passwd(
    username: str, password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False
) -> None:
    """Set an operator's password."""
    password = _new_password(password_stdin)
    with session(write=True) as s:
        operators.change_password(s, actor=Actor.cli(), username=username, password=password)
    typer.echo(f"Password changed for {username}.")


@ops_app.command("deactivate")
def ops_deactivate(username: str) -> None:
    """Deactivate an operator (never the last active administrator)."""
    with session(write=True) as s:
        operators.deactivate(s, actor=Actor.cli(), username=username)
    typer.echo(f"Deactivated {username}.")


@ops_app.command("reset-totp")
def ops_reset_totp(username: str) -> None:
    """Remove an operator's authenticator; they enrol again at the next sign-in."""
    with session(write=True) as s:
        operators.reset_totp(s, actor=Actor.cli(), username=username)
    typer.echo(f"Authenticator removed for {username}; they set up a new one at the next sign-in.")


@ops_app.command("totp")
def ops_totp(username: str) -> None:
    """Print an operator's current code (demo and tests; needs the database's key)."""
    with session() as s:
        typer.echo(operators.current_totp(s, username))


@ops_app.command("set-role")
def ops_set_role(username: str, role: Annotated[str, typer.Option("--role")], actor: ActorOpt) -> None:
    """Change an operator's role (an administrator's act)."""
    with session(write=True) as s:
        operators.set_role(s, actor=acting(s, actor), username=username, role=role)
    typer.echo(f"{username} is now {role}.")


# --- entry point ---------------------------------------------------------------------------


def _explain_db_error(exc: Exception) -> str:
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    text = lines[0].strip() if lines else type(exc).__name__
    if "no such table" in text or ("does not exist" in text and "relation" in text):
        return "The database has no schema yet: run `python -m core init` first."
    if isinstance(exc, IntegrityError):
        return f"The database refused the change ({text}); nothing was written."
    if isinstance(exc, OperationalError):
        return f"The database cannot be reached or is busy ({text}); nothing was changed. Try again."
    return f"The database refused the request ({text}); nothing was changed."


def _one_line(text: str) -> str:
    """A message as one line: the reason goes to stderr as one plain sentence."""
    return " ".join(str(text).split())


def _usage_message(exc: TyperException) -> str:
    text = _one_line(exc.format_message()) or "The command line is not valid."
    return f"{text} (see `python -m core --help`)"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0 done, 1 refused, 2 bad input).

    Nothing escapes as a traceback: every failure ends as one sentence on stderr.
    """
    run: Callable[..., Any] = app
    try:
        rv = run(args=argv, prog_name="python -m core", standalone_mode=False)
    except Exit as exc:
        if exc.message:
            typer.echo(exc.message, err=True)
        return exc.code
    except BadInput as exc:
        typer.echo(_one_line(str(exc)), err=True)
        for p in exc.problems[20:]:
            typer.echo(f"  {_one_line(p)}", err=True)
        return 2
    except CoreError as exc:
        typer.echo(_one_line(str(exc)), err=True)
        return exc.exit_code
    except SettingsError as exc:
        typer.echo(_one_line(str(exc)), err=True)
        return 2
    except ArgumentError as exc:  # DATABASE_URL that is not a database URL
        typer.echo(f"DATABASE_URL is not a usable database URL ({_one_line(str(exc))}).", err=True)
        return 2
    except DBAPIError as exc:
        typer.echo(_explain_db_error(exc), err=True)
        return 1
    except NoArgsIsHelpError as exc:  # a group named without a command: show its help
        typer.echo(exc.format_message())
        typer.echo("Name a command (see the list above).", err=True)
        return 2
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        return 1
    except TyperException as exc:  # the vendored click's usage errors (exit_code 2) and others
        typer.echo(_usage_message(exc), err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        return 130
    except Exception as exc:  # anything unforeseen: still one sentence, never a traceback
        typer.echo(f"Unexpected error: {type(exc).__name__}: {_one_line(str(exc))}", err=True)
        return 1
    return rv if isinstance(rv, int) else 0
