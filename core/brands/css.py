"""Check a brand's custom webmail-login CSS before it is stored.

The CSS is written by an account manager in a sandbox page and ends up inside a
``<style>`` element of the brand's custom webmail login page, where it styles
the 2FA pop-up through ``#login-form .box-inner .modalheader`` and
``#login-form .box-inner .modal``.  That makes it untrusted input to an HTML
page, so :func:`check_css` refuses anything that could

* leave the style context (HTML §13.1.2.6: a ``<style>`` element is raw text and
  ends at the first ``</style``; we refuse every ``<`` so no spelling of it can
  get through, whether literal or written as a CSS escape),
* run script (``javascript:``/``vbscript:`` URLs, IE's ``expression()`` and
  ``behavior``, Firefox's ``-moz-binding``),
* reference any URL that leaves the page, of any scheme, https included
  (PRODUCT.md, Trust: nothing the console renders loads from another host, and
  a request to an outside host tells it who opened the page).  The one URL
  allowed is an inline raster image: ``data:image/png``, ``image/jpeg``,
  ``image/gif`` or ``image/webp`` of at most :data:`MAX_DATA_IMAGE_BYTES`
  (32 KiB) once decoded; never SVG, which can carry script and links.  This
  holds for every place a URL can sit: ``url(…)`` quoted or not and whatever
  its spelling (escapes such as ``u\\72l(``, case, whitespace; CSS Syntax 3
  §4.3.6 url-token and the ``url(`` function-token with a string), ``src()``,
  the bare strings of ``image()``, ``image-set()``, ``-webkit-image-set()`` and
  ``cross-fade()``, ``@import`` (refused outright), ``@namespace`` (refused
  outright), ``@font-face`` ``src``, and inside ``@media``/``@supports``/...
  and nested rules.  Behind the token walk a raw-text scan refuses anything
  that names a host (``scheme://``, ``//host``) after escapes and comments are
  removed, so a spelling the tokenizer reads differently from some browser is
  caught too,
* read what a customer types: attribute selectors that name ``value`` (the CSS
  "keylogger", ``input[value^=a] { background: url(…) }``), and any attribute
  selector in a selector that names ``input``, ``textarea``, ``select`` or
  ``option``,
* or that the parser cannot read unambiguously (parse errors, unclosed blocks,
  control characters, over-size input).

Each refusal is one finding whose message says, in one sentence starting with
its line, what was found and why, e.g. "Line 4: url(https://cdn.example.com/a.png)
loads from another host; only data: images under 32 KiB are allowed."

It also warns, without refusing, about selectors that style nothing on the login
page and about text/background pairs of the pop-up below WCAG 2.x AA contrast.

What gets stored is :attr:`CssReport.css`: the CSS re-serialized by tinycss2 from
its parse tree with comments dropped, so the stored text is exactly what a
browser would interpret and nothing can hide in comments.

This module never imports streamlit; the sandbox page renders the findings.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote_to_bytes

import tinycss2
import tinycss2.color4
from tinycss2 import ast

from core.platform.errors import BadInput

__all__ = [
    "DATA_IMAGE_TYPES",
    "LOGIN_PAGE_NAMES",
    "MAX_CSS_BYTES",
    "MAX_DATA_IMAGE_BYTES",
    "MAX_NESTING",
    "STARTER_TEMPLATE",
    "WCAG_AA_NORMAL_TEXT",
    "ContrastResult",
    "CssFinding",
    "CssRejected",
    "CssReport",
    "check_css",
    "contrast_ratio",
    "decode_css_escapes",
    "parse_color",
    "validate_css",
]

MAX_CSS_BYTES = 64 * 1024

# The only URLs brand CSS may hold: inline raster images up to this size once
# decoded (a logo or a background texture; anything larger belongs on the
# webmail server's own page, not in the brand CSS).
MAX_DATA_IMAGE_BYTES = 32 * 1024
DATA_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})

# Deeper nesting of blocks, brackets and functions is refused: real styling
# needs a handful of levels (@media > @supports > rule > nested rule > calc()),
# and the checks walk the tree recursively.
MAX_NESTING = 32

# At most this many warnings of one kind are reported.
MAX_WARNINGS_PER_RULE = 50

# WCAG 2.x success criterion 1.4.3 (Contrast, Minimum), level AA, normal text.
WCAG_AA_NORMAL_TEXT = 4.5

# The ids (``#x``), classes (``.x``) and element names (lower case) present in
# the login page the brand CSS styles.  The reference is the preview page built
# by core.brands.login_page, which derives its PREVIEW_DOM_NAMES from its own
# markup; a test asserts the two sets are equal.  The set lives here, not
# there, because login_preview imports this module (it must refuse what
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

STARTER_TEMPLATE = """\
/* Brand styles for the 2FA pop-up of the custom webmail login page.
   #login-form .box-inner .modal       styles the pop-up itself: its box, the
                                       instruction, the code field, the buttons
                                       and the status line.
   #login-form .box-inner .modalheader styles the header band at the top of
                                       the pop-up, which shows the brand name.
   Keep text readable: WCAG AA asks for a contrast of at least 4.5:1. */

