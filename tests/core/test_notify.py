"""core.notify against a real SQLite file and a real SMTP server on loopback."""

from __future__ import annotations

import email
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.engine import Engine

from core import notify
from core.config import Settings
from core.db import get_engine, session_scope, upgrade_schema
from core.errors import BadInput
from core.models import AuditEvent, Brand, Company, Domain, Notification, User, utcnow

SENDER = "security@mail.example.com"


# --- fixtures -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Collector:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(msg)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


class SmtpServer:
    def __init__(self, port: int | None = None, **smtp_kwargs) -> None:
        self.port = port or free_port()
        self.handler = Collector()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **smtp_kwargs)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{tmp_path}/t.db"
    engine = get_engine(url)
    upgrade_schema(url)
    yield url, engine
    engine.dispose()


def make_settings(url: str, tmp_path: Path, smtp_url: str | None = None) -> Settings:
    return Settings(
        database_url=url,
        data_dir=tmp_path,
        secret_key=Fernet.generate_key().decode(),
        smtp_url=smtp_url,
        smtp_from=SENDER,
    )


def make_user(engine: Engine, email_address: str = "ann@example.com") -> int:
    """A brand, company, domain and user, enough for the foreign keys."""
    local, _, domain_name = email_address.partition("@")
    with session_scope(engine, write=True) as s:
        brand = Brand(name=f"Brand {email_address}")
        s.add(brand)
        s.flush()
        company = Company(name=f"Company {email_address}", brand_id=brand.id)
        s.add(company)
        s.flush()
        domain = Domain(name=f"{local}.{domain_name}", company_id=company.id)
        s.add(domain)
        s.flush()
        user = User(email=email_address, domain_id=domain.id)
        s.add(user)
        s.flush()
        assert user.id is not None
        return user.id


def queue_one(
    engine: Engine,
    user_id: int,
    *,
    recipient: str = "ann@example.com",
    subject: str = "2FA was turned off",
    body: str = "Support turned off two-factor sign-in for your mailbox.\n",
    kind: str = "2fa_reset",
) -> int:
    with session_scope(engine, write=True) as s:
        row = notify.queue(s, user_id=user_id, recipient=recipient, kind=kind, subject=subject, body=body)
        s.flush()
        assert row.id is not None
        return row.id


def get_row(engine: Engine, notification_id: int) -> Notification:
    with session_scope(engine) as s:
        row = s.get(Notification, notification_id)
        assert row is not None
        return row


def audit_events(engine: Engine) -> list[AuditEvent]:
    with session_scope(engine) as s:
        return list(s.execute(select(AuditEvent).where(AuditEvent.action == "notification.sent")).scalars())


# --- queue ----------------------------------------------------------------------------


def test_queue_adds_a_pending_row_in_the_callers_transaction(db) -> None:
    _, engine = db
    user_id = make_user(engine)
    nid = queue_one(engine, user_id)
    row = get_row(engine, nid)
    assert (row.status, row.attempts, row.sent_at, row.last_error) == ("pending", 0, None, None)

    # Rolled back with the caller's change: no row.
    with pytest.raises(RuntimeError), session_scope(engine, write=True) as s:
        notify.queue(s, user_id=user_id, recipient="ann@example.com", kind="k", subject="s", body="b")
        raise RuntimeError("the change failed")
    with session_scope(engine) as s:
        assert len(notify.list_notifications(s)) == 1


def test_queue_refuses_header_injection(db) -> None:
    _, engine = db
    user_id = make_user(engine)
    with pytest.raises(BadInput), session_scope(engine, write=True) as s:
        notify.queue(
            s, user_id=user_id, recipient="ann@example.com", kind="k", subject="a\nBcc: x@y", body=""
        )
    with pytest.raises(BadInput), session_scope(engine, write=True) as s:
        notify.queue(s, user_id=user_id, recipient="a@b.com, c@d.com", kind="k", subject="s", body="")


