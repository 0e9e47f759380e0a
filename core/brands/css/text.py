"""The CSS as raw text: positions, escapes, comments and spellings to scan.

Everything here works on the text before tinycss2 reads it, and keeps, for
each character it produces, the index in the text it came from, so a finding
made on a decoded or squashed reading still points at the right line.
"""

from __future__ import annotations

import bisect
import re
import unicodedata

__all__ = [
    "Source",
    "decode_css_escapes",
    "decode_escapes",
    "is_forbidden_char",
    "shorten",
    "squash",
    "strip_comments",
]


def _preprocess(text: str) -> str:
    # CSS Syntax §3.3: CR LF, CR and FF all become LF.  tinycss2 does the same,
    # so line/column numbers computed on this text agree with its tokens'.
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")


class Source:
    """The text being checked, preprocessed, with 1-based (line, column) lookup."""

    def __init__(self, raw: str) -> None:
        self.text = _preprocess(raw)
        self._newlines = [i for i, c in enumerate(self.text) if c == "\n"]

    def at(self, index: int) -> tuple[int, int]:
        """The (line, column) of an index in :attr:`text`."""
        line_index = bisect.bisect_left(self._newlines, index)
        line_start = self._newlines[line_index - 1] + 1 if line_index else 0
        return line_index + 1, index - line_start + 1


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def decode_escapes(text: str, origin: list[int]) -> tuple[str, list[int]]:
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
    :func:`decode_escapes` for the exact reading.  ``\\3c /style`` gives
    ``</style``."""
    text = _preprocess(text)
    return decode_escapes(text, list(range(len(text))))[0]


_COMMENT_RE = re.compile(r"/\*.*?(?:\*/|\Z)", re.DOTALL)


def strip_comments(text: str) -> tuple[str, list[int]]:
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


def squash(text: str, where: list[int]) -> tuple[str, list[int]]:
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


def is_forbidden_char(c: str) -> bool:
    """Control characters (Unicode Cc, bar tab and line ends) and surrogates."""
    if c in "\t\n\r\f":
        return False
    return unicodedata.category(c) in ("Cc", "Cs")


def shorten(text: str, limit: int = 60) -> str:
    """A piece of the CSS as a message quotes it: on one line, at most ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