#login-form .box-inner .modal {
  background-color: #ffffff;
  color: #1f2933;
  border: 1px solid #c4cdd5;
  border-radius: 8px;
}

#login-form .box-inner .modalheader {
  background-color: #0b3d91;
  color: #ffffff;
  font-weight: bold;
  padding: 12px 16px;
}
"""

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


@dataclass(frozen=True)
class CssReport:
    """The outcome of :func:`check_css`.

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


class CssRejected(BadInput):
    """Raised by :func:`validate_css` (and the preview) for refused CSS."""

    def __init__(self, report: CssReport) -> None:
        self.report = report
        super().__init__("The CSS was refused.", [f.message for f in report.errors])

    def __str__(self) -> str:
        errors = self.report.errors
        lines = [f"The CSS was refused ({len(errors)} error(s)):"]
        lines += [f"- {f.message}" for f in errors]
        return "\n".join(lines)


# --------------------------------------------------------------------------
# Colours and contrast (WCAG 2.x)
# --------------------------------------------------------------------------

RGB = tuple[float, float, float]
_RGBA = tuple[float, float, float, float]

# Only the sRGB-family syntaxes (named, hex, rgb(), hsl(), hwb()) can be
# turned into sRGB by tinycss2; lab()/lch()/color() are left uncomputed.
_SRGB_SPACES = frozenset({"srgb", "hsl", "hwb"})


def _parse_rgba(value: str) -> _RGBA | None:
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
    rgba = _parse_rgba(value)
    if rgba is None or rgba[3] == 0:
        return None
    return rgba[:3]


def _composite(top: _RGBA, below: RGB) -> RGB:
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


def _as_rgba(value: str | Sequence[float]) -> _RGBA:
    if isinstance(value, str):
        rgba = _parse_rgba(value)
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
    bg_rgb = _composite(_as_rgba(bg), (255.0, 255.0, 255.0))
    fg_rgb = _composite(_as_rgba(fg), bg_rgb)
    lighter, darker = sorted((_relative_luminance(fg_rgb), _relative_luminance(bg_rgb)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _hex(rgb: RGB) -> str:
    return "#" + "".join(f"{round(c):02x}" for c in rgb)


# --------------------------------------------------------------------------
# Raw-text helpers: positions, escapes, normalisation
# --------------------------------------------------------------------------


def _preprocess(text: str) -> str:
    # CSS Syntax §3.3: CR LF, CR and FF all become LF.  tinycss2 does the same,
    # so line/column numbers computed on this text agree with its tokens'.
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")


class _Positions:
    """Maps an index in the preprocessed text to a 1-based (line, column)."""

    def __init__(self, text: str) -> None:
        self._newlines = [i for i, c in enumerate(text) if c == "\n"]

    def at(self, index: int) -> tuple[int, int]:
        line_index = bisect.bisect_left(self._newlines, index)
        line_start = self._newlines[line_index - 1] + 1 if line_index else 0
        return line_index + 1, index - line_start + 1


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def _decode_escapes(text: str, origin: list[int]) -> tuple[str, list[int]]:
    """Decode CSS escapes (CSS Syntax §4.3.7, "consume an escaped code point").

    ``\\`` followed by 1-6 hex digits and one optional whitespace is that code
    point (zero, surrogates and values past U+10FFFF become U+FFFD); ``\\``
    followed by any other character is that character; ``\\`` before a newline
    is a line continuation inside strings (§4.3.5) and is dropped, which is the
    reading that can hide the most.  Escapes are decoded everywhere, comments
    included: for a safety scan over-decoding only errs on the side of refusing.
    Returns the decoded text and, for each decoded character, the index in the
    original text where it came from.
    """
    out: list[str] = []
    where: list[int] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c != "\\":
            out.append(c)
            where.append(origin[i])
            i += 1
            continue
        if i + 1 >= n:  # escape at EOF: U+FFFD (§4.3.7)
            out.append("\ufffd")
            where.append(origin[i])
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "\n":
            i += 2
            continue
        if nxt in _HEX_DIGITS:
            j = i + 1
            while j < n and j - (i + 1) < 6 and text[j] in _HEX_DIGITS:
                j += 1
            code = int(text[i + 1 : j], 16)
            if j < n and text[j] in " \t\n":
                j += 1
            valid = 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF
            out.append(chr(code) if valid else "\ufffd")
            where.append(origin[i])
            i = j
            continue
        out.append(nxt)
        where.append(origin[i])
        i += 2
    return "".join(out), where


def decode_css_escapes(text: str) -> str:
    """Decode every CSS escape in ``text`` (CSS Syntax §4.3.7); see
    :func:`_decode_escapes` for the exact reading.  ``\\3c /style`` gives
    ``</style``."""
    text = _preprocess(text)
    return _decode_escapes(text, list(range(len(text))))[0]


_COMMENT_RE = re.compile(r"/\*.*?(?:\*/|\Z)", re.DOTALL)


def _strip_comments(text: str) -> tuple[str, list[int]]:
    """Remove everything that looks like a comment, wherever it is.

    Deliberately context-free (a ``/*`` inside a string is removed too): the
    result is only scanned for forbidden words, and old Internet Explorer
    ignored comments in places such as ``expr/**/ession(`` and ``java/**/script:``.
    """
    out: list[str] = []
    where: list[int] = []
    last = 0
    for match in _COMMENT_RE.finditer(text):
        out.append(text[last : match.start()])
        where.extend(range(last, match.start()))
        last = match.end()
    out.append(text[last:])
    where.extend(range(last, len(text)))
    return "".join(out), where


def _squash(text: str, where: list[int]) -> tuple[str, list[int]]:
    """Lower-case and drop whitespace and invisible characters.

    The URL Standard strips tabs and newlines inside URLs (``java\\tscript:``
    still runs) and browsers lower-case schemes and property names.
    """
    out: list[str] = []
    kept: list[int] = []
    for c, w in zip(text, where, strict=True):
        if c.isspace() or unicodedata.category(c) in ("Cc", "Cf"):
            continue
        out.append(c.lower())
        kept.append(w)
    return "".join(out), kept


def _is_forbidden_char(c: str) -> bool:
    """Control characters (Unicode Cc, bar tab and line ends) and surrogates."""
    if c in "\t\n\r\f":
        return False
    return unicodedata.category(c) in ("Cc", "Cs")


# --------------------------------------------------------------------------
# The checker
# --------------------------------------------------------------------------

_BREAKOUT_RE = re.compile(r"</style|<!--|<|-->", re.IGNORECASE)
_SCRIPT_SCHEME_RE = re.compile(r"(?:java|vb|live)script:|mocha:")
_SCRIPT_WORDS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        _SCRIPT_SCHEME_RE,
        "script-url",
        "{word} is not allowed: it would run script.",
    ),
    (
        re.compile(r"expression\("),
        "expression",
        "expression() is not allowed: it runs script in old Internet Explorer.",
    ),
    (
        re.compile(r"-moz-binding"),
        "moz-binding",
        "-moz-binding is not allowed: it loads script (XBL) in old Firefox.",
    ),
    (
        re.compile(r"(?<![a-z0-9_-])(?:-ms-)?behavior:"),
        "behavior",
        "the behavior property is not allowed: it loads script (HTC) in Internet Explorer.",
    ),
)

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

