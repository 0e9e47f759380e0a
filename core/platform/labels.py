"""Labels a person types to name a thing (a device's app password, a mail server's token)."""

from __future__ import annotations

from core.platform.errors import BadInput

MAX_LABEL_CHARS = 64


def clean_label(label: str | None, *, missing: str, what: str) -> str:
    """``label`` as stored: printable characters only, each run of spaces one space, at most
    ``MAX_LABEL_CHARS``. ``missing`` is the refusal for a blank label; ``what`` names the
    label in the refusal of a long one ("An app password label")."""
    text = " ".join("".join(ch for ch in (label or "") if ch.isprintable()).split())
    if not text:
        raise BadInput(missing)
    if len(text) > MAX_LABEL_CHARS:
        raise BadInput(f"{what} has at most {MAX_LABEL_CHARS} characters.")
    return text
