"""Customer notifications: queued with the change, delivered at most once.

Queueing
    A service that changes something a customer must hear about (support turned 2FA off
    after a lost phone, ...) calls ``queue(session, ...)`` in the *same* transaction as the
    change. ``queue`` only adds a ``notifications`` row (status ``pending``) to that session,
    so the notice exists exactly when the change does.

Delivery (``send_pending``, run by ``notify send`` and by each server's ``Sender``)
    For each row with status ``pending`` whose ``next_attempt_at`` has come, oldest first:

    1. **Claim** it in its own short write transaction::

           UPDATE notifications SET status='sending', attempts=attempts+1
           WHERE id=:id AND status='pending' AND next_attempt_at <= :now

       and commit. A rowcount of 0 means another sender took it (or rescheduled it) first:
       the row is *skipped*. Only the sender whose UPDATE matched goes on, so two senders
       running at once (threads, processes, two machines on PostgreSQL) never both deliver.
    2. **Deliver** it, outside any transaction (nothing holds a database lock during SMTP).
    3. **Mark** it in a new transaction: status ``sent``, ``sent_at``, ``last_error`` cleared,
       and one audit event (actor ``notify``, action ``notification.sent``, object type
       ``notification``, object key the recipient, the user and their effective brand).
       The audit event carries no subject, body or other message content.

    When delivery raises, the row goes back to ``pending`` with ``next_attempt_at`` pushed
    out by a backoff chosen by the number of attempts so far (1, 5, 15, then 60 minutes
    for every later attempt) and ``last_error`` set to a short text of the error (at most
    500 characters). Retries never stop on their own; ``list_notifications`` shows the
    attempts and the last error so an operator can step in.

The "never twice" rule (at-most-once)
    A row is claimed *before* it is sent and marked *after*. If the process dies between
    the two (or the mark's transaction fails), the row stays ``sending``. ``send_pending``
    only ever picks up ``pending`` rows, so such a message is **never sent again
    automatically**: a customer may miss a notice, but never gets the same one twice.
    ``list_notifications(pending_only=True)`` lists ``sending`` rows alongside ``pending``
    ones so an operator can check the mail log and decide. A database error while marking
    propagates out of ``send_pending`` (the row stays ``sending``, per the rule above).

The sender beside the dashboard (``Sender``, started by server.py)
    Each console server process runs one ``Sender``: a daemon thread that calls
    ``send_pending`` when woken and at least every ``POLL_SECONDS`` (5 s). ``queue`` marks
    its session, and the session's commit wakes the senders of this process (``wake``), so
    a notice queued by this server's pages is delivered at once; one queued elsewhere (the
    command line, another replica) within ``POLL_SECONDS``; a failed one within
    ``POLL_SECONDS`` of its next retry time. Several processes may each run a sender, on
    one machine or several: the claim above lets exactly one of them deliver a row. The
    loop logs every failed delivery and every failed pass (database unreachable, malformed
    ``SMTP_URL``) and goes on; it never dies on an exception. ``MAC_SENDER=off`` starts no
    sender (run ``notify send`` from cron instead).

What a person is shown (``state`` of ``notices_for`` and ``notice``)
    ``queued`` (pending, never tried), ``sending`` (claimed; stuck there only when a sender
    died mid-send: check the mail log), ``sent`` (at ``sent_at``), ``failed`` (pending again
    after a failed attempt: ``attempts``, ``last_error`` and ``next_attempt_at`` say when it
    is tried next).

Transports
    * ``SMTP_URL`` set: each message goes through ``smtplib`` as an
      ``email.message.EmailMessage`` (From ``MAC_SMTP_FROM``, To the recipient, Subject,
      Date, Message-ID, plain-text body), one connection per message, 10 s timeout.
      Accepted forms (see ``parse_smtp_url``)::

          smtp://host:port
          smtp://user:pass@host:port            (AUTH after EHLO; quote special characters)
          smtp://host:port?starttls=true         (STARTTLS, certificate verified)
          smtps://host:port                      (implicit TLS, certificate verified)

      The port defaults to 25 for ``smtp`` and 465 for ``smtps``.
    * ``SMTP_URL`` unset: each message is written to ``<data dir>/outbox/<id>-<kind>.eml``
      (RFC 5322 bytes), atomically: a temporary file in the same directory, then
      ``os.replace``, so a reader never sees half a message. The messages name customers
      and what changed on their mailbox: the outbox is made 0700 (the data folder too,
      when it is made here) and each file is 0600.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import smtplib
import ssl
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import event, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from core.mailboxes.effective_brand import effective_brand_id_of
from core.platform import audit
from core.platform.config import Settings, get_settings, make_private_dir
from core.platform.db import get_engine, session_scope
from core.platform.errors import BadInput
from core.platform.events import NotificationSent
from core.platform.models import Notification, User, utcnow

log = logging.getLogger(__name__)

ACTOR = "notify"
SMTP_TIMEOUT_SECONDS = 10
# Delay before the next attempt, indexed by the number of attempts made; the last repeats.
BACKOFF_MINUTES = (1, 5, 15, 60)
MAX_ERROR_CHARS = 500
# The sender's longest wait between two looks at the queue, in seconds.
POLL_SECONDS = 5.0
# Rows a sender's pass takes at once; a full batch is followed by another pass at once.
BATCH = 100

Outcome = Literal["sent", "failed", "skipped"]

_NOTIFICATIONS = Notification.__table__  # type: ignore[attr-defined]
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9_.-]+")


# --- queueing -------------------------------------------------------------------------


def queue(
    session: Session,
    *,
    user_id: int,
    recipient: str,
    kind: str,
    subject: str,
    body: str,
) -> Notification:
    """Add one pending notification to ``session``; the caller's transaction commits it."""
    recipient = recipient.strip()
    problems: list[str] = []
    if "@" not in recipient or any(c in recipient for c in "\r\n\t ,;<>"):
        problems.append("the recipient must be one plain email address")
    if len(recipient) > 320:
        problems.append("the recipient is longer than 320 characters")
    if "\r" in subject or "\n" in subject:
        problems.append("the subject must be a single line")
    if len(subject) > 200:
        problems.append("the subject is longer than 200 characters")
    if not kind or len(kind) > 32:
        problems.append("the kind must be 1 to 32 characters")
    if problems:
        raise BadInput("The notification cannot be queued: " + "; ".join(problems) + ".", problems)
    notification = Notification(user_id=user_id, recipient=recipient, kind=kind, subject=subject, body=body)
    session.add(notification)
    # Wake this process's sender once the caller's transaction commits (never before: the
    # row does not exist for another connection until then).
    session.info[_WAKE_ON_COMMIT] = True
    return notification