# Functions whose bare string arguments are URLs that get fetched: CSS Images
# 4 image-set() (and its prefixed form) and image().  cross-fade() takes
# images, not strings, but a browser that read a string there could only read
# it as a URL, so its strings are held to the same rule.
_STRING_URL_FUNCTIONS = frozenset(
    {"image-set", "-webkit-image-set", "image", "cross-fade", "-webkit-cross-fade"}
)
# Substitution functions: a URL assembled from them cannot be checked here.
_SUBSTITUTION_FUNCTIONS = frozenset({"var", "attr", "env"})

_SCHEME_RE = re.compile(r"([a-z][a-z0-9+.-]*):")
# WHATWG URL: for these "special" schemes "https:host" and "https:\\host" name
# a host just as "https://host" does ("\" counts as "/").
_SPECIAL_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp", "file"})
_ONLY_DATA = f"only data: images under {MAX_DATA_IMAGE_BYTES // 1024} KiB are allowed"
_ONLY_RASTER = (
    f"only data: images in PNG, JPEG, GIF or WebP under {MAX_DATA_IMAGE_BYTES // 1024} KiB are allowed"
)
# The raw-text scan, over the text with escapes decoded, comments, whitespace
# and invisible characters removed, lower-cased: a colon followed by two
# slashes (scheme://host), two slashes just after "(" or a quote
# (protocol-relative), or a special scheme just after "(" or a quote.  No
# pattern backtracks over a run of letters, so the scan is linear.
_HOST_RE = re.compile(r""":[/\\]{2}|[("'][/\\]{2}|[("'](?:https?|wss?|ftp|file):""")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+.-")
# Infra §4.7 "forgiving-base64 decode": the alphabet, once whitespace is gone.
_BASE64_RE = re.compile(r"[A-Za-z0-9+/]*")
# Attribute selectors on these elements can read the state of a form.
_FORM_FIELDS = frozenset({"input", "textarea", "select", "option"})
_ATTRIBUTE_MATCHERS = frozenset({"=", "~=", "|=", "^=", "$=", "*="})
_CHARSET_START_RE = re.compile(r'@charset "[^"]*";')

_SELECTOR_PUNCTUATION = frozenset({".", ":", "*", ">", "+", "~", ",", "|", "||", "&"})
_COMBINATORS = frozenset({">", "+", "~", "||"})

_TARGETS = {"modal": ".modal", "modalheader": ".modalheader"}
_WHITE: RGB = (255.0, 255.0, 255.0)
_BLACK: RGB = (0.0, 0.0, 0.0)


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class _ColourSetting:
    """A colour a declaration sets: parsed value (None: not computable)."""

    rgba: _RGBA | None
    line: int
    column: int
    image: bool = False  # background shorthand with an image and no colour


