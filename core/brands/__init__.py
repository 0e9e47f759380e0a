"""A brand: the article's three switches and the CSS of its webmail login page.

Modules
    ``switches``         the three switches, applied with one Update; optimistic versions.
    ``css/``             the check a brand's login CSS passes before it is stored: safety
                         (``raw``, ``parsing``, ``tokens``, ``urls``, ``rules``, ``fields``),
                         advice (``selectors``, ``colour``, ``contrast``), the entry point
                         ``check`` and its ``report``; its ``__init__`` lists the rules.
    ``login_page``       the stand-in login page with the 2FA pop-up, for the preview.
    ``preview_mailbox``  the sandbox's demo mailbox, so the preview touches no customer.

Rules
    * A brand's login CSS is stored only as ``css.check.check_css`` re-serialized it, and
      only when it has no error: nothing in it may leave the ``<style>`` element, run
      script, load from outside the page or read what a customer types.
    * The preview page renders only CSS that passes the same check, under a CSP that
      allows no request to any host.
    * ``allow_user_disable_2fa`` is stored as set but means nothing while ``allow_2fa`` is
      off (``switches.inert_switches``): a form leaves it as it is, the impact counts it off.
    * Only the roles that may work on a brand's look drive its preview (``brand.preview``).
"""