# --- SMTP_URL -------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to hand messages to SMTP, parsed from ``SMTP_URL``."""

    host: str
    port: int
    ssl: bool = False  # smtps:// - TLS from the first byte (SMTP_SSL)
    starttls: bool = False  # smtp://...?starttls=true
    username: str | None = None
    password: str | None = field(default=None, repr=False)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_smtp_url(url: str) -> SmtpTarget:
    """Parse ``SMTP_URL``; a malformed value raises ``BadInput`` saying what is wrong.

    The message never repeats the URL itself, which may hold a password.
    """

    def bad(what: str) -> BadInput:
        return BadInput(f"SMTP_URL is malformed: {what}.", [what])

    url = (url or "").strip()
    if not url:
        raise bad("it is empty")
    if "://" not in url:
        raise bad("expected smtp://host:port or smtps://host:port")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise bad(f"the port is not a number from 1 to 65535 ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps"):
        raise bad(f"the scheme must be smtp or smtps, not {scheme or 'empty'!r}")
    host = parts.hostname
    if not host:
        raise bad("the host is missing")
    if port == 0:
        raise bad("the port is not a number from 1 to 65535")
    if parts.path not in ("", "/"):
        raise bad("it must not have a path")
    if parts.fragment:
        raise bad("it must not have a fragment")
    if parts.password is not None and parts.username is None:
        raise bad("a password is given without a user")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if username and password is None:
        raise bad("a user is given without a password (use smtp://user:pass@host:port)")

    try:
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise bad("the query string is not of the form ?starttls=true") from None
    unknown = sorted(set(query) - {"starttls"})
    if unknown:
        raise bad(f"unknown option {unknown[0]!r} (only starttls is understood)")
    starttls = False
    if "starttls" in query:
        values = query["starttls"]
        value = values[-1].strip().lower()
        if len(values) > 1 or value not in _TRUE | _FALSE:
            raise bad("starttls must be true or false")
        starttls = value in _TRUE
    if scheme == "smtps" and starttls:
        raise bad("starttls cannot be combined with smtps (smtps is already TLS)")

    return SmtpTarget(
        host=host,
        port=port or (465 if scheme == "smtps" else 25),
        ssl=scheme == "smtps",
        starttls=starttls,
        username=username,
        password=password,
    )


