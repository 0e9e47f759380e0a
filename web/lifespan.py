"""What runs beside the web server for as long as it runs: the customer-notice sender."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.concurrency import run_in_threadpool

from core.notices import sender


@asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[None]:
    """The customer-notification sender runs beside the server, once a process
    (``core.notices.sender.start_sender``; none with ``MAC_SENDER=off``), and stops with it."""
    sender.start_sender()
    try:
        yield
    finally:
        await run_in_threadpool(sender.stop_sender)
