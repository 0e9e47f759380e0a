"""CSS colours as sRGB, and their WCAG 2.x contrast ratio.

Only the sRGB-family syntaxes (named, hex, ``rgb()``, ``hsl()``, ``hwb()``) are
computed; ``lab()``, ``lch()``, ``color()``, ``currentcolor`` and anything
unknown are "not computable" (None), never a guess.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import tinycss2.color4

__all__ = [
    "RGB",
    "RGBA",
    "WCAG_AA_NORMAL_TEXT",
    "ContrastResult",
    "composite",
    "contrast_ratio",
    "parse_color",
    "parse_rgba",
    "to_hex",
]

# WCAG 2.x success criterion 1.4.3 (Contrast, Minimum), level AA, normal text.
WCAG_AA_NORMAL_TEXT = 4.5

RGB = tuple[float, float, float]
RGBA = tuple[float, float, float, float]

_SRGB_SPACES = frozenset({"srgb", "hsl", "hwb"})


@dataclass(frozen=True)
class ContrastResult:
    """Text/background contrast of one part of the pop-up, as far as computable.

    ``fg`` and ``bg`` are ``#rrggbb`` after compositing any transparency;
    ``ratio`` is the WCAG 2.x contrast ratio (1 to 21).
    """

    selector: str
    fg: str
    bg: str
    ratio: float

    @property
    def passes_aa(self) -> bool:
        return self.ratio >= WCAG_AA_NORMAL_TEXT


def parse_rgba(value: str) -> RGBA | None:
    """Parse a CSS Color 4 colour to sRGB channels 0-255 plus alpha 0-1."""
    try:
        color = tinycss2.color4.parse_color(value)
    except Exception:  # tinycss2 may raise on odd input; "unknown" is the answer
        return None
    if not isinstance(color, tinycss2.color4.Color):
        return None  # None for unknown, the string "currentcolor" for that keyword
    if color.space not in _SRGB_SPACES:
        return None
    try:
        red, green, blue = color.to("srgb").coordinates
    except (NotImplementedError, ValueError, TypeError):
        return None
    alpha = color.alpha if color.alpha is not None else 1.0

    # CSS Color 4 §10.1: out-of-gamut sRGB values are clamped for display.
    def channel(c: float) -> float:
        if c is None or math.isnan(c):
            c = 0.0
        return round(min(max(c, 0.0), 1.0) * 255, 4)

    return (channel(red), channel(green), channel(blue), min(max(alpha, 0.0), 1.0))


def parse_color(value: str) -> RGB | None:
    """Return the sRGB channels (0-255 floats) of a CSS colour, or None.

    Accepts every CSS named colour, ``#rgb``, ``#rgba``, ``#rrggbb``,
    ``#rrggbbaa``, ``rgb()``/``rgba()`` and ``hsl()``/``hsla()`` in comma or
    space syntax, with numbers or percentages (CSS Color 4 §4-§7).  Alpha is
    not part of the result; a fully transparent colour (``transparent``,
    ``#0000``) returns None because it shows whatever is behind it.  Unknown
    values, ``currentcolor`` and colours outside the sRGB family return None.
    """
    rgba = parse_rgba(value)
    if rgba is None or rgba[3] == 0:
        return None
    return rgba[:3]


def composite(top: RGBA, below: RGB) -> RGB:
    """Simple alpha compositing ("source-over", Compositing Level 1 §5.1)."""
    alpha = top[3]
    return tuple(  # type: ignore[return-value]
        round(top[i] * alpha + below[i] * (1 - alpha), 4) for i in range(3)
    )


def _relative_luminance(rgb: RGB) -> float:
    """WCAG 2.x relative luminance of an sRGB colour with 0-255 channels.

    WCAG 2.0 printed the linearisation threshold as 0.03928; WCAG 2.2 corrects
    it to the sRGB standard's 0.04045.  No 8-bit value lies in between, so both
    give the same ratios.
    """

    def linear(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _as_rgba(value: str | Sequence[float]) -> RGBA:
    if isinstance(value, str):
        rgba = parse_rgba(value)
        if rgba is None:
            raise ValueError(f"not a colour this check can compute: {value!r}")
        return rgba
    channels = tuple(float(c) for c in value)
    if len(channels) == 3:
        return (*channels, 1.0)  # type: ignore[return-value]
    if len(channels) == 4:
        return channels  # type: ignore[return-value]
    raise ValueError(f"expected (r, g, b) with 0-255 channels, got {value!r}")


def contrast_ratio(fg: str | Sequence[float], bg: str | Sequence[float]) -> float:
    """WCAG 2.x contrast ratio (L1 + 0.05) / (L2 + 0.05), from 1.0 to 21.0.

    ``fg`` and ``bg`` are CSS colour strings or (r, g, b) tuples of 0-255
    channels.  A translucent background is composited over white and a
    translucent foreground over the background, as a browser would paint them.
    Raises ValueError for a colour that cannot be computed.
    """
    bg_rgb = composite(_as_rgba(bg), (255.0, 255.0, 255.0))
    fg_rgb = composite(_as_rgba(fg), bg_rgb)
    lighter, darker = sorted((_relative_luminance(fg_rgb), _relative_luminance(bg_rgb)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def to_hex(rgb: RGB) -> str:
    """``#rrggbb`` of 0-255 channels, rounded."""
    return "#" + "".join(f"{round(c):02x}" for c in rgb)
