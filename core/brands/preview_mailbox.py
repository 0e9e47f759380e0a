"""The Branding sandbox's demo mailbox: the one mailbox "Drive the preview" checks codes of.

The sandbox lets an account manager enter a code to see the 2FA pop-up's success and
error states. Checking that code against a real customer's mailbox would count a wrong
code towards that customer's sign-in throttle (five lock them out) and use up a right one
(RFC 6238 §5.2 replay guard), with no audit event. So each brand has a demo mailbox
instead, which exists for this purpose only:

* its address is ``preview@<brand>.invalid``: ``.invalid`` is reserved (RFC 2606 §2), so
  no customer can ever have it, and the page says it is "not a real customer";
* it is virtual: no ``users`` row. Its TOTP secret is derived from the console's key and
  the brand's id (HMAC-SHA256 through :func:`core.platform.crypto.sign`), so it is the same on
  every server and every page load of one installation, survives a rename of the brand,
  and cannot be worked out without the key;
* the page shows its current code, as ``operators totp`` does for the demo operators;
* :func:`drive` is what an operator's "Verify" calls: the roles that may work on a brand's
  look (``brand.preview`` in ``core.access.permissions.PERMISSIONS``) may drive it, any
  other is refused; it then checks the code with :func:`verify`;
* :func:`verify` is a pure function of the mailbox, the code and the clock: it reads and
  writes nothing, so no customer's row, throttle or replay guard can be touched from the
  sandbox. For the same reason it keeps no replay guard or throttle of its own: the code
  is on the page, so there is nothing to guard. Its :class:`PreviewAuthenticator` stores
  no step (the replay guard always starts afresh) and is not throttled.

Codes follow the platform's rule (RFC 6238: SHA-1, 6 digits, 30 s, one step of drift
either way) through the same :class:`core.platform.authenticator.Authenticator` check as
a customer's mailbox, so the pop-up shows what a customer would see.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from dataclasses import dataclass

from sqlmodel import Session

from core.access.permissions import Actor, authorize
from core.brands.switches import get_brand
from core.mailboxes.mailbox_login import LoginOutcome
from core.platform.authenticator import Authenticator
from core.platform.crypto import sign

__all__ = [
    "DRIVE",
    "PreviewAuthenticator",
    "PreviewMailbox",
    "current_code",
    "drive",
    "preview_mailbox",
    "verify",
]

NOT_A_CUSTOMER = "demo mailbox (not a real customer)"
DRIVE = "brand.preview"  # the permission to drive the preview


@dataclass(frozen=True)
class PreviewMailbox:
    """The demo mailbox of one brand; ``asks_for_code`` is the brand's ``allow_2fa``."""

    brand: str
    brand_id: int
    address: str
    asks_for_code: bool

    @property
    def label(self) -> str:
        return f"{self.address}, the {NOT_A_CUSTOMER} of {self.brand}"


def _address(name: str, brand_id: int) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:50].strip("-")
    return f"preview@{slug or f'brand-{brand_id}'}.invalid"


def _secret(brand_id: int) -> str:
    """The mailbox's base32 TOTP secret: 160 bits (RFC 4226 §4) of HMAC over the brand id."""
    digest = bytes.fromhex(sign(f"branding-preview-mailbox:{brand_id}"))[:20]
    return base64.b32encode(digest).decode()


def preview_mailbox(session: Session, *, brand: str) -> PreviewMailbox:
    """The demo mailbox of the brand named ``brand`` (NotFound when there is none)."""
    row = get_brand(session, brand)
    return PreviewMailbox(
        brand=row.name,
        brand_id=row.id,
        address=_address(row.name, row.id),
        asks_for_code=bool(row.allow_2fa),
    )


class PreviewAuthenticator(Authenticator):
    """The demo mailbox's authenticator: a secret derived from the brand id, no step stored."""

    def __init__(self, mailbox: PreviewMailbox) -> None:
        self.mailbox = mailbox

    def secret(self) -> str:
        return _secret(self.mailbox.brand_id)

    @property
    def last_step(self) -> int | None:
        return None

    def accept(self, step: int) -> None:
        """Nothing to remember: the demo mailbox's code is on the page."""


def current_code(mailbox: PreviewMailbox, *, now: float | None = None) -> str:
    """The code the demo mailbox's authenticator shows now (or at ``now``)."""
    return PreviewAuthenticator(mailbox).current_code(now=now)


def verify(mailbox: PreviewMailbox, *, code: str, now: float | None = None) -> LoginOutcome:
    """Would the brand's 2FA pop-up accept ``code`` for the demo mailbox? Reads and writes nothing."""
    if not mailbox.asks_for_code:
        return LoginOutcome(
            ok=False, rule="2fa_off", message=f"{mailbox.brand} has 2FA off: its pop-up asks for no code."
        )
    verdict = PreviewAuthenticator(mailbox).check(code, now=now)
    if verdict.reason == "malformed":
        return LoginOutcome(ok=False, rule="code_malformed", message=verdict.message)
    if not verdict.ok:
        return LoginOutcome(
            ok=False, rule="code_wrong", message="That code is not valid. Try the current code."
        )
    return LoginOutcome(ok=True, rule="ok", message="Code accepted.")


def drive(mailbox: PreviewMailbox, *, actor: Actor, code: str, now: float | None = None) -> LoginOutcome:
    """``verify`` for an operator driving the preview; PermissionDenied for a role that may not.

    The role check alone (``authorize``), as for any read that writes nothing.
    """
    authorize(actor, DRIVE)
    return verify(mailbox, code=code, now=now)
