"""core.notices against a real SQLite file (the sender loop: PostgreSQL too) and a real SMTP server on loopback."""

from __future__ import annotations

import email
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.engine import Engine

from core.notices.delivery import MessageOutcome, SendReport, send_pending
from core.notices.destination import destination
from core.notices.listing import list_notifications, notice, notices_for
from core.notices.queueing import queue
from core.notices.sender import POLL_SECONDS, Sender, sender_running, start_sender, stop_sender
from core.notices.smtp_url import SmtpTarget, parse_smtp_url
from core.notices.wakeup import wake
from core.platform.config import Settings, SettingsError, load_settings
from core.platform.db import get_engine, session_scope, upgrade_schema
from core.platform.errors import BadInput
from core.platform.models import AuditEvent, Brand, Company, Domain, Notification, User, utcnow

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
    def __init__(self, port: int | None = None, handler: Collector | None = None, **smtp_kwargs) -> None:
        self.port = port or free_port()
        self.handler = handler or Collector()
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
        row = queue(s, user_id=user_id, recipient=recipient, kind=kind, subject=subject, body=body)
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
        queue(s, user_id=user_id, recipient="ann@example.com", kind="k", subject="s", body="b")
        raise RuntimeError("the change failed")
    with session_scope(engine) as s:
        assert len(list_notifications(s)) == 1


def test_queue_refuses_header_injection(db) -> None:
    _, engine = db
    user_id = make_user(engine)
    with pytest.raises(BadInput), session_scope(engine, write=True) as s:
        queue(s, user_id=user_id, recipient="ann@example.com", kind="k", subject="a\nBcc: x@y", body="")
    with pytest.raises(BadInput), session_scope(engine, write=True) as s:
        queue(s, user_id=user_id, recipient="a@b.com, c@d.com", kind="k", subject="s", body="")


# --- SMTP delivery --------------------------------------------------------------------


def test_delivers_through_real_smtp_once_and_audits(db, tmp_path) -> None:
    url, engine = db
    user_id = make_user(engine)
    body = "Support turned off two-factor sign-in for your mailbox.\nCall us if this was not you.\n"
    nid = queue_one(engine, user_id, body=body)

    with SmtpServer() as server:
        settings = make_settings(url, tmp_path, server.url)
        report = send_pending(settings=settings, engine=engine)
        assert (report.sent, report.failed, report.skipped) == (1, 0, 0)
        assert report.messages == [MessageOutcome(id=nid, recipient="ann@example.com", outcome="sent")]

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
        again = send_pending(settings=settings, engine=engine, now=utcnow() + timedelta(days=1))
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
        report = send_pending(settings=make_settings(url, tmp_path, smtp_url), engine=engine)
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
    report = send_pending(settings=settings, engine=engine)
    assert (report.sent, report.failed) == (0, 1)
    assert report.messages[0].error
    row = get_row(engine, nid)
    assert row.status == "pending"
    assert row.attempts == 1
    assert row.last_error and len(row.last_error) <= 500
    assert row.next_attempt_at > utcnow()
    assert row.next_attempt_at >= started + timedelta(minutes=1)

    # Not due yet: nothing is attempted.
    report = send_pending(settings=settings, engine=engine)
    assert report.messages == []
    assert get_row(engine, nid).attempts == 1

    with SmtpServer(port=port) as server:
        later = utcnow() + timedelta(minutes=2)
        report = send_pending(settings=settings, engine=engine, now=later)
        assert report.sent == 1
        report = send_pending(settings=settings, engine=engine, now=later + timedelta(hours=1))
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
        send_pending(settings=settings, engine=engine, now=now)
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
            report = send_pending(settings=settings, engine=engine, now=later)
            assert report.messages == []
        assert server.handler.messages == []

    assert get_row(engine, nid).status == "sending"
    with session_scope(engine) as s:
        listed = list_notifications(s, pending_only=True)
    assert [(r["id"], r["status"]) for r in listed] == [(nid, "sending")]


