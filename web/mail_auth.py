"""``POST /api/mail-auth``: a mail server asks whether a mail client may sign in.

Called by a mail server (the Lua passdb in ``deploy/dovecot/``), never by a browser: it
proves itself with ``Authorization: Bearer <token>`` (``core.access.mail_auth_tokens``),
reads no cookie, and the gate lets the path through without a session or an Origin
(``web.paths.is_bearer_path``). The body is JSON with exactly four strings:
``{"user", "password", "protocol", "remote_ip"}``. Answers:

- 200 ``{"result": "ok", "via": "app_password" | "password", "label": <app password's label or null>}``;
- 401 ``{"result": "refused", "reason": <one sentence, the rule that refused>}``;
- 403 for a missing, unknown or revoked token (checked before the body is read further);
- 400 for a malformed body: not JSON, not an object of those four strings, a protocol that
  is not one of ``imap, pop3, smtp, sieve, dav``, a remote_ip that is not an address.

The rules are ``core.mailboxes.mail_auth.check``; this module speaks HTTP. The database
work runs in a worker thread, one short write transaction a request. No answer and no log
line holds the password or the token.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse

from core.access.mail_auth_tokens import token_ok
from core.mailboxes.mail_auth import check
from core.platform.errors import BadInput
from web.db import call

FIELDS = ("user", "password", "protocol", "remote_ip")
MAX_BODY = 16 * 1024
_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


@dataclass(frozen=True)
class Login:
    user: str
    password: str
    protocol: str
    remote_ip: str


def bearer_token(values: list[str]) -> str | None:
    """The token of one ``Authorization: Bearer <token>`` header (RFC 6750 §2.1), else None."""
    if len(values) != 1:
        return None
    scheme, _, token = values[0].strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


def parse_login(body: bytes | None) -> Login:
    """The login a mail server posted, or ``BadInput`` saying what is wrong with the body.

    ``None`` is a body longer than ``MAX_BODY``, which was not read to its end.
    """
    if body is None:
        raise BadInput(f"The body is larger than {MAX_BODY} bytes.")
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadInput("The body is not JSON.") from None
    if not isinstance(data, dict):
        raise BadInput(f"The body must be a JSON object with {', '.join(FIELDS)}.")
    missing = [f for f in FIELDS if f not in data]
    extra = sorted(k for k in data if k not in FIELDS)
    if missing or extra:
        problems = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"unexpected {', '.join(repr(k[:40]) for k in extra)}"] if extra else []
        )
        raise BadInput(f"The body must hold exactly {', '.join(FIELDS)}: {'; '.join(problems)}.")
    not_text = [f for f in FIELDS if not isinstance(data[f], str)]
    if not_text:
        raise BadInput(f"{', '.join(not_text)} must be strings.")
    return Login(**{f: data[f] for f in FIELDS})


async def read_body(request: Request) -> bytes | None:
    """The body, or None once it passes ``MAX_BODY``: a caller whose token is not yet checked
    cannot make the server hold more than that."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _answer(session: Session, token: str, body: bytes | None) -> tuple[int, dict[str, Any]]:
    if not token_ok(session, token):
        return 403, _forbidden_body()
    try:
        login = parse_login(body)
        outcome = check(
            session,
            user=login.user,
            password=login.password,
            protocol=login.protocol,
            remote_ip=login.remote_ip,
        )
    except BadInput as exc:
        return 400, {"result": "malformed", "reason": str(exc)}
    if outcome.ok:
        return 200, {"result": "ok", "via": outcome.via, "label": outcome.label}
    return 401, {"result": "refused", "reason": outcome.reason}


def _forbidden_body() -> dict[str, Any]:
    return {
        "result": "forbidden",
        "reason": "A live mail-server token is needed: Authorization: Bearer <token> "
        "(python -m core mail-auth token create).",
    }


async def mail_auth(request: Request) -> JSONResponse:
    """The route: the token first, then the body, then the rules (in a worker thread)."""
    token = bearer_token(request.headers.getlist("authorization"))
    if token is None:
        return JSONResponse(_forbidden_body(), status_code=403, headers=_HEADERS)
    body = await read_body(request)
    status, answer = await call(_answer, token, body)
    return JSONResponse(answer, status_code=status, headers=_HEADERS)
