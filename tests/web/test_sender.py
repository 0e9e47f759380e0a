"""The server delivers customer notices itself: ``streamlit run server.py`` starts a sender.

A notice queued by another process (the command line's 2FA reset) is written to the
server's outbox (no ``SMTP_URL``) and marked sent, with nothing else running ``notify send``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from core.platform.db import dispose_engines, session_scope
from core.platform.models import Brand, Notification
from tests.core.test_notify import wait_until
from tests.factories import make_domain, make_user
from tests.live_server import Server, new_server

pytestmark = pytest.mark.slow
EMAIL = "ann@sender.example.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    s = new_server(tmp_path_factory.mktemp("sender"))
    s.env.pop("SMTP_URL", None)
    s.env.pop("MAC_SENDER", None)
    s.add_operators()
    with session_scope(s.engine, write=True) as db:
        brand = Brand(name="Sender Mail", allow_2fa=True)
        db.add(brand)
        db.flush()
        make_user(db, make_domain(db, brand, "sender.example.com"), "ann", twofa=True)
    dispose_engines()
    try:
        s.start()
        yield s
    finally:
        s.stop()
        dispose_engines()


def test_a_notice_queued_elsewhere_is_delivered_by_the_running_server(server):
    reset = server.cli("users", "reset-2fa", EMAIL, "--actor", "admin", "--reason", "lost phone")
    assert reset.returncode == 0, reset.stderr
    with session_scope(server.engine) as s:
        nid = s.scalars(select(Notification.id).where(Notification.recipient == EMAIL)).one()
    eml = server.tmp / "outbox" / f"{nid}-2fa_reset.eml"
    # Within the sender's 5-second poll, with room for a loaded machine.
    wait_until(eml.is_file, timeout=30, what="the server's sender writing the notice")
    assert EMAIL in eml.read_text()

    def sent() -> bool:
        with session_scope(server.engine) as s:
            return s.get(Notification, nid).status == "sent"

    wait_until(sent, what="the notice marked sent")
