"""The pop-up's text and background colours, and a warning below WCAG 2.x AA.

Advice, not safety.  The colours are read from the rules whose selector ends
in exactly ``.modal`` or ``.modalheader`` (see
:mod:`core.brands.css.selectors`), last declaration wins, as a browser would
paint them over the login page's defaults: black text on white
(:mod:`core.brands.login_page` uses the same).  Whatever cannot be computed
(``var()``, ``currentcolor``, an image behind the text) gives no result rather
than a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

import tinycss2
from tinycss2 import ast

from core.brands.css.colour import (
    RGB,
    RGBA,
    ContrastResult,
    composite,
    contrast_ratio,
    parse_rgba,
    to_hex,
)
from core.brands.css.report import Findings
from core.brands.css.selectors import POPUP_PARTS

__all__ = ["PopupColours"]

_WHITE: RGB = (255.0, 255.0, 255.0)
_BLACK: RGB = (0.0, 0.0, 0.0)


@dataclass
class _ColourSetting:
    """A colour a declaration sets: parsed value (None: not computable)."""

    rgba: RGBA | None
    line: int
    column: int
    image: bool = False  # background shorthand with an image and no colour


@dataclass
class _PartColours:
    fg: _ColourSetting | None = None
    bg: _ColourSetting | None = None


class PopupColours:
    """The colours the CSS gives the pop-up's two parts, and their contrast."""

    def __init__(self) -> None:
        self._parts = {name: _PartColours() for name in POPUP_PARTS}

    def record(self, part: str, node: ast.Declaration) -> None:
        """Note a declaration of a rule that styles ``part`` ("modal"/"modalheader")."""
        colours = self._parts[part]
        name = node.lower_name
        if name == "color":
            colours.fg = _plain_colour(node)
        elif name == "background-color":
            colours.bg = _plain_colour(node)
        elif name == "background":
            colours.bg = _background_shorthand(node)

    def results(self, findings: Findings) -> tuple[ContrastResult, ...]:
        """The contrast of each part the CSS colours, warning where it is below AA."""
        modal = self._parts["modal"]
        header = self._parts["modalheader"]
        results: list[ContrastResult] = []

        def resolve_bg(own: _ColourSetting | None, below: RGB | None) -> RGB | None:
            base = below if below is not None else _WHITE
            if own is None:
                return base
            if own.rgba is None or own.image:
                return None
            return composite(own.rgba, base)

        modal_bg = resolve_bg(modal.bg, None)
        if modal.fg is not None or modal.bg is not None:
            _contrast_for(findings, ".modal", modal.fg, modal_bg, modal, results)
        if header.fg is not None or header.bg is not None:
            # The header sits inside the pop-up: its text colour inherits from
            # .modal (CSS Cascade 4 §3.3) and the pop-up's background shows
            # through where the header has none of its own.
            fg = header.fg if header.fg is not None else modal.fg
            own = header.bg
            if own is not None and own.rgba is not None and own.rgba[3] == 1 and not own.image:
                header_bg: RGB | None = own.rgba[:3]
            elif modal_bg is None:
                header_bg = None
            else:
                header_bg = resolve_bg(own, modal_bg)
            _contrast_for(findings, ".modalheader", fg, header_bg, header, results)
        return tuple(results)


def _contrast_for(
    findings: Findings,
    selector: str,
    fg: _ColourSetting | None,
    bg: RGB | None,
    own: _PartColours,
    results: list[ContrastResult],
) -> None:
    if bg is None or (fg is not None and fg.rgba is None):
        return  # something is var(), currentcolor, an image…: not computable
    fg_rgb = composite(fg.rgba, bg) if fg is not None and fg.rgba else _BLACK
    ratio = contrast_ratio(fg_rgb, bg)
    result = ContrastResult(selector, to_hex(fg_rgb), to_hex(bg), ratio)
    results.append(result)
    if result.passes_aa:
        return
    where = own.fg or own.bg
    assert where is not None
    shown = f"{ratio:.2f}"
    if shown == "4.50":  # 4.497 must not read as "4.50:1, below 4.5:1"
        shown = f"{ratio:.3f}"
    # At most two, so not held to the cap on warnings of one kind.
    findings.add(
        "warning",
        where.line,
        where.column,
        "low-contrast",
        f"text {result.fg} on {result.bg} in {selector} has a contrast of "
        f"{shown}:1, below the 4.5:1 of WCAG AA.",
    )


def _plain_colour(node: ast.Declaration) -> _ColourSetting:
    return _ColourSetting(parse_rgba(tinycss2.serialize(node.value)), node.source_line, node.source_column)


def _background_shorthand(node: ast.Declaration) -> _ColourSetting:
    """The background colour a ``background`` shorthand sets (CSS Backgrounds
    3 §3.10): the colour it names, else an image we cannot see through, else
    the initial value transparent."""
    colour: RGBA | None = None
    image = False
    unknown = False
    for token in node.value:
        if token.type in ("whitespace", "comment"):
            continue
        if token.type in ("ident", "hash", "function"):
            rgba = parse_rgba(tinycss2.serialize([token]))
            if rgba is not None:
                colour = rgba
                continue
        if token.type == "url" or (token.type == "function" and token.lower_name != "var"):
            image = True
        elif token.type == "function":
            unknown = True
    if colour is None and not image and not unknown:
        colour = (0.0, 0.0, 0.0, 0.0)  # transparent
    return _ColourSetting(
        None if unknown else colour,
        node.source_line,
        node.source_column,
        image=image and colour is None,
    )