def test_two_senders_at_once_deliver_each_message_exactly_once(db, tmp_path) -> None:
    url, engine = db
    user_id = make_user(engine)
    count = 30
    ids = [queue_one(engine, user_id, subject=f"notice {i}") for i in range(count)]

    with SmtpServer() as server:
        settings = make_settings(url, tmp_path, server.url)
        barrier = threading.Barrier(2)
        reports: list[SendReport] = []
        errors: list[BaseException] = []

        def run() -> None:
            try:
                barrier.wait()
                reports.append(send_pending(settings=settings, engine=engine))
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
        rows = list_notifications(s)
    assert {r["status"] for r in rows} == {"sent"}
    assert {r["attempts"] for r in rows} == {1}
    assert len(audit_events(engine)) == count


def test_limit_and_oldest_first(db, tmp_path) -> None:
    url, engine = db
    user_id = make_user(engine)
    ids = [queue_one(engine, user_id, subject=f"n{i}") for i in range(3)]
    settings = make_settings(url, tmp_path)
    report = send_pending(settings=settings, engine=engine, limit=2)
    assert [m.id for m in report.messages] == ids[:2]
    report = send_pending(settings=settings, engine=engine, limit=2)
    assert [m.id for m in report.messages] == ids[2:]


# --- outbox ---------------------------------------------------------------------------


def test_outbox_mode_writes_a_parseable_eml(db, tmp_path) -> None:
    url, engine = db
    user_id = make_user(engine)
    nid = queue_one(engine, user_id, kind="2fa_reset", body="Hello Ann.\n")
    settings = make_settings(url, tmp_path, smtp_url=None)

    report = send_pending(settings=settings, engine=engine)
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
    send_pending(settings=make_settings(url, tmp_path), engine=engine)
    second = queue_one(engine, user_id, subject="second")
    with session_scope(engine) as s:
        rows = list_notifications(s)
        pending = list_notifications(s, pending_only=True)
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
        ("smtp://mail.example.com:2525", SmtpTarget("mail.example.com", 2525)),
        ("smtp://mail.example.com", SmtpTarget("mail.example.com", 25)),
        (
            "smtp://u%40x:p%2Fw@mail.example.com:587?starttls=true",
            SmtpTarget("mail.example.com", 587, starttls=True, username="u@x", password="p/w"),
        ),
        ("smtps://mail.example.com:465", SmtpTarget("mail.example.com", 465, ssl=True)),
        ("SMTPS://mail.example.com", SmtpTarget("mail.example.com", 465, ssl=True)),
    ],
)
def test_parse_smtp_url(url: str, expected: SmtpTarget) -> None:
    assert parse_smtp_url(url) == expected


def test_smtp_target_repr_hides_the_password() -> None:
    target = parse_smtp_url("smtp://user:hunter2@mail.example.com:25")
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
        parse_smtp_url(url)
    assert "SMTP_URL" in str(err.value)
    assert words in str(err.value)


def test_malformed_smtp_url_claims_nothing(db, tmp_path) -> None:
    url, engine = db
    user_id = make_user(engine)
    nid = queue_one(engine, user_id)
    settings = make_settings(url, tmp_path, "smtp://user:s3cret@mail.example.com:bad")
    with pytest.raises(BadInput) as err:
        send_pending(settings=settings, engine=engine)
    assert "SMTP_URL" in str(err.value) and "s3cret" not in str(err.value)
    row = get_row(engine, nid)
    assert (row.status, row.attempts) == ("pending", 0)


# --- the sender loop (core.notices.Sender), on SQLite and PostgreSQL ----------------------------


