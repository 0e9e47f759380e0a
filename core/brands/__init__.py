"""A brand: the article's three switches and the CSS of its webmail login page.

Modules
    ``switches``         the three switches, applied with one Update; optimistic versions.
    ``css``              the check a brand's login CSS passes before it is stored.
    ``login_page``       the stand-in login page with the 2FA pop-up, for the preview.
    ``preview_mailbox``  the sandbox's demo mailbox, so the preview touches no customer.
"""
