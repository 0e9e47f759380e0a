"""What the check returns: findings, each with its place as data, and the report.

A finding's ``message`` is one sentence about what was found and why, with no
location in it: ``line`` and ``column`` carry that, and whoever shows the
finding places it (the Branding page has a Line column, the command line
writes "line L, column C: ", :class:`CssRejected` writes "Line L: ").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tinycss2 import ast

from core.brands.css.colour import ContrastResult
from core.platform.errors import BadInput

__all__ = ["MAX_WARNINGS_PER_RULE", "CssFinding", "CssRejected", "CssReport", "Findings", "Level"]

# At most this many warnings of one kind are reported.
MAX_WARNINGS_PER_RULE = 50

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class CssFinding:
    """One problem found in the CSS, with where it starts (1-based)."""

    level: Level
    line: int
    column: int
    rule: str
    message: str


@dataclass(frozen=True)
class CssReport:
    """The outcome of :func:`core.brands.css.check.check_css`.

    ``css`` is what would be stored: the re-serialized CSS when there is no
    error, and the empty string when the CSS is refused (nothing of refused CSS
    should ever travel further).
    """

    css: str
    findings: tuple[CssFinding, ...]
    contrast: tuple[ContrastResult, ...] = ()

    @property
    def errors(self) -> tuple[CssFinding, ...]:
        return tuple(f for f in self.findings if f.level == "error")

    @property
    def warnings(self) -> tuple[CssFinding, ...]:
        return tuple(f for f in self.findings if f.level == "warning")

    @property
    def ok(self) -> bool:
        return not self.errors


def _with_line(finding: CssFinding) -> str:
    return f"Line {finding.line}: {finding.message}"


class CssRejected(BadInput):
    """Raised by :func:`core.brands.css.check.validate_css` (and the preview) for refused CSS.

    ``str()`` is the sentence for the person: every error on its own line,
    starting with the line it is on.
    """

    def __init__(self, report: CssReport) -> None:
        self.report = report
        super().__init__("The CSS was refused.", [_with_line(f) for f in report.errors])

    def __str__(self) -> str:
        errors = self.report.errors
        lines = [f"The CSS was refused ({len(errors)} error(s)):"]
        lines += [f"- {_with_line(f)}" for f in errors]
        return "\n".join(lines)


def _place(node: ast.Node | tuple[int, int]) -> tuple[int, int]:
    return node if isinstance(node, tuple) else (node.source_line, node.source_column)


class Findings:
    """The findings of one pass over one text, each problem kept once."""

    def __init__(self) -> None:
        self._found: dict[tuple[object, ...], CssFinding] = {}
        self._warnings: dict[str, int] = {}

    def add(self, level: Level, line: int, column: int, rule: str, message: str) -> None:
        # The same problem is often seen by more than one pass (a token check
        # and the raw-text scan): keep each error rule once per line, at its
        # first column, and each warning once per position.
        key = (level, rule, line) if level == "error" else (level, rule, line, column)
        known = self._found.get(key)
        if known is not None and known.column <= column:
            return
        self._found[key] = CssFinding(level, line, column, rule, message)

    def error(self, node: ast.Node | tuple[int, int], rule: str, message: str) -> None:
        """An error at a token, or at a (line, column)."""
        self.add("error", *_place(node), rule, message)

    def warn(self, node: ast.Node | tuple[int, int], rule: str, message: str) -> None:
        # Advice, not a verdict: past a screenful of the same warning more of
        # it helps nobody (64 KiB of "a," would otherwise give 32,000).
        count = self._warnings.get(rule, 0)
        if count >= MAX_WARNINGS_PER_RULE:
            return
        self._warnings[rule] = count + 1
        self.add("warning", *_place(node), rule, message)

    def error_lines(self) -> set[int]:
        """The lines that have an error so far."""
        return {f.line for f in self._found.values() if f.level == "error"}

    def result(self) -> tuple[CssFinding, ...]:
        """Every finding in the order of the text, errors before warnings at one place."""
        return tuple(sorted(self._found.values(), key=lambda f: (f.line, f.column, f.level != "error")))
