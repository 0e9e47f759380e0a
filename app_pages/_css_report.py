"""What the CSS check found, under the Branding editor: the refusal, the findings, the contrast.

The editor is checked on every run (``_reads.css_report``, cached by text), so these always
describe what is in it. Every finding and colour quotes the CSS, shown through ``_ui.plain``
(``st.table`` renders Markdown).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _ui
from core.brands.css.colour import WCAG_AA_NORMAL_TEXT
from core.brands.css.report import CssReport


def show(report: CssReport) -> None:
    """The refusal (when there are errors), then the findings and the contrast tables."""
    if not report.ok:
        st.error(
            f"Refused: {_ui.rows(len(report.errors), 'error')}. This CSS cannot be saved or previewed "
            "until each is fixed.",
            icon=":material/block:",
        )
    st.markdown("**Findings** (errors first)")
    findings_table(report)
    st.markdown("**Contrast of the pop-up's text** (WCAG 2.x AA asks for 4.5:1)")
    contrast_table(report)


def findings_table(report: CssReport) -> None:
    """Every finding next to its line, errors first (a static table: long messages wrap)."""
    if not report.findings:
        st.caption(":material/check_circle: No problems found.")
        return
    ordered = sorted(report.findings, key=lambda f: (f.level != "error", f.line, f.column))
    table = pd.DataFrame(
        [
            {
                "Line": f.line,
                "Level": "Error" if f.level == "error" else "Warning",
                "Rule": _ui.plain(f.rule),
                "Message": _ui.plain(f.message),
            }
            for f in ordered
        ]
    )
    st.table(table, hide_index=True)


def contrast_table(report: CssReport) -> None:
    """Each part's text and background colours, their ratio, and whether it passes WCAG AA."""
    if not report.contrast:
        st.caption(
            "The CSS sets no text or background colour of the pop-up, so there is no contrast to check."
        )
        return
    table = pd.DataFrame(
        [
            {
                "Part": _ui.plain(c.selector),
                "Colours": _ui.plain(f"{c.fg} on {c.bg}"),
                "Ratio": f"{c.ratio:.2f}:1",
                f"AA ({WCAG_AA_NORMAL_TEXT:g}:1)": "Pass" if c.passes_aa else "Fail",
            }
            for c in report.contrast
        ]
    )
    st.table(table, hide_index=True)
