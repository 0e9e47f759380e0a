"""The check a brand's custom webmail-login CSS passes before it is stored.

The CSS is written by an account manager in a sandbox page and ends up inside a
``<style>`` element of the brand's custom webmail login page, where it styles
the 2FA pop-up through ``#login-form .box-inner .modalheader`` and
``#login-form .box-inner .modal``.  That makes it untrusted input to an HTML
page.  Call :func:`core.brands.css.check.check_css` for the report, or
:func:`core.brands.css.check.validate_css` to raise
:class:`core.brands.css.report.CssRejected` on any error.

Modules
    The entry point and what it returns:

    ``check``      ``check_css`` / ``validate_css``: the passes in order, the size limit, the
                   re-check of the stored text.
    ``report``     ``CssFinding`` (level, line, column, rule, message), ``CssReport``,
                   ``CssRejected``; the findings collector.

    Safety, what refuses (errors):

    ``text``       the raw text: (line, column) of an index, CSS escapes, comments, squashing.
    ``raw``        the raw-text pass: ``<`` and HTML comment markers, control characters,
                   script words, and the scan for any text that names a host.
    ``parsing``    parse errors, unclosed blocks and comments, the nesting limit.
    ``tokens``     the token walk: every token wherever it sits; ``@import``,
                   ``@namespace``, ``@charset``.
    ``urls``       every URL and URL-taking function: only small inline raster images.
    ``rules``      the rule walk: unknown at-rules, ``behavior`` / ``-moz-binding``; hands
                   selectors and colours to the advice.
    ``fields``     attribute selectors that could read a form field.

    Advice, what warns (warnings):

    ``selectors``  the names the login page has (``LOGIN_PAGE_NAMES``), selectors that reach
                   nothing, the rules that style the pop-up's two parts.
    ``colour``     CSS colours as sRGB, the WCAG 2.x contrast ratio.
    ``contrast``   the pop-up's text and background colours, below-AA warnings.
    ``starter``    the starter template the Branding page offers.

Rules
    * Nothing may leave the style context (HTML §13.1.2.6: a ``<style>`` element is raw
      text and ends at the first ``</style``): every ``<`` is refused, literal or as a CSS
      escape, and ``<!--`` / ``-->``.
    * Nothing may run script: ``javascript:``/``vbscript:`` URLs, IE's ``expression()`` and
      ``behavior``, Firefox's ``-moz-binding``.
    * Nothing may load from outside the page, of any scheme, https included (PRODUCT.md,
      Trust: a request to an outside host tells it who opened the page).  The one URL
      allowed is an inline raster image: ``data:image/png``, ``image/jpeg``, ``image/gif``
      or ``image/webp`` of at most 32 KiB once decoded; never SVG, which can carry script
      and links.  This holds wherever a URL can sit: ``url(…)`` quoted or not and whatever
      its spelling (escapes such as ``u\\72l(``, case, whitespace), ``src()``, the bare
      strings of ``image()``, ``image-set()``, ``-webkit-image-set()`` and
      ``cross-fade()``, ``@font-face`` ``src``, inside ``@media``/``@supports``/... and
      nested rules.  ``@import`` and ``@namespace`` are refused outright.  Behind the token
      walk a raw-text scan refuses anything that names a host (``scheme://``, ``//host``)
      after escapes and comments are removed, so a spelling the tokenizer reads
      differently from some browser is caught too.
    * Nothing may read what a customer types: attribute selectors that name ``value``
      (the CSS "keylogger", ``input[value^=a] { background: url(…) }``), and any attribute
      selector in a selector that names ``input``, ``textarea``, ``select`` or ``option``.
    * What the parser cannot read unambiguously is refused: parse errors, unclosed
      blocks, control characters, over 64 KiB, nesting over 32 deep.
    * Each refusal is one finding: its ``line`` and ``column`` as data, and a message of
      one sentence saying what was found and why, without the place in it (for
      example "url(https://cdn.example.com/a.png) loads from another host; only data:
      images under 32 KiB are allowed.").  Whoever shows it names the line.
    * Advice never refuses: selectors that style nothing on the login page, and
      text/background pairs of the pop-up below WCAG 2.x AA contrast, are warnings.
    * What gets stored is ``CssReport.css``: the CSS re-serialized by tinycss2 from its
      parse tree with comments dropped, so the stored text is exactly what a browser
      would interpret and nothing can hide in comments; it passes the same check again
      unchanged.

This package never imports streamlit; the Branding page and the command line show
the findings.
"""
