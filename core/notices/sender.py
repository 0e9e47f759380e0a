"""The sender beside the dashboard: one thread a process that delivers due notices.

Each console server process runs one ``Sender`` (``start_sender`` at start-up,
``stop_sender`` at shutdown): a daemon thread that runs ``delivery.send_pending`` when woken
(``wakeup``) and at least every ``POLL_SECONDS``. A notice queued by this server's pages is
delivered at once; one queued elsewhere (the command line, another replica) within
``POLL_SECONDS``; a failed one within ``POLL_SECONDS`` of its next retry time. The loop logs
every failed delivery and every failed pass (database unreachable, malformed ``SMTP_URL``)
and goes on; it never dies on an exception. ``MAC_SENDER=off`` starts no sender.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine

from core.notices import wakeup
from core.notices.claims import error_text
from core.notices.delivery import send_pending
from core.notices.transports import SMTP_TIMEOUT_SECONDS
from core.platform.config import Settings, get_settings
from core.platform.db import get_engine

log = logging.getLogger(__name__)

# The sender's longest wait between two looks at the queue, in seconds.
POLL_SECONDS = 5.0
# Rows a sender's pass takes at once; a full batch is followed by another pass at once.
BATCH = 100


class Sender:
    """A thread that delivers due notifications: on every ``wake`` and every ``interval`` s.

    Each pass is one ``send_pending`` (so every rule of ``core.notices`` holds: claim,
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
        """Whether the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Sender:
        """Start the thread (once); the sender itself, for chaining."""
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
        with wakeup.condition:
            self._stopping = True
            wakeup.condition.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def _run(self) -> None:
        log.info("Notification sender started (every %s s and after each queued notice).", self.interval)
        while not self._stopping:
            # Read before the pass: a wake during the pass makes the next one start at once.
            seen = wakeup.count()
            full = self._pass()
            if full:
                continue
            with wakeup.condition:
                wakeup.condition.wait_for(
                    lambda s=seen: self._stopping or wakeup.count() != s, timeout=self.interval
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
