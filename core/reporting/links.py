"""Signed, short-lived download links for the large CSV exports.

``st.download_button`` holds the whole file in the server's memory, so a million-row
export is served by a route of the web adapter instead, streaming from a server-side
cursor. The page asks for a link here; the link names the report, its filters, the
operator it was made for and when it expires, with an HMAC over all of it. The route
serves it only to that operator, signed in, whose role may export, before it expires.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode

from core.access.permissions import Actor, authorize
from core.platform.audit import AuditFilter
from core.platform.crypto import sign, signature_ok
from core.platform.errors import BadInput, PermissionDenied
from core.reporting.search_query import UserSearch

LINK_SECONDS = 300
DOWNLOAD_PATH = "/download/export.csv"
KINDS = ("users", "adoption", "audit")
_FIELDS = (
    "kind",
    "by",
    "text",
    "brand",
    "domain",
    "twofa",
    "appw",
    "status",
    "actor",
    "action",
    "user",
    "since",
    "until",
    "bom",
    "op",
    "exp",
)


@dataclass(frozen=True)
class ExportRequest:
    """What one download link asks for."""

    kind: str
    by: str = "brand"
    text: str = ""
    brand: str = ""
    domain: str = ""
    twofa: str = ""
    appw: str = ""  # the app-password filter of a user search
    status: str = ""
    actor: str = ""  # the audit log's filters
    action: str = ""
    user: str = ""
    since: str = ""  # YYYY-MM-DD, UTC
    until: str = ""
    bom: bool = False

    @classmethod
    def for_search(cls, search: UserSearch, **kw: object) -> ExportRequest:
        return cls(
            kind="users",
            text=search.text,
            brand=search.brand or "",
            domain=search.domain or "",
            twofa=search.twofa or "",
            appw=search.app_passwords or "",
            status=search.status or "",
            **kw,
        )

    @classmethod
    def for_audit(cls, f: AuditFilter, **kw: object) -> ExportRequest:
        return cls(
            kind="audit",
            brand=f.brand or "",
            actor=f.actor or "",
            action=f.action or "",
            user=f.user_email or "",
            since=f.since.strftime("%Y-%m-%d") if f.since else "",
            until=f.until.strftime("%Y-%m-%d") if f.until else "",
            **kw,
        )

    def search(self) -> UserSearch:
        return UserSearch(
            text=self.text,
            brand=self.brand or None,
            domain=self.domain or None,
            twofa=self.twofa or None,  # type: ignore[arg-type]
            app_passwords=self.appw or None,  # type: ignore[arg-type]
            status=self.status or None,  # type: ignore[arg-type]
        )

    def audit_filter(self) -> AuditFilter:
        return AuditFilter(
            brand=self.brand or None,
            actor=self.actor or None,
            action=self.action or None,
            user_email=self.user or None,
            since=_day(self.since),
            until=_day(self.until),
        )

    def filename(self) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
        return f"mac-{self.kind}{'-by-' + self.by if self.kind == 'adoption' else ''}-{stamp}.csv"


def _day(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise BadInput(f"{value!r} is not a date as YYYY-MM-DD.") from None


def _payload(values: dict[str, str]) -> str:
    return "download|" + "|".join(f"{k}={values.get(k, '')}" for k in _FIELDS)


def make_link(actor: Actor, request: ExportRequest, *, now: float | None = None) -> str:
    """A relative URL that downloads ``request`` for ``actor`` within LINK_SECONDS."""
    authorize(actor, "export")
    if request.kind not in KINDS:
        raise BadInput(f"There is no {request.kind!r} report; choose one of {', '.join(KINDS)}.")
    values = {f: str(getattr(request, f)) for f in _FIELDS if f not in ("bom", "op", "exp")}
    values.update(
        bom="1" if request.bom else "",
        op=actor.name,
        exp=str(int((time.time() if now is None else now) + LINK_SECONDS)),
    )
    values = {k: v for k, v in values.items() if v}
    return f"{DOWNLOAD_PATH}?{urlencode({**values, 'sig': sign(_payload(values))})}"


def read_link(query: str, actor: Actor | None, *, now: float | None = None) -> ExportRequest:
    """The request behind a link, if it is genuine, fresh and meant for ``actor``."""
    params = dict(parse_qsl(query, keep_blank_values=False))
    sig = params.pop("sig", "")
    if set(params) - set(_FIELDS) or not signature_ok(_payload(params), sig):
        raise PermissionDenied("This download link is not valid; make a new one on the Reports page.")
    if int(params.get("exp", "0")) < (time.time() if now is None else now):
        raise PermissionDenied("This download link has expired; make a new one on the Reports page.")
    if actor is None or actor.name != params.get("op"):
        raise PermissionDenied("This download link was made for another operator; make your own.")
    authorize(actor, "export")
    fields = {f: params.get(f, "") for f in _FIELDS if f not in ("bom", "op", "exp", "kind", "by")}
    return ExportRequest(
        kind=params["kind"], by=params.get("by", "brand"), bom=params.get("bom") == "1", **fields
    )
