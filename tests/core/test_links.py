"""Signed download links carry every filter, and refuse the wrong operator, role or time."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

from core.access.permissions import Actor
from core.platform.audit import AuditFilter
from core.platform.errors import PermissionDenied
from core.reporting import links
from core.reporting.search_query import UserSearch

ANA = Actor(name="ana", role="analyst")


def _query(link: str) -> str:
    return urlsplit(link).query


def test_a_user_search_round_trips():
    search = UserSearch(
        text="anna",
        brand="Alpha Mail",
        domain="a.example.com",
        twofa="dormant",
        app_passwords="some",
        status="active",
    )
    got = links.read_link(_query(links.make_link(ANA, links.ExportRequest.for_search(search))), ANA)
    assert got.kind == "users" and got.search() == search


def test_an_audit_filter_round_trips():
    f = AuditFilter(
        actor="support",
        action="user.2fa_reset",
        brand="Alpha Mail",
        user_email="a@b.example.com",
        since=datetime(2026, 1, 1, tzinfo=UTC),
        until=datetime(2026, 2, 1, tzinfo=UTC),
    )
    got = links.read_link(_query(links.make_link(ANA, links.ExportRequest.for_audit(f))), ANA)
    assert got.audit_filter() == f


def test_refusals():
    link = _query(links.make_link(ANA, links.ExportRequest(kind="users")))
    with pytest.raises(PermissionDenied, match="another operator"):
        links.read_link(link, Actor(name="bob", role="admin"))
    with pytest.raises(PermissionDenied, match="expired"):
        links.read_link(link, ANA, now=time.time() + links.LINK_SECONDS + 5)
    with pytest.raises(PermissionDenied, match="not valid"):
        links.read_link(link.replace("kind=users", "kind=audit"), ANA)
    with pytest.raises(PermissionDenied):
        links.make_link(Actor(name="someone", role="customer"), links.ExportRequest(kind="users"))