def wait_until(condition, timeout: float = 30.0, what: str = "the condition") -> float:
    """Poll ``condition`` until it holds; the seconds it took (fails after ``timeout``)."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"{what} did not happen within {timeout} s")
        time.sleep(0.02)
    return time.monotonic() - started


class Refusing(Collector):
    """A Collector whose server refuses (550) the recipients in ``refused``."""

    def __init__(self, refused: set[str]) -> None:
        super().__init__()
        self.refused = refused
        self.reply = "550 5.1.1 mailbox unavailable"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address in self.refused:
            return self.reply
        envelope.rcpt_tos.append(address)
        return "250 OK"


def received(server: SmtpServer, recipient: str) -> int:
    return sum(1 for m in list(server.handler.messages) if m["To"] == recipient)


@contextmanager
def running(*senders: Sender) -> Iterator[None]:
    for sender in senders:
        sender.start()
    try:
        yield
    finally:
        for sender in senders:
            sender.stop()


def test_sender_delivers_a_queued_notice_at_once_and_stops_when_told(db_url, tmp_path) -> None:
    engine = get_engine(db_url)
    user_id = make_user(engine)
    with SmtpServer() as server:
        # A poll a minute apart: what delivers within seconds is the commit's wake-up.
        sender = Sender(settings=make_settings(db_url, tmp_path, server.url), engine=engine, interval=60)
        sender.start()
        try:
            wait_until(lambda: sender.passes >= 1, what="the first pass")
            nid = queue_one(engine, user_id)
            took = wait_until(lambda: received(server, "ann@example.com") == 1, timeout=20, what="delivery")
            assert took < 20
            wait_until(lambda: get_row(engine, nid).status == "sent", what="the mark")
        finally:
            assert sender.stop(timeout=30)
        assert not sender.running
        passes = sender.passes

        # Stopped: nothing delivers any more.
        later = queue_one(engine, user_id, subject="after the stop")
        wake()
        assert sender.passes == passes
        assert get_row(engine, later).status == "pending"
        assert len(server.handler.messages) == 1
    assert len(audit_events(engine)) == 1


def test_sender_picks_up_a_notice_queued_by_another_process_within_its_bound(db_url, tmp_path) -> None:
    engine = get_engine(db_url)
    user_id = make_user(engine)
    with SmtpServer() as server:
        sender = Sender(settings=make_settings(db_url, tmp_path, server.url), engine=engine)
        assert sender.interval == POLL_SECONDS == 5
        with running(sender):
            wait_until(lambda: sender.passes >= 1, what="the first pass")
            # Written as another process would (the command line): no wake-up in this one.
            with session_scope(engine, write=True) as s:
                s.add(
                    Notification(
                        user_id=user_id, recipient="ann@example.com", kind="k", subject="s", body="b"
                    )
                )
            took = wait_until(lambda: received(server, "ann@example.com") == 1, timeout=60, what="delivery")
        # The README's bound: within POLL_SECONDS (with room for a loaded machine).
        assert took <= POLL_SECONDS + 5


def test_sender_retries_a_failed_delivery_by_the_backoff_and_goes_on(db_url, tmp_path) -> None:
    engine = get_engine(db_url)
    ann, bob = make_user(engine), make_user(engine, "bob@example.com")
    offset = [timedelta(0)]
    calls: list[tuple[timedelta, int]] = []
    refusing = Refusing({"bob@example.com"})
    server = SmtpServer(handler=refusing)
    sender: Sender

    def clock():
        calls.append((offset[0], sender.passes))
        return utcnow() + offset[0]

    def one_pass_at(shift: timedelta) -> None:
        """Move the sender's clock, wake it, and wait until a pass that read it is over."""
        offset[0] = shift
        wake()
        wait_until(lambda: any(o == shift and sender.passes > p for o, p in list(calls)), what="a pass")

    with server:
        settings = make_settings(db_url, tmp_path, server.url)
        sender = Sender(settings=settings, engine=engine, interval=60, clock=clock)
        with running(sender):
            started = utcnow()
            bob_id = queue_one(engine, bob, recipient="bob@example.com")
            ann_id = queue_one(engine, ann)
            # Bob's is refused; the loop goes on to Ann's.
            wait_until(lambda: received(server, "ann@example.com") == 1, what="Ann's notice")
            wait_until(
                lambda: get_row(engine, bob_id).attempts == 1 and get_row(engine, bob_id).status == "pending"
            )
            first = get_row(engine, bob_id)
            assert "550" in (first.last_error or "")
            assert started + timedelta(minutes=1) <= first.next_attempt_at <= utcnow() + timedelta(minutes=1)

            one_pass_at(timedelta(seconds=30))  # before the 1-minute retry: not tried
            assert get_row(engine, bob_id).attempts == 1

            before = utcnow()
            one_pass_at(timedelta(seconds=61))  # tried again, refused again: 5 minutes
            wait_until(lambda: get_row(engine, bob_id).attempts == 2)
            second = get_row(engine, bob_id)
            after = utcnow()
            assert second.status == "pending"
            shifted = timedelta(seconds=61, minutes=5)
            assert before + shifted <= second.next_attempt_at <= after + shifted

            one_pass_at(timedelta(seconds=61 + 4 * 60))  # before the 5 minutes are up: not tried
            assert get_row(engine, bob_id).attempts == 2

            refusing.refused.clear()
            one_pass_at(timedelta(seconds=61 + 5 * 60 + 1))
            wait_until(lambda: get_row(engine, bob_id).status == "sent", what="Bob's notice")
            assert sender.running and sender.pass_errors == 0

    assert received(server, "bob@example.com") == 1 and received(server, "ann@example.com") == 1
    row = get_row(engine, bob_id)
    assert (row.attempts, row.last_error) == (3, None)
    assert get_row(engine, ann_id).attempts == 1
    assert len(audit_events(engine)) == 2


