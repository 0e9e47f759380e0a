"""Attribute selectors that could read what a customer types, refused.

The CSS "keylogger": ``input[value^=a] { background: url(…) }`` asks for a
different resource for each first character of a field.  With every outside
URL refused that channel is already shut, but the selectors themselves are
refused too, so the rule does not rest on one check:

* any attribute selector that names ``value``, whatever the element;
* any attribute selector at all in a selector that names ``input``,
  ``textarea``, ``select`` or ``option``, or inside a rule or ``@scope``
  that does (CSS Nesting 1 §2: a nested rule's ``&`` is its parent).

Attribute selectors inside ``:has()``, ``:is()`` and the other functional
pseudo-classes count as well.
"""

from __future__ import annotations

from collections.abc import Iterable

import tinycss2
from tinycss2 import ast

from core.brands.css.report import Findings
from core.brands.css.text import shorten

__all__ = ["check_attribute_selectors"]

# Attribute selectors on these elements can read the state of a form.
_FORM_FIELDS = frozenset({"input", "textarea", "select", "option"})
_ATTRIBUTE_MATCHERS = frozenset({"=", "~=", "|=", "^=", "$=", "*="})


def check_attribute_selectors(findings: Findings, prelude: list[ast.Node], *, field: bool) -> bool:
    """Refuse the attribute selectors of ``prelude`` that can read a form;
    ``field`` says whether an enclosing rule names a form field.  Returns
    whether this prelude names one."""
    blocks, names_field = _attribute_selectors(prelude)
    for block in blocks:
        shown = shorten(tinycss2.serialize([block]), 40)
        if _attribute_name(block) == "value":
            findings.error(
                block,
                "attribute-selector",
                f"the attribute selector {shown} is not allowed: a selector on a form field's "
                "value can read what a customer types, one character at a time.",
            )
        elif field or names_field:
            findings.error(
                block,
                "attribute-selector",
                f"the attribute selector {shown} is not allowed on input, textarea, select "
                "or option: it can read what a customer types or picks there.",
            )
    return names_field


def _attribute_selectors(tokens: Iterable[ast.Node]) -> tuple[list[ast.Node], bool]:
    """Every attribute selector (``[…]`` block) of a selector list, including
    those inside functional pseudo-classes such as ``:has()`` and ``:is()``,
    and whether any part of it names input, textarea, select or option."""
    blocks: list[ast.Node] = []
    names_field = False
    stack = [iter(tokens)]
    while stack:
        token = next(stack[-1], None)
        if token is None:
            stack.pop()
        elif token.type == "[] block":
            blocks.append(token)
        elif token.type == "ident" and token.lower_value in _FORM_FIELDS:
            names_field = True
        elif token.type == "function":
            stack.append(iter(token.arguments))
        elif token.type in ("() block", "{} block"):
            stack.append(iter(token.content))
    return blocks, names_field


def _attribute_name(block: ast.Node) -> str | None:
    """The attribute an attribute selector tests, lower-cased (HTML attribute
    names are case-insensitive), past any namespace prefix (``[*|value]``)."""
    name = None
    for token in block.content:
        if token.type == "literal" and token.value in _ATTRIBUTE_MATCHERS:
            break
        if token.type == "ident":
            name = token.lower_value
    return name
