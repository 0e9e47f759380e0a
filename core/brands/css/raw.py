"""The raw-text pass: what is refused however the tokenizer would read it.

These scans read the text itself, with escapes decoded and, where that hides
more, comments, whitespace and invisible characters dropped, so a spelling
some browser reads differently from tinycss2 is caught too:

* every ``<`` and the HTML comment markers (HTML §13.1.2.6: a ``<style``
  element is raw text and ends at the first ``</style``);
* control characters, written as they are or as escapes;
* the words that run script: ``javascript:`` and kin, ``expression(``,
  ``-moz-binding``, ``behavior:``;
* behind the token walk, any text that names a host (``scheme://``,
  ``//host``) on a line with no other error.
"""

from __future__ import annotations

import re

from core.brands.css.report import Findings
from core.brands.css.text import (
    Source,
    decode_escapes,
    is_forbidden_char,
    shorten,
    squash,
    strip_comments,
)
from core.brands.css.urls import ONLY_DATA, SCRIPT_SCHEME_RE

__all__ = ["scan_addresses", "scan_text"]

_BREAKOUT_RE = re.compile(r"</style|<!--|<|-->", re.IGNORECASE)
_SCRIPT_WORDS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        SCRIPT_SCHEME_RE,
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
# Over the text with escapes decoded, comments, whitespace and invisible
# characters removed, lower-cased: a colon followed by two slashes
# (scheme://host), two slashes just after "(" or a quote (protocol-relative),
# or a special scheme just after "(" or a quote.  No pattern backtracks over a
# run of letters, so the scan is linear.
_HOST_RE = re.compile(r""":[/\\]{2}|[("'][/\\]{2}|[("'](?:https?|wss?|ftp|file):""")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+.-")


def scan_text(source: Source, findings: Findings) -> None:
    """Refuse ``<``, control characters and the script words in the raw text."""
    text = source.text
    for index, c in enumerate(text):
        if is_forbidden_char(c):
            findings.error(
                source.at(index),
                "control-char",
                f"the control character U+{ord(c):04X} is not allowed.",
            )
    identity = list(range(len(text)))
    decoded, decoded_at = decode_escapes(text, identity)
    stripped, stripped_at = strip_comments(text)
    decoded_stripped, decoded_stripped_at = decode_escapes(stripped, [identity[i] for i in stripped_at])
    _scan_breakout(source, findings, text, identity, escaped=False)
    _scan_breakout(source, findings, decoded, decoded_at, escaped=True)
    _scan_breakout(source, findings, decoded_stripped, decoded_stripped_at, escaped=True)
    for index, c in zip(decoded_at, decoded, strict=True):
        if is_forbidden_char(c):
            findings.error(
                source.at(index),
                "control-char",
                f"an escape decodes to the control character U+{ord(c):04X}, which is not allowed.",
            )
    for reading, where in ((decoded, decoded_at), (decoded_stripped, decoded_stripped_at)):
        squashed, squashed_at = squash(reading, where)
        for pattern, rule, message in _SCRIPT_WORDS:
            for match in pattern.finditer(squashed):
                findings.error(
                    source.at(squashed_at[match.start()]),
                    rule,
                    message.format(word=match.group(0)),
                )


def _scan_breakout(source: Source, findings: Findings, text: str, where: list[int], *, escaped: bool) -> None:
    """Refuse every "<" (HTML §13.2.5.2: only "</style" ends a style
    element, but refusing the character is simpler and leaves no spelling
    to miss) and the HTML comment markers."""
    how = "an escape that decodes to " if escaped else ""
    reported_line = 0
    for match in _BREAKOUT_RE.finditer(text):
        line, column = source.at(where[match.start()])
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
        findings.error((line, column), "style-breakout", f"{how}{what}.")


def scan_addresses(source: Source, findings: Findings) -> None:
    """Behind the token walk: refuse any text that names a host, however
    it is spelt, on a line the walk found nothing wrong with.  The scan
    reads the text with escapes decoded and comments, whitespace and
    invisible characters dropped (the spellings an old or lenient CSS
    parser reads as one token, e.g. ``ur/**/l(//host)``)."""
    stripped, stripped_at = strip_comments(source.text)
    decoded, decoded_at = decode_escapes(stripped, stripped_at)
    squashed, squashed_at = squash(decoded, decoded_at)
    lines_with_errors = findings.error_lines()
    for match in _HOST_RE.finditer(squashed):
        first = match.start()
        if squashed[first] == ":":  # back to the start of the scheme
            while first > 0 and squashed[first - 1] in _SCHEME_CHARS:
                first -= 1
        elif squashed[first] in "(\"'":
            first += 1
        line, column = source.at(squashed_at[first])
        if line in lines_with_errors:
            continue
        lines_with_errors.add(line)
        # As the scan read it (escapes decoded, lower-cased), up to where the address ends.
        shown = shorten(re.split(r"[;)\"'{}]", squashed[first : first + 200], maxsplit=1)[0])
        findings.error((line, column), "outside-resource", f"{shown} names another host; {ONLY_DATA}.")