# --- SMTP delivery --------------------------------------------------------------------


def test_delivers_through_real_smtp_once_and_audits(db, tmp_path) -> None:
    url, engine = db
    user_id = make_user(engine)
    body = "Support turned off two-factor sign-in for your mailbox.\nCall us if this was not you.\n"
    nid = queue_one(engine, user_id, body=body)

    with SmtpServer() as server:
        settings = make_settings(url, tmp_path, server.url)
        report = notify.send_pending(settings=settings, engine=engine)
        assert (report.sent, report.failed, report.skipped) == (1, 0, 0)
        assert report.messages == [notify.MessageOutcome(id=nid, recipient="ann@example.com", outcome="sent")]

        assert len(server.handler.messages) == 1
        msg = server.handler.messages[0]
        assert msg["To"] == "ann@example.com"
        assert msg["From"] == SENDER
        assert msg["Subject"] == "2FA was turned off"
        assert msg["Date"] and msg["Message-ID"]
        assert msg.get_content_type() == "text/plain"
        assert msg.get_content().replace("\r\n", "\n") == body  # SMTP carries CRLF
        assert server.handler.envelopes[0] == (SENDER, ["ann@example.com"])

        row = get_row(engine, nid)
        assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None
        assert row.last_error is None

        events = audit_events(engine)
        assert len(events) == 1
        ev = events[0]
        assert (ev.actor, ev.action, ev.object_type, ev.object_key, ev.user_id) == (
            "notify",
            "notification.sent",
            "notification",
            "ann@example.com",
            user_id,
        )
        assert ev.brand_id is not None
        assert "Call us" not in repr((ev.before, ev.after, ev.reason))

        # Never twice: a second run finds nothing to do.
        again = notify.send_pending(settings=settings, engine=engine, now=utcnow() + timedelta(days=1))
        assert (again.sent, again.failed, again.skipped, again.messages) == (0, 0, 0, [])
        assert len(server.handler.messages) == 1
        assert len(audit_events(engine)) == 1


def test_smtp_auth_user_and_password(db, tmp_path) -> None:
    url, engine = db
    user_id = make_user(engine)
    queue_one(engine, user_id)
    seen: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"p@ss:word")

    with SmtpServer(authenticator=authenticator, auth_require_tls=False) as server:
        smtp_url = f"smtp://mailer:p%40ss%3Aword@127.0.0.1:{server.port}"
        report = notify.send_pending(settings=make_settings(url, tmp_path, smtp_url), engine=engine)
        assert report.sent == 1
        assert seen == [(b"mailer", b"p@ss:word")]
        assert len(server.handler.messages) == 1


def test_failed_delivery_backs_off_then_delivers_exactly_once(db, tmp_path) -> None:
    url, engine = db
    user_id = make_user(engine)
    nid = queue_one(engine, user_id)
    port = free_port()  # nothing listens here yet
    settings = make_settings(url, tmp_path, f"smtp://127.0.0.1:{port}")

    started = utcnow()
    report = notify.send_pending(settings=settings, engine=engine)
    assert (report.sent, report.failed) == (0, 1)
    assert report.messages[0].error
    row = get_row(engine, nid)
    assert row.status == "pending"
    assert row.attempts == 1
    assert row.last_error and len(row.last_error) <= 500
    assert row.next_attempt_at > utcnow()
    assert row.next_attempt_at >= started + timedelta(minutes=1)

    # Not due yet: nothing is attempted.
    report = notify.send_pending(settings=settings, engine=engine)
    assert report.messages == []
    assert get_row(engine, nid).attempts == 1

    with SmtpServer(port=port) as server:
        later = utcnow() + timedelta(minutes=2)
        report = notify.send_pending(settings=settings, engine=engine, now=later)
        assert report.sent == 1
        report = notify.send_pending(settings=settings, engine=engine, now=later + timedelta(hours=1))
        assert report.messages == []
        assert len(server.handler.messages) == 1

    row = get_row(engine, nid)
    assert row.status == "sent" and row.attempts == 2 and row.last_error is None
    assert row.sent_at == later
    assert len(audit_events(engine)) == 1


