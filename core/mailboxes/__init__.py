"""A customer's mailbox: its brand, its 2FA, its app passwords and how it signs in.

Modules
    ``effective_brand``        the mailbox's brand: SQL expression, joins and one-mailbox lookup.
    ``state``                  2FA on / off / dormant; app passwords active / suspended / revoked.
    ``users``                  mailboxes: create, import, look up; a user's whole picture.
    ``twofa``                  enrol, reset by support, turn off by the user.
    ``app_passwords``          at most ``MAX_PER_USER`` (four) a mailbox, shown once, revoked one at a time.
    ``mailbox_login``          the login check as the mail platform makes it.
    ``mail_auth``              a mail client's sign-in as a mail server asks it (``POST /api/mail-auth``).
    ``mailbox_authenticator``  the mailbox's TOTP authenticator: throttle, replay guard, last step stored.

Rules
    * A mailbox's effective brand is the first of its own, its domain's and its company's brand.
    * 2FA is on when enrolled and the effective brand allows it, dormant when enrolled and
      the brand does not, off when not enrolled.
    * A live app password is active when the effective brand allows app passwords, else
      suspended (kept, and woken when the switch comes back).
    * A mailbox has at most four live app passwords (``app_passwords.MAX_PER_USER``).
    * A mailbox's code is accepted once, by ``MailboxAuthenticator.verify``; 5 failed passwords,
      codes or app passwords within 15 minutes pause its sign-in.
    * A support reset names its reason: one of ``RESET_REASONS``; "other" only with its text,
      recorded as ``other: <text>`` (``twofa.clean_reason``).
    * A mail client signs in with a live app password of a brand that allows them, on a
      protocol the password allows; the mailbox password signs in mail clients only while
      the user's 2FA is not on. An app password is found by its keyed hash, one lookup.
    * A mail client's failure that could be a guess counts towards the mailbox's throttle
      and its address's (50 within 15 minutes), and is a ``mail_sign_in_failed`` security event.
"""