@dataclass
class _TargetColours:
    fg: _ColourSetting | None = None
    bg: _ColourSetting | None = None


class _Checker:
    def __init__(self, text: str) -> None:
        self.text = _preprocess(text)
        self.positions = _Positions(self.text)
        self._found: dict[tuple[object, ...], CssFinding] = {}
        self._warnings: dict[str, int] = {}
        self.colours = {name: _TargetColours() for name in _TARGETS}

    # -- findings ----------------------------------------------------------

    def add(self, level: Level, line: int, column: int, rule: str, message: str) -> None:
        # The same problem is often seen by more than one pass (a token check
        # and the raw-text scan): keep each error rule once per line, at its
        # first column, and each warning once per position.
        key = (level, rule, line) if level == "error" else (level, rule, line, column)
        known = self._found.get(key)
        if known is not None and known.column <= column:
            return
        self._found[key] = CssFinding(level, line, column, rule, f"Line {line}: {message}")

    def error(self, node: ast.Node | tuple[int, int], rule: str, message: str) -> None:
        line, column = node if isinstance(node, tuple) else (node.source_line, node.source_column)
        self.add("error", line, column, rule, message)

    def warn(self, node: ast.Node, rule: str, message: str) -> None:
        # Advice, not a verdict: past a screenful of the same warning more of
        # it helps nobody (64 KiB of "a," would otherwise give 32,000).
        count = self._warnings.get(rule, 0)
        if count >= MAX_WARNINGS_PER_RULE:
            return
        self._warnings[rule] = count + 1
        self.add("warning", node.source_line, node.source_column, rule, message)

    def result(self) -> tuple[CssFinding, ...]:
        return tuple(sorted(self._found.values(), key=lambda f: (f.line, f.column, f.level != "error")))

    # -- raw text ------------------------------------------------------------

    def scan_text(self) -> None:
        text = self.text
        for index, c in enumerate(text):
            if _is_forbidden_char(c):
                self.error(
                    self.positions.at(index),
                    "control-char",
                    f"the control character U+{ord(c):04X} is not allowed.",
                )
        identity = list(range(len(text)))
        decoded, decoded_at = _decode_escapes(text, identity)
        stripped, stripped_at = _strip_comments(text)
        decoded_stripped, decoded_stripped_at = _decode_escapes(stripped, [identity[i] for i in stripped_at])
        self._scan_breakout(text, identity, escaped=False)
        self._scan_breakout(decoded, decoded_at, escaped=True)
        self._scan_breakout(decoded_stripped, decoded_stripped_at, escaped=True)
        for index, c in zip(decoded_at, decoded, strict=True):
            if _is_forbidden_char(c):
                self.error(
                    self.positions.at(index),
                    "control-char",
                    f"an escape decodes to the control character U+{ord(c):04X}, which is not allowed.",
                )
        for source, where in ((decoded, decoded_at), (decoded_stripped, decoded_stripped_at)):
            squashed, squashed_at = _squash(source, where)
            for pattern, rule, message in _SCRIPT_WORDS:
                for match in pattern.finditer(squashed):
                    word = match.group(0)
                    self.error(
                        self.positions.at(squashed_at[match.start()]),
                        rule,
                        message.format(word=word),
                    )

    def _scan_breakout(self, text: str, where: list[int], *, escaped: bool) -> None:
        """Refuse every "<" (HTML §13.2.5.2: only "</style" ends a style
        element, but refusing the character is simpler and leaves no spelling
        to miss) and the HTML comment markers."""
        how = "an escape that decodes to " if escaped else ""
        reported_line = 0
        for match in _BREAKOUT_RE.finditer(text):
            line, column = self.positions.at(where[match.start()])
            if line == reported_line:
                continue  # one finding per line is enough to act on
            reported_line = line
            marker = match.group(0).lower()
            if marker == "-->":
                what = "--> is an HTML comment marker and is not allowed"
            else:
                if marker == "</style":
                    what = "</style would end the style element and let HTML in"
                elif marker == "<!--":
                    what = "<!-- is an HTML comment marker"
                else:
                    what = "< could start HTML such as </style"
                what += "; the character < is not allowed anywhere in the CSS"
            self.error((line, column), "style-breakout", f"{how}{what}.")

    def check_structure_closed(self) -> None:
        """tinycss2 closes blocks, functions and comments silently at EOF (as
        CSS Syntax §5 tells browsers to).  For stored CSS that would mean the
        next thing on the page lands inside the open block, so refuse it: parse
        the text with a sentinel at-keyword appended and see where it lands."""
        name = "css-check-end-of-input"
        expected_line = self.text.count("\n") + 2
        tokens = tinycss2.parse_component_value_list(f"{self.text}\n@{name}")
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
                self.error(node, "parse-error", "this comment is never closed with */.")
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
            self.error(innermost, "parse-error", f"{what} is never closed.")
        # Otherwise it is an unclosed string or url(), which the token walk
        # reports from tinycss2's own ParseError.

    # -- token walk (everything, wherever it is) -----------------------------

    def walk_tokens(self, nodes: Iterable[ast.Node], *, root: bool = False) -> None:
        for index, node in enumerate(nodes):
            kind = node.type
            if kind == "error":
                self.parse_error(node)
                continue
            for value in _token_strings(node):
                self.check_token_value(node, value)
            if kind == "url":
                self.check_url(node, node.value, f"url({_short(node.value)})")
            elif kind == "at-keyword":
                self.check_at_keyword(node, first=root and index == 0)
            elif kind == "function":
                self.check_function(node)
                self.walk_tokens(node.arguments)
            elif kind in ("{} block", "[] block", "() block"):
                self.walk_tokens(node.content)

    def check_token_value(self, node: ast.Node, value: str) -> None:
        # tinycss2 decodes escapes into token values, and its serializer writes
        # "<" and control characters back out as they are, so a value holding
        # one must never reach the stored CSS.
        if "<" in value or "-->" in value:
            self.error(
                node,
                "style-breakout",
                f"this {node.type} holds < or --> (written as is or as an escape such as \\3c), "
                "which is not allowed anywhere in the CSS: it could end the style element.",
            )
        for c in value:
            if _is_forbidden_char(c):
                self.error(
                    node,
                    "control-char",
                    f"an escape decodes to U+{ord(c):04X}, a control character or "
                    "surrogate, which is not allowed.",
                )
                break

    def parse_error(self, node: ast.ParseError) -> None:
        messages = {
            "bad-string": "a string is broken by a line end; close the quote on the same line.",
            "bad-url": "this url(...) is malformed (a quote, bracket or space inside an unquoted URL).",
            "eof-in-string": "this string is never closed.",
            "eof-in-url": "this url( is never closed.",
            "}": "there is a } with no { to close.",
            ")": "there is a ) with no ( to close.",
            "]": "there is a ] with no [ to close.",
        }
        message = messages.get(
            node.kind,
            "this is not valid CSS here (expected a rule, or 'property: value;').",
        )
        self.error(node, "parse-error", message)

    def check_at_keyword(self, node: ast.AtKeywordToken, *, first: bool) -> None:
        keyword = node.lower_value
        if keyword == "import":
            self.error(
                node,
                "import",
                "@import is not allowed: it would load a stylesheet from elsewhere.",
            )
        elif keyword == "namespace":
            self.error(
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
                and _CHARSET_START_RE.match(self.text) is not None
            )
            if not at_start:
                self.error(
                    node,
                    "charset",
                    '@charset is only allowed as the very first thing, as @charset "utf-8";.',
                )

    def check_function(self, node: ast.FunctionBlock) -> None:
        name = node.lower_name
        label = f"{node.name}()"
        if name == "expression":
            self.error(
                node,
                "expression",
                "expression() is not allowed: it runs script in old Internet Explorer.",
            )
            return
        if name not in ("url", "src") and name not in _STRING_URL_FUNCTIONS:
            return
        arguments = [a for a in node.arguments if a.type not in ("whitespace", "comment")]
        for argument in arguments:
            if argument.type == "function" and argument.lower_name in _SUBSTITUTION_FUNCTIONS:
                self.error(
                    argument,
                    "outside-resource",
                    f"{label} built from {argument.name}() is not allowed: "
                    "the address it loads cannot be checked.",
                )
                return
        strings = [a for a in arguments if a.type == "string"]
        if name in ("url", "src"):
            # CSS Values 4 §4.5: url("…")/src("…") take exactly one string
            # first, optionally followed by modifiers.
            if not arguments or arguments[0].type != "string":
                self.error(
                    node,
                    "outside-resource",
                    f"{label} without a quoted address is not allowed: what it loads cannot be checked.",
                )
                return
            strings = strings[:1]
        for string in strings:
            self.check_url(string, string.value, f'{node.name}("{_short(string.value)}")')

    def check_url(self, node: ast.Node, value: str, shown: str) -> None:
        """Allow inline raster data: images under the size limit, and nothing else."""
        # WHATWG URL: leading/trailing C0 controls and spaces are stripped and
        # tabs/newlines removed anywhere; schemes are case-insensitive.
        url = "".join(c for c in value.strip("\x00\t\n\f\r ") if c not in "\t\n\r")
        lowered = url.lower()
        scheme_match = _SCHEME_RE.match(lowered)
        scheme = scheme_match.group(1) if scheme_match else None
        if scheme is not None and _SCRIPT_SCHEME_RE.match(lowered):
            self.error(node, "script-url", f"{shown} is not allowed: it would run script.")
            return
        if scheme == "data":
            problem = _data_image_problem(url)
            if problem is not None:
                self.error(node, "outside-resource", f"{shown} {problem}; {_ONLY_RASTER}.")
            return
        rest = lowered[len(scheme) + 1 :] if scheme is not None else lowered
        if not url:
            reason = "is empty, which loads the page itself"
        elif scheme in _SPECIAL_SCHEMES or rest.startswith(("//", "\\\\", "/\\", "\\/")):
            reason = "loads from another host"
        elif scheme is not None:
            reason = f"loads over {scheme}:, from outside the page"
        else:
            reason = "is a relative address, which loads from the webmail server"
        self.error(node, "outside-resource", f"{shown} {reason}; {_ONLY_DATA}.")

    def scan_addresses(self) -> None:
        """Behind the token walk: refuse any text that names a host, however
        it is spelt, on a line the walk found nothing wrong with.  The scan
        reads the text with escapes decoded and comments, whitespace and
        invisible characters dropped (the spellings an old or lenient CSS
        parser reads as one token, e.g. ``ur/**/l(//host)``)."""
        stripped, stripped_at = _strip_comments(self.text)
        decoded, decoded_at = _decode_escapes(stripped, stripped_at)
        squashed, squashed_at = _squash(decoded, decoded_at)
        lines_with_errors = {f.line for f in self._found.values() if f.level == "error"}
        for match in _HOST_RE.finditer(squashed):
            first = match.start()
            if squashed[first] == ":":  # back to the start of the scheme
                while first > 0 and squashed[first - 1] in _SCHEME_CHARS:
                    first -= 1
            elif squashed[first] in "(\"'":
                first += 1
            start = squashed_at[first]
            line, column = self.positions.at(start)
            if line in lines_with_errors:
                continue
            lines_with_errors.add(line)
            # As the scan read it (escapes decoded, lower-cased), up to where the address ends.
            shown = _short(re.split(r"[;)\"'{}]", squashed[first : first + 200], maxsplit=1)[0])
            self.error((line, column), "outside-resource", f"{shown} names another host; {_ONLY_DATA}.")

    # -- structure walk (rules, declarations, selectors) ---------------------

    def walk_rules(self, nodes: Iterable[ast.Node], *, context: str, field: bool = False) -> None:
        """``context`` is "top" (stylesheet or group rule), "nested" (inside a
        style rule), "keyframes" or "descriptors"; ``field`` says whether an
        enclosing style rule (or @scope) names a form field."""
        for node in nodes:
            kind = node.type
            if kind == "error":
                self.parse_error(node)
            elif kind == "declaration":
                self.check_declaration(node, target=None)
            elif kind == "at-rule":
                self.check_at_rule(node, context=context, field=field)
            elif kind == "qualified-rule":
                self.check_qualified_rule(node, context=context, field=field)

    def check_at_rule(self, node: ast.AtRule, *, context: str, field: bool = False) -> None:
        keyword = node.lower_at_keyword
        if keyword not in _KNOWN_AT_RULES:
            # Refuse rather than ignore: what an unknown at-rule would do in
            # some browser cannot be vetted.  Note "@im/**/port" lands here: a
            # comment ends a token (CSS Syntax §4.3), so that is the unknown
            # at-rule @im followed by the word "port", not an @import.
            self.error(
                node,
                "unknown-at-rule",
                f"@{_short(node.at_keyword, 30)} is not an at-rule this check knows, "
                "so it cannot be vetted; remove it.",
            )
        if keyword == "scope":  # @scope (input) to (…): its prelude holds selectors (Cascade 6 §2.5)
            field = self.check_attribute_selectors(node.prelude, field=field) or field
        if node.content is None:
            return
        body = tinycss2.parse_blocks_contents(node.content, skip_comments=True, skip_whitespace=True)
        if keyword in _GROUP_AT_RULES:
            self.walk_rules(body, context=context if context == "nested" else "top", field=field)
        elif keyword in _KEYFRAMES_AT_RULES:
            self.walk_rules(body, context="keyframes")
        else:
            self.walk_rules(body, context="descriptors")

    def check_qualified_rule(self, node: ast.QualifiedRule, *, context: str, field: bool = False) -> None:
        target = None
        if context in ("top", "nested"):
            # CSS Nesting 1 §2: a nested rule's "&" is its parent's selector, so
            # a form field named by the parent is named by the nested rule too.
            field = self.check_attribute_selectors(node.prelude, field=field) or field
            target = self.check_selectors(node, nested=context == "nested")
        body = tinycss2.parse_blocks_contents(node.content, skip_comments=True, skip_whitespace=True)
        for item in body:
            if item.type == "declaration":
                self.check_declaration(item, target=target)
            elif item.type == "error":
                self.parse_error(item)
            elif item.type == "at-rule":
                self.check_at_rule(item, context="nested", field=field)
            elif item.type == "qualified-rule":
                self.check_qualified_rule(
                    item, context="nested" if context in ("top", "nested") else context, field=field
                )

    def check_attribute_selectors(self, prelude: list[ast.Node], *, field: bool) -> bool:
        """Refuse the attribute selectors that can read a form: any that names
        ``value``, whatever the element, and any at all in a selector that
        names input, textarea, select or option (or inside a rule that does).
        Returns whether this prelude names one of those elements."""
        blocks, names_field = _attribute_selectors(prelude)
        for block in blocks:
            shown = _short(tinycss2.serialize([block]), 40)
            if _attribute_name(block) == "value":
                self.error(
                    block,
                    "attribute-selector",
                    f"the attribute selector {shown} is not allowed: a selector on a form field's "
                    "value can read what a customer types, one character at a time.",
                )
            elif field or names_field:
                self.error(
                    block,
                    "attribute-selector",
                    f"the attribute selector {shown} is not allowed on input, textarea, select "
                    "or option: it can read what a customer types or picks there.",
                )
        return names_field

    def check_declaration(self, node: ast.Declaration, *, target: str | None) -> None:
        name = node.lower_name
        if name in ("behavior", "-ms-behavior"):
            self.error(
                node,
                "behavior",
                f"the {node.name} property is not allowed: it loads script (HTC) in Internet Explorer.",
            )
        elif name == "-moz-binding":
            self.error(
                node,
                "moz-binding",
                "the -moz-binding property is not allowed: it loads script (XBL) in old Firefox.",
            )
        if target is None:
            return
        colours = self.colours[target]
        if name == "color":
            colours.fg = _ColourSetting(
                _parse_rgba(tinycss2.serialize(node.value)), node.source_line, node.source_column
            )
        elif name == "background-color":
            colours.bg = _ColourSetting(
                _parse_rgba(tinycss2.serialize(node.value)), node.source_line, node.source_column
            )
        elif name == "background":
            colours.bg = _background_shorthand(node)

    def check_selectors(self, rule: ast.QualifiedRule, *, nested: bool) -> str | None:
        """Warn about selectors that reach nothing on the login page; return
        which pop-up part ("modal"/"modalheader") the rule colours, if any."""
        targets: set[str | None] = set()
        for selector in _split_commas(rule.prelude):
            tokens = _trim(selector)
            if not tokens:
                self.error(
                    selector[0] if selector else rule,
                    "parse-error",
                    "a selector is empty (a stray comma?).",
                )
                continue
            missing, bad = _selector_names(tokens)
            if bad is not None:
                self.error(
                    bad,
                    "parse-error",
                    f"{_short(tinycss2.serialize([bad]), 20)} cannot appear in a selector "
                    "(a missing { or a declaration outside any rule?).",
                )
                continue
            for name, token in missing:
                if name not in LOGIN_PAGE_NAMES:
                    shown = _short(tinycss2.serialize(tokens))
                    extra = "" if shown == name else f" (the login page has no {name})"
                    self.warn(
                        token,
                        "unreachable-selector",
                        f"the selector {shown} styles nothing on the login page{extra}.",
                    )
                    break
            targets.add(None if nested else _selector_target(tokens))
        if len(targets) == 1:
            return targets.pop()
        return None

    # -- contrast ------------------------------------------------------------

    def contrast(self) -> tuple[ContrastResult, ...]:
        modal = self.colours["modal"]
        header = self.colours["modalheader"]
        results: list[ContrastResult] = []

        def resolve_bg(own: _ColourSetting | None, below: RGB | None) -> RGB | None:
            base = below if below is not None else _WHITE
            if own is None:
                return base
            if own.rgba is None or own.image:
                return None
            return _composite(own.rgba, base)

        modal_bg = resolve_bg(modal.bg, None)
        if modal.fg is not None or modal.bg is not None:
            self._contrast_for(".modal", modal.fg, modal_bg, modal, results)
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
            self._contrast_for(".modalheader", fg, header_bg, header, results)
        return tuple(results)

    def _contrast_for(
        self,
        selector: str,
        fg: _ColourSetting | None,
        bg: RGB | None,
        own: _TargetColours,
        results: list[ContrastResult],
    ) -> None:
        if bg is None or (fg is not None and fg.rgba is None):
            return  # something is var(), currentcolor, an image…: not computable
        fg_rgb = _composite(fg.rgba, bg) if fg is not None and fg.rgba else _BLACK
        ratio = contrast_ratio(fg_rgb, bg)
        result = ContrastResult(selector, _hex(fg_rgb), _hex(bg), ratio)
        results.append(result)
        if result.passes_aa:
            return
        where = own.fg or own.bg
        assert where is not None
        shown = f"{ratio:.2f}"
        if shown == "4.50":  # 4.497 must not read as "4.50:1, below 4.5:1"
            shown = f"{ratio:.3f}"
        self.add(
            "warning",
            where.line,
            where.column,
            "low-contrast",
            f"text {result.fg} on {result.bg} in {selector} has a contrast of "
            f"{shown}:1, below the 4.5:1 of WCAG AA.",
        )


