"""The entry points: check brand CSS, and refuse it when it may not be stored.

One check runs the passes in a fixed order, because each later pass counts on
the earlier ones: the size limit before any parsing; the raw-text pass and the
unclosed-structure check on the text; the nesting limit before any recursive
walk; the token walk and the rule walk over tinycss2's tree; then the address
scan, which only reports lines the walks found clean; then the contrast advice.
"""

from __future__ import annotations

import tinycss2
from tinycss2 import ast

from core.brands.css.contrast import PopupColours
from core.brands.css.parsing import MAX_NESTING, check_structure_closed, too_deep
from core.brands.css.raw import scan_addresses, scan_text
from core.brands.css.report import CssFinding, CssRejected, CssReport, Findings
from core.brands.css.rules import walk_stylesheet
from core.brands.css.text import Source
from core.brands.css.tokens import walk_tokens

__all__ = ["MAX_CSS_BYTES", "check_css", "validate_css"]

MAX_CSS_BYTES = 64 * 1024


def check_css(text: str) -> CssReport:
    """Check brand CSS for the webmail login page; never raises on any text.

    Errors mean the CSS must not be stored; warnings are advice.  When there
    are no errors, ``report.css`` is the re-serialized CSS to store, and
    ``check_css(report.css).css == report.css``.
    """
    report = _check(text)
    if not report.ok:
        return report
    # Defence in depth: the stored text is what the page will get, so it goes
    # through the same checks.  Re-serialization must neither create anything
    # the checks refuse nor change on a second pass.
    again = _check(report.css)
    if not again.ok or again.css != report.css:
        problems = again.errors or (
            CssFinding("error", 1, 1, "parse-error", "the CSS does not re-serialize stably."),
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
    :class:`~core.brands.css.report.CssRejected` carrying the report when there is any error."""
    report = check_css(text)
    if not report.ok:
        raise CssRejected(report)
    return report


def _check(text: str) -> CssReport:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_CSS_BYTES:
        # Refused before parsing: the size limit bounds the work done here too.
        finding = CssFinding(
            "error",
            1,
            1,
            "too-large",
            f"the CSS is {size:,} bytes; the limit is {MAX_CSS_BYTES:,} bytes (64 KiB).",
        )
        return CssReport(css="", findings=(finding,))
    source = Source(text)
    findings = Findings()
    scan_text(source, findings)
    check_structure_closed(source, findings)
    tokens = tinycss2.parse_component_value_list(source.text, True)
    deep = too_deep(tokens)
    if deep is not None:
        findings.error(
            deep,
            "too-deep",
            f"blocks, brackets and functions are nested more than {MAX_NESTING} deep here; "
            "styling never needs that, so it is not accepted.",
        )
        return CssReport(css="", findings=findings.result())
    walk_tokens(source, findings, tokens, root=True)
    # Same tokens as the walk above (comments skipped everywhere, CSS Syntax
    # §4.3.2), so the stored CSS holds no comment for anything to hide in.
    rules = tinycss2.parse_stylesheet(tokens, skip_whitespace=True)
    colours = PopupColours()
    walk_stylesheet(findings, colours, rules)
    scan_addresses(source, findings)
    contrast = colours.results(findings)
    report = CssReport(css="", findings=findings.result(), contrast=contrast)
    if not report.ok:
        return report
    return CssReport(css=_serialize_rules(rules), findings=report.findings, contrast=contrast)


def _serialize_rules(rules: list[ast.Node]) -> str:
    # One top-level rule per line; tinycss2 keeps the whitespace inside rules.
    if not rules:
        return ""
    return "\n".join(tinycss2.serialize([rule]) for rule in rules) + "\n"
