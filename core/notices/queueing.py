"""Queueing a notice in the caller's transaction, so it exists exactly when the change does."""

from __future__ import annotations

from sqlmodel import Session

from core.notices.wakeup import WAKE_ON_COMMIT
from core.platform.errors import BadInput
from core.platform.models import Notification


def queue(
    session: Session,
    *,
    user_id: int,
    recipient: str,
    kind: str,
    subject: str,
    body: str,
) -> Notification:
    """Add one pending notification to ``session``; the caller's transaction commits it.

    The recipient is one plain address and the subject one line (both become headers);
    anything else raises ``BadInput`` naming every problem, and nothing is added.
    """
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
    session.info[WAKE_ON_COMMIT] = True
    return notification