def _data_image_problem(url: str) -> str | None:
    """None for a ``data:`` URL of a raster image within the size limit, else
    what is wrong with it (to follow the URL in a sentence).

    Read as the Fetch Standard's "data: URL processor" (§4.6) reads it: the
    media type up to the first comma, ``;base64`` as its last parameter, the
    body percent-decoded and then, for base64, forgiving-base64 decoded
    (Infra §4.7).  The limit applies to the decoded bytes.
    """
    header, comma, body = url[len("data:") :].partition(",")
    if not comma:
        return "is not a complete data: URL (there is no comma before its data)"
    parameters = [p.strip(" \t\n\f\r").lower() for p in header.split(";")]
    mime = parameters[0]
    is_base64 = len(parameters) > 1 and parameters[-1] == "base64"
    if "svg" in mime:
        return "is an SVG image, which can carry script and links"
    if mime not in DATA_IMAGE_TYPES:
        return f"is of type {mime or 'text/plain'}, not one of the image types allowed"
    data = unquote_to_bytes(body)
    if is_base64:
        decoded = _forgiving_base64(data)
        if decoded is None:
            return "holds base64 data that does not decode"
        data = decoded
    if len(data) > MAX_DATA_IMAGE_BYTES:
        return f"holds an image of {len(data):,} bytes once decoded, over the limit"
    return None


