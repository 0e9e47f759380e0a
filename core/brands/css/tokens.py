"""The token walk: every token, wherever it sits, read as tinycss2 decoded it.

Blocks, functions and at-rules are walked whatever rule they are part of, so a
URL inside ``@media``, ``@supports``, a nested rule or an unknown at-rule's
prelude is checked like one at the top level.  ``@import`` and
``@namespace`` are refused outright (both name an address); ``@charset`` only
counts as the very first bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from tinycss2 import ast

from core.brands.css.parsing import parse_error
from core.brands.css.report import Findings
from core.brands.css.text import Source, is_forbidden_char, shorten
from core.brands.css.urls import check_function, check_url

__all__ = ["walk_tokens"]

_CHARSET_START_RE = re.compile(r'@charset "[^"]*";')


def walk_tokens(source: Source, findings: Findings, nodes: Iterable[ast.Node], *, root: bool = False) -> None:
    """Check every token of ``nodes`` and of the blocks and functions inside them."""
    for index, node in enumerate(nodes):
        kind = node.type
        if kind == "error":
            parse_error(findings, node)
            continue
        for value in _token_strings(node):
            _check_token_value(findings, node, value)
        if kind == "url":
            check_url(findings, node, node.value, f"url({shorten(node.value)})")
        elif kind == "at-keyword":
            _check_at_keyword(source, findings, node, first=root and index == 0)
        elif kind == "function":
            check_function(findings, node)
            walk_tokens(source, findings, node.arguments)
        elif kind in ("{} block", "[] block", "() block"):
            walk_tokens(source, findings, node.content)


def _token_strings(node: ast.Node) -> tuple[str, ...]:
    """The decoded strings a token carries (what tinycss2 will re-serialize)."""
    kind = node.type
    if kind in ("ident", "at-keyword", "hash", "string", "url"):
        return (node.value,)
    if kind == "function":
        return (node.name,)
    if kind == "dimension":
        return (node.unit,)
    return ()


def _check_token_value(findings: Findings, node: ast.Node, value: str) -> None:
    # tinycss2 decodes escapes into token values, and its serializer writes
    # "<" and control characters back out as they are, so a value holding
    # one must never reach the stored CSS.
    if "<" in value or "-->" in value:
        findings.error(
            node,
            "style-breakout",
            f"this {node.type} holds < or --> (written as is or as an escape such as \\3c), "
            "which is not allowed anywhere in the CSS: it could end the style element.",
        )
    for c in value:
        if is_forbidden_char(c):
            findings.error(
                node,
                "control-char",
                f"an escape decodes to U+{ord(c):04X}, a control character or "
                "surrogate, which is not allowed.",
            )
            break


def _check_at_keyword(source: Source, findings: Findings, node: ast.AtKeywordToken, *, first: bool) -> None:
    keyword = node.lower_value
    if keyword == "import":
        findings.error(
            node,
            "import",
            "@import is not allowed: it would load a stylesheet from elsewhere.",
        )
    elif keyword == "namespace":
        findings.error(
            node,
            "namespace",
            "@namespace is not allowed: it names an address, and the login page needs no namespaces.",
        )
    elif keyword == "charset":
        # CSS Syntax §3.2: @charset only counts as the very first bytes,
        # spelled exactly '@charset "…";'.  Anywhere else it is an error.
        at_start = (
            first
            and (node.source_line, node.source_column) == (1, 1)
            and _CHARSET_START_RE.match(source.text) is not None
        )
        if not at_start:
            findings.error(
                node,
                "charset",
                '@charset is only allowed as the very first thing, as @charset "utf-8";.',
            )
