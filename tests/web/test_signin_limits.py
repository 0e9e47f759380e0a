"""The real server.py: one client address may make only so many password attempts a minute.

The limit (``MAC_SIGNIN_PER_MINUTE``, here 3) is checked before the database and the
password hash, so a flood neither costs other operators anything nor fills the audit log.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from core.access.client_limit import CLIENT_LIMITED
from core.platform.db import session_scope
from core.platform.models import AuditEvent, LoginFailure
from tests.live_server import Server, new_server
from tests.web.test_server import Client, password_step


@pytest.fixture(scope="module")
def limited(tmp_path_factory) -> Iterator[Server]:
    s = new_server(tmp_path_factory.mktemp("limits"))
    s.env["MAC_SIGNIN_PER_MINUTE"] = "3"
    s.add_operators()
    try:
        s.start()
        yield s
    finally:
        s.stop()


def counts(server: Server) -> tuple[int, int]:
    with session_scope(server.engine) as s:
        return (
            s.scalar(select(func.count()).select_from(LoginFailure)),
            s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("%sign_in%"))),
        )


def test_a_fourth_attempt_in_a_minute_is_refused_before_anything_is_written(limited):
    c = Client(limited.base)
    for _ in range(3):
        page = password_step(c, "admin", "not the password")
        assert page.status_code == 200 and "Wrong username, password or code." in page.text
    assert counts(limited) == (3, 3)
    refused = password_step(c, "admin", "not the password")
    assert refused.status_code == 429
    assert CLIENT_LIMITED.replace("'", "&#x27;") in refused.text
    assert counts(limited) == (3, 3)