def test_backoff_grows_and_is_capped(db, tmp_path) -> None:
    url, engine = db
    user_id = make_user(engine)
    nid = queue_one(engine, user_id)
    settings = make_settings(url, tmp_path, f"smtp://127.0.0.1:{free_port()}")
    now = utcnow()
    waits = []
    for _ in range(6):
        notify.send_pending(settings=settings, engine=engine, now=now)
        row = get_row(engine, nid)
        waits.append(round((row.next_attempt_at - now).total_seconds() / 60))
        now = row.next_attempt_at
    assert waits == [1, 5, 15, 60, 60, 60]
    assert get_row(engine, nid).attempts == 6


def test_row_stuck_in_sending_is_never_delivered(db, tmp_path) -> None:
    url, engine = db
    user_id = make_user(engine)
    nid = queue_one(engine, user_id)
    with session_scope(engine, write=True) as s:
        row = s.get(Notification, nid)
        assert row is not None
        row.status = "sending"  # claimed by a sender that died before marking it
        row.attempts = 1
        s.add(row)

    with SmtpServer() as server:
        settings = make_settings(url, tmp_path, server.url)
        for later in (None, utcnow() + timedelta(days=30)):
            report = notify.send_pending(settings=settings, engine=engine, now=later)
            assert report.messages == []
        assert server.handler.messages == []

    assert get_row(engine, nid).status == "sending"
    with session_scope(engine) as s:
        listed = notify.list_notifications(s, pending_only=True)
    assert [(r["id"], r["status"]) for r in listed] == [(nid, "sending")]


def test_two_senders_at_once_deliver_each_message_exactly_once(db, tmp_path) -> None:
    url, engine = db
    user_id = make_user(engine)
    count = 30
    ids = [queue_one(engine, user_id, subject=f"notice {i}") for i in range(count)]

    with SmtpServer() as server:
        settings = make_settings(url, tmp_path, server.url)
        barrier = threading.Barrier(2)
        reports: list[notify.SendReport] = []
        errors: list[BaseException] = []

        def run() -> None:
            try:
                barrier.wait()
                reports.append(notify.send_pending(settings=settings, engine=engine))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors
        assert len(reports) == 2

        subjects = sorted(str(m["Subject"]) for m in server.handler.messages)
        assert subjects == sorted(f"notice {i}" for i in range(count))
        assert sum(r.sent for r in reports) == count
        assert sum(r.failed for r in reports) == 0
        sent_ids = [m.id for r in reports for m in r.messages if m.outcome == "sent"]
        assert sorted(sent_ids) == sorted(ids)

    with session_scope(engine) as s:
        rows = notify.list_notifications(s)
    assert {r["status"] for r in rows} == {"sent"}
    assert {r["attempts"] for r in rows} == {1}
    assert len(audit_events(engine)) == count


def test_limit_and_oldest_first(db, tmp_path) -> None:
    url, engine = db
    user_id = make_user(engine)
    ids = [queue_one(engine, user_id, subject=f"n{i}") for i in range(3)]
    settings = make_settings(url, tmp_path)
    report = notify.send_pending(settings=settings, engine=engine, limit=2)
    assert [m.id for m in report.messages] == ids[:2]
    report = notify.send_pending(settings=settings, engine=engine, limit=2)
    assert [m.id for m in report.messages] == ids[2:]


# --- outbox ---------------------------------------------------------------------------


