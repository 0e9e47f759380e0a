"""``/download/export.csv``: a large CSV export behind a signed link (``core.reporting.links``), streamed."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from core.platform.db import get_engine
from core.platform.errors import CoreError
from core.reporting import links
from core.reporting.exports import files
from web import db


async def download(request: Request) -> Response:
    """A large CSV export, streamed from a server-side cursor (core.reporting.links, core.reporting.exports.files).

    The gate has checked the session already; the link must also be genuine, fresh and
    made for this operator. The CSV is produced in a worker thread chunk by chunk, so
    other operators' pages stay responsive and memory stays flat.
    """
    actor = await db.actor_of(request)
    try:
        wanted = links.read_link(request.url.query, actor)
        search, audit_filter = wanted.search(), wanted.audit_filter()
    except CoreError as exc:
        return PlainTextResponse(str(exc), status_code=403 if exc.exit_code == 1 else 400)
    chunks = files.iter_csv(
        wanted.kind,
        engine=get_engine(),
        search=search,
        audit_filter=audit_filter,
        by=wanted.by,
        brand=wanted.brand or None,
        bom=wanted.bom,
    )
    return StreamingResponse(
        (chunk.encode("utf-8") for chunk in chunks),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{wanted.filename()}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