def test_two_senders_at_once_deliver_each_notice_once(db_url, tmp_path) -> None:
    engine = get_engine(db_url)
    user_id = make_user(engine)
    count = 40
    with SmtpServer() as server:
        settings = make_settings(db_url, tmp_path, server.url)
        # Both poll hard and both are woken by the one commit: they race for every row.
        senders = [
            Sender(settings=settings, engine=engine, interval=0.05, name=f"sender-{i}") for i in range(2)
        ]
        with running(*senders):
            wait_until(lambda: all(s.passes >= 1 for s in senders), what="both senders' first pass")
            with session_scope(engine, write=True) as s:
                for i in range(count):
                    queue(s, user_id=user_id, recipient="ann@example.com", kind="k", subject=f"n{i}", body="")
            wait_until(lambda: len(server.handler.messages) >= count, timeout=60, what="every delivery")
            wait_until(lambda: {r["status"] for r in notify_rows(engine)} == {"sent"}, what="every mark")
        # Both loops have ended: nothing more can arrive.
        subjects = sorted(str(m["Subject"]) for m in server.handler.messages)
    assert subjects == sorted(f"n{i}" for i in range(count))
    assert {r["attempts"] for r in notify_rows(engine)} == {1}
    assert len(audit_events(engine)) == count
    assert all(s.pass_errors == 0 for s in senders)


def notify_rows(engine: Engine) -> list[dict]:
    with session_scope(engine) as s:
        return list_notifications(s)


