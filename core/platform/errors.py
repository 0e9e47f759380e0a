"""The errors a service raises. Each carries one plain sentence for the person.

The command line maps them to exit codes: ``BadInput`` is 2, every other ``CoreError`` 1.
"""

from __future__ import annotations


class CoreError(Exception):
    """A request the core refused. ``str(err)`` is the sentence shown to the person."""

    exit_code = 1


class NotFound(CoreError):
    """The brand, user, operator or app password named does not exist."""


class Refused(CoreError):
    """A rule of the product stops the request (cap reached, switch off, throttled...)."""


class Conflict(CoreError):
    """Someone else changed the object since it was loaded (optimistic concurrency)."""


class PermissionDenied(CoreError, PermissionError):
    """The acting operator's role may not do this."""


class BadInput(CoreError, ValueError):
    """The input itself is malformed; nothing was changed."""

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []
