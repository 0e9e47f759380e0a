"""Database calls from the async routes, each a short transaction in a worker thread, and
the operator behind a request's session cookie."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from core.access import sessions
from core.access.permissions import Actor
from core.access.sessions import SESSION_COOKIE
from core.platform.db import get_engine, session_scope
from web.cookies import token_from_cookie

T = TypeVar("T")


def _in_session(fn: Callable[..., T], *args: Any, write: bool = True, **kwargs: Any) -> T:
    # Sign-in steps run in a write session: a failure is recorded and must be committed.
    with session_scope(get_engine(), write=write) as s:
        return fn(s, *args, **kwargs)


async def call(fn: Callable[..., T], *args: Any, write: bool = True, **kwargs: Any) -> T:
    """``fn(session, *args, **kwargs)`` in its own transaction, in a worker thread."""
    return await run_in_threadpool(_in_session, fn, *args, write=write, **kwargs)


async def actor_of(conn: HTTPConnection) -> Actor | None:
    """The operator behind the request's session cookie, or None (forged cookies never reach the db)."""
    token = token_from_cookie(conn.cookies.get(SESSION_COOKIE))
    if token is None:
        return None
    return await call(sessions.session_actor, token)