def test_outbox_mode_writes_a_parseable_eml(db, tmp_path) -> None:
    url, engine = db
    user_id = make_user(engine)
    nid = queue_one(engine, user_id, kind="2fa_reset", body="Hello Ann.\n")
    settings = make_settings(url, tmp_path, smtp_url=None)

    report = notify.send_pending(settings=settings, engine=engine)
    assert report.sent == 1
    path = tmp_path / "outbox" / f"{nid}-2fa_reset.eml"
    assert path.is_file()
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == [path.name]  # no temp files left
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert msg["To"] == "ann@example.com"
    assert msg["From"] == SENDER
    assert msg["Subject"] == "2FA was turned off"
    assert msg["Message-ID"] and msg["Date"]
    assert msg.get_content() == "Hello Ann.\n"  # type: ignore[attr-defined]
    assert get_row(engine, nid).status == "sent"
    assert len(audit_events(engine)) == 1


# --- listing --------------------------------------------------------------------------


def test_list_notifications_newest_first_and_pending_only(db, tmp_path) -> None:
    url, engine = db
    user_id = make_user(engine)
    first = queue_one(engine, user_id, subject="first")
    notify.send_pending(settings=make_settings(url, tmp_path), engine=engine)
    second = queue_one(engine, user_id, subject="second")
    with session_scope(engine) as s:
        rows = notify.list_notifications(s)
        pending = notify.list_notifications(s, pending_only=True)
    assert [r["id"] for r in rows] == [second, first]
    assert set(rows[0]) == {
        "id",
        "created_at",
        "recipient",
        "kind",
        "subject",
        "status",
        "attempts",
        "sent_at",
        "last_error",
    }
    assert [r["id"] for r in pending] == [second]


# --- SMTP_URL -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com:2525", notify.SmtpTarget("mail.example.com", 2525)),
        ("smtp://mail.example.com", notify.SmtpTarget("mail.example.com", 25)),
        (
            "smtp://u%40x:p%2Fw@mail.example.com:587?starttls=true",
            notify.SmtpTarget("mail.example.com", 587, starttls=True, username="u@x", password="p/w"),
        ),
        ("smtps://mail.example.com:465", notify.SmtpTarget("mail.example.com", 465, ssl=True)),
        ("SMTPS://mail.example.com", notify.SmtpTarget("mail.example.com", 465, ssl=True)),
    ],
)
def test_parse_smtp_url(url: str, expected: notify.SmtpTarget) -> None:
    assert notify.parse_smtp_url(url) == expected


def test_smtp_target_repr_hides_the_password() -> None:
    target = notify.parse_smtp_url("smtp://user:hunter2@mail.example.com:25")
    assert "hunter2" not in repr(target)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("", "empty"),
        ("mail.example.com:25", "smtp://"),
        ("http://mail.example.com:25", "scheme"),
        ("smtp://:25", "host"),
        ("smtp://mail.example.com:port", "port"),
        ("smtp://mail.example.com:99999", "port"),
        ("smtp://mail.example.com:25/path", "path"),
        ("smtp://mail.example.com:25?starttls=maybe", "starttls"),
        ("smtp://mail.example.com:25?tls=true", "unknown option"),
        ("smtps://mail.example.com:465?starttls=true", "starttls"),
        ("smtp://user@mail.example.com:25", "password"),
    ],
)
def test_malformed_smtp_url_is_bad_input_naming_the_setting(url: str, words: str) -> None:
    with pytest.raises(BadInput) as err:
        notify.parse_smtp_url(url)
    assert "SMTP_URL" in str(err.value)
    assert words in str(err.value)


def test_malformed_smtp_url_claims_nothing(db, tmp_path) -> None:
    url, engine = db
    user_id = make_user(engine)
    nid = queue_one(engine, user_id)
    settings = make_settings(url, tmp_path, "smtp://user:s3cret@mail.example.com:bad")
    with pytest.raises(BadInput) as err:
        notify.send_pending(settings=settings, engine=engine)
    assert "SMTP_URL" in str(err.value) and "s3cret" not in str(err.value)
    row = get_row(engine, nid)
    assert (row.status, row.attempts) == ("pending", 0)