# --- delivery -------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageOutcome:
    id: int
    recipient: str
    outcome: Outcome
    error: str | None = None


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    messages: list[MessageOutcome] = field(default_factory=list)

    def add(self, item: MessageOutcome) -> None:
        self.messages.append(item)
        if item.outcome == "sent":
            self.sent += 1
        elif item.outcome == "failed":
            self.failed += 1
        else:
            self.skipped += 1


@dataclass(frozen=True)
class _Claimed:
    id: int
    user_id: int
    recipient: str
    kind: str
    subject: str
    body: str
    attempts: int


def backoff(attempts: int) -> timedelta:
    """The wait after a failed attempt, given the attempts made so far (1-based)."""
    index = min(max(attempts, 1), len(BACKOFF_MINUTES)) - 1
    return timedelta(minutes=BACKOFF_MINUTES[index])


def error_text(exc: BaseException) -> str:
    """A short, single-line description of a delivery error."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    text = " ".join(text.split())
    return text[:MAX_ERROR_CHARS]


def build_message(item: _Claimed | Notification, *, sender: str, at: datetime) -> EmailMessage:
    """The RFC 5322 message for one notification."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = item.recipient
    msg["Subject"] = item.subject
    msg["Date"] = format_datetime(at)
    domain = sender.rpartition("@")[2].strip(" >") or None
    msg["Message-ID"] = make_msgid(idstring=f"notification-{item.id}", domain=domain)
    # RFC 3834: an automatic message; auto-responders should not answer it.
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(item.body)
    return msg


def _send_smtp(target: SmtpTarget, msg: EmailMessage) -> None:
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if target.ssl:
        client = smtplib.SMTP_SSL(target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS, context=context)
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS)
    with client:
        if target.starttls:
            client.starttls(context=context)
        if target.username:
            client.login(target.username, target.password or "")
        client.send_message(msg)


