"""A customer's mailbox: its brand, its 2FA, its app passwords and how it signs in.

Modules
    ``users``          mailboxes: create, import, look up; the effective brand.
    ``twofa``          enrol, reset by support, turn off by the user.
    ``app_passwords``  at most four a mailbox, shown once, revoked one at a time.
    ``mailbox_login``  the login check as the mail platform makes it.
    ``mailbox_authenticator``  the mailbox's TOTP authenticator: throttle, replay guard, last step stored.

Rules
    * A mailbox's effective brand is the first of its own, its domain's and its company's brand.
    * A mailbox's code is accepted once, by ``MailboxAuthenticator.verify``; 5 failed passwords,
      codes or app passwords within 15 minutes pause its sign-in.
    * A support reset names its reason: one of ``RESET_REASONS``; "other" only with its text,
      recorded as ``other: <text>`` (``twofa.clean_reason``).
"""
