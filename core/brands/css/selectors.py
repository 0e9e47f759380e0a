"""Which selectors reach the login page, and which style the pop-up's two parts.

Advice, not safety: a selector naming an id, class or element the login page
does not have styles nothing and is warned about; the rules whose selector
ends in exactly ``.modal`` or ``.modalheader`` are the ones the contrast check
reads.  A selector that cannot be a selector at all is a parse error.
"""

from __future__ import annotations

import tinycss2
from tinycss2 import ast

from core.brands.css.report import Findings
from core.brands.css.text import shorten

__all__ = ["LOGIN_PAGE_NAMES", "POPUP_PARTS", "check_selectors"]

# The ids (``#x``), classes (``.x``) and element names (lower case) present in
# the login page the brand CSS styles.  The reference is the preview page built
# by core.brands.login_page, which derives its PREVIEW_DOM_NAMES from its own
# markup; a test asserts the two sets are equal.  The set lives here, not
# there, because login_page imports this package (it must refuse what
# check_css refuses) and the dependency must point one way only.
LOGIN_PAGE_NAMES: frozenset[str] = frozenset(
    {
        # elements
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "form",
        "div",
        "h1",
        "p",
        "label",
        "input",
        "button",
        # ids
        "#login-form",
        "#username",
        "#password",
        "#otp-code",
        "#modal-title",
        # classes
        ".login-page",
        ".dark",
        ".box-inner",
        ".login-title",
        ".field-label",
        ".field",
        ".button",
        ".login-button",
        ".modal-backdrop",
        ".modal",
        ".state-prompt",
        ".state-success",
        ".state-error",
        ".modalheader",
        ".modalbody",
        ".instruction",
        ".code-input",
        ".status",
        ".buttons",
        ".verify",
        ".cancel",
    }
)

# The pop-up (``#login-form .box-inner .modal``) and its header band
# (``#login-form .box-inner .modalheader``), by class name.
POPUP_PARTS = ("modal", "modalheader")

_SELECTOR_PUNCTUATION = frozenset({".", ":", "*", ">", "+", "~", ",", "|", "||", "&"})
_COMBINATORS = frozenset({">", "+", "~", "||"})


def check_selectors(findings: Findings, rule: ast.QualifiedRule, *, nested: bool) -> str | None:
    """Warn about selectors that reach nothing on the login page; return
    which pop-up part ("modal"/"modalheader") the rule colours, if any."""
    targets: set[str | None] = set()
    for selector in _split_commas(rule.prelude):
        tokens = _trim(selector)
        if not tokens:
            findings.error(
                selector[0] if selector else rule,
                "parse-error",
                "a selector is empty (a stray comma?).",
            )
            continue
        missing, bad = _selector_names(tokens)
        if bad is not None:
            findings.error(
                bad,
                "parse-error",
                f"{shorten(tinycss2.serialize([bad]), 20)} cannot appear in a selector "
                "(a missing { or a declaration outside any rule?).",
            )
            continue
        for name, token in missing:
            if name not in LOGIN_PAGE_NAMES:
                shown = shorten(tinycss2.serialize(tokens))
                extra = "" if shown == name else f" (the login page has no {name})"
                findings.warn(
                    token,
                    "unreachable-selector",
                    f"the selector {shown} styles nothing on the login page{extra}.",
                )
                break
        targets.add(None if nested else _selector_target(tokens))
    if len(targets) == 1:
        return targets.pop()
    return None


def _split_commas(tokens: list[ast.Node]) -> list[list[ast.Node]]:
    groups: list[list[ast.Node]] = [[]]
    for token in tokens:
        if token.type == "literal" and token.value == ",":
            groups.append([])
        else:
            groups[-1].append(token)
    return groups


def _trim(tokens: list[ast.Node]) -> list[ast.Node]:
    start, end = 0, len(tokens)
    while start < end and tokens[start].type in ("whitespace", "comment"):
        start += 1
    while end > start and tokens[end - 1].type in ("whitespace", "comment"):
        end -= 1
    return tokens[start:end]


def _selector_names(
    tokens: list[ast.Node],
) -> tuple[list[tuple[str, ast.Node]], ast.Node | None]:
    """The ids, classes and element names a complex selector requires, after
    dropping pseudo-classes/elements (and what is inside their brackets) and
    attribute selectors (Selectors 4 §3).  Also returns the first token that
    cannot be part of a selector at all, if any."""
    names: list[tuple[str, ast.Node]] = []
    i, n = 0, len(tokens)
    while i < n:
        token = tokens[i]
        kind = token.type
        following = tokens[i + 1] if i + 1 < n else None
        if kind in ("whitespace", "[] block"):
            i += 1
        elif kind == "hash":
            names.append(("#" + token.value, token))
            i += 1
        elif kind == "ident":
            if following is not None and following.type == "literal" and following.value == "|":
                i += 1  # namespace prefix, not an element (Selectors 4 §5.1)
            else:
                names.append((token.lower_value, token))
                i += 1
        elif kind == "literal" and token.value == ".":
            if following is None or following.type != "ident":
                return names, token
            names.append(("." + following.value, token))
            i += 2
        elif kind == "literal" and token.value == ":":
            i += 1
            if i < n and tokens[i].type == "literal" and tokens[i].value == ":":
                i += 1
            if i < n and tokens[i].type in ("ident", "function"):
                i += 1
            else:
                return names, token
        elif kind == "literal" and token.value in _SELECTOR_PUNCTUATION:
            i += 1
        else:
            return names, token
    return names, None


def _selector_target(tokens: list[ast.Node]) -> str | None:
    """ "modal"/"modalheader" when the selector's last compound is exactly that
    class (optionally with an element name or id): the rules the contrast
    check reads.  State variants such as .modal.state-error and pseudo-classes
    such as :hover are left out."""
    compound: list[ast.Node] = []
    for token in tokens:
        if token.type == "whitespace" or (token.type == "literal" and token.value in _COMBINATORS):
            compound = []
        else:
            compound.append(token)
    classes: list[str] = []
    i = 0
    while i < len(compound):
        token = compound[i]
        if token.type == "literal" and token.value == ".":
            if i + 1 < len(compound) and compound[i + 1].type == "ident":
                classes.append(compound[i + 1].value)
            i += 2
            continue
        if token.type in ("ident", "hash"):
            i += 1
            continue
        return None  # pseudo-class, attribute, nesting "&"…
    if len(classes) == 1 and classes[0] in POPUP_PARTS:
        return classes[0]
    return None