def _write_outbox(outbox: Path, item: _Claimed, msg: EmailMessage) -> Path:
    make_private_dir(outbox)
    kind = _UNSAFE_FILENAME.sub("_", item.kind) or "message"
    final = outbox / f"{item.id}-{kind}.eml"
    # mkstemp makes the file 0600; os.replace keeps the mode.
    fd, tmp_name = tempfile.mkstemp(dir=outbox, prefix=f".{item.id}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(msg.as_bytes())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    return final


def _claim(engine: Engine, notification_id: int, now: datetime) -> _Claimed | None:
    with session_scope(engine, write=True) as session:
        result: Any = session.execute(
            update(_NOTIFICATIONS)
            .where(
                _NOTIFICATIONS.c.id == notification_id,
                _NOTIFICATIONS.c.status == "pending",
                _NOTIFICATIONS.c.next_attempt_at <= now,
            )
            .values(status="sending", attempts=_NOTIFICATIONS.c.attempts + 1)
        )
        if result.rowcount != 1:
            return None
        row = session.execute(
            select(
                _NOTIFICATIONS.c.id,
                _NOTIFICATIONS.c.user_id,
                _NOTIFICATIONS.c.recipient,
                _NOTIFICATIONS.c.kind,
                _NOTIFICATIONS.c.subject,
                _NOTIFICATIONS.c.body,
                _NOTIFICATIONS.c.attempts,
            ).where(_NOTIFICATIONS.c.id == notification_id)
        ).one()
        return _Claimed(**row._asdict())


def _mark_sent(engine: Engine, item: _Claimed, at: datetime) -> None:
    with session_scope(engine, write=True) as session:
        session.execute(
            update(_NOTIFICATIONS)
            .where(_NOTIFICATIONS.c.id == item.id, _NOTIFICATIONS.c.status == "sending")
            .values(status="sent", sent_at=at, last_error=None)
        )
        brand_id = effective_brand_id_of(session, item.user_id)
        audit.record(
            session,
            NotificationSent(
                recipient=item.recipient,
                notification_id=item.id,
                kind=item.kind,
                attempts=item.attempts,
                brand_id=brand_id,
                user_id=item.user_id,
            ),
            actor=ACTOR,
        )


def _mark_failed(engine: Engine, item: _Claimed, now: datetime, error: str) -> None:
    with session_scope(engine, write=True) as session:
        session.execute(
            update(_NOTIFICATIONS)
            .where(_NOTIFICATIONS.c.id == item.id, _NOTIFICATIONS.c.status == "sending")
            .values(status="pending", next_attempt_at=now + backoff(item.attempts), last_error=error)
        )


def send_pending(
    *,
    settings: Settings | None = None,
    engine: Engine | None = None,
    now: datetime | None = None,
    limit: int = 100,
    should_stop: Callable[[], bool] | None = None,
) -> SendReport:
    """Deliver up to ``limit`` due notifications, each at most once (see the module docstring).

    ``now`` pins the clock (due-ness, backoff and ``sent_at``); by default each step reads
    the real clock. A malformed ``SMTP_URL`` raises ``BadInput`` before anything is claimed.
    ``should_stop`` is asked before each claim: once it says so, the rest stay pending for
    the next pass (a sender shutting down finishes the message in hand, never more).
    """
    settings = settings or get_settings()
    engine = engine or get_engine(settings.database_url)
    if now is not None and now.utcoffset() is None:
        raise BadInput("send_pending needs an aware datetime for now (UTC).")
    target = parse_smtp_url(settings.smtp_url) if settings.smtp_url else None

    def clock() -> datetime:
        return now if now is not None else utcnow()

    with session_scope(engine) as session:
        due = session.execute(
            select(_NOTIFICATIONS.c.id, _NOTIFICATIONS.c.recipient)
            .where(_NOTIFICATIONS.c.status == "pending", _NOTIFICATIONS.c.next_attempt_at <= clock())
            .order_by(_NOTIFICATIONS.c.created_at, _NOTIFICATIONS.c.id)
            .limit(max(limit, 0))
        ).all()

    report = SendReport()
    for notification_id, recipient in due:
        if should_stop is not None and should_stop():
            break
        item = _claim(engine, notification_id, clock())
        if item is None:
            report.add(MessageOutcome(id=notification_id, recipient=recipient, outcome="skipped"))
            continue
        try:
            msg = build_message(item, sender=settings.smtp_from, at=clock())
            if target is not None:
                _send_smtp(target, msg)
            else:
                _write_outbox(settings.outbox_dir, item, msg)
        except Exception as exc:
            error = error_text(exc)
            _mark_failed(engine, item, clock(), error)
            report.add(MessageOutcome(id=item.id, recipient=item.recipient, outcome="failed", error=error))
            continue
        _mark_sent(engine, item, clock())
        report.add(MessageOutcome(id=item.id, recipient=item.recipient, outcome="sent"))
    return report


# --- listing --------------------------------------------------------------------------


_NOTICE_COLUMNS = (
    _NOTIFICATIONS.c.id,
    _NOTIFICATIONS.c.created_at,
    _NOTIFICATIONS.c.recipient,
    _NOTIFICATIONS.c.kind,
    _NOTIFICATIONS.c.subject,
    _NOTIFICATIONS.c.status,
    _NOTIFICATIONS.c.attempts,
    _NOTIFICATIONS.c.sent_at,
    _NOTIFICATIONS.c.next_attempt_at,
    _NOTIFICATIONS.c.last_error,
)


def list_notifications(session: Session, *, pending_only: bool = False, limit: int = 200) -> list[dict]:
    """Notifications newest first, as plain dicts (never the body).

    ``pending_only`` keeps the rows not yet known to be delivered: ``pending`` and
    ``sending`` (a ``sending`` row may be stuck; see the "never twice" rule).
    """
    stmt = select(*(c for c in _NOTICE_COLUMNS if c.name != "next_attempt_at")).order_by(
        _NOTIFICATIONS.c.created_at.desc(), _NOTIFICATIONS.c.id.desc()
    )
    if pending_only:
        stmt = stmt.where(_NOTIFICATIONS.c.status.in_(("pending", "sending")))
    rows = session.execute(stmt.limit(max(limit, 0))).mappings().all()
    return [dict(r) for r in rows]


def _state(status: str, attempts: int) -> str:
    if status == "pending":
        return "failed" if attempts else "queued"
    return status


def _notice_dict(row: Any) -> dict:
    d = dict(row)
    d["state"] = _state(d["status"], d["attempts"])
    if d["state"] != "failed":
        d["next_attempt_at"] = None  # a retry time means something only after a failure
    return d


def notices_for(session: Session, email: str, *, limit: int = 20) -> list[dict]:
    """A mailbox's notifications, newest first, as plain dicts (never the body).

    Keys: ``id, created_at, recipient, kind, subject, status, state, attempts, sent_at,
    next_attempt_at, last_error``; ``state`` is ``queued``, ``sending``, ``sent`` or
    ``failed`` (see the module docstring); ``next_attempt_at`` is set for ``failed`` only.
    An address with no mailbox has none.
    """
    addr = (email or "").strip().lower()
    rows = (
        session.execute(
            select(*_NOTICE_COLUMNS)
            .join(User, User.id == _NOTIFICATIONS.c.user_id)
            .where(User.email == addr)
            .order_by(_NOTIFICATIONS.c.created_at.desc(), _NOTIFICATIONS.c.id.desc())
            .limit(max(limit, 0))
        )
        .mappings()
        .all()
    )
    return [_notice_dict(r) for r in rows]


def notice(session: Session, notification_id: int) -> dict | None:
    """One notification as ``notices_for`` gives it, or None."""
    row = (
        session.execute(select(*_NOTICE_COLUMNS).where(_NOTIFICATIONS.c.id == notification_id))
        .mappings()
        .first()
    )
    return _notice_dict(row) if row is not None else None


@dataclass(frozen=True)
class Destination:
    """Where ``send_pending`` hands messages: an SMTP server, or the outbox directory."""

    transport: Literal["smtp", "outbox"]
    host: str | None = None  # smtp: the server's host and port
    port: int | None = None
    outbox: Path | None = None  # outbox: the directory the .eml files are written to


def destination(settings: Settings | None = None) -> Destination:
    """Where notices go with these settings; a malformed ``SMTP_URL`` raises ``BadInput``."""
    settings = settings or get_settings()
    if settings.smtp_url:
        target = parse_smtp_url(settings.smtp_url)
        return Destination("smtp", host=target.host, port=target.port)
    return Destination("outbox", outbox=settings.outbox_dir)


# --- the sender beside the dashboard ---------------------------------------------------------

_WAKE_ON_COMMIT = "notify.wake_on_commit"
_wake_condition = threading.Condition()
_wake_count = 0


def wake() -> None:
    """Make every sender of this process look for due notifications now."""
    global _wake_count
    with _wake_condition:
        _wake_count += 1
        _wake_condition.notify_all()


@event.listens_for(OrmSession, "after_commit")
def _wake_after_commit(session: OrmSession) -> None:
    if session.info.pop(_WAKE_ON_COMMIT, False):
        wake()


@event.listens_for(OrmSession, "after_rollback")
def _forget_wake(session: OrmSession) -> None:
    session.info.pop(_WAKE_ON_COMMIT, None)


class Sender:
    """A thread that delivers due notifications: on every ``wake`` and every ``interval`` s.

    Each pass is one ``send_pending`` (so every rule of the module docstring holds: claim,
    deliver outside any transaction, mark; ``sending`` rows never resent). A failed
    delivery is logged and retried by the backoff; a pass that raises (database
    unreachable, malformed ``SMTP_URL``) is logged and the loop goes on after ``interval``.
    ``clock`` pins "now" for each pass (tests); by default the real clock.
    """

    def __init__(
        self,
        *,
        settings: Settings | None = None,
        engine: Engine | None = None,
        interval: float = POLL_SECONDS,
        clock: Callable[[], datetime] | None = None,
        name: str = "notify-sender",
    ) -> None:
        self.settings = settings or get_settings()
        self.engine = engine or get_engine(self.settings.database_url)
        self.interval = interval
        self.clock = clock
        self.name = name
        self.passes = 0  # passes finished, with or without an error
        self.pass_errors = 0
        self._stopping = False
        self._last_pass_error: str | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Sender:
        if self._thread is not None:
            raise RuntimeError("a Sender is started once")
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = SMTP_TIMEOUT_SECONDS + 5) -> bool:
        """Ask the loop to end; True once the thread has ended within ``timeout``.

        A pass in the middle of a message finishes that one (its SMTP steps time out after
        ``SMTP_TIMEOUT_SECONDS``) and marks it, then claims no more; the rest stay pending.
        """
        with _wake_condition:
            self._stopping = True
            _wake_condition.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def _run(self) -> None:
        log.info("Notification sender started (every %s s and after each queued notice).", self.interval)
        while not self._stopping:
            # Read before the pass: a wake during the pass makes the next one start at once.
            seen = _wake_count
            full = self._pass()
            if full:
                continue
            with _wake_condition:
                _wake_condition.wait_for(
                    lambda s=seen: self._stopping or _wake_count != s, timeout=self.interval
                )
        log.info("Notification sender stopped.")

    def _pass(self) -> bool:
        """One ``send_pending``; True when it took a full batch (more may be due)."""
        try:
            now = self.clock() if self.clock is not None else None
            report = send_pending(
                settings=self.settings,
                engine=self.engine,
                now=now,
                limit=BATCH,
                should_stop=lambda: self._stopping,
            )
        except Exception as exc:
            self.pass_errors += 1
            text = error_text(exc)
            if text != self._last_pass_error:
                log.exception("Notification sender: the pass failed; trying again in %s s.", self.interval)
            else:
                log.warning("Notification sender: the pass failed again: %s", text)
            self._last_pass_error = text
            return False
        finally:
            self.passes += 1
        if self._last_pass_error is not None:
            log.info("Notification sender: passes succeed again.")
            self._last_pass_error = None
        for item in report.messages:
            if item.outcome == "failed":
                log.warning(
                    "Notification %s to %s failed, retried later: %s", item.id, item.recipient, item.error
                )
            elif item.outcome == "sent":
                log.info("Notification %s to %s sent.", item.id, item.recipient)
        return len(report.messages) >= BATCH


_process_sender: Sender | None = None
_process_lock = threading.Lock()


def start_sender(settings: Settings | None = None) -> Sender | None:
    """This process's sender, started on the first call (None when ``MAC_SENDER=off``).

    Called by the web server at start-up; a second call returns the running sender, so a
    process never runs two.
    """
    global _process_sender
    settings = settings or get_settings()
    with _process_lock:
        if not settings.sender:
            log.info("MAC_SENDER=off: no notification sender in this process; run `notify send` instead.")
            return None
        if _process_sender is None or not _process_sender.running:
            _process_sender = Sender(settings=settings).start()
        return _process_sender


def stop_sender() -> None:
    """Stop this process's sender, if one runs (the web server's shutdown)."""
    global _process_sender
    with _process_lock:
        sender, _process_sender = _process_sender, None
    if sender is not None and not sender.stop():
        log.warning("Notification sender still busy at shutdown; its thread ends with the process.")


def sender_running() -> bool:
    """Whether this process runs a sender now (the pages say who delivers a notice)."""
    return _process_sender is not None and _process_sender.running