def _forgiving_base64(data: bytes) -> bytes | None:
    """Infra §4.7 forgiving-base64 decode: None where a browser would fail."""
    text = "".join(chr(b) for b in data if b not in b" \t\n\f\r")
    if len(text) % 4 == 0 and text.endswith("="):
        text = text[:-2] if text.endswith("==") else text[:-1]
    if len(text) % 4 == 1 or not _BASE64_RE.fullmatch(text):
        return None
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        return None


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


def _background_shorthand(node: ast.Declaration) -> _ColourSetting:
    """The background colour a ``background`` shorthand sets (CSS Backgrounds
    3 §3.10): the colour it names, else an image we cannot see through, else
    the initial value transparent."""
    colour: _RGBA | None = None
    image = False
    unknown = False
    for token in node.value:
        if token.type in ("whitespace", "comment"):
            continue
        if token.type in ("ident", "hash", "function"):
            rgba = _parse_rgba(tinycss2.serialize([token]))
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
    if len(classes) == 1 and classes[0] in _TARGETS:
        return classes[0]
    return None


def _too_deep(tokens: list[ast.Node]) -> ast.Node | None:
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


def _serialize_rules(rules: list[ast.Node]) -> str:
    # One top-level rule per line; tinycss2 keeps the whitespace inside rules.
    if not rules:
        return ""
    return "\n".join(tinycss2.serialize([rule]) for rule in rules) + "\n"


