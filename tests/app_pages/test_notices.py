"""The customer notices on the Users page: a mailbox's list, and the reset dialog's notice.

Rows come from the factories or from a real reset through the dialog; deliveries are real
(``delivery.send_pending`` to an aiosmtpd server on loopback, as the sender does).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from core.notices import delivery
from core.platform.config import get_settings
from core.platform.db import session_scope
from core.platform.models import Domain, Notification, utcnow
from tests.app_pages.conftest import frame, html, texts
from tests.core.test_notify import Refusing, SmtpServer
from tests.factories import make_user

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
HOSTILE = "see [help](http://127.0.0.1:9/h) www.evil.example"


@pytest.fixture
def mailboxes(engine: Engine, basic: dict) -> dict:
    """ann (2FA) and bob in Alpha Mail."""
    with session_scope(engine, write=True) as s:
        alpha = s.scalars(select(Domain).where(Domain.name == basic["d_on"])).one()
        ann = make_user(s, alpha, "ann", twofa=True)
        bob = make_user(s, alpha, "bob")
        return {"ann": ann.email, "ann_id": ann.id, "bob_id": bob.id}


def notice(user_id: int, email: str, subject: str, **fields) -> Notification:
    return Notification(
        user_id=user_id, recipient=email, kind="2fa_reset", subject=subject, body="", **fields
    )


def test_a_user_page_lists_the_mailbox_notices_with_their_states(open_page, engine, mailboxes):
    ann, ann_id = mailboxes["ann"], mailboxes["ann_id"]
    with session_scope(engine, write=True) as s:
        s.add_all(
            [
                notice(
                    ann_id,
                    ann,
                    "Sent one",
                    created_at=T0,
                    status="sent",
                    attempts=1,
                    sent_at=T0 + timedelta(minutes=1),
                ),
                notice(
                    ann_id,
                    ann,
                    "Failed one",
                    created_at=T0 + timedelta(hours=1),
                    attempts=2,
                    next_attempt_at=T0 + timedelta(hours=1, minutes=6),
                    last_error="SMTPRecipientsRefused: 550 mailbox unavailable",
                ),
                notice(ann_id, ann, "Queued one", created_at=T0 + timedelta(hours=2)),
                notice(mailboxes["bob_id"], "bob@alpha.example.com", "Not Ann's", created_at=T0),
            ]
        )
    at = open_page("users", as_="support", user=ann)
    assert not at.exception
    table = frame(at, "State")
    assert table.to_dict("records") == [
        {"Queued": "2026-03-01 11:30 UTC", "Subject": "Queued one", "State": "queued"},
        {
            "Queued": "2026-03-01 10:30 UTC",
            "Subject": "Failed one",
            "State": "failed, attempt 2; next retry at 2026-03-01 10:36 UTC "
            "(last error: SMTPRecipientsRefused: 550 mailbox unavailable)",
        },
        {"Queued": "2026-03-01 09:30 UTC", "Subject": "Sent one", "State": "sent at 2026-03-01 09:31 UTC"},
    ]
    outbox = get_settings().outbox_dir
    assert (
        f"Notices are written to {outbox} (no SMTP_URL set); no sender runs in this process: they go out "
        "when python -m core notify send runs."
    ) in texts(at)

    # The sender marks a row in another thread: "Refresh" shows it, no cache in the way.
    with session_scope(engine, write=True) as s:
        row = s.scalars(select(Notification).where(Notification.subject == "Queued one")).one()
        row.status, row.attempts, row.sent_at = "sent", 1, T0 + timedelta(hours=3)
    at.button("users_notices_refresh").click().run()
    assert frame(at, "State")["State"].tolist()[0] == "sent at 2026-03-01 12:30 UTC"


def test_a_mailbox_without_notices_says_so(open_page, mailboxes):
    at = open_page("users", as_="support", user=mailboxes["ann"])
    assert "No notice has been queued for this mailbox." in texts(at)
    assert not any("State" in d.value.columns for d in at.dataframe)


def test_the_reset_dialog_follows_its_notice_to_the_smtp_server(open_page, engine, mailboxes, monkeypatch):
    ann = mailboxes["ann"]
    handler = Refusing({ann})
    with SmtpServer(handler=handler) as server:
        handler.reply = f"550 {HOSTILE}"
        monkeypatch.setenv("SMTP_URL", server.url)
        get_settings.cache_clear()
        at = open_page("users", as_="support", user=ann)
        at.button("users_reset_open").click().run()
        at.selectbox("users_reset_reason").select("lost phone").run()
        at.button("users_reset_confirm").click().run()
        assert not at.exception
        shown = texts(at)
        assert (
            f"Notices go to the SMTP server 127.0.0.1:{server.port}; no sender runs in this process" in shown
        )
        assert "Notice: queued" in shown

        # A first delivery is refused with text that would be a link: shown as text, with the retry.
        started = utcnow()
        assert delivery.send_pending().failed == 1
        at.button("users_notice_refresh").click().run()
        assert not at.exception
        line = next(t for t in texts(at).splitlines() if t.startswith("Notice: "))
        assert line.startswith("Notice: failed, attempt 1; next retry at ")
        assert HOSTILE in line and "(last error: SMTPRecipientsRefused" in line
        assert "<a" not in html(at) and 'href="http://127.0.0.1:9' not in html(at)
        with session_scope(engine) as s:
            retry = s.scalars(select(Notification)).one().next_attempt_at
        assert retry >= started + timedelta(minutes=1)

        # The retry goes through: the dialog and the list show it sent.
        handler.refused.clear()
        assert delivery.send_pending(now=retry).sent == 1
        at.button("users_notice_refresh").click().run()
        assert f"Notice: sent at {retry:%Y-%m-%d %H:%M} UTC" in texts(at)
        assert [m["To"] for m in server.handler.messages] == [ann]
    at.button("users_reset_close").click().run()
    assert not at.exception
    assert frame(at, "State")["State"].tolist() == [f"sent at {retry:%Y-%m-%d %H:%M} UTC"]