def test_sender_survives_a_pass_that_raises_and_delivers_once_it_can(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/later.db"  # no schema yet: every pass fails
    engine = get_engine(url)
    sender = Sender(settings=make_settings(url, tmp_path), engine=engine, interval=0.1)
    with running(sender):
        wait_until(lambda: sender.pass_errors >= 3, what="failing passes")
        assert sender.running
        upgrade_schema(url)
        nid = queue_one(engine, make_user(engine))
        wait_until(lambda: (tmp_path / "outbox" / f"{nid}-2fa_reset.eml").is_file(), what="the outbox file")
        wait_until(lambda: get_row(engine, nid).status == "sent")
        assert sender.running
    assert not sender.running


def test_a_pass_told_to_stop_claims_no_more(db_url, tmp_path) -> None:
    engine = get_engine(db_url)
    user_id = make_user(engine)
    ids = [queue_one(engine, user_id, subject=f"n{i}") for i in range(3)]
    asked: list[int] = []

    def should_stop() -> bool:
        asked.append(1)
        return len(asked) > 1  # told to stop once the first message is in hand

    report = send_pending(settings=make_settings(db_url, tmp_path), engine=engine, should_stop=should_stop)
    assert [(m.id, m.outcome) for m in report.messages] == [(ids[0], "sent")]
    assert [(get_row(engine, i).status, get_row(engine, i).attempts) for i in ids[1:]] == [("pending", 0)] * 2


def test_one_sender_a_process_and_mac_sender_off(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/one.db"
    upgrade_schema(url)
    settings = make_settings(url, tmp_path)
    try:
        first = start_sender(settings)
        assert first is not None and first.running and sender_running()
        assert start_sender(settings) is first  # started once, however often asked
    finally:
        stop_sender()
    assert not first.running and not sender_running()
    off = replace(settings, sender=False)
    assert start_sender(off) is None and not sender_running()


def test_mac_sender_setting() -> None:
    key = Fernet.generate_key().decode()
    assert load_settings({"MAC_SECRET_KEY": key}).sender is True
    assert load_settings({"MAC_SECRET_KEY": key, "MAC_SENDER": "off"}).sender is False
    assert load_settings({"MAC_SECRET_KEY": key, "MAC_SENDER": "On"}).sender is True
    with pytest.raises(SettingsError) as err:
        load_settings({"MAC_SECRET_KEY": key, "MAC_SENDER": "sometimes"})
    assert "MAC_SENDER" in str(err.value) and "'sometimes'" in str(err.value)


# --- what a person is shown: notices_for, notice, destination -------------------------------


def test_notices_for_a_mailbox_newest_first_with_their_states(db_url, tmp_path) -> None:
    engine = get_engine(db_url)
    ann = make_user(engine)
    other = make_user(engine, "bob@example.com")
    t0 = utcnow() - timedelta(hours=3)
    retry = t0 + timedelta(hours=4)

    def ann_notice(subject: str, created_at: datetime, **state: object) -> Notification:
        """One of Ann's notices, created at ``created_at``, in the state ``state`` gives it."""
        return Notification(
            user_id=ann,
            recipient="ann@example.com",
            kind="k",
            subject=subject,
            body="",
            created_at=created_at,
            **state,
        )

    with session_scope(engine, write=True) as s:
        rows = [
            ann_notice("sent one", t0, status="sent", attempts=1, sent_at=t0 + timedelta(minutes=1)),
            ann_notice(
                "failed one",
                t0 + timedelta(hours=1),
                attempts=2,
                next_attempt_at=retry,
                last_error="SMTPRecipientsRefused: 550",
            ),
            ann_notice("stuck one", t0 + timedelta(hours=2), status="sending", attempts=1),
            ann_notice("queued one", t0 + timedelta(hours=3)),
            Notification(user_id=other, recipient="bob@example.com", kind="k", subject="not ann's", body=""),
        ]
        s.add_all(rows)
    with session_scope(engine) as s:
        listed = notices_for(s, " Ann@Example.com ")
        one = notice(s, listed[2]["id"])
        assert notices_for(s, "nobody@example.com") == []
        assert notice(s, 999_999) is None
    assert [(r["subject"], r["state"], r["attempts"]) for r in listed] == [
        ("queued one", "queued", 0),
        ("stuck one", "sending", 1),
        ("failed one", "failed", 2),
        ("sent one", "sent", 1),
    ]
    assert one == listed[2]
    assert one["next_attempt_at"] == retry and one["last_error"] == "SMTPRecipientsRefused: 550"
    assert [r["next_attempt_at"] for r in listed if r["state"] != "failed"] == [None, None, None]
    assert listed[3]["sent_at"] == t0 + timedelta(minutes=1)
    assert "body" not in listed[0]


def test_destination_names_the_smtp_host_or_the_outbox(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/d.db"
    smtp = destination(make_settings(url, tmp_path, "smtp://u:secret@mail.example.com:587?starttls=true"))
    assert (smtp.transport, smtp.host, smtp.port) == ("smtp", "mail.example.com", 587)
    assert "secret" not in repr(smtp)
    outbox = destination(make_settings(url, tmp_path))
    assert (outbox.transport, outbox.outbox) == ("outbox", tmp_path / "outbox")
    with pytest.raises(BadInput):
        destination(make_settings(url, tmp_path, "smtp://mail.example.com:bad"))