def _check(text: str) -> tuple[CssReport, list[ast.Node] | None]:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_CSS_BYTES:
        # Refused before parsing: the size limit bounds the work done here too.
        finding = CssFinding(
            "error",
            1,
            1,
            "too-large",
            f"Line 1: the CSS is {size:,} bytes; the limit is {MAX_CSS_BYTES:,} bytes (64 KiB).",
        )
        return CssReport(css="", findings=(finding,)), None
    checker = _Checker(text)
    checker.scan_text()
    checker.check_structure_closed()
    tokens = tinycss2.parse_component_value_list(checker.text, True)
    deep = _too_deep(tokens)
    if deep is not None:
        checker.error(
            deep,
            "too-deep",
            f"blocks, brackets and functions are nested more than {MAX_NESTING} deep here; "
            "styling never needs that, so it is not accepted.",
        )
        return CssReport(css="", findings=checker.result()), None
    checker.walk_tokens(tokens, root=True)
    # Same tokens as the walk above (comments skipped everywhere, CSS Syntax
    # §4.3.2), so the stored CSS holds no comment for anything to hide in.
    rules = tinycss2.parse_stylesheet(tokens, skip_whitespace=True)
    checker.walk_rules(rules, context="top")
    checker.scan_addresses()
    contrast = checker.contrast()
    findings = checker.result()
    report = CssReport(css="", findings=findings, contrast=contrast)
    if not report.ok:
        return report, None
    return CssReport(css=_serialize_rules(rules), findings=findings, contrast=contrast), rules


def check_css(text: str) -> CssReport:
    """Check brand CSS for the webmail login page; never raises on any text.

    Errors mean the CSS must not be stored; warnings are advice.  When there
    are no errors, ``report.css`` is the re-serialized CSS to store, and
    ``check_css(report.css).css == report.css``.
    """
    report, _rules = _check(text)
    if not report.ok:
        return report
    # Defence in depth: the stored text is what the page will get, so it goes
    # through the same checks.  Re-serialization must neither create anything
    # the checks refuse nor change on a second pass.
    again, _ = _check(report.css)
    if not again.ok or again.css != report.css:
        problems = again.errors or (
            CssFinding("error", 1, 1, "parse-error", "Line 1: the CSS does not re-serialize stably."),
        )
        findings = tuple(
            CssFinding(
                "error",
                f.line,
                f.column,
                f.rule,
                f"{f.message} (found in the CSS as it would be stored)",
            )
            for f in problems
        )
        return CssReport(css="", findings=report.findings + findings, contrast=report.contrast)
    return report


def validate_css(text: str) -> CssReport:
    """Return the report for storable CSS (warnings included); raise
    :class:`CssRejected` carrying the report when there is any error."""
    report = check_css(text)
    if not report.ok:
        raise CssRejected(report)
    return report
