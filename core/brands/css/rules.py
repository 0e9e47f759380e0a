"""The rule walk: stylesheet, at-rules, style rules and declarations, nested as CSS nests them.

At each place it refuses what only the structure shows (an at-rule this check
does not know, the ``behavior`` and ``-moz-binding`` properties, attribute
selectors on form fields) and hands the selectors and the pop-up's colours to
the advice (:mod:`core.brands.css.selectors`, :mod:`core.brands.css.contrast`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import tinycss2
from tinycss2 import ast

from core.brands.css.contrast import PopupColours
from core.brands.css.fields import check_attribute_selectors
from core.brands.css.parsing import parse_error
from core.brands.css.report import Findings
from core.brands.css.selectors import check_selectors
from core.brands.css.text import shorten

__all__ = ["walk_stylesheet"]

# At-rules whose blocks hold style rules (and, when nested, declarations):
# CSS Conditional 3/5 (@media, @supports, @container), Cascade 5 (@layer),
# Cascade 6 (@scope), Transitions 2 (@starting-style).
_GROUP_AT_RULES = frozenset({"media", "supports", "layer", "container", "scope", "starting-style"})
# At-rules whose blocks hold descriptors/declarations only.
_DESCRIPTOR_AT_RULES = frozenset(
    {
        "font-face",
        "page",
        "property",
        "counter-style",
        "font-palette-values",
        "view-transition",
    }
)
_KEYFRAMES_AT_RULES = frozenset({"keyframes", "-webkit-keyframes"})
_KNOWN_AT_RULES = (
    _GROUP_AT_RULES | _DESCRIPTOR_AT_RULES | _KEYFRAMES_AT_RULES | {"import", "charset", "namespace"}
)

# "top": the stylesheet or a group rule in it; "nested": inside a style rule.
Context = Literal["top", "nested", "keyframes", "descriptors"]


def walk_stylesheet(findings: Findings, colours: PopupColours, rules: Iterable[ast.Node]) -> None:
    """Check the parsed stylesheet ``rules``, noting the pop-up's colours in ``colours``."""
    _RuleWalk(findings, colours).rules(rules, context="top")


class _RuleWalk:
    def __init__(self, findings: Findings, colours: PopupColours) -> None:
        self.findings = findings
        self.colours = colours

    def rules(self, nodes: Iterable[ast.Node], *, context: Context, field: bool = False) -> None:
        """``field`` says whether an enclosing style rule (or @scope) names a form field."""
        for node in nodes:
            kind = node.type
            if kind == "error":
                parse_error(self.findings, node)
            elif kind == "declaration":
                self.declaration(node, part=None)
            elif kind == "at-rule":
                self.at_rule(node, context=context, field=field)
            elif kind == "qualified-rule":
                self.qualified_rule(node, context=context, field=field)

    def at_rule(self, node: ast.AtRule, *, context: Context, field: bool = False) -> None:
        keyword = node.lower_at_keyword
        if keyword not in _KNOWN_AT_RULES:
            # Refuse rather than ignore: what an unknown at-rule would do in
            # some browser cannot be vetted.  Note "@im/**/port" lands here: a
            # comment ends a token (CSS Syntax §4.3), so that is the unknown
            # at-rule @im followed by the word "port", not an @import.
            self.findings.error(
                node,
                "unknown-at-rule",
                f"@{shorten(node.at_keyword, 30)} is not an at-rule this check knows, "
                "so it cannot be vetted; remove it.",
            )
        if keyword == "scope":  # @scope (input) to (…): its prelude holds selectors (Cascade 6 §2.5)
            field = check_attribute_selectors(self.findings, node.prelude, field=field) or field
        if node.content is None:
            return
        body = tinycss2.parse_blocks_contents(node.content, skip_comments=True, skip_whitespace=True)
        if keyword in _GROUP_AT_RULES:
            self.rules(body, context=context if context == "nested" else "top", field=field)
        elif keyword in _KEYFRAMES_AT_RULES:
            self.rules(body, context="keyframes")
        else:
            self.rules(body, context="descriptors")

    def qualified_rule(self, node: ast.QualifiedRule, *, context: Context, field: bool = False) -> None:
        part = None
        if context in ("top", "nested"):
            # CSS Nesting 1 §2: a nested rule's "&" is its parent's selector, so
            # a form field named by the parent is named by the nested rule too.
            field = check_attribute_selectors(self.findings, node.prelude, field=field) or field
            part = check_selectors(self.findings, node, nested=context == "nested")
        body = tinycss2.parse_blocks_contents(node.content, skip_comments=True, skip_whitespace=True)
        for item in body:
            if item.type == "declaration":
                self.declaration(item, part=part)
            elif item.type == "error":
                parse_error(self.findings, item)
            elif item.type == "at-rule":
                self.at_rule(item, context="nested", field=field)
            elif item.type == "qualified-rule":
                self.qualified_rule(
                    item, context="nested" if context in ("top", "nested") else context, field=field
                )

    def declaration(self, node: ast.Declaration, *, part: str | None) -> None:
        """``part`` is the pop-up part ("modal"/"modalheader") the enclosing rule styles, if any."""
        name = node.lower_name
        if name in ("behavior", "-ms-behavior"):
            self.findings.error(
                node,
                "behavior",
                f"the {node.name} property is not allowed: it loads script (HTC) in Internet Explorer.",
            )
        elif name == "-moz-binding":
            self.findings.error(
                node,
                "moz-binding",
                "the -moz-binding property is not allowed: it loads script (XBL) in old Firefox.",
            )
        if part is not None:
            self.colours.record(part, node)
