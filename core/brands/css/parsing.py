"""CSS the parser cannot read unambiguously: parse errors, unclosed blocks, deep nesting.

Browsers recover from broken CSS (CSS Syntax 3 §5), each in its own way; what
the checker vetted must be what every browser reads, so broken CSS is refused
rather than repaired.
"""

from __future__ import annotations

import tinycss2
from tinycss2 import ast

from core.brands.css.report import Findings
from core.brands.css.text import Source

__all__ = ["MAX_NESTING", "check_structure_closed", "parse_error", "too_deep"]

# Deeper nesting of blocks, brackets and functions is refused: real styling
# needs a handful of levels (@media > @supports > rule > nested rule > calc()),
# and the checks walk the tree recursively.
MAX_NESTING = 32

_PARSE_ERRORS = {
    "bad-string": "a string is broken by a line end; close the quote on the same line.",
    "bad-url": "this url(...) is malformed (a quote, bracket or space inside an unquoted URL).",
    "eof-in-string": "this string is never closed.",
    "eof-in-url": "this url( is never closed.",
    "}": "there is a } with no { to close.",
    ")": "there is a ) with no ( to close.",
    "]": "there is a ] with no [ to close.",
}


def parse_error(findings: Findings, node: ast.ParseError) -> None:
    """Refuse what tinycss2 reports as a parse error, saying what it is."""
    message = _PARSE_ERRORS.get(
        node.kind,
        "this is not valid CSS here (expected a rule, or 'property: value;').",
    )
    findings.error(node, "parse-error", message)


def check_structure_closed(source: Source, findings: Findings) -> None:
    """tinycss2 closes blocks, functions and comments silently at EOF (as
    CSS Syntax §5 tells browsers to).  For stored CSS that would mean the
    next thing on the page lands inside the open block, so refuse it: parse
    the text with a sentinel at-keyword appended and see where it lands."""
    name = "css-check-end-of-input"
    expected_line = source.text.count("\n") + 2
    tokens = tinycss2.parse_component_value_list(f"{source.text}\n@{name}")
    node: ast.Node | None = tokens[-1] if tokens else None
    if (
        node is not None
        and node.type == "at-keyword"
        and node.value == name
        and (node.source_line, node.source_column) == (expected_line, 1)
    ):
        return
    innermost: ast.Node | None = None
    while node is not None:
        if node.type == "comment":
            findings.error(node, "parse-error", "this comment is never closed with */.")
            return
        children = getattr(node, "content", None)
        if children is None:
            children = getattr(node, "arguments", None)
        if children is None:
            break
        innermost = node
        node = children[-1] if children else None
    if innermost is not None:
        opener = {"{} block": "{", "[] block": "[", "() block": "("}.get(innermost.type)
        what = f"the {opener} opened here" if opener else f"{innermost.name}( opened here"
        findings.error(innermost, "parse-error", f"{what} is never closed.")
    # Otherwise it is an unclosed string or url(), which the token walk
    # reports from tinycss2's own ParseError.


def too_deep(tokens: list[ast.Node]) -> ast.Node | None:
    """The first block/function nested deeper than MAX_NESTING, found without
    recursion (the input may be thousands of "(" deep)."""
    stack = [iter(tokens)]
    while stack:
        node = next(stack[-1], None)
        if node is None:
            stack.pop()
            continue
        children = getattr(node, "content", None) if node.type.endswith("block") else None
        if node.type == "function":
            children = node.arguments
        if children is not None:
            if len(stack) > MAX_NESTING:
                return node
            stack.append(iter(children))
    return None
