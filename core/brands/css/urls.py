"""Every URL in the CSS: the one kind allowed, an inline raster image, and why any other is refused.

PRODUCT.md, Trust: nothing the console renders loads from another host, and a
request to an outside host tells it who opened the page.  So the only URL
brand CSS may hold is a ``data:`` image in PNG, JPEG, GIF or WebP of at most
:data:`MAX_DATA_IMAGE_BYTES` once decoded; never SVG, which can carry script
and links.  This holds for ``url(…)`` quoted or not (CSS Syntax 3 §4.3.6),
``src()``, and the bare strings of ``image()``, ``image-set()`` and
``cross-fade()``.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import unquote_to_bytes

from tinycss2 import ast

from core.brands.css.report import Findings
from core.brands.css.text import shorten

__all__ = [
    "DATA_IMAGE_TYPES",
    "MAX_DATA_IMAGE_BYTES",
    "ONLY_DATA",
    "SCRIPT_SCHEME_RE",
    "check_function",
    "check_url",
]

# A logo or a background texture; anything larger belongs on the webmail
# server's own page, not in the brand CSS.
MAX_DATA_IMAGE_BYTES = 32 * 1024
DATA_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})

SCRIPT_SCHEME_RE = re.compile(r"(?:java|vb|live)script:|mocha:")
_SCHEME_RE = re.compile(r"([a-z][a-z0-9+.-]*):")
# WHATWG URL: for these "special" schemes "https:host" and "https:\\host" name
# a host just as "https://host" does ("\" counts as "/").
_SPECIAL_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp", "file"})
ONLY_DATA = f"only data: images under {MAX_DATA_IMAGE_BYTES // 1024} KiB are allowed"
_ONLY_RASTER = (
    f"only data: images in PNG, JPEG, GIF or WebP under {MAX_DATA_IMAGE_BYTES // 1024} KiB are allowed"
)
# Infra §4.7 "forgiving-base64 decode": the alphabet, once whitespace is gone.
_BASE64_RE = re.compile(r"[A-Za-z0-9+/]*")

# Functions whose bare string arguments are URLs that get fetched: CSS Images
# 4 image-set() (and its prefixed form) and image().  cross-fade() takes
# images, not strings, but a browser that read a string there could only read
# it as a URL, so its strings are held to the same rule.
_STRING_URL_FUNCTIONS = frozenset(
    {"image-set", "-webkit-image-set", "image", "cross-fade", "-webkit-cross-fade"}
)
# Substitution functions: a URL assembled from them cannot be checked here.
_SUBSTITUTION_FUNCTIONS = frozenset({"var", "attr", "env"})


def check_function(findings: Findings, node: ast.FunctionBlock) -> None:
    """Refuse ``expression()``, and check the address of every function that loads one."""
    name = node.lower_name
    label = f"{node.name}()"
    if name == "expression":
        findings.error(
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
            findings.error(
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
            findings.error(
                node,
                "outside-resource",
                f"{label} without a quoted address is not allowed: what it loads cannot be checked.",
            )
            return
        strings = strings[:1]
    for string in strings:
        check_url(findings, string, string.value, f'{node.name}("{shorten(string.value)}")')


def check_url(findings: Findings, node: ast.Node, value: str, shown: str) -> None:
    """Allow inline raster data: images under the size limit, and nothing else."""
    # WHATWG URL: leading/trailing C0 controls and spaces are stripped and
    # tabs/newlines removed anywhere; schemes are case-insensitive.
    url = "".join(c for c in value.strip("\x00\t\n\f\r ") if c not in "\t\n\r")
    lowered = url.lower()
    scheme_match = _SCHEME_RE.match(lowered)
    scheme = scheme_match.group(1) if scheme_match else None
    if scheme is not None and SCRIPT_SCHEME_RE.match(lowered):
        findings.error(node, "script-url", f"{shown} is not allowed: it would run script.")
        return
    if scheme == "data":
        problem = _data_image_problem(url)
        if problem is not None:
            findings.error(node, "outside-resource", f"{shown} {problem}; {_ONLY_RASTER}.")
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
    findings.error(node, "outside-resource", f"{shown} {reason}; {ONLY_DATA}.")


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
