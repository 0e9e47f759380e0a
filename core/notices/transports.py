"""Handing one message over: to the SMTP server of ``SMTP_URL``, or to the outbox folder.

* SMTP: through ``smtplib``, one connection per message, ``SMTP_TIMEOUT_SECONDS`` a step;
  STARTTLS and implicit TLS verify the server's certificate.
* Outbox (no ``SMTP_URL``): ``<data dir>/outbox/<id>-<kind>.eml`` (RFC 5322 bytes), written
  atomically: a temporary file in the same directory, then ``os.replace``, so a reader never
  sees half a message. The messages name customers and what changed on their mailbox: the
  outbox is made 0700 (the data folder too, when it is made here) and each file is 0600.
"""

from __future__ import annotations

import contextlib
import os
import re
import smtplib
import ssl
import tempfile
from email.message import EmailMessage
from pathlib import Path

from core.notices.claims import Claimed
from core.notices.destination import Destination
from core.notices.smtp_url import SmtpTarget
from core.platform.config import make_private_dir

SMTP_TIMEOUT_SECONDS = 10

_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9_.-]+")


def deliver(destination: Destination, item: Claimed, msg: EmailMessage) -> None:
    """Hand ``msg`` over where ``destination`` says; any failure raises."""
    if destination.smtp is not None:
        send_smtp(destination.smtp, msg)
    elif destination.outbox is not None:
        write_outbox(destination.outbox, item, msg)
    else:
        raise ValueError(f"a {destination.transport} destination names nowhere to deliver")


def send_smtp(target: SmtpTarget, msg: EmailMessage) -> None:
    """Hand ``msg`` to the SMTP server; any refusal or network error raises."""
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


def write_outbox(outbox: Path, item: Claimed, msg: EmailMessage) -> Path:
    """Write ``msg`` as ``<id>-<kind>.eml`` in ``outbox``, whole or not at all; the file's path."""
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
